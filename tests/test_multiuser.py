"""Several sessions on one server: two AppTest sessions editing the same workspace at once lose nothing
and are told about a conflict; separate workspaces stay separate; the URL names the workspace."""
from __future__ import annotations

import json

from apptest_helpers import errors, open_page
from evalcore import workspace as store
from evalcore.workspace import workspace_path

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
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP

    at = AppTest.from_file(APP, default_timeout=120)
    if ws_name:
        at.query_params["ws"] = ws_name
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_separate_workspaces_stay_separate_and_the_url_names_them() -> None:
    from evalcore.workspace import Workspace, save_workspace

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
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP

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
        shown = " ".join(c.value for c in at.caption)
        assert "conf_threshold='high'" in shown and "alpha=0" in shown and "min_n='x'" in shown
    at.button(key="ec_ws_dismiss").click().run()
    assert store.load().notices == []
