"""The generation views of Compare and Examples: a comparison of two models' answers to the same prompts.

Compare and Examples hold classification views (confusion, calibration, per class, token explanations)
that do not apply to answers; these pages call `compare_section` / `examples_section` when the data's task is
"generation" and stop there. Every number comes from the engine's tables (`evalcore.stats.gentables`,
`evalcore.present.genreport`): this module only picks the metric and lays them out.

The metric picked on either page (`metric_picker`) is kept for the session (`state.GEN_METRIC`), so
Examples opens on the metric Compare showed.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from evalcore.analyze.tables import ROLES, metadata_columns, role_col
from evalcore.core import units
from evalcore.core.errors import ConfigError
from evalcore.present import genreport
from evalcore.stats.comparisons import GENERATION, HEADLINE, compared_metric, metrics_for
from evalcore.stats.genmetrics import NORMALISERS, shared_words
from evalcore.stats.gentables import metric_delta
from evalcore.stats.intervals import wilson_interval
from evalcore.stats.metrics import ALL_SLICE
from ui import state
from ui.glossary import gloss
from ui.widgets import code, esc, lit, md, one_page, opens_row, slice_picker

PAGE_SIZE = 100
SCORE_FIELDS = ("exact_match", "relaxed_match", "f1", "rouge_l", "rouge_acc")
MARK = (
    '<mark style="background:rgba(47,158,68,.28);border-radius:3px;padding:0 2px" '
    'title="shared with a gold answer">{}</mark>'
)
BOX = (
    '<div style="line-height:1.8;padding:6px 10px;border:1px solid rgba(128,128,128,.35);border-radius:6px;'
    'min-height:2.2em">{}</div>'
)
NOT_HERE = (
    "No confusion matrix, calibration or per-class table for generation: answers are free text with no "
    "label set, and answer files carry no confidence."
)


def metric_picker(key: str, container: Any = st, horizontal: bool = True) -> str:
    """A compared generation metric (F1 until the user picks another), shared by Compare and Examples."""
    names = metrics_for(GENERATION)
    if st.session_state.get(key) not in names:
        saved = st.session_state.get(state.GEN_METRIC)
        st.session_state[key] = saved if saved in names else HEADLINE[GENERATION]
    titles = {m: compared_metric(m).title for m in names}
    if horizontal:
        pick = container.radio(
            "Metric",
            names,
            format_func=titles.get,
            horizontal=True,
            key=key,
            help="Every number, chart and table below is of this metric; the verdict rests on "
            "the gates (F1 by default)",
        )
    else:
        pick = container.selectbox(
            "Metric",
            names,
            format_func=titles.get,
            key=key,
            help="Improved / regressed and the scores shown are of this metric",
        )
    st.session_state[state.GEN_METRIC] = pick
    return pick


def _is_binary(metric: str) -> bool:
    return compared_metric(metric).kind == "binary"


def _moves(metric: str) -> tuple[str, str]:
    """How a row's change reads for the metric: ("rose", "fell") or ("gained", "lost")."""
    return ("gained", "lost") if _is_binary(metric) else ("rose", "fell")


def _slice_margin(gates: Any, metric: str, default: float) -> float:
    """The margin of the metric's own slice gate when it is on, else the headline slice gate's."""
    own = next((r.margin for r in gates.results if r.name == f"slice_{metric}"), None)
    return default if own is None else own


# --- Compare ----------------------------------------------------------------------------------------------


def _headline(analysis: Any, metric: str) -> None:
    o = analysis.results.overall
    m = compared_metric(metric)
    b, c, ch = o["baseline"][metric], o["candidate"][metric], o["changes"][metric]
    test = "Paired t p" if m.kind == "continuous" else "McNemar exact p"
    k1, k2, k3, k4, k5 = st.columns(5)
    k1.metric(
        esc(f"Baseline · {o['baseline']['model']}"),
        units.pct(b["value"]),
        help=f"{m.title}: {units.pct_ci(b['value'], b['lo'], b['hi'])} ({b['method']}), n={b['n']:,}",
    )
    k2.metric(
        esc(f"Candidate · {o['candidate']['model']}"),
        units.pct(c["value"]),
        delta=units.pts(ch["value"]),
        help=f"{m.title}: {units.pct_ci(c['value'], c['lo'], c['hi'])} ({c['method']}), n={c['n']:,}",
    )
    k3.metric(
        "Change",
        units.pts(ch["value"]),
        help=f"Candidate − baseline on the same rows, paired 95% interval "
        f"{units.pts_ci(ch['value'], ch['lo'], ch['hi'])}; {ch['method']}",
    )
    k4.metric(test, units.p_value(ch["p"]), help="Two-sided paired test of no change on all rows")
    k5.metric(
        "Detectable change (MDE)",
        units.magnitude_pts(ch["mde"]),
        help="The smallest change these rows detect with 80% power (paired design)",
    )
    st.caption(
        gloss(
            f"{m.title} · 95% intervals — baseline {units.pct_ci(b['value'], b['lo'], b['hi'])} · candidate "
            f"{units.pct_ci(c['value'], c['lo'], c['hi'])} ({b['method']}) · change "
            f"{units.pts_ci(ch['value'], ch['lo'], ch['hi'])} (paired; {ch['method']}) · n={o['n']:,}"
        ),
        unsafe_allow_html=True,
    )
    d = metric_delta(analysis.df_eval, metric)
    n = len(d)
    up, down = _moves(metric)
    cols = st.columns(3)
    for col, count, what in (
        (cols[0], int((d > 0).sum()), f"Rows where {m.title} {up}"),
        (cols[1], int((d < 0).sum()), f"Rows where {m.title} {down}"),
        (cols[2], int((d == 0).sum()), "Rows unchanged"),
    ):
        lo, hi = wilson_interval(np.array([count]), np.array([n]))
        col.metric(what, f"{count:,}", help=f"{units.pct_ci(count / n, lo[0], hi[0])} of {n:,} rows (Wilson)")
        col.caption(f"{units.pct_ci(count / n, lo[0], hi[0])} of {n:,} rows (Wilson)")


def _slice_table(analysis: Any, metric: str, margin: float, gates: Any = None) -> pd.DataFrame:
    """Per slice: both models' metric with intervals, the paired change, power and the comparison with the rest."""
    from evalcore.present.blocks import DETECTABLE, detectable_loss, verdict_label

    r = analysis.results
    reg = genreport.metric_table(analysis, metric)
    sm = r.slice_metrics.set_index(["slice", "role"])
    up, down = _moves(metric)
    status = gates.slice_status(metric) if gates is not None else {}

    def score(role: str) -> list[str]:
        return [
            units.pct_ci(*(sm.loc[(s, role), k] for k in (metric, f"{metric}_lo", f"{metric}_hi")))
            for s in reg["slice"]
        ]

    extra = (
        {
            "design effect": reg["design_effect"].map(lambda x: "–" if x != x else f"{x:.2f}"),
            "clusters": reg["clusters"],
        }
        if r.changes.attrs.get("cluster_col")
        else {}
    )
    return pd.DataFrame(
        {
            "slice": reg["slice"],
            "n": reg["n"],
            **extra,
            "baseline [95%]": score("baseline"),
            "candidate [95%]": score("candidate"),
            "change [95%]": [units.pts_ci(*v) for v in zip(reg["delta"], reg["delta_lo"], reg["delta_hi"])],
            DETECTABLE: detectable_loss(gates, metric, reg["slice"]),
            "in the verdict": [verdict_label(status, row) for row in reg.itertuples()],
            "vs rest [95%]": [units.pts_ci(*v) for v in zip(reg["vs_rest"], reg["vs_rest_lo"], reg["vs_rest_hi"])],
            "BH p vs rest": reg["vs_rest_p_adjusted"].map(units.p_value),
            "worse than rest": reg["worse_than_rest"],
            "p (vs 0)": reg["p"].map(units.p_value),
            "BH p (vs 0)": reg["p_adjusted"].map(units.p_value),
            f"rows {up}": reg["n_improved"],
            f"rows {down}": reg["n_regressed"],
            "small": reg["small"],
        }
    )


def _length_table(analysis: Any) -> pd.DataFrame:
    sm = analysis.results.slice_metrics
    return pd.DataFrame(
        {
            "slice": sm["slice"],
            "model": sm["model"],
            "role": sm["role"],
            "n": sm["n"],
            "tokens per answer": sm["answer_tokens"].map(lambda x: f"{x:.1f}"),
            "length ratio to the gold": sm["length_ratio"].map(lambda x: f"{x:.2f}x"),
            "verbose answers": sm["verbose_share"].map(units.pct),
        }
    )


def compare_section(analysis: Any, gates: Any, margin: float, alpha: float) -> None:
    """Everything Compare shows for generation below the verdict (see the module docstring)."""
    metric = metric_picker("cmp_gen_metric")
    m = compared_metric(metric)
    margin = _slice_margin(gates, metric, margin)
    _headline(analysis, metric)
    from evalcore.present.report import summarize_findings

    with st.container(border=True):
        st.subheader("What slicing revealed")
        for line in summarize_findings(analysis, gates):
            st.markdown(f"- {esc(line)}")
        st.caption(f"Findings speak of {compared_metric(HEADLINE[GENERATION]).title}, the gated headline metric.")
    reg = genreport.metric_table(analysis, metric)
    flagged = reg.loc[reg["worse_than_rest"] & (reg["slice"] != ALL_SLICE), "slice"].tolist()
    if flagged:
        st.info(
            f"{m.title}: worse than the rest of the rows after Benjamini–Hochberg (FDR {alpha:g}): "
            f"**{', '.join(flagged)}** (a description: the verdict judges each slice's own harm)",
            icon="🔎",
        )
    else:
        st.caption(f"{m.title}: no slice is worse than the rest of the rows after Benjamini–Hochberg.")
    figs = list(genreport.figures(analysis, metric).values())
    tabs = st.tabs([f"{m.title} per slice", "Change with intervals", "Table", "Every metric", "Answer length"])
    with tabs[0]:
        st.plotly_chart(figs[0], width="stretch", key="cmp_gen_chart_bars")
    with tabs[1]:
        st.plotly_chart(figs[1], width="stretch", key="cmp_gen_chart_delta")
    with tabs[2]:
        st.dataframe(
            _slice_table(analysis, metric, margin, gates), hide_index=True, width="stretch", key="cmp_gen_table"
        )
        st.caption(
            gloss(
                "In the verdict: the slice's role and status on this metric's slice gate (empty when the gate "
                "is off). vs rest: the slice's change minus the change on the other rows. Methods: "
                + "; ".join(f"{k}: {v}" for k, v in reg.attrs.get("methods", {}).items())
            ),
            unsafe_allow_html=True,
        )
    with tabs[3]:
        headers, rows = genreport.every_metric_rows(analysis)
        st.dataframe(pd.DataFrame(rows, columns=headers), hide_index=True, width="stretch", key="cmp_gen_every")
        st.caption(
            "Paired change (candidate − baseline) with its 95% interval; ⚠ = worse than the rest of the rows "
            "(Benjamini–Hochberg)."
        )
    with tabs[4]:
        st.dataframe(_length_table(analysis), hide_index=True, width="stretch", key="cmp_gen_length")
        st.caption(
            NORMALISERS["answer_tokens"].capitalize()
            + "; length ratio: "
            + NORMALISERS["length_ratio"]
            + ". Verbose: at least twice the gold's tokens and 3 more."
        )
    with st.expander("How each score is computed"):
        for line in genreport.normaliser_lines(analysis) + genreport.method_lines(analysis):
            st.markdown(f"- {gloss(line)}", unsafe_allow_html=True)
    st.caption(NOT_HERE)


# --- Examples ---------------------------------------------------------------------------------------------


def highlight(answer: str, golds: list[str]) -> str:
    """The answer as HTML, the words it shares with a gold answer marked (`genmetrics.shared_words`)."""
    words = shared_words(answer, golds)
    if not words:
        return '<span style="opacity:.6">(empty answer)</span>'
    return " ".join(MARK.format(html.escape(w)) if shared else html.escape(w) for w, shared in words)


def _score_text(value: Any, metric: str) -> str:
    if _is_binary(metric):
        return "✓" if bool(value) else "✗"
    return f"{float(value):.2f}"


OUTCOMES = ("regressed", "improved", "unchanged")
SORTS = {
    "size": "Size of the change, largest first",
    "fall": "Change, largest fall first",
    "rise": "Change, largest rise first",
    "row": "Row order",
}


def select_rows(df: pd.DataFrame, mask: np.ndarray | None, metric: str, outcomes: list[str], sort: str) -> pd.DataFrame:
    """The rows of a slice whose change on `metric` is one of `outcomes` (empty: all), sorted; with the
    change as column `change`."""
    d = metric_delta(df, metric)
    keep = np.ones(len(df), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if outcomes:
        which = {"regressed": d < 0, "improved": d > 0, "unchanged": d == 0}
        keep = keep & np.logical_or.reduce([which[o] for o in outcomes])
    rows = df[keep].assign(change=d[keep])
    if sort == "size":
        return rows.iloc[np.argsort(-np.abs(rows["change"].to_numpy()), kind="stable")]
    if sort in ("fall", "rise"):
        return rows.sort_values("change", ascending=sort == "fall", kind="stable")
    return rows


def examples_section(comp: Any, slices: Any, res: Any) -> None:
    """Examples for generation: the rows of a slice filtered by improved / regressed on the picked metric."""
    df = comp.df_eval
    b, c = df.attrs["baseline"], df.attrs["candidate"]
    c1, c2, c3, c4 = st.columns([2, 2, 3, 2])
    pick = slice_picker(c1, slices, res, len(df), "exg_slice")
    metric = metric_picker("ex_gen_metric", c2, horizontal=False)
    m = compared_metric(metric)
    up, down = _moves(metric)
    labels = {
        "regressed": f"Regressed ({m.title} {down})",
        "improved": f"Improved ({m.title} {up})",
        "unchanged": "Unchanged",
    }
    outcomes = c3.multiselect(
        "Outcome",
        list(OUTCOMES),
        default=["regressed"],
        format_func=labels.get,
        key="exg_outcomes",
        help="On the picked metric; empty: every row of the slice",
    )
    sort = c4.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="exg_sort")
    rows = select_rows(df, res.masks.get(pick), metric, outcomes, sort)
    note = next((s.note for s in slices if s.name == pick), "")
    st.caption(
        md(
            f"{len(rows):,} rows"
            + (f" · slice rule {code(slices[pick].text)}" if pick in slices else "")
            + (f" · hypothesis: {lit(note)}" if note else "")
        )
    )

    rows = one_page(rows, "exg_page", PAGE_SIZE)
    field = m.field
    table = pd.DataFrame(
        {
            "id": rows["id"],
            "change": rows["change"],
            "baseline_score": rows[role_col("baseline", field)],
            "candidate_score": rows[role_col("candidate", field)],
            "baseline_pred": rows[role_col("baseline", "pred")],
            "candidate_pred": rows[role_col("candidate", "pred")],
            "gold": [" | ".join(json.loads(g)) for g in rows["gold_answers"]],
            "text": rows["text"],
        }
    )
    number = st.column_config.NumberColumn if not _is_binary(metric) else st.column_config.CheckboxColumn
    score_cfg = {"format": "%.2f"} if not _is_binary(metric) else {}
    ids = rows["id"].tolist()
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=420,
        key="exg_table",
        on_select=opens_row(ids, "exg_table", "exg_detail"),
        selection_mode="single-row",
        column_config={
            "change": st.column_config.NumberColumn(f"{m.title} change", format="%+.2f"),
            "baseline_score": number(f"{b} {m.title}", **score_cfg),
            "candidate_score": number(f"{c} {m.title}", **score_cfg),
            "baseline_pred": st.column_config.TextColumn(f"{b} (baseline)", width="medium"),
            "candidate_pred": st.column_config.TextColumn(f"{c} (candidate)", width="medium"),
            "gold": st.column_config.TextColumn("gold answer(s)", width="medium"),
            "text": st.column_config.TextColumn("prompt", width="large"),
        },
    )
    detail = st.selectbox(
        "Row detail (or tick a row in the table)", ids, key="exg_detail", index=None, placeholder="pick a row id"
    )
    if detail is None:
        st.caption(
            "Pick a row to see its prompt and passage, the gold answers, both answers with the words they share "
            "with a gold answer highlighted, and every score."
        )
        return
    row = rows.iloc[ids.index(detail)]
    row_detail(df, res, row, (b, c))


def row_detail(df: pd.DataFrame, res: Any, row: pd.Series, names: tuple[str, str]) -> None:
    """One row: prompt, passage (collapsed), gold answers, both answers highlighted, every score."""
    golds = json.loads(row["gold_answers"])
    with st.container(border=True):
        st.markdown(md(f"**Row {code(row['id'])}**"))
        st.markdown(f"> {esc(str(row['text']), breaks=True)}")  # text, never Markdown or HTML of its own
        context = str(row.get("context", "") or "")
        if context.strip():
            with st.expander(f"Context passage ({len(context.split()):,} words)"):
                st.markdown(esc(context, breaks=True))
        st.markdown(md("**Gold answer(s):** " + " · ".join(code(g) for g in golds)))
        cols = st.columns(2)
        for col, role, name in zip(cols, ROLES, names):
            with col:
                st.markdown(md(f"**{role}: {lit(name)}**"))
                st.markdown(BOX.format(highlight(str(row[role_col(role, "pred")]), golds)), unsafe_allow_html=True)
        st.caption(
            "Highlighted: the answer's words whose SQuAD-normalised form (lowercase, no punctuation, no "
            "a/an/the) is a word of a gold answer, the words token F1 counts."
        )
        scores = pd.DataFrame(
            {
                "score": [compared_metric(f).title for f in SCORE_FIELDS] + ["answer tokens", "verbose"],
                **{
                    f"{role}: {name}": [_score_text(row[role_col(role, f)], f) for f in SCORE_FIELDS]
                    + [
                        str(int(row[role_col(role, "answer_tokens")])),
                        "yes" if row[role_col(role, "verbose")] else "no",
                    ]
                    for role, name in zip(ROLES, names)
                },
            }
        )
        st.dataframe(scores, hide_index=True, width="stretch", key="exg_scores")
        in_slices = [name for name, mask in res.masks.items() if name != ALL_SLICE and mask[df.index.get_loc(row.name)]]
        st.caption(esc("In slices: " + (", ".join(in_slices) or "none")))
        skip = {"id", "text", "label", "context", "gold_answers", "change"}
        meta = {k: row[k] for k in metadata_columns(df) if k not in skip}
        st.dataframe(
            {"feature": list(meta), "value": [str(v) for v in meta.values()]},
            hide_index=True,
            width="stretch",
            key="exg_meta",
        )


# --- Stress tests: live answers to a typed prompt (issue 11, item 6) ----------------------------------------

LIVE = "stress_gen_"  # widget keys; their values are saved in ws.stress["generation"]
LIVE_RESULT = "ec_live_answers"  # this session's last answers: {"inputs": dict, "table": DataFrame}
LIVE_FIELDS = ("question", "context", "gold", "baseline", "candidate")
NONE = "none"  # no answerer for a role (only one live model is available)


def _save_live(ws: Any) -> None:
    """on_change: the typed prompt, gold answers and answerers -> the workspace."""
    ws.stress = {**ws.stress, "generation": {f: st.session_state.get(f"{LIVE}{f}") or "" for f in LIVE_FIELDS}}
    state.save()


def _fill_from_row(ws: Any, data: Any) -> None:
    """on_click: a random row of the data as the typed prompt (its question, passage and gold answers)."""
    rng = np.random.default_rng()
    row = data.df.iloc[int(rng.integers(len(data.df)))]
    st.session_state[f"{LIVE}question"] = str(row["text"])
    st.session_state[f"{LIVE}context"] = str(row.get("context", "") or "")
    st.session_state[f"{LIVE}gold"] = " | ".join(json.loads(row["gold_answers"]))
    _save_live(ws)


def live_answers_section(ws: Any, data: Any) -> None:
    """Stress tests on generation data: a typed prompt answered by two live answerers, both answers scored."""
    from evalcore.probe.answerers import INSTRUCTION, available_answerers, local_available
    from ui import engine
    from ui.widgets import shown_errors

    st.caption(
        "The compared models' answers come from files and cannot answer a new prompt. Here two live "
        "generation models answer the prompt you type, and both answers are scored against your gold "
        "answers with the same metrics."
    )
    endpoints, problems = engine.llm_endpoints()
    for problem in problems:
        st.warning(esc(problem), icon="⚠️")
    options = available_answerers(endpoints)
    if not options:
        st.info(
            "No live generation model is available on this server: SmolLM2 is "
            f"{local_available() or 'missing'}, and no OpenAI-compatible endpoint is configured "
            "($EVALCORE_LLM_ENDPOINTS or [llm.endpoints] in .streamlit/secrets.toml). Read the answers on "
            "Compare and Examples.",
            icon="ℹ️",
        )
        return
    saved = ws.stress.get("generation", {}) if isinstance(ws.stress.get("generation"), dict) else {}
    options = {**options, NONE: "(none)"}
    names = list(options)
    for f in LIVE_FIELDS:
        if f"{LIVE}{f}" not in st.session_state:
            default = saved.get(f, "")
            if f in ("baseline", "candidate") and default not in names:
                default = names[0] if f == "baseline" else names[1]  # the second answerer, or none
            st.session_state[f"{LIVE}{f}"] = default
    c1, c2 = st.columns(2)
    for col, role in ((c1, "baseline"), (c2, "candidate")):
        col.selectbox(
            f"{role.capitalize()} answerer",
            names,
            format_func=options.get,
            key=f"{LIVE}{role}",
            on_change=_save_live,
            args=(ws,),
        )
    st.text_area("Question or instruction", key=f"{LIVE}question", height=68, on_change=_save_live, args=(ws,))
    st.text_area("Context passage (optional)", key=f"{LIVE}context", height=110, on_change=_save_live, args=(ws,))
    st.text_input("Gold answer(s), separated by |", key=f"{LIVE}gold", on_change=_save_live, args=(ws,))
    b1, b2 = st.columns([1, 3])
    b1.button("Take a random row of the data", key=f"{LIVE}fill", on_click=_fill_from_row, args=(ws, data))
    asked = b2.button("Answer with both", type="primary", key=f"{LIVE}answer")
    st.caption(
        f"Prompt: “{INSTRUCTION}”, then the context and the question; greedy decoding (temperature 0), at "
        "most 48 new tokens."
    )
    inputs = {f: st.session_state[f"{LIVE}{f}"] for f in LIVE_FIELDS}
    if asked:
        with shown_errors(stop=False), st.spinner("Asking both answerers…"):
            chosen = {r: inputs[r] for r in ROLES if inputs[r] != NONE}
            if not chosen:
                raise ConfigError("choose an answerer for the baseline, the candidate or both")
            if len(set(chosen.values())) < len(chosen):
                raise ConfigError(
                    "choose two different answerers (the same one twice gives the same answer), or (none) for one role"
                )
            table = engine.get_answers(chosen, inputs["question"], inputs["context"], inputs["gold"].split("|"))
            st.session_state[LIVE_RESULT] = {"inputs": inputs, "table": table}
    result = st.session_state.get(LIVE_RESULT)
    if not result:
        return
    table, asked_with = result["table"], result["inputs"]
    if asked_with != inputs:
        st.caption("These answers are for the prompt as it was when you pressed *Answer with both*.")
    golds = [g.strip() for g in asked_with["gold"].split("|") if g.strip()]
    cols = st.columns(2)
    for col, row in zip(cols, table.itertuples()):
        with col:
            st.markdown(md(f"**{row.role}: {lit(row.model)}**"))
            st.markdown(BOX.format(highlight(row.answer, golds)), unsafe_allow_html=True)
    st.dataframe(
        pd.DataFrame(
            {
                "score": [compared_metric(f).title for f in SCORE_FIELDS] + ["answer tokens"],
                **{
                    f"{r.role}: {r.model}": [_score_text(getattr(r, f), f) for f in SCORE_FIELDS]
                    + [str(int(r.answer_tokens))]
                    for r in table.itertuples()
                },
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"{LIVE}scores",
    )
    st.caption("One prompt is an example, not evidence: the comparison with intervals is on Compare.")
    _answer_explanations(asked_with, golds)


EXPLAIN_RESULT = "ec_live_explanations"


def _answer_explanations(asked_with: dict, golds: list[str]) -> None:
    """Which question words each answer's F1 depends on: occlusion by the score of the answer (issue 14)."""
    from ui import engine, explain_view
    from ui.widgets import shown_errors

    chosen = {r: asked_with[r] for r in ROLES if asked_with[r] != NONE}
    words = len(asked_with["question"].split())
    if st.button(
        f"Explain the answers: which question words their F1 depends on (about {words + 1} answers each)",
        key=f"{LIVE}explain",
    ):
        with shown_errors(stop=False), st.spinner("Answering the question once per deleted word…"):
            st.session_state[EXPLAIN_RESULT] = {
                "inputs": asked_with,
                "explanations": engine.explain_answers(chosen, asked_with["question"], asked_with["context"], golds),
            }
    result = st.session_state.get(EXPLAIN_RESULT)
    if not result or result["inputs"] != asked_with:
        return
    st.caption(
        "Green: deleting the word lowers the answer's F1 against the gold answers (the answer needs it); red: "
        "deleting it raises F1. Each word's score is the F1 of the full question's answer minus the F1 of the "
        "answer without that word; the context is kept whole."
    )
    cols = st.columns(len(result["explanations"]))
    for col, (role, expl) in zip(cols, result["explanations"].items()):
        with col:
            explain_view.highlighted(expl, f"{role}: {expl.model} · answer “{expl.predicted}” · toward")
            if not any(t.score for t in expl.tokens):
                st.caption(
                    f"No word changes this answer's score: every variant's answer scores {expl.value:.2f}, as "
                    "the whole question's does, so the explanation is flat."
                )


__all__ = [
    "compare_section",
    "examples_section",
    "highlight",
    "live_answers_section",
    "metric_picker",
    "row_detail",
    "select_rows",
]
