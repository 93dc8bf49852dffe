"""Session state in one place: named keys, the saved workspace and its persistence.

Widget-bound keys vanish when their widget is not on the page, so whatever must survive a page
switch is copied into the `Workspace` here, and every change is saved to disk at once: a refresh or
a restart of the app finds the user's work where they left it.
"""
from __future__ import annotations

import streamlit as st

from evalcore.workspace import Workspace, load_workspace, save_workspace

WORKSPACE = "ec_workspace"
WORKSPACE_WARNING = "ec_workspace_warning"
APP_RAN = "ec_app_ran"
DEEP_LINK = "ec_deep_link"
# Results of the Stress tests page, kept for this browser session only (derived, never saved):
# {"result": StressResult | PerturbResult, "data_key": str, "models": ..., ...}
STRESS_RESULT = "ec_stress_result"
PERTURB_RESULT = "ec_perturb_result"


def mark_app_ran() -> None:
    """Called by app.py on every run, before its navigation."""
    st.session_state[APP_RAN] = True


def require_app(page_file: str) -> None:
    """Route a page opened without app.py through it.

    On a fresh server whose first request is a deep link (`/slices`), Streamlit's legacy
    `pages/` discovery runs the page file alone: no navigation, no layout. The page then hands
    over to app.py, which opens the same page through `st.navigation`.
    """
    if not st.session_state.get(APP_RAN):
        from pathlib import Path

        st.session_state[DEEP_LINK] = f"pages/{Path(page_file).name}"
        st.switch_page("app.py")


def take_deep_link() -> str | None:
    return st.session_state.pop(DEEP_LINK, None)


def init() -> None:
    """Load the saved workspace once per browser session."""
    if WORKSPACE not in st.session_state:
        ws, warning = load_workspace()
        st.session_state[WORKSPACE] = ws
        st.session_state[WORKSPACE_WARNING] = warning


def workspace() -> Workspace:
    init()
    return st.session_state[WORKSPACE]


def save() -> None:
    """Persist the workspace now (called after every user change)."""
    save_workspace(workspace())


def take_warning() -> str | None:
    """The load warning, shown once."""
    return st.session_state.pop(WORKSPACE_WARNING, None)


def session_result(key: str, data_key: str) -> dict | None:
    """This session's stress (`STRESS_RESULT`) or perturbation (`PERTURB_RESULT`) entry, when it was
    computed on the data now chosen; None otherwise."""
    entry = st.session_state.get(key)
    return entry if entry and entry.get("data_key") == data_key else None


def slices():
    """The user's slice set; until they change it, the task's default set for the current data
    (the lab's starter set on sentiment labels, a generic set otherwise; see `ui.engine`)."""
    from evalcore.errors import EvalcoreError
    from evalcore.slices import SliceSet, starter_slices

    ws = workspace()
    if ws.slices is not None:
        return SliceSet.from_json(ws.slices)
    from ui import engine

    try:
        return engine.default_slice_set(ws)[0]
    except EvalcoreError:  # the data does not load: the page shows why; the slices wait for it
        return starter_slices()


def set_slices(slice_set) -> None:
    """Replace the slice set and save it."""
    workspace().slices = slice_set.to_json()
    save()
