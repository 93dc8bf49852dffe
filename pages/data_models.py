"""Data & models: the demo data and the models available for it."""
from __future__ import annotations

import streamlit as st

from evalcore.data import load_data
from evalcore.demo_model import demo_model_dir
from evalcore.errors import EvalcoreError

st.title("Data & models")
try:
    data = load_data("lab")
except EvalcoreError as exc:
    st.error(str(exc))
    st.stop()
st.subheader(data.name)
st.caption(f"{len(data)} rows · labels: {', '.join(data.labels)}")
st.dataframe(data.df.head(50), hide_index=True, width="stretch")
st.subheader("Models")
rows = [{"spec": name, "kind": "precomputed", "note": f"column {m.pred_col}, confidence {m.conf_col}"}
        for name, m in data.precomputed.items()]
rows.append({"spec": "vader", "kind": "lexicon", "note": "compound ≥ 0.05 positive, ≤ −0.05 negative"})
built = (demo_model_dir() / "config.json").is_file()
rows.append({"spec": "demo", "kind": "transformer",
             "note": "built" if built else "not built yet: `python -m evalcore build-demo`"})
st.dataframe(rows, hide_index=True, width="stretch")
