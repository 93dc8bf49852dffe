"""Small shared widgets: error display, progress bars, the session summary in the sidebar."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import streamlit as st

from evalcore.core.errors import EvalcoreError
from evalcore.core.safetext import code, lit, st_escape, to_streamlit  # noqa: F401  (code, lit: re-exported for the pages)
from evalcore.serve.access import Identity

# Text a visitor or a data file wrote goes into Streamlit's Markdown (captions, labels, messages) only
# through these: `esc(text)` for a plain value, `md(markup)` for our markup with `lit(...)` / `code(...)`
# marking the untrusted parts (evalcore/core/safetext.py says why).
esc = st_escape
md = to_streamlit


def hover(short: str, full: str, bold: bool = False) -> str:
    """`short` as inline HTML whose hover (title) is `full` (a path, a spec with its hash or revision), so the
    detail stays one hover away instead of filling the line. Escaped; for `unsafe_allow_html=True`."""
    import html

    shown = f"<b>{html.escape(short)}</b>" if bold else html.escape(short)
    if short == full:
        return shown
    return (
        f'<span title="{html.escape(full, quote=True)}" style="text-decoration:underline dotted;'
        f'cursor:help">{shown}</span>'
    )


def short_source(source: str) -> str:
    """A data source for people: the file or folder name, without an upload's content-hash prefix."""
    import re
    from pathlib import Path

    name = Path(str(source)).name or str(source)
    return re.sub(r"^[0-9a-f]{12}_(?=.)", "", name)


def model_hover(spec: str, bold: bool = False) -> str:
    """A model's short name (no upload hash, no server path), its full spec on hover."""
    from evalcore.predict.models import display_name

    return hover(display_name(spec), spec, bold)


def error(message: object) -> None:
    """An error message, shown as text: messages quote user input (a rule, a cell, a file name)."""
    st.error(st_escape(str(message), breaks=True), icon="⚠️")


@contextmanager
def shown_errors(stop: bool = True) -> Iterator[None]:
    """Show any `EvalcoreError` raised inside as a readable message (never a traceback).

    With `stop`, the rest of the page is skipped; the user's saved work is untouched either way.
    """
    try:
        yield
    except EvalcoreError as exc:
        error(exc)
        if stop:
            st.stop()


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback drawing a Streamlit progress bar."""
    bar = st.progress(0.0, text=label)

    def update(done: int, total: int) -> None:
        frac = 1.0 if total <= 0 else min(1.0, done / total)
        bar.progress(frac, text=f"{label}: {done:,}/{total:,}")
        if done >= total:
            bar.empty()

    return update


def step_bar(label: str) -> Callable[[int, int, str], None]:
    """A `progress(done, total, message)` callback (the demo build): the share done and the
    builder's message, which names the phase and the time left. The bar disappears at the end."""
    bar = st.progress(0.0, text=f"{label}: starting…")

    def update(done: int, total: int, message: str) -> None:
        if done >= total:
            bar.empty()
            return
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done / max(total, 1):.0%} · {message}")

    return update


def scoring_progress(spec: str) -> Callable[[int, int], None]:
    return progress_bar(f"Scoring with {spec}")


def one_page(rows, key: str, size: int):
    """The rows of the page the user picked (a number input keyed `key`), with a caption counting them:
    one page of a selection goes to the browser, never all of it (a million rows would be hundreds of MB)."""
    total = len(rows)
    pages = max(1, -(-total // size))
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = pages
    page_no = st.number_input(f"Page (of {pages:,}; {size} rows each)", 1, pages, key=key)
    first = (int(page_no) - 1) * size
    rows = rows.iloc[first : first + size]
    st.caption(f"Showing rows {first + 1:,}–{first + len(rows):,} of {total:,}" if total else "No row matches.")
    return rows


def opens_row(ids: list, table_key: str, detail_key: str) -> Callable[[], None]:
    """An `on_select` callback for a single-row table whose ticked row opens the row detail picker
    (`detail_key`, a select box over `ids`, the ids of the page of rows shown). It also clears a pick
    that is not on this page, so the select box never holds a value outside its options."""
    if st.session_state.get(detail_key) not in ids:
        st.session_state[detail_key] = None

    def open_selected() -> None:
        picked = st.session_state[table_key]["selection"]["rows"]
        if picked and picked[0] < len(ids):
            st.session_state[detail_key] = ids[picked[0]]

    return open_selected


def slice_picker(where: Any, slices: Any, res: Any, n_all: int, key: str) -> str:
    """A slice to look at: `all` then the saved slices, each with its size (n of the whole table for `all`)."""
    from evalcore.stats.metrics import ALL_SLICE

    return where.selectbox(
        "Slice",
        [ALL_SLICE] + [s.name for s in slices],
        key=key,
        format_func=lambda s: f"{s} (n={int(res.masks[s].sum()) if s in res.masks else n_all:,})",
    )


def workspace_switcher() -> None:
    """Sidebar: which workspace this browser works in (the URL's `?ws=`), switch or create one."""
    from evalcore.serve import workspace as store
    from ui import auth, state

    current = state.name()
    who = auth.user()
    names = store.list_workspaces()
    roles: dict[str, str] = {}
    if who is not None:  # sign-in on: only the workspaces open to this user are listed
        from evalcore.serve import access

        roles = dict(access.visible(names, who))
        names = list(roles)
    if current not in names:  # opened by URL, not saved yet: it exists from its first change
        names.append(current)
    if st.session_state.get("ec_ws_pick") != current:
        st.session_state["ec_ws_pick"] = current  # before the widget is drawn: it follows the session

    def pick() -> None:
        state.switch(st.session_state["ec_ws_pick"])

    def create() -> None:
        try:
            state.switch(st.session_state.get("ec_ws_new", "").strip(), create=True)
        except EvalcoreError as exc:
            st.session_state["ec_ws_error"] = str(exc)
        else:
            st.session_state["ec_ws_new"] = ""

    shown = {"read": " · shared, read-only", "edit": " · shared, can edit"}
    st.selectbox(
        "Workspace",
        names,
        key="ec_ws_pick",
        on_change=pick,
        format_func=lambda n: n + shown.get(roles.get(n, ""), ""),
        help="Each workspace keeps its own data choice, models, slices, stress cases, gates and notes. "
        "The URL names it (?ws=…), so a link opens it"
        + (" for you and those you share it with." if who is not None else "."),
    )
    if who is not None:
        share_panel(current, who, roles.get(current))
    with st.expander("New workspace", icon=":material/add:"):
        st.text_input(
            "Name", key="ec_ws_new", placeholder="e.g. alice or review-3", help="1-40 letters, digits, '-' or '_'"
        )
        st.button("Create (a copy of this one)", key="ec_ws_create", on_click=create)
        problem = st.session_state.pop("ec_ws_error", None)
        if problem:
            error(problem)


def share_panel(current: str, who: Identity, role: str | None) -> None:
    """Sign-in on: who owns the open workspace; for its owner, a form to share it (read or edit) by the email of
    someone who signed in once, and the list of shares with a button to withdraw each. Names and emails come from
    the identity provider (untrusted text): escaped."""
    from evalcore.serve import access

    rec = access.record(current)
    if rec is None:
        return
    if role != "owner":
        what = "read it (your changes are not saved)" if role == "read" else "edit it"
        st.caption(f"Owned by **{esc(rec.owner.label)}** · shared with you: you can {what}.")
        return

    def add() -> None:
        text = st.session_state.get("ec_share_email", "").strip()
        if not text:
            st.session_state["ec_share_error"] = "Type the email of the person to share with."
            return
        found = access.find_users(text)
        if not found:
            st.session_state["ec_share_error"] = (
                f"Nobody who signed in here has the email {text!r:.80}: ask them to sign in once, then share again."
            )
            return
        try:
            for person in found:
                access.share(current, who, person, st.session_state.get("ec_share_role", "read"))
        except EvalcoreError as exc:
            st.session_state["ec_share_error"] = str(exc)
        else:
            st.session_state["ec_share_email"] = ""

    def remove(key: tuple[str, str]) -> None:
        try:
            access.unshare(current, who, key)
        except EvalcoreError as exc:
            st.session_state["ec_share_error"] = str(exc)

    with st.expander("Share this workspace", icon=":material/group:"):  # a steady label: it stays open on a rerun
        st.caption(f"Yours. Shared with {len(rec.shares)} {'person' if len(rec.shares) == 1 else 'people'}.")
        st.text_input(
            "Their email",
            key="ec_share_email",
            placeholder="name@example.org",
            help="Someone who signed in on this server at least once",
        )
        st.radio(
            "They may",
            ["read", "edit"],
            key="ec_share_role",
            horizontal=True,
            format_func=lambda r: {"read": "read (saves refused)", "edit": "edit"}[r],
        )
        st.button("Share", key="ec_share_add", on_click=add)
        problem = st.session_state.pop("ec_share_error", None)
        if problem:
            error(problem)
        for i, s in enumerate(rec.shares):
            person = s["who"]
            st.caption(
                f"{esc(person.label)}"
                + (f" · {esc(person.email)}" if person.email != person.label else "")
                + f" · {s['role']}"
            )
            st.button("Remove this share", key=f"ec_share_rm_{i}", on_click=remove, args=(person.key,))


def workspace_messages() -> None:
    """What other sessions' edits and repairs of the saved file mean for this user."""
    from ui import state

    for text in state.take_messages():
        st.warning(st_escape(text, breaks=True), icon="⚠️")  # may quote another session's value
    if state.role() == "read":  # sign-in on, a read share: said before the user edits anything
        st.info(
            "This workspace is shared with you read-only: you can look at everything, and what you change here "
            "is not saved.",
            icon=":material/visibility:",
        )
    notices = state.notices()
    if notices:
        with st.expander(f"Notices about this workspace ({len(notices)})", expanded=True, icon="⚠️"):
            for n in notices:
                st.caption(st_escape(n["text"]))
            st.button("Dismiss for everyone", key="ec_ws_dismiss", on_click=state.dismiss_notices)


# --- a guided path through the pages for a first visit (home page, app.py) ----------------------------

TOUR = (  # (page file, title, what to do and look at there)
    (
        "pages/data_models.py",
        "Data & models",
        "The data and the two models: on the demo, the lab's 500 tweets with roberta (baseline) and gpt2 "
        "(candidate), whose predictions ship with the file.",
    ),
    (
        "pages/compare.py",
        "Compare",
        "The verdict first (ship / no-ship / inconclusive) and the gates it rests on; then accuracy per slice with "
        "95% intervals, and what slicing revealed, in sentences.",
    ),
    (
        "pages/slices.py",
        "Slices",
        "Build a slice with a hypothesis (e.g. negated questions), or let *Discover regression slices* find where "
        "the candidate loses most, tested on held-out rows.",
    ),
    (
        "pages/examples.py",
        "Examples",
        "Read the regressed rows of a slice; pick a row to see why each model predicts what it does (one click "
        "switches to VADER vs the demo transformer, which run here and can be explained).",
    ),
    (
        "pages/stress.py",
        "Stress tests",
        "Paste a few hard cases and score them with two live models; run perturbation tests (negation, typos, "
        "casing) and read each test's edited examples.",
    ),
    (
        "pages/share.py",
        "Report & W&B",
        "Download the Markdown or HTML report, or push the session to Weights & Biases (offline without an account).",
    ),
)
TOUR_KEY = "ec_tour"  # True while this browser session follows the guided path
TOUR_HIDDEN = "ec_tour_hidden"


def guided_path_home(first_visit: bool = True) -> None:
    """The home page's offer: one line that opens the path in six steps (each a link, with what to look at
    there) and a button that starts it. Folded, so the page below does not move: on a first visit (a workspace
    nobody has built anything in yet) its label says so."""
    if st.session_state.get(TOUR_HIDDEN):
        return
    label = (
        "First visit? Open the guided path through the six pages (about 15 minutes)"
        if first_visit
        else "Guided path through the six pages"
    )
    with st.expander(label, expanded=False, icon=":material/route:"):
        for i, (page, title, what) in enumerate(TOUR, 1):
            c1, c2 = st.columns([1, 4], vertical_alignment="center")
            c1.page_link(page, label=f"{i}. {title}")
            c2.caption(what)
        b1, b2, _ = st.columns([1, 1, 3])
        b1.button("Start the guided path", key="ec_tour_start", type="primary", on_click=_start_tour)
        b2.button("Hide this guide", key="ec_tour_hide", on_click=lambda: st.session_state.update({TOUR_HIDDEN: True}))


def _start_tour() -> None:
    st.session_state[TOUR_KEY] = True


def _end_tour() -> None:
    st.session_state[TOUR_KEY] = False


def guided_path_banner(current: str) -> None:
    """While the path is followed: this page's step, what to look at, and the link to the next page."""
    if not st.session_state.get(TOUR_KEY):
        return
    files = [t[0] for t in TOUR]
    if current not in files:
        return
    i = files.index(current)
    _, title, what = TOUR[i]
    with st.container(border=True):
        st.markdown(f"**Guided path · step {i + 1} of {len(TOUR)}: {title}** — {what}")
        cols = st.columns(3, vertical_alignment="center")
        if i > 0:
            cols[0].page_link(TOUR[i - 1][0], label=f"← {TOUR[i - 1][1]}")
        if i + 1 < len(TOUR):
            cols[1].page_link(TOUR[i + 1][0], label=f"Next: {TOUR[i + 1][1]} →")
        else:
            cols[1].caption("The last step: that is the whole path.")
        cols[2].button(
            "End the path",
            key="ec_tour_end",
            on_click=_end_tour,
            help="Hide these steps; the home page's guide starts them again",
        )
