"""The whole flow of DESIGN.md as three cacheable steps, shared by the CLI, the app and notebooks.

    data + models  -> predictions                 (scoring, on-disk cache)
    data + custom features + predictions -> df_eval   (`build_eval`)
    df_eval + slices -> metric tables             (`analyse`)

The app caches each step on its own inputs, so editing a slice re-runs only `analyse` and never a
model; `run_analysis` chains them for one-shot callers (CLI `report`, `push`, notebooks).

One pipeline serves every task kind: the data's `task` names its kind object (`evalcore.tasks.kinds`, one module
per kind), which gives the features, the outputs (a classifier's predictions, or a model's answers), df_eval and
the metric tables; df_eval's `attrs["task"]` names it again for `analyse`. The analysis carries the kind
(`Analysis.kind`), so the verdict, the reports and the W&B push ask it too.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.features import CustomFeature
from evalcore.analyze.slices import SliceSet
from evalcore.analyze.slices import masks as slice_masks
from evalcore.analyze.tables import DEFAULT_CONF_THRESHOLD
from evalcore.io.data import EvalData
from evalcore.predict.scoring import Predictions
from evalcore.stats.metrics import DEFAULT_MIN_N
from evalcore.stats.results import Analysis, SliceResults
from evalcore.tasks.kinds import kind_of, task_kind


def feature_frame(data: EvalData, custom: Sequence[CustomFeature] = (), drop: Sequence[str] = ()) -> pd.DataFrame:
    """The data's rows with every metadata feature added (a feature replaces a data column of the
    same name: its definition is the documented one). `drop` removes columns such as the
    precomputed prediction columns, which df_eval carries under their own names. Generation data gets
    the generation features (question word, answer type, lengths...) and the custom ones on its prompts."""
    feats = kind_of(data).features(data, custom)
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


def build_eval(
    data: EvalData,
    baseline: Predictions,
    candidate: Predictions,
    custom: Sequence[CustomFeature] = (),
    *,
    conf_threshold: float = DEFAULT_CONF_THRESHOLD,
    base: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """df_eval: data + features + both models' outputs and the comparison flags (generation: both
    models' answers and their per-example scores, `evalcore.stats.gentables.build_generation_eval`)."""
    base = eval_base(data, custom) if base is None else base
    df = kind_of(data).build_eval(base, baseline, candidate, data, conf_threshold=conf_threshold)
    cluster = getattr(data, "cluster_col", None)
    if cluster and cluster in df.columns:  # rows in groups: every interval, test and MDE is cluster-aware
        df.attrs["cluster_col"] = cluster
    return df


def analyse(
    df_eval: pd.DataFrame,
    slices: SliceSet,
    labels: Sequence[str],
    *,
    conf_threshold: float = DEFAULT_CONF_THRESHOLD,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    parts=None,
    masks: dict[str, np.ndarray] | None = None,
    rules_table: pd.DataFrame | None = None,
) -> SliceResults:
    """Validate and evaluate the slices, then every metric table of df_eval's task. No model runs here.
    `parts` (`evalcore.stats.incremental.Parts`): keep each slice's masks, cells and calibration in a memo, so an
    edit of one slice recomputes that slice's row-level work only; the tables are the same. `masks`: the slices'
    masks computed elsewhere (over shards, `evalcore.tasks.ray_report`), with `rules_table` a table of the same
    columns as df_eval (a sample) the rules are validated against."""
    from evalcore.analyze.rules import Schema
    from evalcore.analyze.slices import slice_roles, validate_slices

    table = df_eval if rules_table is None else rules_table
    warnings = validate_slices(slices, parts.schema(table) if parts else Schema.from_frame(table))
    roles = slice_roles(slices, table)  # refuses a guardrail on a model's output, naming the fix
    if masks is not None:
        m = masks
    else:
        m = parts.masks(slices, df_eval) if parts else slice_masks(slices, df_eval)
    out = kind_of(df_eval).results(
        df_eval,
        m,
        labels,
        conf_threshold=conf_threshold,
        min_n=min_n,
        alpha=alpha,
        warnings=warnings,
        parts=parts,
        slices=slices,
    )
    out.roles = roles
    return out


def run_analysis(
    data: EvalData,
    baseline_spec: str,
    candidate_spec: str,
    *,
    slices: SliceSet | None = None,
    custom: Sequence[CustomFeature] = (),
    cache=None,
    conf_threshold: float = DEFAULT_CONF_THRESHOLD,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    batch_size: int = 32,
    progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
    guardrails: Sequence[str] = (),
) -> Analysis:
    """Score both models (through the cache), build df_eval and every metric table.

    Without `slices`, the task's default slices (`evalcore.analyze.slices.default_slices`), those no row matches left
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
    kind = kind_of(data)
    if slices is None:  # the kind's defaults (generation: the factoid-QA slices only on factoid answers)
        slices, left_out = kind.default_slices(df_eval, data.labels)
        notes += left_out
    if guardrails:  # `--guardrail NAME`: marked on the slice set the verdict reads
        from evalcore.analyze.slices import mark_guardrails

        slices = mark_guardrails(slices, guardrails)
    results = analyse(df_eval, slices, data.labels, conf_threshold=conf_threshold, min_n=min_n, alpha=alpha)
    results.warnings = notes + results.warnings
    return Analysis(
        data=data, baseline=preds[0], candidate=preds[1], df_eval=df_eval, slices=slices, results=results, kind=kind
    )


def model_applies(spec: str, data: EvalData) -> bool:
    """Whether a model may be picked for `data` without the user asking: a precomputed column the
    data has, a predictions file that reads for its rows, VADER or the demo transformer only on
    sentiment labels (negative / positive, optionally neutral); on generation data, an answer column or
    an answers file that aligns with the rows. An `hf:` model is the user's own
    choice and is kept (loading it reports any label problem); an empty spec never applies."""
    from evalcore.core.errors import EvalcoreError
    from evalcore.predict.models import ModelSpec

    try:
        parsed = ModelSpec.parse(spec)
    except EvalcoreError:
        return False
    return kind_of(data).model_applies(parsed, spec, data)


def model_outputs(
    data: EvalData,
    spec: str,
    cache=None,
    *,
    batch_size: int = 32,
    progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
) -> tuple[Predictions, str | None]:
    """One model's outputs on the data's rows: a classifier's predictions (through the cache), or a
    generation model's answers (`evalcore.predict.answers.load_answers`); and a warning naming any gold
    label the classifier can never predict (None when there is none)."""
    return kind_of(data).outputs(data, spec, cache, batch_size=batch_size, progress=progress)


def task_starter_slices(task: str) -> SliceSet:
    """The starter slice set of a task kind."""
    return task_kind(task).starter_slices()


def choose_models(data: EvalData, baseline: str, candidate: str) -> tuple[str, str]:
    """Keep the chosen models when they still apply to `data` (`model_applies`); otherwise pick
    ones that do, never one that cannot apply to the labels. `""` means none applies: the user
    chooses (e.g. a `file:` predictions file) on Data & models.

    A precomputed column exists only in the data that ships it, so switching datasets would
    otherwise leave the user with an error. The fallback prefers the data's own defaults, then its
    shipped prediction columns, then (on sentiment labels only) VADER and the demo transformer.
    """
    from evalcore.io.labels import is_sentiment

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
