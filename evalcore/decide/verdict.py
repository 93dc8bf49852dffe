"""The verdict: one function, `decide(analysis, config, stress=None)`, that the CLI, the Compare page, the
Markdown / HTML report and the W&B push all call, so a comparison has one verdict everywhere.

A verdict is **ship** (exit 0), **no-ship** (1) or **need more data** (3), led by one sentence that says
the next step (collect about N rows; mark, drop or merge a tiny slice; look at slice S), then plain
reasons with their numbers, then notes (slices left out, model-defined slices, clusters).

Slices have roles (`evalcore.analyze.slices`; the slice gate that reads them is `evalcore.decide.gates.slice_gate`):

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
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from evalcore.analyze.slices import GUARDRAIL, WATCHED
from evalcore.core.units import strict_json
from evalcore.decide.gates import (
    ALPHA,
    EXIT_CODES,
    FAIL,
    MAX_NAMED,
    MODEL_DEFINED,
    NEED_MORE_DATA,
    NO_SHIP,
    PASS,
    SHIP,
    TOO_SMALL,
    Check,
    GateConfig,
    GateResult,
    Plan,
    pts,
    run_gates,
)

if TYPE_CHECKING:
    from evalcore.probe.stress import StressResult
    from evalcore.stats.results import Analysis


__all__ = ["Plan", "Verdict", "decide", "evaluate_gates"]


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
        return {
            c.name: c.mde
            for c in self.slice_checks(metric)
            if c.status not in (TOO_SMALL, MODEL_DEFINED) and np.isfinite(c.mde)
        }

    def counts(self, metric: str | None = None) -> dict[str, int]:
        """The counts a page shows about slices, from this one result."""
        checks = self.slice_checks(metric)
        guards = [c for c in checks if c.role == GUARDRAIL]
        return {
            "slices": len(checks),
            "judged": sum(c.role == WATCHED and c.status != TOO_SMALL for c in checks),
            "harm": sum(c.role == WATCHED and c.status in (FAIL, NEED_MORE_DATA) for c in checks),
            "too_small": sum(c.status == TOO_SMALL for c in checks),
            "model_defined": sum(c.status == MODEL_DEFINED for c in checks),
            "guardrails": len(guards),
            "verified": sum(c.status == PASS for c in guards),
        }

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
                out[c.name] = {PASS: "guardrail: verified", FAIL: "guardrail: FAIL"}.get(
                    c.status, "guardrail: need more data"
                )
            else:
                out[c.name] = {FAIL: "watched: HARM (fail)", NEED_MORE_DATA: "watched: harm, need more data"}.get(
                    c.status,
                    "watched: no evidence of harm"
                    if not c.harm_q < ALPHA or c.delta >= 0
                    else "watched: loss within margin",
                )
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
            tail = (
                f"; {len(small)} slice{'s' if many else ''} too small to judge ({_names(small)}): merge or drop "
                f"{'them' if many else 'it'}, or mark {'one' if many else 'it'} a guardrail and collect rows, if "
                f"{'they matter' if many else 'it matters'}"
                if small
                else ""
            )
            verified = f" and {guards} guardrail{'s are' if guards != 1 else ' is'} verified" if guards else ""
            return _sentence(f"Every gate passes{verified}{tail}")
        wanted = FAIL if decision == NO_SHIP else None
        blocking = [r for r in self.results if (r.status == wanted if wanted else r.status != PASS)]
        slice_first = sorted(
            blocking,
            key=lambda r: (not r.name.startswith("slice_") or not _harm_first(r), not r.name.startswith("slice_")),
        )
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
        from evalcore.decide.gates import margin_text

        out = [self.headline()]
        for r in self.results:
            out.append(f"  {r.status.upper():<15} {r.name} ({margin_text(r.name, r.margin)}): {r.reason}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        return strict_json(
            {
                "decision": self.decision,
                "recommendation": self.decision,
                "reason": self.next_step,
                "next_step": self.next_step,
                "exit_code": self.exit_code,
                "reasons": self.reasons,
                "notes": list(self.notes),
                "counts": self.counts(),
                "cluster_col": self.cluster_col,
                "n_clusters": self.n_clusters,
                "design_effect": self.design_effect,
                "gates": [r.to_dict() for r in self.results],
            }
        )


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
    mix explains at least half of its departure from the overall change (`evalcore.decide.label_mix`)."""
    named = {c.name for r in results for c in r.checks if c.role and c.status in (FAIL, NEED_MORE_DATA)}
    if not named or not analysis.kind.label_mix:
        return {}
    from evalcore.decide.label_mix import analysis_label_mix

    try:
        # in the slice set's order, never a set's (whose order changes with each process's hash seed)
        mix = analysis_label_mix(analysis, {s: m for s, m in analysis.results.masks.items() if s in named})
    except Exception:  # labels the mix cannot read: no clause rather than a wrong one
        return {}
    out = {}
    for row in mix.tests[mix.tests["label_driven"]].itertuples():
        departure = row.delta - row.overall_delta
        share = row.mix_effect / departure
        how = "all" if share >= 1 else f"{share:.0%}"
        out[row.slice] = (
            f"its gold-label mix alone, at each label's overall change, moves it by {pts(row.mix_effect)} "
            f"points: {how} of its {pts(departure)}-point departure from the overall change, so read it "
            "as partly a label effect"
        )
    return out


def decide(analysis: Analysis, config: GateConfig | None = None, stress: StressResult | None = None) -> Verdict:
    """The verdict of one comparison (the only place it is made): every active gate of `config` (the task's
    defaults when None), slices by role, empty slices left out with a note."""
    config, results = run_gates(analysis, config, stress)
    # default slices no row matches were left out before the analysis: the same note on every page
    notes = [
        w
        for w in analysis.results.warnings
        if w.startswith(("default slices left out", "question-answering slices left out"))
    ]
    ch = analysis.results.changes
    empty = [
        s
        for s in dict.fromkeys(ch.loc[(ch["n"] == 0) & (ch["slice"] != "all"), "slice"])
        if (analysis.results.roles or {}).get(s) != GUARDRAIL
    ]
    if empty:
        notes.append(f"left out of the verdict because they select no rows of this data: {', '.join(empty)}")
    model = [s for s, role in (analysis.results.roles or {}).items() if role == MODEL_DEFINED]
    if model:
        notes.append(
            f"model-defined slices (their rule reads a model's output), shown but never gating: {', '.join(model)}"
        )
    label_notes = _label_notes(analysis, results)
    results = [_with_label_note(r, label_notes) for r in results]
    all_rows = ch[ch["slice"] == "all"]
    col = ch.attrs.get("cluster_col")
    deff, g = math.nan, None
    if col and len(all_rows):
        head = all_rows[all_rows["metric"] == analysis.kind.headline]
        row = head.iloc[0] if len(head) else all_rows.iloc[0]
        deff, g = float(row["design_effect"]), int(row["clusters"])
        notes.append(
            f"rows come in {g:,} clusters of {col}: every interval, test and MDE is cluster-robust; the "
            f"design effect of the overall change is {deff:.1f} (its variance is {deff:.1f}x what independent "
            "rows would give)"
        )
    return Verdict(results, notes, label_notes, col, deff, g, tuple(empty))


def _with_label_note(r: GateResult, notes: dict[str, str]) -> GateResult:
    if not notes or not r.checks:
        return r
    checks = tuple(
        replace(c, sentence=f"{c.sentence.rstrip('.')}; {notes[c.name]}.") if c.name in notes else c for c in r.checks
    )
    reason = r.reason
    for name, text in notes.items():
        for c in r.checks:
            if c.name == name and c.sentence and c.sentence in reason:
                reason = reason.replace(c.sentence, f"{c.sentence.rstrip('.')}; {text}.")
            elif c.name == name and c.status in (FAIL, NEED_MORE_DATA):
                reason += f" {name}: {text}."
    return replace(r, checks=checks, reason=reason)


def evaluate_gates(analysis: Analysis, config: GateConfig | None = None, stress: StressResult | None = None) -> Verdict:
    """The verdict (`decide`): every active gate of `config` (the task's defaults when None)."""
    return decide(analysis, config, stress)
