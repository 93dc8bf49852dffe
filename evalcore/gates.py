"""Ship / no-ship gates: the few rules a team agrees on before looking at the numbers.

A gate is a named threshold on one number of the analysis ("no significant slice regression
larger than 5 points", "overall change >= 0"). Thresholds are shares, like every rate in
evalcore: 0.05 means 5 accuracy points. A gate set to `None` is off. The configuration is plain
JSON (saved in the workspace) and the CLI sets gates with repeatable `--gate NAME=VALUE`.

Gates use point estimates, never interval bounds: a gate is a decision rule the team sets, and
the statistics already decide *which* slices count (only regressions that survive
Benjamini-Hochberg are gated). Each explanation still quotes the interval, so a reader sees
when a passing number is uncertain.

    >>> config = parse_gate_args(["max_slice_regression=0.1", "min_overall_change=off"])
    >>> config.max_slice_regression, config.min_overall_change, config.max_confident_regression_rate
    (0.1, None, None)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from evalcore.errors import ConfigError

if TYPE_CHECKING:
    from evalcore.pipeline import Analysis
    from evalcore.stress import StressResult

OFF_WORDS = ("off", "none", "")


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: what was required, what was observed, and a sentence saying why."""

    name: str
    threshold: float
    observed: float | None
    passed: bool
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold, "observed": self.observed,
                "passed": self.passed, "explanation": self.explanation}

    @property
    def line(self) -> str:
        """`PASS max_slice_regression: ...` for the CLI and reports."""
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.explanation}"


@dataclass(frozen=True)
class Gate:
    """A gate's definition: its name, what it checks, its allowed range and its default."""

    name: str
    description: str
    lo: float
    hi: float
    default: float | None
    check: Callable[[Analysis, float, StressResult | None], GateResult]
    aliases: tuple[str, ...] = ()


def _pts(x: float) -> str:
    """A share as accuracy points: 0.0512 -> '5.1 points'."""
    return f"{abs(x) * 100:.1f} points"


def _signed_pts(x: float) -> str:
    return f"{x * 100:+.1f} points"


def _check_slice_regression(analysis: Analysis, threshold: float, stress: StressResult | None) -> GateResult:
    reg = analysis.results.regression_metrics
    flagged = reg[reg["slice"].isin(analysis.results.flagged)]
    drops = {r.slice: (float(-r.delta), int(r.n), bool(r.small)) for r in flagged.itertuples()}
    worst = max((d for d, _, _ in drops.values()), default=0.0)
    over = sorted(((s, v) for s, v in drops.items() if v[0] > threshold), key=lambda kv: -kv[1][0])
    alpha = reg.attrs.get("alpha", 0.05)
    name = "max_slice_regression"
    if not drops:
        return GateResult(name, threshold, 0.0, True,
                          f"no slice regresses significantly (Benjamini-Hochberg, alpha {alpha}).")
    if not over:
        return GateResult(name, threshold, worst, True,
                          f"{len(drops)} slice(s) regress significantly, the largest by {_pts(worst)}, "
                          f"within the allowed {_pts(threshold)}.")
    listed = ", ".join(f"{s} (-{_pts(d)}, n={n}{', small' if small else ''})" for s, (d, n, small) in over)
    return GateResult(name, threshold, worst, False,
                      f"{len(over)} slice(s) regress significantly by more than {_pts(threshold)}: {listed}.")


def _check_overall_change(analysis: Analysis, threshold: float, stress: StressResult | None) -> GateResult:
    d = analysis.results.overall["delta"]
    value, lo, hi = d["value"], d["lo"], d["hi"]
    passed = value >= threshold
    text = (f"overall change {_signed_pts(value)} (95% interval {lo * 100:+.1f} to {hi * 100:+.1f}) "
            f"{'meets' if passed else 'is below'} the required {_signed_pts(threshold)}")
    if passed and lo < threshold:
        text += "; the interval reaches below it, so the data cannot rule out a smaller change"
    elif not passed and hi >= threshold:
        text += "; the interval reaches above it, so more data could change this verdict"
    return GateResult("min_overall_change", threshold, value, passed, text + ".")


def _check_confident_regression(analysis: Analysis, threshold: float, stress: StressResult | None) -> GateResult:
    o = analysis.results.overall
    rate = float(o["confident_regression_rate"])
    conf = analysis.results.regression_metrics.attrs.get("conf_threshold", 0.8)
    passed = rate <= threshold
    return GateResult("max_confident_regression_rate", threshold, rate, passed,
                      f"{rate:.1%} of all examples are regressions made with candidate confidence >= {conf:g} "
                      f"({'within' if passed else 'above'} the allowed {threshold:.1%}).")


def _check_stress_accuracy(analysis: Analysis, threshold: float, stress: StressResult | None) -> GateResult:
    name = "min_stress_accuracy"
    summary = None if stress is None else stress.stress_summary
    row = None if summary is None else summary[summary["role"] == "candidate"]
    if row is None or row.empty or int(row["n_labelled"].iloc[0]) == 0:
        return GateResult(name, threshold, None, False,
                          "no labelled stress cases were scored, so this gate cannot pass; score stress "
                          "cases with expected labels or turn the gate off.")
    acc, n = float(row["accuracy"].iloc[0]), int(row["n_labelled"].iloc[0])
    passed = acc >= threshold
    return GateResult(name, threshold, acc, passed,
                      f"the candidate ({row['model'].iloc[0]}) gets {acc:.1%} of {n} labelled stress cases right "
                      f"({'meets' if passed else 'below'} the required {threshold:.1%}).")


GATES: dict[str, Gate] = {g.name: g for g in (
    Gate("max_slice_regression", "largest accuracy drop allowed in a slice whose regression is significant "
         "after Benjamini-Hochberg (share: 0.05 = 5 points)", 0.0, 1.0, 0.05, _check_slice_regression,
         aliases=("max_significant_slice_regression",)),
    Gate("min_overall_change", "smallest allowed overall change in accuracy, candidate - baseline "
         "(point estimate; share, may be negative)", -1.0, 1.0, 0.0, _check_overall_change),
    Gate("max_confident_regression_rate", "largest allowed share of all examples that the candidate gets "
         "wrong with high confidence where the baseline was right", 0.0, 1.0, None, _check_confident_regression),
    Gate("min_stress_accuracy", "smallest allowed candidate accuracy on the labelled stress cases",
         0.0, 1.0, None, _check_stress_accuracy),
)}
_ALIASES = {alias: g.name for g in GATES.values() for alias in (g.name, *g.aliases)}


def _allowed() -> str:
    return ", ".join(GATES)


def _gate(name: Any) -> Gate:
    canonical = _ALIASES.get(str(name).strip()) if isinstance(name, str) else None
    if canonical is None:
        raise ConfigError(f"gate {name!r} is unknown; allowed gates: {_allowed()}")
    return GATES[canonical]


def _check_value(gate: Gate, value: Any) -> float | None:
    """A threshold inside the gate's range, or None (gate off)."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in OFF_WORDS:
            return None
        try:
            value = float(value)
        except ValueError as exc:
            raise ConfigError(f"gate {gate.name}: value {value!r} is not a number; give a share in "
                              f"[{gate.lo:g}, {gate.hi:g}] (0.05 = 5 points) or 'off'") from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"gate {gate.name}: value {value!r} must be a finite number or 'off'")
    if not gate.lo <= value <= gate.hi:
        raise ConfigError(f"gate {gate.name}: value {value!r} is outside [{gate.lo:g}, {gate.hi:g}]; "
                          "thresholds are shares (0.05 = 5 points), not percentages")
    return float(value)


@dataclass(frozen=True)
class GateConfig:
    """Thresholds of every gate (None: off). The defaults are the issue's: no significant slice
    regression above 5 points and no overall loss."""

    max_slice_regression: float | None = GATES["max_slice_regression"].default
    min_overall_change: float | None = GATES["min_overall_change"].default
    max_confident_regression_rate: float | None = GATES["max_confident_regression_rate"].default
    min_stress_accuracy: float | None = GATES["min_stress_accuracy"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _check_value(GATES[f.name], getattr(self, f.name)))

    def to_dict(self) -> dict[str, float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: Any) -> GateConfig:
        """From the workspace's JSON; missing gates keep their defaults, unknown names are refused."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigError(f"gates must be a JSON object of gate name -> threshold, got {type(raw).__name__}")
        return cls(**{_gate(k).name: v for k, v in raw.items()})

    def with_values(self, values: Mapping[str, Any]) -> GateConfig:
        """A copy with some gates changed (names may be aliases)."""
        return GateConfig(**{**self.to_dict(), **{_gate(k).name: v for k, v in values.items()}})

    def active(self) -> list[tuple[Gate, float]]:
        return [(GATES[name], value) for name, value in self.to_dict().items() if value is not None]


def parse_gate_args(items: Sequence[str] | None, base: GateConfig | None = None) -> GateConfig:
    """The CLI's repeatable `--gate NAME=VALUE` applied over `base` (default: the default gates).
    VALUE is a share (0.05 = 5 points) or `off`."""
    values: dict[str, Any] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep:
            raise ConfigError(f"--gate {item!r} must look like NAME=VALUE (e.g. max_slice_regression=0.05); "
                              f"allowed gates: {_allowed()}")
        gate = _gate(name)
        values[gate.name] = _check_value(gate, value)
    return (base or GateConfig()).with_values(values)


@dataclass(frozen=True)
class GateReport:
    """Every active gate's verdict; ship only when all pass."""

    results: list[GateResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def recommendation(self) -> str:
        return "ship" if self.passed else "no-ship"

    @property
    def reasons(self) -> list[str]:
        """The failing gates' explanations (empty when shipping)."""
        return [f"{r.name}: {r.explanation}" for r in self.results if not r.passed]

    @property
    def exit_code(self) -> int:
        """0 ship, 1 no-ship: what `python -m evalcore report --gate ...` returns for CI."""
        return 0 if self.passed else 1

    def summary(self) -> str:
        """One sentence: how many gates pass or which fail."""
        if not self.results:
            return "No gate is configured, so nothing blocks the candidate."
        if self.passed:
            return f"All {len(self.results)} gate(s) pass."
        failed = [r.name for r in self.results if not r.passed]
        return f"{len(failed)} of {len(self.results)} gate(s) fail: {', '.join(failed)}."

    def headline(self) -> str:
        """`no-ship: 2 of 2 gate(s) fail: ...`."""
        return f"{self.recommendation}: {self.summary()}"

    def lines(self) -> list[str]:
        """Headline then one `PASS`/`FAIL` line per gate, for the CLI and the app."""
        return [self.headline(), *(r.line for r in self.results)]

    def to_dict(self) -> dict[str, Any]:
        return {"recommendation": self.recommendation, "passed": self.passed,
                "gates": [r.to_dict() for r in self.results]}


def evaluate_gates(analysis: Analysis, config: GateConfig | None = None,
                   stress: StressResult | None = None) -> GateReport:
    """Check every active gate of `config` (default gates when None) against the analysis."""
    config = config or GateConfig()
    return GateReport([gate.check(analysis, value, stress) for gate, value in config.active()])


__all__ = ["GATES", "Gate", "GateConfig", "GateReport", "GateResult", "evaluate_gates", "parse_gate_args"]
