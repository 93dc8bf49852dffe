"""The lab's two tables, `df_eval` (one row per example) and `df_long` (one row per example and model).

This module is the one place that turns a column's identity (a model's prediction, a role's
correctness, a comparison flag) into its name, so no caller ever builds `"conf_" + model` by hand.

    >>> pred_col("roberta"), conf_col("roberta"), correct_col("roberta"), role_col("candidate", "conf")
    ('pred_roberta', 'conf_roberta', 'correct_roberta', 'candidate_conf')

Predictions come in as any object with `.model` (name), `.pred` (labels as strings) and `.conf`
(float, NaN where unknown), such as `evalcore.predict.scoring.Predictions`; an optional `.ids` is checked
against the data's ids. Duck typing keeps this module free of the scoring stack's imports.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from evalcore.core.errors import ConfigError, DataError

CORE_COLUMNS = ("id", "text", "label")
ROLES = ("baseline", "candidate")
ROLE_FIELDS = ("pred", "conf", "correct")
# Per-example scores of a generated answer (evalcore.stats.genmetrics), present in generation df_evals only.
GENERATION_FIELDS = (
    "exact_match",
    "relaxed_match",
    "f1",
    "rouge_l",
    "rouge_acc",
    "answer_tokens",
    "length_ratio",
    "verbose",
)
# Scores whose per-row change (candidate - baseline) df_eval carries as `<score>_delta` (generation only).
DELTA_FIELDS = ("f1", "rouge_l")
# Per-example comparison of the two models, in df_eval's column order.
FLAG_COLUMNS = ("regressed", "improved", "both_wrong", "both_correct", "confident_regression")
LONG_COLUMNS = ("model", "role", "pred", "conf", "correct")
DEFAULT_CONF_THRESHOLD = 0.8


class PredictionsLike(Protocol):
    """What `build_df_eval` needs from a model's predictions (`evalcore.predict.scoring.Predictions` fits)."""

    model: str
    pred: Any  # (n,) label strings
    conf: Any  # (n,) float, NaN where the model gives no confidence


def pred_col(model: str) -> str:
    """Column of `model`'s predicted label in df_eval."""
    return f"pred_{model}"


def conf_col(model: str) -> str:
    """Column of `model`'s confidence (probability of its predicted label) in df_eval."""
    return f"conf_{model}"


def correct_col(model: str) -> str:
    """Column saying whether `model` predicted the gold label, in df_eval."""
    return f"correct_{model}"


def role_col(role: str, field: str) -> str:
    """Column of a role's output (`baseline_pred`, `candidate_correct`...), the lab's names."""
    if role not in ROLES or field not in ROLE_FIELDS + GENERATION_FIELDS:
        raise DataError(
            f"no column for role={role!r}, field={field!r}; roles: {', '.join(ROLES)}; "
            f"fields: {', '.join(ROLE_FIELDS + GENERATION_FIELDS)}"
        )
    return f"{role}_{field}"


def score_col(model: str) -> str:
    """Column of a model's top-label score when it is not a probability (VADER's lexicon share)."""
    return f"score_{model}"


def delta_col(field: str) -> str:
    """Column of a score's per-row change, candidate - baseline (`f1_delta`; generation df_evals)."""
    if field not in DELTA_FIELDS:
        raise DataError(f"no change column for {field!r}; change columns exist for: {', '.join(DELTA_FIELDS)}")
    return f"{field}_delta"


def model_columns(model: str) -> list[str]:
    """The columns df_eval may hold for one model, in table order (`score_` only for a non-probability score)."""
    return [pred_col(model), conf_col(model), correct_col(model), score_col(model)]


def role_names(df_eval: pd.DataFrame) -> dict[str, str]:
    """`{"baseline": name, "candidate": name}` as recorded by `build_df_eval` in `df_eval.attrs`."""
    names = {role: df_eval.attrs.get(role) for role in ROLES}
    if not all(isinstance(v, str) for v in names.values()):
        raise DataError(
            "this table carries no baseline/candidate names in .attrs; build it with "
            "evalcore.analyze.tables.build_df_eval (pandas drops attrs on some operations, e.g. merge)"
        )
    return names  # type: ignore[return-value]


def model_output_columns(df_eval: pd.DataFrame) -> list[str]:
    """Every column derived from model outputs (per model, per role, flags, per-row score changes), for UI
    column groups; never a slice-discovery feature (they are the outcome)."""
    names = role_names(df_eval)
    cols = [c for role in ROLES for c in model_columns(names[role])]
    cols += [role_col(role, f) for role in ROLES for f in ROLE_FIELDS + GENERATION_FIELDS]
    cols += list(FLAG_COLUMNS) + [delta_col(f) for f in DELTA_FIELDS]
    return [c for c in cols if c in df_eval.columns]


def metadata_columns(df_eval: pd.DataFrame) -> list[str]:
    """Columns that are neither id/text/label nor model outputs: the features slices are built on."""
    outputs = set(model_output_columns(df_eval)) | set(CORE_COLUMNS)
    return [c for c in df_eval.columns if c not in outputs]


def build_df_eval(
    base: pd.DataFrame,
    baseline: PredictionsLike,
    candidate: PredictionsLike,
    *,
    conf_threshold: float = DEFAULT_CONF_THRESHOLD,
    correct: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per example: the data's columns, both models' outputs and the comparison flags.

    `regressed` = baseline right and candidate wrong; `improved` the reverse;
    `confident_regression` = regressed with candidate confidence >= `conf_threshold` (a NaN
    confidence never counts as confident). `attrs` records the two model names and the threshold.
    `correct`: per role, whether each answer is right when that is not `pred == label` (generation:
    exact match against any gold answer, `evalcore.stats.gentables`).
    """
    _check_base(base)
    if not isinstance(conf_threshold, (int, float)) or not 0.0 <= float(conf_threshold) <= 1.0:
        raise ConfigError(f"conf_threshold must be a probability in [0, 1], got {conf_threshold!r}")
    outputs = {role: _outputs(p, base, role) for role, p in zip(ROLES, (baseline, candidate))}
    b_name, c_name = outputs["baseline"][0], outputs["candidate"][0]
    b_spec, c_spec = getattr(baseline, "spec", None), getattr(candidate, "spec", None)
    if b_name == c_name and b_spec and c_spec and b_spec != c_spec:  # two files both named preds.txt
        outputs = {role: (f"{o[0]} ({role})", *o[1:]) for role, o in outputs.items()}
        b_name, c_name = outputs["baseline"][0], outputs["candidate"][0]
    if b_name == c_name:
        raise DataError(
            f"baseline and candidate are the same model {b_name!r}; compare two different "
            "models (give one a different name to compare a model with a re-run of itself)"
        )
    label = base["label"].reset_index(drop=True)
    if not pd.api.types.is_string_dtype(label.dtype) or label.dtype == object:
        label = label.astype("str")
    new: dict[str, Any] = {}
    given, correct = correct, {}
    for role, (name, pred, conf) in outputs.items():
        correct[role] = (
            (pred == label).to_numpy(dtype=bool) if given is None else _as_bool(given[role], len(label), role)
        )
        new.update({pred_col(name): pred, conf_col(name): conf, correct_col(name): correct[role]})
    kinds = {}
    for role, p in zip(ROLES, (baseline, candidate)):
        kinds[role] = getattr(p, "score_kind", "probability")
        score = getattr(p, "score", None)
        if kinds[role] != "probability" and score is not None:  # shown, labelled, never used as a confidence
            new[score_col(outputs[role][0])] = np.asarray(score, dtype=float)
    for role, (name, pred, conf) in outputs.items():
        new.update(
            {role_col(role, "pred"): pred, role_col(role, "conf"): conf, role_col(role, "correct"): correct[role]}
        )
    b_ok, c_ok = correct["baseline"], correct["candidate"]
    regressed = b_ok & ~c_ok
    with np.errstate(invalid="ignore"):
        confident = outputs["candidate"][2] >= conf_threshold  # NaN -> False
    new.update(
        {
            "regressed": regressed,
            "improved": ~b_ok & c_ok,
            "both_wrong": ~b_ok & ~c_ok,
            "both_correct": b_ok & c_ok,
            "confident_regression": regressed & confident,
        }
    )
    clash = [c for c in new if c in base.columns]
    if clash:
        raise DataError(
            f"the data already has column(s) {', '.join(clash)}, which df_eval uses for model "
            "outputs; rename them in the data (or pass the data without a previous df_eval's columns)"
        )
    extra = pd.DataFrame(new)  # pred Series share the RangeIndex of the reset base
    df = pd.concat([base.reset_index(drop=True), extra], axis=1)
    df.attrs = {"baseline": b_name, "candidate": c_name, "conf_threshold": float(conf_threshold), "score_kind": kinds}
    return df


def build_df_long(df_eval: pd.DataFrame) -> pd.DataFrame:
    """One row per (example, model): id, text, label, metadata..., model, role, pred, conf, correct.

    The baseline's rows come first, then the candidate's, each in df_eval's row order.
    """
    names = role_names(df_eval)
    meta = [c for c in df_eval.columns if c not in set(model_output_columns(df_eval))]
    parts = []
    for role in ROLES:
        part = df_eval[meta].copy()
        part["model"] = names[role]
        part["role"] = role
        for field in ROLE_FIELDS + GENERATION_FIELDS:
            if field in ROLE_FIELDS or role_col(role, field) in df_eval.columns:
                part[field] = df_eval[role_col(role, field)].to_numpy()
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long["model"] = long["model"].astype("str")
    long["role"] = long["role"].astype("str")
    long.attrs = dict(df_eval.attrs)
    return long


# --- validation --------------------------------------------------------------------------------


def _check_base(base: pd.DataFrame) -> None:
    if not isinstance(base, pd.DataFrame):
        raise DataError(f"base must be a pandas DataFrame with columns id, text, label; got {type(base).__name__}")
    missing = [c for c in CORE_COLUMNS if c not in base.columns]
    if missing:
        raise DataError(
            f"base table lacks column(s) {', '.join(missing)}; it needs id, text, label "
            f"(has: {', '.join(map(str, base.columns[:20]))})"
        )
    missing_label = base["label"].isna().to_numpy()
    if missing_label.any():
        row = int(np.flatnonzero(missing_label)[0])
        raise DataError(
            f"base table has no label in {int(missing_label.sum())} row(s) (first: row {row + 1}); "
            "every row needs a gold label"
        )


def _outputs(p: PredictionsLike, base: pd.DataFrame, role: str) -> tuple[str, pd.Series, np.ndarray]:
    """Validated (name, pred as a string Series, conf as float64) of one model."""
    name = getattr(p, "model", None)
    if not isinstance(name, str) or not name:
        raise DataError(f"{role} predictions need a non-empty model name in `.model`, got {name!r}")
    n = len(base)
    raw = getattr(p, "pred", None)
    pred = np.asarray(raw, dtype=object) if raw is not None else np.empty(0, dtype=object)
    if pred.ndim != 1 or len(pred) != n:
        raise DataError(
            f"{role} model {name!r} has {pred.size} predictions for {n} rows of data; "
            "predictions must align one to one with the data's rows"
        )
    missing = pd.isna(pred)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{role} model {name!r} has no prediction for {int(missing.sum())} row(s) "
            f"(first: row {row + 1}, id {base['id'].iloc[row]!r})"
        )
    pred = pd.Series(pred, dtype="str")
    raw_conf = getattr(p, "conf", None)
    conf = np.full(n, np.nan) if raw_conf is None else _as_float(raw_conf, name, role)
    if len(conf) != n:
        raise DataError(f"{role} model {name!r} has {len(conf)} confidences for {n} rows of data")
    bad = ~np.isnan(conf) & ((conf < 0) | (conf > 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{role} model {name!r} has confidence {float(conf[row])!r} at row {row + 1}; "
            "confidences are probabilities in [0, 1] (NaN when unknown)"
        )
    ids = getattr(p, "ids", None)
    if ids is not None:
        _check_ids(ids, base, name, role)
    return name, pred, conf


def _as_bool(values: Any, n: int, role: str) -> np.ndarray:
    arr = np.asarray(values, dtype=bool).reshape(-1)
    if len(arr) != n:
        raise DataError(f"{role}: {len(arr)} correctness values for {n} rows; they must align one to one")
    return arr


def _as_float(values: Any, name: str, role: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{role} model {name!r} has non-numeric confidences ({exc}); give floats in [0, 1] or NaN"
        ) from exc


def _check_ids(raw: Any, base: pd.DataFrame, name: str, role: str) -> None:
    """The predictions' ids are the data's, row for row (compared as Arrow strings: no Python string per id)."""
    want = base["id"].astype("str").reset_index(drop=True)
    ids = pd.Series(raw if isinstance(raw, pd.Series) else np.asarray(raw, dtype=object)).astype("str")
    ids = ids.reset_index(drop=True)
    if not ids.equals(want):
        ids, want = ids.to_numpy(dtype=object), want.to_numpy(dtype=object)
        if len(ids) != len(want):
            detail = f"{len(ids)} ids for {len(want)} rows"
        else:
            row = int(np.flatnonzero(ids != want)[0])
            detail = f"row {row + 1} has id {str(ids[row])!r} but the data has {str(want[row])!r}"
        raise DataError(
            f"{role} model {name!r} predictions are not aligned with the data: {detail}; "
            "score the same rows in the same order"
        )


__all__ = [
    "CORE_COLUMNS",
    "DEFAULT_CONF_THRESHOLD",
    "DELTA_FIELDS",
    "FLAG_COLUMNS",
    "GENERATION_FIELDS",
    "LONG_COLUMNS",
    "PredictionsLike",
    "ROLES",
    "ROLE_FIELDS",
    "build_df_eval",
    "build_df_long",
    "conf_col",
    "correct_col",
    "delta_col",
    "metadata_columns",
    "model_columns",
    "model_output_columns",
    "pred_col",
    "role_col",
    "role_names",
]
