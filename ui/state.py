"""Session state in one place: named keys, the session's workspace and its persistence.

Each browser session works in one named workspace (`?ws=<name>` in the URL; `default` without it),
keeps a base copy (what it last read or wrote) and saves every change through
`evalcore.serve.workspace.save`, a three-way merge against that base: never against a copy read at save
time, so another session's new slice is theirs, not a deletion of ours. Other sessions' changes are
adopted in one place only, `refresh()` at the top of every run (app.py), never in the middle of a
callback or a save; a sidebar fragment polls the file's stamp (`ui.workspace_view`) and reruns the
page when another session saved, so new work shows without a reload. The widgets that mirror a
changed field are reset at the next `refresh()` (never inside a callback, where another callback of
the same run may still read them), so they show the new value and never write an old one back.

Conflicts: the winning session is told at its save; the session whose value lost recognises it
(`MINE` keeps what this session wrote, by path) when it adopts the conflict, is told with its value,
and can restore it from the conflicts view in the sidebar.

Drafts (a half-built slice, pasted cases) and the settings of the last runs (stress scoring,
perturbations, discovery, explanations) go to the workspace's drafts file (`keep_draft`, `keep_run`),
so a refreshed browser gets them back.

Widget-bound keys vanish when their widget is not on the page, so whatever must survive a page
switch is copied into the `Workspace` here.

With sign-in on (`ui.auth`), `init` opens only a workspace open to the signed-in user (`evalcore.serve.access`; the
URL's `?ws=` name alone opens nothing else: the user's own workspace opens instead, with a message), and every
write (`save`, drafts, dismissals) asks the access record first: a read-only share refuses the save here, on the
server, and the session goes back to the saved copy.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

import streamlit as st

from evalcore.core.errors import EvalcoreError
from evalcore.serve import access
from evalcore.serve import workspace as store
from evalcore.serve.workspace import Workspace
from ui import auth

WORKSPACE = "ec_workspace"  # the session's Workspace (pages mutate it, then call save())
NAME = "ec_workspace_name"
BASE = "ec_workspace_base"  # dict: the copy the session last read or wrote
REVISION = "ec_workspace_revision"
MESSAGES = "ec_workspace_messages"  # for this session only, shown once
NOTICES = "ec_workspace_notices"  # the file's standing notices, as of the session's last read or write
STAMP = "ec_workspace_stamp"  # the file's stamp as of the session's last read or write
CONFLICTS = "ec_workspace_conflicts"  # the file's conflict list, as of the session's last read or write
MINE = "ec_workspace_mine"  # {path key: value} this session wrote: recognises a conflict it lost
LOST = "ec_workspace_lost"  # ids of the conflicts this session lost
RESET = "ec_workspace_reset"  # widget-key prefixes to reset at the next refresh()
DRAFTS = "ec_drafts"  # {kind: value}: the drafts file as this session last read or wrote it
MAX_MINE = 400
APP_RAN = "ec_app_ran"
DEEP_LINK = "ec_deep_link"
QUERY_KEY = "ws"
WHO = "ec_workspace_who"  # (issuer, subject) of the signed-in user the workspace was opened for (None: sign-in off)
# Results of the Stress tests page, kept for this browser session only (derived, never saved):
# {"result": StressResult | PerturbResult, "data_key": str, "models": ..., ...}
STRESS_RESULT = "ec_stress_result"
PERTURB_RESULT = "ec_perturb_result"
# Results of the analysis pages, kept for this browser session only (derived, never saved), each for the
# comparison (df_eval) it was computed on: {"result": ..., "comparison_key": str, ...}
DISCOVERY_RESULT = "ec_discovery_result"  # Slices page: {"result": Discovery, "comparison_key", "settings"}
EXPLAIN_RESULT = "ec_explain_result"  # Examples page: {"result": RegressionExplanations, "comparison_key"}
# The generation metric picked on Compare or Examples (a metric name of evalcore.stats.comparisons), shared by both
# pages and kept across page switches for this browser session.
GEN_METRIC = "ec_gen_metric"
# Widgets that mirror a saved value (key prefix -> the value's path in the workspace): reset when another session
# changes that value, so they show it (and never write an old one back).
MIRRORS: dict[str, tuple[str, ...]] = {
    "cmp_threshold": ("conf_threshold",),
    "cmp_min_n": ("min_n",),
    "cmp_alpha": ("alpha",),
    "share_gate_": ("gates",),
    "cmp_require_gain": ("gates",),
    "share_wb_": ("wandb",),
    "share_notes": ("notes",),
    "stress_hypothesis": ("stress", "hypothesis"),
    "stress_target": ("stress", "target_slice"),
    "stress_conf": ("stress", "conf_threshold"),
    "stress_pt_": ("stress", "perturb"),
    "stress_model_": ("stress", "models"),
    "stress_spec_": ("stress", "models"),
    "stress_editor": ("stress", "cases"),
    "stress_llm_n": ("stress", "llm_n"),
    "stress_gen_": ("stress", "generation"),
    "stress_llm_endpoint": ("llm", "endpoint"),
}
# Boxes a user types free text into. When the watcher brings another session's value of one while it is on screen,
# the browser keeps text the user is typing (Streamlit never overwrites a box being edited) and shows the new value
# in an idle one; the value the box showed before is kept as the merge base of the next save of that box, so
# sending the typed text conflicts with the other session's value (both sides told) instead of replacing it unseen.
TYPED = ("share_notes", "stress_hypothesis")  # widget keys (and MIRRORS prefixes)
TYPED_BASE = "ec_workspace_typed_base"  # {prefix: value the box showed before the watcher changed it}
WATCHED = "ec_watched_rerun"  # set by the watcher before the rerun it starts
REFRESHED = "ec_refreshed"  # app.py refreshed in this run: the page does not again


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
    if not st.session_state.pop(REFRESHED, False):  # app.py refreshed at its top; a page rerun alone (AppTest) not
        refresh()


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


def _adopt(snap: store.Snapshot, ws: Workspace | None = None, *, typing: bool = False) -> list[str]:
    """Make `snap` the session's state; returns the fields whose value changed in the session (their
    widgets are reset at the next `refresh`). Conflicts recorded since the session's last read whose
    losing value is one this session wrote are announced to it, with the value."""
    ss = st.session_state
    previous = ss.get(REVISION)
    changed = []
    if ws is None or WORKSPACE not in ss:
        ss[WORKSPACE] = snap.workspace
        changed = list(MIRRORS)
    else:
        current = ss[WORKSPACE]
        old = current.to_dict()
        new = snap.workspace
        changed = [p for p, path in MIRRORS.items() if _at(old, path) != _at(snap.base, path)]
        for prefix in [p for p in changed if typing and p in TYPED and _on_screen(p)]:
            ss.setdefault(TYPED_BASE, {}).setdefault(prefix, _at(old, MIRRORS[prefix]))
        for name in store.FIELDS:
            if getattr(current, name) != getattr(new, name):
                setattr(current, name, _assign(getattr(current, name), getattr(new, name)))
    ss[BASE] = snap.base
    ss[REVISION] = snap.revision
    ss[STAMP] = snap.stamp
    ss[NOTICES] = list(snap.notices)
    ss[CONFLICTS] = list(snap.conflicts)
    standing = {n["text"] for n in snap.notices}  # shown by the notices panel, not twice
    messages = ss.setdefault(MESSAGES, [])
    messages.extend(m for m in snap.messages if m not in standing)
    if previous is not None:
        mine, lost = ss.get(MINE, {}), ss.setdefault(LOST, [])
        for c in snap.conflicts:
            if (
                c.get("rev", 0) > previous
                and c.get("id") not in lost
                and isinstance(c.get("path"), list)
                and mine.get(store.path_key(c["path"]), _NOTHING) == c.get("theirs")
            ):
                lost.append(c["id"])
                messages.append(
                    f"Another session saved a different value of {c.get('field')} at the same time, and "
                    f"theirs was kept. Your value was: {store.preview(c.get('theirs'), 200)} · restore "
                    "it from Conflicts in the sidebar."
                )
    _reset_mirrors(changed)
    return changed


_NOTHING = object()


def _at(doc: dict, path: tuple) -> Any:
    for step in path:
        if not isinstance(doc, dict) or step not in doc:
            return _NOTHING
        doc = doc[step]
    return doc


def _put(doc: Any, path: tuple, value: Any) -> None:
    """Set a path in a workspace dict or a `Workspace` (a missing value removes the key)."""
    parent = doc
    for step in path[:-1]:
        parent = getattr(parent, step) if not isinstance(parent, dict) else parent.setdefault(step, {})
    if not isinstance(parent, dict):
        setattr(parent, path[-1], copy.deepcopy(value))
    elif value is _NOTHING:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = copy.deepcopy(value)


def _on_screen(prefix: str) -> bool:
    return any(isinstance(k, str) and k.startswith(prefix) for k in st.session_state)


def _reset_mirrors(prefixes: list[str]) -> None:
    """Queue widget-key prefixes for a reset at the next `refresh` (deleting them now, inside a callback, would
    pull a key from under another callback of the same run)."""
    if prefixes:
        queued = st.session_state.setdefault(RESET, [])
        queued.extend(p for p in prefixes if p not in queued)


def _apply_resets() -> None:
    prefixes = tuple(st.session_state.pop(RESET, []))
    if prefixes:
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
            del st.session_state[key]


def init() -> None:
    """Open the session's workspace (once, or when the URL names another one). Never adopts another
    session's changes of the open workspace: only `refresh` does, at the top of a run.

    Page links drop the URL's query, so a session keeps its workspace when `?ws=` is missing and
    writes it back into the URL (a copied link still opens the same workspace).

    With sign-in on, a visitor who is not signed in gets the sign-in page and the run stops (`auth.gate`)."""
    who = auth.gate()
    if QUERY_KEY not in st.query_params and st.session_state.get(NAME) not in (None, store.DEFAULT_NAME):
        st.query_params[QUERY_KEY] = st.session_state[NAME]
    name, problem = _requested_name()
    if who is not None:
        name, refused = _open_to(who, name)
        problem = refused or problem
    if problem:
        st.session_state.setdefault(MESSAGES, []).append(problem)
    who_key = who.key if who is not None else None
    if st.session_state.get(NAME) != name or WORKSPACE not in st.session_state or st.session_state.get(WHO) != who_key:
        switching = NAME in st.session_state
        if who is not None and st.session_state.get(WHO) != who_key:
            access.remember(who)  # once per session: an owner can then share with this user by email
        st.session_state[NAME] = name
        st.session_state[WHO] = who_key
        for key in (DRAFTS, REVISION, MINE, LOST):
            st.session_state.pop(key, None)
        _adopt(store.load(name))
        if not switching:
            st.session_state.pop(RESET, None)  # a fresh session: every widget starts from the workspace


def _open_to(who: access.Identity, name: str) -> tuple[str, str | None]:
    """The workspace to open for a signed-in user: the one asked for when it is open to them, else their own
    (made at their first sign-in), with a message that never says whether the name exists."""
    home = access.home_name(who)
    ss = st.session_state
    if ss.get(WHO) == who.key and ss.get(NAME) == name and WORKSPACE in ss:
        return name, None  # open already: `refresh` checks it once a run (never inside a callback), saves at each write
    check_home = ss.get(WHO) != who.key or (ss.get(NAME) != home and name == home)  # a new session, or home
    if check_home and access.role(home, who) != "owner":  # the first sign-in: make it
        access.claim(home, who)
        store.save_workspace(Workspace(), store.workspace_path(home))
    if not st.query_params.get(QUERY_KEY) or name == home or access.role(name, who) is not None:
        return (name if st.query_params.get(QUERY_KEY) else home), None
    st.query_params[QUERY_KEY] = home  # said once: the URL now names the workspace open
    return home, (
        f"No workspace named {name!r} is open to you (its owner has not shared it with you, or it does "
        "not exist); your own workspace is open instead."
    )


def _still_open() -> None:
    """Sign-in on: when the open workspace's owner withdrew this user's share, open their own (at the top of a run,
    after its callbacks, whose saves were refused)."""
    who = auth.user()
    current = st.session_state[NAME]
    if who is None or access.role(current, who) is not None:
        return
    st.session_state.setdefault(MESSAGES, []).append(
        f"The workspace {current!r} is no longer shared with you; your own workspace is open instead."
    )
    st.query_params[QUERY_KEY] = access.home_name(who)
    init()


def role() -> str | None:
    """The signed-in user's role in the open workspace ("owner", "edit", "read"); None when sign-in is off."""
    who = auth.user()
    return access.role(name(), who) if who is not None else None


def can_write() -> bool:
    """Whether this session may write its workspace: always with sign-in off; else the owner or an edit share,
    read from the access record now (a share withdrawn a second ago counts)."""
    who = auth.user()
    return who is None or access.can_edit(name(), who)


READ_ONLY = (
    "This workspace is shared with you read-only: your change was not saved. To work on it, create your "
    "own copy (New workspace, in the sidebar)."
)
CLOSED = "This workspace is no longer shared with you: your change was not saved."


def _refused() -> None:
    """Tell the user (once) why a write was refused: a read share, or no share any more."""
    text = READ_ONLY if role() == "read" else CLOSED
    messages = st.session_state.setdefault(MESSAGES, [])
    if text not in messages:
        messages.append(text)


def refresh(*, from_app: bool = False) -> None:
    """app.py, at the top of every run (after this run's callbacks): pick up other sessions' changes of
    the workspace when its file changed (a stat, not a read), then reset the widgets of changed fields.
    A session with an edit that was not saved merges it in now. Once per run: the page skips it when
    app.py did it (`from_app`)."""
    init()
    _still_open()
    ss = st.session_state
    if from_app:
        ss[REFRESHED] = True
    watched = ss.pop(WATCHED, False)  # a rerun the watcher started: a text box may hold unsent typing
    if not watched:  # the user acted: typing in a box was sent first (a click blurs it) and saved by its callback
        ss.pop(TYPED_BASE, None)
    if store.stamp(ss[NAME]) != ss.get(STAMP):
        ws = ss[WORKSPACE]
        if ws.to_dict() == ss[BASE]:
            _adopt(store.load(ss[NAME]), ws, typing=watched)
        else:
            save()
    _apply_resets()


def rerun_for_others() -> None:
    """The watcher's rerun (another session saved): marked, so `refresh` keeps text boxes as the user sees them."""
    st.session_state[WATCHED] = True
    st.rerun(scope="app")


_PRESENT: dict[str, dict[str, float]] = {}  # workspace name -> {browser session id: last seen}, this server process
_PRESENT_LOCK = threading.Lock()
PRESENT_SECONDS = 70.0  # more than two slow watcher periods


def mark_present() -> bool:
    """Note this browser session as open on its workspace; True when another session of this server has the
    same workspace open (the watcher then looks often; alone, rarely: a fragment run costs ~0.1 s CPU)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or NAME not in st.session_state:
        return False
    now = time.monotonic()
    with _PRESENT_LOCK:
        seen = _PRESENT.setdefault(st.session_state[NAME], {})
        for sid in [s for s, t in seen.items() if now - t > PRESENT_SECONDS]:
            del seen[sid]
        for name, sessions in _PRESENT.items():  # a session that switched workspace is no longer in the old one
            if name != st.session_state[NAME]:
                sessions.pop(ctx.session_id, None)
        seen[ctx.session_id] = now
        return len(seen) > 1


def changed_elsewhere() -> bool:
    """True when another session saved the workspace since this session's last read or write."""
    return NAME in st.session_state and store.stamp(st.session_state[NAME]) != st.session_state.get(STAMP)


def workspace() -> Workspace:
    init()
    return st.session_state[WORKSPACE]


def name() -> str:
    init()
    return st.session_state[NAME]


def save(resolved: list[str] | tuple = ()) -> None:
    """Persist the workspace now (called after every user change): merged against the copy this session
    last read or wrote, with whatever other sessions saved since."""
    if WORKSPACE not in st.session_state:
        init()
    ss = st.session_state
    ws = ss[WORKSPACE]
    if not can_write():  # refused here, on the server: whatever the page let the user change goes back
        ss.pop(TYPED_BASE, None)
        _refused()
        _adopt(store.load(ss[NAME]), ws)
        return
    base = ss.get(BASE)
    if not resolved:  # a Restore puts this session's earlier value back on purpose
        _drop_resent(base, ws)
    ours = ws.to_dict()
    written = store.changes(base, ours)
    typed = ss.pop(TYPED_BASE, {})
    if (
        typed and base is not None
    ):  # a box sent text typed over a value the watcher brought: merge against what it showed
        base = copy.deepcopy(base)
        for key, shown in typed.items():  # only the box's own save: it sent what is being saved
            value = _at(ours, MIRRORS[key])
            if ss.get(key) == value and value != _at(base, MIRRORS[key]):
                _put(base, MIRRORS[key], shown)
    snap = store.save(ss[NAME], base, ws, resolved=resolved)
    _adopt(snap, ws)
    mine = ss.setdefault(MINE, {})
    for key, value in written.items():
        mine.pop(key, None)
        mine[key] = value
    while len(mine) > MAX_MINE:
        mine.pop(next(iter(mine)))


def _drop_resent(base: dict[str, Any] | None, ws: Workspace) -> None:
    """A value this session saved earlier and another session has since replaced, sent again by a box that
    kept it (the browser never overwrites a focused box; a blur sends it again): not a new edit, so it is not
    saved over the newer value, which would otherwise be replaced, unseen, each time the box is sent (issue 19:
    one session's old notes saved 16 times). The user is told, and restores theirs from Conflicts."""
    mine = st.session_state.get(MINE, {})
    if base is None or not mine:
        return
    for key, value in store.changes(base, ws.to_dict()).items():
        steps = tuple(json.loads(key))
        if mine.get(key, _NOTHING) != value or any(not isinstance(step, str) for step in steps):
            continue  # a new value, or a list item (its own identity decides)
        newer = _at(base, steps)
        if newer is _NOTHING:
            continue
        _put(ws, steps, newer)
        _reset_mirrors([prefix for prefix, path in MIRRORS.items() if path == steps[: len(path)]])
        st.session_state.setdefault(MESSAGES, []).append(
            f"Not saved again: your earlier value of {'.'.join(steps)} ({store.preview(value, 120)}); another "
            f"session has since saved {store.preview(newer, 120)}. To put yours back, use Restore in Conflicts "
            "(sidebar)."
        )


def take_messages() -> list[str]:
    """What this session must be told once (conflicts, repairs), then forgotten."""
    return st.session_state.pop(MESSAGES, [])


def notices() -> list[dict]:
    """The workspace file's standing notices (repairs), shown to every session until dismissed. Kept
    from the session's last read or write: `init` re-reads the file whenever its revision moves."""
    init()
    return st.session_state.get(NOTICES, [])


def dismiss_notices() -> None:
    if not can_write():
        _refused()
        return
    store.dismiss(name(), notices=True)
    st.session_state[NOTICES] = []  # the next rerun sees the new revision and re-reads the rest


# --- conflicts -------------------------------------------------------------------------------------


def conflicts() -> list[dict]:
    """The workspace's conflict list (oldest first), as of the session's last read or write."""
    init()
    return st.session_state.get(CONFLICTS, [])


def lost() -> set[str]:
    """Ids of the conflicts whose losing value this session wrote."""
    return set(st.session_state.get(LOST, []))


def restore_conflict(conflict_id: str) -> None:
    """Put a conflict's losing value back (this session's copy, then a save that settles the conflict)."""
    ss = st.session_state
    found = next((c for c in conflicts() if c.get("id") == conflict_id), None)
    if found is None:
        ss.setdefault(MESSAGES, []).append(
            "That conflict is no longer in the list (restored or dismissed by another session)."
        )
        return
    ws = ss[WORKSPACE]
    try:
        new, problems = store.validate(store.restore(ws.to_dict(), found))
    except EvalcoreError as exc:
        ss.setdefault(MESSAGES, []).append(f"Could not restore {found.get('field')}: {exc}.")
        return
    if problems:
        ss.setdefault(MESSAGES, []).append(f"Could not restore {found.get('field')}: " + "; ".join(problems))
        return
    before, after = ws.to_dict(), new.to_dict()
    for f in store.FIELDS:
        if getattr(ws, f) != getattr(new, f):
            setattr(ws, f, _assign(getattr(ws, f), getattr(new, f)))
    _reset_mirrors([p for p, path in MIRRORS.items() if _at(before, path) != _at(after, path)])
    save(resolved=[conflict_id])
    ss.setdefault(MESSAGES, []).append(
        f"Restored the other value of {found.get('field')}: {store.preview(found.get('theirs'), 120)}"
    )


def dismiss_conflicts(ids: list[str] | None = None) -> None:
    """Drop conflicts from the list for everyone (None: all of them)."""
    if not can_write():
        _refused()
        return
    snap = store.dismiss(name(), notices=False, conflicts=True if ids is None else list(ids))
    st.session_state[CONFLICTS] = list(snap.conflicts)  # the next refresh sees the new stamp and re-reads


# --- drafts and last runs (the workspace's drafts file) -----------------------------------------------


def _drafts() -> dict:
    init()
    if DRAFTS not in st.session_state:
        st.session_state[DRAFTS] = store.load_drafts(st.session_state[NAME])
    return st.session_state[DRAFTS]


def draft(kind: str) -> Any:
    """The workspace's last draft of `kind` (None when there is none): what a refreshed page starts from."""
    return copy.deepcopy(_drafts().get(kind))


def keep_draft(kind: str, value: Any) -> None:
    """Keep a draft (None removes it); written only when it changed. A draft too large to keep is told once."""
    drafts = _drafts()
    if drafts.get(kind) == value:
        return
    if can_write():  # a reader's drafts stay in their browser session: the drafts file is the workspace's
        try:
            store.save_draft(st.session_state[NAME], kind, value)
        except EvalcoreError as exc:
            st.session_state.setdefault(MESSAGES, []).append(str(exc))
    if value is None:
        drafts.pop(kind, None)
    else:
        drafts[kind] = copy.deepcopy(value)


def keep_run(kind: str, record: dict | None) -> None:
    """Remember the settings of the last run of `kind` (stress, perturb, discovery, explain), so a refreshed
    browser gets the result back from the prediction cache."""
    keep_draft(f"run:{kind}", record)


def run_record(kind: str) -> dict | None:
    record = draft(f"run:{kind}")
    return record if isinstance(record, dict) else None


def switch(new_name: str, *, create: bool = False) -> None:
    """Open another workspace (creating it as a copy of this one when asked); the URL follows."""
    new_name = store.check_name(new_name)
    if create:
        if new_name in store.list_workspaces():
            raise store.ConfigError(f"a workspace named {new_name!r} exists already; open it or pick another name")
        who = auth.user()
        if who is not None:  # sign-in on: the new workspace is its maker's (refused when the name is taken)
            access.claim(new_name, who)
        store.save_workspace(
            Workspace(**{f: getattr(workspace(), f) for f in store.FIELDS}), store.workspace_path(new_name)
        )
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
    from evalcore.analyze.slices import SliceSet, starter_slices

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
    return f"Your {old_task} slices are kept aside and come back when you load {old_task} data again; " + (
        f"your {new_task} slices are back." if restored is not None else f"the {new_task} defaults apply."
    )


def set_slices(slice_set) -> None:
    """Replace the slice set and save it (merged against the copy the set was made from: no re-read here)."""
    init()
    st.session_state[WORKSPACE].slices = slice_set.to_json()
    save()
