"""Compare: the verdict, overall and per-slice changes with intervals and power, per-class results,
confusion and calibration. Generation data: the verdict, then a metric picker and that metric's tables and
charts (`ui/generation_view.py`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from evalcore.core import units
from evalcore.core.errors import EvalcoreError
from evalcore.decide.gates import (
    FAIL,
    MODEL_DEFINED,
    NEED_MORE_DATA,
    NO_SHIP,
    NOT_EVALUABLE,
    PASS,
    SHIP,
    TOO_SMALL,
    GateConfig,
    margin_text,
)
from evalcore.present import charts
from evalcore.present.blocks import verdict_label
from evalcore.present.report import DETECTABLE, detectable_loss, slice_margin, summarize_findings
from evalcore.stats.comparisons import HEADLINE
from evalcore.stats.metrics import ALL_SLICE
from evalcore.tasks.kinds import kind_of
from ui import engine, generation_view, history_view, leaderboard_view, state
from ui.glossary import gloss, help_for
from ui.widgets import error, esc, lit, md, shown_errors, slice_picker

STATUS_ICONS = {PASS: "✅", FAIL: "❌", NEED_MORE_DATA: "❔", NOT_EVALUABLE: "⛔", TOO_SMALL: "▫️", MODEL_DEFINED: "🤖"}

state.require_app(__file__)
ws = state.workspace()
st.title("Compare")

with shown_errors():
    kind = kind_of(engine.get_data(ws.data))  # the task kind's object (evalcore.tasks.kinds)
task = kind.name
with st.expander("Settings: confidence threshold, small-slice size, false discovery rate"):
    c1, c2, c3 = st.columns(3)
    threshold = c1.slider(
        "Confident regression: candidate confidence ≥",
        0.5,
        0.99,
        float(ws.conf_threshold),
        0.01,
        key="cmp_threshold",
        disabled=not kind.confidences,
        help=None if kind.confidences else "Answers carry no confidence: not used here",
    )
    min_n = c2.number_input(
        "Slices smaller than this are too small to judge",
        5,
        1000,
        int(ws.min_n),
        key="cmp_min_n",
        help="A watched slice with fewer rows is shown with its numbers, never tested, and never blocks the verdict",
    )
    alpha = c3.number_input(
        "False discovery rate (Benjamini–Hochberg)",
        0.001,
        0.5,
        float(ws.alpha),
        0.01,
        format="%.3f",
        key="cmp_alpha",
        help=help_for("false discovery rate", "Benjamini–Hochberg"),
    )
    if (threshold, min_n, alpha) != (ws.conf_threshold, ws.min_n, ws.alpha):
        ws.conf_threshold, ws.min_n, ws.alpha = float(threshold), int(min_n), float(alpha)
        state.save()

with shown_errors():
    comp, slices, res = engine.current_analysis(ws)
analysis = engine.as_analysis(comp, slices, res)
gates, _, gate_message = engine.current_verdict(ws, analysis)
for w in res.warnings:
    if w not in gates.notes:  # the verdict's notes are shown with it
        st.caption(f"ℹ️ {esc(w)}")
margin = slice_margin(gates, analysis.task)

o = res.overall
b, c, d = o["baseline"], o["candidate"], o["delta"]
st.caption(
    md(
        f"**{lit(comp.data.name)}** · {o['n']:,} rows · baseline **{lit(b['model'])}** vs candidate "
        f"**{lit(c['model'])}** · {kind.scores_word} in %, changes in "
        "points (pts), 95% intervals in brackets"
    )
)

# --- the verdict: one result (evalcore.decide.verdict.decide), every count below comes from it --------------
if gate_message:
    st.warning(gate_message, icon="⚠️")
{SHIP: st.success, NO_SHIP: st.error}.get(gates.decision, st.warning)(
    f"**Verdict: {gates.decision.upper()}** — {gates.next_step}", icon="⚖️"
)
counts = gates.counts()
if counts["slices"]:
    parts = [
        f"{counts['judged']} slices judged",
        f"{counts['harm']} with evidence of harm",
        f"{counts['too_small']} too small to judge",
        f"{counts['model_defined']} model-defined (never gate)",
    ]
    if counts["guardrails"]:
        parts.append(f"guardrails verified: {counts['verified']} of {counts['guardrails']}")
    st.caption(" · ".join(parts))
for reason in gates.reasons:
    st.markdown(f"- {reason}")
for note in gates.notes:
    st.caption(f"ℹ️ {esc(note[0].upper() + note[1:])}.")  # notes name labels of the data: shown as text
history_view.caption(
    history_view.record(
        analysis, gates, engine.gate_config(ws, task)[0], workspace=state.name(), data_key=engine.data_key(ws.data)
    )
)  # once per decision (ui/history_view)


def _save_gain() -> None:
    """The 'ship only for a gain' switch: the headline metric's gain gate (0 = any gain) in the saved gates."""
    name = f"{HEADLINE[task]}_gain"
    if "cmp_require_gain" not in st.session_state:  # reset by another session's change of the gates
        return
    try:
        ws.gates = {**(ws.gates or {}), name: 0.0 if st.session_state["cmp_require_gain"] else None}
        GateConfig.from_dict(ws.gates, task)
    except EvalcoreError as exc:
        st.session_state["cmp_gain_error"] = str(exc)
        return
    state.save()


gain_on = gates.results is not None and any(r.name == f"{HEADLINE[task]}_gain" for r in gates.results)
if "cmp_require_gain" not in st.session_state:
    st.session_state["cmp_require_gain"] = gain_on
st.toggle(
    "Ship only for a gain (the headline metric's interval above zero)",
    key="cmp_require_gain",
    on_change=_save_gain,
    help="For teams that replace a model only when the candidate is significantly "
    "better; same as `report --require-gain`.",
)
if "cmp_gain_error" in st.session_state:
    error(st.session_state.pop("cmp_gain_error"))
gates_box = st.expander("Gates and slices: what the verdict rests on", key="cmp_gates_open", on_change="rerun")
with gates_box:
    if gates_box.open is not False:  # built when opened: shut, its table is neither built nor sent (issue 21)
        for r in gates.results:
            observed = "" if r.observed is None else f" · {units.pts_ci(r.observed, r.lo, r.hi)}"
            st.markdown(
                f"{STATUS_ICONS.get(r.status, '❔')} **{r.name}** · {margin_text(r.name, r.margin)} · "
                f"*{r.status}*{observed}" + ("" if r.status != PASS else f" — {r.reason}")
            )
        checks = gates.slice_checks()
        if checks:
            st.markdown("**Slices in the verdict**")
            st.dataframe(
                pd.DataFrame(
                    {
                        "slice": [c.name for c in checks],
                        "role": [c.role for c in checks],
                        "status": [c.status for c in checks],
                        "n": [c.n for c in checks],
                        "change [95%]": [units.pts_ci(c.delta, c.lo, c.hi) for c in checks],
                        "detectable loss": [
                            units.magnitude_pts(c.mde) if c.status not in (TOO_SMALL, MODEL_DEFINED) else "–"
                            for c in checks
                        ],
                        "why": [c.sentence for c in checks],
                    }
                ),
                hide_index=True,
                width="stretch",
                key="cmp_verdict_slices",
            )
        st.caption(
            "A watched slice blocks only on evidence of harm (one-sided test, Benjamini–Hochberg over the judged "
            "slices); its detectable loss is that test's, at its adjusted level, with 80% power. A guardrail must "
            "be verified: a loss of its margin ruled out (Bonferroni over the guardrails); mark one on the Slices "
            "page. Slices under the small-slice size, and slices defined by a model's own output, never block."
        )
        st.page_link("pages/share.py", label="Change the gates and margins on Report & W&B", icon="📤")

leaderboard_view.section(ws, comp, slices)  # k candidates against this baseline (ui/leaderboard_view.py)

if analysis.task == "generation":  # a metric picker and that metric's tables and charts (ui/generation_view.py)
    generation_view.compare_section(analysis, gates, margin, float(ws.alpha))
    st.stop()

# --- headline numbers -------------------------------------------------------------------------------
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(
    esc(f"Baseline · {b['model']}"),
    units.pct(b["value"]),
    help=f"{units.pct_ci(b['value'], b['lo'], b['hi'])} ({b['method']}), n={b['n']:,}",
)
m2.metric(
    esc(f"Candidate · {c['model']}"),
    units.pct(c["value"]),
    delta=units.pts(d["value"]),
    help=f"{units.pct_ci(c['value'], c['lo'], c['hi'])}, n={c['n']:,}",
)
m3.metric(
    "Change",
    units.pts(d["value"]),
    help=f"Candidate − baseline, paired 95% interval {units.pts_ci(d['value'], d['lo'], d['hi'])}; {d['method']}",
)
clustered = o.get("cluster_col")
m4.metric(
    "Paired test p",
    units.p_value(o["mcnemar_p"]),
    help=(
        esc(f"Cluster-robust t test (clusters: {clustered}; design effect {o['design_effect']:.1f})")
        if clustered
        else help_for("McNemar")
    ),
)
m5.metric(
    "Detectable change (MDE)",
    units.magnitude_pts(o["mde"]),
    help="The smallest change these rows detect with 80% power (paired design, Connor 1987)",
)
st.caption(
    gloss(
        f"95% intervals — baseline {units.pct_ci(b['value'], b['lo'], b['hi'])} · candidate "
        f"{units.pct_ci(c['value'], c['lo'], c['hi'])} (Wilson) · change "
        f"{units.pts_ci(d['value'], d['lo'], d['hi'])} (paired, Newcombe) · n={o['n']:,}"
    ),
    unsafe_allow_html=True,
)


def _rate(e: dict) -> tuple[str, str]:
    if e["n"] == 0:
        return "unknown", "no row has a known candidate confidence"
    return units.pct(e["value"]), f"{units.pct_ci(e['value'], e['lo'], e['hi'])} (Wilson), n={e['n']:,}"


r1, r2, r3 = st.columns(3)
for col, key, label, helptext in (
    (r1, "regression_rate", "Regression rate", "baseline right, candidate wrong"),
    (r2, "improvement_rate", "Improvement rate", "baseline wrong, candidate right"),
    (
        r3,
        "confident_regression_rate",
        f"Confident-regression rate (≥ {ws.conf_threshold:.2f})",
        "regressions with candidate confidence ≥ the threshold, among rows with a known confidence",
    ),
):
    value, interval = _rate(o[key])
    col.metric(label, value, help=f"{helptext}; {interval}")
    col.caption(interval)

with st.container(border=True):
    st.subheader("What slicing revealed")
    for line in summarize_findings(analysis, gates):
        st.markdown(f"- {esc(line)}")  # sentences that name labels and models of the data: shown as text

reg = res.regression_metrics
sm = res.slice_metrics
flagged = res.flagged
if flagged:
    st.info(
        f"Worse than the rest of the rows after Benjamini–Hochberg (FDR {ws.alpha:g}): **{', '.join(flagged)}** "
        "(a description: the verdict judges each slice's own harm)",
        icon="🔎",
    )
else:
    st.caption("No slice is worse than the rest of the rows after Benjamini–Hochberg.")
status = gates.slice_status("accuracy")


def _accuracy_view(res: Any, gates: Any, status: Any) -> None:
    """Accuracy of both models per slice, with intervals."""
    reg, sm = res.regression_metrics, res.slice_metrics
    st.plotly_chart(charts.accuracy_bars(sm, reg), width="stretch", key="cmp_chart_acc")


def _change_view(res: Any, gates: Any, status: Any) -> None:
    """Each slice's change with its interval."""
    reg = res.regression_metrics
    st.plotly_chart(charts.delta_dots(reg), width="stretch", key="cmp_chart_delta")


def _rates_view(res: Any, gates: Any, status: Any) -> None:
    """Regression and improvement rates per slice."""
    reg = res.regression_metrics
    st.plotly_chart(charts.rate_bars(reg), width="stretch", key="cmp_chart_rates")


def _table_view(res: Any, gates: Any, status: Any) -> None:
    """Every number per slice, with the verdict's role and status."""
    reg = res.regression_metrics
    view = pd.DataFrame(
        {
            "slice": reg["slice"],
            "n": reg["n"],
            "baseline": reg["baseline_accuracy"].map(units.pct),
            "candidate": reg["candidate_accuracy"].map(units.pct),
            "change [95%]": [units.pts_ci(*v) for v in zip(reg["delta"], reg["delta_lo"], reg["delta_hi"])],
            DETECTABLE: detectable_loss(gates, "accuracy", reg["slice"]),
            "in the verdict": [verdict_label(status, row) for row in reg.itertuples()],
            "vs rest [95%]": [units.pts_ci(*v) for v in zip(reg["vs_rest"], reg["vs_rest_lo"], reg["vs_rest_hi"])],
            "BH p vs rest": reg["vs_rest_p_adjusted"].map(units.p_value),
            "worse than rest": reg["worse_than_rest"],
            "regression rate [95%]": [
                units.pct_ci(*v)
                for v in zip(reg["regression_rate"], reg["regression_rate_lo"], reg["regression_rate_hi"])
            ],
            "improvement rate [95%]": [
                units.pct_ci(*v)
                for v in zip(reg["improvement_rate"], reg["improvement_rate_lo"], reg["improvement_rate_hi"])
            ],
            "confident regression [95%]": [
                units.pct_ci(*v) if k else "unknown"
                for *v, k in zip(
                    reg["confident_regression_rate"],
                    reg["confident_regression_rate_lo"],
                    reg["confident_regression_rate_hi"],
                    reg["n_conf_known"],
                )
            ],
            "McNemar p (vs 0)": reg["mcnemar_p"].map(units.p_value),
            "small": reg["small"],
        }
    )
    if res.changes.attrs.get("cluster_col"):  # rows in clusters: how much wider than independent rows
        view.insert(6, "design effect", reg["design_effect"].map(lambda x: "–" if x != x else f"{x:.2f}"))
        view.insert(7, "clusters", reg["clusters"])
    st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        key="cmp_table",
        column_config={
            "MDE (80% power)": st.column_config.TextColumn(help=help_for("MDE")),
            "vs rest [95%]": st.column_config.TextColumn(help="The slice's change minus the change on the other rows"),
            "BH p vs rest": st.column_config.TextColumn(help=help_for("BH")),
            "McNemar p (vs 0)": st.column_config.TextColumn(help=help_for("McNemar")),
        },
    )
    st.caption(
        gloss(
            "In the verdict: the slice's role and status (see the gates above). Detectable loss: the loss the test "
            "that decides the slice in the verdict (one-sided harm test at its Benjamini-Hochberg level, or a "
            "guardrail's margin test) detects with 80% power; – where no test decides the slice. vs rest: the "
            "slice's change minus the change on the "
            "other rows. Methods: " + "; ".join(f"{k}: {v}" for k, v in reg.attrs.get("methods", {}).items())
        ),
        unsafe_allow_html=True,
    )


def _class_view(res: Any, gates: Any, status: Any) -> None:
    """Precision, recall and F1 per gold label, on every row."""
    pc = res.per_class
    classes = pd.DataFrame(
        {
            "label": pc["label"],
            "n gold": pc["n_gold"],
            **{
                f"{m} {who}": pc[f"{m}_{who}"].map(units.pct)
                for m in ("precision", "recall", "f1")
                for who in ("baseline", "candidate")
            },
            **{
                f"{m} change [95%]": [
                    units.pts_ci(*v) for v in zip(pc[f"{m}_delta"], pc[f"{m}_delta_lo"], pc[f"{m}_delta_hi"])
                ]
                for m in ("precision", "recall", "f1")
            },
        }
    )
    st.dataframe(classes, hide_index=True, width="stretch", key="cmp_per_class")
    st.caption(
        gloss("Per gold label on every row. " + " ".join(f"{k}: {v}." for k, v in pc.attrs.get("methods", {}).items())),
        unsafe_allow_html=True,
    )


VIEWS = {
    "Accuracy per slice": _accuracy_view,
    "Change with intervals": _change_view,
    "Regression rates": _rates_view,
    "Table": _table_view,
    "Per class": _class_view,
}


@st.fragment
def _views(res: Any, gates: Any, status: Any) -> None:
    """The per-slice views as tabs, only the open one built and sent to the browser: on a million rows the
    hidden tabs' two charts and two tables took ~0.15 s of every Compare run and ~0.2 s of the browser's
    drawing (issue 21). A tab switch reruns this fragment, not the page."""
    tabs = st.tabs(list(VIEWS), key="cmp_view", on_change="rerun")
    for tab, draw in zip(tabs, VIEWS.values()):
        if tab.open is not False:
            with tab:
                draw(res, gates, status)


_views(res, gates, status)

DETAIL_VIEWS = ["Confusion matrices", "Calibration"]


@st.fragment
def _details(comp: Any, slices: Any, res: Any, n_all: int) -> None:
    """Confusion matrices and calibration of one slice, as tabs that build only the open one; picking a slice or
    a tab reruns this section alone (issue 21: a million rows' Compare draws what it shows)."""
    st.subheader("Confusion and calibration")
    pick = slice_picker(st, slices, res, n_all, "cmp_detail_slice")
    mask = None if pick == ALL_SLICE else res.masks[pick]
    rule = ALL_SLICE if mask is None else slices[pick].text
    tab_cm, tab_cal = st.tabs(DETAIL_VIEWS, key="cmp_detail_view", on_change="rerun")
    if tab_cm.open is not False:
        matrices = engine.slice_details(comp, rule, mask, "confusion")  # once per rule
        with tab_cm:
            left, right = st.columns(2)
            for col, role in ((left, "baseline"), (right, "candidate")):
                model = comp.df_eval.attrs[role]
                with col:
                    st.plotly_chart(
                        charts.confusion_heatmap(matrices[role], f"{role}: {model}"),
                        width="stretch",
                        key=f"cmp_cm_{role}",
                    )
    if tab_cal.open is not False:
        bins = engine.slice_details(comp, rule, mask, "reliability")
        with tab_cal:
            _calibration_view(res, pick, {f"{role}: {comp.df_eval.attrs[role]}": bins[role] for role in bins})


def _calibration_view(res: Any, pick: str, bins: dict) -> None:
    """The reliability diagram of both models on the picked slice, and its ECE and Brier with intervals."""
    with_conf = {name: b for name, b in bins.items() if b["count"].sum() > 0}
    if with_conf:  # a model without confidences (VADER's lexicon share, a predictions file) has no line to draw
        st.plotly_chart(
            charts.reliability_diagram(with_conf, f"Reliability diagram · {pick}"),
            width="stretch",
            key="cmp_reliability",
        )
        if len(with_conf) < len(bins):
            st.caption(
                esc(f"{', '.join(n for n in bins if n not in with_conf)}: no confidences, so no reliability line.")
            )
    else:
        st.info(
            "No reliability diagram: neither model gives a confidence (VADER's score is a lexicon share, not a "
            "probability; a predictions file without a `conf` column has none).",
            icon="ℹ️",
        )
    cal = res.calibration[res.calibration["slice"] == pick]
    st.dataframe(
        pd.DataFrame(
            {
                "model": cal["model"],
                "role": cal["role"],
                "n with confidence": cal["n_with_conf"],
                "mean confidence": cal["mean_conf"].map(units.pct),
                "ECE [95%]": [units.dec3_ci(*v) for v in zip(cal["ece"], cal["ece_lo"], cal["ece_hi"])],
                "Brier [95%]": [units.dec3_ci(*v) for v in zip(cal["brier"], cal["brier_lo"], cal["brier_hi"])],
            }
        ),
        hide_index=True,
        width="stretch",
        key="cmp_calibration",
        column_config={
            "ECE [95%]": st.column_config.TextColumn(help=help_for("ECE")),
            "Brier [95%]": st.column_config.TextColumn(help=help_for("Brier")),
        },
    )
    st.caption(
        gloss(
            "Top-label confidence; bootstrap intervals. ECE is biased upward on small n: compare it on the same rows."
        ),
        unsafe_allow_html=True,
    )


_details(comp, slices, res, int(o["n"]))
