"""Saved work survives restarts; a damaged file is moved aside with a message, never a crash."""
from __future__ import annotations

from pathlib import Path

from evalcore.workspace import Workspace, load_workspace, save_workspace, workspace_path


def test_round_trip_under_evalcore_home(evalcore_home: Path) -> None:
    ws = Workspace(baseline="vader", candidate="demo",
                   slices=[{"name": "neg", "rule": {"col": "has_negation", "op": "==", "value": True}, "note": "n"}])
    path = save_workspace(ws)
    assert path == workspace_path() and evalcore_home in path.parents
    loaded, warning = load_workspace()
    assert warning is None and loaded == ws


def test_fresh_workspace_when_nothing_saved() -> None:
    ws, warning = load_workspace()
    assert warning is None and ws.baseline == "roberta" and ws.slices is None


def test_unreadable_file_is_moved_aside(evalcore_home: Path) -> None:
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    ws, warning = load_workspace()
    assert ws == Workspace()
    assert "could not be read" in warning and "moved to" in warning
    assert not path.exists() and len(list(path.parent.glob("workspace.json.unreadable-*"))) == 1


def test_invalid_saved_slice_is_caught_on_load(evalcore_home: Path) -> None:
    path = workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"slices": [{"name": "bad", "rule": "bogus ==", "note": ""}]}')
    ws, warning = load_workspace()
    assert ws.slices is None
    assert "invalid slice or custom feature" in warning and "moved to" in warning


def test_concurrent_saves_from_threads_never_collide(evalcore_home: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: save_workspace(Workspace(baseline=f"m{i}")), range(64)))
    ws, warning = load_workspace()
    assert warning is None and ws.baseline.startswith("m")
    assert not list(workspace_path().parent.glob("*.tmp"))
