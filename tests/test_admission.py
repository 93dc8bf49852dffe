"""A class saving at once (issue 19): page runs are admitted a few at a time, a run that waited too long
goes ahead anyway, and twenty sessions asking for the same missing engine result compute it once."""

from __future__ import annotations

import threading
import time

import pytest

from ui import admission
from ui.engine import _Memo


def _run_at_once(count: int, body) -> None:
    threads = [threading.Thread(target=body) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def test_at_most_the_slots_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALCORE_PAGE_RUNS", "2")
    monkeypatch.setattr(admission, "WAIT_SECONDS", 30.0)
    lock, running, most = threading.Lock(), [0], [0]

    def page() -> None:
        with admission.page_slot():
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    _run_at_once(10, page)
    assert most[0] == 2 and running[0] == 0


def test_a_run_that_waited_too_long_goes_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session scoring a model for minutes holds its slot: the others are delayed, never blocked."""
    monkeypatch.setenv("EVALCORE_PAGE_RUNS", "1")
    monkeypatch.setattr(admission, "WAIT_SECONDS", 0.2)
    release = threading.Event()

    def long_run() -> None:
        with admission.page_slot():
            release.wait(30)

    holder = threading.Thread(target=long_run)
    holder.start()
    time.sleep(0.1)
    start = time.perf_counter()
    with admission.page_slot():
        waited = time.perf_counter() - start
    release.set()
    holder.join(30)
    assert 0.1 < waited < 5
    with admission.page_slot():  # the slot the long run held is back, the one that went ahead never took one
        pass


def test_slots_default_to_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALCORE_PAGE_RUNS", raising=False)
    assert admission.slots() >= 2
    monkeypatch.setenv("EVALCORE_PAGE_RUNS", "junk")
    assert admission.slots() >= 2


def test_memo_computes_a_missing_key_once_for_everyone() -> None:
    memo, calls = _Memo(4), []

    def make() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "result"

    results: list[str] = []
    _run_at_once(8, lambda: results.append(memo.get("k", make)))
    assert results == ["result"] * 8 and len(calls) == 1


def test_memo_waiters_compute_when_the_first_fails() -> None:
    memo, calls = _Memo(4), []

    def make() -> str:
        calls.append(1)
        time.sleep(0.1)
        if len(calls) == 1:
            raise RuntimeError("interrupted")  # a run stopped by a newer click
        return "result"

    results: list[str] = []

    def ask() -> None:
        try:
            results.append(memo.get("k", make))
        except RuntimeError:
            results.append("failed")

    _run_at_once(4, ask)
    assert sorted(results) == ["failed"] + ["result"] * 3 and len(calls) == 2
