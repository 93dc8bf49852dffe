"""Stress tests: probe the targeted slice with typed, pasted, uploaded or LLM-written cases, score
them live with two models, and run CheckList-style perturbation tests.

What the user builds (hypothesis, target slice, cases, stress models, thresholds, perturbation and
LLM settings) lives in `ws.stress` / `ws.llm` and is saved on every change. Results are derived:
they stay in the session (`RESULT`, `PERTURB`), where the Report & W&B page picks them up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from evalcore.analyze.tables import ROLES, conf_col, pred_col, role_col, score_col
from evalcore.core import units
from evalcore.core.errors import DataError, EvalcoreError
from evalcore.predict.models import ModelSpec, display_name
from evalcore.present.charts import perturbation_bars
from evalcore.present.report import perturb_summary_table, stress_summary_table
from evalcore.probe.llm import build_prompt, generate_cases, parse_reply
from evalcore.probe.perturb import GENERATOR_NAMES, default_generators, examples_html
from evalcore.probe.stress import CASE_FILE_SUFFIXES, StressCase, StressSet, parse_case_bytes, parse_cases
from evalcore.serve.workspace import LIMITS
from ui import engine, explain_view, generation_view, saved_runs, state
from ui.glossary import gloss
from ui.widgets import code, error, esc, md, shown_errors

# Results for the Report & W&B page: {"key", "models", "result": StressResult, "set": StressSet, "data_key"}
RESULT = state.STRESS_RESULT
PERTURB = state.PERTURB_RESULT  # {"result": PerturbResult, "source": str, "models": [names], "data_key"}
FLASH = "stress_flash"
EDITOR_VERSION = "stress_editor_v"
UPLOAD_VERSION = "stress_upload_v"
NO_LABEL = "(no label)"
NO_SLICE = "(none)"
OTHER = "other…"
FALLBACK_MODELS = ("vader", "demo")
LIVE_HELP = "`vader`, `vader:<threshold>`, `demo`, or `hf:<hub id or local dir>[@revision][#LABEL_0=negative,...]`"
SOURCES = {"slice": "Rows of the targeted slice (all rows without one)", "cases": "The cases in the list"}
GENERATOR_HELP = {g.name: f"{g.expectation.kind}: {g.description}" for g in default_generators()}

state.require_app(__file__)
ws = state.workspace()
st.title("Stress tests")

with shown_errors():
    data = engine.get_data(ws.data)
    dkey = engine.data_key(ws.data)
if data.task == "generation":  # typed prompts answered live by two generation models (ui/generation_view.py)
    generation_view.live_answers_section(ws, data)
    st.stop()
st.caption(
    "Probe a weak slice with your own cases, score them with two live models, and check how the "
    "models react to small edits of the data's own texts. Everything here is saved as you go."
)
labels = [str(lab) for lab in data.labels]
slice_set = state.slices()
slice_names = [s.name for s in slice_set]


# --- saved state ------------------------------------------------------------------------------------


def _init(key: str, value: Any) -> None:
    """Seed a widget from the saved workspace (widget keys vanish when the user leaves the page)."""
    if key not in st.session_state:
        st.session_state[key] = value


def _flash(kind: str, text: str, area: str = "cases") -> None:
    """A message for the next run, shown next to the widgets it is about (`area`)."""
    st.session_state[f"{FLASH}_{area}"] = (kind, text)


def _show_flash(area: str = "cases") -> None:
    kind, text = st.session_state.pop(f"{FLASH}_{area}", (None, ""))
    if kind == "error":
        error(text)
    elif kind == "success":
        st.success(esc(text, breaks=True), icon="✅")


def _current() -> StressSet:
    """The saved stress set; labels are matched to the data's when they still fit."""
    try:
        return StressSet.from_dict(ws.stress, labels)
    except EvalcoreError:
        try:
            return StressSet.from_dict(ws.stress)
        except EvalcoreError:
            return StressSet()


def _save_set(new: StressSet) -> None:
    ws.stress.update(new.to_dict())
    state.save()
    st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1


def _add(new: list[StressCase], what: str) -> bool:
    """Append cases (a text already in the list is skipped) and say what happened."""
    current = _current()
    seen = {c.text for c in current.cases}
    fresh = []
    for case in new:
        if case.text not in seen:
            fresh.append(case)
            seen.add(case.text)
    if not new:
        _flash("error", f"No cases found in {what}: write one case per line.")
        return False
    _save_set(replace(current, cases=[*current.cases, *fresh]))
    skipped = len(new) - len(fresh)
    _flash(
        "success",
        f"Added {len(fresh)} case(s) from {what}"
        + (f"; {skipped} already in the list were skipped." if skipped else "."),
    )
    return True


def _keep(field: str, key: str, target: dict | None = None) -> None:
    """on_change: copy a widget's value into the workspace and save it. A key missing here was reset by
    this run's adoption of another session's change of the field: there is no edit of this session to keep."""
    if key not in st.session_state:
        return
    (ws.stress if target is None else target)[field] = st.session_state[key]
    state.save()


def _set_target() -> None:
    pick = st.session_state.get("stress_target")
    if pick is None:  # reset by another session's change of the field: nothing of this session to keep
        return
    ws.stress["target_slice"] = None if pick == NO_SLICE else pick
    state.save()


def _perturb_settings() -> dict[str, Any]:
    return ws.stress.setdefault("perturb", {})


# --- callbacks for the inputs -----------------------------------------------------------------------


def _add_typed() -> None:
    text = st.session_state.get("stress_type_text", "")
    label = st.session_state.get("stress_type_label", NO_LABEL)
    try:
        cases = (
            parse_cases(f"{text.strip()}\t{'' if label == NO_LABEL else label}", labels, source="typed")
            if text.strip()
            else []
        )
    except DataError as exc:
        _flash("error", str(exc))
        return
    if not cases:
        _flash("error", "Write the case's text first.")
        return
    if _add(cases, "the typed case"):
        st.session_state["stress_type_text"] = ""


def _add_pasted() -> None:
    try:
        cases = parse_cases(st.session_state.get("stress_paste", ""), labels, source="pasted")
    except DataError as exc:
        _flash("error", f"Nothing was added: {exc}")
        return
    if _add(cases, "the pasted text"):
        st.session_state["stress_paste"] = ""


def _add_file(key: str) -> None:
    upload = st.session_state.get(key)
    if upload is None:
        _flash("error", "Choose a file first.")
        return
    try:
        cases = parse_case_bytes(upload.getvalue(), upload.name, labels)
    except DataError as exc:
        _flash("error", f"Nothing was added: {exc}")
        return
    if _add(cases, upload.name):
        st.session_state[UPLOAD_VERSION] = st.session_state.get(UPLOAD_VERSION, 0) + 1


def _add_reply() -> None:
    try:
        cases = parse_reply(st.session_state.get("stress_llm_reply", ""), labels)
    except DataError as exc:
        _flash("error", f"Nothing was added from the reply: {exc}")
        return
    if _add(cases, "the LLM reply"):
        st.session_state["stress_llm_reply"] = ""


def _apply_edits(key: str) -> None:
    """Apply the editor's changes (edited, added and deleted rows) to the saved cases.

    The editor then gets a new key, so its deltas never apply twice to the saved list."""
    delta = st.session_state.get(key) or {}
    current = _current()
    rows = [c.to_dict() for c in current.cases]
    for i, change in (delta.get("edited_rows") or {}).items():
        rows[int(i)].update(change)
    deleted = {int(i) for i in delta.get("deleted_rows") or []}
    rows = [r for i, r in enumerate(rows) if i not in deleted]
    rows += [{"text": r.get("text"), "label": r.get("label"), "source": "typed"} for r in delta.get("added_rows") or []]
    kept = []
    for r in rows:
        text = r.get("text")
        if not isinstance(text, str) or not text.strip():
            continue  # an emptied or blank new row: dropped
        label = r.get("label")
        kept.append(
            {
                "text": text.strip(),
                "label": label if isinstance(label, str) and label.strip() else None,
                "source": r.get("source") or "typed",
            }
        )
    try:
        new = StressSet.from_dict({**current.to_dict(), "cases": kept}, labels)
    except DataError as exc:
        _flash("error", f"The edit was not saved: {exc}")
        st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1
        return
    _save_set(new)
    if len(kept) < len(rows):
        _flash("success", f"{len(rows) - len(kept)} row(s) without text were dropped.")


def _clear_cases() -> None:
    _save_set(replace(_current(), cases=[]))
    st.session_state.pop(RESULT, None)
    _flash("success", "All cases were removed; the hypothesis and target slice stay.")


# --- models -----------------------------------------------------------------------------------------


def _is_live(spec: str) -> bool:
    try:
        return ModelSpec.parse(spec).live
    except EvalcoreError:
        return False


def _default_models() -> dict[str, str]:
    """The workspace's models where they are live, else VADER and the demo transformer."""
    picks = {
        role: spec if _is_live(spec) else fallback
        for role, spec, fallback in zip(ROLES, (ws.baseline, ws.candidate), FALLBACK_MODELS)
    }
    if picks["baseline"] == picks["candidate"]:
        picks["candidate"] = next(f for f in FALLBACK_MODELS if f != picks["baseline"])
    return picks


def _models() -> dict[str, str]:
    saved = ws.stress.get("models") or {}
    return {role: saved.get(role) or default for role, default in _default_models().items()}


def _pick_model(role: str) -> None:
    choice = st.session_state.get(f"stress_model_{role}")  # None: reset by another session's change
    if choice is None:
        return
    spec = (st.session_state.get(f"stress_spec_{role}") or "").strip() if choice == OTHER else choice
    if not spec or spec == "hf:":
        return
    try:
        parsed = ModelSpec.parse(spec)
    except EvalcoreError as exc:
        _flash("error", str(exc), "models")
        return
    if not parsed.live:
        _flash(
            "error",
            f"{spec} is a precomputed model: its predictions exist only for the dataset's rows, so it "
            f"cannot score new text; choose a live model: {LIVE_HELP}",
            "models",
        )
        return
    ws.stress["models"] = {**_models(), role: str(parsed)}
    state.save()


_rows_of: dict[str, pd.DataFrame | None] = {}  # per script run, so a failing comparison is reported once


def _slice_rows(name: str | None) -> pd.DataFrame | None:
    """df_eval rows of a slice (None: no slice chosen, the workspace models are not scored yet, or the
    workspace comparison fails, which is then shown once)."""
    if not name or name not in slice_names:
        return None
    if not all(engine.needs_data(s) or engine.predictions_ready(dkey, s) for s in (ws.baseline, ws.candidate)):
        return None
    if name not in _rows_of:
        _rows_of[name] = None
        with shown_errors(stop=False):
            comp, _, res = engine.current_analysis(ws)
            mask = res.masks.get(name)
            _rows_of[name] = None if mask is None else comp.df_eval[np.asarray(mask, dtype=bool)]
    return _rows_of[name]


# --- hypothesis and target slice --------------------------------------------------------------------

current = _current()
try:
    StressSet.from_dict(ws.stress, labels)
except EvalcoreError as exc:
    error(f"The saved cases do not fit this dataset: {exc}. Fix or delete those rows below.")

with st.container(border=True):
    left, right = st.columns([3, 2])
    _init("stress_hypothesis", current.hypothesis)
    left.text_input(
        "Hypothesis",
        key="stress_hypothesis",
        on_change=_keep,
        args=("hypothesis", "stress_hypothesis"),
        max_chars=LIMITS["text"],
        placeholder="e.g. models struggle when negation flips polarity",
    )
    _init("stress_target", current.target_slice if current.target_slice in slice_names else NO_SLICE)
    right.selectbox(
        "Targeted slice",
        [NO_SLICE] + slice_names,
        key="stress_target",
        on_change=_set_target,
        help="The slice the cases probe: the summary compares the cases with its accuracy, and "
        "perturbation tests and LLM prompts draw on its rows.",
    )
    if current.target_slice and current.target_slice not in slice_names:
        st.warning(esc(f"The saved target slice {current.target_slice!r} no longer exists; pick another one."))
target = None if st.session_state["stress_target"] == NO_SLICE else st.session_state["stress_target"]

# --- cases in ---------------------------------------------------------------------------------------

st.subheader("Cases")
drafted = state.draft("stress") or {}  # cases pasted but not added yet survive a refresh (the drafts file)
_init("stress_paste", drafted.get("paste") if isinstance(drafted.get("paste"), str) else "")
_init("stress_llm_reply", drafted.get("reply") if isinstance(drafted.get("reply"), str) else "")
tab_type, tab_paste, tab_file, tab_llm = st.tabs(["Type one", "Paste many", "Upload a file", "Write with an LLM"])
with tab_type:
    with st.form("stress_type_form", border=False):
        c1, c2 = st.columns([4, 1])
        c1.text_input("Case text", key="stress_type_text", placeholder="I don't love this phone at all")
        c2.selectbox("Expected label", [NO_LABEL] + labels, key="stress_type_label")
        st.form_submit_button("Add", on_click=_add_typed)
with tab_paste:
    st.text_area(
        "One case per line: `text`, `text<TAB>label`, or CSV with a `text,label` header",
        key="stress_paste",
        height=160,
        placeholder="not bad at all\tpositive\nI can't stand mondays\tnegative",
    )
    st.button("Add pasted", key="stress_add_pasted", on_click=_add_pasted)
with tab_file:
    upload_key = f"stress_upload_{st.session_state.get(UPLOAD_VERSION, 0)}"
    st.file_uploader(
        "A .txt / .tsv (one case per line, optional TAB label), .csv (`text[,label]` header) "
        'or .jsonl (`{"text": ..., "label": ...}`) file',
        type=[s.lstrip(".") for s in CASE_FILE_SUFFIXES],
        key=upload_key,
    )
    st.button("Add from file", key="stress_add_file", on_click=_add_file, args=(upload_key,))
with tab_llm:
    endpoints, problems = engine.llm_endpoints()
    for problem in problems:
        st.warning(f"The server's LLM configuration has a problem: {problem}", icon="⚠️")
    names = list(endpoints)
    saved_name = ws.llm.get("endpoint")
    _init("stress_llm_endpoint", saved_name if saved_name in names else (names[0] if names else None))
    _init("stress_llm_n", int(ws.stress.get("llm_n", 10)))
    c1, c4 = st.columns([5, 1])
    if names:
        c1.selectbox(
            "Endpoint (configured by the server's operator)",
            names,
            key="stress_llm_endpoint",
            on_change=_keep,
            args=("endpoint", "stress_llm_endpoint", ws.llm),
            format_func=lambda n: f"{n} · {endpoints[n].model} at {endpoints[n].display_url}",
        )
    c4.number_input("N", 1, 200, key="stress_llm_n", on_change=_keep, args=("llm_n", "stress_llm_n"))
    n_cases = int(st.session_state["stress_llm_n"])
    rows = _slice_rows(target)
    pool = rows if rows is not None else data.df
    examples = pool["text"].sample(n=min(12, len(pool)), random_state=0).tolist() if len(pool) else []
    prompt = None
    with shown_errors(stop=False):
        prompt = build_prompt(target or "", st.session_state.get("stress_hypothesis", ""), examples, n_cases, labels)
    chosen = endpoints.get(st.session_state.get("stress_llm_endpoint") or "")
    endpoint = chosen is not None
    if chosen is not None:
        st.caption(
            f"API key: `${chosen.api_key_env}` is {'set on the server (value hidden)' if chosen.key_is_set() else 'not set on the server'}."
            if chosen.api_key_env
            else "API key: none (a local server)."
        )
        if st.button(f"Generate {n_cases} cases", key="stress_llm_generate", type="primary", disabled=prompt is None):
            with shown_errors(stop=False), st.spinner("Asking the LLM…"):
                if _add(generate_cases(chosen, prompt, labels), f"{chosen.model} at {chosen.display_url}"):
                    st.rerun()
    else:
        st.info(
            "No LLM endpoint is configured on this server: copy this prompt into any chat tool, then paste the "
            "reply below. (The operator configures endpoints in `.streamlit/secrets.toml` or "
            "`$EVALCORE_LLM_ENDPOINTS`; see the README.)"
        )
    if prompt is not None:
        with st.expander("Prompt", expanded=not endpoint):
            st.code(prompt, language=None, wrap_lines=True)
            if rows is None and target:
                st.caption(
                    "The slice's rows are not available yet (score the workspace models first): the examples "
                    "come from the whole dataset."
                )
    st.text_area("Paste the reply here (one `text<TAB>label` per line)", key="stress_llm_reply", height=120)
    st.button("Add cases from the reply", key="stress_add_reply", on_click=_add_reply)
_show_flash()
_typed = {"paste": st.session_state.get("stress_paste") or "", "reply": st.session_state.get("stress_llm_reply") or ""}
state.keep_draft("stress", _typed if any(_typed.values()) else None)

current = _current()
cases = current.cases
editor_key = f"stress_editor_{st.session_state.get(EDITOR_VERSION, 0)}"
table = pd.DataFrame(
    {
        "text": pd.array([c.text for c in cases], dtype="string"),
        "label": pd.array([c.label for c in cases], dtype="string"),
        "source": pd.array([c.source for c in cases], dtype="string"),
    }
)
st.caption(
    f"**{len(cases)} case(s)** · {sum(c.label is not None for c in cases)} with an expected label. "
    "Edit cells in place; select rows and press the bin to delete them; add a row at the bottom."
)
st.data_editor(
    table,
    key=editor_key,
    on_change=_apply_edits,
    args=(editor_key,),
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    disabled=["source"],
    column_config={
        "text": st.column_config.TextColumn("text", width="large", required=True),
        "label": st.column_config.SelectboxColumn("expected label", options=labels),
        "source": st.column_config.TextColumn("source", width="small"),
    },
)
c1, c2, _ = st.columns([1, 1, 3])
c1.download_button(
    "Download cases (CSV)",
    table[["text", "label"]].to_csv(index=False),
    "stress_cases.csv",
    "text/csv",
    key="stress_download_cases",
    disabled=not cases,
    on_click="ignore",
)
with c2.popover("Remove all cases", disabled=not cases):
    st.button(f"Yes, remove all {len(cases)} case(s)", key="stress_clear", on_click=_clear_cases, type="primary")

# --- live scoring -----------------------------------------------------------------------------------

st.subheader("Live scoring")
dead = [spec for spec in (ws.baseline, ws.candidate) if not _is_live(spec)]
if dead:
    what = "is a precomputed model" if len(dead) == 1 else "are precomputed models"
    st.info(
        md(
            f"{' and '.join(code(display_name(d)) for d in dead)} {what}"
            ": their predictions exist only for the dataset's own rows, so they cannot score new text. Pick live "
            f"models for the stress cases here ({LIVE_HELP}); the choice is saved with the cases."
        ),
        icon="ℹ️",
    )
models = _models()
presets = list(dict.fromkeys([*(s for s in (ws.baseline, ws.candidate) if _is_live(s)), *FALLBACK_MODELS]))
c_base, c_cand, c_thr = st.columns([2, 2, 2])
for col, role in ((c_base, "baseline"), (c_cand, "candidate")):
    with col:
        options = list(dict.fromkeys([*presets, models[role]])) + [OTHER]
        _init(f"stress_model_{role}", models[role])
        st.selectbox(
            f"{role.capitalize()} for stress cases",
            options,
            key=f"stress_model_{role}",
            on_change=_pick_model,
            args=(role,),
        )
        if st.session_state[f"stress_model_{role}"] == OTHER:
            _init(f"stress_spec_{role}", "hf:")
            st.text_input(
                f"{role.capitalize()} spec",
                key=f"stress_spec_{role}",
                on_change=_pick_model,
                args=(role,),
                help=LIVE_HELP,
            )
with c_thr:
    _init("stress_conf", float(ws.stress.get("conf_threshold", ws.conf_threshold)))
    st.slider(
        "High confidence: wrong with confidence ≥",
        0.5,
        1.0,
        step=0.01,
        key="stress_conf",
        on_change=_keep,
        args=("conf_threshold", "stress_conf"),
    )
_show_flash("models")
models = _models()
threshold = float(st.session_state["stress_conf"])
demo_notice = st.empty()  # cleared when scoring starts, which builds the demo with its own bar
if "demo" in models.values() and not engine.demo_built():
    demo_notice.warning(
        "The demo transformer is not built yet: the first scoring trains its top layer offline on "
        "the TweetEval validation split (under a minute on a quiet 2-core machine)."
    )
if models["baseline"] == models["candidate"]:
    st.error("Baseline and candidate are the same model: choose two different live models.", icon="⚠️")

score_key = saved_runs.score_key(cases, models, threshold, target, dkey)
previous = st.session_state.get(RESULT)
clicked = st.button(
    esc(f"Score {len(cases)} case(s) with {display_name(models['baseline'])} and {display_name(models['candidate'])}"),
    key="stress_score",
    type="primary",
    disabled=not cases,
)
# Once scored in this session, edits re-score at once (same models: loaded, and the cache has the rest).
auto = previous is not None and previous["key"] != score_key and previous["models"] == models and cases
# A refreshed browser gets its last scoring back by itself, from the prediction cache (same data and models).
record = saved_runs.stress_record(dkey)
restore = bool(record and record["models"] == models and cases and not clicked)
if clicked or auto or restore:
    demo_notice.empty()
    with shown_errors(stop=False):
        previous = saved_runs.score_cases(data, dkey, current, models, threshold, target, _slice_rows(target))
        if restore:
            saved_runs.mark_restored("stress")

if previous is not None and cases:
    result = previous["result"]
    if previous["key"] != score_key:
        st.caption("The cases or settings changed since this scoring: score again to update it.")
    if saved_runs.restored("stress"):
        st.caption("Your last scoring, restored from the prediction cache after the page was reloaded.")
    summary = result.stress_summary.set_index("role")
    names = summary["model"].to_dict()
    cols = st.columns(4)
    for col, role in zip(cols, ROLES):
        row = summary.loc[role]
        vs = row.get("accuracy_vs_slice", np.nan)
        known = int(row["n_labelled"])
        col.metric(
            esc(f"{role.capitalize()} · {row['model']}: accuracy"),
            units.pct(row["accuracy"]) if known else "unknown",
            delta=None if vs != vs else f"{vs * 100:+.1f} pts vs slice",
            help=f"on {known} labelled case(s)"
            + ("" if vs != vs else f"; the targeted slice: {units.pct(row['slice_accuracy'])}"),
        )
        col.caption(
            f"{units.pct_ci(row['accuracy'], row['accuracy_lo'], row['accuracy_hi'])}, "
            f"{int(row['n_correct'])} of {known} labelled"
            if known
            else "no labelled case"
        )
    first = summary.iloc[0]
    cols[2].metric(
        "Disagreement rate",
        units.pct(first["disagreement_rate"]),
        help="Share of cases where the two models predict different labels (labelled or not)",
    )
    cols[2].caption(
        f"{units.pct_ci(first['disagreement_rate'], first['disagreement_lo'], first['disagreement_hi'])}, "
        f"{int(first['n_disagree'])} of {int(first['n'])}"
    )

    def _high(role: str) -> str:
        value = summary.loc[role, "high_conf_wrong"]
        return "n/a" if value != value else str(int(value))  # a lexicon share is no confidence

    cols[3].metric(
        f"High-confidence wrong (≥ {result.conf_threshold:.2f})",
        " / ".join(_high(r) for r in ROLES),
        help=esc(
            f"Wrong with confidence at or above the threshold: {names['baseline']} / "
            f"{names['candidate']}; n/a for a model whose score is not a probability (VADER's lexicon "
            "share)"
        ),
    )
    cols[3].caption(
        esc(
            f"{names['baseline']} / {names['candidate']}, out of "
            f"{int(summary.loc['baseline', 'n_wrong'])} / {int(summary.loc['candidate', 'n_wrong'])} wrong"
        )
    )
    if target and "slice_accuracy" not in summary.columns:
        st.caption(
            esc(
                f"The accuracy on slice {target} is not available: the workspace models must be scored "
                "(Data & models page) and comparable (Compare page)."
            )
        )
    table = stress_summary_table(result.stress_summary)
    st.dataframe(
        pd.DataFrame(table.rows, columns=table.headers), hide_index=True, width="stretch", key="stress_summary_table"
    )
    wide = result.stress_wide

    def _score(name: str) -> str:
        """The model's confidence column, or its labelled non-probability score (VADER's lexicon share)."""
        return score_col(name) if score_col(name) in wide.columns else conf_col(name)

    shown = [
        "text",
        "label",
        pred_col(names["baseline"]),
        _score(names["baseline"]),
        pred_col(names["candidate"]),
        _score(names["candidate"]),
        "agree",
        role_col("baseline", "correct"),
        role_col("candidate", "correct"),
    ]

    def _conf(name: str):
        label = f"{name} lexicon share" if score_col(name) in wide.columns else f"{name} conf"
        return st.column_config.ProgressColumn(
            label,
            min_value=0.0,
            max_value=1.0,
            format="%.2f",
            width="small",
            help="VADER's share of the text read with the predicted polarity: not a probability"
            if "lexicon" in label
            else None,
        )

    st.dataframe(
        wide[shown],
        hide_index=True,
        width="stretch",
        key="stress_wide_table",
        column_config={
            "text": st.column_config.TextColumn("text", width="medium"),
            "label": st.column_config.TextColumn("expected", width="small"),
            pred_col(names["baseline"]): st.column_config.TextColumn(f"{names['baseline']} (baseline)", width="small"),
            _score(names["baseline"]): _conf(names["baseline"]),
            pred_col(names["candidate"]): st.column_config.TextColumn(
                f"{names['candidate']} (candidate)", width="small"
            ),
            _score(names["candidate"]): _conf(names["candidate"]),
            "agree": st.column_config.CheckboxColumn("agree", width="small"),
            role_col("baseline", "correct"): st.column_config.CheckboxColumn("baseline ✓", width="small"),
            role_col("candidate", "correct"): st.column_config.CheckboxColumn("candidate ✓", width="small"),
        },
    )
    st.download_button(
        "Download stress_long (CSV)",
        lambda: result.stress_long.to_csv(index=False),
        "stress_long.csv",
        "text/csv",
        key="stress_download_long",
        on_click="ignore",
        help="One row per case and model, the table the W&B run gets",
    )
    # --- token explanations of a scored case (issue 14; ui/explain_view.py) ---
    explain_view.case_explanations(data, dkey, previous["models"], names, wide)

# --- perturbation tests -----------------------------------------------------------------------------

st.subheader("Perturbation tests")
st.caption(
    gloss(
        "CheckList-style small edits of the data's texts. **INV** (invariance): the prediction must not "
        "change. **DIR** (direction): adding or removing a negation must move a clearly polar prediction; the "
        "negation is edited only where the grammar is known (after *is*, *can*, *will*…, or *don't* before a "
        "known verb), other texts are skipped and counted, and the check applies only where the edited "
        "clause carries the text's sentiment. Failure rates carry Wilson 95% intervals."
    ),
    unsafe_allow_html=True,
)
pt = _perturb_settings()
_init("stress_pt_generators", [g for g in pt.get("generators", list(GENERATOR_NAMES)) if g in GENERATOR_NAMES])
_init("stress_pt_source", pt.get("source", "slice"))
_init("stress_pt_clear", float(pt.get("clear_conf", 0.8)))
_init("stress_pt_high", float(pt.get("high_conf", 0.8)))
_init("stress_pt_max", int(pt.get("max_cases", 50)))
st.multiselect(
    "Generators",
    list(GENERATOR_NAMES),
    key="stress_pt_generators",
    on_change=_keep,
    args=("generators", "stress_pt_generators", pt),
    format_func=lambda g: g.replace("_", " "),
    help="\n".join(f"- **{k}** {v}" for k, v in GENERATOR_HELP.items()),
)
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
c1.radio(
    "Texts to perturb",
    list(SOURCES),
    format_func=SOURCES.get,
    key="stress_pt_source",
    on_change=_keep,
    args=("source", "stress_pt_source", pt),
)
c2.slider(
    "DIR: clearly polar when conf ≥",
    0.5,
    1.0,
    step=0.01,
    key="stress_pt_clear",
    on_change=_keep,
    args=("clear_conf", "stress_pt_clear", pt),
)
c3.slider(
    "DIR: fails when still polar with conf ≥",
    0.5,
    1.0,
    step=0.01,
    key="stress_pt_high",
    on_change=_keep,
    args=("high_conf", "stress_pt_high", pt),
)
c4.number_input(
    "Max cases per generator",
    1,
    1000,
    step=10,
    key="stress_pt_max",
    on_change=_keep,
    args=("max_cases", "stress_pt_max", pt),
)
gen_names = list(st.session_state["stress_pt_generators"])
source = st.session_state["stress_pt_source"]
clicked = st.button(
    esc(f"Run perturbation tests with {display_name(models['baseline'])} and {display_name(models['candidate'])}"),
    key="stress_pt_run",
    disabled=not gen_names,
)
record = saved_runs.perturb_record(dkey)  # a refreshed browser reruns its last tests from the prediction cache
restore = bool(record and record["models"] == models and not clicked)
if clicked or restore:
    with shown_errors(stop=False):
        settings = {
            "generators": gen_names,
            "clear_conf": float(st.session_state["stress_pt_clear"]),
            "high_conf": float(st.session_state["stress_pt_high"]),
            "max_cases": int(st.session_state["stress_pt_max"]),
            "source": source,
            "target": target,
        }
        if restore:
            settings = {**settings, **{k: record[k] for k in settings if k in record}}
        texts, origin = saved_runs.perturb_texts(
            settings["source"], cases, settings["target"], _slice_rows(settings["target"]), data
        )
        saved_runs.run_perturbations(data, dkey, models, settings, texts, origin)
        if restore:
            saved_runs.mark_restored("perturb")

perturbed = st.session_state.get(PERTURB)
if perturbed is not None:
    pres = perturbed["result"]
    summary = pres.summary
    st.caption(
        esc(
            f"Perturbed {perturbed['source']}: "
            f"{units.count(len(pres.cases) // max(summary['model'].nunique(), 1), 'edited text')} per model."
        )
        + (" Restored from the prediction cache after the page was reloaded." if saved_runs.restored("perturb") else "")
    )
    order = perturbed["models"]
    st.plotly_chart(perturbation_bars(summary, perturbed["models"]), width="stretch", key="stress_pt_chart")
    table = perturb_summary_table(summary)
    st.dataframe(
        pd.DataFrame(table.rows, columns=table.headers),
        hide_index=True,
        width="stretch",
        key="stress_pt_summary",
        height=min(35 * (len(summary) + 1) + 3, 800),
    )
    st.caption(
        "*skipped*: texts the test could not edit (the reasons are in the last column), never counted as "
        "passes. A DIR check applies only where the edit changes the text's sentiment and the original "
        "prediction is clearly polar; 'not applicable' means no edited text was (it is not a 0% failure rate)."
    )
    st.markdown(
        "**Examples of each test**: what the edit did (struck through: removed; marked: written) and what "
        "each model said before → after."
    )
    tests_run = list(dict.fromkeys(summary["generator"]))
    pick = st.selectbox("Test", tests_run, key="stress_pt_show", format_func=lambda g: g.replace("_", " "))
    shown_cases = pres.shown_examples(pick, n=6)
    if shown_cases.empty:
        st.caption(f"{pick.replace('_', ' ')} made no edit of these texts.")
    else:
        st.markdown(f'<div class="ec-edits">{examples_html(shown_cases)}</div>', unsafe_allow_html=True)
    st.download_button(
        "Download every perturbed case (CSV)",
        lambda: pres.cases.to_csv(index=False),
        "perturb_cases.csv",
        "text/csv",
        key="stress_pt_download",
        on_click="ignore",
    )
    n_failed = int((pres.cases["status"] == "fail").sum())
    shown = (
        f"all {n_failed}"
        if len(pres.examples) == n_failed
        else f"{len(pres.examples)} of {n_failed}: the first few of each test and model; every case is in the download"
    )
    with st.expander(f"Examples of failures ({shown})", expanded=False):
        if pres.examples.empty:
            st.caption("No failures.")
        else:
            st.dataframe(
                pres.examples[
                    ["generator", "model", "original", "perturbed", "orig_pred", "orig_conf", "pert_pred", "pert_conf"]
                ],
                hide_index=True,
                width="stretch",
                key="stress_pt_examples",
                column_config={
                    "original": st.column_config.TextColumn("original", width="medium"),
                    "perturbed": st.column_config.TextColumn("perturbed", width="medium"),
                    "orig_conf": st.column_config.NumberColumn("orig conf", format="%.2f"),
                    "pert_conf": st.column_config.NumberColumn("pert conf", format="%.2f"),
                },
            )
