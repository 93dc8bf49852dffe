"""What slicing revealed, in sentences that cannot contradict the numbers beside them.

Each finding is built by one function from a small dict of fields (the numbers it prints), and its
sentence is generated from those fields only: a direction word comes from the interval's signs, a
"worse than the rest" claim from the Benjamini-Hochberg-adjusted test of that comparison, an
"too small to judge" claim from the slice's size (as the verdict, `evalcore.decide.verdict`). `tests/test_findings.py` checks
this over many random tables.

Units everywhere: accuracies and rates as percentages (69.8%), changes in points (-30.0 points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from evalcore.core import units

if TYPE_CHECKING:
    from evalcore.stats.results import Analysis

MAX_LISTED = 4  # slices named per sentence
MODEL_TAG = " [model-defined: shown, never gates]"  # a slice whose rule reads a model's output
ALL = "all"


# --- formatting: the only way numbers enter a sentence --------------------------------------------


def fmt_pts(x: float) -> str:
    """A change in points, signed, without the unit (the sentence says "points"): -0.3 -> '-30.0'."""
    return units.pts(x, unit="")


fmt_pct, fmt_p, fmt_ece = units.pct, units.p_value, units.dec3


def direction(lo: float, hi: float) -> str:
    """What an interval says about the sign of a change: 'up', 'down' or 'unknown'."""
    if lo > 0:
        return "up"
    if hi < 0:
        return "down"
    return "unknown"


@dataclass(frozen=True)
class Finding:
    """A sentence and the fields it was generated from (the numbers printed beside it)."""

    kind: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "fields": self.fields}


def _plural(k: int, one: str, many: str) -> str:
    return one if k == 1 else many


def _join(parts: Sequence[str], more: int = 0) -> str:
    """'a', 'a and b', 'a, b and c'; with `more`, 'a, b, c and 3 more'."""
    parts = list(parts) + ([f"{more} more"] if more else [])
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _shown(items: Sequence[dict], limit: int = MAX_LISTED) -> tuple[list[dict], int]:
    return list(items[:limit]), max(len(items) - limit, 0)


# --- one function per finding --------------------------------------------------------------------


def overall_finding(f: dict[str, Any]) -> Finding:
    """fields: baseline, candidate (names), base_acc, cand_acc, n, delta, lo, hi, p, n_regressed, n_improved."""
    where = {
        "up": "the interval lies above zero, so the candidate is better",
        "down": "the interval lies below zero, so the candidate is worse",
        "unknown": "the interval includes zero, so the direction of the change is not established",
    }
    text = (
        f"Overall, the candidate {f['candidate']} is right on {fmt_pct(f['cand_acc'])} of the {f['n']:,} rows "
        f"against {fmt_pct(f['base_acc'])} for the baseline {f['baseline']}: a change of {fmt_pts(f['delta'])} "
        f"points (95% interval {fmt_pts(f['lo'])} to {fmt_pts(f['hi'])}); {where[direction(f['lo'], f['hi'])]} "
        f"(exact McNemar {units.p_text(f['p'])}). {f['candidate']} breaks {f['n_regressed']:,} rows "
        f"{f['baseline']} got right and fixes {f['n_improved']:,}."
    )
    return Finding("overall", text, f)


def overall_score_finding(f: dict[str, Any]) -> Finding:
    """The overall finding of a generation comparison. fields: metric (title of the headline metric),
    baseline, candidate (names), base_value, cand_value, n, delta, lo, hi, p, test (its name),
    n_improved, n_regressed (rows whose score rose / fell), others: [{metric, base, cand, delta, lo, hi}]."""
    where = {
        "up": "the interval lies above zero, so the candidate is better",
        "down": "the interval lies below zero, so the candidate is worse",
        "unknown": "the interval includes zero, so the direction of the change is not established",
    }
    text = (
        f"Overall, the candidate {f['candidate']} has {f['metric']} {fmt_pct(f['cand_value'])} on the "
        f"{f['n']:,} rows against {fmt_pct(f['base_value'])} for the baseline {f['baseline']}: a change of {fmt_pts(f['delta'])} "
        f"points (95% interval {fmt_pts(f['lo'])} to {fmt_pts(f['hi'])}); {where[direction(f['lo'], f['hi'])]} "
        f"({f['test']} {units.p_text(f['p'])}). {f['candidate']} scores higher on {f['n_improved']:,} rows and lower "
        f"on {f['n_regressed']:,}."
    )
    others = [
        f"{o['metric']} {fmt_pct(o['base'])} -> {fmt_pct(o['cand'])} ({fmt_pts(o['delta'])} points, 95% interval "
        f"{fmt_pts(o['lo'])} to {fmt_pts(o['hi'])})"
        for o in f.get("others", [])
    ]
    if others:
        text += f" Beside it: {'; '.join(others)}."
    return Finding("overall", text, f)


def _on(f: dict[str, Any]) -> str:
    """' on F1' when a finding names its metric (generation), '' otherwise (classification's accuracy)."""
    return f" on {f['metric']}" if f.get("metric") else ""


def worse_than_rest_finding(f: dict[str, Any]) -> Finding:
    """fields: alpha, n_slices, overall_direction ('up'/'down'/'unknown'), slices: [{slice, n, delta,
    rest_delta, gap, gap_lo, gap_hi, q}] (only slices worse than the rest after BH), worst first;
    optional metric (the title the sentence names)."""
    bh = f"after Benjamini-Hochberg (false discovery rate {f['alpha']:g})"
    items = f["slices"]
    if not items:
        if f["overall_direction"] == "down":
            text = (
                f"The loss is spread across the data: none of the {f['n_slices']} slices is worse than the rest of "
                f"the rows{_on(f)} {bh}, so it is one overall loss, not a slice problem."
            )
        else:
            text = f"None of the {f['n_slices']} slices is worse than the rest of the rows{_on(f)} {bh}."
        return Finding("worse_than_rest", text, f)
    shown, more = _shown(items)
    parts = [
        f"{s['slice']}{MODEL_TAG if s.get('model_defined') else ''} ({fmt_pts(s['delta'])} points there against "
        f"{fmt_pts(s['rest_delta'])} elsewhere, a gap of {fmt_pts(s['gap'])} points with 95% interval {fmt_pts(s['gap_lo'])} to {fmt_pts(s['gap_hi'])}, "
        f"{units.p_text(s['q'], 'BH-adjusted p')}, n={s['n']:,})"
        for s in shown
    ]
    tail = f" and {more} more" if more else ""
    verb = _plural(len(items), "is", "are")
    text = (
        f"{len(items)} of {f['n_slices']} slices {verb} worse than the rest of the rows{_on(f)} {bh}: "
        f"{'; '.join(parts)}{tail}."
    )
    return Finding("worse_than_rest", text, f | {"n_more": more})


def better_than_rest_finding(f: dict[str, Any]) -> Finding:
    """fields: alpha, n_slices, slices: [{slice, n, delta, rest_delta, q}] (better than the rest after BH);
    optional metric."""
    shown, more = _shown(f["slices"])
    parts = [
        f"{s['slice']} ({fmt_pts(s['delta'])} points there against {fmt_pts(s['rest_delta'])} elsewhere, "
        f"{units.p_text(s['q'], 'BH-adjusted p')}, n={s['n']:,})"
        for s in shown
    ]
    verb = _plural(len(f["slices"]), "does", "do")
    text = (
        f"{len(f['slices'])} of {f['n_slices']} slices {verb} better than the rest of the rows{_on(f)} after "
        f"Benjamini-Hochberg: {'; '.join(parts)}{f' and {more} more' if more else ''}."
    )
    return Finding("better_than_rest", text, f | {"n_more": more})


def against_overall_finding(f: dict[str, Any]) -> Finding:
    """fields: overall_direction ('up'/'down'), slices: [{slice, n, delta, lo, hi}] whose own interval
    lies entirely on the other side of zero."""
    shown, more = _shown(f["slices"])
    side = "above" if f["overall_direction"] == "down" else "below"
    overall = "worse" if f["overall_direction"] == "down" else "better"
    parts = [
        f"{s['slice']} ({fmt_pts(s['delta'])} points, 95% interval {fmt_pts(s['lo'])} to {fmt_pts(s['hi'])}, "
        f"n={s['n']:,})"
        for s in shown
    ]
    text = (
        f"The overall number hides the opposite change{_on(f)} on {_join(parts, more)}: "
        f"{_plural(len(f['slices']), 'its', 'their')} interval lies {side} zero although the candidate is "
        f"{overall} overall."
    )
    return Finding("against_overall", text, f | {"n_more": more})


def too_small_finding(f: dict[str, Any]) -> Finding:
    """fields: min_n, n_slices, slices: [{slice, n}] with 1 to min_n - 1 rows; optional metric."""
    shown, more = _shown(f["slices"])
    parts = [f"{s['slice']} (n={s['n']:,})" for s in shown]
    verb = _plural(len(f["slices"]), "is", "are")
    text = (
        f"{len(f['slices'])} of {f['n_slices']} slices {verb} too small to judge (fewer than {f['min_n']} rows): "
        f"{_join(parts, more)}; {_plural(len(f['slices']), 'it is', 'they are')} shown with "
        f"{_plural(len(f['slices']), 'its', 'their')} numbers, never tested, and never block the verdict."
    )
    return Finding("too_small", text, f | {"n_more": more})


def confidence_finding(f: dict[str, Any]) -> Finding:
    """fields: candidate, n_conf_known, n_known_regressed, n_confident_regressed, threshold."""
    if f["n_conf_known"] == 0:
        kind = f.get("score_kind", "probability")
        if kind != "probability":
            text = (
                f"The candidate {f['candidate']}'s score is a {kind}, not a probability, so no regression is "
                "counted as confident and its calibration is not measured."
            )
        else:
            text = (
                f"The candidate {f['candidate']} gives no confidences, so how many of its regressions are "
                "confident is unknown."
            )
        return Finding("confidence", text, f)
    k, m = f["n_confident_regressed"], f["n_known_regressed"]
    if m == 0:
        return Finding("confidence", "The candidate has no regression with a known confidence.", f)
    share = k / m
    tail = ", so a confidence cut-off would not catch most of them." if share >= 0.5 else "."
    text = (
        f"{k:,} of the {m:,} regressions with a known confidence ({fmt_pct(share)}) come with candidate "
        f"confidence >= {f['threshold']:g}{tail}"
    )
    return Finding("confidence", text, f | {"share": share})


def calibration_finding(f: dict[str, Any]) -> Finding:
    """fields: models: [{model, n, ece, ece_lo, ece_hi, mean_conf, accuracy}] (models with confidences)."""
    parts = []
    for m in f["models"]:
        part = (
            f"{m['model']} has ECE {fmt_ece(m['ece'])} (95% interval {fmt_ece(m['ece_lo'])} to "
            f"{fmt_ece(m['ece_hi'])}, n={m['n']:,})"
        )
        gap = m["mean_conf"] - m["accuracy"]
        if abs(gap) >= 0.1:
            part += (
                f", {'over' if gap > 0 else 'under'}confident: mean confidence {fmt_pct(m['mean_conf'])} "
                f"against accuracy {fmt_pct(m['accuracy'])}"
            )
        parts.append(part)
    text = f"Calibration: {'; '.join(parts)}. ECE is biased upward on small samples; compare it on the same rows."
    return Finding("calibration", text, f)


def empty_finding(f: dict[str, Any]) -> Finding:
    """fields: slices: [names selecting no row]."""
    names = f["slices"]
    text = (
        f"{_join(names)} {_plural(len(names), 'selects', 'select')} no rows of this data: check the rule, or "
        "drop the slice."
    )
    return Finding("empty", text, f)


# --- from an analysis ----------------------------------------------------------------------------


def _f(x: Any) -> float:
    return float(x) if x is not None else math.nan


def findings_from_tables(
    overall: dict,
    regression: pd.DataFrame,
    calibration: pd.DataFrame | None,
    *,
    alpha: float,
    margin: float,
    conf_threshold: float,
    model_defined: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every finding of one classification comparison, from its tables (the Compare page, the report, W&B)."""
    d = overall["delta"]
    out = [
        overall_finding(
            {
                "baseline": overall["baseline"]["model"],
                "candidate": overall["candidate"]["model"],
                "base_acc": overall["baseline"]["value"],
                "cand_acc": overall["candidate"]["value"],
                "n": overall["n"],
                "delta": d["value"],
                "lo": d["lo"],
                "hi": d["hi"],
                "p": overall["mcnemar_p"],
                "n_regressed": overall["n_regressed"],
                "n_improved": overall["n_improved"],
            }
        )
    ]
    slices = regression[regression["slice"] != ALL]
    out += slice_findings(
        regression, direction(d["lo"], d["hi"]), alpha=alpha, margin=margin, model_defined=model_defined
    )
    out.append(
        confidence_finding(
            {
                "candidate": overall["candidate"]["model"],
                "n_conf_known": overall["n_conf_known"],
                "score_kind": overall.get("score_kind", {}).get("candidate", "probability"),
                "n_known_regressed": overall["n_known_regressed"],
                "n_confident_regressed": overall["n_confident_regressed"],
                "threshold": conf_threshold,
            }
        )
    )
    if calibration is not None:
        cal = calibration[(calibration["slice"] == ALL) & (calibration["n_with_conf"] > 0)]
        if len(cal):
            out.append(
                calibration_finding(
                    {
                        "models": [
                            {
                                "model": r.model,
                                "n": int(r.n_with_conf),
                                "ece": r.ece,
                                "ece_lo": r.ece_lo,
                                "ece_hi": r.ece_hi,
                                "mean_conf": r.mean_conf,
                                "accuracy": overall[r.role]["value"],
                            }
                            for r in cal.itertuples()
                        ]
                    }
                )
            )
    empty = slices.loc[slices["n"] == 0, "slice"].tolist()
    if empty:
        out.append(empty_finding({"slices": empty}))
    return out


def slice_findings(
    regression: pd.DataFrame,
    trend: str,
    *,
    alpha: float,
    margin: float,
    metric: str | None = None,
    model_defined: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The findings about slices, from a change table with CHANGE_COLUMNS (`trend`: the overall change's
    direction); `metric` names the metric in the sentences (generation), None for classification. Slices under
    the table's `min_n` rows are listed as too small to judge, as the verdict treats them."""
    named = {"metric": metric} if metric else {}
    out: list[Finding] = []
    slices = regression[regression["slice"] != ALL]
    used = slices[slices["n"] > 0]
    if not len(slices):
        return out
    worse = used[used["worse_than_rest"].astype(bool)].sort_values("vs_rest")
    out.append(
        worse_than_rest_finding(
            {
                "alpha": alpha,
                "n_slices": len(slices),
                "overall_direction": trend,
                **named,
                "slices": [
                    {
                        "slice": r.slice,
                        "n": int(r.n),
                        "delta": r.delta,
                        "rest_delta": r.rest_delta,
                        "gap": r.vs_rest,
                        "gap_lo": r.vs_rest_lo,
                        "gap_hi": r.vs_rest_hi,
                        "q": r.vs_rest_p_adjusted,
                        "model_defined": r.slice in model_defined,
                    }
                    for r in worse.itertuples()
                ],
            }
        )
    )
    better = used[(used["vs_rest_p_adjusted"] < alpha) & (used["vs_rest"] > 0)].sort_values("vs_rest", ascending=False)
    if len(better):
        out.append(
            better_than_rest_finding(
                {
                    "alpha": alpha,
                    "n_slices": len(slices),
                    **named,
                    "slices": [
                        {
                            "slice": r.slice,
                            "n": int(r.n),
                            "delta": r.delta,
                            "rest_delta": r.rest_delta,
                            "q": r.vs_rest_p_adjusted,
                        }
                        for r in better.itertuples()
                    ],
                }
            )
        )
    if trend != "unknown":
        other = used[(used["delta_lo"] > 0) if trend == "down" else (used["delta_hi"] < 0)]
        other = other.reindex(other["delta"].abs().sort_values(ascending=False).index)
        if len(other):
            out.append(
                against_overall_finding(
                    {
                        "overall_direction": trend,
                        **named,
                        "slices": [
                            {"slice": r.slice, "n": int(r.n), "delta": r.delta, "lo": r.delta_lo, "hi": r.delta_hi}
                            for r in other.itertuples()
                        ],
                    }
                )
            )
    min_n = int(regression.attrs.get("min_n", 30))
    small = used[used["n"] < min_n].sort_values("n")
    if len(small):
        out.append(
            too_small_finding(
                {
                    "min_n": min_n,
                    "n_slices": len(slices),
                    **named,
                    "slices": [{"slice": r.slice, "n": int(r.n)} for r in small.itertuples()],
                }
            )
        )
    return out


def generation_findings(
    overall: dict, regression: pd.DataFrame, *, alpha: float, margin: float, model_defined: frozenset[str] = frozenset()
) -> list[Finding]:
    """Every finding of one generation comparison: the headline metric overall (with the other metrics
    beside it), then the slices on the headline metric."""
    from evalcore.stats.comparisons import compared_metric

    headline = overall["metric"]
    title = compared_metric(headline).title
    ch = overall["changes"][headline]
    others = [
        {
            "metric": compared_metric(m).title,
            "base": overall["baseline"][m]["value"],
            "cand": overall["candidate"][m]["value"],
            "delta": c["value"],
            "lo": c["lo"],
            "hi": c["hi"],
        }
        for m, c in overall["changes"].items()
        if m != headline
    ]
    test = (
        "cluster-robust t test"
        if overall.get("cluster_col")
        else "paired t test"
        if compared_metric(headline).kind == "continuous"
        else "exact McNemar"
    )
    out = [
        overall_score_finding(
            {
                "metric": title,
                "baseline": overall["baseline"]["model"],
                "candidate": overall["candidate"]["model"],
                "base_value": overall["baseline"][headline]["value"],
                "cand_value": overall["candidate"][headline]["value"],
                "n": overall["n"],
                "delta": ch["value"],
                "lo": ch["lo"],
                "hi": ch["hi"],
                "p": ch["p"],
                "test": test,
                "n_improved": overall["n_improved"],
                "n_regressed": overall["n_regressed"],
                "others": others,
            }
        )
    ]
    out += slice_findings(
        regression, direction(ch["lo"], ch["hi"]), alpha=alpha, margin=margin, metric=title, model_defined=model_defined
    )
    slices = regression[regression["slice"] != ALL]
    empty = slices.loc[slices["n"] == 0, "slice"].tolist()
    if empty:
        out.append(empty_finding({"slices": empty}))
    return out


def analysis_findings(analysis: Analysis, margin: float | None = None) -> list[Finding]:
    """The findings of an analysis; `margin`: the slice gate's (default 5 points)."""
    from evalcore.decide.gates import DEFAULTS
    from evalcore.stats.comparisons import HEADLINE

    task = analysis.task
    margin = DEFAULTS[task][f"slice_{HEADLINE[task]}"] if margin is None else margin
    return analysis.kind.findings(analysis, margin)  # findings_from_tables, or generation_findings


__all__ = [
    "Finding",
    "analysis_findings",
    "direction",
    "findings_from_tables",
    "fmt_ece",
    "fmt_p",
    "fmt_pct",
    "fmt_pts",
    "generation_findings",
    "overall_score_finding",
    "slice_findings",
]
