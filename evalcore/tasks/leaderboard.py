"""Many candidates against one baseline on the same data: a leaderboard over the one pipeline and verdict.

Each candidate is compared with the baseline exactly as `report` compares two models (`run_analysis`, then
`evalcore.decide.verdict.decide`: the same figures, the same two-model verdict). What k candidates add is
multiplicity: with 5 candidates and 10 slices, 50 changes are read at once, and by chance alone some look
significant. The leaderboard controls it in two families, each with the error rate that fits its claim:

- **overall change** of the headline metric (accuracy; F1 on generation), one per candidate: Holm across the
  k candidates (family-wise error rate <= alpha). "Candidate X changes the overall score" is the claim a team
  acts on, so no candidate may be flagged by chance; Holm is Bonferroni's uniformly more powerful step-down.
- **slice changes** (every judged slice of every candidate: at least `min_n` rows, not model-defined):
  Benjamini-Hochberg across candidates x slices (false discovery rate <= alpha). Slice cells are screening:
  they point at where to look, a few false leads are tolerable and power matters; it is the rule a single
  comparison uses across its slices, now over all k x m cells.

The **leaderboard verdict** of a candidate is its two-model verdict, kept only where it survives the k-way
comparison: *ship* needs the headline gate's non-inferiority at the Bonferroni level across candidates (the
(1 - 0.05/k) interval of the overall change above -margin, as a guardrail among k must hold on its own);
*no-ship* from harm on watched slices needs that harm to survive Benjamini-Hochberg over every candidate's
judged watched slices (the one-sided harm tests the verdict uses). Otherwise the candidate needs more data,
and the reason says which correction it did not survive. A gate or guardrail that fails outright (its whole
interval beyond the margin) stays a no-ship.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.slices import WATCHED
from evalcore.core.errors import ConfigError
from evalcore.decide.gates import FAIL, MODEL_DEFINED, NEED_MORE_DATA, NO_SHIP, SHIP, TOO_SMALL, GateConfig
from evalcore.stats.comparisons import HEADLINE, compared_metric

ALPHA = 0.05
VERDICT_COLORS = {SHIP: "#2f9e44", NO_SHIP: "#e03131", NEED_MORE_DATA: "#f08c00"}  # charts colour by verdict

__all__ = ["Leaderboard", "adjust", "compare_many", "leaderboard", "ship_holds"]


def adjust(table: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Add `family` (`overall`, `slice` or `not tested`), `p_adj` and `significant` to a table of changes with
    columns candidate, slice, n, p, judged: Holm across candidates for the `all` rows, Benjamini-Hochberg
    across candidates x judged slices for the rest. Two-sided p-values of the one statistics layer."""
    from scipy.stats import false_discovery_control
    from statsmodels.stats.multitest import multipletests

    out = table.copy()
    out["family"] = np.where(out["slice"] == "all", "overall", np.where(out["judged"], "slice", "not tested"))
    out["p_adj"] = np.nan
    p = out["p"].to_numpy(dtype=float)
    for fam in ("overall", "slice"):
        idx = np.flatnonzero((out["family"] == fam).to_numpy() & np.isfinite(p))
        if not len(idx):
            continue
        if fam == "overall":
            adj = multipletests(np.clip(p[idx], 0, 1), alpha=alpha, method="holm")[1]
        else:
            adj = false_discovery_control(np.clip(p[idx], 0, 1), method="bh")
        out.loc[out.index[idx], "p_adj"] = adj
    out["significant"] = out["p_adj"] < alpha
    return out


def ship_holds(row: Any, kind: str, k: int, margin: float) -> tuple[bool, float, float]:
    """Whether the overall change's (1 - 0.05/k) interval lies above -margin (Bonferroni over k candidates),
    with that interval: the interval of a guardrail among k (`evalcore.decide.gates.guardrail_interval`)."""
    from evalcore.decide.gates import guardrail_interval

    lo, hi = guardrail_interval(row, kind, 1 - ALPHA / max(k, 1))
    return bool(lo > -margin), lo, hi


@dataclass
class Leaderboard:
    """k candidates against one baseline. `cells`: one row per (candidate, slice) of the headline metric with
    the paired change, its 95% interval, p, the adjusted p and its family; `summary`: one row per candidate
    (overall change, Holm p, the two-model verdict, the leaderboard verdict and why)."""

    baseline: str
    metric: str
    analyses: list[Any]
    verdicts: list[Any]
    cells: pd.DataFrame
    summary: pd.DataFrame
    alpha: float = ALPHA
    notes: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.analyses)

    def method(self) -> str:
        m = int((self.cells["family"] == "slice").sum())
        return (
            f"{self.k} candidates against baseline {self.baseline} on {self.metric}; multiplicity across "
            f"candidates: the overall change Holm-adjusted across the {self.k} candidates (family-wise error "
            f"<= {self.alpha:g}); {m} judged slice cells Benjamini-Hochberg-adjusted across candidates x slices "
            f"(false discovery rate <= {self.alpha:g}); ship needs the headline gate's non-inferiority at the "
            f"Bonferroni level 1 - {self.alpha:g}/{self.k}; harm must survive Benjamini-Hochberg across every "
            "candidate's watched slices. Intervals shown are each cell's own 95% interval."
        )

    @property
    def exit_code(self) -> int:
        """0 when some candidate ships on the leaderboard, else 3 when some needs more data, else 1."""
        verdicts = set(self.summary["leaderboard verdict"])
        return 0 if SHIP in verdicts else 3 if NEED_MORE_DATA in verdicts else 1

    def matrix(self) -> pd.DataFrame:
        """Slices x candidates, each cell `+1.2 pts [-0.3, +2.7]` with `*` when significant after its correction
        (`·` when not tested: too small to judge or model-defined): readable at 10 candidates."""
        from evalcore.core import units

        c = self.cells.copy()
        mark = np.where(c["significant"], " *", np.where(c["family"] == "not tested", " ·", ""))
        c["cell"] = [
            units.pts_ci(d, lo, hi) + m for d, lo, hi, m in zip(c["delta"], c["delta_lo"], c["delta_hi"], mark)
        ]
        slices = list(dict.fromkeys(c["slice"]))
        wide = c.pivot(index="slice", columns="candidate", values="cell").reindex(slices)
        n = c.drop_duplicates("slice").set_index("slice")["n"].reindex(slices)
        wide.insert(0, "n", n.map(lambda x: f"{int(x):,}"))
        return wide[["n", *[a.candidate.model for a in self.analyses]]]

    def lines(self) -> list[str]:
        from evalcore.core import units

        s = self.summary
        table = pd.DataFrame(
            {
                "candidate": s["candidate"],
                "overall change [95%]": [
                    units.pts_ci(d, lo, hi) for d, lo, hi in zip(s["delta"], s["delta_lo"], s["delta_hi"])
                ],
                "Holm p": s["p_holm"].map(units.p_value),
                "slices harmed (BH)": s["slices_harmed"],
                "own verdict": s["own verdict"],
                "leaderboard verdict": s["leaderboard verdict"],
            }
        )
        out = [self.method(), "", table.to_string(index=False), ""]
        out += [f"{c}: {why}" for c, why in zip(s["candidate"], s["why"])]
        out += [
            "",
            f"per slice ({self.metric} change = candidate - baseline, 95% interval; * significant after "
            "its correction, · not tested):",
            self.matrix().to_string(),
        ]
        return out + [f"note: {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        from evalcore.core.units import strict_json

        return strict_json(
            {
                "baseline": self.baseline,
                "metric": self.metric,
                "alpha": self.alpha,
                "method": self.method(),
                "summary": self.summary.to_dict(orient="records"),
                "cells": self.cells.to_dict(orient="records"),
                "verdicts": [v.to_dict() for v in self.verdicts],
            }
        )


def _cells(analysis: Any, verdict: Any, metric: str) -> pd.DataFrame:
    ch = analysis.results.changes
    rows = ch[ch["metric"] == metric]
    status = verdict.slice_status(metric)
    judged = [
        s != "all"
        and n > 0
        and status.get(s, "") not in ("", "too small to judge", "model-defined (never gates)")
        and (analysis.results.roles or {}).get(s) != MODEL_DEFINED
        for s, n in zip(rows["slice"], rows["n"])
    ]
    if not status:  # the metric's slice gate is off: judge by size like the verdict would
        min_n = analysis.results.regression_metrics.attrs.get("min_n", 30)
        judged = [
            s != "all" and n >= min_n and (analysis.results.roles or {}).get(s) != MODEL_DEFINED
            for s, n in zip(rows["slice"], rows["n"])
        ]
    return pd.DataFrame(
        {
            "candidate": analysis.candidate.model,
            "slice": rows["slice"].to_numpy(),
            "n": rows["n"].to_numpy(),
            "baseline": rows["baseline"].to_numpy(),
            "candidate_value": rows["candidate"].to_numpy(),
            "delta": rows["delta"].to_numpy(),
            "delta_lo": rows["delta_lo"].to_numpy(),
            "delta_hi": rows["delta_hi"].to_numpy(),
            "p": rows["p"].to_numpy(dtype=float),
            "harm_p": rows["harm_p"].to_numpy(dtype=float),
            "judged": judged,
            "status": [status.get(s, "overall gates" if s == "all" else "-") for s in rows["slice"]],
        }
    )


def leaderboard(
    analyses: Sequence[Any], config: GateConfig | None = None, alpha: float = ALPHA, stress: Any = None
) -> Leaderboard:
    """The leaderboard of analyses that share the data and the baseline (one per candidate)."""
    from evalcore.decide.verdict import decide

    if not analyses:
        raise ConfigError("a leaderboard needs at least one candidate")
    base = {a.baseline.fingerprint or a.baseline.spec for a in analyses}
    names = [a.candidate.model for a in analyses]
    if len(base) > 1:
        raise ConfigError("every candidate must be compared with the same baseline")
    if len(set(names)) != len(names):
        raise ConfigError(f"candidate names repeat ({', '.join(names)}): give each candidate its own name")
    task = analyses[0].task
    config = config or GateConfig(task=task)
    metric = HEADLINE.get(task, "accuracy")
    kind = compared_metric(metric).kind
    k = len(analyses)
    verdicts = [decide(a, config, stress=stress) for a in analyses]
    cells = adjust(pd.concat([_cells(a, v, metric) for a, v in zip(analyses, verdicts)], ignore_index=True), alpha)
    # harm across candidates: BH over every candidate's judged watched slices (the verdict's one-sided tests)
    harm = {}
    checks = [
        (a.candidate.model, c)
        for a, v in zip(analyses, verdicts)
        for c in v.slice_checks(metric)
        if c.role == WATCHED and c.status not in (TOO_SMALL, MODEL_DEFINED) and np.isfinite(c.harm_p)
    ]
    if checks:
        from scipy.stats import false_discovery_control

        q = false_discovery_control(np.clip([c.harm_p for _, c in checks], 0, 1), method="bh")
        harm = {(name, c.name): float(qi) for (name, c), qi in zip(checks, q)}
    margin = config.values.get(metric)
    rows = []
    for a, v in zip(analyses, verdicts):
        name = a.candidate.model
        ch = a.results.changes
        head = ch[(ch["metric"] == metric) & (ch["slice"] == "all")].iloc[0]
        own = v.decision
        mine = cells[(cells["candidate"] == name)]
        harmed = [
            c.name
            for c in v.slice_checks(metric)
            if c.role == WATCHED
            and c.status in (FAIL, NEED_MORE_DATA)
            and c.delta < 0
            and harm.get((name, c.name), 1.0) < alpha
        ]
        final, why = own, v.next_step
        if own == SHIP and margin is not None:
            holds, lo, hi = ship_holds(head, kind, k, float(margin))
            if not holds:
                final = NEED_MORE_DATA
                why = (
                    f"ships on its own, but among {k} candidates the {metric} change's {1 - alpha / k:.1%} "
                    f"interval (Bonferroni) [{lo * 100:+.1f}, {hi * 100:+.1f}] points does not rule out a loss of "
                    f"the {margin * 100:.1f}-point margin: collect rows, or compare fewer candidates."
                )
            else:
                why = (
                    f"ships, and its {metric} change's {1 - alpha / k:.1%} interval (Bonferroni over {k} "
                    f"candidates) [{lo * 100:+.1f}, {hi * 100:+.1f}] points still rules out a loss of the "
                    f"{margin * 100:.1f}-point margin. " + v.next_step
                )
        elif own == NO_SHIP:
            other_fail = [r for r in v.results if r.status == FAIL and not r.name.startswith("slice_")]
            slice_fail = [
                c
                for r in v.results
                if r.status == FAIL and r.name.startswith("slice_")
                for c in r.checks
                if c.status == FAIL
            ]
            survives = [c for c in slice_fail if c.role != WATCHED or harm.get((name, c.name), 1.0) < alpha]
            if not other_fail and slice_fail and not survives:
                final = NEED_MORE_DATA
                why = (
                    f"its harm on {', '.join(c.name for c in slice_fail)} does not survive Benjamini-Hochberg "
                    f"across the {k} candidates' watched slices: look there with more rows."
                )
        rows.append(
            {
                "candidate": name,
                "spec": a.candidate.spec,
                "n": int(head["n"]),
                "delta": float(head["delta"]),
                "delta_lo": float(head["delta_lo"]),
                "delta_hi": float(head["delta_hi"]),
                "p": float(head["p"]),
                "p_holm": float(mine.loc[mine["slice"] == "all", "p_adj"].iloc[0]),
                "slices_significant": int(mine.loc[mine["family"] == "slice", "significant"].sum()),
                "slices_harmed": len(harmed),
                "own verdict": own,
                "leaderboard verdict": final,
                "why": why,
            }
        )
    notes = sorted({n for v in verdicts for n in v.notes})
    return Leaderboard(
        analyses[0].baseline.model, metric, list(analyses), verdicts, cells, pd.DataFrame(rows), alpha, notes
    )


def compare_many(
    data: Any,
    baseline: str,
    candidates: Sequence[str],
    *,
    slices: Any = None,
    config: GateConfig | None = None,
    alpha: float = ALPHA,
    analyse_one: Callable[[str, Any], Any] | None = None,
    **options: Any,
) -> Leaderboard:
    """k candidates against `baseline` on `data` through `run_analysis` (the first candidate's slice set,
    default or given, is used for all, so every candidate is judged on the same slices); `options` go to
    `run_analysis` (cache, min_n, guardrails...). `analyse_one(candidate, slices)` replaces `run_analysis`."""
    from evalcore.tasks.pipeline import run_analysis

    if len(set(candidates)) != len(candidates):
        raise ConfigError("a candidate is named twice: give each --candidate once")
    if baseline in candidates:
        raise ConfigError(f"{baseline!r} is the baseline: leave it out of the candidates")
    analyses = []
    for spec in candidates:
        a = (
            analyse_one(spec, slices)
            if analyse_one
            else run_analysis(data, baseline, spec, slices=slices, alpha=alpha, **options)
        )
        slices = a.slices
        analyses.append(a)
    return leaderboard(analyses, config, alpha)


# --- charts that stay readable at 10 candidates ----------------------------------------------------


def overall_chart(board: Leaderboard):
    """Each candidate's overall change (headline metric) as a dot with its 95% interval, sorted by the change,
    one row per candidate (so 10 candidates are 10 rows), coloured by the leaderboard verdict."""
    import plotly.graph_objects as go

    from evalcore.core.safetext import plotly_text
    from evalcore.present.charts import _layout

    s = board.summary.sort_values("delta")
    fig = go.Figure()
    for verdict, color in VERDICT_COLORS.items():
        part = s[s["leaderboard verdict"] == verdict]
        if part.empty:
            continue
        x = part["delta"] * 100
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[plotly_text(c) for c in part["candidate"]],
                mode="markers",
                name=verdict,
                marker=dict(size=11, color=color),
                error_x=dict(type="data", array=part["delta_hi"] * 100 - x, arrayminus=x - part["delta_lo"] * 100),
                customdata=list(zip(part["p_holm"], part["n"])),
                hovertemplate="%{y}: %{x:+.1f} pts, Holm p %{customdata[0]:.2g}, n=%{customdata[1]:,}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line=dict(color="#adb5bd", dash="dot"))
    fig.update_layout(showlegend=True)  # the colours are verdicts: say so even with one
    fig.update_yaxes(categoryorder="array", categoryarray=[plotly_text(c) for c in s["candidate"]])
    fig.update_xaxes(title_text=f"{board.metric} change vs {plotly_text(board.baseline)} (points), 95% interval")
    return _layout(
        fig,
        plotly_text(f"Overall {board.metric} change per candidate ({board.k} against {board.baseline})"),
        120 + 32 * board.k,
    )


def slice_heatmap(board: Leaderboard):
    """Slices x candidates: colour = the paired change (diverging at 0, symmetric scale), text = the change with
    `*` when significant after Benjamini-Hochberg across candidates x slices (Holm for `all`), `·` when not
    tested; the interval is in the hover. Candidates are columns, so 10 fit side by side."""
    import plotly.graph_objects as go

    from evalcore.core.safetext import plotly_text
    from evalcore.present.charts import _layout

    c = board.cells
    slices = list(dict.fromkeys(c["slice"]))
    cands = [a.candidate.model for a in board.analyses]
    pick = c.set_index(["slice", "candidate"])
    z, text, hover = [], [], []
    for s in slices:
        zr, tr, hr = [], [], []
        for cand in cands:
            r = pick.loc[(s, cand)]
            d = float(r["delta"]) * 100
            mark = "*" if r["significant"] else ("·" if r["family"] == "not tested" else "")
            zr.append(d if math.isfinite(d) else None)
            tr.append(f"{d:+.1f}{mark}" if math.isfinite(d) else "–")
            hr.append(
                f"{plotly_text(cand)} on {plotly_text(s)} (n={int(r['n']):,}): {d:+.1f} pts "
                f"[{float(r['delta_lo']) * 100:+.1f}, {float(r['delta_hi']) * 100:+.1f}], adjusted p "
                + (f"{float(r['p_adj']):.2g}" if math.isfinite(float(r["p_adj"])) else "not tested")
            )
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    n = c.drop_duplicates("slice").set_index("slice")["n"]
    top = max([abs(v) for row in z for v in row if v is not None] or [1.0])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plotly_text(x) for x in cands],
            y=[f"{plotly_text(s)} (n={int(n[s]):,})" for s in slices],
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            colorscale="RdBu",
            zmid=0,
            zmin=-top,
            zmax=top,
            colorbar=dict(title="pts"),
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(
        fig,
        plotly_text(f"{board.metric} change per slice and candidate (* significant after correction, · not tested)"),
        140 + 28 * len(slices),
    )
