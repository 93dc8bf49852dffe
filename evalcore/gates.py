"""Ship / no-ship / inconclusive: gates that read intervals, never point estimates.

A gate is a metric, a margin and a rule on the paired interval of the change (candidate - baseline):

- **non-inferiority** (`accuracy`, `macro_f1`): passes when the interval's lower bound is above
  -margin (a loss larger than the margin is ruled out), fails when its upper bound is below -margin
  (the candidate is clearly worse by more than the margin), and is inconclusive otherwise, with
  roughly how many more rows would settle it;
- **slices** (`slice_accuracy`): a slice fails when the candidate is worse there *than on the rest of
  the rows* (Benjamini-Hochberg over the slices) and the slice's own interval lies below -margin. It
  passes when its own interval lies above -margin (the data rule out a larger loss), or when it is
  not worse than the rest and could have detected a margin-sized loss (its minimum detectable effect
  at 80% power is within the margin). Otherwise it is inconclusive, and "underpowered" when its MDE
  exceeds the margin: never a pass. A uniform loss is the overall gate's business;
- **per class** (`class_recall`): the non-inferiority rule on each gold label's paired recall;
- **rates** (`confident_regression_rate`, `stress_accuracy`): the Wilson interval of the rate against
  a maximum / minimum; "not evaluable" when the data cannot give the rate (no confidences, no
  labelled stress cases scored by the candidate).

The verdict is no-ship when any gate fails, inconclusive when none fails but one cannot be decided,
ship when every gate passes. Margins are shares (0.02 = 2 points). Default margins: 2 points on
accuracy and macro-F1 overall and 5 points per slice: an equally good candidate ships once the
paired intervals are narrower than the margin (about 4,000 rows overall when 20% of rows are
discordant, a few hundred rows per slice), and a candidate 5 points worse fails.

    >>> config = parse_gate_args(["slice_accuracy=0.1", "macro_f1=off"])
    >>> config.values["slice_accuracy"], config.values["macro_f1"], config.values["accuracy"]
    (0.1, None, 0.02)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.errors import ConfigError
from evalcore import units
from evalcore.units import strict_json as _json_value

if TYPE_CHECKING:
    from evalcore.pipeline import Analysis
    from evalcore.stress import StressResult

PASS, FAIL, INCONCLUSIVE, NOT_EVALUABLE, UNDERPOWERED = "pass", "fail", "inconclusive", "not evaluable", "underpowered"
SHIP, NO_SHIP = "ship", "no-ship"
EXIT_CODES = {SHIP: 0, NO_SHIP: 1, INCONCLUSIVE: 3}
OFF_WORDS = ("off", "none")
LEGACY = {"max_slice_regression": "slice_accuracy", "max_significant_slice_regression": "slice_accuracy",
          "max_confident_regression_rate": "confident_regression_rate", "min_stress_accuracy": "stress_accuracy"}
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


@dataclass(frozen=True)
class Check:
    """One unit a gate looked at (a slice, a gold label) with its status and its numbers."""

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

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_value(v) for k, v in self.__dict__.items()}


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

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def line(self) -> str:
        """`FAIL         accuracy (margin 2.0 points): ...` for the CLI and reports."""
        return f"{self.status.upper():<13} {self.name} ({margin_text(self.name, self.margin)}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "margin": self.margin, "status": self.status,
                "reason": self.reason, "n": self.n, "observed": _json_value(self.observed),
                "lo": _json_value(self.lo), "hi": _json_value(self.hi), "rows_needed": self.rows_needed,
                "checks": [c.to_dict() for c in self.checks]}


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
    task: str = "classification"  # the task kind whose analyses the gate reads (evalcore.comparisons)


def margin_text(name: str, value: float) -> str:
    gate = GATES.get(name)
    if gate is None or gate.kind == "margin":
        return f"margin {pts(value, signed=False)} points"
    return f"{'at most' if gate.kind == 'max' else 'at least'} {value:.1%}"


def _overall_row(analysis: Analysis, metric: str) -> pd.Series | None:
    ch = analysis.results.changes
    rows = ch[(ch["metric"] == metric) & (ch["slice"] == "all")]
    return None if rows.empty else rows.iloc[0]


def interval_status(lo: float, hi: float, margin: float) -> str:
    """The non-inferiority rule: pass above -margin, fail below it, inconclusive across it."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NOT_EVALUABLE
    if lo > -margin:
        return PASS
    if hi < -margin:
        return FAIL
    return INCONCLUSIVE


def _settle(n: int, value: float, lo: float, hi: float, margin: float) -> int | None:
    from evalcore.paired import rows_to_settle

    more = float(rows_to_settle(n, value, lo, hi, margin))
    return None if math.isnan(more) else int(more)


def non_inferiority_sentence(title: str, n: int, delta: float, lo: float, hi: float, margin: float,
                             status: str, rows_needed: int | None) -> str:
    """The reason of a non-inferiority gate, from the numbers printed in it."""
    head = f"{title} changes by {pts(delta)} points ({interval_text(lo, hi)}, n={n:,})"
    m = pts(margin, signed=False)
    if status == PASS:
        return f"{head}; the whole interval lies above -{m}, so a loss larger than the {m}-point margin is ruled out."
    if status == FAIL:
        return f"{head}; the whole interval lies below -{m}: the candidate is worse by more than the {m}-point margin."
    tail = (f"about {_rows(rows_needed)} more rows would settle it" if rows_needed is not None
            else "at this estimate no number of rows settles it")
    return f"{head}; the interval spans -{m}, so the data cannot tell whether the loss exceeds the margin: {tail}."


def _check_non_inferiority(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    from evalcore.comparisons import compared_metric

    title = compared_metric(gate.metric).title
    row = _overall_row(analysis, gate.metric)
    if row is None or int(row["n"]) == 0 or not np.isfinite(row["delta_lo"]):
        return GateResult(gate.name, gate.metric, margin, NOT_EVALUABLE,
                          f"{title} could not be compared on these data (no rows or no interval).")
    n, d, lo, hi = int(row["n"]), float(row["delta"]), float(row["delta_lo"]), float(row["delta_hi"])
    status = interval_status(lo, hi, margin)
    need = _settle(n, d, lo, hi, margin) if status == INCONCLUSIVE else None
    return GateResult(gate.name, gate.metric, margin, status,
                      non_inferiority_sentence(title, n, d, lo, hi, margin, status, need), n, d, lo, hi, need)


def slice_status(row: Any, margin: float) -> str:
    """A slice's status under the slice gate (see the module docstring): fail when worse than the rest
    and clearly beyond the margin; pass when its own interval rules out a loss beyond the margin, or
    when it is not worse than the rest and could have detected such a loss; otherwise inconclusive
    (worse than the rest) or underpowered (MDE above the margin)."""
    worse = bool(row.worse_than_rest)
    if worse and np.isfinite(row.delta_hi) and row.delta_hi < -margin:
        return FAIL
    if np.isfinite(row.delta_lo) and row.delta_lo > -margin:
        return PASS
    if worse:
        return INCONCLUSIVE
    if int(row.n) == 0 or not np.isfinite(row.mde) or row.mde > margin:
        return UNDERPOWERED
    return PASS


def _slice_rows_needed(row: Any, margin: float) -> float:
    """More rows *in the slice* for its MDE to reach the margin (binary metrics: Connor 1987)."""
    from evalcore.paired import rows_for_effect

    if not np.isfinite(row.discordance):
        return math.nan
    return max(float(rows_for_effect(margin, row.discordance)) - int(row.n), 0.0)


def _slice_item(c: Check, with_mde: bool = False) -> str:
    if c.n == 0:
        return f"{c.name} (selects no rows)"
    core = f"{c.name} ({pts(c.delta)} points, {interval_text(c.lo, c.hi)}, n={c.n:,}"
    if with_mde:
        core += f", detects only {pts(c.mde, signed=False)} points"
        if np.isfinite(c.rows_needed):
            core += f"; about {_rows(c.rows_needed)} more rows of it needed"
    elif np.isfinite(c.vs_rest):
        core += f"; {pts(c.vs_rest)} points against the rest, BH-adjusted p {c.vs_rest_p_adjusted:.2g}"
    return core + ")"


def _of(part: Sequence[Any], whole: Sequence[Any], noun: str) -> str:
    """'1 of 10 slices is' / '3 of 10 slices are'."""
    return f"{len(part)} of {len(whole)} {noun}s {'is' if len(part) == 1 else 'are'}"


def _listed(items: Sequence[str], limit: int = 4) -> str:
    shown = list(items[:limit])
    more = len(items) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _check_slices(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    from evalcore.comparisons import compared_metric

    title = compared_metric(gate.metric).title
    ch = analysis.results.changes
    rows = ch[(ch["metric"] == gate.metric) & (ch["slice"] != "all")]
    m = pts(margin, signed=False)
    checks = tuple(Check(r.slice, slice_status(r, margin), int(r.n), float(r.delta), float(r.delta_lo),
                         float(r.delta_hi), float(r.mde), float(r.vs_rest), float(r.vs_rest_p_adjusted),
                         _slice_rows_needed(r, margin)) for r in rows.itertuples())
    by = {s: [c for c in checks if c.status == s] for s in (FAIL, INCONCLUSIVE, UNDERPOWERED, PASS)}
    if not checks:
        return GateResult(gate.name, gate.metric, margin, PASS, "no slice is defined, so no slice can fail.")
    if by[FAIL]:
        reason = (f"{_of(by[FAIL], checks, 'slice')} worse than the rest of the rows and "
                  f"{'loses' if len(by[FAIL]) == 1 else 'lose'} more than {m} points on {title}: "
                  f"{_listed([_slice_item(c) for c in by[FAIL]])}.")
        return GateResult(gate.name, gate.metric, margin, FAIL, reason, checks=checks)
    if by[INCONCLUSIVE] or by[UNDERPOWERED]:
        parts = []
        if by[INCONCLUSIVE]:
            parts.append(f"{_of(by[INCONCLUSIVE], checks, 'slice')} worse than the rest, with an interval that "
                         f"neither rules out nor shows a loss beyond {m} points: "
                         f"{_listed([_slice_item(c) for c in by[INCONCLUSIVE]])}")
        if by[UNDERPOWERED]:
            parts.append(f"{_of(by[UNDERPOWERED], checks, 'slice')} too small to detect a {m}-point loss "
                         f"(underpowered, not counted as a pass): "
                         f"{_listed([_slice_item(c, True) for c in by[UNDERPOWERED]])}")
        need = [c.rows_needed for c in by[UNDERPOWERED] if np.isfinite(c.rows_needed)]
        return GateResult(gate.name, gate.metric, margin, INCONCLUSIVE, "; ".join(parts) + ".",
                          rows_needed=int(max(need)) if need else None, checks=checks)
    worst = max(c.mde for c in checks)
    return GateResult(gate.name, gate.metric, margin, PASS,
                      f"each of the {len(checks)} slices either rules out a loss beyond {m} points or is not worse "
                      f"than the rest while able to detect such a loss (largest MDE {pts(worst, signed=False)} "
                      "points).", checks=checks)


def _check_class_recall(gate: Gate, analysis: Analysis, margin: float, stress: StressResult | None) -> GateResult:
    pc = analysis.results.per_class
    checks = []
    for r in pc.itertuples():
        status = interval_status(r.recall_delta_lo, r.recall_delta_hi, margin) if r.n_gold else NOT_EVALUABLE
        checks.append(Check(str(r.label), status, int(r.n_gold), float(r.recall_delta), float(r.recall_delta_lo),
                            float(r.recall_delta_hi), float(r.recall_mde)))
    if not checks:
        return GateResult(gate.name, gate.metric, margin, NOT_EVALUABLE, "there is no gold label to check.")
    m = pts(margin, signed=False)
    items = lambda cs: _listed([f"{c.name} ({pts(c.delta)} points, {interval_text(c.lo, c.hi)}, n={c.n:,})"  # noqa: E731
                                for c in cs], limit=6)
    failed = [c for c in checks if c.status == FAIL]
    open_ = [c for c in checks if c.status in (INCONCLUSIVE, NOT_EVALUABLE)]
    if failed:
        return GateResult(gate.name, gate.metric, margin, FAIL,
                          f"recall falls by more than {m} points on {len(failed)} label(s): {items(failed)}.",
                          checks=tuple(checks))
    if open_:
        return GateResult(gate.name, gate.metric, margin, INCONCLUSIVE,
                          f"the recall intervals of {len(open_)} label(s) span -{m} points: {items(open_)}.",
                          checks=tuple(checks))
    return GateResult(gate.name, gate.metric, margin, PASS,
                      f"on every label the recall interval lies above -{m} points: {items(checks)}.",
                      checks=tuple(checks))


def rate_status(lo: float, hi: float, limit: float, kind: str) -> str:
    """A rate against a maximum (pass when the whole interval is at or under it) or a minimum."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NOT_EVALUABLE
    if kind == "max":
        return PASS if hi <= limit else FAIL if lo > limit else INCONCLUSIVE
    return PASS if lo >= limit else FAIL if hi < limit else INCONCLUSIVE


def rate_sentence(what: str, k: int, n: int, value: float, lo: float, hi: float, limit: float, kind: str,
                  status: str) -> str:
    bound = "at most" if kind == "max" else "at least"
    head = f"{what}: {k:,} of {n:,} ({value:.1%}, 95% interval {lo:.1%} to {hi:.1%})"
    if status == PASS:
        return f"{head}; the whole interval meets the required {bound} {limit:.1%}."
    if status == FAIL:
        return f"{head}; the whole interval misses the required {bound} {limit:.1%}."
    return f"{head}; the interval spans the required {bound} {limit:.1%}, so more cases are needed to decide."


def _check_confident_regressions(gate: Gate, analysis: Analysis, limit: float,
                                 stress: StressResult | None) -> GateResult:
    o = analysis.results.overall
    e = o["confident_regression_rate"]
    if e["n"] == 0:
        kind = o.get("score_kind", {}).get("candidate", "probability")
        why = (f"its score is a {kind}, not a probability" if kind != "probability" else "it gives no confidences")
        return GateResult(gate.name, gate.metric, limit, NOT_EVALUABLE,
                          f"the candidate {o['candidate']['model']}: {why}, so confident regressions "
                          "are unknown: this gate is not evaluable (turn it off, or use a model that gives "
                          "probabilities).")
    status = rate_status(e["lo"], e["hi"], limit, "max")
    what = (f"rows the candidate gets wrong with confidence >= {o['conf_threshold']:g} where the baseline was right, "
            "among rows with a known confidence")
    return GateResult(gate.name, gate.metric, limit, status,
                      rate_sentence(what, o["n_confident_regressed"], e["n"], e["value"], e["lo"], e["hi"], limit,
                                    "max", status), e["n"], e["value"], e["lo"], e["hi"])


def _check_stress(gate: Gate, analysis: Analysis, limit: float, stress: StressResult | None) -> GateResult:
    from evalcore.metrics import wilson_interval
    from evalcore.tables import role_names

    names = role_names(analysis.df_eval)
    if stress is None:
        return GateResult(gate.name, gate.metric, limit, NOT_EVALUABLE,
                          "no stress cases were scored in this session: score labelled stress cases or turn this "
                          "gate off.")
    summary = stress.stress_summary
    row = summary[summary["model"] == names["candidate"]]
    if row.empty:
        scored = ", ".join(summary["model"].astype(str))
        return GateResult(gate.name, gate.metric, limit, NOT_EVALUABLE,
                          f"the stress cases were scored by {scored}, not by the candidate {names['candidate']}: "
                          "re-score them with the two models being compared.")
    n = int(row["n_labelled"].iloc[0])
    if n == 0:
        return GateResult(gate.name, gate.metric, limit, NOT_EVALUABLE,
                          "no stress case has an expected label, so stress accuracy is unknown.")
    acc = float(row["accuracy"].iloc[0])
    k = int(round(acc * n))
    lo, hi = (float(x) for x in wilson_interval(k, n))
    status = rate_status(lo, hi, limit, "min")
    return GateResult(gate.name, gate.metric, limit, status,
                      rate_sentence(f"labelled stress cases the candidate {names['candidate']} gets right", k, n, acc,
                                    lo, hi, limit, "min", status), n, acc, lo, hi)


def _registry() -> dict[str, Gate]:
    """Every gate, task by task: non-inferiority for each compared metric, a slice gate for each
    per-example metric, then the task's own gates (classification: per-class and rate gates)."""
    from evalcore.comparisons import COMPARED

    own = {"classification": [
        Gate("class_recall", "recall", "per gold label: the paired interval of the recall change must lie above "
             "-margin", "margin", _check_class_recall, suggested=0.05),
        Gate("confident_regression_rate", "confident_regression_rate", "the share of rows (with a known confidence) "
             "the candidate gets wrong confidently where the baseline was right must be at most this", "max",
             _check_confident_regressions, suggested=0.05),
        Gate("stress_accuracy", "stress_accuracy", "the candidate's accuracy on labelled stress cases (scored by the "
             "two compared models) must be at least this", "min", _check_stress, suggested=0.7),
    ]}
    gates: list[Gate] = []
    for task in dict.fromkeys(m.task for m in COMPARED.values()):
        metrics = [m for m in COMPARED.values() if m.task == task]
        for m in metrics:
            gates.append(Gate(m.name, m.name, f"overall {m.title}: the paired interval of the change must lie above "
                                              "-margin (non-inferiority)", "margin", _check_non_inferiority,
                              suggested=0.02, task=task))
        for m in metrics:
            if m.per_example:
                gates.append(Gate(f"slice_{m.name}", m.name,
                                  f"per slice {m.title}: no slice may be worse than the rest of the rows and lose more "
                                  "than the margin; a slice that cannot detect the margin is underpowered, never a "
                                  "pass", "margin", _check_slices, suggested=0.05, task=task))
        gates += own.get(task, [])
    return {g.name: g for g in gates}


GATES: dict[str, Gate] = _registry()
DEFAULTS: dict[str, dict[str, float]] = {
    "classification": {"accuracy": 0.02, "macro_f1": 0.02, "slice_accuracy": 0.05},
    # generation: F1 is the headline metric (2 points overall, 5 per slice, as accuracy's)
    "generation": {"f1": 0.02, "slice_f1": 0.05},
}


def gates_for(task: str) -> dict[str, Gate]:
    """The gates of a task kind, in registry order: a gate reads metrics of its own task only."""
    if task not in DEFAULTS:
        raise ConfigError(f"task {task!r} has no gates; tasks: {', '.join(DEFAULTS)}")
    return {name: g for name, g in GATES.items() if g.task == task}


def _allowed(task: str | None = None) -> str:
    return ", ".join(gates_for(task) if task else GATES)


def _gate(name: Any) -> Gate:
    key = str(name).strip() if isinstance(name, str) else None
    if key in RETIRED:
        raise ConfigError(f"gate {key!r} compared a point estimate with a threshold and was retired; use "
                          f"{RETIRED[key]}=MARGIN (the paired interval must lie above -MARGIN, e.g. 0.02)")
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
            raise ConfigError(f"gate {gate.name}: the value is empty; give a number (e.g. {gate.suggested:g}) "
                              "or 'off' to turn the gate off")
        if text.lower() in OFF_WORDS:
            return None
        try:
            value = float(text)
        except ValueError as exc:
            raise ConfigError(f"gate {gate.name}: value {value!r} is not a number; give a share in "
                              f"[{gate.lo:g}, {gate.hi:g}] (0.02 = 2 points) or 'off'") from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"gate {gate.name}: value {value!r} must be a finite number or 'off'")
    if not gate.lo <= value <= gate.hi:
        raise ConfigError(f"gate {gate.name}: value {value!r} is outside [{gate.lo:g}, {gate.hi:g}]; values are "
                          "shares (0.02 = 2 points), not percentages")
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
                    raise ConfigError(f"gate {gate.name} reads {gate.task} metrics and does not apply to {self.task} "
                                      f"data; {self.task} gates: {', '.join(own)}")
                continue
            given[gate.name] = value
        merged = {name: _check_value(GATES[name], given[name] if name in given else defaults.get(name))
                  for name in own}
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
            raise ConfigError(f"--gate {item!r} must look like NAME=VALUE (e.g. {next(iter(base.gates()))}=0.02); "
                              f"allowed gates: {_allowed(base.task)}")
        gate = _gate(name)
        if gate.task != base.task and _check_value(gate, value) is not None:
            raise ConfigError(f"--gate {gate.name} reads {gate.task} metrics and does not apply to {base.task} data; "
                              f"{base.task} gates: {_allowed(base.task)}")
        if gate.task == base.task:
            values[gate.name] = _check_value(gate, value)
    return base.with_values(values)


# --- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateReport:
    """Every active gate's result and the verdict they add up to."""

    results: list[GateResult] = field(default_factory=list)

    @property
    def decision(self) -> str:
        """no-ship when a gate fails; inconclusive when none fails but one cannot be decided (or no gate is
        on); ship when every gate passes."""
        statuses = {r.status for r in self.results}
        if FAIL in statuses:
            return NO_SHIP
        if not self.results or statuses - {PASS}:
            return INCONCLUSIVE
        return SHIP

    recommendation = decision

    @property
    def passed(self) -> bool:
        return self.decision == SHIP

    @property
    def exit_code(self) -> int:
        """0 ship, 1 no-ship, 3 inconclusive: what `python -m evalcore report --verdict` returns."""
        return EXIT_CODES[self.decision]

    @property
    def reasons(self) -> list[str]:
        """The explanations of the gates that did not pass."""
        return [f"{r.name}: {r.reason}" for r in self.results if r.status != PASS]

    def reason(self) -> str:
        """The verdict's reason in one sentence, from the gates' own sentences."""
        if not self.results:
            return "no gate is turned on, so nothing supports shipping: turn on at least one gate."
        if self.decision == SHIP:
            return f"all {len(self.results)} gates pass ({', '.join(r.name for r in self.results)})."
        key = FAIL if self.decision == NO_SHIP else None
        blocking = [r for r in self.results if (r.status == key if key else r.status != PASS)]
        verb = "fail" if key else "cannot be decided"
        first = blocking[0]
        return (f"{len(blocking)} of {len(self.results)} gates {verb} ({', '.join(r.name for r in blocking)}); "
                f"{first.name}: {first.reason}")

    def summary(self) -> str:
        return self.reason()

    def headline(self) -> str:
        """`no-ship: 2 of 3 gates fail (...)`."""
        return f"{self.decision}: {self.reason()}"

    def lines(self) -> list[str]:
        """Headline then one line per gate, for the CLI and the app."""
        return [self.headline(), *(r.line for r in self.results)]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "recommendation": self.decision, "reason": self.reason(),
                "exit_code": self.exit_code, "gates": [r.to_dict() for r in self.results]}


def evaluate_gates(analysis: Analysis, config: GateConfig | None = None,
                   stress: StressResult | None = None) -> GateReport:
    """Check every active gate of `config` (the default gates of the analysis's task when None)."""
    task = getattr(analysis, "task", "classification")
    config = config or GateConfig(task=task)
    if config.task != task:
        raise ConfigError(f"the gates are set for {config.task} data but this analysis is of {task} data; "
                          f"build them with GateConfig(..., task={task!r})")
    return GateReport([gate.check(gate, analysis, value, stress) for gate, value in config.active()])


__all__ = ["DEFAULTS", "EXIT_CODES", "FAIL", "GATES", "Gate", "GateConfig", "GateReport", "GateResult",
           "INCONCLUSIVE", "NOT_EVALUABLE", "NO_SHIP", "PASS", "SHIP", "UNDERPOWERED", "Check", "evaluate_gates",
           "gates_for", "interval_status", "margin_text", "parse_gate_args", "rate_status", "slice_status"]
