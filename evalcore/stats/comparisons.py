"""The registry of compared metrics: one set of paired statistics for every metric and task kind.

A compared metric says how a paired change is measured, so gates, the Compare page, the report,
the CLI and W&B all read the same table (`evalcore.stats.paired.CHANGE_COLUMNS` plus `metric`):

- `binary`: a per-example 0/1 outcome of each model (accuracy: `correct`); paired proportions
  (Newcombe interval, exact McNemar, Connor MDE).
- `aggregate`: a function of the joint confusion counts (macro-F1); seeded paired bootstrap over the
  confusion cells.
- `continuous`: a per-example score (generation metrics); seeded paired bootstrap of the mean.

Per-class results (precision, recall, F1 of both models and their paired change) come from the
same confusion-cell counts: recall is a paired proportion on the rows of that gold label;
precision and F1 go through the bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.tables import ROLES, role_col
from evalcore.core.errors import ConfigError
from evalcore.stats.genmetrics import NORMALISERS, ROUGE_ACC_THRESHOLD
from evalcore.stats.intervals import group_counts
from evalcore.stats.metrics import _label_codes, _labels, stack_masks
from evalcore.stats.paired import (
    CHANGE_COLUMNS,
    CLUSTER_METHODS,
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    binary_changes,
    bootstrap_changes,
    bootstrap_summary,
    cluster_cell_draws,
    cluster_of,
    clustered_changes,
    continuous_changes,
    multinomial_draws,
)
from evalcore.stats.paired import METHODS as PAIRED_METHODS

GENERATION = "generation"


@dataclass(frozen=True)
class ComparedMetric:
    """A metric two models are compared on. `field`: the per-example outcome's role field
    (`correct` -> `baseline_correct`, `candidate_correct`) for binary / continuous metrics."""

    name: str
    title: str
    kind: str  # "binary" | "aggregate" | "continuous"
    description: str
    task: str = "classification"
    field: str | None = None

    @property
    def per_example(self) -> bool:
        """Whether the metric is a mean of per-example outcomes (so slices can be compared with the rest
        by a paired test, and a slice gate applies)."""
        return self.kind in ("binary", "continuous")


COMPARED: dict[str, ComparedMetric] = {
    m.name: m
    for m in (
        ComparedMetric(
            "accuracy", "accuracy", "binary", "share of rows whose prediction equals the gold label", field="correct"
        ),
        ComparedMetric(
            "macro_f1",
            "macro-F1",
            "aggregate",
            "unweighted mean of the per-label F1 over the labels present as gold or prediction "
            "(sklearn f1_score average='macro')",
        ),
        # generation: per-example scores of evalcore.stats.genmetrics (each says its normaliser)
        ComparedMetric("exact_match", "exact match", "binary", NORMALISERS["exact_match"], GENERATION, "exact_match"),
        ComparedMetric("f1", "F1", "continuous", NORMALISERS["f1"], GENERATION, "f1"),
        ComparedMetric(
            "relaxed_match", "relaxed match", "binary", NORMALISERS["relaxed_match"], GENERATION, "relaxed_match"
        ),
        ComparedMetric("rouge_l", "ROUGE-L", "continuous", NORMALISERS["rouge_l"], GENERATION, "rouge_l"),
        ComparedMetric(
            "rouge_acc",
            f"accuracy at ROUGE-L >= {ROUGE_ACC_THRESHOLD:g}",
            "binary",
            NORMALISERS["rouge_acc"].format(t=ROUGE_ACC_THRESHOLD),
            GENERATION,
            "rouge_acc",
        ),
    )
}
# The metric a task's headline, findings and slice tables speak of (and whose gates are on by default).
BY_TASK: dict[str, tuple[str, ...]] = {}  # task kind -> its compared metrics, in registry order
for _m in COMPARED.values():
    BY_TASK[_m.task] = (*BY_TASK.get(_m.task, ()), _m.name)
HEADLINE: dict[str, str] = {"classification": "accuracy", GENERATION: "f1"}


def compared_metric(name: str) -> ComparedMetric:
    if name not in COMPARED:
        raise ConfigError(f"metric {name!r} is unknown; compared metrics: {', '.join(COMPARED)}")
    return COMPARED[name]


def metrics_for(task: str) -> list[str]:
    """The compared metrics of a task kind, in registry order."""
    names = list(BY_TASK.get(task, ()))
    if not names:
        raise ConfigError(f"task {task!r} has no compared metric; tasks: {', '.join(HEADLINE)}")
    return names


def headline_metric(task: str) -> ComparedMetric:
    if task not in HEADLINE:
        raise ConfigError(f"task {task!r} is unknown; tasks: {', '.join(HEADLINE)}")
    return COMPARED[HEADLINE[task]]


def method_of(
    metric: ComparedMetric, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED, cluster_col: str | None = None
) -> str:
    """How the metric's change interval and test are computed, in one sentence."""
    if cluster_col:
        key = "bootstrap" if metric.kind == "aggregate" else "mean"
        return CLUSTER_METHODS[key].format(col=cluster_col, b=n_boot, seed=seed)
    if metric.kind == "binary":
        return "Newcombe paired interval, exact McNemar test, MDE from Connor (1987)"
    key = "bootstrap" if metric.kind == "aggregate" else "continuous"
    return PAIRED_METHODS[key].format(b=n_boot, seed=seed)


# --- confusion cells -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cells:
    """Per slice, how many rows fall in each (gold, baseline pred, candidate pred) cell: (S, k^3)."""

    slices: list[str]
    labels: list[str]
    counts: np.ndarray

    @property
    def k(self) -> int:
        return len(self.labels)

    def confusions(self, counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Baseline and candidate confusion matrices (..., gold, pred) from (..., k^3) cell counts."""
        c = self.counts if counts is None else counts
        cube = c.reshape(*c.shape[:-1], self.k, self.k, self.k)
        return cube.sum(axis=-1), cube.sum(axis=-2)


def joint_codes(df_eval: pd.DataFrame, labels: Sequence[str] | None = None) -> np.ndarray:
    """Each row's (gold, baseline pred, candidate pred) cell, `(gold * k + baseline) * k + candidate`: the
    table-wide work of `confusion_cells` (three factorizes of n strings), which a caller keeping it per table
    (`evalcore.stats.incremental.Parts`) does once instead of once per slice."""
    labels = _labels(df_eval, labels)
    k = len(labels)
    y = _label_codes(df_eval["label"], labels, "label")
    pb, pc = (_label_codes(df_eval[role_col(r, "pred")], labels, f"{r} prediction") for r in ROLES)
    code = (y * k + pb) * k + pc
    return code.astype(np.int32) if k**3 < 2**31 else code


def confusion_cells(
    df_eval: pd.DataFrame,
    masks: Mapping[str, object],
    labels: Sequence[str] | None = None,
    *,
    codes: np.ndarray | None = None,
) -> Cells:
    """Joint confusion counts of both models per slice (`all` first). `codes`: `joint_codes(df_eval, labels)`
    when the caller has it."""
    labels = _labels(df_eval, labels)
    k = len(labels)
    slices, matrix = stack_masks(masks, len(df_eval))
    code = joint_codes(df_eval, labels) if codes is None else codes
    if len(slices) <= 2:  # one slice and `all`: a count over each row set beats sorting every code
        full = np.stack([np.bincount(code[m], minlength=k**3) for m in matrix]).astype(np.int64)
        return Cells(slices, labels, full)
    groups, counts = group_counts(matrix, code)
    full = np.zeros((len(slices), k**3), dtype=np.int64)
    full[:, groups] = counts
    return Cells(slices, labels, full)


def _per_label(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 per label from (..., k, k) confusion matrices; NaN where undefined."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1).astype(float)
    gold, pred = cm.sum(axis=-1).astype(float), cm.sum(axis=-2).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "precision": np.where(pred > 0, tp / pred, np.nan),
            "recall": np.where(gold > 0, tp / gold, np.nan),
            "f1": np.where(gold + pred > 0, 2 * tp / (gold + pred), np.nan),
        }


def macro_f1_of(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 over the labels present as gold or prediction, as sklearn's average='macro'; NaN for an
    empty table."""
    f1 = _per_label(cm)["f1"]
    present = ~np.isnan(f1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present.any(axis=-1), np.where(present, f1, 0.0).sum(axis=-1) / present.sum(axis=-1), np.nan)


def _macro_f1_pair(cells: Cells) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def statistic(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cb, cc = cells.confusions(counts)
        return macro_f1_of(cb), macro_f1_of(cc)

    return statistic


# --- tables --------------------------------------------------------------------------------------


def metric_changes(
    df_eval: pd.DataFrame,
    masks: Mapping[str, object],
    metrics: Sequence[str] | None = None,
    *,
    labels: Sequence[str] | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    cells: Cells | None = None,
) -> pd.DataFrame:
    """One row per (metric, slice): both values, the paired change with its interval and test, the MDE,
    and the comparison with the rest of the rows. `all` first within each metric. `metrics` defaults to
    the compared metrics of df_eval's task (`df_eval.attrs["task"]`, classification when absent)."""
    if metrics is None:
        metrics = metrics_for(df_eval.attrs.get("task", "classification"))
    clusters = cluster_of(df_eval)
    frames = []
    for name in metrics:
        metric = compared_metric(name)
        if clusters is not None and metric.per_example:
            slices, matrix = stack_masks(masks, len(df_eval))
            cols = [role_col(role, metric.field) for role in ROLES]
            frame = clustered_changes(
                slices,
                matrix,
                df_eval[cols[0]].to_numpy(dtype=float),
                df_eval[cols[1]].to_numpy(dtype=float),
                *clusters,
                binary=metric.kind == "binary",
                alpha=alpha,
                confidence=confidence,
            )
        elif metric.kind == "binary":
            slices, matrix = stack_masks(masks, len(df_eval))
            b = df_eval[role_col("baseline", metric.field)].to_numpy(dtype=bool)
            c = df_eval[role_col("candidate", metric.field)].to_numpy(dtype=bool)
            groups, counts = group_counts(matrix, (b * 2 + c).astype(np.int64))
            full = np.zeros((len(slices), 4), dtype=np.int64)
            full[:, groups] = counts
            frame = binary_changes(
                slices, full[:, 3], full[:, 1], full[:, 2], full[:, 0], alpha=alpha, confidence=confidence
            )
        elif metric.kind == "aggregate":
            cells = cells or confusion_cells(df_eval, masks, labels)
            frame = bootstrap_changes(
                cells.slices,
                cells.counts,
                _macro_f1_pair(cells),
                n_boot=n_boot,
                seed=seed,
                alpha=alpha,
                confidence=confidence,
                cluster_cells=None if clusters is None else cluster_cells(df_eval, masks, cells, clusters),
            )
        else:
            cols = [role_col(role, metric.field) for role in ROLES]
            absent = [c for c in cols if c not in df_eval.columns]
            if absent:
                raise ConfigError(
                    f"metric {name!r} needs the per-example scores {', '.join(absent)}, which this "
                    f"table lacks (a {metric.task} metric on a "
                    f"{df_eval.attrs.get('task', 'classification')} table?)"
                )
            slices, matrix = stack_masks(masks, len(df_eval))
            frame = continuous_changes(
                slices,
                matrix,
                df_eval[cols[0]].to_numpy(dtype=float),
                df_eval[cols[1]].to_numpy(dtype=float),
                n_boot=n_boot,
                seed=seed,
                alpha=alpha,
                confidence=confidence,
            )
        frame.insert(0, "metric", name)
        frames.append(frame[["metric", *CHANGE_COLUMNS]])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["metric", *CHANGE_COLUMNS])
    col = df_eval.attrs.get("cluster_col") if clusters is not None else None
    out.attrs = {
        "alpha": alpha,
        "confidence": confidence,
        "n_boot": n_boot,
        "seed": seed,
        "cluster_col": col,
        "n_clusters": clusters[1] if clusters is not None else None,
        "methods": {m: method_of(compared_metric(m), n_boot, seed, col) for m in metrics},
    }
    return out


def cluster_cells(
    df_eval: pd.DataFrame, masks: Mapping[str, object], cells: Cells, clusters: tuple[np.ndarray, int]
) -> np.ndarray:
    """Each slice's joint confusion counts per cluster, (S, clusters, k^3), for the cluster bootstrap."""
    codes, g = clusters
    k = cells.k
    slices, matrix = stack_masks(masks, len(df_eval))
    y = _label_codes(df_eval["label"], cells.labels, "label")
    pb, pc = (_label_codes(df_eval[role_col(r, "pred")], cells.labels, f"{r} prediction") for r in ROLES)
    cell = (y * k + pb) * k + pc
    groups, counts = group_counts(matrix, codes * k**3 + cell)
    full = np.zeros((len(slices), g * k**3), dtype=np.int64)
    full[:, groups] = counts
    return full.reshape(len(slices), g, k**3)


def per_class_changes(
    df_eval: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    cells: Cells | None = None,
) -> pd.DataFrame:
    """Per gold label, on every row: precision, recall and F1 of both models and the paired change of each,
    with 95% intervals. Recall's change is a paired proportion on the rows of that gold label (Newcombe,
    exact McNemar); precision's and F1's come from the seeded bootstrap over confusion cells.
    Undefined values (a label never predicted has no precision) are NaN, never 0.
    """
    cells = cells or confusion_cells(df_eval, {}, labels)
    k = cells.k
    counts = cells.counts[0]
    cube = counts.reshape(k, k, k)  # gold, baseline pred, candidate pred
    cb, cc = cells.confusions(counts)
    point = {role: _per_label(cm) for role, cm in zip(ROLES, (cb, cc))}
    clusters = cluster_of(df_eval)
    if clusters is None:
        draws = multinomial_draws(counts, n_boot, seed)
    else:
        draws = cluster_cell_draws(cluster_cells(df_eval, {}, cells, clusters)[:1], n_boot, seed)[0]
    db, dc = cells.confusions(draws)
    boot_b, boot_c = _per_label(db), _per_label(dc)
    rows = []
    for j, label in enumerate(cells.labels):
        on_label = cube[j]
        b_ok, c_ok = np.arange(k) == j, np.arange(k) == j
        both = int(on_label[np.ix_(b_ok, c_ok)].sum())
        improved = int(on_label[np.ix_(~b_ok, c_ok)].sum())
        regressed = int(on_label[np.ix_(b_ok, ~c_ok)].sum())
        neither = int(on_label.sum()) - both - improved - regressed
        if clusters is None:
            rec = binary_changes(["all"], [both], [improved], [regressed], [neither], confidence=confidence).iloc[0]
        else:
            gold_rows = (df_eval["label"].astype(str).to_numpy() == label)[None, :]
            ok_b = df_eval[role_col("baseline", "correct")].to_numpy(dtype=float)
            ok_c = df_eval[role_col("candidate", "correct")].to_numpy(dtype=float)
            rec = (
                clustered_changes(["all"], gold_rows, ok_b, ok_c, *clusters, binary=True, confidence=confidence).iloc[0]
                if gold_rows.any()
                else binary_changes(["all"], [0], [0], [0], [0], confidence=confidence).iloc[0]
            )
        row = {
            "label": label,
            "n_gold": int(cb[j].sum()),
            "n_pred_baseline": int(cb[:, j].sum()),
            "n_pred_candidate": int(cc[:, j].sum()),
        }
        for metric in ("precision", "recall", "f1"):
            base, cand = float(point["baseline"][metric][j]), float(point["candidate"][metric][j])
            row.update({f"{metric}_baseline": base, f"{metric}_candidate": cand, f"{metric}_delta": cand - base})
            if metric == "recall":
                row.update(
                    {
                        "recall_delta_lo": rec["delta_lo"],
                        "recall_delta_hi": rec["delta_hi"],
                        "recall_p": rec["p"],
                        "recall_mde": rec["mde"],
                    }
                )
            else:
                s = bootstrap_summary(
                    np.array([cand - base]), (boot_c[metric][:, j] - boot_b[metric][:, j])[None, :], confidence
                )
                row.update(
                    {
                        f"{metric}_delta_lo": float(s["delta_lo"][0]),
                        f"{metric}_delta_hi": float(s["delta_hi"][0]),
                        f"{metric}_p": float(s["p"][0]),
                    }
                )
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs = {
        "confidence": confidence,
        "methods": {
            "recall": "Newcombe paired interval and exact McNemar on the rows of the gold label",
            "precision, f1": PAIRED_METHODS["bootstrap"].format(b=n_boot, seed=seed),
        },
    }
    return out


__all__ = [
    "COMPARED",
    "Cells",
    "ComparedMetric",
    "GENERATION",
    "HEADLINE",
    "cluster_cells",
    "compared_metric",
    "confusion_cells",
    "joint_codes",
    "headline_metric",
    "macro_f1_of",
    "method_of",
    "metric_changes",
    "metrics_for",
    "per_class_changes",
]
