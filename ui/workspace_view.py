"""The sidebar's view of the shared workspace: its conflict list (restore or dismiss a value that lost),
and a watcher that reruns the page when another session saved, so new work shows without a reload.

Values in the conflict list were typed by any visitor of the workspace: they are shown as text
(`st.text`, `st.code`), never as Markdown.
"""
from __future__ import annotations

import streamlit as st

from evalcore.workspace import preview
from ui import state

WATCH_SECONDS = 3.0  # how often an idle page looks at the workspace file's stamp (an os.stat)
SHOWN = 20  # the newest conflicts listed; the file keeps up to evalcore.workspace.MAX_CONFLICTS


@st.fragment(run_every=WATCH_SECONDS)
def watch() -> None:
    """Rerun the whole page when another session saved this workspace (checked by the file's stamp)."""
    if state.changed_elsewhere():
        state.rerun_for_others()


def conflicts_panel() -> None:
    """Every conflict of the workspace, newest first: the place, when, the value kept and the value that
    lost, with Restore (put the losing value back) and Dismiss; the ones this session lost are marked."""
    items = state.conflicts()
    mine = state.lost()
    ids = {c.get("id") for c in items}
    label = f"Conflicts ({len(items)})" + (" · one is yours" if mine & ids else "")
    with st.expander(label, expanded=bool(mine & ids), icon=":material/call_split:"):
        if not items:
            st.caption("None. When two sessions change the same value at once, the later save is kept and the other "
                       "value is listed here, with a button to put it back.")
            return
        st.caption("The later save of a value is kept; the other value is kept here. Restore puts it back (for "
                   "everyone); Dismiss drops it from the list.")
        for c in reversed(items[-SHOWN:]):
            cid = str(c.get("id", ""))
            with st.container(border=True):
                st.text(f"{c.get('field', '?')} · {c.get('at', '')}" + (" · yours" if cid in mine else ""))
                st.text(f"kept: {preview(c.get('kept', ''), 160)}")
                st.code(preview(c.get("theirs"), 600), language=None, wrap_lines=True)
                left, right = st.columns(2)
                left.button("Restore", key=f"ec_conf_restore_{cid}", on_click=state.restore_conflict, args=(cid,),
                            disabled=not cid, width="stretch", help="Put this value back in place of the kept one")
                right.button("Dismiss", key=f"ec_conf_dismiss_{cid}", on_click=state.dismiss_conflicts, args=([cid],),
                             disabled=not cid, width="stretch")
        if len(items) > SHOWN:
            st.caption(f"{len(items) - SHOWN} older conflict(s) are not listed.")
        st.button("Clear the list for everyone", key="ec_conf_clear", on_click=state.dismiss_conflicts)

