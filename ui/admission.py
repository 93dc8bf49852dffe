"""At most a few page runs at once per server, so a save never waits behind twenty of them.

Streamlit runs each browser session's script in its own thread of one Python process. Page runs are
CPU-bound Python, so twenty of them at once (a class saving at the same moment) share one interpreter lock:
each takes twenty times as long, and a save inside one of them, which holds the workspace's file lock
while it merges and writes, is slowed just as much while the others queue on that lock (issue 19: p95 save
3.6 s with 10 browsers). Letting only `slots()` page bodies run at a time costs nothing in throughput
(the lock serialises them anyway) and serves the queue in arrival order: the first clicks are confirmed
first instead of all at the end, and a save runs beside one or two page runs, not twenty.

A waiting run holds nothing: its browser shows Streamlit's running indicator until a slot frees. A run
waits at most `WAIT_SECONDS`, then goes ahead without a slot: a session scoring a model for minutes (its
page holds a slot all along) delays the others by that much, never blocks them. The watcher fragment
(`ui.workspace_view`) does not take a slot (an `os.stat`); the full rerun it starts does.
`$EVALCORE_PAGE_RUNS` sets the number of slots (default: the machine's cores, at least 2).

The interpreter's switch interval is also shortened (5 ms -> 1 ms, `SWITCH_SECONDS`): a save gives up the
interpreter lock at each file operation (flock, write, fsync, rename) and, with page runs busy beside it,
waits up to one interval to get it back each time; with the workspace's file lock held meanwhile.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

WAIT_SECONDS = 3.0
SWITCH_SECONDS = 0.001


def slots() -> int:
    """Page runs allowed at once: `$EVALCORE_PAGE_RUNS`, else the cores (at least 2)."""
    raw = os.environ.get("EVALCORE_PAGE_RUNS", "")
    try:
        return max(1, int(raw))
    except ValueError:
        return max(2, os.cpu_count() or 2)


@st.cache_resource(show_spinner=False)
def _gate(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)  # one per server process (cache_resource), not per session


@contextmanager
def page_slot() -> Iterator[None]:
    """Hold one of the server's page-run slots for the body of a run (released however the run ends:
    finished, interrupted by a newer click, or st.rerun / st.switch_page)."""
    if sys.getswitchinterval() > SWITCH_SECONDS:
        sys.setswitchinterval(SWITCH_SECONDS)
    gate = _gate(slots())
    held = gate.acquire(timeout=WAIT_SECONDS)
    try:
        yield
    finally:
        if held:
            gate.release()
