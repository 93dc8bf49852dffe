"""The decision history on the dashboard: Compare records the verdict it shows (once per decision per
session; the store keeps one row per decision key across sessions), and the History page reads the store.

Who decided: the signed-in user when the operator turned sign-in on (`st.user`), else `local`; the
workspace name is recorded beside it. The store is `evalcore.serve.history`.
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from evalcore.serve.history import HistoryStore, Recorded, data_fingerprint, decision_record

RECORDED = "ec_history_recorded"  # session state: {decision key: Recorded} this session wrote or saw
_FINGERPRINTS: dict[str, tuple[int, str]] = {}  # data key -> (id of the EvalData object, its fingerprint)
_LOCK = threading.Lock()


def current_user() -> str:
    """Who decides on this dashboard: the signed-in user (email, else the provider's subject) when the operator
    turned sign-in on (`ui.auth`), else `local`."""
    from ui import auth

    who = auth.user()
    return (who.email or who.subject) if who is not None else "local"


def visible(rows):
    """The decisions this visitor may see: all without sign-in; with it, only those made in workspaces the
    signed-in user may open (their own and those shared with them; CLI decisions stay the operator's)."""
    from evalcore.serve.access import visible as visible_workspaces
    from ui import auth

    who = auth.user()
    if who is None or rows.empty:
        return rows
    names = sorted({w for w in rows["workspace"].dropna()})
    allowed = {name for name, _ in visible_workspaces(names, who)}
    return rows[rows["workspace"].isin(allowed)]


def fingerprint_of(data: Any, data_key: str) -> str:
    """The data's content fingerprint, computed once per loaded dataset (a million rows take about a second)."""
    with _LOCK:
        known = _FINGERPRINTS.get(data_key)
    if known and known[0] == id(data):
        return known[1]
    fp = data_fingerprint(data)
    with _LOCK:
        _FINGERPRINTS[data_key] = (id(data), fp)
    return fp


def record(
    analysis: Any, verdict: Any, gate_config: Any, *, workspace: str, data_key: str, user: str | None = None
) -> Recorded | None:
    """Record the verdict Compare shows, unless this session recorded the same decision already (a rerun).
    Never raises: a history problem is a warning beside the verdict, the page goes on."""
    try:
        rec = decision_record(
            analysis,
            verdict,
            gate_config,
            user=user or current_user(),
            origin="dashboard",
            workspace=workspace,
            data_fp=fingerprint_of(analysis.data, data_key),
        )
    except Exception as exc:  # the verdict on screen matters more than its record
        return Recorded(None, warning=f"{type(exc).__name__}: {exc}")
    seen = st.session_state.setdefault(RECORDED, {})
    if rec["key"] in seen:
        return seen[rec["key"]]
    done = HistoryStore().record(rec)
    if done.id is not None:
        seen[rec["key"]] = done
    return done


def caption(done: Recorded | None) -> None:
    """One line under the verdict: its decision number, or why it was not recorded."""
    if done is None:
        return
    if done.id is None or done.warning:
        st.warning(f"History: {done.message()}", icon="🕘")
    else:
        st.caption(
            f"🕘 {'Recorded in' if done.new else 'In'} the history as decision #{done.id} (see the History page)."
        )
