"""Session state in one place: named keys, the session's workspace and its persistence.

Each browser session works in one named workspace (`?ws=<name>` in the URL; `default` without it),
keeps a base copy (what it last read or wrote) and saves every change through
`evalcore.workspace.save`, a three-way merge with whatever other sessions wrote meanwhile. On every
rerun the session picks up other sessions' changes of its workspace; the widgets that mirror a
changed field are reset so they show the new value (and so a stale widget can never write an old
value back). Notices (repairs of the saved file) and conflicts are shown to every session.

Widget-bound keys vanish when their widget is not on the page, so whatever must survive a page
switch is copied into the `Workspace` here.
"""
from __future__ import annotations

import streamlit as st

from evalcore import workspace as store
from evalcore.errors import EvalcoreError
from evalcore.workspace import Workspace

WORKSPACE = "ec_workspace"  # the session's Workspace (pages mutate it, then call save())
NAME = "ec_workspace_name"
BASE = "ec_workspace_base"  # dict: the copy the session last read or wrote
REVISION = "ec_workspace_revision"
MESSAGES = "ec_workspace_messages"  # for this session only, shown once
NOTICES = "ec_workspace_notices"  # the file's standing notices, as of the session's last read or write
APP_RAN = "ec_app_ran"
DEEP_LINK = "ec_deep_link"
QUERY_KEY = "ws"
# Results of the Stress tests page, kept for this browser session only (derived, never saved):
# {"result": StressResult | PerturbResult, "data_key": str, "models": ..., ...}
STRESS_RESULT = "ec_stress_result"
PERTURB_RESULT = "ec_perturb_result"
# Results of the analysis pages, kept for this browser session only (derived, never saved), each for the
# comparison (df_eval) it was computed on: {"result": ..., "comparison_key": str, ...}
DISCOVERY_RESULT = "ec_discovery_result"  # Slices page: {"result": Discovery, "comparison_key", "settings"}
EXPLAIN_RESULT = "ec_explain_result"  # Examples page: {"result": RegressionExplanations, "comparison_key"}
# The generation metric picked on Compare or Examples (a metric name of evalcore.comparisons), shared by both
# pages and kept across page switches for this browser session.
GEN_METRIC = "ec_gen_metric"
# Widgets that mirror a saved field: reset when another session changes that field.
MIRRORS: dict[str, tuple[str, ...]] = {
    "conf_threshold": ("cmp_threshold",), "min_n": ("cmp_min_n",), "alpha": ("cmp_alpha",),
    "gates": ("share_gate_", "cmp_require_gain"), "wandb": ("share_wb_",), "notes": ("share_notes",),
    "stress": ("stress_hypothesis", "stress_target", "stress_conf", "stress_pt_", "stress_model_", "stress_spec_",
               "stress_editor", "stress_llm_n", "stress_gen_"),
    "llm": ("stress_llm_",),
}


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

        init()  # the URL's ?ws= is read now: switch_page drops the query, init() puts it back
        st.session_state[DEEP_LINK] = f"pages/{Path(page_file).name}"
        st.switch_page("app.py")


def take_deep_link() -> str | None:
    return st.session_state.pop(DEEP_LINK, None)


def _requested_name() -> tuple[str, str | None]:
    """The workspace the URL asks for (`?ws=`), or the default; a bad name is refused with a message."""
    raw = st.query_params.get(QUERY_KEY)
    if not raw:
        return store.DEFAULT_NAME, None
    try:
        return store.check_name(raw), None
    except EvalcoreError as exc:
        return store.DEFAULT_NAME, f"{exc}; the default workspace is open instead"


def _assign(old, new):
    """Update containers in place, so references pages hold (a settings dict) stay live."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [k for k in old if k not in new]:
            del old[k]
        for k, v in new.items():
            if k in old and isinstance(old[k], (dict, list)) and type(old[k]) is type(v):
                old[k] = _assign(old[k], v)
            else:
                old[k] = v
        return old
    if isinstance(old, list) and isinstance(new, list):
        old[:] = new
        return old
    return new


def _adopt(snap: store.Snapshot, ws: Workspace | None = None) -> list[str]:
    """Make `snap` the session's state; returns the fields whose value changed in the session."""
    changed = []
    if ws is None or WORKSPACE not in st.session_state:
        st.session_state[WORKSPACE] = snap.workspace
        changed = list(store.FIELDS)
    else:
        current = st.session_state[WORKSPACE]
        new = snap.workspace
        for name in store.FIELDS:
            if getattr(current, name) != getattr(new, name):
                changed.append(name)
                setattr(current, name, _assign(getattr(current, name), getattr(new, name)))
    st.session_state[BASE] = snap.base
    st.session_state[REVISION] = snap.revision
    st.session_state[NOTICES] = list(snap.notices)
    standing = {n["text"] for n in snap.notices}  # shown by the notices panel, not twice
    st.session_state.setdefault(MESSAGES, []).extend(m for m in snap.messages if m not in standing)
    return changed


def _reset_mirrors(fields: list[str]) -> None:
    prefixes = tuple(p for f in fields for p in MIRRORS.get(f, ()))
    if prefixes:
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
            del st.session_state[key]


def init() -> None:
    """Open the session's workspace (once), then pick up other sessions' changes on every rerun.

    Page links drop the URL's query, so a session keeps its workspace when `?ws=` is missing and
    writes it back into the URL (a copied link still opens the same workspace)."""
    if QUERY_KEY not in st.query_params and st.session_state.get(NAME) not in (None, store.DEFAULT_NAME):
        st.query_params[QUERY_KEY] = st.session_state[NAME]
    name, problem = _requested_name()
    if problem:
        st.session_state.setdefault(MESSAGES, []).append(problem)
    if st.session_state.get(NAME) != name or WORKSPACE not in st.session_state:
        switching = NAME in st.session_state
        st.session_state[NAME] = name
        _adopt(store.load(name))
        if switching:
            _reset_mirrors(list(store.FIELDS))
        return
    ws = st.session_state[WORKSPACE]
    # Only a clean session adopts other sessions' changes here; one with an edit in flight (a callback
    # changed `ws` and is about to save) merges them in `save`, where a conflict is reported.
    if store.revision_of(name) != st.session_state.get(REVISION) and ws.to_dict() == st.session_state[BASE]:
        _reset_mirrors(_adopt(store.load(name), ws))


def workspace() -> Workspace:
    init()
    return st.session_state[WORKSPACE]


def name() -> str:
    init()
    return st.session_state[NAME]


def save() -> None:
    """Persist the workspace now (called after every user change): merged with other sessions' edits."""
    if WORKSPACE not in st.session_state:
        init()
    ws = st.session_state[WORKSPACE]
    snap = store.save(st.session_state[NAME], st.session_state.get(BASE), ws)
    _reset_mirrors(_adopt(snap, ws))


def take_messages() -> list[str]:
    """What this session must be told once (conflicts, repairs), then forgotten."""
    return st.session_state.pop(MESSAGES, [])


def notices() -> list[dict]:
    """The workspace file's standing notices (repairs), shown to every session until dismissed. Kept
    from the session's last read or write: `init` re-reads the file whenever its revision moves."""
    init()
    return st.session_state.get(NOTICES, [])


def dismiss_notices() -> None:
    store.dismiss(name(), notices=True)
    st.session_state[NOTICES] = []  # the next rerun sees the new revision and re-reads the rest


def switch(new_name: str, *, create: bool = False) -> None:
    """Open another workspace (creating it as a copy of this one when asked); the URL follows."""
    new_name = store.check_name(new_name)
    if create:
        if new_name in store.list_workspaces():
            raise store.ConfigError(f"a workspace named {new_name!r} exists already; open it or pick another name")
        store.save_workspace(Workspace(**{f: getattr(workspace(), f) for f in store.FIELDS}),
                             store.workspace_path(new_name))
    st.query_params[QUERY_KEY] = new_name
    init()


def session_result(key: str, data_key: str) -> dict | None:
    """This session's stress (`STRESS_RESULT`) or perturbation (`PERTURB_RESULT`) entry, when it was
    computed on the data now chosen; None otherwise."""
    entry = st.session_state.get(key)
    return entry if entry and entry.get("data_key") == data_key else None


def comparison_result(key: str, comparison_key: str) -> dict | None:
    """This session's discovery (`DISCOVERY_RESULT`) or aggregate explanation (`EXPLAIN_RESULT`) entry,
    when it was computed on the comparison now chosen (same data, models, features and threshold)."""
    entry = st.session_state.get(key)
    return entry if entry and entry.get("comparison_key") == comparison_key else None


def slices():
    """The user's slice set; until they change it, the task's default set for the current data
    (the lab's starter set on sentiment labels, a generic set otherwise; see `ui.engine`)."""
    from evalcore.slices import SliceSet, starter_slices

    ws = workspace()
    if ws.slices is not None:
        return SliceSet.from_json(ws.slices)
    from ui import engine

    try:
        return engine.default_slice_set(ws)[0]
    except EvalcoreError:  # the data does not load: the page shows why; the slices wait for it
        return starter_slices()


def use_data(settings: dict, old_task: str | None, new_task: str) -> str | None:
    """Point the workspace at new data (the caller saves). When the task kind changes (a classifier's
    tweets to SQuAD's questions), the user's slice set of the old kind is kept aside and the one of the
    new kind (or its defaults) comes back: no slice of one kind fits the other's table. Returns a line
    telling the user so, or None."""
    ws = workspace()
    ws.data = settings
    if old_task is None or old_task == new_task:
        return None
    aside = dict(ws.slices_aside)
    mine = ws.slices
    aside[old_task] = mine
    restored = aside.pop(new_task, None)
    ws.slices_aside, ws.slices = {k: v for k, v in aside.items() if v is not None}, restored
    if mine is None and restored is None:
        return None
    return (f"Your {old_task} slices are kept aside and come back when you load {old_task} data again; "
            + (f"your {new_task} slices are back." if restored is not None else f"the {new_task} defaults apply."))


def set_slices(slice_set) -> None:
    """Replace the slice set and save it."""
    workspace().slices = slice_set.to_json()
    save()
