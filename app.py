"""evalcore dashboard: the Streamlit entry point.

Run with `streamlit run app.py`. It routes to one file per page in `pages/` (listed explicitly:
with `st.navigation` the folder is not auto-discovered) and draws the shared sidebar summary.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from evalcore.core import memory
from ui import admission, auth, state, workspace_view
from ui.widgets import (
    guided_path_banner,
    guided_path_home,
    hover,
    model_hover,
    short_source,
    workspace_messages,
    workspace_switcher,
)

memory.use_system_allocator()  # before the first large read (evalcore.core.memory says why)
st.set_page_config(page_title="evalcore · baseline vs candidate", page_icon="⚖️", layout="wide")

PAGES = [
    st.Page("pages/data_models.py", title="Data & models", icon="🗂️", default=True),
    st.Page("pages/slices.py", title="Slices", icon="🧩"),
    st.Page("pages/compare.py", title="Compare", icon="📊"),
    st.Page("pages/examples.py", title="Examples", icon="🔎"),
    st.Page("pages/stress.py", title="Stress tests", icon="🧪"),
    st.Page("pages/share.py", title="Report & W&B", icon="📤"),
    st.Page("pages/history.py", title="History", icon="🕘"),
]


def _page() -> str | None:
    """The run: adopt other sessions' changes, the sidebar, then the page. Returns the page's name."""
    state.refresh(from_app=True)  # other sessions' changes of the workspace are adopted here, once per run
    state.mark_app_ran()
    nav = st.navigation(PAGES)
    deep_link = state.take_deep_link()
    if deep_link:
        st.switch_page(deep_link)
    ws = state.workspace()
    with st.sidebar:
        auth.sidebar(auth.user())  # sign-in on: who is signed in, and Sign out
        workspace_switcher()
        st.caption("Session")
        source = str(ws.data.get("source", "?"))
        st.markdown(
            f"**Data** {hover(short_source(source), source)}  \n"
            f"**Baseline** {model_hover(ws.baseline) if ws.baseline else '(none)'}  \n"
            f"**Candidate** {model_hover(ws.candidate) if ws.candidate else '(none)'}  \n"
            f"**Slices** {len(state.slices())}",
            unsafe_allow_html=True,
        )
        st.caption("Your work is saved on every change, merged with other sessions' changes of this workspace.")
        workspace_view.conflicts_panel()
        workspace_view.watch()
    workspace_messages()
    try:
        current = nav.url_path  # "" on the home page, else the page file's name ("compare")
    except AttributeError:  # run bare (no Streamlit server, e.g. re-imported by a spawned process): no page shown
        current = None
    if current == "":  # the home page: a short guided path for a first visit
        guided_path_home(first_visit=ws.slices is None and not ws.notes)
    if current is not None:
        guided_path_banner(f"pages/{current}.py" if current else "pages/data_models.py")
    nav.run()
    return current


def _log_run(arrived: float, started: float, page: str | None) -> None:
    """`$EVALCORE_RUN_TIMINGS`: one line per run (time, page, wait for a slot, run), what
    bench/bench_multiuser.py reports to show where reruns queue."""
    target = os.environ.get("EVALCORE_RUN_TIMINGS")
    if target:
        with open(target, "a", encoding="utf-8") as log:
            log.write(f"{time.time():.3f} {page} {started - arrived:.4f} {time.perf_counter() - started:.4f}\n")


_arrived = time.perf_counter()
with admission.page_slot():  # at most a few page runs at once per server (ui/admission.py says why)
    _started, _shown = time.perf_counter(), None
    try:
        _shown = _page()
    finally:
        _log_run(_arrived, _started, _shown)
