"""Scoring past one machine with Ray Data: shards in, Parquet predictions and the cache out.

`python -m evalcore score --ray [--address ADDR]` runs `ray_score_source`. Why this shape:

- the data is read *as a Ray dataset* (`read_parquet` / `read_csv` over a file or a folder of
  shards): rows stream from the files to the workers and never gather on the driver;
- model *actors* (`map_batches` with the callable class `ScoringActor`) load the model once each;
  inside each block they sort the texts by length and run the model in batches of `batch_size`
  (the same `length_sorted_batches` as local scoring), so a padded batch wastes little;
- the prediction cache is a SQLite file on the driver's disk, which other machines cannot open,
  so the driver exports the model's cached rows once (`PredictionCache.export`, sorted by text
  hash) into the object store; actors answer cached texts from it and run the model on the rest;
- predictions are written as Parquet (`write_parquet`, one file per block, as blocks finish), and
  the driver then streams those files into the prediction cache and counts the accuracy;
- after a failure (a killed driver, a lost node, a bad shard), the files already written are what
  the next run resumes from: they are read into the cache first, so their texts are not scored
  again, then the output folder is rewritten whole.

The numbers are those of local scoring: the same predictor (`load_predictor`), the same label
set, the same cache keys, so `score --ray` and `score` print the same line.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from evalcore.core import errors
from evalcore.core.errors import DataError, EvalcoreError, ModelError

if TYPE_CHECKING:
    from evalcore.predict.cache import PredictionCache

SHARD_SUFFIXES = (".parquet", ".csv")
RESERVED = ("text_hash", "pred", "conf", "computed")


@dataclass
class RayScoreResult:
    """What one `score --ray` run did: counts as in `Predictions`, plus where the Parquet went."""

    model: str
    spec: str
    fingerprint: str
    labels: tuple[str, ...]
    out_dir: Path
    n_total: int = 0
    n_cached: int = 0
    n_computed: int = 0
    n_correct: int = 0
    n_resumed: int = 0  # predictions read back from a previous, interrupted run's Parquet files
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.n_correct / self.n_total if self.n_total else float("nan")

    @property
    def summary(self) -> str:
        """The same ending as local scoring's line (`500/500 rows from cache`)."""
        return f"{self.n_cached}/{self.n_total} rows from cache"


def shard_paths(source: str) -> tuple[str, list[str]]:
    """(format, files) of a data source for Ray: `lab`, a .parquet/.csv file, or a folder of them."""
    from evalcore.io.data import lab_csv_path

    if source in ("lab", "demo"):
        return "csv", [str(lab_csv_path())]
    path = Path(source).expanduser()
    if path.is_file() and path.suffix.lower() in SHARD_SUFFIXES:
        return path.suffix.lower()[1:], [str(path)]
    if path.is_dir():
        found = {
            s: sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() == s) for s in SHARD_SUFFIXES
        }
        kinds = [s for s, files in found.items() if files]
        if len(kinds) == 1:
            return kinds[0][1:], found[kinds[0]]
        if len(kinds) > 1:
            raise DataError(f"folder {path} holds both .parquet and .csv files; --ray reads one kind of shard")
    raise DataError(
        f"--ray reads Parquet or CSV shards: give `lab`, a .parquet / .csv file or a folder of "
        f"them, not {source!r} (convert other sources with pandas, e.g. df.to_parquet)"
    )


def default_out_dir(source: str, name: str, fingerprint: str) -> Path:
    """`$EVALCORE_HOME/ray/<data>-<model>-<fingerprint>`: one folder per (data, model), so a rerun
    finds what an interrupted run wrote."""
    from evalcore.core.paths import home

    stem = Path(source).stem if source not in ("lab", "demo") else "lab"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}-{name}")[:80]
    return home() / "ray" / f"{slug}-{fingerprint[:12]}"


def label_str(value: Any) -> str:
    """Labels are strings; integers and integral floats read from files (`1`, `1.0`) become `1`
    (the rule of `evalcore.io.data`, so Ray and local scoring see the same labels)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value).strip()


def infer_labels(values: Sequence[str]) -> tuple[str, ...]:
    """The label order local loading uses: sentiment labels as negative/neutral/positive, else sorted."""
    from evalcore.io.data import SENTIMENT_ORDER

    seen = set(values)
    if seen <= set(SENTIMENT_ORDER):
        return SENTIMENT_ORDER if len(seen) == 3 else tuple(x for x in SENTIMENT_ORDER if x in seen)
    return tuple(sorted(seen))


class ScoringActor:
    """A callable class for `Dataset.map_batches`: one model per actor, cached texts answered from
    the exported cache, the others scored in length-sorted batches within the block.

    Output columns: `[id,] text_hash, label, pred, conf, prob_<label>..., computed` (False when
    the row came from the cache).
    """

    def __init__(
        self,
        spec: str,
        labels: Sequence[str],
        known: list,
        *,
        fingerprint: str,
        text_col: str = "text",
        label_col: str = "label",
        id_col: str | None = None,
        batch_size: int = 32,
    ):
        import ray

        from evalcore.predict.load import load_predictor

        self.predictor = load_predictor(spec, labels)
        if self.predictor.fingerprint != fingerprint:  # another version of the model or library here
            raise ModelError(
                f"model {spec!r} on this worker differs from the driver's (fingerprint "
                f"{self.predictor.fingerprint[:12]} vs {fingerprint[:12]}): install the same "
                f"versions and model files on every node"
            )
        self.labels = tuple(labels)
        self.names = np.array(self.labels, dtype=object)
        self.index = {lab: i for i, lab in enumerate(self.labels)}
        self.text_col, self.label_col, self.id_col, self.batch_size = text_col, label_col, id_col, batch_size
        self.known_hashes, self.known_pred, self.known_probs = (
            ray.get(known[0])
            if known
            else (np.zeros(0, dtype="S64"), np.zeros(0, dtype=np.int64), np.zeros((0, len(labels)), np.float32))
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from evalcore.predict.cache import PredictionCache
        from evalcore.predict.scoring import length_sorted_batches, predict_batch

        texts = [_text(t, self.text_col) for t in batch[self.text_col]]
        gold = [label_str(v) for v in batch[self.label_col]]
        bad = next((g for g in gold if g not in self.index), None)
        if bad is not None:
            raise DataError(
                f"unknown label {bad!r} in column {self.label_col!r}; the labels of this run "
                f"are {', '.join(self.labels)} (set them with --labels)"
            )
        hashes = np.array(PredictionCache.text_hashes(texts), dtype="S64")
        n, k = len(texts), len(self.labels)
        pred, probs = np.zeros(n, dtype=np.int64), np.zeros((n, k), dtype=np.float32)
        pos = np.searchsorted(self.known_hashes, hashes)
        pos_ok = np.minimum(pos, max(len(self.known_hashes) - 1, 0))
        hit = (
            (pos < len(self.known_hashes)) & (self.known_hashes[pos_ok] == hashes)
            if len(self.known_hashes)
            else np.zeros(n, dtype=bool)
        )
        pred[hit], probs[hit] = self.known_pred[pos_ok[hit]], self.known_probs[pos_ok[hit]]
        missing = np.flatnonzero(~hit)
        for idx in length_sorted_batches([texts[i] for i in missing], self.batch_size):
            rows = missing[idx]
            out = predict_batch(self.predictor, [texts[i] for i in rows])
            pred[rows], probs[rows] = out.pred, out.probs
        result: dict[str, np.ndarray] = {}
        if self.id_col:
            result["id"] = np.array([str(v) for v in batch[self.id_col]], dtype=object)
        result.update(
            {
                "text_hash": hashes.astype(str).astype(object),
                "label": np.array(gold, dtype=object),
                "pred": self.names[pred],
                "conf": probs[np.arange(n), pred].astype(np.float32),
            }
        )
        for j, lab in enumerate(self.labels):
            result[f"prob_{lab}"] = probs[:, j]
        result["computed"] = ~hit
        return result


def _text(value: Any, col: str) -> str:
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise DataError(f"empty text in column {col!r}; every row needs a non-empty text")
    return str(value)


def ray_score_source(
    source: str,
    spec: str,
    *,
    labels: Sequence[str] | None = None,
    text_col: str = "text",
    label_col: str = "label",
    id_col: str | None = None,
    n_rows: int | None = None,
    cache: PredictionCache | None = None,
    out_dir: Path | None = None,
    batch_size: int = 32,
    actors: int | None = None,
    address: str | None = None,
) -> RayScoreResult:
    """Score a Parquet / CSV source with Ray Data, resuming from an earlier run's Parquet files.

    `address`: a running Ray cluster (`ray://host:10001`, `host:6379` or `auto`); default: the
    cluster this process is connected to, else a local one started here. `actors`: model
    actors of one CPU each (default: the cluster's CPUs less one, at least 1). Without `cache`, nothing is read
    from or written to the prediction cache (the Parquet files are still written).
    """
    from evalcore.predict.load import load_predictor
    from evalcore.predict.models import ModelSpec

    started = time.perf_counter()
    parsed = ModelSpec.parse(spec)
    if not parsed.live:
        raise ModelError(
            f"model {spec!r} is a precomputed prediction set: --ray scores live models "
            f"(vader, demo, hf:...), precomputed ones need no scoring"
        )
    fmt, files = shard_paths(source)
    ray = connect(address)
    ds, id_col = _read(ray, fmt, files, text_col, label_col, id_col)
    if n_rows is not None:
        if n_rows < 1:
            raise DataError(f"n_rows must be a positive number of rows, got {n_rows}")
        ray.data.DataContext.get_current().execution_options.preserve_order = True  # the *first* rows
        ds = ds.limit(n_rows)
    if labels is None:
        labels = infer_labels([label_str(v) for v in ds.unique(label_col)])
    labels = tuple(labels)
    predictor = load_predictor(parsed, labels)  # on the driver: fingerprint and label map, no weights
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(source, predictor.name, predictor.fingerprint)
    result = RayScoreResult(
        model=predictor.name, spec=predictor.spec, fingerprint=predictor.fingerprint, labels=labels, out_dir=out_dir
    )
    if cache is not None and out_dir.is_dir():
        result.n_resumed = _ingest(out_dir, cache, predictor, labels, only_computed=True)[2]
    known = [ray.put(cache.export(predictor.fingerprint, len(labels)))] if cache is not None else []
    if actors is None:  # one CPU is left to the read and write tasks, or a small cluster stalls
        actors = max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
    scored = ds.map_batches(
        ScoringActor,
        batch_size=None,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
        batch_format="numpy",
        fn_constructor_args=(_worker_spec(parsed), list(labels), known),
        fn_constructor_kwargs={
            "fingerprint": predictor.fingerprint,
            "text_col": text_col,
            "label_col": label_col,
            "id_col": id_col,
            "batch_size": batch_size,
        },
    )
    try:
        scored.write_parquet(str(out_dir), mode=ray.data.SaveMode.OVERWRITE)
    except Exception as exc:  # a task's error arrives wrapped in Ray's exceptions: unwrap ours
        raise _unwrap(exc, out_dir) from exc
    n, cached, computed, correct = _ingest(out_dir, cache, predictor, labels, only_computed=True, count=True)
    result.n_total, result.n_cached, result.n_computed, result.n_correct = n, cached, computed, correct
    result.seconds = time.perf_counter() - started
    return result


def _worker_spec(spec) -> str:
    """The spec actors load: `demo` becomes its folder (built by the driver above), so a worker
    never builds a demo of its own under some other EVALCORE_HOME; the fingerprint, which is the
    folder's content, is the same."""
    if spec.kind == "demo":
        from evalcore.predict.demo_model import demo_model_dir

        return f"hf:{demo_model_dir()}"
    return str(spec)


def connect(address: str | None = None):
    """The `ray` module, connected: to `address`, else the current cluster, else a local one."""
    try:
        import ray
    except ImportError as exc:
        raise ModelError("--ray needs Ray Data: pip install 'ray[data]'") from exc
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ModelError(
                f"cannot connect to the Ray cluster at {address or 'a new local cluster'}: "
                f"{str(exc).splitlines()[0]}. Start one with `ray start --head` and pass "
                f"--address, or leave --address out to start a local one"
            ) from exc
    import logging

    from ray.data import DataContext

    if not sys.stderr.isatty():
        DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO / tips would bury our lines
    return ray


def _read(ray, fmt: str, files: list[str], text_col: str, label_col: str, id_col: str | None):
    """A lazy Ray dataset of the shards, with the columns checked against the schema first, and
    the id column (`id` when present and none was named, as local loading does)."""
    import pyarrow as pa

    try:
        if fmt == "parquet":
            ds = ray.data.read_parquet(files)
        else:
            from pyarrow import csv

            # text and ids stay strings even when a shard's values look numeric
            types = {c: pa.string() for c in (text_col, id_col or "id")}
            ds = ray.data.read_csv(files, convert_options=csv.ConvertOptions(column_types=types))
        names = list(ds.schema().names)
    except EvalcoreError:
        raise
    except Exception as exc:
        raise DataError(
            f"cannot read {files[0]}{' and the other shards' if len(files) > 1 else ''} "
            f"as {fmt}: {str(exc).splitlines()[0]}"
        ) from exc
    for role, col in (("text", text_col), ("label", label_col), ("id", id_col)):
        if col and col not in names:
            raise DataError(
                f"{role} column {col!r} not found in the shards (columns: {', '.join(names)}); map it with --{role}-col"
            )
    return ds, id_col or ("id" if "id" in names else None)


def _ingest(
    out_dir: Path,
    cache: PredictionCache | None,
    predictor,
    labels: tuple[str, ...],
    *,
    only_computed: bool,
    count: bool = False,
) -> tuple[int, int, int, int]:
    """Stream the Parquet files of `out_dir` into the cache (the rows a model computed), file by
    file, batch by batch; with `count`, also (rows, from cache, computed, correct). A file cut
    short by a crash is skipped: its rows are simply scored again."""
    import pyarrow.parquet as pq

    index = {lab: i for i, lab in enumerate(labels)}
    cols = ["text_hash", "label", "pred", "computed", *(f"prob_{lab}" for lab in labels)]
    n = cached = computed = correct = 0
    for path in sorted(out_dir.rglob("*.parquet")):
        try:
            batches = pq.ParquetFile(path).iter_batches(columns=cols, batch_size=4096)
            for rb in batches:
                frame = rb.to_pydict()
                probs = np.column_stack([np.asarray(frame[f"prob_{lab}"], dtype=np.float32) for lab in labels])
                flags = np.asarray(frame["computed"], dtype=bool)
                if cache is not None:
                    rows = [
                        (h, index[p], pr)
                        for h, p, pr, f in zip(frame["text_hash"], frame["pred"], probs, flags)
                        if f or not only_computed
                    ]
                    cache.put_many(predictor.fingerprint, rows, name=predictor.name, spec=predictor.spec)
                n += len(flags)
                computed += int(flags.sum())
                cached += int((~flags).sum())
                correct += sum(p == g for p, g in zip(frame["pred"], frame["label"]))
        except (OSError, ValueError) as exc:  # pyarrow's errors for a truncated file
            if count:
                raise DataError(f"Parquet output {path} cannot be read back: {exc}") from exc
            print(f"warning: skipped {path.name} from an interrupted run ({str(exc).splitlines()[0]})", file=sys.stderr)
    return n, cached, computed, correct


def _unwrap(exc: BaseException, out_dir: Path) -> EvalcoreError:
    """Our own error (bad label, empty text, model refused) from inside a Ray task, or a message
    saying the job failed and that what was written will be resumed from."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, EvalcoreError):
            return type(e)(f"{e} (predictions written so far are in {out_dir}; the next run resumes from them)")
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__]
    # Ray Data passes a task's exception back as text: find ours in its last traceback line.
    found = re.findall(r"evalcore\.core\.errors\.(\w+Error): (.+)", _plain(str(exc)))
    if found and isinstance(getattr(errors, found[-1][0], None), type):
        cls = getattr(errors, found[-1][0])
        if issubclass(cls, EvalcoreError):
            return cls(
                f"{found[-1][1].strip()} (predictions written so far are in {out_dir}; the next run resumes from them)"
            )
    first = (_plain(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
    return ModelError(
        f"scoring on Ray failed: {first}. Predictions written so far are in {out_dir}; "
        f"run the same command again to resume from them"
    )


def _plain(text: str) -> str:
    """Text without terminal colour codes (Ray colours its task names)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
