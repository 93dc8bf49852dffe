"""Data & models: choose the dataset, the baseline and the candidate; score them through the cache.

Any labelled text task: the shipped demo, a TweetEval-format folder (from the data folders the
server allows, or uploaded), a table file with a column-mapping step (and a label map when its
labels are integers), or an HF dataset. Generation data too: the SQuAD demo, an uploaded SQuAD JSON, or
a prompt / gold-answer table (its column-mapping step names the prompt, gold and id columns), with each
model's answers in a column of the data or in an answers file (`file:`). Paths a visitor types are
checked by `evalcore.serve.roots`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from evalcore.core import units
from evalcore.core.errors import DataError, EvalcoreError
from evalcore.core.units import pct
from evalcore.io.allowed import allowed_roots, check_allowed, gated
from evalcore.io.data import find_tweeteval_folders, tweeteval_splits
from evalcore.io.gendata import NO_CONTEXT, SQUAD_ALIASES, file_layout
from evalcore.io.labels import is_sentiment
from evalcore.predict.models import display_name, projection_rows, unreachable_warning
from evalcore.serve.roots import store_file, store_folder
from evalcore.stats.comparisons import compared_metric
from evalcore.stats.genmetrics import ROUGE_TOKENIZERS
from evalcore.stats.gentables import generation_slice_metrics
from evalcore.tasks.pipeline import choose_models
from ui import engine, state
from ui.widgets import code, error, esc, lit, md, model_hover, progress_bar, shown_errors

SOURCES = {
    "lab": "Demo: the lab's 500 tweets (with roberta / gpt2 predictions)",
    "squad": "Demo: SQuAD v1.1 dev, 10,570 questions (Match-LSTM vs BERT answers: generation)",
    "tweeteval": "TweetEval sentiment (shared folder)",
    "folder": "TweetEval-format folder, any task (open or upload one)",
    "upload": "Upload a CSV / TSV / JSONL / JSON / Parquet file (labelled texts, or questions with gold answers)",
    "hf": "Hugging Face dataset (hub id or local path)",
}
TASKS = {
    "classification": "classification: a text and its label",
    "generation": "generation: a prompt and its gold answer(s)",
}
FLASH = "dm_flash"
LIVE_CHOICES = {
    "vader": "VADER lexicon (live, sentiment only)",
    "demo": "Demo transformer: MiniLM, top layer trained on TweetEval val (live, sentiment only)",
}
FILE_CHOICE, HF_CHOICE = "file", "hf"
NO_CONTEXT_CHOICE = "(no context)"
ANSWER_TYPES = ["json", "jsonl", "csv", "tsv", "parquet"]
ANSWERS_HELP = (
    '`.json`: `{"<question id>": "<answer>"}` (SQuAD\'s prediction files); `.jsonl` / `.csv`: `id` and '
    "`prediction` columns, or, without ids, the `instruction` (or `question`) and `context` of each row "
    "with its `prediction`, as evaluation scripts write them. Every row of the data needs one answer."
)
LABEL_MAP_HELP = (
    "Which integer id is which label, e.g. `0=negative,1=positive`. Needed when the labels are "
    "integers: evalcore never guesses their meaning. Integer predictions files are read through it too."
)

state.require_app(__file__)
ws = state.workspace()
st.title("Data & models")
st.caption(
    "Pick a dataset and the two models to compare. Predictions are cached on disk: "
    "a model never scores the same text twice."
)
if st.session_state.get(FLASH):
    st.info(esc(st.session_state.pop(FLASH)), icon="🧩")


# --- data ------------------------------------------------------------------------------------------


def _kind(settings: dict) -> str:
    source = settings.get("source", "lab")
    if source in ("lab", "demo"):
        return "lab"
    if source in SQUAD_ALIASES:
        return "squad"
    if source.startswith("tweeteval"):
        return "tweeteval"
    if source.startswith("hf:"):
        return "hf"
    return "folder" if Path(source).is_dir() else "upload"


def _columns_of(layout) -> list[str]:
    """Column names of a table file for the mapping step, read cheaply and within the server's limits
    (`evalcore.io.gendata.file_layout`: a CSV's header, a Parquet schema, a JSON file's first record)."""
    if not layout.columns:
        raise DataError(
            f"could not read the columns of {layout.path.name}: a CSV / TSV with a header row, JSON "
            "lines, a JSON array of objects or Parquet is expected"
        )
    return list(layout.columns)


def _current_task() -> str | None:
    try:
        return engine.get_data(ws.data).task
    except EvalcoreError:  # the current data does not load (any more): nothing to set aside
        return None


def _apply_data(settings: dict) -> None:
    with shown_errors(stop=False):
        new = engine.get_data(settings)  # validate before switching: a bad file never replaces good work
        note = state.use_data(settings, _current_task(), new.task)
        with gated():  # the saved models' files are read only from the allowed folders
            ws.baseline, ws.candidate = choose_models(new, ws.baseline, ws.candidate)
        state.save()
        if note:
            st.session_state[FLASH] = note
        st.rerun()


def _classification_mapping(layout) -> None:
    """The column-mapping step of a labelled-text table: text, label, id and the label map."""
    path = layout.path
    cols = _columns_of(layout)
    st.caption("Map the file's columns onto text, label and (optionally) a unique id.")
    c1, c2, c3 = st.columns(3)
    guess = {
        name: next((c for c in cols if c.lower() in options), cols[0])
        for name, options in (
            ("text", ("text", "tweet", "sentence", "content")),
            ("label", ("label", "gold", "target", "sentiment", "class")),
        )
    }
    text_col = c1.selectbox("Text column", cols, index=cols.index(guess["text"]), key="dm_up_text")
    label_col = c2.selectbox("Label column", cols, index=cols.index(guess["label"]), key="dm_up_label")
    id_col = c3.selectbox("Id column", ["(row number)"] + cols, key="dm_up_id")
    label_map = st.text_input(
        "Label map (when the labels are integers)",
        key="dm_up_label_map",
        placeholder="0=negative,1=positive",
        help=LABEL_MAP_HELP,
    )
    cluster = _cluster_picker(cols, "dm_up_cluster")
    if st.button("Load file", key="dm_up_load"):
        _apply_data(
            {
                "source": str(path),
                "text_col": text_col,
                "label_col": label_col,
                "id_col": None if id_col == "(row number)" else id_col,
                "label_map": label_map.strip() or None,
                "cluster_col": cluster,
            }
        )


NO_CLUSTER = "(rows are independent)"


def _cluster_picker(cols: list[str], key: str) -> str | None:
    """The mapping step's cluster column: rows that come in groups (article, user, conversation) make every
    interval, test and MDE cluster-robust; saved with the data settings."""
    pick = st.selectbox(
        "Cluster column (rows that come in groups)",
        [NO_CLUSTER] + cols,
        key=key,
        help="When rows come in groups (paragraphs, articles, users, conversations) they are not "
        "independent: name the group column and every interval, test and MDE accounts for it "
        "(cluster-robust variance; the design effect is shown).",
    )
    return None if pick == NO_CLUSTER else pick


def _generation_mapping(layout) -> None:
    """The column-mapping step of a generation table: prompt, gold answer(s), context passage and id columns."""
    cols = _columns_of(layout)
    st.caption(
        "Map the file's columns onto the prompt (question or instruction), the gold answer(s), the context "
        "passage (if any) and (optionally) a unique id. A gold cell holds one answer or a JSON array of "
        "answers."
    )
    c1, c2, c3, c4 = st.columns(4)
    prompt = c1.selectbox(
        "Prompt column", cols, index=cols.index(layout.prompt) if layout.prompt else 0, key="dm_up_prompt"
    )
    gold = c2.selectbox(
        "Gold answer(s) column", cols, index=cols.index(layout.gold) if layout.gold else 0, key="dm_up_gold"
    )
    contexts = [NO_CONTEXT_CHOICE] + [c for c in cols if c not in (prompt, gold)]
    context = c3.selectbox(
        "Context column",
        contexts,
        key="dm_up_context",
        index=contexts.index(layout.context) if layout.context in contexts else 0,
        help="The passage each prompt is answered from (feeds `has_context` and `context_tokens`; "
        "answers files without ids are aligned by prompt + context). Guessed from names such "
        "as context, passage, document, Context or original-context.",
    )
    id_col = c4.selectbox(
        "Id column", ["(row number)"] + cols, index=cols.index(layout.id) + 1 if layout.id else 0, key="dm_up_gid"
    )
    st.caption(
        md(
            "Model answers in the file: "
            + (
                ", ".join(f"{code(c)} ({lit(m)})" for m, c in layout.answers.items())
                if layout.answers
                else "none (give answers files below)"
            )
        )
    )
    tokenizer = st.radio(
        "ROUGE-L tokenizer",
        list(ROUGE_TOKENIZERS),
        horizontal=True,
        key="dm_up_rouge_tok",
        format_func={
            "default": "rouge-score's default (a-z0-9)",
            "unicode": "Unicode letters (keeps accents: Slovak, French...)",
        }.get,
        help=" · ".join(f"{k}: {v}" for k, v in ROUGE_TOKENIZERS.items()),
    )
    cluster = _cluster_picker(cols, "dm_up_gcluster")
    if st.button("Load file", key="dm_up_load"):
        _apply_data(
            {
                "source": str(layout.path),
                "task": "generation",
                "text_col": prompt,
                "label_col": gold,
                "context_col": NO_CONTEXT if context == NO_CONTEXT_CHOICE else context,
                "rouge_tokenizer": None if tokenizer == "default" else tokenizer,
                "id_col": None if id_col == "(row number)" else id_col,
                "cluster_col": cluster,
            }
        )


def _folder_source() -> None:
    """Open a TweetEval-format folder from the allowed data folders, or upload its files."""
    known = [str(p) for p in find_tweeteval_folders(allowed_roots())]
    how = st.radio(
        "Folder",
        ["open", "upload"],
        horizontal=True,
        key="dm_folder_how",
        format_func={"open": "open a folder on the server", "upload": "upload its files"}.get,
    )
    folder: Path | None = None
    if how == "open":
        current = ws.data.get("source", "")
        pick = st.selectbox(
            "TweetEval-format folders in the allowed data folders",
            known + ["(type a path)"],
            index=known.index(current) if current in known else 0,
            key="dm_folder_pick",
        )
        typed = st.text_input(
            "Folder path",
            key="dm_folder_path",
            placeholder="/path/to/tweeteval/irony",
            disabled=pick != "(type a path)",
            help="Allowed: " + ", ".join(map(str, allowed_roots())),
        )
        raw = typed.strip() if pick == "(type a path)" else pick
        if raw:
            with shown_errors(stop=False):
                folder = check_allowed(raw)
    else:
        files = st.file_uploader(
            "mapping.txt, <split>_text.txt, <split>_labels.txt (and predictions_<model>.txt)",
            type=["txt"],
            accept_multiple_files=True,
            key="dm_folder_files",
        )
        if files:
            with shown_errors(stop=False):
                folder = store_folder({f.name: f.getvalue() for f in files})
    st.caption(
        "One text per line in `<split>_text.txt`, its label id on the same line of `<split>_labels.txt`, "
        "and `mapping.txt` with `<id><TAB><label>` per line: the ids are read through it, never guessed. "
        "`predictions_<model>.txt` beside the test split become models."
    )
    if folder is None:
        return
    splits = tweeteval_splits(folder)
    if not splits:
        error(f"{folder} has no `<split>_text.txt` with its `<split>_labels.txt`")
        return
    c1, c2 = st.columns(2)
    split = c1.selectbox("Split", splits, index=splits.index("test") if "test" in splits else 0, key="dm_folder_split")
    n_rows = c2.number_input("First N rows (0 = all)", min_value=0, value=0, step=500, key="dm_folder_n")
    if st.button("Load folder", key="dm_folder_load"):
        _apply_data({"source": str(folder), "split": split, "n_rows": int(n_rows) or None})


with st.container(border=True):
    st.subheader("Dataset")
    current = _kind(ws.data)
    kind = st.radio(
        "Source",
        list(SOURCES),
        format_func=SOURCES.get,
        index=list(SOURCES).index(current),
        key="dm_source",
        horizontal=False,
    )
    if kind == "lab":
        if st.button("Use the demo data", key="dm_use_lab", disabled=ws.data == {"source": "lab"}):
            _apply_data({"source": "lab"})
    elif kind == "squad":
        st.caption(
            "SQuAD v1.1's development set: each question with its Wikipedia passage and 1+ gold answers, and "
            "the answers of two leaderboard systems shipped beside it (Match-LSTM as the baseline, BERT-large "
            "ensemble as the candidate). Answers are scored by exact match, token F1, relaxed match and "
            "ROUGE-L."
        )
        if st.button("Use SQuAD", key="dm_use_squad", disabled=ws.data == {"source": "squad"}):
            _apply_data({"source": "squad"})
    elif kind == "tweeteval":
        c1, c2 = st.columns(2)
        split = c1.selectbox("Split", ["test", "val"], key="dm_te_split")
        n_rows = c2.number_input("First N rows (0 = all)", min_value=0, value=0, step=500, key="dm_te_n")
        if st.button("Load TweetEval", key="dm_te_load"):
            _apply_data({"source": f"tweeteval:{split}", "n_rows": int(n_rows) or None})
    elif kind == "folder":
        _folder_source()
    elif kind == "upload":
        upload = st.file_uploader("File", type=["csv", "tsv", "jsonl", "json", "parquet"], key="dm_upload")
        if upload is not None:
            with shown_errors(stop=False):
                path = store_file(upload.name, upload.getvalue())
                layout = file_layout(path)
                if layout.squad:
                    st.caption(
                        "SQuAD v1.1 JSON: questions, passages and gold answers are read from its structure "
                        "(no mapping needed); give each model's `{id: answer}` file below."
                    )
                    if st.button("Load file", key="dm_up_load"):
                        _apply_data({"source": str(path), "task": "generation"})
                elif (
                    st.radio(
                        "Task",
                        list(TASKS),
                        format_func=TASKS.get,
                        horizontal=True,
                        key="dm_up_task",
                        index=1 if layout.generation else 0,
                        help="Generation: each row is a question or instruction with gold answer(s); models' "
                        "answers are scored against them (exact match, F1, ROUGE-L).",
                    )
                    == "generation"
                ):
                    _generation_mapping(layout)
                else:
                    _classification_mapping(layout)
    else:
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
        ds_id = c1.text_input("Dataset id or local path", placeholder="cardiffnlp/tweet_eval", key="dm_hf_id")
        config = c2.text_input("Config", placeholder="sentiment", key="dm_hf_config")
        split = c3.text_input("Split", value="test", key="dm_hf_split")
        n_rows = c4.number_input("First N rows", min_value=0, value=1000, step=500, key="dm_hf_n")
        label_map = st.text_input(
            "Label map (when the labels are integers without a ClassLabel)",
            key="dm_hf_label_map",
            placeholder="0=negative,1=positive",
            help=LABEL_MAP_HELP,
        )
        st.caption("Without network, only local paths and datasets already in the Hugging Face cache load.")
        if st.button("Load dataset", key="dm_hf_load", disabled=not ds_id.strip()):
            with shown_errors(stop=False):
                local = Path(ds_id.strip()).expanduser()
                if local.exists() or ds_id.strip().startswith(("/", ".", "~")):
                    check_allowed(local)  # a local path is a read of the server's disk
                _apply_data(
                    {
                        "source": f"hf:{ds_id.strip()}",
                        "config": config.strip() or None,
                        "split": split.strip() or "test",
                        "n_rows": int(n_rows) or None,
                        "label_map": label_map.strip() or None,
                    }
                )

with shown_errors():
    data = engine.get_data(ws.data)
dkey = engine.data_key(ws.data)

GENERATION = data.task == "generation"
c1, c2, c3 = st.columns([2, 1, 2])
c1.metric("Loaded", f"{len(data):,} rows")
if GENERATION:
    golds = data.golds
    c2.metric(
        "Gold answers per question",
        f"{sum(map(len, golds)) / len(golds):.2f}",
        help="Mean number of distinct gold answers; every score takes the best match over them",
    )
    with_context = int((data.df["context"].astype(str).str.strip() != "").sum())
    context_from = f"column {code(data.context_col)}" if data.context_col else "no context column"
    c3.caption(
        md(
            f"**{lit(data.name)}**  \nsource {code(ws.data.get('source'))}  \ntask: generation (a prompt and "
            f"its gold answers; {with_context:,} of {len(data):,} prompts with a context passage, from "
            f"{context_from}; ROUGE-L tokenizer: {lit(data.rouge_tokenizer)})"
        )
    )
    st.caption(
        "Each model's answer is scored against the gold answers: exact match and token F1 with SQuAD's "
        "normalisation, relaxed match, ROUGE-L and accuracy at ROUGE-L (how each is computed: Compare)."
    )
else:
    c2.metric("Labels", len(data.labels))
    declared = data.declared_labels
    c3.caption(
        md(
            f"**{lit(data.name)}**  \nsource {code(ws.data.get('source'))}  \nlabels from "
            f"{lit(declared.source)}: {code(declared.text)}"
        )
    )
    counts = data.df["label"].value_counts().reindex(list(data.labels)).fillna(0).astype(int)
    st.caption(esc("Label distribution: " + " · ".join(f"{k} {v:,} ({v / len(data):.0%})" for k, v in counts.items())))
with st.expander("Preview rows"):
    st.dataframe(data.df.head(200), hide_index=True, width="stretch")


# --- models ----------------------------------------------------------------------------------------


def _options() -> dict[str, str]:
    # Labels depend on the name only: the browser keeps a selected option's label while its value stays
    if GENERATION:
        opts = {name: f"{name} (answers in the data)" for name in data.precomputed}
        opts[FILE_CHOICE] = "Answers file (file:): one answer per question, aligned by id…"
        return opts
    opts = {name: f"{name} (predictions shipped with the data)" for name in data.precomputed}
    if is_sentiment(data.labels):  # VADER and the demo know only sentiment labels
        opts.update(LIVE_CHOICES)
    opts[FILE_CHOICE] = "Predictions file (file:): labels predicted elsewhere, one per row…"
    opts[HF_CHOICE] = "Hugging Face model: hub id or local directory…"
    return opts


def _file_spec(role: str, current: str) -> str | None:
    """A predictions file: uploaded (kept under the uploads folder) or a path the server allows."""
    upload = st.file_uploader(
        "Upload an answers file" if GENERATION else "Upload a predictions file",
        type=ANSWER_TYPES if GENERATION else ["txt", "csv", "jsonl", "json"],
        key=f"dm_{role}_file_up",
        help=ANSWERS_HELP
        if GENERATION
        else "`.txt`: one label (name, or id of the data's label map) per line, in the data's "
        "row order; `.csv` / `.jsonl`: columns `pred[,conf][,id]`",
    )
    if upload is not None:
        with shown_errors(stop=False):  # e.g. larger than the uploads cap: refused, with the limit
            return f"file:{store_file(upload.name, upload.getvalue())}"
        return None
    typed = st.text_input(
        "or its path on the server",
        value=current[len("file:") :] if current.startswith("file:") else "",
        key=f"dm_{role}_file_path",
        placeholder="/path/to/predictions.txt",
        help="Allowed: " + ", ".join(map(str, allowed_roots())),
    )
    if not typed.strip():
        return None
    with shown_errors(stop=False):
        return f"file:{check_allowed(typed.strip())}"
    return None


def model_picker(role: str, current: str) -> str | None:
    """A model choice: a known spec, a predictions file, or an hf: spec typed in. Returns the spec."""
    opts = _options()
    default = (
        current
        if current in opts
        else FILE_CHOICE
        if current.startswith("file:")
        else HF_CHOICE
        if current.startswith("hf:")
        else None
    )
    choice = st.selectbox(
        role.capitalize(),
        list(opts),
        index=None if default is None else list(opts).index(default),
        format_func=opts.get,
        key=f"dm_{role}_choice",
        placeholder="Choose a model",
    )
    if choice is None:
        return None
    if choice == FILE_CHOICE:
        return _file_spec(role, current)
    if choice != HF_CHOICE:
        return choice
    spec = st.text_input(
        f"{role.capitalize()} spec",
        value=current if current.startswith("hf:") else "hf:",
        help="`hf:<hub id or local dir>[@revision][#LABEL_0=negative,LABEL_1=-,...]` "
        "(`=-` drops a model label the task lacks)",
        key=f"dm_{role}_spec",
    )
    return spec.strip() if spec.strip() not in ("", "hf:") else None


def show_mapping(predictor) -> None:
    """How the model's labels land on the task's: mapped, dropped (renormalised), never predicted."""
    rows = pd.DataFrame(projection_rows(predictor))
    st.dataframe(rows, hide_index=True, width="stretch", height=min(35 * (len(rows) + 1) + 3, 240))
    for note in predictor.notes:
        st.caption(esc(note))
    warning = unreachable_warning(predictor, data.df["label"].tolist())
    if warning:
        st.warning(esc(warning), icon="⚠️")


with st.container(border=True):
    st.subheader("Models")
    if not (ws.baseline and ws.candidate) and GENERATION:
        st.info(
            "This data has no two answer columns to compare on its own: give each model's answers file "
            "(`file:`), e.g. the `{id: answer}` JSON an evaluation script writes."
        )
    elif not (ws.baseline and ws.candidate):
        st.info(
            md(
                f"No model shipped with this data applies to its labels ({lit(', '.join(data.labels))}) "
                "on its own: choose two, e.g. predictions files (`file:`) or Hugging Face models."
            )
        )
    left, right = st.columns(2)
    picks: dict[str, str | None] = {}
    loaded: dict[str, bool] = {}  # a spec is usable only once its model loaded and mapped its labels
    for col, role in ((left, "baseline"), (right, "candidate")):
        with col:
            picks[role] = model_picker(role, getattr(ws, role))
            spec = picks[role]
            if spec is None:
                st.info("Choose a model, or give its spec or file.")
                continue
            if spec == "demo" and not engine.demo_built():
                loaded[role] = True  # a valid choice: it is built on first use
                notice = st.empty()  # cleared when the build starts: no stale "not built yet"
                notice.warning(
                    "The demo transformer is not built yet: its top layer is trained offline on the "
                    "TweetEval validation split (under a minute on a quiet 2-core machine)."
                )
                if st.button("Build the demo transformer", key=f"dm_build_{role}"):
                    notice.empty()
                    with shown_errors(stop=False):
                        engine.get_predictor("demo", data, dkey)
                        st.rerun()
                continue
            if GENERATION:
                with shown_errors(stop=False):
                    answers = engine.get_predictions(data, dkey, spec)
                    loaded[role] = True
                    st.caption(
                        f"{model_hover(spec)} · {answers.n_total:,} answers, one for every row (aligned by id)",
                        unsafe_allow_html=True,
                    )
                continue
            with shown_errors(stop=False):
                predictor = engine.get_predictor(spec, data, dkey)
                loaded[role] = True
                info = data.precomputed.get(spec)
                kind = (
                    "live"
                    if predictor.live
                    else "precomputed (cannot score new text)"
                    + (", with confidences" if info and info.conf_col else ", no confidences" if info else "")
                )
                st.caption(f"{model_hover(spec)} · {kind}", unsafe_allow_html=True)
                show_mapping(predictor)
    ready = all(picks.values()) and picks["baseline"] != picks["candidate"] and len(loaded) == 2
    if all(picks.values()) and picks["baseline"] == picks["candidate"]:
        st.error("Baseline and candidate are the same model: choose two different models.")
    if ready and (picks["baseline"], picks["candidate"]) != (ws.baseline, ws.candidate):
        if st.button("Use these models", type="primary", key="dm_use_models"):
            ws.baseline, ws.candidate = picks["baseline"], picks["candidate"]
            state.save()
            st.rerun()

with st.container(border=True):
    st.subheader("Answers" if GENERATION else "Predictions")
    if not (ws.baseline and ws.candidate):
        st.info("Choose the baseline and the candidate above, then press *Use these models*.")
        st.stop()
    st.caption(
        f"Comparing {model_hover(ws.baseline, bold=True)} (baseline) with {model_hover(ws.candidate, bold=True)} "
        f"(candidate) on {len(data):,} rows.",
        unsafe_allow_html=True,
    )
    if GENERATION:
        with shown_errors():
            comp = engine.get_comparison(ws)
        table = generation_slice_metrics(comp.df_eval, {})
        rows = [
            {
                "role": r["role"],
                "model": r["model"],
                "status": f"{r['n']:,} answers read",
                **{
                    compared_metric(m).title + " [95%]": units.pct_ci(r[m], r[f"{m}_lo"], r[f"{m}_hi"])
                    for m in ("exact_match", "f1")
                },
            }
            for _, r in table.iterrows()
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="dm_gen_scores")
        st.caption(
            "Answers are read from the data or the answers files, never generated here, so nothing is cached. "
            "Every metric with its paired change per slice: Compare."
        )
        st.stop()
    pending = [s for s in (ws.baseline, ws.candidate) if not engine.predictions_ready(dkey, s)]
    # Cheap scoring starts at once; a transformer over a large dataset waits for an explicit click.
    cheap = all(engine.needs_data(s) or s.startswith("vader") for s in pending) or len(data) <= 2000
    go = not pending or cheap or st.button(f"Score {' and '.join(pending)}", type="primary", key="dm_score")
    rows = []
    for spec in (ws.baseline, ws.candidate):
        if spec == "demo" and not engine.demo_built():
            rows.append({"model": display_name(spec), "status": "demo transformer not built yet: build it above"})
            continue
        if spec in pending and not go:
            rows.append({"model": display_name(spec), "status": "not scored yet"})
            continue
        with shown_errors(stop=False):
            bar = progress_bar(f"Scoring with {spec}") if spec in pending else None
            preds = engine.get_predictions(data, dkey, spec, bar)
            acc = preds.accuracy(data.df["label"])
            rows.append({"model": display_name(spec), "status": preds.summary, "accuracy": pct(acc)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    cache = engine.prediction_cache()
    if cache.warning:
        st.warning(esc(cache.warning))
    st.caption(f"Prediction cache: `{cache.path}` · {cache.count():,} predictions stored.")
