"""The verdict: one function, `decide(analysis, config, stress=None)`, that the CLI, the Compare page, the
Markdown / HTML report and the W&B push all call, so a comparison has one verdict everywhere.

A verdict is **ship** (exit 0), **no-ship** (1) or **need more data** (3), led by one sentence that says
the next step (collect about N rows; mark, drop or merge a tiny slice; look at slice S), then plain
reasons with their numbers, then notes (slices left out, model-defined slices, clusters).

Slices have roles (`evalcore.slices`):

- **watched** (every slice by default): "too small to judge" below the workspace's `min_n` rows (or, on
  clustered data, fewer than `MIN_JUDGED_CLUSTERS` clusters): shown with its numbers, never tested, never
  blocks. Otherwise a one-sided test of harm (the change is below zero: exact McNemar for a 0/1 score,
  paired t for a continuous one, cluster-robust t when rows come in clusters), Benjamini-Hochberg over the
  judged watched slices. Significant harm whose estimate lies beyond -margin: no-ship, look at the slice;
  significant harm whose 95% interval spans -margin: need more data, naming the slice; otherwise "no
  evidence of harm (could detect X points)", X being the MDE of that one-sided test at its worst-case
  adjusted level alpha/m (m judged watched slices) with 80% power. A watched slice never blocks for lack
  of power.
- **guardrail** (the user marked it): verified only when a loss of its margin is ruled out: the
  (1 - 0.05/k) interval's lower bound above -margin, Bonferroni over the k guardrails; fails when clearly
  worse (that interval below -margin, or significant harm at 0.05/k with the estimate beyond -margin);
  otherwise need more data, with the rows that would verify it. Its MDE is the smallest margin it could
  verify with 80% power at no true change.
- **model-defined** (the rule reads a model's output): computed and shown, outside every multiplicity
  family, never gates.

Slices that select no row are left out of the verdict with one note, the same on every page.

    >>> plan_text = Plan(8400, 11000, "rows", "if the change stays at +0.4 points").text()
    >>> plan_text.startswith("about 8,400-11,000 more rows (if the change stays at +0.4 points")
    True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from evalcore.gates import (EXIT_CODES, FAIL, MODEL_DEFINED, NEED_MORE_DATA, NO_SHIP, PASS, SHIP,
                            TOO_SMALL, Check, Gate, GateConfig, GateResult, Plan, interval_text, plan_rows, pts,
                            run_gates)
from evalcore.slices import GUARDRAIL, WATCHED
from evalcore.units import strict_json

if TYPE_CHECKING:
    from evalcore.pipeline import Analysis
    from evalcore.stress import StressResult

ALPHA = 0.05
POWER = 0.8
MIN_JUDGED_CLUSTERS = 5  # a cluster-robust variance from fewer clusters is too unstable to test on
GUARDRAIL_LEVEL = 0.05  # family-wise, Bonferroni over the guardrails
MAX_NAMED = 4

__all__ = ["MIN_JUDGED_CLUSTERS", "Plan", "Verdict", "decide", "slice_gate"]


# --- one slice --------------------------------------------------------------------------------------


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
    from evalcore.paired import minimum_detectable_effect

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
    from evalcore.metrics import paired_difference_interval

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


def _check(row: Any, role: str, status: str, sentence: str, mde: float = math.nan, q: float = math.nan,
           plan: Plan | None = None) -> Check:
    return Check(str(row.slice), status, int(row.n), float(row.delta), float(row.delta_lo), float(row.delta_hi),
                 float(mde), float(row.vs_rest), float(row.vs_rest_p_adjusted),
                 float(plan.low) if plan else math.nan, role, float(row.harm_p), float(q), float(row.clusters),
                 float(row.design_effect), sentence, plan)


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
            plan = plan_rows(int(r.n), float(r.delta), float(r.se), margin, _z(0.975, float(r.df)),
                             f"rows of slice {r.slice}", f"if its change stays at {pts(r.delta)} points")
            out.append(_check(r, WATCHED, NEED_MORE_DATA,
                              f"{loss}: significant harm, but the interval spans -{m_pts}, so the data cannot tell "
                              "whether the loss exceeds the margin" + (f"; {plan.text()} would settle it." if plan
                                                                       else "."), mde, qi, plan))
        elif harm:
            out.append(_check(r, WATCHED, PASS, f"{loss}: significant, but within the {m_pts}-point margin (its "
                              "interval rules out a larger loss).", mde, qi))
        else:
            out.append(_check(r, WATCHED, PASS, f"{r.slice}: no evidence of harm ({_numbers(r)}{_deff(r)}; could "
                              f"detect a loss of {pts(mde, signed=False)} points with 80% power at the one-sided "
                              f"level {level:.2g}).", mde, qi))
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
            out.append(_check(r, GUARDRAIL, NEED_MORE_DATA, f"guardrail {r.slice} selects no rows of this data, so it "
                              "cannot be verified: fix its rule, or unmark it."))
            continue
        if not np.isfinite(r.se) or int(r.n) < 2:
            out.append(_check(r, GUARDRAIL, NEED_MORE_DATA, f"guardrail {r.slice} has {int(r.n)} row(s): too few to "
                              "verify; collect rows of it, merge it into a larger slice, or unmark it."))
            continue
        lo, hi = guardrail_interval(r, kind, conf)
        mde = guardrail_mde(r, kind, k)
        head = (f"guardrail {r.slice} changes by {pts(r.delta)} points ({100 * conf:.4g}% interval {pts(lo)} to "
                f"{pts(hi)}, Bonferroni over {k} guardrail{'s' if k > 1 else ''}; n={int(r.n):,}{_deff(r)}; "
                f"it could verify a margin of {pts(mde, signed=False)} points)")
        significant = float(r.harm_p) < GUARDRAIL_LEVEL / k
        if lo > -margin:
            out.append(_check(r, GUARDRAIL, PASS, f"{head}: verified, a loss of {m_pts} points is ruled out.", mde))
        elif hi < -margin or (significant and r.delta < -margin):
            out.append(_check(r, GUARDRAIL, FAIL, f"{head}: clearly worse, a loss beyond the {m_pts}-point margin.",
                              mde))
        else:
            plan = plan_rows(int(r.n), float(r.delta), float(r.se), margin, _z(1 - GUARDRAIL_LEVEL / (2 * k),
                                                                               float(r.df)),
                             f"rows of guardrail {r.slice}", f"if its change stays at {pts(r.delta)} points")
            if r.delta <= -margin:
                plan = None
            tail = (f"{plan.text()} would verify it" if plan else
                    f"at its estimate ({pts(r.delta)} points) no number of rows would verify it")
            out.append(_check(r, GUARDRAIL, NEED_MORE_DATA, f"{head}: not verified, the interval reaches below "
                              f"-{m_pts}; {tail}.", mde, plan=plan))
    return out


def slice_gate(gate: Gate, analysis: Analysis, margin: float) -> GateResult:
    """The slice gate of one per-example metric, by role (see the module docstring)."""
    from evalcore.comparisons import compared_metric

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
    small = watched & ((rows["n"] < min_n) | (clusters.notna() & (clusters < MIN_JUDGED_CLUSTERS))
                       | ~np.isfinite(rows["se"].astype(float)))
    judged = watched & ~small
    checks: list[Check] = []
    k = int(guard.sum())
    checks += _guardrails(rows[guard], metric.kind, margin, k) if k else []
    checks += _watched(rows[judged], metric.kind, margin, alpha)
    for _, raw in rows[small].iterrows():
        r = _Row(raw)
        why = (f"fewer than {MIN_JUDGED_CLUSTERS} clusters" if np.isfinite(r.clusters) and r.clusters <
               MIN_JUDGED_CLUSTERS and int(r.n) >= min_n else f"fewer than {min_n} rows")
        checks.append(_check(r, WATCHED, TOO_SMALL, f"{r.slice} is too small to judge ({why}; {_numbers(r)}): shown, "
                             "never tested, never blocks."))
    from evalcore.slices import SliceSet  # noqa: F401  (roles come from the slice set)

    for _, raw in rows[model].iterrows():
        r = _Row(raw)
        checks.append(_check(r, MODEL_DEFINED, MODEL_DEFINED, f"{r.slice} is defined by a model's output ({_numbers(r)}):"
                             " shown, never gates (a slice chosen by a model's own output is biased by construction)."))
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
        shown = "; ".join(items[:MAX_NAMED]) + (f"; and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED
                                                 else "")
        parts.append(f"{len(harmed)} watched slice{'s' if len(harmed) != 1 else ''} "
                     f"{'lose' if len(harmed) != 1 else 'loses'} beyond the {pts(margin, signed=False)}-point margin "
                     f"with significant harm: {shown}.")
    parts += [c.sentence for c in failed + need if c not in harmed][:MAX_NAMED]
    mdes = [c.mde for c in checks if c.role == WATCHED and c.status == PASS and np.isfinite(c.mde)]
    summary = [f"{m} watched slice{'s' if m != 1 else ''} judged on {title} (one-sided harm tests, Benjamini-"
               f"Hochberg at {alpha:g})" + (f", each able to detect a loss of {pts(min(mdes), signed=False)} to "
                                            f"{pts(max(mdes), signed=False)} points" if mdes else "")]
    if guards:
        verified = sum(c.status == PASS for c in guards)
        summary.append(f"{verified} of {len(guards)} guardrail{'s' if len(guards) != 1 else ''} verified")
    if small:
        summary.append(f"{len(small)} too small to judge ({', '.join(c.name for c in small[:MAX_NAMED])}"
                       f"{', ...' if len(small) > MAX_NAMED else ''})")
    if model:
        summary.append(f"{len(model)} model-defined, never gating ({', '.join(c.name for c in model)})")
    reason = " ".join(parts + ["; ".join(summary) + "."])
    status = FAIL if failed else NEED_MORE_DATA if need else PASS
    step, subject = "", ""
    if failed:
        worst = min(failed, key=lambda c: c.delta)
        subject = worst.name
        step = (f"look at {'guardrail' if worst.role == GUARDRAIL else 'slice'} {worst.name}: it loses "
                f"{pts(-worst.delta, signed=False)} points ({interval_text(worst.lo, worst.hi)}, n={worst.n:,})")
    elif need:
        harmed = [c for c in need if c.role == WATCHED]
        c = harmed[0] if harmed else need[0]
        subject = c.name
        if c.role == WATCHED:
            step = (f"look at slice {c.name}: it loses {pts(-c.delta, signed=False)} points, significantly, and the data "
                    "cannot tell whether beyond the margin" + (f"; {c.plan.text()} would settle it" if c.plan else ""))
        elif c.plan is not None and c.n >= 30:
            step = f"collect {c.plan.text()}, or unmark guardrail {c.name} if it need not be verified"
        else:
            step = (f"merge tiny guardrail {c.name} into a larger slice, or unmark it"
                    + (f": verifying it would take {c.plan.text()}" if c.plan else ""))
    plan = next((c.plan for c in failed + need if c.plan), None)
    return GateResult(gate.name, gate.metric, margin, status, reason, checks=tuple(checks), plan=plan,
                      rows_needed=plan.low if plan else None, next_step=step, subject=subject)


# --- the verdict ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Every active gate's result and what they add up to: the decision, the next step (one sentence),
    reasons (plain sentences with their numbers) and notes. `lines()` is the CLI's text, `to_dict()`
    strict JSON; the Compare page, the report and the W&B run read the same object."""

    results: list[GateResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label_notes: dict[str, str] = field(default_factory=dict)
    cluster_col: str | None = None
    design_effect: float = math.nan
    n_clusters: int | None = None
    empty: tuple[str, ...] = ()  # slices that select no row: left out of the verdict

    @property
    def decision(self) -> str:
        statuses = {r.status for r in self.results}
        if FAIL in statuses:
            return NO_SHIP
        if not self.results or statuses - {PASS}:
            return NEED_MORE_DATA
        return SHIP

    recommendation = decision

    @property
    def passed(self) -> bool:
        return self.decision == SHIP

    @property
    def exit_code(self) -> int:
        """0 ship, 1 no-ship, 3 need more data: what `python -m evalcore report --verdict` returns."""
        return EXIT_CODES[self.decision]

    def slice_checks(self, metric: str | None = None) -> list[Check]:
        """The slice checks of one metric's slice gate (the first slice gate when None)."""
        for r in self.results:
            if r.name.startswith("slice_") and (metric is None or r.metric == metric):
                return list(r.checks)
        return []

    def slice_mde(self, metric: str | None = None) -> dict[str, float]:
        """slice -> the loss (points as a fraction) the test that decides the slice detects with 80% power: the
        one-sided harm test at its Benjamini-Hochberg level for a watched slice, the margin test for a guardrail.
        Slices the verdict does not judge (too small, model-defined, gate off) are absent: no test decides them,
        so no power is claimed for them."""
        return {c.name: c.mde for c in self.slice_checks(metric)
                if c.status not in (TOO_SMALL, MODEL_DEFINED) and np.isfinite(c.mde)}

    def counts(self, metric: str | None = None) -> dict[str, int]:
        """The counts a page shows about slices, from this one result."""
        checks = self.slice_checks(metric)
        guards = [c for c in checks if c.role == GUARDRAIL]
        return {"slices": len(checks), "judged": sum(c.role == WATCHED and c.status != TOO_SMALL for c in checks),
                "harm": sum(c.role == WATCHED and c.status in (FAIL, NEED_MORE_DATA) for c in checks),
                "too_small": sum(c.status == TOO_SMALL for c in checks),
                "model_defined": sum(c.status == MODEL_DEFINED for c in checks),
                "guardrails": len(guards), "verified": sum(c.status == PASS for c in guards)}

    def too_small(self, metric: str | None = None) -> list[str]:
        return [c.name for c in self.slice_checks(metric) if c.status == TOO_SMALL]

    def slice_status(self, metric: str | None = None) -> dict[str, str]:
        """slice -> a short label for tables: `watched: no evidence of harm`, `guardrail: verified`...; empty when
        the metric's slice gate is off."""
        gated = any(r.name.startswith("slice_") and (metric is None or r.metric == metric) for r in self.results)
        out = {name: "not in the verdict (no rows)" for name in self.empty} if gated else {}
        for c in self.slice_checks(metric):
            if c.status == MODEL_DEFINED:
                out[c.name] = "model-defined (never gates)"
            elif c.status == TOO_SMALL:
                out[c.name] = "too small to judge"
            elif c.role == GUARDRAIL:
                out[c.name] = {PASS: "guardrail: verified", FAIL: "guardrail: FAIL"}.get(c.status,
                                                                                          "guardrail: need more data")
            else:
                out[c.name] = {FAIL: "watched: HARM (fail)", NEED_MORE_DATA: "watched: harm, need more data"}.get(
                    c.status, "watched: no evidence of harm" if not c.harm_q < ALPHA or c.delta >= 0
                    else "watched: loss within margin")
        return out

    @property
    def next_step(self) -> str:
        """One sentence: what to do now."""
        if not self.results:
            return "No gate is turned on, so nothing supports shipping: turn on at least one gate."
        decision = self.decision
        if decision == SHIP:
            small = self.too_small()
            guards = self.counts()["guardrails"]
            many = len(small) != 1
            tail = (f"; {len(small)} slice{'s' if many else ''} too small to judge ({_names(small)}): merge or drop "
                    f"{'them' if many else 'it'}, or mark {'one' if many else 'it'} a guardrail and collect rows, if "
                    f"{'they matter' if many else 'it matters'}" if small else "")
            verified = f" and {guards} guardrail{'s are' if guards != 1 else ' is'} verified" if guards else ""
            return _sentence(f"Every gate passes{verified}{tail}")
        wanted = FAIL if decision == NO_SHIP else None
        blocking = [r for r in self.results if (r.status == wanted if wanted else r.status != PASS)]
        slice_first = sorted(blocking, key=lambda r: (not r.name.startswith("slice_") or not _harm_first(r),
                                                      not r.name.startswith("slice_")))
        first = slice_first[0] if decision == NO_SHIP else _need_first(blocking)
        step = first.next_step or f"{first.name}: {first.reason}"
        note = self.label_notes.get(first.subject)
        return _sentence(step[0].upper() + step[1:] + (f" ({note})" if note else ""))

    def reason(self) -> str:
        """The verdict's one-sentence lead: the next step."""
        return self.next_step

    @property
    def reasons(self) -> list[str]:
        """One plain sentence per gate that did not pass, with its numbers."""
        return [f"{r.name}: {r.reason}" for r in self.results if r.status != PASS]

    def summary(self) -> str:
        return self.reason()

    def headline(self) -> str:
        """`need more data: Collect about 8,400-11,000 more rows (...)`."""
        return f"{self.decision}: {self.next_step}"

    def lines(self) -> list[str]:
        """The headline, then one line per gate, then the notes: the CLI's text."""
        from evalcore.gates import margin_text

        out = [self.headline()]
        for r in self.results:
            out.append(f"  {r.status.upper():<15} {r.name} ({margin_text(r.name, r.margin)}): {r.reason}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        return strict_json({"decision": self.decision, "recommendation": self.decision, "reason": self.next_step,
                            "next_step": self.next_step, "exit_code": self.exit_code, "reasons": self.reasons,
                            "notes": list(self.notes), "counts": self.counts(), "cluster_col": self.cluster_col,
                            "n_clusters": self.n_clusters, "design_effect": self.design_effect,
                            "gates": [r.to_dict() for r in self.results]})


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:MAX_NAMED]) + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _harm_first(r: GateResult) -> bool:
    return any(c.status in (FAIL, NEED_MORE_DATA) for c in r.checks)


def _need_first(blocking: list[GateResult]) -> GateResult:
    """Which gate's next step leads a need-more-data verdict: evidence of harm on a watched slice first, then
    an overall gate's planning figure, then guardrails, then the rest."""
    def rank(r: GateResult) -> int:
        if r.name.startswith("slice_") and any(c.role == WATCHED and c.status == NEED_MORE_DATA for c in r.checks):
            return 0
        if r.plan is not None and not r.name.startswith("slice_"):
            return 1
        if r.name.startswith("slice_"):
            return 2
        return 3
    return sorted(blocking, key=rank)[0]


def _label_notes(analysis: Analysis, results: list[GateResult]) -> dict[str, str]:
    """For each slice a verdict names (fail / need more data) on classification data: a clause when its gold-label
    mix explains at least half of its departure from the overall change (`evalcore.label_mix`)."""
    named = {c.name for r in results for c in r.checks if c.role and c.status in (FAIL, NEED_MORE_DATA)}
    if not named or analysis.task != "classification":
        return {}
    from evalcore.label_mix import label_mix

    r = analysis.results
    try:
        # in the slice set's order, never a set's (whose order changes with each process's hash seed)
        mix = label_mix(analysis.df_eval, {s: m for s, m in r.masks.items() if s in named}, analysis.data.labels)
    except Exception:  # labels the mix cannot read: no clause rather than a wrong one
        return {}
    out = {}
    for row in mix.tests[mix.tests["label_driven"]].itertuples():
        departure = row.delta - row.overall_delta
        share = row.mix_effect / departure
        how = "all" if share >= 1 else f"{share:.0%}"
        out[row.slice] = (f"its gold-label mix alone, at each label's overall change, moves it by {pts(row.mix_effect)} "
                          f"points: {how} of its {pts(departure)}-point departure from the overall change, so read it "
                          "as partly a label effect")
    return out


def decide(analysis: Analysis, config: GateConfig | None = None, stress: StressResult | None = None) -> Verdict:
    """The verdict of one comparison (the only place it is made): every active gate of `config` (the task's
    defaults when None), slices by role, empty slices left out with a note."""
    config, results = run_gates(analysis, config, stress)
    # default slices no row matches were left out before the analysis: the same note on every page
    notes = [w for w in analysis.results.warnings
             if w.startswith(("default slices left out", "question-answering slices left out"))]
    ch = analysis.results.changes
    empty = [s for s in dict.fromkeys(ch.loc[(ch["n"] == 0) & (ch["slice"] != "all"), "slice"])
             if (analysis.results.roles or {}).get(s) != GUARDRAIL]
    if empty:
        notes.append(f"left out of the verdict because they select no rows of this data: {', '.join(empty)}")
    model = [s for s, role in (analysis.results.roles or {}).items() if role == MODEL_DEFINED]
    if model:
        notes.append(f"model-defined slices (their rule reads a model's output), shown but never gating: "
                     f"{', '.join(model)}")
    label_notes = _label_notes(analysis, results)
    results = [_with_label_note(r, label_notes) for r in results]
    all_rows = ch[ch["slice"] == "all"]
    col = ch.attrs.get("cluster_col")
    deff, g = math.nan, None
    if col and len(all_rows):
        from evalcore.comparisons import HEADLINE

        head = all_rows[all_rows["metric"] == HEADLINE.get(analysis.task, "accuracy")]
        row = head.iloc[0] if len(head) else all_rows.iloc[0]
        deff, g = float(row["design_effect"]), int(row["clusters"])
        notes.append(f"rows come in {g:,} clusters of {col}: every interval, test and MDE is cluster-robust; the "
                     f"design effect of the overall change is {deff:.1f} (its variance is {deff:.1f}x what independent "
                     "rows would give)")
    return Verdict(results, notes, label_notes, col, deff, g, tuple(empty))


def _with_label_note(r: GateResult, notes: dict[str, str]) -> GateResult:
    if not notes or not r.checks:
        return r
    checks = tuple(replace(c, sentence=f"{c.sentence.rstrip('.')}; {notes[c.name]}.") if c.name in notes else c
                   for c in r.checks)
    reason = r.reason
    for name, text in notes.items():
        for c in r.checks:
            if c.name == name and c.sentence and c.sentence in reason:
                reason = reason.replace(c.sentence, f"{c.sentence.rstrip('.')}; {text}.")
            elif c.name == name and c.status in (FAIL, NEED_MORE_DATA):
                reason += f" {name}: {text}."
    return replace(r, checks=checks, reason=reason)
