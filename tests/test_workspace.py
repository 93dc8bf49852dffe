"""Saved work: named workspaces, every field validated on load (a bad value falls back with a notice
every reader sees), and concurrent sessions merged field by field, never silently overwritten."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from evalcore import workspace as store
from evalcore.errors import ConfigError
from evalcore.workspace import Workspace, load_workspace, save_workspace, workspace_path

NEG = {"name": "neg", "rule": {"col": "has_negation", "op": "==", "value": True}, "note": "n"}
QUESTION = {"name": "q", "rule": {"col": "has_question", "op": "==", "value": True}, "note": ""}


def test_round_trip_under_evalcore_home(evalcore_home: Path) -> None:
    ws = Workspace(baseline="vader", candidate="demo", slices=[NEG], notes="checked by the TA",
                   slices_aside={"generation": [QUESTION]})
    path = save_workspace(ws)
    assert path == workspace_path() and evalcore_home in path.parents
    loaded, warning = load_workspace()
    assert warning is None and loaded == ws


def test_fresh_workspace_when_nothing_saved() -> None:
    ws, warning = load_workspace()
    assert warning is None and ws.baseline == "roberta" and ws.slices is None


def test_unreadable_file_is_moved_aside_and_every_reader_is_told(evalcore_home: Path) -> None:
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    first = store.load()
    assert first.workspace == Workspace() and "could not be read" in first.messages[0]
    assert len(list(path.parent.glob("workspace.json.unreadable-*"))) == 1
    second = store.load()  # a second session, later: the notice is in the file
    assert [n["text"] for n in second.notices] == [n["text"] for n in first.notices]
    assert "moved to workspace.json.unreadable-" in second.notices[0]["text"]
    store.dismiss(store.DEFAULT_NAME)
    assert store.load().notices == []


BAD_FIELDS = [
    ("conf_threshold", "high"), ("conf_threshold", 1.5), ("alpha", 0), ("alpha", "x"), ("min_n", "x"),
    ("min_n", 2.5), ("data", {"source": 5}), ("data", {"source": "lab", "n_rows": "abc"}), ("data", "lab"),
    ("baseline", 7), ("candidate", "hf:"), ("slices", [{"name": "bad", "rule": "bogus ==", "note": ""}]),
    ("slices", "all"), ("slices_aside", {"regression": None}), ("slices_aside", {"classification": "all"}),
    ("slices_aside", []), ("custom_features", {"x": 1}), ("stress", []),
    ("stress", {"cases": [{"text": ""}]}), ("gates", {"nope": 1}), ("gates", {"accuracy": "soon"}),
    ("wandb", {"project": 3}), ("llm", {"endpoint": ["x"]}), ("notes", 12), ("version", "two"),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS)
def test_every_field_with_a_wrong_value_falls_back_with_a_notice(field: str, value, evalcore_home: Path) -> None:
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({field: value, "baseline": "vader", "notes": "kept"} if field not in ("baseline", "notes")
                               else {field: value, "alpha": 0.1}))
    snap = store.load()
    assert getattr(snap.workspace, field) == getattr(Workspace(), field)
    assert any(f"{field}=" in n["text"] for n in snap.notices), snap.notices
    if field not in ("baseline", "notes"):
        assert snap.workspace.baseline == "vader" and snap.workspace.notes == "kept"  # the rest survives
    again = store.load()
    assert again.workspace == snap.workspace and again.notices == snap.notices


def test_bad_stress_settings_are_dropped_one_by_one_and_the_cases_survive(evalcore_home: Path) -> None:
    save = {"stress": {"cases": [{"text": "ok then", "label": None, "source": "typed"}], "conf_threshold": "high",
                       "llm_n": 0, "perturb": {"max_cases": "many", "source": "slice"}}}
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(save))
    ws = store.load().workspace
    assert ws.stress["cases"][0]["text"] == "ok then"
    assert "conf_threshold" not in ws.stress and "llm_n" not in ws.stress
    assert ws.stress["perturb"] == {"source": "slice"}


def test_strict_from_dict_names_the_field() -> None:
    with pytest.raises(ConfigError, match="alpha=0"):
        Workspace.from_dict({"alpha": 0})


def test_two_sessions_edit_different_things_and_nothing_is_lost(evalcore_home: Path) -> None:
    save_workspace(Workspace(slices=[NEG], stress={"cases": [{"text": "a", "label": None, "source": "typed"}]}))
    a, b = store.load(), store.load()  # two browser sessions read the same workspace
    ws_a, ws_b = a.workspace, b.workspace
    ws_a.slices = [NEG, QUESTION]  # A adds a slice
    ws_a.notes = "A's notes"
    ws_b.stress["cases"].append({"text": "b", "label": "negative", "source": "pasted"})  # B adds a case
    ws_b.gates = {"accuracy": 0.01}
    after_a = store.save("default", a.base, ws_a)
    after_b = store.save("default", b.base, ws_b)  # B's copy is stale: it never saw A's slice
    assert after_a.messages == [] and after_b.messages == []
    final = store.load().workspace
    assert [s["name"] for s in final.slices] == ["neg", "q"] and final.notes == "A's notes"
    assert [c["text"] for c in final.stress["cases"]] == ["a", "b"] and final.gates == {"accuracy": 0.01}
    # A deletes a slice B never touched: the deletion holds through B's next (stale) save
    ws_a = after_a.workspace
    ws_a.slices = [QUESTION]
    store.save("default", after_a.base, ws_a)
    ws_b = after_b.workspace
    ws_b.notes = "A's notes"  # unchanged from B's base
    ws_b.min_n = 50
    store.save("default", after_b.base, ws_b)
    final = store.load().workspace
    assert [s["name"] for s in final.slices] == ["q"] and final.min_n == 50


def test_a_conflict_keeps_both_and_is_reported(evalcore_home: Path) -> None:
    save_workspace(Workspace(notes="start", slices=[NEG]))
    a, b = store.load(), store.load()
    a.workspace.notes, b.workspace.notes = "A wrote this", "B wrote that"
    changed = dict(NEG, note="B's hypothesis")
    a.workspace.slices = [dict(NEG, note="A's hypothesis")]
    b.workspace.slices = [changed]
    store.save("default", a.base, a.workspace)
    result = store.save("default", b.base, b.workspace)
    assert len(result.messages) == 2 and all("another session changed" in m for m in result.messages)
    saved = store.load()
    assert saved.workspace.notes == "B wrote that" and saved.workspace.slices == [changed]
    kept = {c["field"]: c["theirs"] for c in saved.conflicts}
    assert kept["notes"] == "A wrote this" and kept["slices[neg].note"] == "A's hypothesis"


def test_concurrent_saves_from_threads_never_collide(evalcore_home: Path) -> None:
    def edit(i: int) -> None:
        snap = store.load()
        snap.workspace.custom_features = [*snap.workspace.custom_features,
                                          {"name": f"f{i}", "kind": "keywords", "pattern": f"w{i}"}]
        store.save("default", snap.base, snap.workspace)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(edit, range(32)))
    final = store.load()
    assert sorted(f["name"] for f in final.workspace.custom_features) == sorted(f"f{i}" for i in range(32))
    assert final.revision >= 32 and not list(workspace_path().parent.glob("*.tmp"))


def test_named_workspaces(evalcore_home: Path) -> None:
    assert store.list_workspaces() == ["default"]
    store.save_workspace(Workspace(baseline="vader"), workspace_path("alice"))
    store.save_workspace(Workspace(baseline="demo"), workspace_path("Bob-2"))
    assert store.list_workspaces() == ["default", "alice", "Bob-2"]
    assert store.load("alice").workspace.baseline == "vader" and store.load().workspace.baseline == "roberta"
    assert workspace_path("alice").parent == store.workspaces_dir()
    for bad in ("../etc", "a/b", "", "x" * 41, ".hidden", "con sole"):
        with pytest.raises(ConfigError, match="workspace name"):
            workspace_path(bad)
