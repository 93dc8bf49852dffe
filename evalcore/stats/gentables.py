"""Generation comparisons as tables: df_eval with both models' per-example scores, and the metric tables
`evalcore.tasks.pipeline.analyse` returns for the generation task.

df_eval is the classification layout (`evalcore.analyze.tables.build_df_eval`) with `correct` = exact match
(so `regressed` / `improved` mean an exact match lost / gained), plus per role every score of
`evalcore.stats.genmetrics` (`baseline_f1`, `candidate_rouge_l`, ...), the per-model feature `verbose`, and
`f1_delta` / `rouge_l_delta` (candidate - baseline) for slicing on a row's change. `attrs["task"]` is
"generation": every reader (metric registry, gates, findings, report, CLI, W&B) picks its metrics by it.

The tables keep their classification names so that one `SliceResults` serves both tasks:
- `slice_metrics`: per (slice, model) every metric's mean with a 95% interval (Wilson for the 0/1
  scores, Student t for F1 and ROUGE-L), mean answer tokens and length ratio, share of verbose answers;
- `changes`: `evalcore.stats.comparisons.metric_changes` over the five generation metrics;
- `regression_metrics`: the headline metric's (F1's) rows of `changes`, plus `small`,
  `significant_regression` and how many rows gained / lost F1: the table findings and flags read;
- `overall`: every metric of both models and every paired change on all rows;
- `calibration` and `per_class` are empty: answers carry no confidence and no label set.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.tables import DELTA_FIELDS, ROLES, build_df_eval, delta_col, role_col, role_names
from evalcore.core.errors import DataError
from evalcore.stats.comparisons import GENERATION, HEADLINE, compared_metric, method_of, metric_changes, metrics_for
from evalcore.stats.genmetrics import (
    DEFAULT_ROUGE_TOKENIZER,
    NORMALISERS,
    RELAXED_MAX_GOLD_TOKENS,
    ROUGE_ACC_THRESHOLD,
    SCORE_COLUMNS,
    accented_share,
    non_latin_share,
    score_answers,
)
from evalcore.stats.intervals import wilson_interval
from evalcore.stats.metrics import ALL_SLICE, Estimate, stack_masks

DELTA_COLUMNS = DELTA_FIELDS  # `<metric>_delta` columns of df_eval
INTERVAL_METHODS = {"binary": "Wilson score interval", "continuous": "Student t interval of the mean"}


def build_generation_eval(
    base: pd.DataFrame,
    baseline: Any,
    candidate: Any,
    golds: Sequence[Sequence[str]],
    *,
    conf_threshold: float = 0.8,
    tokenizer: str = DEFAULT_ROUGE_TOKENIZER,
) -> pd.DataFrame:
    """df_eval of a generation comparison (see the module docstring). `base`: the data's rows with their
    features (`gold_tokens` among them); `golds`: every row's gold answers; `baseline` / `candidate`:
    answers as `evalcore.predict.scoring.Predictions` (`evalcore.predict.answers.load_answers`); `tokenizer`: ROUGE-L's
    (`evalcore.stats.genmetrics.ROUGE_TOKENIZERS`)."""
    from evalcore.analyze.features import _gold_tokens, verbose_answers

    n = len(base)
    answers = {role: [str(a) for a in p.pred] for role, p in zip(ROLES, (baseline, candidate))}
    for role, values in answers.items():
        if len(values) != n:
            raise DataError(f"the {role} has {len(values)} answers for {n} rows; answers must align one to one")
    scores = score_answers(answers["baseline"] + answers["candidate"], list(golds) * 2, tokenizer=tokenizer)
    parts = {"baseline": scores.iloc[:n].reset_index(drop=True), "candidate": scores.iloc[n:].reset_index(drop=True)}
    df = build_df_eval(
        base,
        baseline,
        candidate,
        conf_threshold=conf_threshold,
        correct={role: parts[role]["exact_match"].to_numpy() for role in ROLES},
    )
    gold_tokens = (base["gold_tokens"] if "gold_tokens" in base.columns else _gold_tokens(base)).to_numpy()
    new: dict[str, Any] = {}
    for role in ROLES:
        for col in SCORE_COLUMNS:
            new[role_col(role, col)] = parts[role][col].to_numpy()
        new[role_col(role, "verbose")] = verbose_answers(parts[role]["answer_tokens"].to_numpy(), gold_tokens)
    for metric in DELTA_COLUMNS:
        new[delta_col(metric)] = parts["candidate"][metric].to_numpy() - parts["baseline"][metric].to_numpy()
    clash = [c for c in new if c in df.columns]
    if clash:
        raise DataError(
            f"the data already has column(s) {', '.join(clash)}, which df_eval uses for answer scores; "
            "rename them in the data"
        )
    out = pd.concat([df, pd.DataFrame(new, index=df.index)], axis=1)
    out.attrs = {
        **df.attrs,
        "task": GENERATION,
        "rouge_threshold": ROUGE_ACC_THRESHOLD,
        "relaxed_max_gold_tokens": RELAXED_MAX_GOLD_TOKENS,
        "rouge_tokenizer": tokenizer,
        "warnings": tokenizer_warnings(
            [*answers["baseline"], *answers["candidate"], *(g for gs in golds for g in gs)], tokenizer
        ),
    }
    return out


def tokenizer_warnings(texts: Sequence[str], tokenizer: str) -> list[str]:
    """What ROUGE-L's tokenizer cannot see in these answers and gold answers, with the choice that sees it."""
    if tokenizer != DEFAULT_ROUGE_TOKENIZER:
        return []
    out = []
    share = non_latin_share(texts)
    if share > 0:
        out.append(
            f"{share:.1%} of the answers and gold answers contain non-Latin letters, which ROUGE-L's "
            "default tokenizer (rouge-score: a-z0-9 only) drops: ROUGE-L and accuracy at ROUGE-L score them 0; "
            "read exact match and F1 there, or choose the unicode ROUGE-L tokenizer (--rouge-tokenizer unicode)"
        )
    share = accented_share(texts)
    if share > 0:
        out.append(
            f"{share:.1%} of the answers and gold answers contain accented Latin letters (é, č, ß...), which "
            "ROUGE-L's default tokenizer (rouge-score: a-z0-9 only) treats as separators, splitting words "
            "('planéte' -> 'plan', 'te'; 'café' and 'cafe' share no token): choose the unicode ROUGE-L "
            "tokenizer (--rouge-tokenizer unicode; the column-mapping step in the dashboard), which keeps them"
        )
    return out


# --- tables ----------------------------------------------------------------------------------------


def generation_slice_metrics(
    df_eval: pd.DataFrame, masks: Mapping[str, object], *, min_n: int = 30, confidence: float = 0.95
) -> pd.DataFrame:
    """Per (slice, model): n, each generation metric's mean with its interval (`<metric>_lo/_hi`), mean
    answer tokens and length ratio (over rows with a non-empty gold), share of verbose answers."""
    from scipy.stats import t as student_t

    names = role_names(df_eval)
    slices, matrix = stack_masks(masks, len(df_eval))
    x = matrix.astype(float)
    n = matrix.sum(axis=1)
    q = (1 - confidence) / 2
    from evalcore.stats.metrics import cluster_interval
    from evalcore.stats.paired import cluster_of

    clusters = cluster_of(df_eval)
    frames = []
    for role in ROLES:
        out = pd.DataFrame({"slice": slices, "model": names[role], "role": role, "n": n})
        for name in metrics_for(GENERATION):
            metric = compared_metric(name)
            v = df_eval[role_col(role, metric.field)].to_numpy(dtype=float)
            s1 = x @ v
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(n > 0, s1 / n, np.nan)
                if clusters is not None:
                    lo, hi = cluster_interval(matrix, v, clusters, confidence)
                elif metric.kind == "binary":
                    lo, hi = wilson_interval(s1, n, confidence)
                else:
                    var = np.maximum((x @ v**2 - n * mean**2) / (n - 1), 0)
                    half = student_t.ppf(1 - q, np.maximum(n - 1, 1)) * np.sqrt(var / n)
                    lo, hi = (np.where(n > 1, np.clip(mean + s * half, 0, 1), np.nan) for s in (-1, 1))
            out[name], out[f"{name}_lo"], out[f"{name}_hi"] = mean, lo, hi
        tokens = df_eval[role_col(role, "answer_tokens")].to_numpy(dtype=float)
        ratio = df_eval[role_col(role, "length_ratio")].to_numpy(dtype=float)
        known = np.isfinite(ratio)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["answer_tokens"] = np.where(n > 0, (x @ tokens) / n, np.nan)
            out["length_ratio"] = (x @ np.where(known, ratio, 0.0)) / (x @ known.astype(float))
            out["verbose_share"] = np.where(n > 0, (x @ df_eval[role_col(role, "verbose")].to_numpy(float)) / n, np.nan)
        out["small"] = n < min_n
        out["_order"] = np.arange(len(slices))
        frames.append(out)
    table = pd.concat(frames).sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    methods = {f"{k} interval": v for k, v in INTERVAL_METHODS.items()}
    if clusters is not None:
        methods = {
            "score interval": f"cluster-robust t interval of the mean, clusters = {df_eval.attrs['cluster_col']} "
            "(clusters - 1 degrees of freedom)"
        }
    table.attrs = {"methods": methods, "normalisers": dict(NORMALISERS)}
    return table


def generation_regression(
    changes: pd.DataFrame, df_eval: pd.DataFrame, masks: Mapping[str, object], *, min_n: int = 30, alpha: float = 0.05
) -> pd.DataFrame:
    """The headline metric's change table with the columns slice readers expect (see the module docstring)."""
    return metric_changes_table(changes, df_eval, masks, HEADLINE[GENERATION], min_n=min_n, alpha=alpha)


def generation_overall(df_eval: pd.DataFrame, slice_table: pd.DataFrame, changes: pd.DataFrame) -> dict:
    """Headline numbers on every row: each metric of both models (value, interval, n) and each paired
    change (value, interval, p, MDE), the headline metric's change as `delta`, rows gaining / losing it."""
    names = role_names(df_eval)
    headline = HEADLINE[GENERATION]
    all_rows = slice_table[slice_table["slice"] == ALL_SLICE].set_index("role")
    n = int(len(df_eval))
    out: dict = {"task": GENERATION, "n": n, "metric": headline}
    for role in ROLES:
        row = all_rows.loc[role]
        out[role] = {
            "model": names[role],
            "answer_tokens": float(row["answer_tokens"]),
            "length_ratio": float(row["length_ratio"]),
            "verbose_share": float(row["verbose_share"]),
        }
        for name in metrics_for(GENERATION):
            kind = compared_metric(name).kind
            out[role][name] = Estimate(
                float(row[name]), float(row[f"{name}_lo"]), float(row[f"{name}_hi"]), n, INTERVAL_METHODS[kind]
            ).to_dict()
    methods = changes.attrs.get("methods", {})
    out["changes"] = {}
    for row in changes[changes["slice"] == ALL_SLICE].itertuples():
        out["changes"][row.metric] = {
            "value": float(row.delta),
            "lo": float(row.delta_lo),
            "hi": float(row.delta_hi),
            "n": int(row.n),
            "p": float(row.p),
            "mde": float(row.mde),
            "design_effect": float(row.design_effect),
            "method": methods.get(row.metric, ""),
        }
    h = out["changes"][headline]
    out["delta"] = {k: h[k] for k in ("value", "lo", "hi", "n", "method")}
    out["p"], out["mde"], out["design_effect"] = h["p"], h["mde"], h["design_effect"]
    out["cluster_col"] = changes.attrs.get("cluster_col")
    d = df_eval[delta_col(headline)].to_numpy()
    out["n_improved"], out["n_regressed"] = int((d > 0).sum()), int((d < 0).sum())
    out["n_em_gained"], out["n_em_lost"] = int(df_eval["improved"].sum()), int(df_eval["regressed"].sum())
    out["normalisers"] = dict(NORMALISERS)
    return out


def generation_results(
    df_eval: pd.DataFrame,
    masks: Mapping[str, np.ndarray],
    *,
    min_n: int = 30,
    alpha: float = 0.05,
    warnings: Sequence[str] = (),
):
    """The `SliceResults` of a generation df_eval and its slice masks (no model runs here)."""
    from evalcore.stats.results import SliceResults

    changes = metric_changes(df_eval, masks, metrics_for(GENERATION), alpha=alpha)
    table = generation_slice_metrics(df_eval, masks, min_n=min_n)
    return SliceResults(
        masks=dict(masks),
        slice_metrics=table,
        regression_metrics=generation_regression(changes, df_eval, masks, min_n=min_n, alpha=alpha),
        calibration_source=pd.DataFrame(),
        overall=generation_overall(df_eval, table, changes),
        changes=changes,
        per_class=pd.DataFrame(),
        warnings=[*df_eval.attrs.get("warnings", []), *warnings],
    )


# --- one metric at a time (the dashboard's metric picker) ---------------------------------------------


def metric_delta(df_eval: pd.DataFrame, metric: str) -> np.ndarray:
    """Per row, the candidate's score minus the baseline's on one compared generation metric (a 0/1 score
    gives -1, 0 or 1): what "improved" and "regressed" mean for that metric, row by row."""
    field = compared_metric(metric).field
    if metric not in metrics_for(GENERATION) or field is None:
        raise DataError(
            f"metric {metric!r} is not a per-example generation score; pick one of {', '.join(metrics_for(GENERATION))}"
        )
    return df_eval[role_col("candidate", field)].to_numpy(dtype=float) - df_eval[role_col("baseline", field)].to_numpy(
        dtype=float
    )


def metric_changes_table(
    changes: pd.DataFrame,
    df_eval: pd.DataFrame,
    masks: Mapping[str, object],
    metric: str,
    *,
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One generation metric's rows of `changes` (`SliceResults.changes`) with the columns slice readers
    expect: rows whose score rose / fell (`n_improved`, `n_regressed`), `small` and
    `significant_regression`. `regression_metrics` is this table for the headline metric (F1); the
    dashboard's metric picker reads it for any metric."""
    if metric not in set(changes["metric"]):
        raise DataError(
            f"metric {metric!r} is not in this comparison; compared: {', '.join(dict.fromkeys(changes['metric']))}"
        )
    reg = changes[changes["metric"] == metric].reset_index(drop=True).copy()
    _, matrix = stack_masks(masks, len(df_eval))
    d = metric_delta(df_eval, metric)
    reg["n_improved"] = (matrix & (d > 0)).sum(axis=1)
    reg["n_regressed"] = (matrix & (d < 0)).sum(axis=1)
    reg["small"] = reg["n"] < min_n
    reg["significant_regression"] = (reg["p_adjusted"] < alpha) & (np.nan_to_num(reg["delta"]) < 0)
    reg.attrs = {
        "alpha": alpha,
        "min_n": min_n,
        "metric": metric,
        "cluster_col": changes.attrs.get("cluster_col"),
        "methods": {
            f"{metric} change": method_of(
                compared_metric(metric),
                changes.attrs.get("n_boot", 1000),
                changes.attrs.get("seed", 0),
                changes.attrs.get("cluster_col"),
            )
        },
    }
    return reg


# --- the starter slices of the generation task -------------------------------------------------------

_STARTER = [
    (
        "short_answers",
        "short_answer == true",
        "Short answers (shortest gold <= 15 tokens): the factoid subset a course project reports beside the whole set.",
    ),
    ("who_questions", 'question_word == "who"', "Who-questions want a name: a model may return a description."),
    (
        "when_questions",
        'question_word == "when"',
        "When-questions want a date, which is matched exactly or not at all.",
    ),
    (
        "how_many_questions",
        'question_word == "how many"',
        "How-many questions want a count: number words against digits, units added or dropped.",
    ),
    ("why_questions", 'question_word == "why"', "Why-questions want an explanation: long golds, low exact match."),
    ("number_answers", 'answer_type == "number"', "Numeric golds: one wrong digit is a wrong answer."),
    ("date_answers", 'answer_type == "date"', "Date golds: formats (7 February / February 7) break exact match."),
    ("name_answers", 'answer_type == "name"', "Name golds: titles, initials and partial names split EM from F1."),
    (
        "long_context",
        "context_tokens >= 150",
        "Long passages (>= 150 tokens, SQuAD's upper quartile) hold more distractor spans.",
    ),
    (
        "candidate_verbose",
        "candidate_verbose == true",
        "Where the candidate answers at length (>= 2x and 3+ tokens over the gold), EM and F1 precision suffer.",
    ),
]


def generation_starter_slices():
    """The generation task's starter slice set, each with the hypothesis it tests."""
    from evalcore.analyze.slices import Slice, SliceSet

    return SliceSet(tuple(Slice(name, text, note) for name, text, note in _STARTER))


# Slices whose hypotheses are about factoid question answering (SQuAD): a question word asking for one entity,
# a gold answer that is a date, a number or a name. On sentence-long references (translations, summaries,
# instructions) `answer_type` reads a month in a sentence as a "date answer" and the hypotheses do not apply.
FACTOID_SLICES = (
    "who_questions",
    "when_questions",
    "how_many_questions",
    "why_questions",
    "number_answers",
    "date_answers",
    "name_answers",
)
FACTOID_MAX_MEDIAN_TOKENS = RELAXED_MAX_GOLD_TOKENS  # SQuAD dev: median shortest gold 2 tokens


def factoid_answers(table: pd.DataFrame) -> bool:
    """Whether the data's gold answers are short factoid answers, as in SQuAD: the median shortest gold answer
    has at most `FACTOID_MAX_MEDIAN_TOKENS` whitespace tokens."""
    from evalcore.analyze.features import _gold_tokens

    tokens = table["gold_tokens"] if "gold_tokens" in table.columns else _gold_tokens(table)
    return bool(len(tokens)) and float(np.median(tokens)) <= FACTOID_MAX_MEDIAN_TOKENS


def generation_default_slices(table: pd.DataFrame):
    """The generation starter set that fits the data: the factoid-QA slices (`FACTOID_SLICES`) only when the
    gold answers are short factoid answers (`factoid_answers`), then without the slices no row matches
    (`evalcore.analyze.slices.default_slices`); with a note naming what was left out and why."""
    from evalcore.analyze.slices import SliceSet, default_slices

    starter = generation_starter_slices()
    notes = []
    if not factoid_answers(table):
        starter = SliceSet(tuple(s for s in starter if s.name not in FACTOID_SLICES))
        notes.append(
            f"question-answering slices left out ({', '.join(FACTOID_SLICES)}): the gold answers are not short "
            f"factoid answers (their median is over {FACTOID_MAX_MEDIAN_TOKENS} tokens), so question words and "
            "answer types (date, number, name) say little about them"
        )
    kept, left_out = default_slices(table, (), starter)
    return kept, notes + left_out


__all__ = [
    "DELTA_COLUMNS",
    "build_generation_eval",
    "generation_overall",
    "generation_regression",
    "factoid_answers",
    "generation_default_slices",
    "generation_results",
    "generation_slice_metrics",
    "generation_starter_slices",
    "metric_changes_table",
    "tokenizer_warnings",
    "metric_delta",
]
