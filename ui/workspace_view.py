"""The sidebar's view of the shared workspace: its conflict list (restore or dismiss a value that lost),
and a watcher that reruns the page when another session saved, so new work shows without a reload.

Values in the conflict list were typed by any visitor of the workspace: they are shown as text
(`st.text`, `st.code`), never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from evalcore.serve.workspace import preview
from ui import state

WATCH_SHARED = 5.0  # how often an idle page looks at the workspace file's stamp (an os.stat) when others have it open
WATCH_ALONE = 30.0  # ... and when this session is alone on it (a change can still come from another server or the CLI)
SHOWN = 20  # the newest conflicts listed; the file keeps up to evalcore.serve.workspace.MAX_CONFLICTS


def _check(shared: bool) -> None:
    if state.changed_elsewhere():
        state.rerun_for_others()
    elif state.mark_present() != shared:  # someone joined or left: the next run picks the other pace
        st.rerun(scope="app")


@st.fragment(run_every=WATCH_SHARED)
def _watch_shared() -> None:
    _check(True)


@st.fragment(run_every=WATCH_ALONE)
def _watch_alone() -> None:
    _check(False)


def watch() -> None:
    """Rerun the whole page when another session saved this workspace (checked by the file's stamp): every
    5 s while another browser has the workspace open, every 30 s alone. A Streamlit fragment run costs about
    0.04-0.09 s of CPU here, so polling is kept for the workspaces several browsers share."""
    (_watch_shared if state.mark_present() else _watch_alone)()


def conflicts_panel() -> None:
    """Every conflict of the workspace, newest first: the place, when, the value kept and the value that
    lost, with Restore (put the losing value back) and Dismiss; the ones this session lost are marked."""
    items = state.conflicts()
    mine = state.lost()
    ids = {c.get("id") for c in items}
    yours = len(mine & ids)
    label = f"Conflicts ({len(items)})" + (f" · {'one is' if yours == 1 else f'{yours} are'} yours" if yours else "")
    with st.expander(label, expanded=bool(mine & ids), icon=":material/call_split:"):
        if not items:
            st.caption(
                "None. When two sessions change the same value at once, the later save is kept and the other "
                "value is listed here, with a button to put it back."
            )
            return
        st.caption(
            "The later save of a value is kept; the other value is kept here. Restore puts it back (for "
            "everyone); Dismiss drops it from the list."
        )
        for c in reversed(items[-SHOWN:]):
            cid = str(c.get("id", ""))
            with st.container(border=True):
                st.text(f"{c.get('field', '?')} · {c.get('at', '')}" + (" · yours" if cid in mine else ""))
                st.text(f"kept: {preview(c.get('kept', ''), 160)}")
                st.code(preview(c.get("theirs"), 600), language=None, wrap_lines=True)
                left, right = st.columns(2)
                left.button(
                    "Restore",
                    key=f"ec_conf_restore_{cid}",
                    on_click=state.restore_conflict,
                    args=(cid,),
                    disabled=not cid,
                    width="stretch",
                    help="Put this value back in place of the kept one",
                )
                right.button(
                    "Dismiss",
                    key=f"ec_conf_dismiss_{cid}",
                    on_click=state.dismiss_conflicts,
                    args=([cid],),
                    disabled=not cid,
                    width="stretch",
                )
        if len(items) > SHOWN:
            st.caption(f"{len(items) - SHOWN} older conflict(s) are not listed.")
        st.button("Clear the list for everyone", key="ec_conf_clear", on_click=state.dismiss_conflicts)
