"""evalcore dashboard: the Streamlit entry point.

Run with `streamlit run app.py`. It routes to one file per page in `pages/` and draws the shared
sidebar; the pages are thin layers over the `evalcore` engine.
"""
from __future__ import annotations

import streamlit as st

from ui import state

st.set_page_config(page_title="evalcore: baseline vs candidate", page_icon="⚖️", layout="wide")
state.init()

PAGES = [
    st.Page("pages/data_models.py", title="Data & models", icon="🗂️", default=True),
]

nav = st.navigation(PAGES)
warning = state.take_warning()
if warning:
    st.warning(warning)
nav.run()
