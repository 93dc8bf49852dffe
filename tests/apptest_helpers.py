"""Helpers for AppTest-based page tests: run the real app.py and reach a page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(page: str | None = None, timeout: float = 180) -> AppTest:
    """A fresh app session (as after a browser refresh) on `page` (e.g. "pages/compare.py")."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def show(at: AppTest, **opened: object) -> AppTest:
    """Open tabs and expanders that build their content only when open (Compare's `cmp_view="Table"`,
    `cmp_detail_view="Calibration"`, `cmp_gates_open=True`), as a click would, and run again."""
    for key, value in opened.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def restart_server() -> None:
    """What an app restart does to in-process state: every Streamlit cache is gone."""
    st.cache_resource.clear()
    st.cache_data.clear()


def shown(markdown: str) -> str:
    """What a person reads from a Markdown body the pages escaped (evalcore.core.safetext): `a\\.b` -> `a.b`."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown))


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]
