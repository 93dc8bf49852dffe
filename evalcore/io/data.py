"""Datasets in, one shape out: rows `id, text, label` (labels as strings) plus extra columns.

One entry point, `load_data(source)` (`evalcore.io.load`), serves the CLI, the app and notebooks. A source is a
`DataSource` or its string form:

- `lab` (alias `demo`): the lab file `../shared/data/lab/tweets.csv`, whose prediction columns
  become two precomputed models (baseline `roberta`, candidate `gpt2`);
- `tweeteval[:<split>]`: the shared TweetEval sentiment folder; or any TweetEval-format folder path
  (`<split>_text.txt`, `<split>_labels.txt`, `mapping.txt`), any task;
- a `.csv`, `.jsonl`/`.json` or `.parquet` path, with a column mapping (text, label, optional id);
- `hf:<dataset id or local path>` with `config`, `split` and `n_rows`, read by `datasets.load_dataset`.

Labels are read through `evalcore.io.labels`: integer gold labels only through a declared map
(`mapping.txt`, a `ClassLabel`, or the `label_map` option, e.g. `0=negative,1=positive`), never
as positions in a guessed order. Every loader validates before returning: nothing half-loaded ever
reaches a caller; problems raise `DataError` naming the file, the column or row, and what is allowed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from evalcore.core import memory
from evalcore.core.errors import DataError, EvalcoreError
from evalcore.core.paths import home, shared_data_dir
from evalcore.io import limits
from evalcore.io.labels import (
    SENTIMENT_LABELS,
    LabelMap,
    combine,
    infer_names,
    label_map_from_pairs,
    label_text,
    names_only,
    parse_label_map,
    read_labels,
    shown,
)

CORE_COLUMNS = ("id", "text", "label")
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
# Suffixes that mark a confidence column beside a prediction column (`roberta` + `roberta_score`).
CONF_SUFFIXES = ("_score", "_conf", "_confidence", "_prob")
SENTIMENT_ORDER = SENTIMENT_LABELS
SPLIT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,63}")
# `datasets` builders that read files named elsewhere (default: the working folder), never a dataset id:
# `hf:csv` would read the server's own files. tests/test_inputs.py checks the list covers datasets' own.
HF_BUILDERS = frozenset(
    {
        "arrow",
        "audiofolder",
        "cache",
        "conll",
        "csv",
        "eval",
        "fasta",
        "fastq",
        "folder_based_builder",
        "genbank",
        "generator",
        "harbor",
        "hdf5",
        "iceberg",
        "imagefolder",
        "json",
        "lance",
        "meshfolder",
        "mmcif",
        "niftifolder",
        "pandas",
        "parquet",
        "pdb",
        "pdffolder",
        "spark",
        "sql",
        "text",
        "tsfile",
        "videofolder",
        "vortex",
        "webdataset",
        "xml",
    }
)
MAX_HF_FILES = 10_000  # files of a local Hugging Face folder checked one by one before datasets reads them


def check_split(split: str) -> str:
    """A split is a name (`test`, `val`, `validation`), never a path: `../` would read outside the folder."""
    if not isinstance(split, str) or not SPLIT_RE.fullmatch(split) or ".." in split:
        raise DataError(
            f"split {str(split)[:80]!r} is not a split name: letters, digits, _ . + - (up to 64, "
            "no '..'), e.g. test or val"
        )
    return split


def check_hf_id(target: str) -> str:
    """Refuse a `datasets` builder name (`csv`, `json`, `text`, `parquet`...) given as a dataset id: it reads
    files from the server's working folder, not a dataset. A local file or folder of that name is fine."""
    name = target.strip().rstrip("/").lower()
    if name in HF_BUILDERS and not Path(target).expanduser().exists():
        raise DataError(
            f"hf:{target.strip()} names a `datasets` builder, not a dataset: it would read files from "
            "the server's working folder. Give a dataset id (`org/name`), or the path of a data "
            "file or folder (`hf:path/to/data.csv`, or the file itself as the data source)"
        )
    return target


@dataclass(frozen=True)
class PrecomputedModel:
    """Predictions shipped with the data: a column of predicted labels and an optional confidence."""

    pred_col: str
    conf_col: str | None = None


@dataclass
class EvalData:
    """A loaded dataset.

    `df` has columns `id` (str, unique), `text` (str, non-empty), `label` (str, one of `labels`)
    and any extra columns of the source. `labels` is the ordered label set: model probability
    vectors use this order. `label_map` is where that order came from, with the declared ids
    (None in hand-built instances: then the labels are names only). `precomputed` names the models
    whose predictions are columns of `df`.
    """

    name: str
    df: pd.DataFrame
    labels: tuple[str, ...]
    source: str
    precomputed: dict[str, PrecomputedModel] = field(default_factory=dict)
    default_models: tuple[str, str] | None = None
    label_map: LabelMap | None = None
    task: str = "classification"  # or "generation" (evalcore.io.gendata.GenerationData): picks metrics, slices, gates
    # rows come in groups (articles, users...): every interval, test and MDE is cluster-aware (evalcore.stats.paired)
    cluster_col: str | None = None

    def __len__(self) -> int:
        return len(self.df)

    @property
    def texts(self) -> list[str]:
        return self.df["text"].tolist()

    @property
    def declared_labels(self) -> LabelMap:
        """The label map every reader of this data's labels goes through (`evalcore.io.labels.read_labels`)."""
        return self.label_map or names_only(self.labels, self.name)


@dataclass(frozen=True)
class DataSource:
    """Where data comes from and how its columns map onto `id, text, label`.

    `labels` fixes the label set and its order by name (any other label is an error).
    `label_map` (`0=negative,1=positive`) declares which integer id is which label; integer labels
    are refused without one (a TweetEval folder's `mapping.txt` and an HF `ClassLabel` declare
    theirs). When neither is given, label names are read from the data (sentiment labels in
    negative/neutral/positive order, else sorted).
    """

    kind: str  # "lab" | "tweeteval" | "table" | "hf"
    path: str = ""
    split: str = "test"
    config: str | None = None
    n_rows: int | None = None
    text_col: str = "text"
    label_col: str = "label"
    id_col: str | None = None
    labels: tuple[str, ...] = ()
    label_map: str | None = None

    @classmethod
    def parse(cls, text: str, **options: Any) -> "DataSource":
        """Read a source string (`lab`, `tweeteval:val`, `data.csv`, `hf:name`) plus options."""
        raw = (text or "").strip()
        if not raw:
            raise DataError("data source is empty: give `lab`, `tweeteval[:split]`, a file path or `hf:<id>`")
        options = {k: v for k, v in options.items() if v is not None}
        if "labels" in options:
            options["labels"] = tuple(options["labels"])
        if raw in ("lab", "demo"):
            return cls(kind="lab", path=str(lab_csv_path()), **options)
        if "split" in options:
            check_split(options["split"])
        if raw == "tweeteval" or raw.startswith("tweeteval:"):
            split = check_split(raw.partition(":")[2] or options.pop("split", "test"))
            options.pop("split", None)
            return cls(kind="tweeteval", path=str(tweeteval_dir()), split=split, **options)
        if raw.startswith("hf:"):
            return cls(kind="hf", path=check_hf_id(raw[3:]), **options)
        path = Path(raw).expanduser()
        if path.is_dir():
            return cls(kind="tweeteval", path=str(path), **options)
        if path.suffix.lower() in TABLE_SUFFIXES:
            return cls(kind="table", path=str(path), **options)
        raise DataError(
            f"data source {raw!r} is not a known source: give `lab`, `tweeteval[:split]`, a TweetEval "
            f"folder, a file ending in {', '.join(TABLE_SUFFIXES)}, or `hf:<dataset id or path>`"
        )

    def __str__(self) -> str:
        if self.kind == "lab":
            return "lab"
        if self.kind == "tweeteval":
            return f"{self.path}:{self.split}" if self.path != str(tweeteval_dir()) else f"tweeteval:{self.split}"
        if self.kind == "hf":
            return f"hf:{self.path}"
        return self.path


def lab_csv_path() -> Path:
    return shared_data_dir() / "lab" / "tweets.csv"


def tweeteval_dir() -> Path:
    return shared_data_dir() / "tweet_eval" / "sentiment"


NO_CLUSTERS = ("", "none", "off")


def with_clusters(data: EvalData, column: str | None) -> EvalData:
    """Name the data's cluster column (None: keep the source's default, e.g. SQuAD's article title;
    "none": rows are independent). The column must exist and have a value in every row."""
    if column is None:
        return data
    if str(column).strip().lower() in NO_CLUSTERS:
        data.cluster_col = None
        return data
    column = str(column).strip()
    if column in ("id", "text"):
        raise DataError(
            f"cluster column {column!r} holds one value per row: name a column whose rows come in "
            "groups (article, user, conversation...)"
        )
    if column not in data.df.columns:
        near = difflib.get_close_matches(column, [str(c) for c in data.df.columns], n=1)
        raise DataError(
            f"cluster column {column!r} is not in {data.name}"
            + (f" — did you mean {near[0]!r}?" if near else "")
            + f" (columns: {', '.join(map(str, data.df.columns[:20]))})"
        )
    values = data.df[column]
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        raise DataError(
            f"cluster column {column!r} is empty in {int(empty.sum())} row(s) (first: row "
            f"{int(np.flatnonzero(empty.to_numpy())[0]) + 1}); every row needs its group"
        )
    data.cluster_col = column
    return data


def _load_classification(source: str | DataSource, options: dict[str, Any]) -> EvalData:
    src = DataSource.parse(source, **options) if isinstance(source, str) else replace(source, **options)
    if src.label_map is not None and not str(src.label_map).strip():
        src = replace(src, label_map=None)
    if src.n_rows is not None and src.n_rows < 1:
        raise DataError(f"n_rows must be a positive number of rows, got {src.n_rows}")
    loader = {"lab": _load_lab, "tweeteval": _load_tweeteval, "table": _load_table, "hf": _load_hf}
    if src.kind not in loader:
        raise DataError(f"unknown data source kind {src.kind!r}; allowed: {', '.join(loader)}")
    return loader[src.kind](src)


# --- loaders -----------------------------------------------------------------------------------


def _load_lab(src: DataSource) -> EvalData:
    src = replace(src, labels=src.labels or (() if src.label_map else SENTIMENT_ORDER))
    data = _load_table(src)
    data.name = "lab tweets (500, with roberta / gpt2 predictions)"
    if not src.label_map and data.labels == SENTIMENT_ORDER:
        data.label_map = LabelMap(SENTIMENT_ORDER, None, "the lab file's sentiment label names")
    if {"roberta", "gpt2"} <= set(data.precomputed):
        data.default_models = ("roberta", "gpt2")
    return data


def _load_tweeteval(src: DataSource) -> EvalData:
    folder = Path(src.path)
    check_split(src.split)
    text_file = folder / f"{src.split}_text.txt"
    label_file = folder / f"{src.split}_labels.txt"
    mapping_file = folder / "mapping.txt"
    for f in (text_file, label_file, mapping_file):
        if f.is_symlink() or f.exists():
            limits.check_file(f, "file")  # a regular file (not a device), and in the dashboard inside the roots
        if not f.is_file():
            splits = sorted(p.name[: -len("_text.txt")] for p in folder.glob("*_text.txt")) if folder.is_dir() else []
            hint = f" (splits present: {', '.join(splits)})" if splits else ""
            raise DataError(f"TweetEval folder {folder} has no file {f.name}{hint}")
    texts = [line.rstrip("\r\n").strip() for line in _read_lines(text_file)]
    limits.check_shape(
        text_file.name, len(texts), 1, memory_bytes=text_file.stat().st_size + len(texts) * limits.STR_OVERHEAD * 3
    )
    raw_labels = [line.strip() for line in _read_lines(label_file)]
    if len(texts) != len(raw_labels):
        raise DataError(
            f"ragged TweetEval files: {text_file.name} has {len(texts)} lines but "
            f"{label_file.name} has {len(raw_labels)}; they must be aligned line by line"
        )
    mapping = combine([_read_mapping(mapping_file), _user_map(src)], src.labels)
    gold = read_labels(raw_labels, mapping, where=label_file.name)
    shipped = _tweeteval_predictions(folder, src.split, len(raw_labels), mapping) if src.split == "test" else {}
    if src.n_rows:
        texts, gold = texts[: src.n_rows], gold[: src.n_rows]
    df = pd.DataFrame({"id": [f"{src.split}-{i}" for i in range(len(texts))], "text": texts, "label": gold})
    for name, values in shipped.items():
        df[name] = values[: len(df)]
    data = _finish(df, mapping.names, name=f"TweetEval {folder.name} {src.split}", source=str(src), known=True)
    data.precomputed = {name: PrecomputedModel(pred_col=name) for name in shipped}
    data.label_map = mapping
    return data


def _tweeteval_predictions(folder: Path, split: str, n: int, mapping: LabelMap) -> dict[str, list[str]]:
    """`predictions_<model>.txt` files shipped beside the test split (aligned line by line, label ids
    read through `mapping.txt`) become precomputed models named `<model>`; a file that does not
    align or does not read is left alone (it stays usable as `file:`, which reports why)."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("predictions_*.txt")):
        try:  # (a link outside the allowed folders, or to a device, is refused before it is read)
            values = [line.strip() for line in _read_lines(path)]
            if len(values) == n:
                found[path.stem[len("predictions_") :]] = read_labels(values, mapping, where=path.name)
        except DataError:
            continue
    return found


def tweeteval_splits(folder: str | Path) -> list[str]:
    """Splits of a TweetEval-format folder: each `<split>_text.txt` with its `<split>_labels.txt`."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        p.name[: -len("_text.txt")]
        for p in folder.glob("*_text.txt")
        if (folder / p.name.replace("_text.txt", "_labels.txt")).is_file()
    )


def find_tweeteval_folders(roots: Sequence[Path], max_depth: int = 4) -> list[Path]:
    """TweetEval-format folders (a `mapping.txt` and at least one split) under `roots`, at most
    `max_depth` levels down, sorted: what the dashboard offers to open."""
    found: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        for depth in range(max_depth + 1):
            for mapping in root.glob("/".join(["*"] * depth + ["mapping.txt"])):
                if tweeteval_splits(mapping.parent):
                    found.add(mapping.parent)
    return sorted(found)


def _user_map(src: DataSource) -> LabelMap | None:
    return parse_label_map(src.label_map) if src.label_map else None


def _load_table(src: DataSource) -> EvalData:
    path = Path(src.path).expanduser()
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"unsupported file type {path.suffix!r} for {path.name}; allowed: {', '.join(TABLE_SUFFIXES)}")
    df = read_table_file(path, na_empty=True)
    if src.n_rows:
        df = df.head(src.n_rows)
    return _from_frame(df, src, name=path.name)


def read_table_file(path: Path, *, na_empty: bool, text: bool = False) -> pd.DataFrame:
    """A CSV / TSV / JSONL / JSON-array / Parquet file as a DataFrame, measured first (`evalcore.io.limits`:
    a regular file inside the allowed folders, its size, a Parquet file's metadata, a CSV's header and
    line count, a JSON text's depth and integers). An empty CSV cell is missing (`na_empty`) or the empty
    string; `text` reads every CSV cell as text. Every problem is a `DataError` naming the file."""
    path = limits.check_file(path, "data file")
    suffix = path.suffix.lower()
    fmt = TABLE_SUFFIXES.get(suffix)
    if fmt is None:
        raise DataError(f"unsupported file type {suffix!r} for {path.name}; allowed: {', '.join(TABLE_SUFFIXES)}")
    try:
        if fmt == "csv":
            sep = "\t" if suffix == ".tsv" else ","
            limits.check_csv(path, sep, path.name)
            options = {"keep_default_na": False, "na_values": [""]} if na_empty else {"na_filter": False}
            return pd.read_csv(
                path, sep=sep, encoding="utf-8", encoding_errors="strict", **({"dtype": str} if text else {}), **options
            )
        if fmt == "json":
            return _read_json(path)
        limits.check_parquet(path, path.name)
        return _read_parquet(path)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path.name} is not valid UTF-8 (byte {exc.start}: {exc.reason}); re-save it as UTF-8"
        ) from exc
    except EvalcoreError:
        raise
    except (MemoryError, RecursionError) as exc:  # the limits above should have said why; never a traceback
        raise DataError(f"{path.name} is too large or too deeply nested to read ({type(exc).__name__})") from exc
    except Exception as exc:  # parser errors of pandas / pyarrow: show their message, not a traceback
        raise DataError(f"could not read {path.name} as {fmt}: {str(exc)[:300]}") from exc


def _read_parquet(path: Path) -> pd.DataFrame:
    """`pd.read_parquet`, one column at a time: decoding the whole file at once holds every column's decode
    buffers together (a 1M-row file of tweets: 510 MB peak for a 180 MB frame, 450 MB this way). The frame is
    the one pandas builds (same Arrow table, schema and pandas metadata, same conversion); any surprise in
    this path falls back to `pd.read_parquet`. Arrow's allocator keeps freed pages: they go back afterwards."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        from pandas.io._util import arrow_table_to_pandas  # what pd.read_parquet calls on the table it read

        file = pq.ParquetFile(str(path))
        schema = file.schema_arrow
        if len(set(schema.names)) != len(schema.names):
            raise ValueError("duplicate column names")
        columns = []
        for name in schema.names:
            columns.append(file.read(columns=[name], use_pandas_metadata=False).column(0))
            memory.release_unused()
        table = pa.Table.from_arrays(columns, schema=schema)
        del columns
        out = arrow_table_to_pandas(table)
        if schema.metadata and b"PANDAS_ATTRS" in schema.metadata:
            out.attrs = json.loads(schema.metadata[b"PANDAS_ATTRS"])
    except Exception:  # noqa: BLE001 (an unusual file: pandas' own reader, and its message if it fails too)
        out = pd.read_parquet(path)
    memory.release_unused()
    return out


def _load_hf(src: DataSource) -> EvalData:
    """Read a Hugging Face dataset by hub id, local folder or local data file.

    A local file goes through the matching `datasets` builder (`csv`, `json`, `parquet`), so the same
    code path that reads the hub is exercised offline.
    """
    try:
        import datasets  # heavy; only here
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise DataError("the `datasets` package is needed for hf: sources: pip install datasets") from exc
    check_hf_id(src.path)
    check_split(src.split)
    split = f"{src.split}[:{src.n_rows}]" if src.n_rows else src.split
    local = Path(src.path).expanduser()
    cache_dir = str(home() / "hf_datasets")  # everything evalcore writes stays under one folder
    _check_hf_files(local)
    try:
        if local.is_file():
            builder = TABLE_SUFFIXES.get(local.suffix.lower())
            if builder is None:
                raise DataError(f"unsupported file type {local.suffix!r} for hf:{src.path}")
            ds = datasets.load_dataset(builder, data_files={src.split: str(local)}, split=split, cache_dir=cache_dir)
        else:
            ds = datasets.load_dataset(src.path, src.config, split=split, cache_dir=cache_dir)
    except DataError:
        raise
    except Exception as exc:  # offline hub, unknown split or config: one readable message (never file contents)
        raise DataError(
            f"could not load Hugging Face dataset {src.path!r} (config={src.config}, "
            f"split={split!r}): {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        ) from exc
    limits.check_shape(
        f"hf:{src.path}",
        ds.num_rows,
        len(ds.column_names),
        memory_bytes=ds.data.nbytes + ds.num_rows * len(ds.column_names) * limits.STR_OVERHEAD,
    )
    df = ds.to_pandas()
    names = getattr(ds.features.get(src.label_col), "names", None)
    declared = label_map_from_pairs(enumerate(names), f"the ClassLabel of column {src.label_col!r}") if names else None
    return _from_frame(df, src, name=f"hf:{src.path} {src.split}", declared=declared)


def _check_hf_files(local: Path) -> None:
    """Every file `datasets` would read from a local file or folder, measured and (in the dashboard) checked
    against the allowed folders one by one, symlinks resolved per file (`evalcore.io.limits.check_file`)."""
    if not (local.exists() or local.is_symlink()):
        return  # a hub id
    if not local.is_dir():
        read_shape_only(local)
        return
    from evalcore.io.allowed import guard

    guard(local)
    for seen, path in enumerate(sorted(local.rglob("*")), start=1):
        if seen > MAX_HF_FILES:
            raise DataError(f"hf:{local} holds more than {MAX_HF_FILES:,} files; point at the data files' folder")
        if path.is_symlink():
            guard(path)  # resolved on its own: a link inside the folder may point anywhere
        if path.is_dir() or (path.name.startswith(".") and not path.is_symlink()):
            continue  # folders are walked; datasets skips hidden files
        read_shape_only(path)


def read_shape_only(path: Path) -> None:
    """The checks `read_table_file` makes before reading, without reading the table (other files: their
    type, place and size)."""
    path = limits.check_file(path, "data file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        limits.check_csv(path, "\t" if suffix == ".tsv" else ",", path.name)
    elif suffix == ".parquet":
        limits.check_parquet(path, path.name)
    elif suffix in (".json", ".jsonl"):
        limits.check_json_text(limits.read_text(path, "data file"), path.name)


# --- shared validation -------------------------------------------------------------------------


def _from_frame(df: pd.DataFrame, src: DataSource, *, name: str, declared: LabelMap | None = None) -> EvalData:
    """Map source columns onto id/text/label, read the labels through the declared map (`declared`
    by the source, `label_map` / `labels` by the user), validate, and detect prediction columns."""
    columns = [str(c) for c in df.columns]
    df.columns = columns
    for role, col in (("text", src.text_col), ("label", src.label_col)):
        if col not in columns:
            raise DataError(_missing_column(col, role, columns, src.path))
    id_col = src.id_col or ("id" if "id" in columns else None)
    if id_col and id_col not in columns:
        raise DataError(_missing_column(id_col, "id", columns, src.path))
    extras = [c for c in columns if c not in {src.text_col, src.label_col, id_col} and c not in CORE_COLUMNS]
    df = df.reset_index(drop=True)  # columns are taken as they are (Arrow strings stay Arrow: no copy to objects)
    out = pd.DataFrame(
        {
            "id": df[id_col].astype(str) if id_col else [str(i) for i in range(len(df))],
            "text": df[src.text_col],
            "label": df[src.label_col],
        }
    )
    for c in extras:
        out[c] = df[c]
    if out["label"].isna().any():
        row = int(out.index[out["label"].isna()][0])
        raise DataError(f"missing label in column {src.label_col!r} at row {row + 1} of {name}")
    where = f"column {src.label_col!r} of {name}"
    mapping = combine([declared, _user_map(src)], src.labels) or infer_names(out["label"], where=where)
    out["label"] = read_labels(out["label"], mapping, where=where)
    data = _finish(out, mapping.names, name=name, source=str(src), known=True)
    data.precomputed = _detect_precomputed(data.df, extras, mapping)
    data.label_map = mapping
    return data


def _finish(df: pd.DataFrame, labels: Sequence[str], *, name: str, source: str, known: bool) -> EvalData:
    """Checks every loader shares: texts present, labels allowed, ids unique, at least one row."""
    if df.empty:
        raise DataError(f"{name} has no rows")
    text = text_values(df["text"], f"the text column of {name}")
    bad = _blank(text)
    if bad is not None:
        rows = [str(i + 1) for i in df.index[bad][:5]]
        raise DataError(
            f"empty text in {int(bad.sum())} row(s) of {name} (rows {', '.join(rows)}); "
            "every row needs a non-empty text"
        )
    df["text"] = text.astype(str)
    labels = tuple(str(x) for x in labels)
    unknown = ~df["label"].isin(labels)
    if unknown.any():
        first = int(df.index[unknown][0])
        raise DataError(
            f"unknown label {shown(df['label'].iloc[first])} at row {first + 1} of {name} "
            f"({int(unknown.sum())} such rows); allowed labels: {', '.join(labels)}"
        )
    dup = df["id"].duplicated()
    if dup.any():
        raise DataError(f"duplicate id {shown(df['id'][dup].iloc[0])} in {name}; ids must be unique")
    df = df.reset_index(drop=True)
    return EvalData(name=name, df=df, labels=labels, source=source)


def _blank(text: pd.Series) -> pd.Series | None:
    """Rows whose text is missing, empty or only whitespace (`str.strip()` leaves nothing); None when there is
    none. Arrow strings are tested in Arrow (`utf8_is_space`: the same whitespace as `str.strip` on them, without
    a stripped copy of every text); anything else as Python strings."""
    if hasattr(text.array, "__arrow_array__"):
        import pyarrow.compute as pc

        arr = text.array.__arrow_array__()
        blank = pc.or_kleene(pc.is_null(arr), pc.or_(pc.equal(pc.utf8_length(arr), 0), pc.utf8_is_space(arr)))
        if not pc.any(blank).as_py():
            return None
    bad = text.isna() | (text.astype(str).str.strip() == "")
    return bad if bad.any() else None


def _detect_precomputed(df: pd.DataFrame, extras: Sequence[str], mapping: LabelMap) -> dict[str, PrecomputedModel]:
    """A column whose values all read as dataset labels through the declared label map (names, or the
    map's integer ids: `0=negative,1=positive`) is a model's predictions; `<col>_score` its confidence."""
    found: dict[str, PrecomputedModel] = {}
    allowed = set(mapping.names) | set(mapping.id_to_name())
    for col in extras:
        values = df[col]
        if values.dtype == bool or values.isna().any():
            continue
        distinct = values.unique()  # in Arrow for Arrow strings: no million Python objects to find a handful
        if len(distinct) > len(allowed) or not all(_hashable_label(v) in allowed for v in distinct):
            continue
        try:  # one kind throughout (ids or names), as `read_labels` demands of every reader
            read_labels([_label_str(v) for v in distinct], mapping, where=f"column {col!r}")
        except DataError:
            continue
        conf = next(
            (col + s for s in CONF_SUFFIXES if col + s in df.columns and pd.api.types.is_numeric_dtype(df[col + s])),
            None,
        )
        found[col] = PrecomputedModel(pred_col=col, conf_col=conf)
    return found


def _label_str(value: Any) -> str:
    """Labels are strings; integral floats read from CSV (`1.0`) become `1`."""
    return label_text(value)


def _hashable_label(value: Any) -> str | None:
    """`_label_str` of a scalar cell; None for a dict, list or bytes cell (never a label)."""
    if isinstance(value, (dict, list, tuple, set, bytes, bytearray)) or hasattr(value, "shape") and value.shape:
        return None
    return _label_str(value)


_CONTAINERS = (dict, list, tuple, set, frozenset)


def text_values(values: Sequence[Any] | pd.Series, where: str, error: type[EvalcoreError] = DataError) -> pd.Series:
    """A column of texts as strings (missing cells stay missing): bytes are decoded as UTF-8, numbers
    written out; a dict, a list or an array is refused (it is not a text, and its printed form
    `{'a': 1}` would be scored as one), and so is a text over `evalcore.io.limits`' `max_text_chars`."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("string", "empty"):
        limits.check_texts(series, where, error)
        return series
    out = series.astype(object).copy()
    for row, value in enumerate(series.tolist(), start=1):
        if value is None or isinstance(value, str) or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                out.iat[row - 1] = bytes(value).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise error(
                    f"{where}: row {row:,} holds bytes that are not UTF-8 text (byte {exc.start}: "
                    f"{exc.reason}); store the texts as UTF-8 strings"
                ) from exc
        elif isinstance(value, _CONTAINERS) or getattr(value, "ndim", 0):
            kind = "list" if getattr(value, "ndim", 0) else type(value).__name__
            raise error(
                f"{where}: row {row:,} holds a {kind}, not a text (e.g. {str(value)[:40]!r}); "
                "each cell must be one string (flatten nested fields before loading)"
            )
        else:
            out.iat[row - 1] = str(value)
    limits.check_texts(out, where, error)
    return out


def _missing_column(col: str, role: str, columns: Sequence[str], where: str) -> str:
    near = difflib.get_close_matches(col, columns, n=1)
    hint = f" — did you mean {near[0]!r}?" if near else ""
    return (
        f"{role} column {col!r} not found in {Path(where).name or where}{hint} "
        f"(columns: {', '.join(columns)}); map it with the {role} column option"
    )


def _read_lines(path: Path) -> list[str]:
    raw = limits.read_bytes(path, "file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path.name} is not valid UTF-8 (line {line}, byte {exc.start}: {exc.reason})") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _read_mapping(path: Path) -> LabelMap:
    pairs: list[tuple[str, str]] = []
    for n, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split("\t") if "\t" in line else line.split(None, 1)
        if len(parts) != 2:
            raise DataError(f"{path.name} line {n}: expected `<id><TAB><name>`, got {line!r}")
        pairs.append((parts[0].strip(), parts[1].strip()))
    if not pairs:
        raise DataError(f"{path.name} is empty: it must map label ids to names")
    return label_map_from_pairs(pairs, f"{path.parent.name}/{path.name}")


def _read_json(path: Path) -> pd.DataFrame:
    """JSON Lines (one object a line) or a JSON array of objects, its text measured before it is parsed
    (`evalcore.io.limits`: depth, integers), its rows and columns before the table is built."""
    text = limits.read_text(path, "data file")
    limits.check_json_text(text, path.name)
    lines = text.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("["):
        records = _parse_json(path, text, 0)
    else:
        records = [_parse_json(path, ln, n) for n, ln in enumerate(lines) if ln.strip()]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(f"{path.name} must hold one JSON object per line (or an array of objects)")
    columns = len(set().union(*records)) if records else 0
    limits.check_json_rows(records, columns, len(text), path.name)
    return pd.DataFrame.from_records(records)


def _parse_json(path: Path, text: str, line_offset: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno + line_offset}, column {exc.colno})"
        ) from exc
    except (RecursionError, ValueError) as exc:  # checked before: a safety net, never a traceback
        raise DataError(f"{path.name} cannot be read as JSON: {str(exc)[:200]}") from exc
