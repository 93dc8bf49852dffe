"""Small shared widgets: error display, progress bars, the session summary in the sidebar."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st

from evalcore.errors import EvalcoreError


@contextmanager
def shown_errors(stop: bool = True) -> Iterator[None]:
    """Show any `EvalcoreError` raised inside as a readable message (never a traceback).

    With `stop`, the rest of the page is skipped; the user's saved work is untouched either way.
    """
    try:
        yield
    except EvalcoreError as exc:
        st.error(str(exc), icon="⚠️")
        if stop:
            st.stop()


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback drawing a Streamlit progress bar."""
    bar = st.progress(0.0, text=label)

    def update(done: int, total: int) -> None:
        frac = 1.0 if total <= 0 else min(1.0, done / total)
        bar.progress(frac, text=f"{label}: {done:,}/{total:,}")
        if done >= total:
            bar.empty()

    return update


def step_bar(label: str) -> Callable[[int, int, str], None]:
    """A `progress(done, total, message)` callback (the demo build): the share done and the
    builder's message, which names the phase and the time left. The bar disappears at the end."""
    bar = st.progress(0.0, text=f"{label}: starting…")

    def update(done: int, total: int, message: str) -> None:
        if done >= total:
            bar.empty()
            return
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done / max(total, 1):.0%} · {message}")

    return update


def scoring_progress(spec: str) -> Callable[[int, int], None]:
    return progress_bar(f"Scoring with {spec}")


def fmt_pct(value: float, signed: bool = False) -> str:
    if value != value:  # NaN
        return "–"
    return f"{value * 100:+.1f} pts" if signed else f"{value:.1%}"
