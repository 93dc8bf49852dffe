"""`report --ray`: features, slice masks and per-slice counts computed over shards with Ray Data; the statistics,
the verdict and the report are the local ones, run on the driver on what was counted.

Why this shape (README, "100M rows on a cluster"):

- the shards (Parquet or CSV: text, label and both models' prediction columns) are read as a Ray dataset and
  never gather on the driver; each block goes through `count_batch`: the same loading rules as local
  (`evalcore.io.data`: labels read through the data's label map, found once over the label column), the same
  features (`featurestore.distinct_features`), the same df_eval (`evalcore.tasks.pipeline.build_eval`) and the
  same slice masks (`evalcore.analyze.slices.masks`);
- a block returns only counts: how many of its rows share one *cell* (which slices hold the row, gold label,
  both predictions, whether each model's confidence is unknown, below or at the confident-regression threshold),
  and per (slice, model, confidence bin, correct) the sums calibration needs (`stats.metrics.calibration_sums`);
- the driver adds them up, rebuilds the discrete part of df_eval (one row per counted row, built by
  `build_df_eval` itself: every flag is computed by the code the local report runs) and runs
  `evalcore.tasks.pipeline.analyse` on it with the counted masks; calibration comes from the summed sums.

Every number that depends only on those discrete columns (accuracies, paired changes, tests, MDEs, rates,
macro-F1 and its bootstrap over confusion cells, per-class changes, label mix, the verdict) is the local one
exactly; calibration equals it up to the order of floating-point additions. What needs rows is refused with
the fix: `--cluster-col` (per-cluster sums are not gathered yet), discovery (its item matrix and random halves
need the rows: run `discover` locally on a sample, then `report --ray --slices` on all rows), and the outputs
that print rows (`--out`, `--html`).
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.features import CustomFeature
from evalcore.analyze.slices import SliceSet
from evalcore.core.errors import ConfigError, DataError, EvalcoreError, ModelError
from evalcore.io.data import DataSource, EvalData, PrecomputedModel, _from_frame
from evalcore.io.labels import LabelMap, infer_names
from evalcore.stats.metrics import DEFAULT_N_BINS
from evalcore.stats.results import Analysis

TEXT_PLACEHOLDER = "(text stays in the shards under --ray)"
SAMPLE_ROWS = 2048  # first rows of the first shard: the rule schema and the models' metadata


@dataclass(frozen=True)
class CountPlan:
    """What every block needs: how to read its rows, the two models' columns, the slices, the threshold."""

    mapping: LabelMap
    text_col: str
    label_col: str
    id_col: str | None
    baseline: str
    candidate: str
    precomputed: dict[str, PrecomputedModel]
    slices: SliceSet
    custom: tuple[CustomFeature, ...] = ()
    conf_threshold: float = 0.8
    n_bins: int = DEFAULT_N_BINS

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.mapping.names)


@dataclass
class RayCounts:
    """The gathered state: cell counts (one row per distinct cell) and calibration sums, plus how long it took."""

    cells: pd.DataFrame  # columns: bits_0.., y, pb, pc, sb, sc, count
    calibration: np.ndarray  # (1 + slices, 2 roles, 2 * n_bins, 5)
    n_rows: int = 0
    n_blocks: int = 0
    seconds: float = 0.0
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)  # df_eval of the first block's rows (rule schema)

    @property
    def nbytes(self) -> int:
        """Size of what the driver gathered (counts and sums), in bytes."""
        return int(self.cells.memory_usage(index=False).sum()) + int(self.calibration.nbytes)


def block_eval(batch: pd.DataFrame, plan: CountPlan) -> tuple[pd.DataFrame, list[Any]]:
    """One block's df_eval, read and built as the local report reads and builds it, and both models' outputs.
    Features come from `distinct_features` directly: a block is computed once, never kept in a worker's store."""
    from evalcore.analyze.featurestore import distinct_features
    from evalcore.tasks.pipeline import build_eval, model_outputs, precomputed_columns

    src = DataSource(kind="table", path="shards", text_col=plan.text_col, label_col=plan.label_col, id_col=plan.id_col)
    data = _from_frame(batch.reset_index(drop=True), src, name="shards", declared=plan.mapping)
    data.precomputed = dict(plan.precomputed)
    outs = [model_outputs(data, spec) for spec in (plan.baseline, plan.candidate)]
    feats = distinct_features(data.df["text"], plan.custom)
    drop = [c for c in (*precomputed_columns(data), *feats.columns) if c in data.df.columns]
    base = pd.concat([data.df.drop(columns=drop).reset_index(drop=True), feats.reset_index(drop=True)], axis=1)
    df = build_eval(data, outs[0][0], outs[1][0], plan.custom, conf_threshold=plan.conf_threshold, base=base)
    return df, [out for out, _ in outs]


def _conf_state(conf: np.ndarray, threshold: float) -> np.ndarray:
    """0: confidence unknown; 1: known, below the threshold; 2: at or above it."""
    known = ~np.isnan(conf)
    with np.errstate(invalid="ignore"):
        return np.where(known, np.where(conf >= threshold, 2, 1), 0).astype(np.int8)


def count_batch(batch: pd.DataFrame, plan: CountPlan) -> dict[str, np.ndarray]:
    """`map_batches` step: a block's rows in, its counts out (one pickled record: cells and calibration sums)."""
    from evalcore.analyze.slices import masks
    from evalcore.analyze.tables import ROLES, role_col
    from evalcore.stats.metrics import calibration_sums

    df, _ = block_eval(batch, plan)
    n = len(df)
    m = masks(plan.slices, df)
    matrix = np.stack([m[s.name] for s in plan.slices]) if len(plan.slices) else np.zeros((0, n), dtype=bool)
    index = {lab: i for i, lab in enumerate(plan.labels)}
    codes = {
        "y": df["label"].map(index).to_numpy(dtype=np.int8),
        "pb": df[role_col("baseline", "pred")].map(index).to_numpy(dtype=np.int8),
        "pc": df[role_col("candidate", "pred")].map(index).to_numpy(dtype=np.int8),
        "sb": _conf_state(df[role_col("baseline", "conf")].to_numpy(dtype=float), plan.conf_threshold),
        "sc": _conf_state(df[role_col("candidate", "conf")].to_numpy(dtype=float), plan.conf_threshold),
    }
    packed = np.packbits(matrix, axis=0) if len(matrix) else np.zeros((0, n), dtype=np.uint8)
    keys = pd.DataFrame({**{f"bits_{i}": row for i, row in enumerate(packed)}, **codes})
    cells = keys.groupby(list(keys.columns), sort=False).size().rename("count").reset_index()
    whole = np.vstack([np.ones((1, n), dtype=bool), matrix])
    calib = np.stack([calibration_sums(df, role, whole, plan.n_bins) for role in ROLES], axis=1)
    record = {"cells": cells, "calibration": calib, "n": n}
    return {"record": np.array([pickle.dumps(record)], dtype=object)}


def _ray_counts(ds: Any, plan: CountPlan, sample: pd.DataFrame) -> RayCounts:
    """Run `count_batch` over the dataset and add the blocks' counts up on the driver."""
    t = time.perf_counter()
    out = ds.map_batches(count_batch, fn_kwargs={"plan": plan}, batch_format="pandas", batch_size=None)
    parts, calib, n, blocks = [], None, 0, 0
    for batch in out.iter_batches(batch_format="numpy", batch_size=None):
        for raw in batch["record"]:
            rec = pickle.loads(raw)
            parts.append(rec["cells"])
            calib = rec["calibration"] if calib is None else calib + rec["calibration"]
            n += rec["n"]
            blocks += 1
    if not parts:
        raise DataError("the shards hold no rows")
    cells = pd.concat(parts, ignore_index=True)
    keys = [c for c in cells.columns if c != "count"]
    cells = cells.groupby(keys, sort=True)["count"].sum().reset_index()
    assert calib is not None
    return RayCounts(cells, calib, n, blocks, time.perf_counter() - t, sample)


def expand(counts: RayCounts, plan: CountPlan) -> tuple[np.ndarray, dict[str, Any]]:
    """The counted cells back as rows: (slices, rows) masks and the discrete columns of each row."""
    cells = counts.cells
    rep = np.repeat(np.arange(len(cells)), cells["count"].to_numpy())
    bits = [c for c in cells.columns if c.startswith("bits_")]
    packed = cells[bits].to_numpy(dtype=np.uint8).T if bits else np.zeros((0, len(cells)), dtype=np.uint8)
    matrix = np.unpackbits(packed, axis=0, count=len(plan.slices)).astype(bool) if bits else packed.astype(bool)
    columns = {c: cells[c].to_numpy()[rep] for c in ("y", "pb", "pc", "sb", "sc")}
    return matrix[:, rep], columns


def _conf_of(state: np.ndarray, threshold: float) -> np.ndarray:
    """A confidence that reads as the counted state: unknown (NaN), below the threshold (0) or at it (1)."""
    return np.where(state == 0, np.nan, np.where(state == 2, 1.0, 0.0))  # state 1 exists only when 0 < threshold


def analysis_from_counts(
    counts: RayCounts,
    plan: CountPlan,
    template: EvalData,
    models: tuple[Any, Any],
    *,
    default: bool,
    guardrails: Sequence[str] = (),
    min_n: int = 30,
    alpha: float = 0.05,
) -> Analysis:
    """The local report's Analysis from the gathered counts: df_eval's discrete columns rebuilt by `build_df_eval`,
    the slices' masks from the counted cells, then the same `analyse`; calibration from the summed sums."""
    from evalcore.analyze.slices import default_slices, mark_guardrails
    from evalcore.analyze.tables import role_names
    from evalcore.predict.load import load_predictor
    from evalcore.predict.models import unreachable_warning
    from evalcore.stats.metrics import calibration_from_sums
    from evalcore.tasks.kinds import kind_of
    from evalcore.tasks.pipeline import analyse, build_eval

    matrix, cols = expand(counts, plan)
    n = matrix.shape[1]
    labels = np.array(plan.labels, dtype=object)
    base = pd.DataFrame(
        {
            "id": np.arange(n),
            "text": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [TEXT_PLACEHOLDER]),
            "label": labels[cols["y"]],
        }
    )
    data = replace(template, df=base)
    preds = [
        replace(
            m, pred=labels[cols[key]], conf=_conf_of(cols[state], plan.conf_threshold), probs=np.zeros((n, 0)), ids=None
        )
        for m, key, state in zip(models, ("pb", "pc"), ("sb", "sc"))
    ]
    preds = [replace(p, n_total=n) if p.n_total else p for p in preds]
    df_eval = build_eval(data, preds[0], preds[1], conf_threshold=plan.conf_threshold, base=base)
    all_masks = {s.name: matrix[i] for i, s in enumerate(plan.slices)}
    slices, left_out = plan.slices, []
    if default:
        sizes = {name: int(m.sum()) for name, m in all_masks.items()}
        slices, left_out = default_slices(counts.sample, plan.labels, plan.slices, sizes=sizes)
    if guardrails:
        slices = mark_guardrails(slices, guardrails)
    chosen = {s.name: all_masks[s.name] for s in slices}
    results = analyse(
        df_eval,
        slices,
        plan.labels,
        conf_threshold=plan.conf_threshold,
        min_n=min_n,
        alpha=alpha,
        masks=chosen,
        rules_table=counts.sample,
    )
    keep = [0] + [1 + [s.name for s in plan.slices].index(s.name) for s in slices]
    results.calibration = calibration_from_sums(
        role_names(df_eval),
        ["all", *chosen],
        np.array([n, *(int(m.sum()) for m in chosen.values())]),
        counts.calibration[keep],
        n_bins=plan.n_bins,
    )
    notes = []  # a gold label a model can never predict, with its rows (run_analysis' notes)
    for spec in (plan.baseline, plan.candidate):
        predictor = load_predictor(spec, plan.labels, data=template)
        if predictor.unreachable:
            notes.append(unreachable_warning(predictor, base["label"].tolist()))
    results.warnings = [*(n for n in notes if n), *left_out, *results.warnings]
    return Analysis(
        data=data,
        baseline=preds[0],
        candidate=preds[1],
        df_eval=df_eval,
        slices=slices,
        results=results,
        kind=kind_of(data),
    )


def ray_analysis(
    source: str,
    baseline: str | None,
    candidate: str | None,
    *,
    slices: SliceSet | None = None,
    guardrails: Sequence[str] = (),
    custom: Sequence[CustomFeature] = (),
    labels: Sequence[str] | None = None,
    label_map: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    id_col: str | None = None,
    conf_threshold: float = 0.8,
    min_n: int = 30,
    alpha: float = 0.05,
    address: str | None = None,
) -> tuple[Analysis, RayCounts]:
    """Compare two models' prediction columns over the shards of `source` (a .parquet/.csv file or a folder of
    them) on Ray; the Analysis is the local one's (`evalcore.tasks.pipeline.run_analysis`) from counts."""
    from evalcore.io.labels import combine
    from evalcore.predict.ray_scoring import _read, connect, shard_paths
    from evalcore.tasks.kinds import kind_of

    fmt, files = shard_paths(source)
    text_col, label_col = text_col or "text", label_col or "label"
    ray = connect(address)
    ds, id_col = _read(ray, fmt, files, text_col, label_col, id_col)
    first = _head(fmt, files[0], SAMPLE_ROWS)
    for col in (text_col, id_col):
        if fmt == "csv" and col and col in first.columns:
            first[col] = first[col].astype(str)
    src = DataSource(
        kind="table",
        path=files[0],
        text_col=text_col,
        label_col=label_col,
        id_col=id_col,
        labels=tuple(labels or ()),
        label_map=label_map,
    )
    from evalcore.io.data import _user_map

    mapping = combine([_user_map(src)], src.labels)
    if mapping is None:  # the label names, read over the whole label column as local loading reads them
        where = f"column {label_col!r} of {source}"
        mapping = infer_names(pd.Series(_distinct(ds, label_col), dtype=object), where=where)
    template = _from_frame(first.copy(), src, name=_name(source), declared=mapping)
    template.label_map = mapping
    if source in ("lab", "demo"):  # the lab file's own pair, as local loading names it
        from evalcore.io.load import load_data

        template.default_models = load_data(source, n_rows=1).default_models
    cols = ", ".join(template.precomputed) or "none"
    if not (baseline and candidate):
        if not template.default_models:
            raise ModelError(f"give --baseline and --candidate: prediction columns of the shards (found: {cols})")
        baseline, candidate = baseline or template.default_models[0], candidate or template.default_models[1]
    missing = [s for s in (baseline, candidate) if s not in template.precomputed]
    if missing:
        raise ModelError(
            f"--ray compares prediction columns of the shards; {', '.join(repr(m) for m in missing)} "
            f"is not one (prediction columns found: {cols}). Score live models first (`score --ray`) and add "
            "their predictions to the shards as columns, then give --baseline and --candidate"
        )
    kind = kind_of(template)
    if kind.name != "classification":
        raise ConfigError("--ray compares classification data; generation runs locally (`report` without --ray)")
    precomputed = {s: template.precomputed[s] for s in (baseline, candidate)}
    plan = CountPlan(
        mapping=mapping,
        text_col=text_col,
        label_col=label_col,
        id_col=id_col,
        baseline=baseline,
        candidate=candidate,
        precomputed=precomputed,
        slices=SliceSet(()),
        custom=tuple(custom),
        conf_threshold=conf_threshold,
    )
    sample, outputs = block_eval(first, plan)
    default = slices is None
    if slices is None:
        from evalcore.analyze.slices import task_slices

        slices = task_slices(mapping.names)
    plan = replace(plan, slices=slices)
    models = tuple(replace(p, pred=p.pred[:0]) for p in outputs)  # the models' metadata (names, specs, kinds)
    try:
        counts = _ray_counts(ds, plan, sample)
    except EvalcoreError:
        raise
    except Exception as exc:
        raise _unwrap(exc) from exc
    template = replace(template, precomputed=precomputed)
    analysis = analysis_from_counts(
        counts,
        plan,
        template,
        (models[0], models[1]),
        default=default,
        guardrails=guardrails,
        min_n=min_n,
        alpha=alpha,
    )
    return analysis, counts


def _head(fmt: str, path: str, rows: int) -> pd.DataFrame:
    """The first rows of a shard, read here: the rule schema and the models' metadata come from them."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
        if batch is None:
            raise DataError(f"{path} holds no rows")
        return batch.to_pandas()
    return pd.read_csv(path, nrows=rows)  # as Ray's read_csv types the columns (text and ids: strings, below)


def _distinct_batch(batch: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.DataFrame({col: pd.unique(batch[col].to_numpy(dtype=object))})


def _distinct(ds: Any, col: str) -> list[Any]:
    """The distinct values of one column: each block's, then the union here (a few labels: no shuffle)."""
    try:
        per_block = ds.select_columns([col]).map_batches(
            _distinct_batch, fn_kwargs={"col": col}, batch_format="pandas", batch_size=None
        )
        seen: dict[Any, None] = {}
        for batch in per_block.iter_batches(batch_format="pandas", batch_size=None):
            seen.update(dict.fromkeys(batch[col].tolist()))
    except Exception as exc:  # Ray wraps a shard's read error
        raise DataError(f"cannot read the label column {col!r} of the shards: {exc}") from exc
    return list(seen)


def _name(source: str) -> str:
    from pathlib import Path

    return Path(source).name


def _unwrap(exc: BaseException) -> EvalcoreError:
    """Our own error from inside a Ray task (a bad label in some shard), else one line on what failed."""
    import re

    from evalcore.core import errors
    from evalcore.predict.ray_scoring import _plain

    found = re.findall(r"evalcore\.core\.errors\.(\w+Error): (.+)", _plain(str(exc)))
    if found and isinstance(getattr(errors, found[-1][0], None), type):
        cls = getattr(errors, found[-1][0])
        if issubclass(cls, EvalcoreError):
            return cls(found[-1][1].strip())
    first = (_plain(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
    return DataError(f"the Ray job failed: {first}")


__all__ = ["CountPlan", "RayCounts", "analysis_from_counts", "count_batch", "ray_analysis"]
