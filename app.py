"""evalcore dashboard: the Streamlit entry point.

Run with `streamlit run app.py`. It routes to one file per page in `pages/` (listed explicitly:
with `st.navigation` the folder is not auto-discovered) and draws the shared sidebar summary.
"""
from __future__ import annotations

import streamlit as st

from ui import state, workspace_view
from ui.widgets import workspace_messages, workspace_switcher

st.set_page_config(page_title="evalcore · baseline vs candidate", page_icon="⚖️", layout="wide")
state.refresh(from_app=True)  # other sessions' changes of the workspace are adopted here, once per run
state.mark_app_ran()

PAGES = [
    st.Page("pages/data_models.py", title="Data & models", icon="🗂️", default=True),
    st.Page("pages/slices.py", title="Slices", icon="🧩"),
    st.Page("pages/compare.py", title="Compare", icon="📊"),
    st.Page("pages/examples.py", title="Examples", icon="🔎"),
    st.Page("pages/stress.py", title="Stress tests", icon="🧪"),
    st.Page("pages/share.py", title="Report & W&B", icon="📤"),
]

nav = st.navigation(PAGES)
deep_link = state.take_deep_link()
if deep_link:
    st.switch_page(deep_link)
ws = state.workspace()
with st.sidebar:
    workspace_switcher()
    st.caption("Session")
    st.markdown(f"**Data** `{ws.data.get('source', '?')}`  \n**Baseline** `{ws.baseline or '(none)'}`  \n"
                f"**Candidate** `{ws.candidate or '(none)'}`  \n**Slices** {len(state.slices())}")
    st.caption("Your work is saved on every change, merged with other sessions' changes of this workspace.")
    workspace_view.conflicts_panel()
    workspace_view.watch()
workspace_messages()
nav.run()
