"""Compare: overall and per-slice accuracy of both models, regressions, confusion and calibration."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from evalcore import charts
from evalcore.metrics import ALL_SLICE, confusion, reliability_diagram
from evalcore.tables import role_col
from ui import engine, state
from ui.widgets import fmt_pct, shown_errors

state.require_app(__file__)
ws = state.workspace()
st.title("Compare")

with st.expander("Settings: confidence threshold, small-slice size, false discovery rate"):
    c1, c2, c3 = st.columns(3)
    threshold = c1.slider("Confident regression: candidate confidence ≥", 0.5, 0.99, float(ws.conf_threshold), 0.01,
                          key="cmp_threshold")
    min_n = c2.number_input("Slices smaller than this are marked small", 5, 1000, int(ws.min_n), key="cmp_min_n")
    alpha = c3.number_input("False discovery rate (Benjamini–Hochberg)", 0.001, 0.5, float(ws.alpha), 0.01,
                            format="%.3f", key="cmp_alpha")
    if (threshold, min_n, alpha) != (ws.conf_threshold, ws.min_n, ws.alpha):
        ws.conf_threshold, ws.min_n, ws.alpha = float(threshold), int(min_n), float(alpha)
        state.save()

with shown_errors():
    comp, slices, res = engine.current_analysis(ws)
for w in res.warnings:
    st.caption(f"ℹ️ {w}")

o = res.overall
b, c, d = o["baseline"], o["candidate"], o["delta"]
st.caption(f"**{comp.data.name}** · {o['n']:,} rows · baseline **{b['model']}** vs candidate **{c['model']}**")
m1, m2, m3, m4 = st.columns(4)
m1.metric(f"Baseline · {b['model']}", f"{b['value']:.3f}", help=f"95% interval [{b['lo']:.3f}, {b['hi']:.3f}] ({b['method']})")
m2.metric(f"Candidate · {c['model']}", f"{c['value']:.3f}", delta=f"{d['value'] * 100:+.1f} pts",
          help=f"95% interval [{c['lo']:.3f}, {c['hi']:.3f}]")
m3.metric("Change (candidate − baseline)", f"{d['value'] * 100:+.1f} pts",
          help=f"Paired 95% interval [{d['lo'] * 100:+.1f}, {d['hi'] * 100:+.1f}] points; {d['method']}")
m4.metric("McNemar exact p", f"{o['mcnemar_p']:.2g}", help="Two-sided exact binomial test on the discordant pairs")
st.caption(f"95% intervals — baseline [{b['lo']:.3f}, {b['hi']:.3f}] · candidate [{c['lo']:.3f}, {c['hi']:.3f}] "
           f"(Wilson) · change [{d['lo'] * 100:+.1f}, {d['hi'] * 100:+.1f}] points (paired, Newcombe)")
r1, r2, r3 = st.columns(3)
r1.metric("Regression rate", fmt_pct(o["regression_rate"]), help="baseline right, candidate wrong")
r2.metric("Improvement rate", fmt_pct(o["improvement_rate"]), help="baseline wrong, candidate right")
r3.metric(f"Confident-regression rate (≥ {ws.conf_threshold:.2f})", fmt_pct(o["confident_regression_rate"]))

with st.container(border=True):
    st.subheader("What slicing revealed")
    from evalcore.report import summarize_findings

    for line in summarize_findings(engine.as_analysis(comp, slices, res)):
        st.markdown(f"- {line}")

reg = res.regression_metrics
sm = res.slice_metrics
flagged = res.flagged
if flagged:
    st.error(f"Significant regressions after Benjamini–Hochberg (FDR {ws.alpha:g}): **{', '.join(flagged)}**", icon="⚠️")
else:
    st.success("No slice shows a significant regression after Benjamini–Hochberg.", icon="✅")

tab_acc, tab_delta, tab_rates, tab_table = st.tabs(["Accuracy per slice", "Change with intervals",
                                                    "Regression rates", "Table"])
with tab_acc:
    st.plotly_chart(charts.accuracy_bars(sm, reg), width="stretch", key="cmp_chart_acc")
with tab_delta:
    st.plotly_chart(charts.delta_dots(reg), width="stretch", key="cmp_chart_delta")
with tab_rates:
    st.plotly_chart(charts.rate_bars(reg), width="stretch", key="cmp_chart_rates")
with tab_table:
    view = reg[["slice", "n", "baseline_accuracy", "candidate_accuracy", "delta", "delta_lo", "delta_hi",
                "regression_rate", "improvement_rate", "confident_regression_rate", "mcnemar_p", "p_adjusted",
                "significant_regression", "small"]]
    st.dataframe(view, hide_index=True, width="stretch", column_config={
        "delta": st.column_config.NumberColumn("Δ acc", format="%+.3f"),
        "delta_lo": st.column_config.NumberColumn("Δ lo", format="%+.3f"),
        "delta_hi": st.column_config.NumberColumn("Δ hi", format="%+.3f"),
        "mcnemar_p": st.column_config.NumberColumn("McNemar p", format="%.2g"),
        "p_adjusted": st.column_config.NumberColumn("BH-adjusted p", format="%.2g"),
        **{k: st.column_config.NumberColumn(k.replace("_", " "), format="%.3f")
           for k in ("baseline_accuracy", "candidate_accuracy", "regression_rate", "improvement_rate",
                     "confident_regression_rate")},
    })
    st.caption("Intervals: " + "; ".join(f"{k}: {v}" for k, v in reg.attrs.get("methods", {}).items()))

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
st.plotly_chart(charts.reliability_diagram(bins, f"Reliability diagram · {pick}"), width="stretch",
                key="cmp_reliability")
cal = res.calibration
st.dataframe(cal[cal["slice"] == pick], hide_index=True, width="stretch")
