"""Plotly figures of an analysis, shared by the app, the W&B push and the HTML report.

Pure functions from metric tables to `plotly.graph_objects.Figure`: no Streamlit here, so the
figure a user sees in the browser is the very object logged to W&B.
Slice sizes are always in the axis labels (`has_negation (n=123)`); a slice where the candidate is
worse than on the rest of the rows (after Benjamini-Hochberg) gets the ⚠ marker, which every chart
title explains.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd

from evalcore.core import units
from evalcore.core.safetext import plotly_text

ROLE_COLORS = {"baseline": "#7b8794", "candidate": "#3b5bdb"}
RATE_COLORS = {"regression_rate": "#e03131", "improvement_rate": "#2f9e44", "confident_regression_rate": "#f08c00"}
RATE_NAMES = {
    "regression_rate": "regression (baseline right, candidate wrong)",
    "improvement_rate": "improvement (baseline wrong, candidate right)",
    "confident_regression_rate": "confident regression",
}
FLAG = "⚠ "


def slice_label(name: str, n: int, flagged: bool = False, small: bool = False) -> str:
    """Axis label of a slice: its size always visible, flags in front."""
    mark = FLAG if flagged else ""
    tail = ", small" if small else ""
    return f"{mark}{plotly_text(name)} (n={n:,}{tail})"


def _labels_by_slice(regression: pd.DataFrame) -> dict[str, str]:
    return {
        r.slice: slice_label(r.slice, int(r.n), bool(r.worse_than_rest), bool(r.small)) for r in regression.itertuples()
    }


FLAG_NOTE = "⚠ = worse than the rest of the rows (Benjamini-Hochberg)"


TRACE_TYPES = ("bar", "scatter", "heatmap")  # every trace type these figures draw (tests/test_report.py checks)


@lru_cache(maxsize=1)
def white_template():
    """Plotly's `plotly_white`, its layout and the defaults of the trace types drawn here (`TRACE_TYPES`): the
    same look, while each figure no longer validates and carries the defaults of 24 trace types (~45 ms of
    building a figure, six per Compare render, and half of each figure's bytes)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    white = pio.templates["plotly_white"]
    return go.layout.Template(layout=white.layout, data={kind: white.data[kind] for kind in TRACE_TYPES})


def warm() -> None:
    """Build a small figure of each trace type drawn here: plotly reads its template and creates its validators
    on first use (~0.25 s on 2 cores), which a starting server (`ui.launch`) pays instead of its first visitor."""
    import plotly.graph_objects as go

    for trace in (go.Bar(x=[1], y=["a"]), go.Scatter(x=[0], y=[0]), go.Heatmap(z=[[1]])):
        _layout(go.Figure(trace), "warm", 100).to_plotly_json()


def _layout(fig, title: str, height: int):
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),
        template=white_template(),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    return fig


def accuracy_bars(slice_metrics: pd.DataFrame, regression: pd.DataFrame):
    """Grouped horizontal bars: accuracy of both models per slice, with 95% intervals."""
    import plotly.graph_objects as go

    labels = _labels_by_slice(regression)
    order = list(regression["slice"])
    fig = go.Figure()
    for role, part in slice_metrics.groupby("role", sort=False):
        part = part.set_index("slice").loc[order]
        fig.add_trace(
            go.Bar(
                y=[labels[s] for s in order],
                x=part["accuracy"],
                orientation="h",
                name=plotly_text(f"{role}: {part['model'].iloc[0]}"),
                marker_color=ROLE_COLORS.get(role),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=part["acc_hi"] - part["accuracy"],
                    arrayminus=part["accuracy"] - part["acc_lo"],
                    thickness=1,
                    width=3,
                ),
                hovertemplate="%{y}<br>accuracy %{x:.1%}<extra>" + role + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis=dict(title="accuracy (95% Wilson interval)", range=[0, 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
    )
    return _layout(fig, f"Accuracy per slice · {FLAG_NOTE}", _height(len(order), per_row=42))


def delta_dots(regression: pd.DataFrame):
    """Dot plot of the paired change (candidate - baseline, in points) per slice with its 95% interval."""
    import plotly.graph_objects as go

    labels = _labels_by_slice(regression)
    colors = np.where(
        regression["worse_than_rest"], "#e03131", np.where(regression["delta"] >= 0, "#2f9e44", "#868e96")
    )
    delta, lo, hi = (regression[c].to_numpy(dtype=float) * 100 for c in ("delta", "delta_lo", "delta_hi"))
    fig = go.Figure(
        go.Scatter(
            x=delta,
            y=[labels[s] for s in regression["slice"]],
            mode="markers",
            marker=dict(size=11, color=colors, line=dict(width=1, color="#343a40")),
            error_x=dict(type="data", symmetric=False, array=hi - delta, arrayminus=delta - lo, color="#495057"),
            customdata=np.stack(
                [regression["mcnemar_p"], regression["vs_rest_p_adjusted"], regression["mde"] * 100], axis=1
            ),
            hovertemplate="%{y}<br>change %{x:+.1f} pts<br>McNemar p=%{customdata[0]:.2g}; vs the rest: BH-adjusted "
            "p=%{customdata[1]:.2g}<br>MDE (80% power) %{customdata[2]:.1f} pts<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=0, line=dict(color="#212529", width=1, dash="dot"))
    fig.update_layout(
        xaxis=dict(title="candidate − baseline accuracy, points (paired 95% interval)", tickformat="+.0f"),
        yaxis=dict(autorange="reversed"),
    )
    return _layout(fig, f"Accuracy change per slice · red {FLAG_NOTE[2:]}", _height(len(regression), per_row=30))


def rate_bars(regression: pd.DataFrame, rates: Sequence[str] = tuple(RATE_COLORS)):
    """Regression / improvement / confident-regression rate per slice."""
    import plotly.graph_objects as go

    labels = _labels_by_slice(regression)
    fig = go.Figure()
    for rate in rates:
        fig.add_trace(
            go.Bar(
                y=[labels[s] for s in regression["slice"]],
                x=regression[rate],
                orientation="h",
                name=RATE_NAMES[rate],
                marker_color=RATE_COLORS[rate],
                hovertemplate="%{y}<br>%{x:.1%}<extra>" + rate + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis=dict(title="share of the slice's rows", tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
    )
    return _layout(fig, "Regressions and improvements per slice", _height(len(regression), per_row=48))


def confusion_heatmap(matrix: pd.DataFrame, title: str):
    """Confusion matrix (rows gold, columns predicted) with counts in the cells."""
    import plotly.graph_objects as go

    z = matrix.to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plotly_text(f"pred {c}") for c in matrix.columns],
            y=[plotly_text(f"gold {r}") for r in matrix.index],
            colorscale="Blues",
            showscale=False,
            text=z,
            texttemplate="%{text}",
            hovertemplate="%{y}, %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(yaxis=dict(autorange="reversed"))
    return _layout(fig, plotly_text(title), 320)


def reliability_diagram(bins_by_model: dict[str, pd.DataFrame], title: str = "Reliability diagram"):
    """Accuracy against mean confidence per bin, one line per model, the diagonal for reference."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line=dict(dash="dot", color="#adb5bd"),
            name="perfect calibration",
            hoverinfo="skip",
        )
    )
    for i, (model, bins) in enumerate(bins_by_model.items()):
        used = bins[bins["count"] > 0]
        fig.add_trace(
            go.Scatter(
                x=used["mean_conf"],
                y=used["accuracy"],
                mode="lines+markers",
                name=plotly_text(model),
                marker=dict(size=np.clip(np.sqrt(used["count"]) * 1.5, 5, 22)),
                line=dict(color=list(ROLE_COLORS.values())[i % 2]),
                customdata=used["count"],
                hovertemplate="confidence %{x:.0%}<br>accuracy %{y:.0%}<br>n=%{customdata}<extra></extra>",
            )
        )
    # a little room beyond [0, 1], so points on the edges (and their markers) stay inside the plot
    fig.update_traces(cliponaxis=False, selector=dict(type="scatter"))
    fig.update_layout(
        xaxis=dict(title="mean confidence in bin", range=[-0.03, 1.03], tickformat=".0%"),
        yaxis=dict(title="accuracy in bin", range=[-0.03, 1.03], tickformat=".0%"),
    )
    return _layout(fig, plotly_text(title), 380)


def _height(n_rows: int, per_row: int) -> int:
    return int(min(max(260, 110 + per_row * n_rows), 2400))


def perturbation_bars(summary: pd.DataFrame, models: Sequence[str] | None = None):
    """Failure rate per perturbation test and model with 95% Wilson intervals, one row per test; a test
    with no applicable case is written "n/a" instead of a bar that would read as 0%. Each bar's label
    ("71% of 7") sits right of its interval, so whiskers never cross the text."""
    import plotly.graph_objects as go

    models = list(models or dict.fromkeys(summary["model"]))
    tests = list(dict.fromkeys(summary["generator"]))
    names = [t.replace("_", " ") for t in tests]
    fig = go.Figure()
    for i, model in enumerate(models):
        part = summary[summary["model"] == model].set_index("generator").reindex(tests)
        ok = part["n_applicable"].fillna(0).to_numpy() > 0
        rate = np.where(ok, part["failure_rate"].to_numpy(dtype=float), np.nan)
        lo = part["failure_rate_lo"].to_numpy(dtype=float)
        hi = part["failure_rate_hi"].to_numpy(dtype=float)
        color = list(ROLE_COLORS.values())[i % 2]
        labels = [
            f"{r:.0%} of {int(n)}" if a else "n/a (none applicable)"
            for r, n, a in zip(np.nan_to_num(rate), part["n_applicable"].fillna(0), ok)
        ]
        fig.add_trace(
            go.Bar(
                y=names,
                x=rate,
                orientation="h",
                name=plotly_text(model),
                marker_color=color,
                offsetgroup=str(i),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=np.where(ok, hi - rate, np.nan),
                    arrayminus=np.where(ok, rate - lo, np.nan),
                    thickness=1,
                    width=3,
                ),
                customdata=labels,
                hovertemplate="%{y}<br>%{customdata}<extra>" + plotly_text(model) + "</extra>",
            )
        )
        right = np.where(ok, np.nan_to_num(hi, nan=0.0), 0.0) + 0.01  # right of the whisker (or the axis: n/a)
        fig.add_trace(
            go.Scatter(
                y=names,
                x=right,
                mode="text",
                text=labels,
                textposition="middle right",
                offsetgroup=str(i),
                orientation="h",
                textfont=dict(size=11, color=color),
                showlegend=False,
                hoverinfo="skip",
                cliponaxis=False,
            )
        )
    fig.update_layout(
        barmode="group",
        scattermode="group",
        xaxis=dict(
            title="failure rate (95% Wilson interval)",
            tickformat=".0%",
            range=[0, 1.25],
            tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
        ),
        yaxis=dict(autorange="reversed"),
    )
    return _layout(
        fig,
        "Perturbation tests: failure rate per test and model (applicable cases)",
        _height(len(tests), per_row=22 * max(len(models), 1) + 8),
    )


def discovered_slices_chart(discovery):
    """Found slices: the paired change (candidate − baseline, points) on the confirmation half with its
    95% interval, beside the change on the rest of those rows; confirmed slices in red. The search half
    chose these slices, so only the confirmation half's figures are shown."""
    import plotly.graph_objects as go

    found = discovery.candidates
    labels = [f"{FLAG if f.confirmed else ''}{plotly_text(f.name)} (n={int(f.confirm['n']):,})" for f in found]
    delta, lo, hi, rest = (
        np.array([f.confirm[k] for f in found], dtype=float) * 100
        for k in ("delta", "delta_lo", "delta_hi", "rest_delta")
    )
    colors = ["#e03131" if f.confirmed else "#868e96" for f in found]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=delta,
            y=labels,
            mode="markers",
            name="slice (95% interval)",
            marker=dict(size=11, color=colors, line=dict(width=1, color="#343a40")),
            error_x=dict(type="data", symmetric=False, array=hi - delta, arrayminus=delta - lo, color="#495057"),
            customdata=[[plotly_text(f.text), f.confirm["vs_rest_p_adjusted"]] for f in found],
            hovertemplate="%{y}<br>%{customdata[0]}<br>change %{x:+.1f} pts<br>vs the rest: BH p=%{customdata[1]:.2g}"
            "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rest,
            y=labels,
            mode="markers",
            name="the rest of the rows",
            marker=dict(size=9, symbol="line-ns-open", color="#212529", line=dict(width=2)),
            hovertemplate="%{y}<br>rest %{x:+.1f} pts<extra></extra>",
        )
    )
    fig.add_vline(x=0, line=dict(color="#212529", width=1, dash="dot"))
    fig.update_layout(
        xaxis=dict(title="candidate − baseline accuracy on the confirmation half, points", tickformat="+.0f"),
        yaxis=dict(autorange="reversed"),
    )
    title = (
        f"Discovered slices (seed {discovery.settings.seed}; {discovery.n_confirm:,} confirmation rows) · "
        "red ⚠ = confirmed worse than the rest (Benjamini-Hochberg)"
    )
    return _layout(fig, title, _height(len(found), per_row=34))


def token_push_bars(result, top: int = 12):
    """Tokens that pushed the candidate to its wrong label on a slice's regressed rows, against the share
    of those rows where the same token pushed the baseline toward that label (Wilson 95% intervals);
    word classes ("[negation word]") first."""
    import plotly.graph_objects as go

    tokens = pd.concat([result.groups, result.tokens.head(top)], ignore_index=True)  # word classes first
    fig = go.Figure()
    for role, name in (("candidate", result.candidate), ("baseline", result.baseline)):
        share = tokens[f"{role}_share"].to_numpy(dtype=float)
        if np.isnan(share).all():
            continue  # not explained (precomputed): no bar rather than a bar reading 0%
        lo, hi = (tokens[f"{role}_share_{k}"].to_numpy(dtype=float) for k in ("lo", "hi"))
        fig.add_trace(
            go.Bar(
                y=[f"{plotly_text(t)} ({units.count(n, 'row')})" for t, n in zip(tokens["token"], tokens["n_rows"])],
                x=share,
                orientation="h",
                name=plotly_text(f"{role}: {name}"),
                marker_color=ROLE_COLORS[role],
                error_x=dict(
                    type="data", symmetric=False, array=hi - share, arrayminus=share - lo, thickness=1, width=3
                ),
                customdata=tokens[f"{role}_rows"],
                hovertemplate="%{y}<br>%{customdata} of "
                + f"{result.n_explained} rows (%{{x:.0%}})<extra>{role}</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis=dict(
            title=f"share of the {result.n_explained} explained regressed rows "
            f"where the token is a top-{result.top_k} push toward the "
            "candidate's wrong label",
            tickformat=".0%",
        ),
        yaxis=dict(autorange="reversed"),
    )
    return _layout(
        fig,
        plotly_text(f"Why {result.candidate} flips on {result.slice}: tokens pushing it to its wrong label"),
        _height(len(tokens), per_row=40),
    )
