"""Token explanations drawn the same way on every page: highlighted text for the baseline and the
candidate side by side (`explanation_pair`, on Examples and Stress tests), and a slice's explanations in
aggregate (`aggregate_view`, on Examples).

The explanations themselves come from `evalcore.probe.explain` through `ui.engine` (memoised, one torch
thread); this module only draws them. Colours: green pushes toward the label named above the text,
red away from it (`evalcore.probe.explain.highlight_html`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from evalcore.analyze.tables import ROLES
from evalcore.core import units
from evalcore.core.errors import EvalcoreError
from evalcore.probe.explain import AWAY, LEXICON, TOWARD, UNITS, Explanation, highlight_html
from ui import engine
from ui.glossary import gloss
from ui.widgets import code, error, esc, lit, md

BOX = '<div style="line-height:1.9;padding:6px 10px;border:1px solid rgba(128,128,128,.35);border-radius:6px">{}</div>'


@dataclass(frozen=True)
class Side:
    """One model to explain: its spec (how to load it), the name the tables use, and the label it was
    recorded predicting on this text (None when there is no record, e.g. a fresh stress case)."""

    role: str
    spec: str
    name: str
    recorded: str | None = None


def _swatch(rgb: tuple[int, int, int], text: str) -> str:
    r, g, b = rgb
    return f'<span style="background:rgba({r},{g},{b},.6);border-radius:3px;padding:0 4px">{text}</span>'


def legend() -> None:
    """What the colours and scores mean (drawn once above the explanations)."""
    st.markdown(
        f"{_swatch(TOWARD, 'green')} pushes the model **toward** the label named above the text · "
        f"{_swatch(AWAY, 'red')} pushes it **away** · the stronger the colour, the larger the word's score "
        "against the largest in that text; hover a word for its score.",
        unsafe_allow_html=True,
    )
    st.caption(
        "VADER: each word's valence after its negation, booster, ALL-CAPS and 'but' rules (exact: the scores "
        "add up to VADER's total; a negator's effect sits on the word it flips; VADER says neutral when the "
        "total is too small to pass its threshold, so a neutral text can show weak pushes away from neutral). "
        "Other live models: "
        "occlusion, the drop in the model's probability of the label when the word is deleted (leave one "
        "out: a word that matters only together with another can score 0). Attention weights are not shown: "
        "they say where a layer looked, not what changed the output."
    )


def top_line(expl: Explanation, k: int = 3) -> str:
    """The strongest tokens each way, in the explanation's unit: readable without hovering."""

    def fmt(tokens) -> str:
        return ", ".join(f"{t.token} ({t.score:+.2f})" for t in tokens) or "none"

    line = f"toward: {fmt(expl.top(k))} · away: {fmt(expl.top(k, toward=False))}"
    if expl.unattributed:
        line += f" · punctuation emphasis (no word): {expl.unattributed:+.2f}"
    return line


def highlighted(expl: Explanation, heading: str) -> None:
    """One explanation: a heading naming the label, the highlighted text, its evidence and top tokens."""
    st.markdown(md(f"{heading} **{lit(expl.label)}**"))
    st.markdown(BOX.format(highlight_html(expl)), unsafe_allow_html=True)
    method = "lexicon" if expl.method == LEXICON else "occlusion"
    st.caption(esc(f"{method} · whole text {expl.value:+.3f} ({UNITS[expl.unit]}: {expl.label}) · {top_line(expl)}"))


def _one_side(side: Side, data, dkey: str, text: str, gold: str | None) -> None:
    st.markdown(md(f"**{lit(side.name)}** ({side.role})"))
    try:
        reason = engine.explainable(side.spec, data, dkey)
        if reason:
            st.info(esc(f"Not explainable: {reason}."), icon="ℹ️")
            return
        with st.spinner(f"Explaining {side.name}…"):
            own = engine.get_explanation(side.spec, data, dkey, text)
            toward_gold = (
                engine.get_explanation(side.spec, data, dkey, text, gold)
                if gold is not None and gold != own.predicted
                else None
            )
    except EvalcoreError as exc:
        error(exc)
        return
    if side.recorded is not None and str(side.recorded) != own.predicted:
        st.warning(
            esc(
                f"The live model now predicts {own.predicted}; the table records {side.recorded} (a changed "
                "model or a stale cache?). The explanation is of the live model."
            ),
            icon="⚠️",
        )
    highlighted(own, "Toward its prediction,")
    if toward_gold is not None:
        highlighted(toward_gold, "Toward the gold label,")
    elif gold is not None:
        st.caption(esc(f"Its prediction is the gold label ({gold})."))


def explanation_pair(sides: list[Side], data, dkey: str, text: str, gold: str | None = None) -> None:
    """Both models' explanations of one text side by side: each toward its own prediction and, when it
    differs, toward the gold label. A precomputed model gets the message why it cannot be explained."""
    legend()
    for col, side in zip(st.columns(len(sides), gap="medium"), sides):
        with col:
            _one_side(side, data, dkey, text, gold)


# --- explanations in aggregate ---------------------------------------------------------------------


def aggregate_view(result: Any, key: str) -> None:
    """A slice's explanations in aggregate (`evalcore.probe.explain_aggregate.RegressionExplanations`): what was
    explained, the word classes and tokens that pushed each model to the candidate's wrong label (shares
    with Wilson intervals, the paired gap with Newcombe's), the chart, and a few highlighted rows."""
    from evalcore.present import charts
    from evalcore.present.report import PUSH_HEADERS, push_rows
    from evalcore.probe.explain_aggregate import unit_text

    (st.success if result.available else st.info)(esc(result.message()), icon="🔎" if result.available else "ℹ️")
    if not result.available:
        return
    st.caption(
        md(
            f"Slice rule: {code(result.rule)} · method: {lit(result.method())} · mean scores in each model's "
            f"own unit (candidate: {lit(unit_text(result, 'candidate'))}; baseline: "
            f"{lit(unit_text(result, 'baseline'))}) · {result.seconds:.1f} s"
        )
    )
    groups = push_rows(result.groups, result.n_explained)
    if groups:
        st.markdown("**Word classes** (any of the class's words among a row's top pushes)")
        st.dataframe(
            pd.DataFrame(groups, columns=["class", *PUSH_HEADERS[1:]]),
            hide_index=True,
            width="stretch",
            key=f"{key}_groups",
        )
    tokens = push_rows(result.tokens, result.n_explained)
    if tokens:
        st.markdown("**Tokens**, most frequent push of the candidate first")
        st.dataframe(
            pd.DataFrame(tokens, columns=PUSH_HEADERS),
            hide_index=True,
            width="stretch",
            height=320,
            key=f"{key}_tokens",
        )
        st.plotly_chart(charts.token_push_bars(result), width="stretch", key=f"{key}_chart")
    else:
        st.caption("No token had a positive score toward the candidate's wrong label on these rows.")
    if result.examples:
        with st.expander(
            f"Examples ({len(result.examples)} of the explained rows, toward the candidate's wrong label)"
        ):
            for (base, cand), gold in zip(result.examples, result.rows["label"]):
                st.markdown(md(f"gold **{lit(gold)}** → {lit(result.candidate)} says **{lit(cand.label)}**"))
                for col, expl, role in zip(st.columns(2), (base, cand), ROLES):
                    with col:
                        if expl is None:
                            st.caption(f"{role}: not explained")
                        else:
                            st.markdown(BOX.format(highlight_html(expl)), unsafe_allow_html=True)
                            st.caption(esc(f"{role} {expl.model} toward {expl.label} · {top_line(expl)}"))
    for w in result.warnings:
        st.warning(esc(w), icon="⚠️")


# --- the live pair: one click from precomputed predictions to models that can be explained -------------

LIVE_PAIR = ("vader", "demo")  # VADER (baseline) and the demo transformer (candidate): both run here, offline


def _use_live_pair(ws: Any) -> None:
    from ui import state

    ws.baseline, ws.candidate = LIVE_PAIR
    state.save()


LIVE_ROWS = "ex_live_rows"  # True: the Examples row is explained by the live pair (the workspace pair is kept)


def _needs_live_pair(ws: Any, data: Any) -> bool:
    """A workspace model cannot be explained (precomputed) and the live pair could stand in (sentiment labels)."""
    from evalcore.io.labels import is_sentiment

    dkey = engine.data_key(ws.data)
    if (ws.baseline, ws.candidate) == LIVE_PAIR or not is_sentiment(data.labels):
        return False
    return any(engine.explainable(spec, data, dkey) for spec in (ws.baseline, ws.candidate))


def _build_note() -> str:
    return (
        ""
        if engine.demo_built()
        else " The demo transformer is built on first use: about a minute on a quiet "
        "machine, the bar shows the time left."
    )


def offer_live_pair(ws: Any, data: Any, key: str) -> bool:
    """When a workspace model is precomputed (the lab demo's roberta and gpt2 are columns of the file), its
    predictions cannot be explained: offer, in one click, to make the live pair that can (VADER against the demo
    transformer) the workspace's pair. True when the offer was shown."""
    if not _needs_live_pair(ws, data):
        return False
    with st.container(border=True):
        st.markdown(
            "**Explain with models that run here**: the live pair, VADER (baseline) against the demo "
            "transformer (candidate), can be explained word by word."
        )
        st.button(
            "Compare and explain VADER vs the demo transformer",
            key=key,
            type="primary",
            icon=":material/swap_horiz:",
            on_click=_use_live_pair,
            args=(ws,),
        )
        st.caption(
            "This switches the workspace's two models: Compare, Examples and the report then show this pair "
            "(Data & models switches back)." + _build_note()
        )
    return True


# --- page sections (Examples page) -----------------------------------------------------------------


def row_explanations(ws: Any, comp: Any, row: pd.Series) -> None:
    """The selected row's explanations: both workspace models, toward each one's prediction and toward
    the gold label."""
    from evalcore.analyze.tables import role_col

    st.markdown("**Why each model predicts what it does**")
    names = comp.df_eval.attrs
    sides = [
        Side(role, spec, names.get(role, spec), str(row[role_col(role, "pred")]))
        for role, spec in zip(ROLES, (ws.baseline, ws.candidate))
    ]
    if _needs_live_pair(ws, comp.data):  # precomputed predictions cannot be explained: the live pair, one click
        live = st.toggle(
            "Explain this row with the live pair: VADER and the demo transformer",
            key=LIVE_ROWS,
            help="Precomputed predictions are columns of the file: no model runs, so no "
            "word can be tested. The live pair runs here; the comparison keeps the workspace's "
            "models." + _build_note(),
        )
        if live:
            sides = [Side(role, spec, spec) for role, spec in zip(ROLES, LIVE_PAIR)]
    explanation_pair(sides, comp.data, engine.data_key(ws.data), str(row["text"]), gold=str(row["label"]))


def discovered_slices(comp: Any, slices: Any) -> dict[str, tuple[str, Any]]:
    """This session's confirmed discovered slices that are not saved (name -> (rule text, mask)), so a found
    slice can be explained before it is saved."""
    from evalcore.analyze.rules import mask
    from ui import state

    entry = state.comparison_result(state.DISCOVERY_RESULT, comp.key)
    if entry is None:
        return {}
    saved = {s.text for s in slices}
    out = {}
    for f in entry["result"].confirmed:
        if f.text in saved:
            continue
        name = f.name if f.name not in slices else f"{f.name} (discovered)"
        out[name] = (f.text, mask(f.rule, comp.df_eval))
    return out


def aggregate_section(ws: Any, comp: Any, slices: Any, results: Any, default: str) -> None:
    """Pick a slice (saved, every row, or discovered in this session), explain a sample of its regressed
    rows with both models, and show which tokens pushed the candidate to its wrong label. The result
    stays in the session (`state.EXPLAIN_RESULT`) for the report and the W&B push."""
    import numpy as np

    from evalcore.probe.explain_aggregate import DEFAULT_MAX_ROWS
    from evalcore.stats.metrics import ALL_SLICE
    from ui import state
    from ui.widgets import shown_errors

    st.subheader("Why the candidate flips: explanations in aggregate")
    st.caption(
        gloss(
            "Each regressed row of the slice (baseline right, candidate wrong) is explained by occlusion "
            "toward the candidate's wrong label, for both models; a token *pushed* a model when it is among "
            "the row's three strongest pushes. Shares carry Wilson 95% intervals, the candidate − baseline gap "
            "Newcombe's (the same rows explain both models)."
        ),
        unsafe_allow_html=True,
    )
    df = comp.df_eval
    extra = {ALL_SLICE: ("every row", np.ones(len(df), dtype=bool)), **discovered_slices(comp, slices)}
    masks = {**results.masks, **{k: v[1] for k, v in extra.items()}}
    options = [ALL_SLICE, *slices.names(), *(k for k in extra if k != ALL_SLICE)]
    regressed = df["regressed"].to_numpy(dtype=bool)
    from ui import saved_runs

    record = saved_runs.explanation_record(comp)  # the last explanation, when this session has none
    if record and "ex_agg_slice" not in st.session_state and record["slice"] in options:
        st.session_state["ex_agg_slice"] = record["slice"]
    if st.session_state.get("ex_agg_slice") not in options:
        st.session_state["ex_agg_slice"] = default if default in options else ALL_SLICE
    c1, c2, c3 = st.columns([3, 1.3, 1.7], vertical_alignment="bottom")
    pick = c1.selectbox(
        "Slice to explain",
        options,
        key="ex_agg_slice",
        format_func=lambda s: (
            f"{s} ({int((regressed & masks[s]).sum()):,} regressed of {units.count(int(masks[s].sum()), 'row')})"
            + (" · discovered, not saved" if s in extra and s != ALL_SLICE else "")
        ),
    )
    max_rows = c2.number_input(
        "Most rows explained",
        5,
        2000,
        value=DEFAULT_MAX_ROWS,
        step=25,
        key="ex_agg_rows",
        help="Beyond this, a random sample (seed 0) of the slice's regressed rows",
    )
    reason = engine.explainable(ws.candidate, comp.data, engine.data_key(ws.data))
    run = c3.button(
        "Explain the regressed rows", key="ex_agg_run", type="primary", disabled=bool(reason), width="stretch"
    )
    if reason:
        st.info(esc(f"No explanation: {reason}."), icon="ℹ️")
        offer_live_pair(ws, comp.data, "ex_agg_live_pair")
    if run and not reason:
        with shown_errors(stop=False), st.spinner("Explaining the regressed rows with both models…"):
            saved_runs.explain(ws, comp, slices, results, pick, extra, int(max_rows))
    elif record and not reason:
        with shown_errors(stop=False):  # by itself when the server still holds it; else one click
            if saved_runs.restore_explanation(ws, comp, slices, results, cached_only=True) is None:
                st.info(
                    f"Your last explanation (slice {record['slice']}, at most {record['max_rows']} rows) is not in "
                    "this session since the page was reloaded.",
                    icon="↩️",
                )
                if st.button("Restore it", key="ex_agg_restore", icon=":material/restore:"):
                    with st.spinner("Explaining the regressed rows with both models…"):
                        saved_runs.restore_explanation(ws, comp, slices, results, cached_only=False)
                    st.rerun()
    entry = state.comparison_result(state.EXPLAIN_RESULT, comp.key)
    if entry is not None:
        if (entry["slice"], entry["max_rows"]) != (pick, int(max_rows)):
            st.caption(
                f"Shown: slice {entry['slice']} (at most {entry['max_rows']} rows); press the button to "
                "explain the slice chosen above."
            )
        if saved_runs.restored("explain"):
            st.caption("Your last explanation, restored after the page was reloaded.")
        aggregate_view(entry["result"], key="ex_agg")


# --- page section (Stress tests page) --------------------------------------------------------------


def case_explanations(data: Any, dkey: str, models: dict[str, str], names: dict[str, str], wide: pd.DataFrame) -> None:
    """A scored stress case, picked from the list, explained for both stress models (toward each one's
    prediction and toward the case's expected label, when it has one)."""
    from evalcore.analyze.tables import pred_col

    st.markdown("**Why each model predicts what it does**")
    texts = wide["text"].astype(str).tolist()
    if st.session_state.get("stress_explain_case") not in range(len(texts)):
        st.session_state.pop("stress_explain_case", None)
    at = st.selectbox(
        "Scored case to explain",
        range(len(texts)),
        index=None,
        key="stress_explain_case",
        format_func=lambda i: texts[i] if len(texts[i]) <= 110 else texts[i][:107] + "…",
        placeholder="pick a case",
    )
    if at is None:
        st.caption("Pick a case to see which words pushed each model to its label.")
        return
    row = wide.iloc[at]
    label = row.get("label")
    gold = str(label) if isinstance(label, str) and label else None
    sides = [Side(role, models[role], names[role], str(row[pred_col(names[role])])) for role in ROLES]
    explanation_pair(sides, data, dkey, texts[at], gold=gold)
