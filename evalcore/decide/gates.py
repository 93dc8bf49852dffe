"""The gates a verdict is made of: each reads an interval, never a point estimate alone.

A gate is a metric, a margin and a rule on the paired interval of the change (candidate - baseline):

- **non-inferiority** (`accuracy`, `macro_f1`, `f1`...): passes when the interval's lower bound is above
  -margin (a loss larger than the margin is ruled out), fails when its upper bound is below -margin,
  and needs more data otherwise, with a planning figure (`Plan`: a range of rows, two significant digits,
  its assumption, sized so the gate settles with 80-90% probability);
- **slices** (`slice_accuracy`, `slice_f1`): by role, in `evalcore.decide.gates.slice_gate`: a *watched*
  slice blocks only on evidence of harm, a *guardrail* must be verified, a slice too small to judge or
  defined by a model's own output never blocks;
- **gain** (`accuracy_gain`, `f1_gain`; off by default, `--require-gain`): ship only when the headline
  metric's interval lies above zero;
- **per class** (`class_recall`): the non-inferiority rule on each gold label's paired recall;
- **rates** (`confident_regression_rate`, `stress_accuracy`): the Wilson interval of the rate against
  a maximum / minimum; "not evaluable" when the data cannot give the rate.

`evalcore.decide.verdict.decide` adds them up: no-ship when a gate fails, need more data when one cannot be
settled, ship when every gate passes. Margins are shares here (0.02 = 2 points; pages and the CLI's
text speak in points).

    >>> config = parse_gate_args(["slice_accuracy=0.1", "macro_f1=off"])
    >>> config.values["slice_accuracy"], config.values["macro_f1"], config.values["accuracy"]
    (0.1, None, 0.02)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.slices import GUARDRAIL, WATCHED
from evalcore.core import units
from evalcore.core.errors import ConfigError
from evalcore.core.units import strict_json as _json_value

if TYPE_CHECKING:
    from evalcore.probe.stress import StressResult
    from evalcore.stats.results import Analysis

PASS, FAIL, NEED_MORE_DATA, NOT_EVALUABLE = "pass", "fail", "need more data", "not evaluable"
INCONCLUSIVE = NEED_MORE_DATA  # the old word for a gate the data cannot settle yet
TOO_SMALL, MODEL_DEFINED = "too small to judge", "model-defined"  # slice statuses that never block
SHIP, NO_SHIP = "ship", "no-ship"
EXIT_CODES = {SHIP: 0, NO_SHIP: 1, NEED_MORE_DATA: 3}
PLAN_POWER = (0.8, 0.9)  # a rows-needed figure: the rows that settle a gate with 80% to 90% probability
OFF_WORDS = ("off", "none")
LEGACY = {
    "max_slice_regression": "slice_accuracy",
    "max_significant_slice_regression": "slice_accuracy",
    "max_confident_regression_rate": "confident_regression_rate",
    "min_stress_accuracy": "stress_accuracy",
}
RETIRED = {"min_overall_change": "accuracy"}  # point-estimate gates with no faithful translation


# --- formatting (shared by every sentence a gate writes) ----------------------------------------


def pts(x: float, signed: bool = True) -> str:
    """A change in points, without the unit (sentences say "points"): -0.0512 -> '-5.1'."""
    return units.pts(x, unit="") if signed else units.magnitude_pts(x).removesuffix(" pts")


def interval_text(lo: float, hi: float) -> str:
    return f"95% interval {pts(lo)} to {pts(hi)}"


def _rows(x: float) -> str:
    return f"{int(x):,}"


# --- results -------------------------------------------------------------------------------------


def sig2(x: float) -> int:
    """A planning figure with two significant digits: 907,773 -> 910,000; 37 -> 37."""
    return int(float(f"{float(x):.2g}")) if x >= 10 else int(math.ceil(x))


@dataclass(frozen=True)
class Plan:
    """A rows-needed planning figure: about `low` to `high` more rows (of `what`) settle the gate with
    80% to 90% probability *if* the assumption holds (the change stays where it is)."""

    low: int
    high: int
    what: str  # "rows" or "rows of slice S"
    assumption: str  # "if the change stays at +0.4 points"

    def text(self) -> str:
        span = f"{self.low:,}" if self.low == self.high else f"{self.low:,}-{self.high:,}"
        return f"about {span} more {self.what} ({self.assumption}; sized so the gate settles with 80-90% probability)"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan_rows(
    n: int, delta: float, se: float, margin: float, z: float, what: str = "rows", assumption: str | None = None
) -> Plan | None:
    """More rows for an interval (z x SE wide on the side facing `-margin`) to clear `-margin` with 80% and 90%
    probability if the true change is `delta`: SE shrinks as 1/sqrt(n). None where no number of rows settles
    it (the change sits on the margin) or the SE is unknown."""
    from statistics import NormalDist

    gap = abs(delta + margin)
    if not (np.isfinite(se) and se > 0 and np.isfinite(delta) and gap > 1e-12 and n > 0):
        return None
    more = [max(n * (se * (z + NormalDist().inv_cdf(p)) / gap) ** 2 - n, 1.0) for p in PLAN_POWER]
    return Plan(sig2(more[0]), sig2(more[1]), what, assumption or f"if the change stays at {pts(delta)} points")


@dataclass(frozen=True)
class Check:
    """One unit a gate looked at (a slice, a gold label) with its status and its numbers. For a slice:
    its role (watched, guardrail, model-defined), the one-sided harm p (raw, and Benjamini-Hochberg over the
    judged watched slices), the clusters and design effect when rows come in clusters, a plain sentence and,
    when it needs more data, the planning figure."""

    name: str
    status: str
    n: int
    delta: float
    lo: float
    hi: float
    mde: float = math.nan
    vs_rest: float = math.nan
    vs_rest_p_adjusted: float = math.nan
    rows_needed: float = math.nan
    role: str = ""
    harm_p: float = math.nan
    harm_q: float = math.nan
    clusters: float = math.nan
    design_effect: float = math.nan
    sentence: str = ""
    plan: Plan | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: _json_value(v) for k, v in self.__dict__.items() if k != "plan"}
        out["plan"] = self.plan.to_dict() if self.plan else None
        return out


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome: what was checked, against which margin, and one sentence saying why.

    `observed`, `lo`, `hi`: the change (or rate) and its interval; `rows_needed`: about how many more
    rows would settle an inconclusive gate (None when not applicable); `checks`: per slice or label."""

    name: str
    metric: str
    margin: float
    status: str
    reason: str
    n: int | None = None
    observed: float | None = None
    lo: float | None = None
    hi: float | None = None
    rows_needed: int | None = None
    checks: tuple[Check, ...] = ()
    plan: Plan | None = None
    next_step: str = ""  # what to do about this gate, one sentence (empty when it passes)
    subject: str = ""  # the slice or label the next step names

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def line(self) -> str:
        """`FAIL         accuracy (margin 2.0 points): ...` for the CLI and reports."""
        return f"{self.status.upper():<13} {self.name} ({margin_text(self.name, self.margin)}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "margin": self.margin,
            "status": self.status,
            "reason": self.reason,
            "n": self.n,
            "observed": _json_value(self.observed),
            "lo": _json_value(self.lo),
            "hi": _json_value(self.hi),
            "rows_needed": self.rows_needed,
            "plan": self.plan.to_dict() if self.plan else None,
            "next_step": self.next_step,
            "checks": [c.to_dict() for c in self.checks],
        }


# --- the gates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """A gate's definition. `kind`: "margin" (a tolerated loss, >= 0), "max" or "min" (a rate)."""

    name: str
    metric: str
    description: str
    kind: str
    check: Callable[[Gate, Analysis, float, StressResult | None], GateResult]
    lo: float = 0.0
    hi: float = 1.0
    suggested: float = 0.05
    task: str = "classification"  # the task kind whose analyses the gate reads (evalcore.stats.comparisons)


def margin_text(name: str, value: float) -> str:
    gate = GATES.get(name)
    if gate is not None and gate.kind == "gain":
        return "any gain" if value == 0 else f"a gain of at least {pts(value, signed=False)} points"
    if gate is None or gate.kind == "margin":
        return f"margin {pts(value, signed=False)} points"
    return f"{'at most' if gate.kind == 'max' else 'at least'} {value:.1%}"


def _overall_row(analysis: Analysis, metric: str) -> pd.Series | None:
    ch = analysis.results.changes
    rows = ch[(ch["metric"] == metric) & (ch["slice"] == "all")]
    return None if rows.empty else rows.iloc[0]


def interval_status(lo: float, hi: float, margin: float) -> str:
    """The non-inferiority rule: pass above -margin, fail below it, need more data across it."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NOT_EVALUABLE
    if lo > -margin:
        return PASS
    if hi < -margin:
        return FAIL
    return NEED_MORE_DATA


def non_inferiority_sentence(
    title: str, n: int, delta: float, lo: float, hi: float, margin: float, status: str, plan: Plan | None
) -> str:
    """The reason of a non-inferiority gate, from the numbers printed in it."""
    head = f"{title} changes by {pts(delta)} points ({interval_text(lo, hi)}, n={n:,})"
    m = pts(margin, signed=False)
    if status == PASS:
        return f"{head}; the whole interval lies above -{m}, so a loss larger than the {m}-point margin is ruled out."
    if status == FAIL:
        return f"{head}; the whole interval lies below -{m}: the candidate is worse by more than the {m}-point margin."
    tail = plan.text() + " would settle it" if plan is not None else "at this estimate no number of rows settles it"
    return f"{head}; the interval spans -{m}, so the data cannot tell whether the loss exceeds the margin: {tail}."


def _z_of(row: Any, confidence: float = 0.95) -> float:
    """The interval's quantile: normal, or Student t on the row's degrees of freedom (clusters - 1)."""
    from scipy.stats import t as student_t

    df = float(row["df"]) if "df" in row and np.isfinite(row["df"]) else math.inf
    return float(student_t.ppf(0.5 + confidence / 2, df)) if math.isfinite(df) else 1.959963984540054


def _check_non_inferiority(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    from evalcore.stats.comparisons import compared_metric

    title = compared_metric(gate.metric).title
    row = _overall_row(analysis, gate.metric)
    if row is None or int(row["n"]) == 0 or not np.isfinite(row["delta_lo"]):
        return GateResult(
            gate.name,
            gate.metric,
            margin,
            NOT_EVALUABLE,
            f"{title} could not be compared on these data (no rows or no interval).",
            next_step=f"turn the {gate.name} gate off, or use data where {title} can be compared",
        )
    n, d, lo, hi = int(row["n"]), float(row["delta"]), float(row["delta_lo"]), float(row["delta_hi"])
    status = interval_status(lo, hi, margin)
    plan = plan_rows(n, d, float(row.get("se", math.nan)), margin, _z_of(row)) if status == NEED_MORE_DATA else None
    step = ""
    if status == NEED_MORE_DATA:
        step = (
            f"collect {plan.text()} so that {title} settles against its {pts(margin, signed=False)}-point margin"
            if plan
            else f"look at the {title} change: at {pts(d)} points it sits on the margin, and no number "
            "of rows settles it"
        )
    elif status == FAIL:
        step = (
            f"do not ship: {title} falls by {pts(-d, signed=False)} points overall ({interval_text(lo, hi)}); "
            "look at the candidate's regressed rows before trying again"
        )
    return GateResult(
        gate.name,
        gate.metric,
        margin,
        status,
        non_inferiority_sentence(title, n, d, lo, hi, margin, status, plan),
        n,
        d,
        lo,
        hi,
        plan.low if plan else None,
        plan=plan,
        next_step=step,
    )


def _check_gain(gate: Gate, analysis: Analysis, gain: float, stress: StressResult | None) -> GateResult:
    """`--require-gain`: ship only when the primary metric's interval lies above `gain` (0: any gain)."""
    from evalcore.stats.comparisons import compared_metric

    title = compared_metric(gate.metric).title
    row = _overall_row(analysis, gate.metric)
    if row is None or int(row["n"]) == 0 or not np.isfinite(row["delta_lo"]):
        return GateResult(
            gate.name,
            gate.metric,
            gain,
            NOT_EVALUABLE,
            f"{title} could not be compared on these data.",
            next_step=f"turn the {gate.name} gate off",
        )
    n, d, lo, hi = int(row["n"]), float(row["delta"]), float(row["delta_lo"]), float(row["delta_hi"])
    head = f"{title} changes by {pts(d)} points ({interval_text(lo, hi)}, n={n:,})"
    want = "above zero" if gain == 0 else f"above +{pts(gain, signed=False)} points"
    if lo > gain:
        return GateResult(
            gate.name,
            gate.metric,
            gain,
            PASS,
            f"{head}; the whole interval lies {want}: a gain is shown.",
            n,
            d,
            lo,
            hi,
        )
    if d <= gain:  # more rows would not show a gain at this estimate: a team that replaces only for a gain stops
        return GateResult(
            gate.name,
            gate.metric,
            gain,
            FAIL,
            f"{head}; a gain is required and the estimate is not {want}, so more rows would not show "
            "one at this estimate.",
            n,
            d,
            lo,
            hi,
            next_step=f"do not ship for a gain: {title} changes by {pts(d)} points, no gain is shown",
        )
    plan = plan_rows(
        n, d, float(row.get("se", math.nan)), -gain, _z_of(row), assumption=f"if the gain stays at {pts(d)} points"
    )
    return GateResult(
        gate.name,
        gate.metric,
        gain,
        NEED_MORE_DATA,
        f"{head}; a gain is required and the interval reaches {pts(lo)}: "
        + (plan.text() + " would show it." if plan else "no number of rows would show it."),
        n,
        d,
        lo,
        hi,
        plan.low if plan else None,
        plan=plan,
        next_step=f"collect {plan.text()} to show the gain" if plan else "",
    )


# --- one slice, by role (watched, guardrail, model-defined) -------------------------------------------

ALPHA = 0.05
POWER = 0.8
MIN_JUDGED_CLUSTERS = 5  # a cluster-robust variance from fewer clusters is too unstable to test on
GUARDRAIL_LEVEL = 0.05  # family-wise, Bonferroni over the guardrails
MAX_NAMED = 4


def _z(p: float, df: float) -> float:
    from scipy.stats import t as student_t

    return float(student_t.ppf(p, df)) if math.isfinite(df) else NormalDist().inv_cdf(p)


def _binary_iid(row: Any, kind: str) -> bool:
    return kind == "binary" and not np.isfinite(row.clusters)


def _mde_se(row: Any, kind: str) -> float:
    """The SE the MDE uses: the row's SE; for a continuous score on independent rows with one pseudo-row of
    +-1 in the SD, so a few rows that changed alike do not claim an MDE of 0 (as `continuous_changes`)."""
    n, se = int(row.n), float(row.se)
    if kind == "continuous" and not np.isfinite(row.clusters) and n > 1 and np.isfinite(se):
        return math.sqrt(((n - 1) * se * se * n + 1) / n / n)
    return se


def harm_mde(row: Any, kind: str, level: float) -> float:
    """The smallest true loss the one-sided harm test at `level` detects with 80% power: Connor (1987) for a
    0/1 score on independent rows, else (t_level + t_power) x SE (cluster-robust SE on clustered rows)."""
    from evalcore.stats.paired import minimum_detectable_effect

    if _binary_iid(row, kind):
        return float(minimum_detectable_effect(int(row.n), float(row.discordance), alpha=2 * level, power=POWER))
    se = _mde_se(row, kind)
    if not np.isfinite(se):
        return math.nan
    df = float(row.df)
    return min((_z(1 - level, df) + _z(POWER, df)) * se, 1.0)


def guardrail_interval(row: Any, kind: str, confidence: float) -> tuple[float, float]:
    """The guardrail's interval at `confidence` (1 - 0.05/k): Newcombe's paired interval for a 0/1 score on
    independent rows, else the t interval on the row's SE and degrees of freedom."""
    from evalcore.stats.intervals import paired_difference_interval

    if _binary_iid(row, kind):
        n, b, c = int(row.n), int(row.n_improved), int(row.n_regressed)
        a = int(round(float(row.baseline) * n)) - c  # both right = baseline right - regressed
        lo, hi = paired_difference_interval(a, b, c, n - a - b - c, confidence)
        return float(lo), float(hi)
    half = _z(0.5 + confidence / 2, float(row.df)) * float(row.se)
    return float(row.delta) - half, float(row.delta) + half


def guardrail_mde(row: Any, kind: str, k: int) -> float:
    """The smallest margin a guardrail verifies with 80% power when nothing changed: (z + z_power) x SE0, SE0
    the SE under no change (sqrt(discordance / n) for a 0/1 score on independent rows)."""
    df = float(row.df)
    se = math.sqrt(float(row.discordance) / int(row.n)) if _binary_iid(row, kind) and row.n else _mde_se(row, kind)
    return min((_z(1 - GUARDRAIL_LEVEL / (2 * k), df) + _z(POWER, df)) * se, 1.0) if np.isfinite(se) else math.nan


def _numbers(row: Any, delta: bool = True) -> str:
    head = f"{pts(row.delta)} points, " if delta else ""
    return f"{head}{interval_text(row.delta_lo, row.delta_hi)}, n={int(row.n):,}"


def _deff(row: Any) -> str:
    if not np.isfinite(row.clusters):
        return ""
    return f"; {int(row.clusters)} clusters, design effect {row.design_effect:.1f}"


def _check(
    row: Any,
    role: str,
    status: str,
    sentence: str,
    mde: float = math.nan,
    q: float = math.nan,
    plan: Plan | None = None,
) -> Check:
    return Check(
        str(row.slice),
        status,
        int(row.n),
        float(row.delta),
        float(row.delta_lo),
        float(row.delta_hi),
        float(mde),
        float(row.vs_rest),
        float(row.vs_rest_p_adjusted),
        float(plan.low) if plan else math.nan,
        role,
        float(row.harm_p),
        float(q),
        float(row.clusters),
        float(row.design_effect),
        sentence,
        plan,
    )


def _watched(rows: pd.DataFrame, kind: str, margin: float, alpha: float) -> list[Check]:
    """The judged watched slices: one-sided harm test, BH over them, statuses as the module docstring says."""
    from scipy.stats import false_discovery_control

    if rows.empty:
        return []
    p = rows["harm_p"].to_numpy(dtype=float)
    q = false_discovery_control(np.clip(p, 0, 1), method="bh")
    m = len(rows)
    level = alpha / m
    m_pts = pts(margin, signed=False)
    out = []
    for (_, row), qi in zip(rows.iterrows(), q):
        row = pd.Series(row)
        r = _Row(row)
        mde = harm_mde(r, kind, level)
        harm = qi < alpha and r.delta < 0
        loss = f"{r.slice} loses {pts(-r.delta, signed=False)} points ({_numbers(r, False)}{_deff(r)}; BH p {qi:.2g})"
        if harm and r.delta < -margin:
            out.append(_check(r, WATCHED, FAIL, f"{loss}: significant harm beyond the {m_pts}-point margin.", mde, qi))
        elif harm and r.delta_lo < -margin:
            plan = plan_rows(
                int(r.n),
                float(r.delta),
                float(r.se),
                margin,
                _z(0.975, float(r.df)),
                f"rows of slice {r.slice}",
                f"if its change stays at {pts(r.delta)} points",
            )
            out.append(
                _check(
                    r,
                    WATCHED,
                    NEED_MORE_DATA,
                    f"{loss}: significant harm, but the interval spans -{m_pts}, so the data cannot tell "
                    "whether the loss exceeds the margin" + (f"; {plan.text()} would settle it." if plan else "."),
                    mde,
                    qi,
                    plan,
                )
            )
        elif harm:
            out.append(
                _check(
                    r,
                    WATCHED,
                    PASS,
                    f"{loss}: significant, but within the {m_pts}-point margin (its interval rules out a larger loss).",
                    mde,
                    qi,
                )
            )
        else:
            out.append(
                _check(
                    r,
                    WATCHED,
                    PASS,
                    f"{r.slice}: no evidence of harm ({_numbers(r)}{_deff(r)}; could "
                    f"detect a loss of {pts(mde, signed=False)} points with 80% power at the one-sided "
                    f"level {level:.2g}).",
                    mde,
                    qi,
                )
            )
    return out


class _Row:
    """A change-table row with attribute access (pandas' itertuples drops nothing here, but keeps NaN)."""

    def __init__(self, row: pd.Series):
        self.__dict__.update(row.to_dict())


def _guardrails(rows: pd.DataFrame, kind: str, margin: float, k: int) -> list[Check]:
    out = []
    conf = 1 - GUARDRAIL_LEVEL / k
    m_pts = pts(margin, signed=False)
    for _, raw in rows.iterrows():
        r = _Row(raw)
        if int(r.n) == 0:
            out.append(
                _check(
                    r,
                    GUARDRAIL,
                    NEED_MORE_DATA,
                    f"guardrail {r.slice} selects no rows of this data, so it "
                    "cannot be verified: fix its rule, or unmark it.",
                )
            )
            continue
        if not np.isfinite(r.se) or int(r.n) < 2:
            out.append(
                _check(
                    r,
                    GUARDRAIL,
                    NEED_MORE_DATA,
                    f"guardrail {r.slice} has {int(r.n)} row(s): too few to "
                    "verify; collect rows of it, merge it into a larger slice, or unmark it.",
                )
            )
            continue
        lo, hi = guardrail_interval(r, kind, conf)
        mde = guardrail_mde(r, kind, k)
        head = (
            f"guardrail {r.slice} changes by {pts(r.delta)} points ({100 * conf:.4g}% interval {pts(lo)} to "
            f"{pts(hi)}, Bonferroni over {k} guardrail{'s' if k > 1 else ''}; n={int(r.n):,}{_deff(r)}; "
            f"it could verify a margin of {pts(mde, signed=False)} points)"
        )
        significant = float(r.harm_p) < GUARDRAIL_LEVEL / k
        if lo > -margin:
            out.append(_check(r, GUARDRAIL, PASS, f"{head}: verified, a loss of {m_pts} points is ruled out.", mde))
        elif hi < -margin or (significant and r.delta < -margin):
            out.append(
                _check(r, GUARDRAIL, FAIL, f"{head}: clearly worse, a loss beyond the {m_pts}-point margin.", mde)
            )
        else:
            plan = plan_rows(
                int(r.n),
                float(r.delta),
                float(r.se),
                margin,
                _z(1 - GUARDRAIL_LEVEL / (2 * k), float(r.df)),
                f"rows of guardrail {r.slice}",
                f"if its change stays at {pts(r.delta)} points",
            )
            if r.delta <= -margin:
                plan = None
            tail = (
                f"{plan.text()} would verify it"
                if plan
                else f"at its estimate ({pts(r.delta)} points) no number of rows would verify it"
            )
            out.append(
                _check(
                    r,
                    GUARDRAIL,
                    NEED_MORE_DATA,
                    f"{head}: not verified, the interval reaches below -{m_pts}; {tail}.",
                    mde,
                    plan=plan,
                )
            )
    return out


def slice_gate(gate: Gate, analysis: Analysis, margin: float) -> GateResult:
    """The slice gate of one per-example metric, by role (see the module docstring)."""
    from evalcore.stats.comparisons import compared_metric

    metric = compared_metric(gate.metric)
    ch = analysis.results.changes
    rows = ch[(ch["metric"] == gate.metric) & (ch["slice"] != "all")].reset_index(drop=True)
    roles = analysis.results.roles or {}
    attrs = analysis.results.regression_metrics.attrs
    alpha, min_n = float(attrs.get("alpha", ALPHA)), int(attrs.get("min_n", 30))
    role = rows["slice"].map(lambda s: roles.get(s, WATCHED))
    empty = rows["n"] == 0
    guard = role == GUARDRAIL
    model = (role == MODEL_DEFINED) & ~empty
    watched = (role == WATCHED) & ~empty
    clusters = rows["clusters"].astype(float)
    small = watched & (
        (rows["n"] < min_n)
        | (clusters.notna() & (clusters < MIN_JUDGED_CLUSTERS))
        | ~np.isfinite(rows["se"].astype(float))
    )
    judged = watched & ~small
    checks: list[Check] = []
    k = int(guard.sum())
    checks += _guardrails(rows[guard], metric.kind, margin, k) if k else []
    checks += _watched(rows[judged], metric.kind, margin, alpha)
    for _, raw in rows[small].iterrows():
        r = _Row(raw)
        why = (
            f"fewer than {MIN_JUDGED_CLUSTERS} clusters"
            if np.isfinite(r.clusters) and r.clusters < MIN_JUDGED_CLUSTERS and int(r.n) >= min_n
            else f"fewer than {min_n} rows"
        )
        checks.append(
            _check(
                r,
                WATCHED,
                TOO_SMALL,
                f"{r.slice} is too small to judge ({why}; {_numbers(r)}): shown, never tested, never blocks.",
            )
        )
    from evalcore.analyze.slices import SliceSet  # noqa: F401  (roles come from the slice set)

    for _, raw in rows[model].iterrows():
        r = _Row(raw)
        checks.append(
            _check(
                r,
                MODEL_DEFINED,
                MODEL_DEFINED,
                f"{r.slice} is defined by a model's output ({_numbers(r)}):"
                " shown, never gates (a slice chosen by a model's own output is biased by construction).",
            )
        )
    order = {name: i for i, name in enumerate(rows["slice"])}
    checks.sort(key=lambda c: order[c.name])
    return _slice_result(gate, metric.title, margin, checks, int(judged.sum()), alpha)


def _slice_result(gate: Gate, title: str, margin: float, checks: list[Check], m: int, alpha: float) -> GateResult:
    failed = [c for c in checks if c.status == FAIL]
    need = [c for c in checks if c.status == NEED_MORE_DATA]
    small = [c for c in checks if c.status == TOO_SMALL]
    model = [c for c in checks if c.status == MODEL_DEFINED]
    guards = [c for c in checks if c.role == GUARDRAIL]
    parts = []
    harmed = sorted([c for c in failed if c.role == WATCHED], key=lambda c: c.delta)
    if harmed:
        items = [f"{c.name} {pts(c.delta)} points [{pts(c.lo)}, {pts(c.hi)}] (n={c.n:,})" for c in harmed]
        shown = "; ".join(items[:MAX_NAMED]) + (
            f"; and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
        )
        parts.append(
            f"{len(harmed)} watched slice{'s' if len(harmed) != 1 else ''} "
            f"{'lose' if len(harmed) != 1 else 'loses'} beyond the {pts(margin, signed=False)}-point margin "
            f"with significant harm: {shown}."
        )
    parts += [c.sentence for c in failed + need if c not in harmed][:MAX_NAMED]
    mdes = [c.mde for c in checks if c.role == WATCHED and c.status == PASS and np.isfinite(c.mde)]
    summary = [
        f"{m} watched slice{'s' if m != 1 else ''} judged on {title} (one-sided harm tests, Benjamini-"
        f"Hochberg at {alpha:g})"
        + (
            f", each able to detect a loss of {pts(min(mdes), signed=False)} to {pts(max(mdes), signed=False)} points"
            if mdes
            else ""
        )
    ]
    if guards:
        verified = sum(c.status == PASS for c in guards)
        summary.append(f"{verified} of {len(guards)} guardrail{'s' if len(guards) != 1 else ''} verified")
    if small:
        summary.append(
            f"{len(small)} too small to judge ({', '.join(c.name for c in small[:MAX_NAMED])}"
            f"{', ...' if len(small) > MAX_NAMED else ''})"
        )
    if model:
        summary.append(f"{len(model)} model-defined, never gating ({', '.join(c.name for c in model)})")
    reason = " ".join(parts + ["; ".join(summary) + "."])
    status = FAIL if failed else NEED_MORE_DATA if need else PASS
    step, subject = "", ""
    if failed:
        worst = min(failed, key=lambda c: c.delta)
        subject = worst.name
        step = (
            f"look at {'guardrail' if worst.role == GUARDRAIL else 'slice'} {worst.name}: it loses "
            f"{pts(-worst.delta, signed=False)} points ({interval_text(worst.lo, worst.hi)}, n={worst.n:,})"
        )
    elif need:
        harmed = [c for c in need if c.role == WATCHED]
        c = harmed[0] if harmed else need[0]
        subject = c.name
        if c.role == WATCHED:
            step = (
                f"look at slice {c.name}: it loses {pts(-c.delta, signed=False)} points, significantly, and the data "
                "cannot tell whether beyond the margin" + (f"; {c.plan.text()} would settle it" if c.plan else "")
            )
        elif c.plan is not None and c.n >= 30:
            step = f"collect {c.plan.text()}, or unmark guardrail {c.name} if it need not be verified"
        else:
            step = f"merge tiny guardrail {c.name} into a larger slice, or unmark it" + (
                f": verifying it would take {c.plan.text()}" if c.plan else ""
            )
    plan = next((c.plan for c in failed + need if c.plan), None)
    return GateResult(
        gate.name,
        gate.metric,
        margin,
        status,
        reason,
        checks=tuple(checks),
        plan=plan,
        rows_needed=plan.low if plan else None,
        next_step=step,
        subject=subject,
    )


def _check_slices(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    """The slice gate of a per-example metric, by role (`slice_gate`)."""
    return slice_gate(gate, analysis, margin)


def _listed(items: Sequence[str], limit: int = 4) -> str:
    shown = list(items[:limit])
    more = len(items) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _check_class_recall(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    pc = analysis.results.per_class
    checks = []
    for r in pc.itertuples():
        status = interval_status(r.recall_delta_lo, r.recall_delta_hi, margin) if r.n_gold else NOT_EVALUABLE
        checks.append(
            Check(
                str(r.label),
                status,
                int(r.n_gold),
                float(r.recall_delta),
                float(r.recall_delta_lo),
                float(r.recall_delta_hi),
                float(r.recall_mde),
            )
        )
    if not checks:
        return GateResult(gate.name, gate.metric, margin, NOT_EVALUABLE, "there is no gold label to check.")
    m = pts(margin, signed=False)
    items = lambda cs: _listed(
        [
            f"{c.name} ({pts(c.delta)} points, {interval_text(c.lo, c.hi)}, n={c.n:,})"  # noqa: E731
            for c in cs
        ],
        limit=6,
    )
    failed = [c for c in checks if c.status == FAIL]
    open_ = [c for c in checks if c.status in (NEED_MORE_DATA, NOT_EVALUABLE)]
    if failed:
        return GateResult(
            gate.name,
            gate.metric,
            margin,
            FAIL,
            f"recall falls by more than {m} points on {len(failed)} label(s): {items(failed)}.",
            checks=tuple(checks),
            next_step=f"look at the rows of gold label {failed[0].name}, whose "
            f"recall falls by {pts(-failed[0].delta, signed=False)} points",
        )
    if open_:
        return GateResult(
            gate.name,
            gate.metric,
            margin,
            NEED_MORE_DATA,
            f"the recall intervals of {len(open_)} label(s) span -{m} points: {items(open_)}.",
            checks=tuple(checks),
            next_step=f"collect more rows of gold label {open_[0].name}, or turn the class_recall gate off",
        )
    return GateResult(
        gate.name,
        gate.metric,
        margin,
        PASS,
        f"on every label the recall interval lies above -{m} points: {items(checks)}.",
        checks=tuple(checks),
    )


def rate_status(lo: float, hi: float, limit: float, kind: str) -> str:
    """A rate against a maximum (pass when the whole interval is at or under it) or a minimum."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NOT_EVALUABLE
    if kind == "max":
        return PASS if hi <= limit else FAIL if lo > limit else NEED_MORE_DATA
    return PASS if lo >= limit else FAIL if hi < limit else NEED_MORE_DATA


def rate_sentence(
    what: str, k: int, n: int, value: float, lo: float, hi: float, limit: float, kind: str, status: str
) -> str:
    bound = "at most" if kind == "max" else "at least"
    head = f"{what}: {k:,} of {n:,} ({value:.1%}, 95% interval {lo:.1%} to {hi:.1%})"
    if status == PASS:
        return f"{head}; the whole interval meets the required {bound} {limit:.1%}."
    if status == FAIL:
        return f"{head}; the whole interval misses the required {bound} {limit:.1%}."
    return f"{head}; the interval spans the required {bound} {limit:.1%}, so more cases are needed to decide."


def _check_confident_regressions(
    gate: Gate, analysis: Analysis, limit: float, stress: StressResult | None
) -> GateResult:
    o = analysis.results.overall
    e = o["confident_regression_rate"]
    if e["n"] == 0:
        kind = o.get("score_kind", {}).get("candidate", "probability")
        why = f"its score is a {kind}, not a probability" if kind != "probability" else "it gives no confidences"
        return GateResult(
            gate.name,
            gate.metric,
            limit,
            NOT_EVALUABLE,
            f"the candidate {o['candidate']['model']}: {why}, so confident regressions "
            "are unknown: this gate is not evaluable (turn it off, or use a model that gives "
            "probabilities).",
        )
    status = rate_status(e["lo"], e["hi"], limit, "max")
    what = (
        f"rows the candidate gets wrong with confidence >= {o['conf_threshold']:g} where the baseline was right, "
        "among rows with a known confidence"
    )
    return GateResult(
        gate.name,
        gate.metric,
        limit,
        status,
        rate_sentence(what, o["n_confident_regressed"], e["n"], e["value"], e["lo"], e["hi"], limit, "max", status),
        e["n"],
        e["value"],
        e["lo"],
        e["hi"],
    )


def _check_stress(gate: Gate, analysis: Analysis, limit: float, stress: StressResult | None) -> GateResult:
    from evalcore.analyze.tables import role_names
    from evalcore.stats.intervals import wilson_interval

    names = role_names(analysis.df_eval)
    if stress is None:
        return GateResult(
            gate.name,
            gate.metric,
            limit,
            NOT_EVALUABLE,
            "no stress cases were scored in this session: score labelled stress cases or turn this gate off.",
        )
    summary = stress.stress_summary
    row = summary[summary["model"] == names["candidate"]]
    if row.empty:
        scored = ", ".join(summary["model"].astype(str))
        return GateResult(
            gate.name,
            gate.metric,
            limit,
            NOT_EVALUABLE,
            f"the stress cases were scored by {scored}, not by the candidate {names['candidate']}: "
            "re-score them with the two models being compared.",
        )
    n = int(row["n_labelled"].iloc[0])
    if n == 0:
        return GateResult(
            gate.name,
            gate.metric,
            limit,
            NOT_EVALUABLE,
            "no stress case has an expected label, so stress accuracy is unknown.",
        )
    acc = float(row["accuracy"].iloc[0])
    k = int(round(acc * n))
    lo, hi = (float(x) for x in wilson_interval(k, n))
    status = rate_status(lo, hi, limit, "min")
    return GateResult(
        gate.name,
        gate.metric,
        limit,
        status,
        rate_sentence(
            f"labelled stress cases the candidate {names['candidate']} gets right",
            k,
            n,
            acc,
            lo,
            hi,
            limit,
            "min",
            status,
        ),
        n,
        acc,
        lo,
        hi,
    )


def _registry() -> dict[str, Gate]:
    """Every gate, task by task: non-inferiority for each compared metric, a slice gate for each
    per-example metric, then the task's own gates (classification: per-class and rate gates)."""
    from evalcore.stats.comparisons import BY_TASK, COMPARED, HEADLINE

    own = {
        "classification": [
            Gate(
                "class_recall",
                "recall",
                "per gold label: the paired interval of the recall change must lie above -margin",
                "margin",
                _check_class_recall,
                suggested=0.05,
            ),
            Gate(
                "confident_regression_rate",
                "confident_regression_rate",
                "the share of rows (with a known confidence) "
                "the candidate gets wrong confidently where the baseline was right must be at most this",
                "max",
                _check_confident_regressions,
                suggested=0.05,
            ),
            Gate(
                "stress_accuracy",
                "stress_accuracy",
                "the candidate's accuracy on labelled stress cases (scored by the "
                "two compared models) must be at least this",
                "min",
                _check_stress,
                suggested=0.7,
            ),
        ]
    }
    gates: list[Gate] = []
    for task, names in BY_TASK.items():
        metrics = [COMPARED[n] for n in names]
        for m in metrics:
            gates.append(
                Gate(
                    m.name,
                    m.name,
                    f"overall {m.title}: the paired interval of the change must lie above -margin (non-inferiority)",
                    "margin",
                    _check_non_inferiority,
                    suggested=0.02,
                    task=task,
                )
            )
        for m in metrics:
            if m.per_example:
                gates.append(
                    Gate(
                        f"slice_{m.name}",
                        m.name,
                        f"per slice {m.title}: a watched slice blocks only on evidence of harm beyond the "
                        "margin; a guardrail must be verified (a loss of the margin ruled out); slices too "
                        "small to judge and model-defined slices never block",
                        "margin",
                        _check_slices,
                        suggested=0.05,
                        task=task,
                    )
                )
        headline = COMPARED[HEADLINE[task]]
        gates.append(
            Gate(
                f"{headline.name}_gain",
                headline.name,
                f"ship only for a gain: the interval of the overall {headline.title} change must lie above "
                "this (0: any gain)",
                "gain",
                _check_gain,
                suggested=0.0,
                task=task,
            )
        )
        gates += own.get(task, [])
    return {g.name: g for g in gates}


GATES: dict[str, Gate] = _registry()
_GATES_BY_TASK: dict[str, dict[str, Gate]] = {}  # task kind -> its gates, in registry order
for _g in GATES.values():
    _GATES_BY_TASK.setdefault(_g.task, {})[_g.name] = _g
DEFAULTS: dict[str, dict[str, float]] = {
    "classification": {"accuracy": 0.02, "macro_f1": 0.02, "slice_accuracy": 0.05},
    # generation: F1 is the headline metric (2 points overall, 5 per slice, as accuracy's)
    "generation": {"f1": 0.02, "slice_f1": 0.05},
}


def gates_for(task: str) -> dict[str, Gate]:
    """The gates of a task kind, in registry order: a gate reads metrics of its own task only."""
    if task not in DEFAULTS:
        raise ConfigError(f"task {task!r} has no gates; tasks: {', '.join(DEFAULTS)}")
    return _GATES_BY_TASK[task]


def _allowed(task: str | None = None) -> str:
    return ", ".join(gates_for(task) if task else GATES)


def _gate(name: Any) -> Gate:
    key = str(name).strip() if isinstance(name, str) else None
    if key in RETIRED:
        raise ConfigError(
            f"gate {key!r} compared a point estimate with a threshold and was retired; use "
            f"{RETIRED[key]}=MARGIN (the paired interval must lie above -MARGIN, e.g. 0.02)"
        )
    key = LEGACY.get(key, key)
    if key not in GATES:
        raise ConfigError(f"gate {name!r} is unknown; allowed gates: {_allowed()}")
    return GATES[key]


def _check_value(gate: Gate, value: Any) -> float | None:
    """A value inside the gate's range, or None (gate off). Empty text is an error, never 'off'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ConfigError(
                f"gate {gate.name}: the value is empty; give a number (e.g. {gate.suggested:g}) "
                "or 'off' to turn the gate off"
            )
        if text.lower() in OFF_WORDS:
            return None
        try:
            value = float(text)
        except ValueError as exc:
            raise ConfigError(
                f"gate {gate.name}: value {value!r} is not a number; give a share in "
                f"[{gate.lo:g}, {gate.hi:g}] (0.02 = 2 points) or 'off'"
            ) from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"gate {gate.name}: value {value!r} must be a finite number or 'off'")
    if not gate.lo <= value <= gate.hi:
        raise ConfigError(
            f"gate {gate.name}: value {value!r} is outside [{gate.lo:g}, {gate.hi:g}]; values are "
            "shares (0.02 = 2 points), not percentages"
        )
    return float(value)


@dataclass(frozen=True)
class GateConfig:
    """Margin (or limit) of every gate of the task; None: off. Missing gates take the task's defaults.
    A gate of another task kind may be named only to turn it off (a workspace keeps both tasks' gates)."""

    values: dict[str, float | None] = field(default_factory=dict)
    task: str = "classification"

    def __post_init__(self) -> None:
        defaults = DEFAULTS.get(self.task)
        if defaults is None:
            raise ConfigError(f"task {self.task!r} has no default gates; tasks: {', '.join(DEFAULTS)}")
        own = gates_for(self.task)
        given = {}
        for key, value in dict(self.values).items():
            gate = _gate(key)
            if gate.name not in own:
                if _check_value(gate, value) is not None:
                    raise ConfigError(
                        f"gate {gate.name} reads {gate.task} metrics and does not apply to {self.task} "
                        f"data; {self.task} gates: {', '.join(own)}"
                    )
                continue
            given[gate.name] = value
        merged = {name: _check_value(GATES[name], given[name] if name in given else defaults.get(name)) for name in own}
        object.__setattr__(self, "values", merged)

    def to_dict(self) -> dict[str, float | None]:
        return dict(self.values)

    @classmethod
    def from_dict(cls, raw: Any, task: str = "classification") -> GateConfig:
        """From the workspace's JSON; missing gates keep their defaults, unknown names are refused, and
        another task's gates are left aside (they are that task's settings)."""
        if raw is None:
            return cls(task=task)
        if not isinstance(raw, Mapping):
            raise ConfigError(f"gates must be a JSON object of gate name -> margin, got {type(raw).__name__}")
        own = gates_for(task)
        return cls({k: v for k, v in raw.items() if _gate(k).name in own}, task)

    def with_values(self, values: Mapping[str, Any]) -> GateConfig:
        """A copy with some gates changed (names may be legacy aliases)."""
        return GateConfig({**self.values, **{_gate(k).name: v for k, v in values.items()}}, self.task)

    def gates(self) -> dict[str, Gate]:
        """The gates this configuration sets (the task's), for lists such as the share page's."""
        return gates_for(self.task)

    def active(self) -> list[tuple[Gate, float]]:
        return [(GATES[name], value) for name, value in self.values.items() if value is not None]


def parse_gate_args(items: Sequence[str] | None, base: GateConfig | None = None) -> GateConfig:
    """The CLI's repeatable `--gate NAME=VALUE` applied over `base` (default: the default gates).
    VALUE is a share (0.02 = 2 points) or `off`; an empty VALUE is an error."""
    values: dict[str, Any] = {}
    base = base or GateConfig()
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep:
            raise ConfigError(
                f"--gate {item!r} must look like NAME=VALUE (e.g. {next(iter(base.gates()))}=0.02); "
                f"allowed gates: {_allowed(base.task)}"
            )
        gate = _gate(name)
        applies = gate.name in gates_for(base.task)
        if not applies and _check_value(gate, value) is not None:
            raise ConfigError(
                f"--gate {gate.name} reads {gate.task} metrics and does not apply to {base.task} data; "
                f"{base.task} gates: {_allowed(base.task)}"
            )
        if applies:
            values[gate.name] = _check_value(gate, value)
    return base.with_values(values)


# --- the verdict ---------------------------------------------------------------------------------


def require_gain(config: GateConfig, gain: float = 0.0) -> GateConfig:
    """The configuration with the headline metric's gain gate on (`--require-gain`)."""
    from evalcore.stats.comparisons import HEADLINE

    return config.with_values({f"{HEADLINE[config.task]}_gain": gain})


def run_gates(
    analysis: Analysis, config: GateConfig | None = None, stress: StressResult | None = None
) -> tuple[GateConfig, list[GateResult]]:
    """Each active gate's result (the verdict is `evalcore.decide.verdict.decide`)."""
    task = getattr(analysis, "task", "classification")
    config = config or GateConfig(task=task)
    if config.task != task:
        raise ConfigError(
            f"the gates are set for {config.task} data but this analysis is of {task} data; "
            f"build them with GateConfig(..., task={task!r})"
        )
    return config, [gate.check(gate, analysis, value, stress) for gate, value in config.active()]


__all__ = [
    "DEFAULTS",
    "EXIT_CODES",
    "FAIL",
    "GATES",
    "Gate",
    "GateConfig",
    "GateResult",
    "INCONCLUSIVE",
    "MODEL_DEFINED",
    "NEED_MORE_DATA",
    "NOT_EVALUABLE",
    "NO_SHIP",
    "PASS",
    "Plan",
    "SHIP",
    "TOO_SMALL",
    "Check",
    "gates_for",
    "guardrail_interval",
    "guardrail_mde",
    "harm_mde",
    "interval_status",
    "margin_text",
    "parse_gate_args",
    "plan_rows",
    "rate_status",
    "require_gain",
    "run_gates",
    "slice_gate",
    "MIN_JUDGED_CLUSTERS",
]
