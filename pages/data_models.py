"""Data & models: choose the dataset, the baseline and the candidate; score them through the cache."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from evalcore.errors import DataError
from evalcore.paths import work_dir
from evalcore.pipeline import choose_models
from ui import engine, state
from ui.widgets import progress_bar, shown_errors

SOURCES = {
    "lab": "Demo: the lab's 500 tweets (with roberta / gpt2 predictions)",
    "tweeteval": "TweetEval sentiment (shared folder)",
    "upload": "Upload a CSV / JSONL / Parquet file",
    "hf": "Hugging Face dataset (hub id or local path)",
}
LIVE_CHOICES = {"vader": "VADER lexicon (live)", "demo": "Demo transformer: MiniLM fine-tuned on TweetEval val (live)"}
HF_CHOICE = "hf"

state.require_app(__file__)
ws = state.workspace()
st.title("Data & models")
st.caption("Pick a dataset and the two models to compare. Predictions are cached on disk: "
           "a model never scores the same text twice.")


# --- data ------------------------------------------------------------------------------------------

def _kind(settings: dict) -> str:
    source = settings.get("source", "lab")
    if source in ("lab", "demo"):
        return "lab"
    if source.startswith("tweeteval"):
        return "tweeteval"
    if source.startswith("hf:"):
        return "hf"
    return "upload"


def _save_upload(upload) -> Path:
    """Keep the uploaded file under the work folder so the choice survives restarts."""
    raw = upload.getvalue()
    folder = work_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:12]}_{Path(upload.name).name}"
    if not path.exists():
        path.write_bytes(raw)
    return path


def _columns_of(path: Path) -> list[str]:
    """Column names of a table file, read cheaply, for the mapping step."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if suffix in (".jsonl", ".json"):
            return list(pd.read_json(path, lines=suffix == ".jsonl", nrows=50 if suffix == ".jsonl" else None).columns)
        return list(pd.read_csv(path, nrows=5, sep="\t" if suffix == ".tsv" else ",").columns)
    except Exception as exc:  # shown to the user; the full load reports the precise problem
        raise DataError(f"could not read the columns of {path.name}: {exc}") from exc


def _apply_data(settings: dict) -> None:
    with shown_errors(stop=False):
        new = engine.get_data(settings)  # validate before switching: a bad file never replaces good work
        ws.data = settings
        ws.baseline, ws.candidate = choose_models(new, ws.baseline, ws.candidate)
        state.save()
        st.rerun()


with st.container(border=True):
    st.subheader("Dataset")
    current = _kind(ws.data)
    kind = st.radio("Source", list(SOURCES), format_func=SOURCES.get, index=list(SOURCES).index(current),
                    key="dm_source", horizontal=False)
    if kind == "lab":
        if st.button("Use the demo data", key="dm_use_lab", disabled=ws.data == {"source": "lab"}):
            _apply_data({"source": "lab"})
    elif kind == "tweeteval":
        c1, c2 = st.columns(2)
        split = c1.selectbox("Split", ["test", "val"], key="dm_te_split")
        n_rows = c2.number_input("First N rows (0 = all)", min_value=0, value=0, step=500, key="dm_te_n")
        if st.button("Load TweetEval", key="dm_te_load"):
            _apply_data({"source": f"tweeteval:{split}", "n_rows": int(n_rows) or None})
    elif kind == "upload":
        upload = st.file_uploader("File", type=["csv", "tsv", "jsonl", "json", "parquet"], key="dm_upload")
        if upload is not None:
            path = _save_upload(upload)
            with shown_errors(stop=False):
                cols = _columns_of(path)
                st.caption("Map the file's columns onto text, label and (optionally) a unique id.")
                c1, c2, c3 = st.columns(3)
                guess = {name: next((c for c in cols if c.lower() in options), cols[0])
                         for name, options in (("text", ("text", "tweet", "sentence", "content")),
                                               ("label", ("label", "gold", "target", "sentiment", "class")))}
                text_col = c1.selectbox("Text column", cols, index=cols.index(guess["text"]), key="dm_up_text")
                label_col = c2.selectbox("Label column", cols, index=cols.index(guess["label"]), key="dm_up_label")
                id_col = c3.selectbox("Id column", ["(row number)"] + cols, key="dm_up_id")
                if st.button("Load file", key="dm_up_load"):
                    _apply_data({"source": str(path), "text_col": text_col, "label_col": label_col,
                                 "id_col": None if id_col == "(row number)" else id_col})
    else:
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
        ds_id = c1.text_input("Dataset id or local path", placeholder="cardiffnlp/tweet_eval", key="dm_hf_id")
        config = c2.text_input("Config", placeholder="sentiment", key="dm_hf_config")
        split = c3.text_input("Split", value="test", key="dm_hf_split")
        n_rows = c4.number_input("First N rows", min_value=0, value=1000, step=500, key="dm_hf_n")
        st.caption("Without network, only local paths and datasets already in the Hugging Face cache load.")
        if st.button("Load dataset", key="dm_hf_load", disabled=not ds_id.strip()):
            _apply_data({"source": f"hf:{ds_id.strip()}", "config": config.strip() or None,
                         "split": split.strip() or "test", "n_rows": int(n_rows) or None})

with shown_errors():
    data = engine.get_data(ws.data)
dkey = engine.data_key(ws.data)

c1, c2, c3 = st.columns([2, 1, 2])
c1.metric("Loaded", f"{len(data):,} rows")
c2.metric("Labels", len(data.labels))
c3.caption(f"**{data.name}**  \nsource `{ws.data.get('source')}`")
counts = data.df["label"].value_counts().reindex(list(data.labels)).fillna(0).astype(int)
st.caption("Label distribution: " + " · ".join(f"{k} {v:,} ({v / len(data):.0%})" for k, v in counts.items()))
with st.expander("Preview rows"):
    st.dataframe(data.df.head(200), hide_index=True, width="stretch")


# --- models ----------------------------------------------------------------------------------------

def _options() -> dict[str, str]:
    opts = {name: f"{name} (precomputed column{', with confidence' if m.conf_col else ''})"
            for name, m in data.precomputed.items()}
    opts.update(LIVE_CHOICES)
    opts[HF_CHOICE] = "Hugging Face model: hub id or local directory…"
    return opts


def model_picker(role: str, current: str) -> str | None:
    """A model choice: a known spec, or an hf: spec typed in. Returns the chosen spec."""
    opts = _options()
    is_hf = current not in opts and (current.startswith("hf:") or current.startswith("file:"))
    choice_default = HF_CHOICE if is_hf else (current if current in opts else next(iter(opts)))
    choice = st.selectbox(role.capitalize(), list(opts), index=list(opts).index(choice_default),
                          format_func=opts.get, key=f"dm_{role}_choice")
    if choice != HF_CHOICE:
        return choice
    spec = st.text_input(f"{role.capitalize()} spec", value=current if is_hf else "hf:",
                         help="`hf:<hub id or local dir>[@revision][#LABEL_0=negative,LABEL_1=neutral,...]`, "
                              "or `file:<predictions file>`", key=f"dm_{role}_spec")
    return spec.strip() if spec.strip() not in ("", "hf:") else None


with st.container(border=True):
    st.subheader("Models")
    left, right = st.columns(2)
    picks: dict[str, str | None] = {}
    loaded: dict[str, bool] = {}  # a spec is usable only once its model loaded and mapped its labels
    for col, role in ((left, "baseline"), (right, "candidate")):
        with col:
            picks[role] = model_picker(role, getattr(ws, role))
            spec = picks[role]
            if spec is None:
                st.info("Type a model spec.")
                continue
            if spec == "demo" and not engine.demo_built():
                loaded[role] = True  # a valid choice: it is built on first use
                notice = st.empty()  # cleared when the build starts: no stale "not built yet"
                notice.warning("The demo transformer is not built yet: its top layer is trained offline on the "
                               "TweetEval validation split (under a minute on a quiet 2-core machine).")
                if st.button("Build the demo transformer", key=f"dm_build_{role}"):
                    notice.empty()
                    with shown_errors(stop=False):
                        engine.get_predictor("demo", data, dkey)
                        st.rerun()
                continue
            with shown_errors(stop=False):
                predictor = engine.get_predictor(spec, data, dkey)
                loaded[role] = True
                kind = "live" if predictor.live else "precomputed (cannot score new text)"
                st.caption(f"`{spec}` · {kind}")
                mapping = pd.DataFrame({"model label": list(predictor.label_mapping),
                                        "dataset label": list(predictor.label_mapping.values())})
                st.dataframe(mapping, hide_index=True, width="stretch", height=min(35 * (len(mapping) + 1) + 3, 200))
    ready = all(picks.values()) and picks["baseline"] != picks["candidate"] and len(loaded) == 2
    if all(picks.values()) and picks["baseline"] == picks["candidate"]:
        st.error("Baseline and candidate are the same model: choose two different models.")
    if ready and (picks["baseline"], picks["candidate"]) != (ws.baseline, ws.candidate):
        if st.button("Use these models", type="primary", key="dm_use_models"):
            ws.baseline, ws.candidate = picks["baseline"], picks["candidate"]
            state.save()
            st.rerun()

with st.container(border=True):
    st.subheader("Predictions")
    st.caption(f"Comparing **{ws.baseline}** (baseline) with **{ws.candidate}** (candidate) on {len(data):,} rows.")
    pending = [s for s in (ws.baseline, ws.candidate) if not engine.predictions_ready(dkey, s)]
    # Cheap scoring starts at once; a transformer over a large dataset waits for an explicit click.
    cheap = all(engine.needs_data(s) or s.startswith("vader") for s in pending) or len(data) <= 2000
    go = not pending or cheap or st.button(f"Score {' and '.join(pending)}", type="primary", key="dm_score")
    rows = []
    for spec in (ws.baseline, ws.candidate):
        if spec == "demo" and not engine.demo_built():
            rows.append({"model": spec, "status": "demo transformer not built yet: build it above"})
            continue
        if spec in pending and not go:
            rows.append({"model": spec, "status": "not scored yet"})
            continue
        with shown_errors(stop=False):
            bar = progress_bar(f"Scoring with {spec}") if spec in pending else None
            preds = engine.get_predictions(data, dkey, spec, bar)
            acc = preds.accuracy(data.df["label"])
            rows.append({"model": spec, "status": preds.summary, "accuracy": f"{acc:.3f}"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    cache = engine.prediction_cache()
    if cache.warning:
        st.warning(cache.warning)
    st.caption(f"Prediction cache: `{cache.path}` · {cache.count():,} predictions stored.")
