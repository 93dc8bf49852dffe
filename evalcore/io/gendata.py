"""Generation data in: questions or instructions with one or more gold answers, and each model's answers.

`evalcore.io.load.load_data` hands a source here when it holds gold answers (or `task="generation"`):

- SQuAD v1.1 JSON (`{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
  "answers": [{"text"}...]}]}]}]}`), or `squad`: the shared SQuAD v1.1 dev set, whose default models
  are the Match-LSTM (baseline) and BERT-ensemble (candidate) answers shipped beside it;
- a CSV / TSV / JSONL / JSON-array / Parquet table with a prompt column (`question`, `instruction`,
  `prompt`, `input` or `text`; `text_col` to choose), an optional context column (`context`, `passage`,
  `document`), a gold column (`gold`, `golds`, `gold_answers`, `answers`, `answer`, `references`,
  `reference`, `target`; `label_col` to choose) and an optional `id`. A gold cell holds one answer, a
  list of answers, a JSON array text (`["a", "b"]`, in CSV), or SQuAD-on-Hugging-Face's `{"text": [...]}`.
  A table is generation data when it has a prompt and a gold column and no `label` column (else
  pass `task="generation"`). Columns `prediction`, `pred_<model>`, `prediction_<model>`,
  `<model>_pred` and `<model>_prediction` are models' answers (`prediction` alone is named after the file).

A model's answers (`load_answers(spec, data)`) come from a data column (`spec` = its model name or the
column's name) or from `file:<path>`: a `{"id": "answer"}` JSON object (SQuAD's prediction files), or a
JSONL / JSON-array / CSV file with `id` and `prediction` (or `pred`, `output`, `generation`), or, with no
id, the `instruction` / `question` / `prompt` (+ `context`) of each row, as evaluation scripts write
`{"instruction", "context", "gold", "prediction"}` lines. Answers are aligned by id (or by prompt);
an id of the data with no answer, an answer for an id the data does not have, a repeated id or a null
answer is refused with counts and examples. Rows cut by `n_rows` are not "extra".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.core.errors import DataError, EvalcoreError
from evalcore.core.paths import shared_data_dir
from evalcore.io import limits
from evalcore.io.data import TABLE_SUFFIXES, DataSource, EvalData, PrecomputedModel, read_table_file, text_values

GENERATION = "generation"
TASKS = ("classification", GENERATION)
SQUAD_ALIASES = ("squad", "squad:dev")
PROMPT_COLUMNS = ("question", "instruction", "prompt", "input", "text")
CONTEXT_COLUMNS = ("context", "passage", "document")
GOLD_COLUMNS = ("gold", "golds", "gold_answers", "answers", "answer", "references", "reference", "target")
ANSWER_COLUMNS = ("prediction", "pred", "output", "generation")
GOLD_COL = "gold_answers"  # df column: the gold answers as a JSON array text (lossless, and searchable)
CONTEXT_COL = "context"
MAX_EXAMPLES = 3
LOAD_OPTIONS = (
    "n_rows",
    "text_col",
    "label_col",
    "id_col",
    "context_col",
    "rouge_tokenizer",
    "split",
    "config",
    "labels",
    "label_map",
)
NO_CONTEXT = "-"  # context_col="-": the data has no context passage, whatever its columns are called
# ROUGE-L's tokenizer is declared with the data (its language), like its labels; evalcore.stats.genmetrics uses it
ROUGE_TOKENIZERS = {
    "default": "rouge-score's default tokenizer: lowercase, every character outside a-z0-9 a separator (accented "
    "and non-Latin letters are dropped), Porter stemmer on tokens longer than 3 characters",
    "unicode": "Unicode tokenizer: lowercase, a token is a run of Unicode letters and digits (accents kept: "
    "'planéte' is one token), Porter stemmer on ASCII tokens longer than 3 characters",
}
DEFAULT_ROUGE_TOKENIZER = "default"


def check_tokenizer(name: str) -> str:
    """A ROUGE-L tokenizer name (`ROUGE_TOKENIZERS`), or a `DataError` naming the choices."""
    if name not in ROUGE_TOKENIZERS:
        raise DataError(
            f"ROUGE-L tokenizer {str(name)[:40]!r} is unknown; allowed: {', '.join(ROUGE_TOKENIZERS)} "
            f"({'; '.join(f'{k}: {v}' for k, v in ROUGE_TOKENIZERS.items())})"
        )
    return name


@dataclass
class GenerationData(EvalData):
    """Generation data: `text` is the question or instruction, `context` the passage ("" when none),
    `label` the first gold answer (for display), `gold_answers` every gold answer as a JSON array.
    `source_ids`: the ids of the whole source, so that rows left out by `n_rows` are not mistaken
    for answers to unknown questions."""

    task: str = GENERATION
    source_ids: frozenset[str] = field(default_factory=frozenset)
    rouge_tokenizer: str = (
        "default"  # ROUGE-L's tokenizer (evalcore.stats.genmetrics.ROUGE_TOKENIZERS): the data's language
    )
    context_col: str | None = None  # the source column read as the context passage (None: no context)

    @property
    def golds(self) -> list[tuple[str, ...]]:
        """The gold answers of every row, in row order."""
        return [tuple(json.loads(v)) for v in self.df[GOLD_COL]]

    @property
    def prompts(self) -> list[tuple[str, str]]:
        """(question or instruction, context) of every row: the key of answers files without ids."""
        return list(zip(self.df["text"].astype(str).str.strip(), self.df[CONTEXT_COL].astype(str).str.strip()))


def squad_dir() -> Path:
    return shared_data_dir() / "squad"


def squad_dev_path() -> Path:
    return squad_dir() / "dev-v1.1.json"


# --- is this generation data? ---------------------------------------------------------------------


def claims(source: str | DataSource, task: str | None, options: Mapping[str, Any]) -> bool:
    """Whether `load_data` should hand `source` to `load_generation` (see the module docstring)."""
    if task not in (None, *TASKS):
        raise DataError(f"task {task!r} is unknown; allowed: {', '.join(TASKS)}")
    if task is not None:
        return task == GENERATION
    if isinstance(source, DataSource):
        if source.kind != "table":
            return False
        path, label_col = Path(source.path), options.get("label_col") or source.label_col
    elif isinstance(source, str):
        raw = source.strip()
        if raw in SQUAD_ALIASES:
            return True
        if raw.startswith(("hf:", "tweeteval")) or raw in ("lab", "demo"):
            return False
        path, label_col = Path(raw).expanduser(), options.get("label_col") or "label"
    else:
        return False
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    columns = _peek_columns(path)
    if columns == "squad":
        return True
    return (
        columns is not None
        and label_col not in columns
        and _guess(columns, GOLD_COLUMNS) is not None
        and _guess(columns, PROMPT_COLUMNS) is not None
    )


def _peek_columns(path: Path, strict: bool = False) -> list[str] | str | None:
    """The columns of a table without reading it whole ("squad" for SQuAD JSON; None if unreadable or over
    a limit of `evalcore.io.limits`: the loader that reads it then says what is wrong). `strict`: a limit or a
    path outside the allowed folders raises its `DataError` at once."""
    suffix = path.suffix.lower()
    try:
        checked = limits.check_file(path, "data file")
        if suffix in (".csv", ".tsv"):
            limits.check_csv(checked, "\t" if suffix == ".tsv" else ",", path.name)
            return [str(c) for c in pd.read_csv(checked, nrows=0, sep="\t" if suffix == ".tsv" else ",").columns]
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            limits.check_parquet(checked, path.name)
            return list(pq.read_schema(checked).names)
        with open(checked, encoding="utf-8") as fh:
            head = fh.read(4096).lstrip()
        if head.startswith("{") and suffix == ".json":
            doc = _json_doc(checked)
            return "squad" if _is_squad(doc) else list(doc) if isinstance(doc, dict) else None
        if head.startswith("["):
            doc = limits.read_json(checked, "data file")
            return list(doc[0]) if isinstance(doc, list) and doc and isinstance(doc[0], dict) else None
        with open(checked, encoding="utf-8") as fh:  # the whole first record (the file's size is bounded)
            first = next((ln for ln in fh if ln.strip()), "")
        record = limits.loads(first, path.name)
        return list(record) if isinstance(record, dict) else None
    except EvalcoreError:
        if strict:
            raise
        return None
    except (OSError, ValueError, UnicodeDecodeError, ImportError, RecursionError):
        return None


_JSON_DOC: dict[tuple[str, int, int], Any] = {}


def _json_doc(path: Path) -> Any:
    """A whole JSON file, parsed once while unchanged (`claims` and the loader both read SQuAD files), measured
    first (`evalcore.io.limits`: size, depth, integers)."""
    path = limits.check_file(path, "data file")
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _JSON_DOC:
        _JSON_DOC.clear()  # one document at a time: SQuAD dev is 10,570 questions
        _JSON_DOC[key] = limits.read_json(path, "data file")
    return _JSON_DOC[key]


def _is_squad(doc: Any) -> bool:
    data = doc.get("data") if isinstance(doc, dict) else None
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and isinstance(data[0].get("paragraphs"), list)
    )


# --- loading --------------------------------------------------------------------------------------


def load_generation(source: str | DataSource, **options: Any) -> GenerationData:
    """A validated `GenerationData` from a SQuAD JSON file, `squad`, or a prompt / gold table."""
    if isinstance(source, DataSource):
        options = {
            "n_rows": source.n_rows,
            "id_col": source.id_col,
            **({"text_col": source.text_col} if source.text_col != "text" else {}),
            **({"label_col": source.label_col} if source.label_col != "label" else {}),
            **options,
        }
        source = source.path
    options = {k: v for k, v in options.items() if v not in (None, (), [])}
    unknown = [k for k in options if k not in LOAD_OPTIONS]
    if unknown:
        raise DataError(
            f"option(s) {', '.join(unknown)} do not apply to generation data; allowed: n_rows, "
            "text_col (the prompt column), label_col (the gold column), id_col, context_col, rouge_tokenizer"
        )
    for key in ("split", "config", "labels", "label_map"):
        if key in options:
            raise DataError(
                f"option {key!r} does not apply to generation data (gold answers are free text, "
                "a file is one split); drop it"
            )
    n_rows = options.get("n_rows")
    if n_rows is not None and (not isinstance(n_rows, int) or n_rows < 1):
        raise DataError(f"n_rows must be a positive number of rows, got {n_rows!r}")
    raw = str(source).strip()
    path = squad_dev_path() if raw in SQUAD_ALIASES else Path(raw).expanduser()
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    squad = path.suffix.lower() == ".json" and _peek_columns(path) == "squad"
    if squad:  # (measured: evalcore.io.limits)
        if options.get("context_col") not in (None, NO_CONTEXT, CONTEXT_COL):
            raise DataError(
                f"context_col does not apply to SQuAD JSON ({path.name}): its passages are read from its paragraphs"
            )
        frame, name = _squad_frame(path), f"SQuAD {path.stem}"
        frame.attrs["context_col"] = "paragraphs[].context"
    else:
        frame, name = _table_frame(path, options), path.name
    context_col = frame.attrs.pop("context_col", None)
    source_ids = frozenset(frame["id"])
    if n_rows:
        frame = frame.head(n_rows).reset_index(drop=True)
    data = GenerationData(
        name=name,
        df=frame,
        labels=(),
        source=str(path),
        source_ids=source_ids,
        rouge_tokenizer=check_tokenizer(options.get("rouge_tokenizer") or DEFAULT_ROUGE_TOKENIZER),
        context_col=context_col,
        cluster_col="title" if squad else None,
    )  # SQuAD questions come in articles
    data.precomputed = _answer_columns(frame, path)
    if path.resolve() == squad_dev_path().resolve() and (squad_dir() / "predictions").is_dir():
        pred = squad_dir() / "predictions"
        data.default_models = (f"file:{pred / 'match_lstm.json'}", f"file:{pred / 'bert_ensemble.json'}")
    elif len(data.precomputed) == 2:
        data.default_models = tuple(data.precomputed)  # type: ignore[assignment]
    return data


def _squad_frame(path: Path) -> pd.DataFrame:
    try:
        doc = _json_doc(path)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name} is not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    n_questions = sum(
        len(p.get("qas", [])) if isinstance(p, dict) and isinstance(p.get("qas"), list) else 0
        for a in doc["data"]
        if isinstance(a, dict) and isinstance(a.get("paragraphs"), list)
        for p in a["paragraphs"]
    )
    limits.check_shape(
        path.name, n_questions, 5, memory_bytes=path.stat().st_size * 2 + n_questions * 5 * limits.STR_OVERHEAD
    )
    rows = []
    for a, article in enumerate(doc["data"]):
        paragraphs = article.get("paragraphs", []) if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(f"article {a + 1} of {path.name} is not an object with a `paragraphs` list")
        for p, para in enumerate(paragraphs):
            where = f"article {a + 1}, paragraph {p + 1} of {path.name}"
            qas = para.get("qas", []) if isinstance(para, dict) else None
            if not isinstance(qas, list):
                raise DataError(f"{where} is not an object with a `qas` list")
            for q in qas:
                if not isinstance(q, dict) or "id" not in q or "question" not in q:
                    raise DataError(f"a question in {where} lacks `id` or `question`")
                answers = q.get("answers", [])
                if not isinstance(answers, list):
                    raise DataError(f"the `answers` of question {str(q['id'])[:60]!r} in {where} is not a list")
                golds = [x.get("text", "") if isinstance(x, dict) else x for x in answers]
                rows.append(
                    {
                        "id": str(q["id"]),
                        "text": q["question"],
                        CONTEXT_COL: para.get("context", ""),
                        "golds": golds,
                        "title": str(article.get("title", "")),
                    }
                )
    return _finish(pd.DataFrame(rows), path.name)


def _norm(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


def _guess(columns: Sequence[str], candidates: Sequence[str], contains: str | None = None) -> str | None:
    """The first candidate name among `columns`: exact, then ignoring case, spaces and `-`/`_` (`Context`,
    `Question`); with `contains`, then any column whose name holds that word (`original-context`)."""
    exact = next((c for c in candidates if c in columns), None)
    if exact is not None:
        return exact
    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    found = next((by_norm[_norm(c)] for c in candidates if _norm(c) in by_norm), None)
    if found is None and contains:
        found = next((c for c in columns if contains in _norm(c)), None)
    return found


def _pick(
    columns: Sequence[str],
    wanted: str | None,
    candidates: Sequence[str],
    role: str,
    where: str,
    contains: str | None = None,
) -> str | None:
    if wanted:
        if wanted not in columns:
            raise DataError(f"{role} column {wanted!r} not found in {where} (columns: {', '.join(columns)})")
        return wanted
    return _guess(columns, candidates, contains)


def _table_frame(path: Path, options: Mapping[str, Any]) -> pd.DataFrame:
    df = _read_table(path)
    columns = [str(c) for c in df.columns]
    df.columns = columns
    prompt = _pick(columns, options.get("text_col"), PROMPT_COLUMNS, "prompt", path.name)
    gold = _pick(columns, options.get("label_col"), GOLD_COLUMNS, "gold", path.name)
    id_col = _pick(columns, options.get("id_col"), ("id",), "id", path.name)
    if prompt is None or gold is None:
        missing = (
            "a prompt column (" + ", ".join(PROMPT_COLUMNS) + ")"
            if prompt is None
            else "a gold column (" + ", ".join(GOLD_COLUMNS) + ")"
        )
        raise DataError(
            f"{path.name} has no {missing}; columns: {', '.join(columns)}; name it with the "
            f"{'text' if prompt is None else 'label'} column option"
        )
    context = _context_column(columns, options.get("context_col"), prompt, path.name)
    out = pd.DataFrame(
        {
            "id": df[id_col].astype(str).to_numpy() if id_col else [str(i) for i in range(len(df))],
            "text": text_values(df[prompt], f"prompt column {prompt!r} of {path.name}").to_numpy(),
            CONTEXT_COL: (
                text_values(df[context], f"context column {context!r} of {path.name}").fillna("").astype(str).to_numpy()
                if context
                else ""
            ),
            "golds": [_gold_list(v, i, path.name) for i, v in enumerate(df[gold])],
        }
    )
    for c in columns:
        if c not in {prompt, gold, id_col, context, "id", "text", "label", CONTEXT_COL, GOLD_COL}:
            out[c] = df[c].to_numpy()
    frame = _finish(out, path.name)
    frame.attrs["context_col"] = context
    return frame


def _context_column(columns: Sequence[str], wanted: str | None, prompt: str | None, where: str) -> str | None:
    """The context passage column: `wanted` (`-`: none), else `context` / `passage` / `document` in any case,
    else a column whose name holds "context" (`original-context`), never the prompt column."""
    if wanted == NO_CONTEXT:
        return None
    if wanted and wanted == prompt:
        raise DataError(f"context column {wanted!r} of {where} is also the prompt column; choose another")
    found = _pick(columns, wanted, CONTEXT_COLUMNS, "context", where, contains="context")
    if found == prompt:
        rest = [c for c in columns if c != prompt]
        found = _guess(rest, CONTEXT_COLUMNS, "context")
    return found


def _read_table(path: Path) -> pd.DataFrame:
    """A generation table: a CSV cell is read as text and an empty one is the empty string (CSV has no null:
    an empty answer is an answer), JSON null stays missing (`evalcore.io.data.read_table_file`)."""
    return read_table_file(path, na_empty=False, text=True)


def _gold_list(value: Any, row: int, where: str) -> list[str]:
    """One cell of a gold column as a list of answers (see the module docstring for the forms)."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = limits.loads(value, f"row {row + 1} of {where}")
        except DataError as exc:
            if _JSON_ARRAY.match(value):
                raise DataError(
                    f"row {row + 1} of {where}: the gold cell starts like a JSON array of answers but "
                    f"does not read as one ({exc}); write one answer, or a JSON array of answers"
                ) from exc
            # a single answer that starts with a bracket (`[Applause]`, `[1] Smith`) is that answer
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not all(v is None or isinstance(v, (str, int, float)) for v in value):
            raise DataError(
                f"row {row + 1} of {where}: a gold answer in the list is not a text; write a list of strings"
            )
        return [str(v) for v in value if v is not None]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (dict, set)):
        raise DataError(
            f"row {row + 1} of {where}: the gold cell holds a {type(value).__name__}, not an answer "
            '(a dict needs a "text" field); write one answer or a list of answers'
        )
    if isinstance(value, (bytes, bytearray)):
        return list(text_values([value], f"the gold column of {where}"))
    return [str(value)]


# A gold cell that reads as a JSON array is a list of answers; one that starts like an array of strings
# (`["...`, `[[`) but does not read is refused (a truncated list); any other cell is one answer, brackets and
# all (`[Applause]`, `[citation needed]`).
_JSON_ARRAY = re.compile(r'\s*\[\s*["\[]')


def _finish(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Checks every generation loader shares, then the df layout of `GenerationData`."""
    if df.empty:
        raise DataError(f"{name} has no rows")
    dup = df["id"].duplicated()
    if dup.any():
        raise DataError(
            f"duplicate id {df['id'][dup].iloc[0]!r} in {name} ({int(dup.sum())} repeats); ids must be unique"
        )
    text = df["text"]
    bad = text.isna() | (text.astype(str).str.strip() == "")
    if bad.any():
        raise DataError(
            f"empty question or instruction in {int(bad.sum())} row(s) of {name} (ids "
            f"{_examples(df['id'][bad])}); every row needs a prompt"
        )
    golds = [list(dict.fromkeys(g for g in gs if str(g).strip())) for gs in df["golds"]]
    none = np.array([not g for g in golds])
    if none.any():
        raise DataError(
            f"{int(none.sum())} row(s) of {name} have no gold answer (ids {_examples(df['id'][none])}); "
            "every row needs at least one non-empty gold answer"
        )
    out = df.drop(columns="golds")
    out["text"] = text_values(text, f"the prompts of {name}").astype(str)
    out.insert(2, "label", [g[0] for g in golds])
    out.insert(4, GOLD_COL, [json.dumps(g, ensure_ascii=False) for g in golds])
    return out.reset_index(drop=True)


def answer_models(columns: Sequence[str], stem: str) -> dict[str, str]:
    """Model answer columns among `columns`, model name -> column (see the module docstring; `prediction`
    alone is named after the file's `stem`)."""
    found: dict[str, str] = {}
    for col in columns:
        name = None
        if col == "prediction":
            name = stem
        for prefix in ("pred_", "prediction_"):
            if col.startswith(prefix) and len(col) > len(prefix):
                name = col[len(prefix) :]
        for suffix in ("_pred", "_prediction"):
            if col.endswith(suffix) and len(col) > len(suffix):
                name = col[: -len(suffix)]
        if name:
            found[name] = col
    return found


def _answer_columns(df: pd.DataFrame, path: Path) -> dict[str, PrecomputedModel]:
    """Model answer columns of a data table, by model name."""
    return {name: PrecomputedModel(pred_col=col) for name, col in answer_models(list(df.columns), path.stem).items()}


@dataclass(frozen=True)
class FileLayout:
    """What an upload's column-mapping step needs to know about a file before loading it: SQuAD JSON
    (no mapping) or a table's columns, whether it looks like generation data, and the columns the
    loader would pick (prompt, gold, context, id) and the model answer columns it would find."""

    path: Path
    squad: bool
    columns: tuple[str, ...]
    generation: bool
    prompt: str | None = None
    gold: str | None = None
    context: str | None = None
    id: str | None = None
    answers: Mapping[str, str] = field(default_factory=dict)


def file_layout(path: str | Path) -> FileLayout:
    """The layout of a data file (`FileLayout`; no columns when they cannot be read: the loader that reads
    the file then says what is wrong)."""
    path = Path(path)
    columns = _peek_columns(path, strict=True)
    if columns is None:
        return FileLayout(path, False, (), False)
    if columns == "squad":
        return FileLayout(path, True, (), True)
    cols = tuple(str(c) for c in columns)
    prompt = _guess(cols, PROMPT_COLUMNS)
    return FileLayout(
        path,
        False,
        cols,
        claims(str(path), None, {}),
        prompt,
        _guess(cols, GOLD_COLUMNS),
        _context_column(cols, None, prompt, path.name),
        "id" if "id" in cols else None,
        answer_models(cols, path.stem),
    )


# --- a model's answers ----------------------------------------------------------------------------


def _examples(values: Iterable[Any], k: int = MAX_EXAMPLES) -> str:
    items = [repr(str(v)[:60]) for v in list(values)[: k + 1]]
    return ", ".join(items[:k]) + (", ..." if len(items) > k else "")


__all__ = [
    "ANSWER_COLUMNS",
    "CONTEXT_COLUMNS",
    "FileLayout",
    "GENERATION",
    "GOLD_COL",
    "GOLD_COLUMNS",
    "GenerationData",
    "PROMPT_COLUMNS",
    "SQUAD_ALIASES",
    "TASKS",
    "answer_models",
    "claims",
    "file_layout",
    "load_generation",
    "squad_dev_path",
]
