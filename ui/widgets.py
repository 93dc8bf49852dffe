"""Small shared widgets: error display, progress bars, the session summary in the sidebar."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.safetext import code, lit, st_escape, to_streamlit

# Text a visitor or a data file wrote goes into Streamlit's Markdown (captions, labels, messages) only
# through these: `esc(text)` for a plain value, `md(markup)` for our markup with `lit(...)` / `code(...)`
# marking the untrusted parts (evalcore/safetext.py says why).
esc = st_escape
md = to_streamlit


def model_hover(spec: str, bold: bool = False) -> str:
    """A model's short name as inline HTML whose hover (title) is its full spec: the path, hub id, hash or
    revision stay one hover away instead of filling the line. Escaped; for `unsafe_allow_html=True`."""
    import html

    from evalcore.models import display_name

    name = html.escape(display_name(spec))
    shown = f"<b>{name}</b>" if bold else name
    if display_name(spec) == spec:
        return shown
    return (f'<span title="{html.escape(spec, quote=True)}" style="text-decoration:underline dotted;'
            f'cursor:help">{shown}</span>')


def error(message: object) -> None:
    """An error message, shown as text: messages quote user input (a rule, a cell, a file name)."""
    st.error(st_escape(str(message), breaks=True), icon="⚠️")


@contextmanager
def shown_errors(stop: bool = True) -> Iterator[None]:
    """Show any `EvalcoreError` raised inside as a readable message (never a traceback).

    With `stop`, the rest of the page is skipped; the user's saved work is untouched either way.
    """
    try:
        yield
    except EvalcoreError as exc:
        error(exc)
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




def one_page(rows, key: str, size: int):
    """The rows of the page the user picked (a number input keyed `key`), with a caption counting them:
    one page of a selection goes to the browser, never all of it (a million rows would be hundreds of MB)."""
    total = len(rows)
    pages = max(1, -(-total // size))
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = pages
    page_no = st.number_input(f"Page (of {pages:,}; {size} rows each)", 1, pages, key=key)
    first = (int(page_no) - 1) * size
    rows = rows.iloc[first:first + size]
    st.caption(f"Showing rows {first + 1:,}–{first + len(rows):,} of {total:,}" if total else "No row matches.")
    return rows


def workspace_switcher() -> None:
    """Sidebar: which workspace this browser works in (the URL's `?ws=`), switch or create one."""
    from evalcore import workspace as store
    from ui import state

    current = state.name()
    names = store.list_workspaces()
    if current not in names:  # opened by URL, not saved yet: it exists from its first change
        names.append(current)
    if st.session_state.get("ec_ws_pick") != current:
        st.session_state["ec_ws_pick"] = current  # before the widget is drawn: it follows the session

    def pick() -> None:
        state.switch(st.session_state["ec_ws_pick"])

    def create() -> None:
        try:
            state.switch(st.session_state.get("ec_ws_new", "").strip(), create=True)
        except EvalcoreError as exc:
            st.session_state["ec_ws_error"] = str(exc)
        else:
            st.session_state["ec_ws_new"] = ""

    st.selectbox("Workspace", names, key="ec_ws_pick", on_change=pick,
                 help="Each workspace keeps its own data choice, models, slices, stress cases, gates and notes. "
                      "The URL names it (?ws=…), so a link opens it.")
    with st.expander("New workspace", icon=":material/add:"):
        st.text_input("Name", key="ec_ws_new", placeholder="e.g. alice or review-3",
                      help="1-40 letters, digits, '-' or '_'")
        st.button("Create (a copy of this one)", key="ec_ws_create", on_click=create)
        problem = st.session_state.pop("ec_ws_error", None)
        if problem:
            error(problem)


def workspace_messages() -> None:
    """What other sessions' edits and repairs of the saved file mean for this user."""
    from ui import state

    for text in state.take_messages():
        st.warning(st_escape(text, breaks=True), icon="⚠️")  # may quote another session's value
    notices = state.notices()
    if notices:
        with st.expander(f"Notices about this workspace ({len(notices)})", expanded=True, icon="⚠️"):
            for n in notices:
                st.caption(st_escape(n["text"]))
            st.button("Dismiss for everyone", key="ec_ws_dismiss", on_click=state.dismiss_notices)
