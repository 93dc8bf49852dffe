"""Compare: the verdict, overall and per-slice changes with intervals and power, per-class results,
confusion and calibration. Generation data: the verdict, then a metric picker and that metric's tables and
charts (`ui/generation_view.py`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from evalcore import charts, units
from evalcore.gates import FAIL, INCONCLUSIVE, NO_SHIP, NOT_EVALUABLE, PASS, SHIP, margin_text
from evalcore.metrics import ALL_SLICE, confusion, reliability_diagram
from evalcore.report import slice_margin, summarize_findings
from evalcore.tables import role_col
from ui import engine, generation_view, state
from ui.glossary import gloss, help_for
from ui.widgets import esc, lit, md, shown_errors

STATUS_ICONS = {PASS: "✅", FAIL: "❌", INCONCLUSIVE: "❔", NOT_EVALUABLE: "⛔"}

state.require_app(__file__)
ws = state.workspace()
st.title("Compare")

with shown_errors():
    task = engine.get_data(ws.data).task
with st.expander("Settings: confidence threshold, small-slice size, false discovery rate"):
    c1, c2, c3 = st.columns(3)
    threshold = c1.slider("Confident regression: candidate confidence ≥", 0.5, 0.99, float(ws.conf_threshold), 0.01,
                          key="cmp_threshold", disabled=task != "classification",
                          help=None if task == "classification" else "Answers carry no confidence: not used here")
    min_n = c2.number_input("Slices smaller than this are marked small", 5, 1000, int(ws.min_n), key="cmp_min_n")
    alpha = c3.number_input("False discovery rate (Benjamini–Hochberg)", 0.001, 0.5, float(ws.alpha), 0.01,
                            format="%.3f", key="cmp_alpha", help=help_for("false discovery rate", "Benjamini–Hochberg"))
    if (threshold, min_n, alpha) != (ws.conf_threshold, ws.min_n, ws.alpha):
        ws.conf_threshold, ws.min_n, ws.alpha = float(threshold), int(min_n), float(alpha)
        state.save()

with shown_errors():
    comp, slices, res = engine.current_analysis(ws)
for w in res.warnings:
    st.caption(f"ℹ️ {esc(w)}")
analysis = engine.as_analysis(comp, slices, res)
gates, _, gate_message = engine.current_verdict(ws, analysis)
margin = slice_margin(gates, analysis.task)

o = res.overall
b, c, d = o["baseline"], o["candidate"], o["delta"]
st.caption(md(f"**{lit(comp.data.name)}** · {o['n']:,} rows · baseline **{lit(b['model'])}** vs candidate "
              f"**{lit(c['model'])}** · {'accuracies' if task == 'classification' else 'scores'} in %, changes in "
              "points (pts), 95% intervals in brackets"))

# --- the verdict ------------------------------------------------------------------------------------
if gate_message:
    st.warning(gate_message, icon="⚠️")
verdict = f"**Verdict: {gates.decision.upper()}** — {gates.reason()}"
{SHIP: st.success, NO_SHIP: st.error}.get(gates.decision, st.warning)(verdict, icon="⚖️")
with st.expander(f"Gates ({len(gates.results)}): what the verdict rests on", expanded=gates.decision != SHIP):
    for r in gates.results:
        st.markdown(f"{STATUS_ICONS.get(r.status, '❔')} **{r.name}** · {margin_text(r.name, r.margin)} · "
                    f"*{r.status}* — {r.reason}")
    st.caption("A gate passes when its 95% interval rules out a loss beyond the margin, fails when the whole interval "
               "lies beyond it, and is inconclusive otherwise. A slice whose minimum detectable effect (MDE, 80% "
               "power) exceeds the margin is underpowered and never counts as a pass.")
    st.page_link("pages/share.py", label="Change the gates and margins on Report & W&B", icon="📤")

if analysis.task == "generation":  # a metric picker and that metric's tables and charts (ui/generation_view.py)
    generation_view.compare_section(analysis, gates, margin, float(ws.alpha))
    st.stop()

# --- headline numbers -------------------------------------------------------------------------------
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(esc(f"Baseline · {b['model']}"), units.pct(b["value"]), help=f"{units.pct_ci(b['value'], b['lo'], b['hi'])} "
          f"({b['method']}), n={b['n']:,}")
m2.metric(esc(f"Candidate · {c['model']}"), units.pct(c["value"]), delta=units.pts(d["value"]),
          help=f"{units.pct_ci(c['value'], c['lo'], c['hi'])}, n={c['n']:,}")
m3.metric("Change", units.pts(d["value"]),
          help=f"Candidate − baseline, paired 95% interval {units.pts_ci(d['value'], d['lo'], d['hi'])}; {d['method']}")
m4.metric("McNemar exact p", units.p_value(o["mcnemar_p"]), help=help_for("McNemar"))
m5.metric("Detectable change (MDE)", units.magnitude_pts(o["mde"]),
          help="The smallest change these rows detect with 80% power (paired design, Connor 1987)")
st.caption(gloss(f"95% intervals — baseline {units.pct_ci(b['value'], b['lo'], b['hi'])} · candidate "
                 f"{units.pct_ci(c['value'], c['lo'], c['hi'])} (Wilson) · change "
                 f"{units.pts_ci(d['value'], d['lo'], d['hi'])} (paired, Newcombe) · n={o['n']:,}"),
           unsafe_allow_html=True)


def _rate(e: dict) -> tuple[str, str]:
    if e["n"] == 0:
        return "unknown", "no row has a known candidate confidence"
    return units.pct(e["value"]), f"{units.pct_ci(e['value'], e['lo'], e['hi'])} (Wilson), n={e['n']:,}"


r1, r2, r3 = st.columns(3)
for col, key, label, helptext in ((r1, "regression_rate", "Regression rate", "baseline right, candidate wrong"),
                                  (r2, "improvement_rate", "Improvement rate", "baseline wrong, candidate right"),
                                  (r3, "confident_regression_rate", f"Confident-regression rate (≥ {ws.conf_threshold:.2f})",
                                   "regressions with candidate confidence ≥ the threshold, among rows with a known "
                                   "confidence")):
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
    st.error(f"Worse than the rest of the rows after Benjamini–Hochberg (FDR {ws.alpha:g}): **{', '.join(flagged)}**",
             icon="⚠️")
else:
    st.success("No slice is worse than the rest of the rows after Benjamini–Hochberg.", icon="✅")

tab_acc, tab_delta, tab_rates, tab_table, tab_class = st.tabs(
    ["Accuracy per slice", "Change with intervals", "Regression rates", "Table", "Per class"])
with tab_acc:
    st.plotly_chart(charts.accuracy_bars(sm, reg), width="stretch", key="cmp_chart_acc")
with tab_delta:
    st.plotly_chart(charts.delta_dots(reg), width="stretch", key="cmp_chart_delta")
with tab_rates:
    st.plotly_chart(charts.rate_bars(reg), width="stretch", key="cmp_chart_rates")
with tab_table:
    view = pd.DataFrame({
        "slice": reg["slice"], "n": reg["n"],
        "baseline": reg["baseline_accuracy"].map(units.pct), "candidate": reg["candidate_accuracy"].map(units.pct),
        "change [95%]": [units.pts_ci(*v) for v in zip(reg["delta"], reg["delta_lo"], reg["delta_hi"])],
        "MDE (80% power)": reg["mde"].map(units.magnitude_pts),
        "underpowered": (reg["slice"] != ALL_SLICE) & ~(reg["mde"] <= margin),
        "vs rest [95%]": [units.pts_ci(*v) for v in zip(reg["vs_rest"], reg["vs_rest_lo"], reg["vs_rest_hi"])],
        "BH p vs rest": reg["vs_rest_p_adjusted"].map(units.p_value),
        "worse than rest": reg["worse_than_rest"],
        "regression rate [95%]": [units.pct_ci(*v) for v in zip(reg["regression_rate"], reg["regression_rate_lo"],
                                                                 reg["regression_rate_hi"])],
        "improvement rate [95%]": [units.pct_ci(*v) for v in zip(reg["improvement_rate"], reg["improvement_rate_lo"],
                                                                  reg["improvement_rate_hi"])],
        "confident regression [95%]": [units.pct_ci(*v) if k else "unknown" for *v, k in zip(
            reg["confident_regression_rate"], reg["confident_regression_rate_lo"],
            reg["confident_regression_rate_hi"], reg["n_conf_known"])],
        "McNemar p (vs 0)": reg["mcnemar_p"].map(units.p_value), "small": reg["small"],
    })
    st.dataframe(view, hide_index=True, width="stretch", key="cmp_table", column_config={
        "MDE (80% power)": st.column_config.TextColumn(help=help_for("MDE")),
        "underpowered": st.column_config.CheckboxColumn(help=help_for("underpowered")),
        "vs rest [95%]": st.column_config.TextColumn(help="The slice's change minus the change on the other rows"),
        "BH p vs rest": st.column_config.TextColumn(help=help_for("BH")),
        "McNemar p (vs 0)": st.column_config.TextColumn(help=help_for("McNemar"))})
    st.caption(gloss(f"Underpowered: the slice cannot detect a {margin * 100:.1f}-point change (the slice gate's "
                     "margin) with 80% power. vs rest: the slice's change minus the change on the other rows. Methods: "
                     + "; ".join(f"{k}: {v}" for k, v in reg.attrs.get("methods", {}).items())), unsafe_allow_html=True)
with tab_class:
    pc = res.per_class
    classes = pd.DataFrame({"label": pc["label"], "n gold": pc["n_gold"], **{
        f"{m} {who}": pc[f"{m}_{who}"].map(units.pct) for m in ("precision", "recall", "f1")
        for who in ("baseline", "candidate")}, **{
        f"{m} change [95%]": [units.pts_ci(*v) for v in zip(pc[f"{m}_delta"], pc[f"{m}_delta_lo"], pc[f"{m}_delta_hi"])]
        for m in ("precision", "recall", "f1")}})
    st.dataframe(classes, hide_index=True, width="stretch", key="cmp_per_class")
    st.caption(gloss("Per gold label on every row. " + " ".join(f"{k}: {v}." for k, v in pc.attrs.get("methods", {}).items())),
               unsafe_allow_html=True)

st.subheader("Confusion and calibration")
names = [ALL_SLICE] + [s.name for s in slices]
pick = st.selectbox("Slice", names, key="cmp_detail_slice",
                    format_func=lambda s: f"{s} (n={int(res.masks[s].sum()) if s in res.masks else o['n']:,})")
mask = None if pick == ALL_SLICE else res.masks[pick]
left, right = st.columns(2)
bins = {}
for col, role in ((left, "baseline"), (right, "candidate")):
    model = comp.df_eval.attrs[role]
    with col:
        st.plotly_chart(charts.confusion_heatmap(confusion(comp.df_eval, mask, role, comp.data.labels),
                                                 f"{role}: {model}"), width="stretch", key=f"cmp_cm_{role}")
    rows = comp.df_eval if mask is None else comp.df_eval[mask]
    bins[f"{role}: {model}"] = reliability_diagram(rows[role_col(role, "conf")].to_numpy(),
                                                   rows[role_col(role, "correct")].to_numpy())
with_conf = {name: b for name, b in bins.items() if b["count"].sum() > 0}
if with_conf:  # a model without confidences (VADER's lexicon share, a predictions file) has no line to draw
    st.plotly_chart(charts.reliability_diagram(with_conf, f"Reliability diagram · {pick}"), width="stretch",
                    key="cmp_reliability")
    if len(with_conf) < len(bins):
        st.caption(esc(f"{', '.join(n for n in bins if n not in with_conf)}: no confidences, so no reliability line."))
else:
    st.info("No reliability diagram: neither model gives a confidence (VADER's score is a lexicon share, not a "
            "probability; a predictions file without a `conf` column has none).", icon="ℹ️")
cal = res.calibration[res.calibration["slice"] == pick]
st.dataframe(pd.DataFrame({
    "model": cal["model"], "role": cal["role"], "n with confidence": cal["n_with_conf"],
    "mean confidence": cal["mean_conf"].map(units.pct),
    "ECE [95%]": [units.dec3_ci(*v) for v in zip(cal["ece"], cal["ece_lo"], cal["ece_hi"])],
    "Brier [95%]": [units.dec3_ci(*v) for v in zip(cal["brier"], cal["brier_lo"], cal["brier_hi"])],
}), hide_index=True, width="stretch", key="cmp_calibration", column_config={
    "ECE [95%]": st.column_config.TextColumn(help=help_for("ECE")),
    "Brier [95%]": st.column_config.TextColumn(help=help_for("Brier"))})
st.caption(gloss("Top-label confidence; bootstrap intervals. ECE is biased upward on small n: compare it on the same "
                 "rows."), unsafe_allow_html=True)
