"""Examples: the rows of a slice, filtered by outcome, both models side by side, with a row's metadata and
token explanations of both models; below, a slice's regressions explained in aggregate. Generation data:
prompts, gold answers and both answers, filtered by the picked metric's change (`ui/generation_view.py`)."""

from __future__ import annotations

import streamlit as st

from evalcore.analyze.tables import metadata_columns, role_col
from evalcore.stats.metrics import ALL_SLICE
from ui import engine, explain_view, generation_view, state
from ui.widgets import code, esc, lit, md, one_page, opens_row, shown_errors, slice_picker

OUTCOMES = {
    "regressed": "Regressed (baseline right, candidate wrong)",
    "improved": "Improved (baseline wrong, candidate right)",
    "both_wrong": "Both wrong",
    "both_correct": "Both right",
}
SORTS = {
    "candidate_conf_desc": "Candidate confidence, high first",
    "candidate_conf_asc": "Candidate confidence, low first",
    "baseline_conf_desc": "Baseline confidence, high first",
    "baseline_conf_asc": "Baseline confidence, low first",
    "row": "Row order",
}

PAGE_SIZE = 100

state.require_app(__file__)
ws = state.workspace()
st.title("Examples")

with shown_errors():
    comp, slices, res = engine.current_analysis(ws)
df = comp.df_eval
if comp.data.task == "generation":  # answers, gold answers and scores; no token explanations for answer files
    generation_view.examples_section(comp, slices, res)
    st.stop()

c1, c2, c3 = st.columns([2, 3, 2])
pick = slice_picker(c1, slices, res, len(df), "ex_slice")
outcomes = c2.multiselect(
    "Outcome",
    list(OUTCOMES),
    default=["regressed"],
    format_func=OUTCOMES.get,
    key="ex_outcomes",
    help="Empty: every row of the slice",
)
# sorting by a confidence needs one: VADER's lexicon share and predictions files without `conf` have none
sorts = [k for k in SORTS if k == "row" or df[role_col(k.rpartition("_conf_")[0], "conf")].notna().any()]
if st.session_state.get("ex_sort") not in sorts:
    st.session_state.pop("ex_sort", None)
sort = c3.selectbox(
    "Sort by",
    sorts,
    format_func=SORTS.get,
    key="ex_sort",
    help=None if len(sorts) == len(SORTS) else "Only models that give a confidence can be sorted by it",
)

mask = res.masks.get(pick, None)
rows = df if mask is None else df[mask]
if outcomes:
    rows = rows[rows[outcomes].any(axis=1)]
if sort != "row":
    role, _, direction = sort.rpartition("_conf_")
    rows = rows.sort_values(role_col(role, "conf"), ascending=direction == "asc", na_position="last")

slice_note = next((s.note for s in slices if s.name == pick), "")
st.caption(
    md(
        f"{len(rows):,} rows"
        + (f" · slice rule {code(slices[pick].text)}" if pick in slices else "")
        + (f" · hypothesis: {lit(slice_note)}" if slice_note else "")
    )
)

b, c = df.attrs["baseline"], df.attrs["candidate"]
rows = one_page(rows, "ex_page", PAGE_SIZE)
ids = rows["id"].tolist()
# the text first, pinned and wrapped over three lines (rows taller than 4 rem wrap), so it is read whole and stays in view at 768 px; the
# labels, predictions and confidences follow, the id last
table = rows[
    [
        "text",
        "label",
        role_col("baseline", "pred"),
        role_col("baseline", "conf"),
        role_col("candidate", "pred"),
        role_col("candidate", "conf"),
        "regressed",
        "improved",
        "id",
    ]
]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=440,
    key="ex_table",
    on_select=opens_row(ids, "ex_table", "ex_detail"),
    selection_mode="single-row",
    row_height=76,
    column_config={  # above 4 rem Streamlit wraps the text over the row
        "text": st.column_config.TextColumn("text", width="large", pinned=True),
        role_col("baseline", "pred"): st.column_config.TextColumn(f"{b} (baseline)"),
        role_col("baseline", "conf"): st.column_config.ProgressColumn(
            f"{b} conf", min_value=0.0, max_value=1.0, format="%.2f"
        ),
        role_col("candidate", "pred"): st.column_config.TextColumn(f"{c} (candidate)"),
        role_col("candidate", "conf"): st.column_config.ProgressColumn(
            f"{c} conf", min_value=0.0, max_value=1.0, format="%.2f"
        ),
    },
)

detail = st.selectbox(
    "Row detail (or tick a row in the table)", ids, key="ex_detail", index=None, placeholder="pick a row id"
)
if detail is not None:
    position = ids.index(detail)
    row = rows.iloc[position]
    with st.container(border=True):
        st.markdown(md(f"**Row {code(row['id'])}** · gold **{lit(row['label'])}**"))
        st.markdown(f"> {esc(row['text'])}")
        k1, k2 = st.columns(2)
        for col, role, name in ((k1, "baseline", b), (k2, "candidate", c)):
            col.metric(esc(f"{name} ({role})"), esc(row[role_col(role, "pred")]))
            conf = row[role_col(role, "conf")]
            col.caption(f"confidence {conf:.2f}" if conf == conf else "confidence unknown")
        # --- token explanations of the row (issue 14; ui/explain_view.py) ---
        explain_view.row_explanations(ws, comp, row)
        meta = {col: row[col] for col in metadata_columns(df) if col not in ("id", "text", "label")}
        in_slices = [name for name, m in res.masks.items() if name != ALL_SLICE and m[rows.index[position]]]
        st.caption(esc("In slices: " + (", ".join(in_slices) or "none")))
        st.dataframe(
            {"feature": list(meta), "value": [str(v) for v in meta.values()]},
            hide_index=True,
            width="stretch",
            key="ex_meta",
        )
else:
    st.caption("Pick a row to see its metadata, the slices it belongs to and why each model predicts what it does.")

# --- explanations in aggregate (issue 14; ui/explain_view.py) ----------------------------------------
explain_view.aggregate_section(ws, comp, slices, res, default=pick)
