"""Explanations in aggregate: over a slice's regressed rows, which tokens pushed the candidate to its
wrong label, and did they push the baseline there too?

For every regressed row of the slice (baseline right, candidate wrong) both models are explained by
occlusion toward the *candidate's wrong label* (`evalcore.probe.explain.explain_many`). A token "pushed"
a model there when it is among the row's `top_k` tokens with a positive score toward that label. Per
token, the table counts the rows where it pushed the candidate and the rows where it pushed the
baseline, as shares of the explained rows with Wilson intervals, and their paired difference with
Newcombe's interval (the same rows explain both models): "not" pushing the candidate on 40% of the
negation slice's regressions and the baseline on 5% is the "negation flips it" story in numbers.

Occlusion for both models, whatever their kind, so the two columns answer the same question (VADER's
exact lexicon view gives a negator no score of its own). Counts are scale-free; mean scores are in
each model's own unit (`units`). A model whose predictions are precomputed cannot be explained: the
result then says why (`unavailable`, `message()`), never an empty table without a reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.tables import ROLES, role_col, role_names
from evalcore.core import units
from evalcore.core.errors import ModelError
from evalcore.probe.explain import METHODS, OCCLUSION, UNITS, Explanation, explain_many, not_explainable

if TYPE_CHECKING:
    from evalcore.predict.models import Predictor
    from evalcore.stats.results import Analysis

DEFAULT_MAX_ROWS = 100
DEFAULT_TOP_K = 3
MAX_EXAMPLES = 5
TOKEN_COLUMNS = [
    "token",
    "n_rows",
    "candidate_rows",
    "candidate_share",
    "candidate_share_lo",
    "candidate_share_hi",
    "baseline_rows",
    "baseline_share",
    "baseline_share_lo",
    "baseline_share_hi",
    "gap",
    "gap_lo",
    "gap_hi",
    "candidate_mean",
    "baseline_mean",
]


def token_key(token: str) -> str:
    """How tokens are grouped across rows: lower case, ’ as ', every URL as `<url>`."""
    low = token.lower().replace("’", "'")
    return "<url>" if low.startswith(("http://", "https://", "www.")) else low


@lru_cache(maxsize=1)
def word_classes() -> dict[str, str]:
    """Token key -> its class, from the lists behind the metadata features (evalcore.analyze.lexicons): the classes
    a slice hypothesis names ("negation flips it"), counted as one token each in `RegressionExplanations.groups`."""
    from evalcore.analyze import lexicons

    classes = {w: "[negation word]" for w in lexicons.negations()}
    classes.update({w: "[contrast marker]" for w in lexicons.CONTRAST_MARKERS if " " not in w})
    return classes


def class_key(token: str) -> str | None:
    return word_classes().get(token_key(token))


@dataclass
class RegressionExplanations:
    """Token pushes over one slice's regressed rows (see the module docstring)."""

    slice: str
    rule: str
    baseline: str
    candidate: str
    n_slice: int
    n_regressed: int
    n_explained: int
    seed: int
    top_k: int
    units: dict[str, str]  # role -> unit of its scores ('' when not explained)
    unavailable: dict[str, str]  # role -> why it could not be explained
    tokens: pd.DataFrame  # TOKEN_COLUMNS, most frequent candidate push first
    rows: pd.DataFrame  # one row per explained regressed row
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TOKEN_COLUMNS))  # word classes
    examples: list[tuple[Explanation | None, Explanation | None]] = field(default_factory=list)  # (baseline, candidate)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sampled(self) -> bool:
        return self.n_explained < self.n_regressed

    @property
    def available(self) -> bool:
        """True when there is a token table to show (the candidate was explained on at least one row)."""
        return "candidate" not in self.unavailable and self.n_explained > 0

    def message(self) -> str:
        """One sentence on what was explained, or why nothing could be."""
        if "candidate" in self.unavailable:
            return f"No explanation: {self.unavailable['candidate']}."
        if self.n_regressed == 0:
            return (
                f"No explanation needed: slice {self.slice} has no regressed row (baseline right, candidate "
                f"wrong) among its {self.n_slice:,} rows."
            )
        sample = f" (a random sample, seed {self.seed}, of the {self.n_regressed:,})" if self.sampled else ""
        base = (
            f"; the baseline could not be explained: {self.unavailable['baseline']}"
            if "baseline" in self.unavailable
            else ""
        )
        return (
            f"Explained {self.n_explained:,} regressed rows of slice {self.slice}{sample} by occlusion toward "
            f"the candidate's wrong label; a token pushed a model when it is among the row's top {self.top_k} "
            f"positive scores{base}."
        )

    def method(self) -> str:
        return METHODS[OCCLUSION]

    def to_dict(self) -> dict[str, Any]:
        return units.strict_json(
            {
                "slice": self.slice,
                "rule": self.rule,
                "baseline": self.baseline,
                "candidate": self.candidate,
                "n_slice": self.n_slice,
                "n_regressed": self.n_regressed,
                "n_explained": self.n_explained,
                "sampled": self.sampled,
                "seed": self.seed,
                "top_k": self.top_k,
                "units": self.units,
                "unavailable": self.unavailable,
                "message": self.message(),
                "method": self.method(),
                "tokens": self.tokens.to_dict(orient="records"),
                "groups": self.groups.to_dict(orient="records"),
                "rows": self.rows.to_dict(orient="records"),
                "warnings": self.warnings,
            }
        )


KeyFn = Callable[[str], "str | None"]


def _top_keys(expl: Explanation | None, k: int, key: KeyFn) -> dict[str, float]:
    """Key -> its largest score in the row, over the row's top-k positive tokens (tokens keyed None skipped)."""
    return _row_scores(expl, key, expl.top(k, toward=True) if expl is not None else ())


def _row_scores(expl: Explanation | None, key: KeyFn, tokens=None) -> dict[str, float]:
    """Key -> its largest score in the row (every token, or `tokens`)."""
    if expl is None:
        return {}
    out: dict[str, float] = {}
    for t in expl.tokens if tokens is None else tokens:
        k = key(t.token)
        if k is not None:
            out[k] = max(out.get(k, -np.inf), t.score)
    return out


def token_table(
    pairs: Sequence[tuple[Explanation | None, Explanation]], top_k: int, key: KeyFn = token_key, keep_all: bool = False
) -> pd.DataFrame:
    """TOKEN_COLUMNS over explained rows given as (baseline, candidate) explanations toward the same label;
    `key` groups tokens (`token_key`: the word itself; `class_key`: its word class, others left out). Only
    keys that pushed the candidate at least once are kept, unless `keep_all`."""
    from evalcore.stats.intervals import paired_difference_interval, wilson_interval

    n = len(pairs)
    stats: dict[str, dict[str, Any]] = {}
    for base, cand in pairs:
        c_top, b_top = _top_keys(cand, top_k, key), _top_keys(base, top_k, key)
        c_all, b_all = _row_scores(cand, key), _row_scores(base, key)
        for name in c_all:
            s = stats.setdefault(name, {"n_rows": 0, "c": 0, "b": 0, "both": 0, "c_sum": 0.0, "b_sum": 0.0, "b_n": 0})
            s["n_rows"] += 1
            s["c_sum"] += c_all[name]
            in_c, in_b = name in c_top, name in b_top
            s["c"] += in_c
            s["b"] += in_b
            s["both"] += in_c and in_b
            if name in b_all:
                s["b_sum"] += b_all[name]
                s["b_n"] += 1
    rows = [{"token": k, **v} for k, v in stats.items() if v["c"] > 0 or (keep_all and v["n_rows"])]
    if not rows:
        return pd.DataFrame(columns=TOKEN_COLUMNS)
    df = pd.DataFrame(rows)
    c, b, both = (df[x].to_numpy(dtype=float) for x in ("c", "b", "both"))
    c_lo, c_hi = wilson_interval(c, np.full(len(df), n))
    b_lo, b_hi = wilson_interval(b, np.full(len(df), n))
    g_lo, g_hi = paired_difference_interval(both, c - both, b - both, n - c - b + both)
    with np.errstate(invalid="ignore", divide="ignore"):
        b_mean = np.where(df["b_n"] > 0, df["b_sum"] / df["b_n"].replace(0, 1), np.nan)
    out = pd.DataFrame(
        {
            "token": df["token"],
            "n_rows": df["n_rows"].astype(int),
            "candidate_rows": c.astype(int),
            "candidate_share": c / n,
            "candidate_share_lo": c_lo,
            "candidate_share_hi": c_hi,
            "baseline_rows": b.astype(int),
            "baseline_share": b / n,
            "baseline_share_lo": b_lo,
            "baseline_share_hi": b_hi,
            "gap": (c - b) / n,
            "gap_lo": g_lo,
            "gap_hi": g_hi,
            "candidate_mean": df["c_sum"] / df["n_rows"],
            "baseline_mean": b_mean,
        }
    )
    if all(base is None for base, _ in pairs):  # baseline not explained: its columns are unknown, not zero
        for col in (
            "baseline_rows",
            "baseline_share",
            "baseline_share_lo",
            "baseline_share_hi",
            "gap",
            "gap_lo",
            "gap_hi",
            "baseline_mean",
        ):
            out[col] = np.nan
    return out.sort_values(
        ["candidate_rows", "gap", "token"], ascending=[False, False, True], na_position="last"
    ).reset_index(drop=True)


def _fmt_top(expl: Explanation | None, k: int) -> str:
    if expl is None:
        return "–"
    return ", ".join(f"{t.token} ({t.score:+.2f})" for t in expl.top(k)) or "none"


def explain_regressions(
    df_eval: pd.DataFrame,
    mask: np.ndarray,
    predictors: Mapping[str, Predictor | None],
    *,
    slice_name: str,
    rule: str = "",
    max_rows: int = DEFAULT_MAX_ROWS,
    seed: int = 0,
    top_k: int = DEFAULT_TOP_K,
    batch_size: int = 256,
) -> RegressionExplanations:
    """Explain the regressed rows of one slice (`mask` over df_eval's rows) with both roles' predictors.

    `predictors[role]` may be None or a precomputed model: that role is then reported as unavailable,
    with the reason. At most `max_rows` regressed rows are explained (a seeded random sample beyond)."""
    started = time.perf_counter()
    names = role_names(df_eval)
    if not isinstance(max_rows, int) or max_rows < 1 or not isinstance(top_k, int) or top_k < 1:
        raise ModelError(f"max_rows ({max_rows!r}) and top_k ({top_k!r}) must be positive integers")
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (len(df_eval),):
        raise ModelError(f"the slice mask has {mask.size} values for {len(df_eval)} rows")
    regressed = df_eval["regressed"].to_numpy(dtype=bool) & mask
    idx = np.flatnonzero(regressed)
    if len(idx) > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(idx, size=max_rows, replace=False))
    unavailable: dict[str, str] = {}
    for role in ROLES:
        p = predictors.get(role)
        reason = f"no live model was given for {names[role]}" if p is None else not_explainable(p)
        if reason:
            unavailable[role] = reason
    result = RegressionExplanations(
        slice=slice_name,
        rule=rule,
        baseline=names["baseline"],
        candidate=names["candidate"],
        n_slice=int(mask.sum()),
        n_regressed=int(regressed.sum()),
        n_explained=0,
        seed=seed,
        top_k=top_k,
        units={r: "" for r in ROLES},
        unavailable=unavailable,
        tokens=pd.DataFrame(columns=TOKEN_COLUMNS),
        rows=pd.DataFrame(),
    )
    if "candidate" in unavailable or not len(idx):
        result.seconds = time.perf_counter() - started
        return result
    rows = df_eval.iloc[idx]
    texts = rows["text"].astype(str).tolist()
    wrong = rows[role_col("candidate", "pred")].astype(str).tolist()
    expl: dict[str, list[Explanation | None]] = {}
    for role in ROLES:
        if role in unavailable:
            expl[role] = [None] * len(texts)
            continue
        expl[role] = list(explain_many(predictors[role], texts, wrong, batch_size=batch_size))
        result.units[role] = expl[role][0].unit
    drift = sum(e.predicted != w for e, w in zip(expl["candidate"], wrong))  # type: ignore[union-attr]
    if drift:
        result.warnings.append(
            f"on {drift} of {len(texts)} rows the live candidate now predicts another label than "
            "df_eval records (a changed model or stale cache?); those rows still explain the "
            "recorded label"
        )
    pairs = list(zip(expl["baseline"], expl["candidate"]))
    result.tokens = token_table(pairs, top_k)  # type: ignore[arg-type]
    result.groups = token_table(pairs, top_k, class_key, keep_all=True)  # type: ignore[arg-type]
    result.rows = pd.DataFrame(
        {
            "id": rows["id"].astype(str).to_numpy(),
            "text": texts,
            "label": rows["label"].astype(str).to_numpy(),
            "baseline_pred": rows[role_col("baseline", "pred")].astype(str).to_numpy(),
            "candidate_pred": wrong,
            "candidate_top": [_fmt_top(e, top_k) for e in expl["candidate"]],
            "baseline_top": [_fmt_top(e, top_k) for e in expl["baseline"]],
        }
    )
    result.n_explained = len(texts)
    result.examples = pairs[:MAX_EXAMPLES]
    result.seconds = time.perf_counter() - started
    return result


def live_predictors(analysis: Analysis) -> dict[str, Predictor]:
    """Both roles' predictors, loaded from their specs and named as in df_eval. A precomputed model loads
    too (cheaply, from its columns), so `explain_regressions` can say why it cannot be explained."""
    from evalcore.predict.load import load_predictor

    out: dict[str, Predictor] = {}
    for role, p in zip(ROLES, (analysis.baseline, analysis.candidate)):
        out[role] = load_predictor(p.spec, analysis.data.labels, data=analysis.data)
        out[role].name = p.model  # the name df_eval carries
    return out


def explain_slice(
    analysis: Analysis,
    slice_ref: str,
    *,
    predictors: Mapping[str, Predictor | None] | None = None,
    extra: Mapping[str, tuple[str, np.ndarray]] | None = None,
    **options,
) -> RegressionExplanations:
    """`explain_regressions` for a slice of the analysis named `slice_ref` (or in `extra`, name -> (rule
    text, mask), e.g. discovered slices), or for rule text evaluated on df_eval."""
    from evalcore.analyze.rules import evaluate, format_rule, parse_rule
    from evalcore.core.errors import RuleError

    masks = analysis.results.masks
    if slice_ref in masks:
        rule, mask = analysis.slices[slice_ref].text, masks[slice_ref]
    elif extra and slice_ref in extra:
        rule, mask = extra[slice_ref]
    else:
        try:
            parsed = parse_rule(slice_ref)
        except RuleError as exc:
            known = ", ".join([*masks, *(extra or {})]) or "none"
            raise RuleError(f"{slice_ref!r} is neither a slice (known: {known}) nor a rule ({exc})") from exc
        rule, mask = format_rule(parsed), evaluate(parsed, analysis.df_eval)
    if predictors is None:
        predictors = live_predictors(analysis)
    return explain_regressions(analysis.df_eval, mask, predictors, slice_name=slice_ref, rule=rule, **options)


def unit_text(result: RegressionExplanations, role: str) -> str:
    unit = result.units.get(role, "")
    return UNITS.get(unit, "not explained")


__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_TOP_K",
    "RegressionExplanations",
    "TOKEN_COLUMNS",
    "class_key",
    "explain_regressions",
    "explain_slice",
    "live_predictors",
    "token_key",
    "token_table",
    "unit_text",
    "word_classes",
]
