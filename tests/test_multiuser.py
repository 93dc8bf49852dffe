"""Several sessions on one server: two AppTest sessions editing the same workspace at once lose nothing
and are told about a conflict; separate workspaces stay separate; the URL names the workspace."""

from __future__ import annotations

import json
import re

from apptest_helpers import errors, open_page

from evalcore.serve import workspace as store
from evalcore.serve.workspace import workspace_path

CASES = "what a lovely day\tpositive\nugh, mondays\tnegative"


def _add_slice(at, name: str, text: str, note: str) -> None:
    at.text_area(key="sl_text_w").set_value(text).run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value(name).run()
    at.text_area(key="sl_note_w").set_value(note).run()
    at.button(key="sl_save").click().run()
    assert not errors(at), errors(at)


def test_two_sessions_edit_slices_cases_and_notes_at_once() -> None:
    a = open_page("pages/slices.py")
    b = open_page("pages/stress.py")  # both sessions have read the workspace before either edits

    _add_slice(a, "questions_a", "has_question == true", "A's hypothesis")
    b.text_area(key="stress_paste").set_value(CASES).run()
    b.button(key="stress_add_pasted").click().run()  # B's copy never saw A's slice
    assert not errors(b), errors(b)

    saved = json.loads(workspace_path().read_text())
    assert "questions_a" in [s["name"] for s in saved["slices"]]  # A's slice survived B's save
    assert [c["text"] for c in saved["stress"]["cases"]] == ["what a lovely day", "ugh, mondays"]

    # both write the report notes: B's stale copy conflicts with A's change
    a.switch_page("pages/share.py").run()
    b.switch_page("pages/share.py").run()
    a.text_area(key="share_notes").set_value("A: ship after the slice fix").run()
    b.text_area(key="share_notes").set_value("B: wait for more data").run()
    b.switch_page("app.py").run()  # app.py draws the session's messages above every page
    warnings = [w.value for w in b.warning]
    assert any("another session changed notes at the same time" in w for w in warnings), warnings
    snap = store.load()
    assert snap.workspace.notes == "B: wait for more data"
    assert {"field": "notes", "theirs": "A: ship after the slice fix"}.items() <= snap.conflicts[-1].items()

    # A's next rerun picks up B's notes and cases: its widgets show the merged state
    a.run()
    assert a.text_area(key="share_notes").value == "B: wait for more data"
    a.switch_page("pages/stress.py").run()
    assert "ugh, mondays" in a.session_state["ec_workspace"].stress["cases"][1]["text"]


def _open(ws_name: str | None = None, page: str | None = None):
    """A fresh browser session, with `?ws=<name>` in its URL when given."""
    from apptest_helpers import APP
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    if ws_name:
        at.query_params["ws"] = ws_name
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_separate_workspaces_stay_separate_and_the_url_names_them() -> None:
    from evalcore.serve.workspace import Workspace, save_workspace

    save_workspace(Workspace(notes="alice's notes", baseline="gpt2", candidate="roberta"), workspace_path("alice"))
    # (creating one from the sidebar is covered by the browser test: AppTest reruns a page without app.py)
    start = _open("alice")
    assert start.session_state["ec_workspace_name"] == "alice"
    assert start.selectbox(key="ec_ws_pick").value == "alice"
    assert start.selectbox(key="ec_ws_pick").options == ["default", "alice"]
    a = _open("alice", "pages/share.py")
    assert a.text_area(key="share_notes").value == "alice's notes"
    a.text_area(key="share_notes").set_value("alice, later").run()
    b = _open(None, "pages/share.py")  # another browser without ?ws=: the default workspace
    assert b.session_state["ec_workspace_name"] == "default" and b.text_area(key="share_notes").value == ""
    b.text_area(key="share_notes").set_value("the default's notes").run()
    assert store.load("alice").workspace.notes == "alice, later"
    assert store.load().workspace.notes == "the default's notes"
    assert store.load("alice").workspace.candidate == "roberta" and store.load().workspace.candidate == "gpt2"


def test_a_bad_name_in_the_url_opens_the_default_with_a_message() -> None:
    from apptest_helpers import APP
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "../../etc/passwd"
    at.run()
    assert not at.exception
    assert at.session_state["ec_workspace_name"] == "default"
    assert any("workspace name" in w.value for w in at.warning)


def test_a_repaired_file_is_announced_to_every_session(evalcore_home) -> None:
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"conf_threshold": "high", "alpha": 0, "min_n": "x", "data": {"source": 5}}))
    for _ in range(2):  # the first session repairs the file; the second is told as well
        at = open_page()
        assert not at.exception
        shown = re.sub(r"\\(.)", r"\1", " ".join(c.value for c in at.caption))  # messages are escaped Markdown
        assert "conf_threshold='high'" in shown and "alpha=0" in shown and "min_n='x'" in shown
    at.button(key="ec_ws_dismiss").click().run()
    assert store.load().notices == []


# --- issue 19: a save merges against what the session last read -----------------------------------------


def _form(at, name: str, text: str, note: str) -> None:
    at.text_area(key="sl_text_w").set_value(text).run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value(name).run()
    at.text_area(key="sl_note_w").set_value(note).run()


def test_two_session_slice_race_keeps_both_slices(monkeypatch) -> None:
    """The reported race: B builds a slice; A saves another one while B's save is under way (after B's page
    read the workspace, before B's slice list is written). Saving used to re-read the workspace just then,
    so A's slice counted as deleted by B. Both are kept, with no conflict and no message."""
    from evalcore.analyze.slices import SliceSet

    a = open_page("pages/slices.py")
    b = open_page("pages/slices.py")
    _form(b, "questions_b", "has_question == true", "B's hypothesis")
    _add_slice(a, "links_a", "has_url == true", "A's hypothesis")  # lands before B's click: B adopts it
    original = SliceSet.add
    raced = []

    def add_while_a_saves(self, item):  # runs inside B's save, after B's page read the slice set
        if not raced:
            raced.append(item.name)
            snap = store.load()
            snap.workspace.slices = [
                *snap.workspace.slices,
                {"name": "emoji_a", "note": "A again", "rule": {"col": "emoji_count", "op": ">=", "value": 1}},
            ]
            store.save(store.DEFAULT_NAME, snap.base, snap.workspace)
        return original(self, item)

    monkeypatch.setattr(SliceSet, "add", add_while_a_saves)
    b.button(key="sl_save").click().run()
    assert raced == ["questions_b"] and not errors(b), errors(b)
    names = [s["name"] for s in json.loads(workspace_path().read_text())["slices"]]
    assert {"links_a", "emoji_a", "questions_b"} <= set(names), names
    assert not store.load().conflicts
    monkeypatch.setattr(SliceSet, "add", original)
    a.run()  # A sees B's slice on its next rerun
    assert "questions_b" in a.selectbox(key="sl_pick").options


def test_two_edits_in_one_rerun_after_another_session_saved_both_fields() -> None:
    """With 20 sessions, Report & W&B raised KeyError 'share_gate_on_accuracy' / 'share_notes' and lost the gate
    edit: the first callback's save adopted another session's change and deleted the other widget's key."""
    a = open_page("pages/share.py")
    b = open_page("pages/share.py")
    a.text_area(key="share_notes").set_value("A's notes").run()
    a.toggle(key="share_gate_on_class_recall").set_value(True).run()
    b.text_area(key="share_notes").set_value("B's notes")  # two widgets changed, one rerun: two callbacks
    b.toggle(key="share_gate_on_confident_regression_rate").set_value(True)
    b.run()
    assert not b.exception, [e.value for e in b.exception]
    saved = store.load().workspace
    assert saved.notes == "B's notes"
    assert saved.gates.get("class_recall") is not None and saved.gates.get("confident_regression_rate") is not None
    assert b.text_area(key="share_notes").value == "B's notes"


def test_the_losing_session_is_told_with_its_value_and_restores_it_from_the_conflicts_view() -> None:
    a = open_page("pages/share.py")
    b = open_page("pages/share.py")  # read before A's edit: B's copy is stale
    mine = "A: ship it ![pic](http://example.invalid/p.png)"  # typed by a visitor: shown as text, never fetched
    a.text_area(key="share_notes").set_value(mine).run()
    b.text_area(key="share_notes").set_value("B: wait").run()  # the later save wins; A's value is kept aside
    a.switch_page("app.py").run()  # A's next rerun (the sidebar watcher triggers one in a browser)
    told = " ".join(w.value for w in a.warning)
    assert "Another session saved a different value of notes" in told
    assert "Your value was: A: ship it !\\[pic\\](http://example.invalid/p.png)" in told  # escaped: no image
    assert any("Conflicts (1) · one is yours" in e.label for e in a.expander)
    conflict = store.load().conflicts[-1]
    a.button(key=f"ec_conf_restore_{conflict['id']}").click().run()
    snap = store.load()
    assert snap.workspace.notes == mine and snap.conflicts == []
    b.run()  # and B sees the restored value
    assert b.text_area(key="share_notes").value == mine


def test_a_box_sending_its_superseded_value_again_does_not_replace_the_newer_one() -> None:
    """A focused box keeps the text its session saved; when another session has saved since, sending it again
    is not a new edit (20 browsers: one session's old notes were saved 16 times over the others')."""
    a = open_page("pages/share.py")
    b = open_page("pages/share.py")
    a.text_area(key="share_notes").set_value("A's notes").run()
    b.switch_page("app.py").run()  # B adopts A's notes, then writes its own
    b.switch_page("pages/share.py").run()
    b.text_area(key="share_notes").set_value("B's notes").run()
    revision = store.load().revision
    a.run()  # A's page adopts B's notes (in a browser, a focused box would still show A's text)
    assert a.text_area(key="share_notes").value == "B's notes"
    a.text_area(key="share_notes").set_value("A's notes").run()  # A's box sends its old text again
    snap = store.load()
    assert snap.workspace.notes == "B's notes" and snap.revision == revision  # not replaced, not rewritten
    assert a.text_area(key="share_notes").value == "B's notes"
    a.switch_page("app.py").run()  # the app's run shows the session's messages
    assert "Not saved again: your earlier value of notes (A's notes)" in " ".join(w.value for w in a.warning)


def test_a_save_that_changes_nothing_leaves_the_file_alone() -> None:
    """No rewrite, so the other pages' watchers see no change and do not rerun."""
    snap = store.save("default", None, store.Workspace(notes="n"))
    again = store.save("default", snap.base, snap.workspace)
    assert again.revision == snap.revision and again.stamp == store.stamp("default")


BAD_WORKSPACES = {
    "data entry with an unknown key": (
        json.dumps({"data": {"source": "lab", "colour": "blue"}}),
        "unknown option(s) 'colour'",
    ),
    "nested 100,000 deep": ('{"notes": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    "not a workspace": (json.dumps({"predictions": ["positive", "negative"]}), "is not a workspace"),
}
PAGES = [
    "pages/data_models.py",
    "pages/slices.py",
    "pages/compare.py",
    "pages/examples.py",
    "pages/stress.py",
    "pages/share.py",
]


def test_bad_workspace_files_give_a_notice_on_every_page() -> None:
    from apptest_helpers import APP
    from streamlit.testing.v1 import AppTest

    for what, (content, says) in BAD_WORKSPACES.items():
        for page in PAGES:
            path = workspace_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            at = AppTest.from_file(APP, default_timeout=180)
            at.run()
            shown = re.sub(r"\\(.)", r"\1", " ".join(c.value for c in at.caption))
            assert says in shown, (what, shown[:500])
            at.switch_page(page).run()
            assert not at.exception, (what, page, [e.value for e in at.exception])


def test_report_refuses_a_json_file_that_is_not_a_workspace(evalcore_home, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cases = {
        "slices.json": (json.dumps({"version": 1, "slices": []}), "not an evalcore workspace"),
        "list.json": ("[1, 2]", "not an evalcore workspace"),
        "deep.json": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    }
    for name, (content, says) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        proc = subprocess.run(
            [sys.executable, "-m", "evalcore", "report", "--workspace", str(path)],
            cwd=root,
            env={**os.environ, "EVALCORE_HOME": str(evalcore_home)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-800:]
