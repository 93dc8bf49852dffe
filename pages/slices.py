"""Slices: build slice rules with widgets or as text, see their rows live, save them with a hypothesis;
or let discovery find the slices where the candidate regresses and save them with one click.

Everything the user builds is saved to the workspace at once (slice set, custom features); the
builder's draft and the form fields live in this session's own keys, so a page switch keeps them.
A slice set is only saved when every slice fits the current table: the Compare page evaluates them all.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from evalcore.analyze.features import CustomFeature, list_features, list_generation_features
from evalcore.analyze.rules import Rule, Schema, conditions, format_rule, validate, validate_text
from evalcore.analyze.slices import SLICES_VERSION, Slice, SliceSet, check_name, load_slices, validate_slices
from evalcore.analyze.tables import role_col
from evalcore.core import units
from evalcore.core.errors import FeatureError, RuleError
from evalcore.decide.label_mix import mix_text
from evalcore.serve.workspace import LIMITS
from evalcore.stats.comparisons import HEADLINE, compared_metric
from ui import discover_view, engine, state
from ui import rule_builder as rb
from ui.glossary import gloss
from ui.widgets import code, error, esc, lit, md, scoring_progress, shown_errors

ss = st.session_state
EDITING, NAME, NOTE, FLASH, SYNCED = "sl_editing", "sl_name", "sl_note", "sl_flash", "sl_text_synced"
PICK, UNDO = "sl_pick", "sl_undo"  # the slice shown in the selector; the last deleted slice and its place
PREVIEW_ROWS = 200

rb.apply_pending()
state.require_app(__file__)
ws = state.workspace()
st.title("Slices")
st.caption(
    "A slice is a rule over the table's columns plus the hypothesis it tests: where might the "
    "candidate behave differently from the baseline? Changes are saved at once."
)

bars = st.empty()  # scoring bars, cleared once df_eval is there (also when it came from memory)
with shown_errors(), bars.container():
    comp = engine.get_comparison(ws, progress=scoring_progress)
bars.empty()
df = comp.df_eval
GENERATION = comp.data.task == "generation"  # no label mix (gold answers are free text); F1 in the preview


def table_schema() -> Schema:
    """The table's schema, taken once per df_eval (it scans string columns for categories)."""
    memo = ss.get("sl_schema")
    if memo is None or memo[0] != comp.key:
        memo = ss["sl_schema"] = (comp.key, Schema.from_frame(df))
    return memo[1]


def _node_ids(node: dict) -> list[int]:
    """The numbers of a draft tree's node ids; raises on anything that is not a draft tree."""
    ids, stack = [], [node]
    while stack:
        item = stack.pop()
        if item["kind"] not in ("cond", "group"):
            raise ValueError(item["kind"])
        ids.append(int(str(item["id"]).lstrip("n")))
        stack.extend(item["children"] if item["kind"] == "group" else [])
    return ids


def restore_draft() -> bool:
    """A fresh session (a refreshed browser) takes the workspace's slice draft back: the builder's tree,
    the name, the hypothesis, the rule text and which slice was being edited."""
    saved = state.draft("slice")
    if not isinstance(saved, dict) or not isinstance(saved.get("tree"), dict):
        return False
    try:
        top = max(_node_ids(saved["tree"]))
        rb.incomplete(saved["tree"])
    except (KeyError, TypeError, ValueError, AttributeError, RuleError):
        return False  # not a draft this page wrote: start afresh
    ss[rb.DRAFT], ss[rb.NEXT_ID] = saved["tree"], top
    for key, field in ((NAME, "name"), (NOTE, "note")):
        ss[key] = saved.get(field) if isinstance(saved.get(field), str) else ""
    ss[EDITING] = saved.get("editing") if isinstance(saved.get("editing"), str) else None
    ss[rb.GUARDRAIL_BOX] = saved.get("guardrail") is True
    if isinstance(saved.get("text"), str):
        ss["sl_text_w"], ss[SYNCED] = saved["text"], saved.get("synced")
    return True


schema = table_schema()
columns = rb.Columns.of(df, schema)
if rb.DRAFT not in ss and not restore_draft():
    rb.start(columns)
if UNDO not in ss:
    ss[UNDO] = state.draft("slice_undo")
flash_box = st.empty()  # always drawn, so a message does not shift (and reset) the tabs below
flash = ss.pop(FLASH, None)
if flash:
    flash_box.success(esc(flash, breaks=True), icon="✅")  # may quote a rule's values


# --- actions on the saved set (button callbacks: they run before the widgets are drawn) -----------


def set_form(name: str, note: str, role: str = "watched") -> None:
    ss[NAME] = ss[f"{NAME}_w"] = name
    ss[NOTE] = ss[f"{NOTE}_w"] = note
    ss[rb.GUARDRAIL_BOX] = role == "guardrail"


def shown_slice() -> str | None:
    """The slice the selector shows now (its value as the browser sent it with the click)."""
    name = ss.get(PICK)
    return name if name in state.slices() else None


def edit(name: str | None = None) -> None:
    name = name or shown_slice()
    if name is None:
        return
    item = state.slices()[name]
    rb.load(item.rule)
    ss[EDITING] = ss[PICK] = name
    set_form(name, item.note, item.role)


def new_slice() -> None:
    rb.start(columns)
    ss[EDITING] = None
    set_form("", "")


def copy_name(name: str, taken: SliceSet) -> str:
    base, n = name[:55] + "_copy", 1  # names stay within check_name's 64 characters
    candidate = base
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def duplicate() -> None:
    name = shown_slice()
    if name is None:
        return
    current = state.slices()
    item = current[name]
    copy = Slice(copy_name(name, current), item.rule, item.note, item.role)
    at = current.names().index(name) + 1
    state.set_slices(SliceSet(current.slices[:at] + (copy,) + current.slices[at:]))
    edit(copy.name)
    ss[FLASH] = f"Duplicated '{name}' as '{copy.name}'; it is open in the builder."


def delete() -> None:
    """Delete the slice the selector shows (never one picked in an earlier run), keeping it for Undo."""
    name = shown_slice()
    if name is None:
        ss[FLASH] = "Pick a slice to delete first."
        return
    current = state.slices()
    at = current.names().index(name)
    ss[UNDO] = {"slice": current[name].to_json(), "at": at, "editing": ss.get(EDITING) == name}
    state.keep_draft("slice_undo", ss[UNDO])
    rest = current.remove(name)
    state.set_slices(rest)
    if ss.get(EDITING) == name:
        ss[EDITING] = None
    names = rest.names()
    ss[PICK] = names[min(at, len(names) - 1)] if names else None  # the selector shows a slice that exists
    ss[FLASH] = f"Deleted slice '{name}'. Undo puts it back."


def undo_delete() -> None:
    """Put the last deleted slice back where it was (unless a slice of that name exists again)."""
    entry = ss.get(UNDO)
    ss[UNDO] = None
    state.keep_draft("slice_undo", None)
    try:
        item = Slice.from_json(entry["slice"])
    except (KeyError, TypeError, RuleError):
        return
    current = state.slices()
    if item.name in current:
        ss[FLASH] = f"A slice named '{item.name}' exists again; the deleted one was not put back."
        return
    at = min(int(entry.get("at", len(current))), len(current))
    state.set_slices(SliceSet(current.slices[:at] + (item,) + current.slices[at:]))
    ss[PICK] = item.name
    if entry.get("editing") and ss.get(NAME) == item.name:  # it was open in the builder: it is again
        ss[EDITING] = item.name
    ss[FLASH] = f"Put slice '{item.name}' back."


def saved_into(current: SliceSet, editing: str | None, item: Slice) -> SliceSet:
    """The set with `item` added, or replacing the slice being edited (renamed when the name changed)."""
    if editing in current:
        if item.name != editing and item.name in current:
            raise RuleError(f"a slice named '{item.name}' exists already; choose another name")
        at = current.names().index(editing)
        return SliceSet(current.slices[:at] + (item,) + current.slices[at + 1 :])
    if item.name in current:
        raise RuleError(
            f"a slice named '{item.name}' exists already; choose another name, or pick it "
            "in the list and press Edit to change it"
        )
    return current.add(item)


TABLE_COLUMNS = ["name", "rows", "share", "labels", "tv", "label_effect", "rule", "hypothesis", "problem"]
MIX_COLUMNS = ("labels", "tv", "label_effect")


def slice_table(slices: SliceSet) -> tuple[pd.DataFrame, pd.Series | None]:
    """One row per saved slice with its size on this table (or why it does not fit the table) and
    its gold-label mix beside the overall one (`evalcore.decide.label_mix`); also the overall mix (None on
    generation data, whose gold answers are free text with no label set)."""
    rows, fit = [], {}
    for s in slices:
        try:
            validate(s.rule, schema)
            fit[s.name] = engine.slice_mask(comp, s)  # shared with the analysis, once per (table, rule)
            n, problem = int(fit[s.name].sum()), ""
        except RuleError as exc:
            n, problem = None, str(exc)
        rows.append(
            {
                "name": s.name,
                "rows": n,
                "share": None if n is None else 100 * n / max(len(df), 1),
                "rule": s.text,
                "hypothesis": s.note,
                "problem": problem,
            }
        )
    if GENERATION:
        return pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c not in MIX_COLUMNS]), None
    mix = engine.get_label_mix(comp, slices, fit, float(ws.alpha))  # once per (table, rules, alpha)
    tests = mix.tests.set_index("slice")
    for row in rows:
        if row["name"] in fit:
            t = tests.loc[row["name"]]
            row["labels"] = mix_text(mix.shares.loc[row["name"]]) if t["n"] else "–"
            row["tv"] = t["tv_distance"]
            row["label_effect"] = "⚠ labels" if t["label_driven"] else "differs" if t["mix_differs"] else ""
    return pd.DataFrame(rows, columns=TABLE_COLUMNS), mix.shares.loc["all"]


# --- the page --------------------------------------------------------------------------------------

slices = state.slices()
TABS = ["🧩 Slices & rule builder", "✏️ Custom features", "⇅ Import / export", "🔍 Discover regression slices"]
tab_build, tab_features, tab_io, tab_discover = st.tabs(TABS, key="sl_tabs")

with tab_build:
    st.subheader(f"Saved slices ({len(slices)})")
    if ws.slices is None and GENERATION:
        st.caption(
            "These are the default slices for generation data (gold length, question word, answer type, "
            "passage length, verbose answers); edit, add or delete any of them to make the set yours."
        )
    elif ws.slices is None:
        st.caption(
            esc(
                "These are the default slices for this task's labels (" + ", ".join(comp.data.labels) + "); "
                "edit, add or delete any of them to make the set yours."
            )
        )
    for note in engine.default_slice_set(ws)[1] if ws.slices is None else []:
        st.caption(esc(f"Note: {note}."))
    table, overall_mix = slice_table(slices)
    if table.empty:
        st.info("No slices yet: build one below and save it.")
    else:
        if overall_mix is not None:
            st.caption(
                gloss(
                    f"Gold labels overall: **{esc(mix_text(overall_mix))}**. Beside each slice, its own mix "
                    "and its total variation distance (TV) from the overall mix (0: same mix, 1: no label in "
                    "common). *differs*: beyond chance (chi-square, Benjamini-Hochberg). *⚠ labels*: the mix "
                    "alone, at each label's overall change, gives at least half of the slice's departure from "
                    "the overall change: read that slice's change as partly a label effect, not the text "
                    "property."
                ),
                unsafe_allow_html=True,
            )
        shown = table if table["problem"].astype(bool).any() else table.drop(columns="problem")
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            key="sl_table",
            column_config={
                "name": st.column_config.TextColumn("Slice", width="medium"),
                "rows": st.column_config.NumberColumn("Rows", format="%d", width="small"),
                "share": st.column_config.ProgressColumn(
                    "Share", format="%.1f%%", min_value=0, max_value=100, width="small"
                ),
                "labels": st.column_config.TextColumn("Gold labels in the slice", width="large"),
                "tv": st.column_config.NumberColumn(
                    "TV",
                    format="%.2f",
                    width="small",
                    help="Total variation distance of the slice's label mix from the "
                    "overall mix: 0 same mix, 1 no label in common",
                ),
                "label_effect": st.column_config.TextColumn(
                    "Mix",
                    width="small",
                    help="differs: beyond chance (chi-square, Benjamini-Hochberg); "
                    "⚠ labels: the change may come from the label mix",
                ),
                "rule": st.column_config.TextColumn("Rule", width="medium"),
                "hypothesis": st.column_config.TextColumn("Hypothesis", width="large"),
                "problem": st.column_config.TextColumn("Does not fit this table", width="medium"),
            },
        )
        if table["problem"].astype(bool).any():
            st.warning(
                "Some slices do not fit the current table (see the last column): edit or delete them "
                "before opening Compare.",
                icon="⚠️",
            )
        names = slices.names()
        if ss.get(PICK) not in names:  # deleted elsewhere, or a fresh session: show one that exists, explicitly
            ss[PICK] = ss.get(EDITING) if ss.get(EDITING) in names else names[0]
        pick_col, *buttons = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
        pick = pick_col.selectbox("Slice", names, key=PICK)
        # the actions read the selector when clicked (`shown_slice`), so they act on the slice the user sees
        buttons[0].button(
            "Edit",
            icon=":material/edit:",
            key="sl_edit",
            on_click=edit,
            width="stretch",
            help="Open the slice shown in the builder",
        )
        buttons[1].button(
            "Duplicate",
            icon=":material/content_copy:",
            key="sl_duplicate",
            on_click=duplicate,
            width="stretch",
            help="Copy the slice shown under a new name",
        )
        buttons[2].button(
            "Delete",
            icon=":material/delete:",
            key="sl_delete",
            on_click=delete,
            width="stretch",
            help="Delete the slice shown (Undo puts it back)",
        )
        buttons[3].button(
            "New slice",
            icon=":material/add:",
            key="sl_new",
            on_click=new_slice,
            width="stretch",
            help="Start an empty draft",
        )
    undo = ss.get(UNDO)
    if isinstance(undo, dict) and isinstance(undo.get("slice"), dict) and undo["slice"].get("name") not in slices:
        u1, u2 = st.columns([4, 1], vertical_alignment="center")
        try:
            gone = Slice.from_json(undo["slice"])
            u1.text(f"Deleted slice '{gone.name}': {gone.text[:120]}")  # typed by a visitor: shown as text
        except RuleError:
            u1.text("Deleted slice (its rule no longer reads)")
        u2.button("Undo delete", icon=":material/undo:", key="sl_undo_btn", on_click=undo_delete, width="stretch")

    editing = ss.get(EDITING) if ss.get(EDITING) in slices else None  # it may have been deleted or replaced
    st.subheader(f"Editing '{editing}'" if editing else "New slice")
    st.caption(
        "Conditions in a group are joined by its AND / OR; NOT turns a group into its opposite. "
        "Nest groups for rules like `a and (b or c)`."
    )
    rb.render(columns)

    draft = rb.draft()
    rule: Rule | None = None
    if rb.incomplete(draft):
        st.info("Finish the conditions above (choose every column, fill in every value) to see the matching rows.")
    else:
        try:
            rule = rb.draft_to_rule(draft)
            if rule is not None:
                validate(rule, schema)  # warnings (unseen values) are shown at their conditions
        except RuleError:  # each problem is shown at its condition or group above
            st.error("The rule has problems (marked above): fix them to see the matching rows.", icon="⚠️")
            rule = None
        else:
            if rule is None:
                st.info("Add a condition to start.")

    if rule is not None:
        text = format_rule(rule)
        hits = engine.rule_mask(comp, rule, text)  # once per (table, rule): saving it reuses this mask
        n = int(hits.sum())
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Matching rows", f"{n:,}")
        m2.metric("Share of data", units.pct(n / max(len(df), 1)))
        score = HEADLINE[comp.data.task]  # accuracy, or F1 on generation data
        field, title = ("correct", "accuracy") if score == "accuracy" else (score, compared_metric(score).title)
        for box, role in ((m3, "baseline"), (m4, "candidate")):
            value = df.loc[hits, role_col(role, field)].mean() if n else float("nan")
            box.metric(f"{role.capitalize()} {title} here · {df.attrs.get(role, role)}", units.pct(value))
        st.code(text, language=None, wrap_lines=True)
        shown_fields = ("pred", score) if GENERATION else ("pred", "conf")
        base = ["id", "text", "label"] + [role_col(r, f) for r in ("baseline", "candidate") for f in shown_fields]
        used = [c for c in dict.fromkeys(c.col for c in conditions(rule)) if c not in base and c in df.columns]
        # the first rows only: no copy of every matching row (half a million on a million-row table)
        preview = df.iloc[np.flatnonzero(hits)[:PREVIEW_ROWS]][[c for c in base if c in df.columns] + used]
        st.caption(f"Preview: the first {min(n, PREVIEW_ROWS):,} of {n:,} matching rows")
        st.dataframe(
            preview,
            hide_index=True,
            width="stretch",
            height=260,
            key="sl_preview",
            column_config={
                "text": st.column_config.TextColumn("text", width="large"),
                "baseline_conf": st.column_config.NumberColumn("baseline_conf", format="%.2f"),
                "candidate_conf": st.column_config.NumberColumn("candidate_conf", format="%.2f"),
                "label": st.column_config.TextColumn("first gold answer" if GENERATION else "label"),
            },
        )
        if ss.get(SYNCED) != text:  # the builder changed: show its rule in the text form
            ss["sl_text_w"] = ss[SYNCED] = text

    left, right = st.columns(2, gap="large")
    with left, st.container(border=True):
        st.markdown("**The rule as text**")
        typed = (
            st.text_area(
                "Rule text",
                key=rb.bound("sl_text_w", ss.get(SYNCED) or ""),
                height=110,
                label_visibility="collapsed",
                placeholder='has_negation == true and (emoji_count >= 2 or text contains "lol")',
                help="Operators: == != < <= > >= in [..] not in [..] contains, not contains, matches "
                "(regex), is null, is not null; join with and / or / not and parentheses; "
                "strings in double quotes.",
            )
            or ""
        )
        if st.button("Apply text", key="sl_apply_text", help="Load this rule into the builder"):
            try:
                parsed = validate_text(typed, schema)
            except RuleError as exc:
                error(exc)
                if exc.position is not None and "\n" not in typed:
                    st.code(f"{typed}\n{' ' * exc.position}^ here", language=None)
            else:
                rb.load(parsed)
                ss[SYNCED] = None  # show the canonical spelling after the rerun
                st.rerun()
    with right, st.container(border=True):
        st.markdown("**Save**")
        name = st.text_input(
            "Slice name",
            key=rb.bound(f"{NAME}_w", ss.get(NAME, "")),
            max_chars=64,
            placeholder="e.g. negated_questions",
            help="Letters, digits, _ and -",
        )
        note = st.text_area(
            "Hypothesis",
            key=rb.bound(f"{NOTE}_w", ss.get(NOTE, "")),
            height=68,
            max_chars=LIMITS["text"],
            placeholder="Why might the candidate differ here? e.g. 'negated questions are "
            "sarcastic more often, and the candidate reads words, not tone'",
        )
        ss[NAME], ss[NOTE] = name, note
        role, refused = rb.guardrail_box(rule, df)
        # the half-built slice survives a refresh (the workspace's drafts file; written when it changed)
        state.keep_draft(
            "slice",
            {
                "tree": rb.draft(),
                "name": name,
                "note": note,
                "editing": editing,
                "text": ss.get("sl_text_w"),
                "synced": ss.get(SYNCED),
                "guardrail": bool(ss.get(rb.GUARDRAIL_BOX)),
            },
        )
        label = f"Save changes to '{editing}'" if editing else "Save as a new slice"
        if st.button(label, key="sl_save", type="primary", width="stretch"):
            try:
                if rule is None:
                    raise RuleError("the rule is not finished or has problems (see above); fix it before saving")
                if not note.strip():
                    raise RuleError("write the hypothesis this slice tests: why might the candidate differ here?")
                if refused:
                    raise RuleError(refused)
                item = Slice(check_name(name.strip()), rule, note.strip(), role)
                updated = saved_into(state.slices(), editing, item)
            except RuleError as exc:
                error(exc)
            else:
                state.set_slices(updated)
                engine.prefetch_analysis(ws, comp, state.slices())  # Compare's tables, while this page reruns
                ss[EDITING] = item.name
                rb.set_later(PICK, item.name)  # the selector shows the slice just saved (set at the next run's top)
                ss[FLASH] = f"Saved slice '{item.name}' ({n:,} rows, {units.pct(n / max(len(df), 1))} of the data)."
                st.rerun()


# --- custom features -------------------------------------------------------------------------------


def used_by(column: str, slice_set: SliceSet) -> list[str]:
    return [s.name for s in slice_set if any(c.col == column for c in conditions(s.rule))]


with tab_features:
    st.subheader("Custom features")
    st.caption(
        "A keyword list or a regular expression becomes a yes/no column of the table, ready for rules "
        "(under metadata in the column picker)."
    )
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 1.4, 1], vertical_alignment="bottom")
        f_name = c1.text_input("Feature name", key="cf_name", placeholder="e.g. has_slang")
        f_kind = c2.radio(
            "Kind",
            ["keywords", "regex"],
            key="cf_kind",
            horizontal=True,
            format_func={"keywords": "keyword list", "regex": "regular expression"}.get,
        )
        f_case = c3.checkbox("Case-sensitive", key="cf_case")
        f_pattern = st.text_area(
            "Keywords (comma or new line separated)" if f_kind == "keywords" else "Regular expression",
            key="cf_pattern",
            height=68,
            placeholder="lol, lmao, smh" if f_kind == "keywords" else r"\b(?:lol|lmao)+\b",
        )
        d1, d2 = st.columns(2)
        f_desc = d1.text_input("Description", key="cf_description", placeholder="What it detects")
        f_hyp = d2.text_input("Hypothesis", key="cf_hypothesis", placeholder="Why it might matter")
        if st.button("Add feature", key="cf_add", type="primary"):
            try:
                feature = CustomFeature(f_name.strip(), f_kind, f_pattern, f_desc.strip(), f_hyp.strip(), f_case)
                if any(raw.get("name") == feature.name for raw in ws.custom_features):
                    raise FeatureError(
                        f"custom feature name {feature.name!r} exists already; delete it first or choose another name"
                    )
                if feature.name in df.columns:
                    raise FeatureError(
                        f"custom feature name {feature.name!r} is already a column of the table; choose another name"
                    )
            except FeatureError as exc:
                error(exc)
            else:
                ws.custom_features.append(feature.to_dict())
                state.save()
                for key, value in (("cf_name", ""), ("cf_pattern", ""), ("cf_description", ""), ("cf_hypothesis", "")):
                    rb.set_later(key, value)
                ss[FLASH] = f"Added feature '{feature.name}': it is now a column you can use in rules."
                st.rerun()

    features = engine.custom_features(ws) if ws.custom_features else []
    if features:
        st.markdown(f"**Your features ({len(features)})**")
    for feature in features:
        with st.container(border=True):
            row = st.columns([5, 1], vertical_alignment="center")
            shown = ", ".join(feature.pattern) if isinstance(feature.pattern, tuple) else feature.pattern
            count = int(df[feature.name].sum()) if feature.name in df.columns else 0
            notes = " · ".join(t for t in (feature.description, feature.hypothesis) if t)
            row[0].markdown(
                md(
                    f"**{feature.name}** · {feature.kind}: {code(shown)} · {units.count(count, 'row')} "
                    f"({units.pct(count / max(len(df), 1))})" + (f"  \n{lit(notes)}" if notes else "")
                )
            )
            if row[1].button("Delete", icon=":material/delete:", key=f"cf_del_{feature.name}", width="stretch"):
                users = used_by(feature.name, slices)
                if users:
                    error(f"feature '{feature.name}' is used by slice(s) {', '.join(users)}; edit or delete them first")
                else:
                    ws.custom_features = [f for f in ws.custom_features if f.get("name") != feature.name]
                    state.save()
                    ss[FLASH] = f"Deleted feature '{feature.name}'."
                    st.rerun()

    builtins = list_generation_features() if GENERATION else list_features()
    with st.expander(f"Built-in features ({len(builtins)})", expanded=GENERATION):
        st.dataframe(
            pd.DataFrame(
                [
                    {"name": f.name, "kind": f.kind, "description": f.description, "hypothesis": f.hypothesis}
                    for f in builtins
                ]
            ),
            hide_index=True,
            width="stretch",
            key="cf_builtins",
        )
        if GENERATION:
            st.caption(
                "Generation features read the question, the passage or the gold answers; `verbose` is per model "
                "(`baseline_verbose`, `candidate_verbose`) and each score's per-row change is `f1_delta` / "
                "`rouge_l_delta` (under model in the column picker). A custom feature reads the prompt."
            )


# --- import / export -------------------------------------------------------------------------------


def read_upload(upload) -> SliceSet:
    """The slice set in an uploaded file, read by `load_slices`; messages name the upload, not a temp path."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(upload.name).name or "slices.json")
        path.write_bytes(upload.getvalue())
        try:
            return load_slices(path)
        except RuleError as exc:
            raise RuleError(str(exc).replace(str(path), f"'{upload.name}'"), position=exc.position) from exc


def merged(current: SliceSet, incoming: SliceSet) -> SliceSet:
    """`current` with `incoming` added; a slice of the same name is replaced by the imported one."""
    kept = tuple(incoming[s.name] if s.name in incoming else s for s in current)
    return SliceSet(kept + tuple(s for s in incoming if s.name not in current))


with tab_io:
    st.subheader("Import / export")
    payload = json.dumps({"version": SLICES_VERSION, "slices": slices.to_json()}, indent=2, ensure_ascii=False)
    st.download_button(
        f"Download the slice set ({len(slices)} slices, JSON)",
        payload,
        file_name="slices.json",
        mime="application/json",
        key="io_export",
        icon=":material/download:",
    )
    upload = st.file_uploader("Import a slice set (JSON, as downloaded here)", type=["json"], key="io_file")
    mode = st.radio(
        "On import",
        ["merge", "replace"],
        key="io_mode",
        horizontal=True,
        format_func={"merge": "merge (same name: imported wins)", "replace": "replace all slices"}.get,
    )
    if st.button("Import", key="io_import", disabled=upload is None):
        try:
            incoming = read_upload(upload)
            warnings = validate_slices(incoming, schema)
        except RuleError as exc:
            error(exc)
        else:
            state.set_slices(incoming if mode == "replace" else merged(slices, incoming))
            ss[FLASH] = f"Imported {len(incoming)} slice(s) ({mode})." + "".join(f"\n- {w}" for w in warnings)
            st.rerun()


# --- discovery -------------------------------------------------------------------------------------

with tab_discover:
    if GENERATION:
        st.info(
            "On generation data, discovery searches where **exact match** is lost more often than on the rest of "
            "the rows (it needs a right / wrong outcome per row); F1 and ROUGE-L are compared on Compare for the "
            "slices you save.",
            icon="ℹ️",
        )
    discover_view.render(comp, float(ws.alpha), FLASH)
