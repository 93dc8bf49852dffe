"""The whole flow of DESIGN.md as three cacheable steps, shared by the CLI, the app and notebooks.

    data + models  -> predictions                 (scoring, on-disk cache)
    data + custom features + predictions -> df_eval   (`build_eval`)
    df_eval + slices -> metric tables             (`analyse`)

The app caches each step on its own inputs, so editing a slice re-runs only `analyse` and never a
model; `run_analysis` chains them for one-shot callers (CLI `report`, `push`, notebooks).

One pipeline serves both task kinds: the data's `task` picks the features (text features, or the
generation features of `evalcore.features`), the outputs (a classifier's predictions, or a model's
answers scored by `evalcore.genmetrics`), and df_eval's `attrs["task"]` picks the metric tables
(`evalcore.gentables` for generation) and, downstream, the compared metrics, gates and wording.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from evalcore.comparisons import confusion_cells, metric_changes, per_class_changes
from evalcore.data import EvalData
from evalcore.features import CustomFeature, compute_features
from evalcore.metrics import (ALL_SLICE, DEFAULT_MIN_N, calibration_metrics, overall_comparison,
                              regression_metrics, slice_metrics)
from evalcore.scoring import Predictions
from evalcore.slices import SliceSet, default_slices, masks as slice_masks, starter_slices
from evalcore.tables import DEFAULT_CONF_THRESHOLD, build_df_eval, build_df_long


@dataclass
class SliceResults:
    """Metric tables for one df_eval and one slice set (the lab's names)."""

    masks: dict[str, np.ndarray]
    slice_metrics: pd.DataFrame
    regression_metrics: pd.DataFrame
    calibration: pd.DataFrame
    overall: dict
    changes: pd.DataFrame  # one row per (compared metric, slice): evalcore.comparisons.metric_changes
    per_class: pd.DataFrame  # per gold label: precision / recall / F1 of both models and their change
    warnings: list[str] = field(default_factory=list)
    # slice -> "watched", "guardrail" or "model-defined" (a rule on a model's output: shown, never gates)
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Slices where the candidate is worse than on the rest of the rows, after Benjamini-Hochberg:
        the slices findings and the slice gate speak of."""
        reg = self.regression_metrics
        return reg.loc[reg["worse_than_rest"] & (reg["slice"] != ALL_SLICE), "slice"].tolist()

    @property
    def regressed_slices(self) -> list[str]:
        """Slices whose own change is below zero after Benjamini-Hochberg (changed vs zero)."""
        reg = self.regression_metrics
        return reg.loc[reg["significant_regression"] & (reg["slice"] != ALL_SLICE), "slice"].tolist()


@dataclass
class Analysis:
    """Everything one baseline-vs-candidate comparison produced."""

    data: EvalData
    baseline: Predictions
    candidate: Predictions
    df_eval: pd.DataFrame
    slices: SliceSet
    results: SliceResults

    @property
    def task(self) -> str:
        """"classification" or "generation": the task kind the data declared."""
        return getattr(self.data, "task", "classification")

    @property
    def df_long(self) -> pd.DataFrame:
        return build_df_long(self.df_eval)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The lab's four tables, by their W&B names."""
        r = self.results
        return {"df_long": self.df_long, "df_eval": self.df_eval,
                "slice_metrics": r.slice_metrics, "regression_metrics": r.regression_metrics}


def feature_frame(data: EvalData, custom: Sequence[CustomFeature] = (),
                  drop: Sequence[str] = ()) -> pd.DataFrame:
    """The data's rows with every metadata feature added (a feature replaces a data column of the
    same name: its definition is the documented one). `drop` removes columns such as the
    precomputed prediction columns, which df_eval carries under their own names. Generation data gets
    the generation features (question word, answer type, lengths...) and the custom ones on its prompts."""
    if data.task == "generation":
        from evalcore.errors import FeatureError
        from evalcore.features import compute_generation_features, list_generation_features

        taken = {f.name for f in list_generation_features()} & {c.name for c in custom}
        if taken:
            raise FeatureError(f"custom feature name(s) {', '.join(sorted(taken))} are generation features of "
                               "evalcore; rename the custom feature")
        feats = pd.concat([compute_generation_features(data.df),
                           compute_features(data.df["text"], names=[], custom=custom)], axis=1)
    else:  # read back from the on-disk store when these rows' features were computed before
        from evalcore.featurestore import text_features

        feats = text_features(data.df["text"], custom)
    base = data.df.drop(columns=[c for c in (*drop, *feats.columns) if c in data.df.columns])
    return pd.concat([base.reset_index(drop=True), feats.reset_index(drop=True)], axis=1)


def precomputed_columns(data: EvalData) -> list[str]:
    """Columns of the data that hold precomputed predictions and confidences."""
    cols = []
    for m in data.precomputed.values():
        cols += [m.pred_col] + ([m.conf_col] if m.conf_col else [])
    return cols


def eval_base(data: EvalData, custom: Sequence[CustomFeature] = ()) -> pd.DataFrame:
    """The model-independent part of df_eval: rows + features, without precomputed columns.
    Callers that vary only models or thresholds can compute it once."""
    return feature_frame(data, custom, drop=precomputed_columns(data))


def build_eval(data: EvalData, baseline: Predictions, candidate: Predictions,
               custom: Sequence[CustomFeature] = (), *,
               conf_threshold: float = DEFAULT_CONF_THRESHOLD, base: pd.DataFrame | None = None) -> pd.DataFrame:
    """df_eval: data + features + both models' outputs and the comparison flags (generation: both
    models' answers and their per-example scores, `evalcore.gentables.build_generation_eval`)."""
    base = eval_base(data, custom) if base is None else base
    if data.task == "generation":
        from evalcore.gentables import build_generation_eval

        df = build_generation_eval(base, baseline, candidate, data.golds, conf_threshold=conf_threshold,
                                   tokenizer=getattr(data, "rouge_tokenizer", "default"))
    else:
        df = build_df_eval(base, baseline, candidate, conf_threshold=conf_threshold)
    cluster = getattr(data, "cluster_col", None)
    if cluster and cluster in df.columns:  # rows in groups: every interval, test and MDE is cluster-aware
        df.attrs["cluster_col"] = cluster
    return df


def analyse(df_eval: pd.DataFrame, slices: SliceSet, labels: Sequence[str], *,
            conf_threshold: float = DEFAULT_CONF_THRESHOLD, min_n: int = DEFAULT_MIN_N,
            alpha: float = 0.05, parts=None) -> SliceResults:
    """Validate and evaluate the slices, then every metric table of df_eval's task. No model runs here.
    `parts` (`evalcore.incremental.Parts`): keep each slice's masks, cells and calibration in a memo, so an
    edit of one slice recomputes that slice's row-level work only; the tables are the same."""
    from evalcore.rules import Schema
    from evalcore.slices import validate_slices

    from evalcore.slices import slice_roles

    warnings = validate_slices(slices, parts.schema(df_eval) if parts else Schema.from_frame(df_eval))
    roles = slice_roles(slices, df_eval)  # refuses a guardrail on a model's output, naming the fix
    m = parts.masks(slices, df_eval) if parts else slice_masks(slices, df_eval)
    if df_eval.attrs.get("task") == "generation":
        from evalcore.gentables import generation_results

        out = generation_results(df_eval, m, min_n=min_n, alpha=alpha, warnings=warnings)
        out.roles = roles
        return out
    regression = regression_metrics(df_eval, m, min_n=min_n, conf_threshold=conf_threshold, alpha=alpha)
    if parts:
        texts = {s.name: s.text for s in slices}
        cells = parts.cells(df_eval, m, texts, labels)
        calibration = parts.calibration(df_eval, m, texts, min_n=DEFAULT_MIN_N)
        per_class = parts.per_class(df_eval, labels, cells)
    else:
        cells = confusion_cells(df_eval, m, labels)
        calibration = calibration_metrics(df_eval, m)
        per_class = per_class_changes(df_eval, labels, cells=cells)
    return SliceResults(
        masks=m,
        slice_metrics=slice_metrics(df_eval, m, labels=labels, min_n=min_n, cell_counts=cells.counts),
        regression_metrics=regression,
        calibration=calibration,
        overall=overall_comparison(df_eval, conf_threshold=conf_threshold, regression=regression),
        changes=metric_changes(df_eval, m, labels=labels, alpha=alpha, cells=cells),
        per_class=per_class,
        warnings=warnings, roles=roles,
    )


def run_analysis(data: EvalData, baseline_spec: str, candidate_spec: str, *,
                 slices: SliceSet | None = None, custom: Sequence[CustomFeature] = (),
                 cache=None, conf_threshold: float = DEFAULT_CONF_THRESHOLD, min_n: int = DEFAULT_MIN_N,
                 alpha: float = 0.05, batch_size: int = 32,
                 progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
                 guardrails: Sequence[str] = ()) -> Analysis:
    """Score both models (through the cache), build df_eval and every metric table.

    Without `slices`, the task's default slices (`evalcore.slices.default_slices`), those no row matches left
    out. `guardrails`: slice names to mark as guardrails. The results' warnings name any gold label a model
    can never predict and any default slice left out.
    `progress(model_name)` may return a `progress(done, total)` callback for that model's scoring.
    """
    preds, notes = [], []
    for spec in (baseline_spec, candidate_spec):
        out, note = model_outputs(data, spec, cache, batch_size=batch_size, progress=progress)
        preds.append(out)
        notes += [note] if note else []
    df_eval = build_eval(data, preds[0], preds[1], custom, conf_threshold=conf_threshold)
    if slices is None and data.task == "classification":
        slices, left_out = default_slices(df_eval, data.labels)
        notes += left_out
    elif slices is None and data.task == "generation":  # the factoid-QA slices only on factoid answers
        from evalcore.gentables import generation_default_slices

        slices, left_out = generation_default_slices(df_eval)
        notes += left_out
    slices = slices if slices is not None else task_starter_slices(data.task)
    if guardrails:  # `--guardrail NAME`: marked on the slice set the verdict reads
        from evalcore.slices import mark_guardrails

        slices = mark_guardrails(slices, guardrails)
    results = analyse(df_eval, slices, data.labels, conf_threshold=conf_threshold, min_n=min_n, alpha=alpha)
    results.warnings = notes + results.warnings
    return Analysis(data=data, baseline=preds[0], candidate=preds[1], df_eval=df_eval, slices=slices,
                    results=results)


def model_applies(spec: str, data: EvalData) -> bool:
    """Whether a model may be picked for `data` without the user asking: a precomputed column the
    data has, a predictions file that reads for its rows, VADER or the demo transformer only on
    sentiment labels (negative / positive, optionally neutral); on generation data, an answer column or
    an answers file that aligns with the rows. An `hf:` model is the user's own
    choice and is kept (loading it reports any label problem); an empty spec never applies."""
    from evalcore.errors import EvalcoreError
    from evalcore.labels import is_sentiment
    from evalcore.models import ModelSpec, load_predictor

    try:
        parsed = ModelSpec.parse(spec)
    except EvalcoreError:
        return False
    if data.task == "generation":  # an answer column of the data, or an answers file that aligns with its rows
        if parsed.kind not in ("precomputed", "file"):
            return False
        try:
            model_outputs(data, spec)
        except EvalcoreError:
            return False
        return True
    if parsed.kind == "precomputed":
        return parsed.target in data.precomputed
    if parsed.kind in ("vader", "demo"):
        return is_sentiment(data.labels)
    if parsed.kind == "file":
        try:
            load_predictor(parsed, data.labels, data=data)
        except EvalcoreError:
            return False
    return True


def model_outputs(data: EvalData, spec: str, cache=None, *, batch_size: int = 32,
                  progress: Callable[[str], Callable[[int, int], None] | None] | None = None
                  ) -> tuple[Predictions, str | None]:
    """One model's outputs on the data's rows: a classifier's predictions (through the cache), or a
    generation model's answers (`evalcore.gendata.load_answers`); and a warning naming any gold
    label the classifier can never predict (None when there is none)."""
    if data.task == "generation":
        from evalcore.gendata import load_answers

        return load_answers(spec, data), None
    from evalcore.models import load_predictor, unreachable_warning
    from evalcore.scoring import score

    predictor = load_predictor(spec, data.labels, data=data)
    preds = score(data, predictor, cache, batch_size=batch_size,
                  progress=progress(predictor.name) if progress and predictor.live else None)
    return preds, unreachable_warning(predictor, data.df["label"].tolist())


def task_starter_slices(task: str) -> SliceSet:
    """The starter slice set of a task kind."""
    if task == "generation":
        from evalcore.gentables import generation_starter_slices

        return generation_starter_slices()
    return starter_slices()


def choose_models(data: EvalData, baseline: str, candidate: str) -> tuple[str, str]:
    """Keep the chosen models when they still apply to `data` (`model_applies`); otherwise pick
    ones that do, never one that cannot apply to the labels. `""` means none applies: the user
    chooses (e.g. a `file:` predictions file) on Data & models.

    A precomputed column exists only in the data that ships it, so switching datasets would
    otherwise leave the user with an error. The fallback prefers the data's own defaults, then its
    shipped prediction columns, then (on sentiment labels only) VADER and the demo transformer.
    """
    from evalcore.labels import is_sentiment

    keep_b, keep_c = model_applies(baseline, data), model_applies(candidate, data)
    if keep_b and keep_c and baseline != candidate:
        return baseline, candidate
    if data.default_models:
        return data.default_models
    pool = [*data.precomputed, *(("vader", "demo") if is_sentiment(data.labels) else ())]
    b = baseline if keep_b else ""
    c = candidate if keep_c and candidate != b else ""
    pool = [m for m in pool if m not in (b, c)]
    b = b or (pool.pop(0) if pool else "")
    c = c or (pool.pop(0) if pool else "")
    return b, c
