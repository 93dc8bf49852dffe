"""The generation comparison in words, tables and charts: the blocks of the report, the CLI's text, the
W&B summary numbers and the Plotly figures, each speaking of the task's metrics (F1 first).

`evalcore.present.report`, `evalcore.cli` and `evalcore.present.wandb_push` call these when `analysis.task` is
"generation"; every number goes through `evalcore.core.units` (scores as percentages, changes in points).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalcore.analyze.tables import ROLES
from evalcore.core import units
from evalcore.core.safetext import plotly_text
from evalcore.present.blocks import DETECTABLE, detectable_loss
from evalcore.stats.comparisons import HEADLINE, compared_metric, metrics_for

if TYPE_CHECKING:
    from evalcore.present.blocks import Block
    from evalcore.stats.results import Analysis

GENERATION = "generation"


def _headline(analysis: Analysis) -> str:
    return HEADLINE[GENERATION]


def metric_table(analysis: Analysis, metric: str | None = None) -> pd.DataFrame:
    """The per-slice change table of one metric (`regression_metrics` for the headline metric, F1),
    with the small-slice size and false discovery rate the analysis used."""
    from evalcore.stats.gentables import metric_changes_table

    r = analysis.results
    if metric is None or metric == _headline(analysis):
        return r.regression_metrics
    attrs = r.regression_metrics.attrs
    return metric_changes_table(
        r.changes, analysis.df_eval, r.masks, metric, min_n=attrs.get("min_n", 30), alpha=attrs.get("alpha", 0.05)
    )


def _flags(row: Any, status: dict[str, str]) -> str:
    from evalcore.present.blocks import verdict_label

    return verdict_label(status, row)


def overall_rows(analysis: Analysis) -> list[list[str]]:
    """metric | baseline [95%] | candidate [95%] | change [95%] | p | MDE | test, one row per metric."""
    o = analysis.results.overall
    rows = []
    for name in metrics_for(GENERATION):
        b, c, ch = o["baseline"][name], o["candidate"][name], o["changes"][name]
        test = (
            "cluster-robust t"
            if o.get("cluster_col")
            else "paired t"
            if compared_metric(name).kind == "continuous"
            else "exact McNemar"
        )
        rows.append(
            [
                compared_metric(name).title,
                units.pct_ci(b["value"], b["lo"], b["hi"]),
                units.pct_ci(c["value"], c["lo"], c["hi"]),
                units.pts_ci(ch["value"], ch["lo"], ch["hi"]),
                f"{test} {units.p_value(ch['p'])}",
                units.magnitude_pts(ch["mde"]),
            ]
        )
    return rows


OVERALL_HEADERS = ["metric", "baseline [95%]", "candidate [95%]", "change [95%]", "test p", "MDE (80% power)"]


def slice_rows(analysis: Analysis, verdict: Any, metric: str | None = None) -> tuple[list[list[str]], set[int]]:
    """Per slice, one metric (the headline one by default) of both models, its paired change, MDE,
    comparison with the rest, and its place in the verdict (`evalcore.decide.verdict.Verdict`)."""
    r = analysis.results
    name = metric or _headline(analysis)
    status = verdict.slice_status(name) if verdict is not None else {}
    sm = r.slice_metrics.set_index(["slice", "role"])
    rows, marked = [], set()
    table = metric_table(analysis, name)
    loss = detectable_loss(verdict, name, table["slice"])
    for i, row in enumerate(table.itertuples()):
        vals = [
            units.pct_ci(*(sm.loc[(row.slice, role), k] for k in (name, f"{name}_lo", f"{name}_hi"))) for role in ROLES
        ]
        if row.worse_than_rest:
            marked.add(i)
        rows.append(
            [
                row.slice,
                f"{int(row.n):,}",
                *vals,
                units.pts_ci(row.delta, row.delta_lo, row.delta_hi),
                loss[i]
                + (f" (design effect {row.design_effect:.1f})" if row.design_effect == row.design_effect else ""),
                units.pts_ci(row.vs_rest, row.vs_rest_lo, row.vs_rest_hi),
                units.p_value(row.vs_rest_p_adjusted),
                units.p_value(row.p),
                units.p_value(row.p_adjusted),
                _flags(row, status),
            ]
        )
    return rows, marked


def slice_headers(analysis: Analysis, metric: str | None = None) -> list[str]:
    title = compared_metric(metric or _headline(analysis)).title
    return [
        "slice",
        "n",
        f"baseline {title}",
        f"candidate {title}",
        "change",
        DETECTABLE,
        "change minus the rest's",
        "BH p (vs rest)",
        "p (vs 0)",
        "BH p (vs 0)",
        "in the verdict",
    ]


def every_metric_rows(analysis: Analysis) -> tuple[list[str], list[list[str]]]:
    """Per slice, the paired change [95%] of every generation metric (flags: worse than the rest)."""
    ch = analysis.results.changes
    names = metrics_for(GENERATION)
    headers = ["slice", "n", *(compared_metric(m).title for m in names)]
    rows = []
    for s in dict.fromkeys(ch["slice"]):
        part = ch[ch["slice"] == s].set_index("metric")
        rows.append(
            [
                s,
                f"{int(part['n'].iloc[0]):,}",
                *(
                    units.pts_ci(part.loc[m, "delta"], part.loc[m, "delta_lo"], part.loc[m, "delta_hi"])
                    + (" ⚠" if bool(part.loc[m, "worse_than_rest"]) else "")
                    for m in names
                ),
            ]
        )
    return headers, rows


def length_lines(analysis: Analysis) -> list[str]:
    o = analysis.results.overall
    return [
        f"{role.capitalize()} {o[role]['model']}: {o[role]['answer_tokens']:.1f} tokens per answer on average, "
        f"{o[role]['length_ratio']:.2f}x the shortest gold answer; verbose answers "
        f"{units.pct(o[role]['verbose_share'])}."
        for role in ROLES
    ]


def normaliser_lines(analysis: Analysis) -> list[str]:
    return [f"{k}: {v}" for k, v in analysis.results.overall["normalisers"].items()]


# --- report blocks ---------------------------------------------------------------------------------


def report_blocks(analysis: Analysis, verdict: Any) -> list[Block]:
    """Overall, per-slice and every-metric blocks of the report, for a generation analysis."""
    from evalcore.present.blocks import Bullets, Heading, Para, Table, _cluster_note

    o = analysis.results.overall
    title = compared_metric(_headline(analysis)).title
    rows, marked = slice_rows(analysis, verdict)
    headers, every = every_metric_rows(analysis)
    defs = [[s.name, s.text, s.note or "–", analysis.results.roles.get(s.name, s.role)] for s in analysis.slices]
    return [
        Heading("Overall results"),
        Para(
            f"Every score is the mean over the {o['n']:,} rows of a per-example score (max over the gold answers), "
            "with its 95% interval (Wilson for 0/1 scores, Student t for F1 and ROUGE-L); changes are paired "
            "(candidate - baseline on the same rows)." + _cluster_note(analysis)
        ),
        Table(OVERALL_HEADERS, overall_rows(analysis)),
        Bullets(
            [
                f"{title} rises on {o['n_improved']:,} rows and falls on {o['n_regressed']:,}; exact match is gained on "
                f"{o['n_em_gained']:,} rows and lost on {o['n_em_lost']:,}.",
                *length_lines(analysis),
            ]
        ),
        Heading("How each score is computed", 3),
        Bullets(normaliser_lines(analysis)),
        Heading(f"Per-slice results ({title})"),
        Para(
            f"{title} of both models with 95% intervals; the change with its paired 95% interval; the detectable "
            "loss is what the test that decides the slice in the verdict detects with 80% power ('–' where no test "
            "decides it); 'change minus the rest's' compares the "
            "slice with the other rows, and a slice is worse than the rest when that comparison survives "
            "Benjamini-Hochberg; 'in the verdict' is the slice's role and status. The 'all' row is one pre-planned "
            "test and is not adjusted."
        ),
        Table(slice_headers(analysis), rows, frozenset(marked)),
        Heading("Every metric per slice", 3),
        Para(
            "Paired change (candidate - baseline) with its 95% interval; ⚠ = worse than the rest of the rows "
            "(Benjamini-Hochberg)."
        ),
        Table(headers, every),
        Heading("Slice definitions", 3),
        Table(["slice", "rule", "hypothesis", "role"], defs) if defs else Para("No slices are defined."),
    ]


def method_lines(analysis: Analysis) -> list[str]:
    r = analysis.results
    methods = {
        **r.slice_metrics.attrs.get("methods", {}),
        **{f"{k} change": v for k, v in r.changes.attrs.get("methods", {}).items()},
        "vs rest": "slice change minus the other rows' change: Newcombe/Wald (0/1 scores) or Welch t (F1, "
        "ROUGE-L); Benjamini-Hochberg over the slices",
    }
    return [f"{k}: {v}" for k, v in methods.items()]


def figures(analysis: Analysis, metric: str | None = None) -> dict[str, Any]:
    """The generation charts by name: one metric (the headline one by default) per slice, and its change
    per slice. A slice is marked when the candidate is worse there than on the rest on that metric."""
    import plotly.graph_objects as go

    from evalcore.present.charts import FLAG_NOTE, ROLE_COLORS, _height, _labels_by_slice, _layout

    r = analysis.results
    name = metric or _headline(analysis)
    title = compared_metric(name).title
    reg = metric_table(analysis, name)
    labels = _labels_by_slice(reg)
    order = list(reg["slice"])
    bars = go.Figure()
    for role, part in r.slice_metrics.groupby("role", sort=False):
        part = part.set_index("slice").loc[order]
        bars.add_trace(
            go.Bar(
                y=[labels[s] for s in order],
                x=part[name],
                orientation="h",
                name=plotly_text(f"{role}: {part['model'].iloc[0]}"),
                marker_color=ROLE_COLORS.get(role),
                hovertemplate="%{y}<br>%{x:.1%}<extra>" + role + "</extra>",
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=part[f"{name}_hi"] - part[name],
                    arrayminus=part[name] - part[f"{name}_lo"],
                    thickness=1,
                    width=3,
                ),
            )
        )
    bars.update_layout(
        barmode="group",
        xaxis=dict(title=f"{title} (95% interval)", range=[0, 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
    )
    delta, lo, hi = (reg[c].to_numpy(dtype=float) * 100 for c in ("delta", "delta_lo", "delta_hi"))
    colors = np.where(reg["worse_than_rest"], "#e03131", np.where(reg["delta"] >= 0, "#2f9e44", "#868e96"))
    dots = go.Figure(
        go.Scatter(
            x=delta,
            y=[labels[s] for s in order],
            mode="markers",
            marker=dict(size=11, color=colors, line=dict(width=1, color="#343a40")),
            error_x=dict(type="data", symmetric=False, array=hi - delta, arrayminus=delta - lo),
            showlegend=False,
        )
    )
    dots.add_vline(x=0, line=dict(color="#212529", width=1, dash="dot"))
    dots.update_layout(
        xaxis=dict(title=f"candidate − baseline {title}, points (paired 95% interval)", tickformat="+.0f"),
        yaxis=dict(autorange="reversed"),
    )
    return {
        f"{name}_per_slice": _layout(bars, f"{title} per slice · {FLAG_NOTE}", _height(len(order), per_row=42)),
        f"{name}_change_per_slice": _layout(
            dots, f"{title} change per slice · red {FLAG_NOTE[2:]}", _height(len(order), per_row=30)
        ),
    }


# --- the CLI's text and W&B's summary --------------------------------------------------------------


def text_lines(analysis: Analysis, verdict: Any) -> list[str]:
    """The human-readable CLI report of a generation comparison."""
    o = analysis.results.overall
    out = [
        f"data: {analysis.data.name} ({o['n']:,} rows; generation: each answer scored against its gold answers, "
        "max over the golds)"
    ]
    for role in ROLES:
        e = o[role]
        scores = " · ".join(
            f"{compared_metric(m).title} {units.pct_ci(e[m]['value'], e[m]['lo'], e[m]['hi'])}"
            for m in ("exact_match", "f1")
        )
        out.append(f"{role:>9}: {e['model']:<14} {scores}")
    out += [
        "",
        "overall (candidate - baseline, paired; n={:,}):".format(o["n"]),
        pd.DataFrame(overall_rows(analysis), columns=OVERALL_HEADERS).to_string(index=False),
        *length_lines(analysis),
    ]
    rows, _ = slice_rows(analysis, verdict)
    title = compared_metric(_headline(analysis)).title
    out += [
        "",
        f"per slice ({title}; change = candidate - baseline; detectable loss = what the slice's verdict test detects "
        "with 80% power; vs rest = change minus the other "
        "rows' change, Benjamini-Hochberg):",
        pd.DataFrame(rows, columns=slice_headers(analysis)).drop(columns=["p (vs 0)"]).to_string(index=False),
    ]
    headers, every = every_metric_rows(analysis)
    out += [
        "",
        "every metric per slice (paired change [95%]; ⚠ worse than the rest):",
        pd.DataFrame(every, columns=headers).to_string(index=False),
    ]
    return out


def summary_numbers(analysis: Analysis) -> dict[str, Any]:
    """The run summary's headline numbers of a generation comparison (W&B)."""
    o = analysis.results.overall
    out: dict[str, Any] = {"task": GENERATION, "n": o["n"], "metric": o["metric"]}
    for role in ROLES:
        out[f"{role}_model"] = o[role]["model"]
        for m in metrics_for(GENERATION):
            e = o[role][m]
            out.update(
                {
                    f"{role}_{m}": e["value"],
                    f"{role}_{m}_lo": e["lo"],
                    f"{role}_{m}_hi": e["hi"],
                    f"{m}/{o[role]['model']}": e["value"],
                }
            )
    for m, c in o["changes"].items():
        out.update(
            {
                f"{m}/delta": c["value"],
                f"{m}/delta_lo": c["lo"],
                f"{m}/delta_hi": c["hi"],
                f"{m}/p": c["p"],
                f"{m}/mde": c["mde"],
            }
        )
    d = o["delta"]
    out.update(
        {
            "delta": d["value"],
            "delta_lo": d["lo"],
            "delta_hi": d["hi"],
            "p": o["p"],
            "mde": o["mde"],
            "design_effect": o.get("design_effect"),
            "cluster_col": o.get("cluster_col"),
            "n_improved": o["n_improved"],
            "n_regressed": o["n_regressed"],
            "worse_than_rest_slices": list(analysis.results.flagged),
            "n_worse_than_rest": len(analysis.results.flagged),
        }
    )
    return out


def predictions_table(analysis: Analysis) -> pd.DataFrame:
    """One row per question: prompt, context, gold answers, both answers and every per-example score."""
    from evalcore.analyze.tables import role_col

    df = analysis.df_eval
    cols = ["id", "text", "context", "gold_answers"]
    for role in ROLES:
        cols += [
            role_col(role, f)
            for f in ("pred", "exact_match", "relaxed_match", "f1", "rouge_l", "rouge_acc", "answer_tokens", "verbose")
        ]
    cols += ["f1_delta", "rouge_l_delta", "improved", "regressed"]
    return df[[c for c in cols if c in df.columns]].copy()


__all__ = [
    "figures",
    "method_lines",
    "metric_table",
    "predictions_table",
    "report_blocks",
    "summary_numbers",
    "text_lines",
]
