"""History: every decision Compare showed and `report` printed (`evalcore.serve.history`), filtered by data and model;
a slice's figure across the candidates compared on the same data; two runs on the same data side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from evalcore.core import units
from evalcore.serve.history import FIGURE_KINDS, HistoryStore, compare_runs, trend_chart
from ui import engine, history_view, state
from ui.widgets import esc, shown_errors

ALL = "(all data)"

state.require_app(__file__)
ws = state.workspace()
st.title("History")
st.caption(
    "Every verdict the Compare page showed and `python -m evalcore report` printed, once per decision (same "
    "data, models, gates, slices and settings): when, who, the data's content fingerprint, both models, the "
    "gates, the verdict and every slice's figures. The same list: `python -m evalcore history`."
)

store = HistoryStore()
with shown_errors():
    rows = history_view.visible(store.decisions())  # with sign-in: the workspaces this user may open
if rows.empty:
    st.info(f"No decision recorded yet in {store.path}. Open Compare, or run `python -m evalcore report`.", icon="🕘")
    st.stop()

# --- filters ----------------------------------------------------------------------------------------
datasets = rows.drop_duplicates("data_fingerprint")[["data_fingerprint", "data_name"]]
counts = rows["data_fingerprint"].value_counts()
names = {
    fp: f"{name} · {fp[:8]} ({counts[fp]} decision{'s' if counts[fp] != 1 else ''})"
    for fp, name in zip(datasets["data_fingerprint"], datasets["data_name"])
}
if "hist_data" not in st.session_state:
    try:  # the data this workspace is on, when it has decisions; else the most recent decision's data
        here = history_view.fingerprint_of(engine.get_data(ws.data), engine.data_key(ws.data))
    except Exception:  # data that no longer loads: the history is still readable
        here = None
    st.session_state["hist_data"] = here if here in names else rows.iloc[0]["data_fingerprint"]
c1, c2 = st.columns(2)
data_fp = c1.selectbox(
    "Data",
    [ALL, *names],
    key="hist_data",
    format_func=lambda fp: names.get(fp, fp),
    help="Decisions are grouped by the data's content (ids, texts, gold labels), not its path",
)
models = sorted(set(rows["baseline"]) | set(rows["candidate"]))
picked = c2.multiselect("Model (as baseline or candidate)", models, key="hist_models")
shown = rows if data_fp == ALL else rows[rows["data_fingerprint"] == data_fp]
if picked:
    shown = shown[shown["baseline"].isin(picked) | shown["candidate"].isin(picked)]

st.subheader(f"Decisions ({len(shown)} of {len(rows)})")
st.dataframe(
    pd.DataFrame(
        {
            "id": shown["id"],
            "when (UTC)": shown["created_at"].str.replace("T", " ").str[:19],
            "who": shown["user"],
            "workspace": shown["workspace"].fillna("(CLI)"),
            "data": shown["data_name"],
            "baseline": shown["baseline"],
            "candidate": shown["candidate"],
            "verdict": shown["decision"],
            "change [95%]": [
                f"{m} {units.pts_ci(d, lo, hi)}"
                for m, d, lo, hi in zip(shown["headline_metric"], shown["delta"], shown["delta_lo"], shown["delta_hi"])
            ],
            "seen": shown["times_seen"],
            "next step": shown["next_step"],
        }
    ),
    hide_index=True,
    width="stretch",
    key="hist_table",
)
d1, d2 = st.columns(2)
d1.download_button(
    "Download CSV (one row per decision, slice and metric)",
    store.export(shown, "csv"),
    "decisions.csv",
    "text/csv",
    key="hist_csv",
    disabled=shown.empty,
)
d2.download_button(
    "Download JSON (decisions with their figures)",
    store.export(shown, "json"),
    "decisions.json",
    "application/json",
    key="hist_json",
    disabled=shown.empty,
)

if data_fp == ALL:
    st.info("Pick one data set above to chart a slice across its decisions and to compare two runs.", icon="📈")
    st.stop()
if shown.empty:
    st.stop()

# --- a slice across the candidates ------------------------------------------------------------------
st.subheader("A slice across decisions on this data")
with shown_errors():
    figs = store.figures(shown["id"].tolist())
metrics = list(dict.fromkeys(figs["metric"]))
t1, t2, t3 = st.columns(3)
metric = t1.selectbox("Metric", metrics, key="hist_metric")
slices = list(dict.fromkeys(figs.loc[figs["metric"] == metric, "slice"]))
slice_name = t2.selectbox("Slice", slices, key="hist_slice")
kind = t3.radio("Figure", list(FIGURE_KINDS), format_func=FIGURE_KINDS.get, key="hist_kind", horizontal=True)
st.plotly_chart(trend_chart(figs, slice_name, metric, kind), width="stretch", key="hist_trend")
baselines = shown["baseline"].nunique()
st.caption(
    esc(
        (
            "Each point is one decision, oldest first, its 95% interval as the bar and its colour the verdict. "
            + (
                "These decisions have different baselines: a change is against its own baseline (named in the "
                "label), so compare changes only between decisions with the same baseline, or chart the "
                "candidate's score."
                if baselines > 1 and kind == "delta"
                else ""
            )
        )
    )
)

# --- two runs ---------------------------------------------------------------------------------------
st.subheader("Compare two runs on this data")
ids = shown["id"].tolist()
label = {
    i: f"#{i} {b} → {c} ({v}, {t[:16].replace('T', ' ')})"
    for i, b, c, v, t in zip(shown["id"], shown["baseline"], shown["candidate"], shown["decision"], shown["created_at"])
}
if len(ids) < 2:
    st.info("One decision on this data so far: run Compare or `report` with another candidate to compare two.")
    st.stop()
r1, r2 = st.columns(2)
older = r1.selectbox("Run A", ids, index=1, format_func=label.get, key="hist_run_a")
newer = r2.selectbox("Run B", ids, index=0, format_func=label.get, key="hist_run_b")
with shown_errors():
    diff = compare_runs(store, int(older), int(newer), metric=metric)
for change in diff.changes or ["nothing but the time"]:
    st.markdown(f"- {esc(change)}")
t = diff.slices
moved = diff.moved
st.caption(
    esc(
        f"{len(moved)} slice{'s' if len(moved) != 1 else ''} moved on {metric}"
        + (f": {', '.join(moved)}" if moved else "")
        + ". A slice moved when its status in the verdict changed "
        "or the two 95% intervals of its change do not overlap (a conservative sign; an overlap does not show "
        "the runs equal)."
    )
)
st.dataframe(
    pd.DataFrame(
        {
            "slice": t["slice"],
            "n": t["n"],
            f"#{older} change [95%]": [
                units.pts_ci(a, b, c) for a, b, c in zip(t["delta_a"], t["delta_lo_a"], t["delta_hi_a"])
            ],
            f"#{newer} change [95%]": [
                units.pts_ci(a, b, c) for a, b, c in zip(t["delta_b"], t["delta_lo_b"], t["delta_hi_b"])
            ],
            "shift (pts)": t["shift"].map(units.pts),
            f"#{older} status": t["status_a"],
            f"#{newer} status": t["status_b"],
            "moved": t["why"],
        }
    ),
    hide_index=True,
    width="stretch",
    key="hist_diff",
)
