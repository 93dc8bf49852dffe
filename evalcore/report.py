"""A report anyone can read: the analysis as one self-contained Markdown or HTML document.

The report is first built as a list of plain blocks (heading, paragraph, bullets, table, figure);
`render_markdown` and `render_html` only print those blocks, so both formats always carry the
same numbers. The HTML inlines its CSS and plotly.js once, so the file opens offline and can be
mailed or attached to a CI run. `summarize_findings` writes the "what slicing revealed" sentences
that the app's Compare page shows as well.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np
import pandas as pd

from evalcore.metrics import ALL_SLICE, METHODS
from evalcore.tables import ROLES, role_col, role_names

if TYPE_CHECKING:
    from evalcore.gates import GateReport
    from evalcore.perturb import PerturbResult
    from evalcore.pipeline import Analysis
    from evalcore.stress import StressResult, StressSet

BIG_DROP = 0.05  # a drop of 5 points or more is worth a sentence even when not significant
MAX_LISTED = 3  # slices named per finding sentence
MAX_CASE_ROWS = 200  # stress cases shown in the report
MAX_PERTURB_EXAMPLES = 30


# --- blocks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    """A paragraph. `markup`: our own `**bold**` and `` `code` `` (False for user-written text)."""

    text: str
    markup: bool = True


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    marked: frozenset[int] = frozenset()  # rows to highlight (flagged slices, failed gates)


@dataclass(frozen=True)
class Figure:
    name: str
    fig: Any  # plotly Figure


Block = Union[Heading, Para, Bullets, Table, Figure]


# --- number formatting ----------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _f3(x: Any) -> str:
    return "–" if _missing(x) else f"{float(x):.3f}"


def _ci(value: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    if _missing(value):
        return "–"
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"{fmt.format(value)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _p(p: Any) -> str:
    return "–" if _missing(p) else f"{float(p):.3g}"


def _pts(x: float) -> str:
    """A change as signed accuracy points: -0.3 -> '-30.0 points'."""
    return f"{x * 100:+.1f} points"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _cell(x: Any) -> str:
    """Any table value as text: 3 decimals for floats, yes/no for flags, '–' when missing."""
    if _missing(x):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.3f}"
    return str(x)


def frame_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, max_rows: int | None = None) -> Table:
    """A DataFrame as a report table (the columns that exist, in order)."""
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    part = frame if max_rows is None else frame.head(max_rows)
    return Table([str(c) for c in cols], [[_cell(v) for v in row] for row in part[cols].itertuples(index=False)])


# --- findings -------------------------------------------------------------------------------------


def _settings(analysis: Analysis) -> dict[str, Any]:
    attrs = analysis.results.regression_metrics.attrs
    return {"alpha": attrs.get("alpha", 0.05), "min_n": attrs.get("min_n", 30),
            "conf_threshold": attrs.get("conf_threshold", analysis.df_eval.attrs.get("conf_threshold", 0.8))}


def _named(rows: pd.DataFrame) -> str:
    """`a (-42.5 points, n=207), b (...) and c (...)`."""
    parts = [f"{r.slice} ({_pts(r.delta)}, n={int(r.n)}{', small' if r.small else ''})"
             for r in rows.itertuples()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def summarize_findings(analysis: Analysis) -> list[str]:
    """Plain sentences on what slicing revealed beyond the overall number, to be read aloud:
    the overall change, where the candidate loses most, which losses survive Benjamini-Hochberg,
    where the overall sign misleads, which big drops are too small to trust, and calibration."""
    r = analysis.results
    o, reg = r.overall, r.regression_metrics
    names = role_names(analysis.df_eval)
    s = _settings(analysis)
    base, cand = names["baseline"], names["candidate"]
    slices = reg[(reg["slice"] != ALL_SLICE) & (reg["n"] > 0)]
    d = o["delta"]
    overall_sig = o["mcnemar_p"] < s["alpha"]
    out = [
        f"Overall, the candidate {cand} is right on {_pct(o['candidate']['value'])} of the {o['n']} examples "
        f"against {_pct(o['baseline']['value'])} for the baseline {base}: a change of {_pts(d['value'])} "
        f"(95% interval {d['lo'] * 100:+.1f} to {d['hi'] * 100:+.1f}), which is "
        f"{'' if overall_sig else 'not '}significant (exact McNemar p = {_p(o['mcnemar_p'])}). "
        f"{cand} breaks {o['n_regressed']} examples {base} got right and fixes {o['n_improved']}."
    ]
    if slices.empty and (reg["slice"] != ALL_SLICE).any():
        return out + ["No slice selects any row of this data, so the overall number is all there is: check "
                      "the slice rules."]
    if slices.empty:
        return out + ["No slice is defined, so the overall number is all there is: add slices to see "
                      "where the change comes from."]
    drops = slices[slices["delta"] < 0].sort_values("delta").head(MAX_LISTED)
    gains = slices[slices["delta"] > 0].sort_values("delta", ascending=False).head(MAX_LISTED)
    if not drops.empty:
        out.append(f"The candidate loses most on {_named(drops)}.")
    else:
        out.append(f"No slice loses accuracy; the largest gains are on {_named(gains)}." if not gains.empty
                   else "Every slice has exactly the same accuracy under both models.")
    out.append(_significance_sentence(slices, s["alpha"], overall_sig, int((reg["slice"] != ALL_SLICE).sum())))
    out += _sign_sentences(slices, d["value"], s["alpha"])
    out += _uncertain_sentences(slices)
    out += _confidence_sentences(analysis, reg[reg["slice"] == ALL_SLICE].iloc[0], cand, s["conf_threshold"])
    empty = reg.loc[(reg["slice"] != ALL_SLICE) & (reg["n"] == 0), "slice"].tolist()
    if empty:
        out.append(f"{', '.join(empty)} {'selects' if len(empty) == 1 else 'select'} no rows of this data: "
                   "check the rule, or drop the slice.")
    return out


def _significance_sentence(slices: pd.DataFrame, alpha: float, overall_sig: bool, total: int) -> str:
    flagged = slices[slices["significant_regression"]].sort_values("delta")
    raw_only = slices[(slices["mcnemar_p"] < alpha) & (slices["delta"] < 0) & ~slices["significant_regression"]]
    bh = f"after Benjamini-Hochberg correction (false discovery rate {alpha:g})"
    if flagged.empty:
        text = f"No slice regresses significantly {bh}, so no slice-level loss is established beyond chance."
    else:
        verb = "regresses" if len(flagged) == 1 else "regress"
        text = (f"{len(flagged)} of {total} slices {verb} significantly {bh}: "
                f"{', '.join(flagged['slice'])}.")
        if not overall_sig:
            text = "The overall change is not significant, yet slicing finds real losses: " + text[0].lower() + text[1:]
    if not raw_only.empty:
        text += (f" {', '.join(raw_only['slice'])} had p < {alpha:g} before the correction but not after: "
                 "treat {} as a lead, not as evidence.".format("it" if len(raw_only) == 1 else "them"))
    return text


def _sign_sentences(slices: pd.DataFrame, overall: float, alpha: float) -> list[str]:
    """Slices where the change goes the other way from overall: the headline number hides them."""
    if overall == 0:
        return []
    against = slices[np.sign(slices["delta"]) == -np.sign(overall)]
    against = against.reindex(against["delta"].abs().sort_values(ascending=False).index).head(MAX_LISTED)
    out = []
    for row in against.itertuples():
        sig = row.p_adjusted < alpha
        verdict = ("and this is significant after the correction" if sig else
                   f"but the interval ({row.delta_lo * 100:+.1f} to {row.delta_hi * 100:+.1f}) is too wide "
                   "to tell the direction")
        trend = "loses" if overall < 0 else "gains"
        went = "gains" if row.delta > 0 else "loses"
        lead = ("Overall accuracy hides a loss here" if overall > 0 and sig
                else f"{row.slice} goes against the overall trend")
        out.append(f"{lead}: the candidate {went} {abs(row.delta) * 100:.1f} points on {row.slice} "
                   f"(n={int(row.n)}{', small' if row.small else ''}) while it {trend} "
                   f"{abs(overall) * 100:.1f} points overall, {verdict}.")
    return out


def _uncertain_sentences(slices: pd.DataFrame) -> list[str]:
    """Big drops that are not significant, and significant ones on very few rows."""
    out = []
    loose = slices[(slices["delta"] <= -BIG_DROP) & ~slices["significant_regression"]].sort_values("delta")
    if not loose.empty:
        one = len(loose) == 1
        advice = (f"{'This slice is' if one else 'These slices are'} too small to tell; collect more examples "
                  "before drawing conclusions." if loose["small"].all() else
                  f"{'It' if one else 'They'} may be chance; look at the examples before drawing conclusions.")
        out.append(f"Large drops that are not significant: {_named(loose.head(MAX_LISTED))}. {advice}")
    tiny = slices[slices["significant_regression"] & slices["small"]]
    for row in tiny.head(MAX_LISTED).itertuples():
        out.append(f"{row.slice} is flagged although it has only {int(row.n)} examples: {int(row.n_regressed)} "
                   f"regressions against {int(row.n_improved)} improvements are enough for significance, but "
                   f"the size of the drop is very uncertain ({row.delta_lo * 100:+.1f} to "
                   f"{row.delta_hi * 100:+.1f} points).")
    return out


def _confidence_sentences(analysis: Analysis, everything: Any, cand: str, conf_threshold: float) -> list[str]:
    """How many regressions are confident (the `all` row), and each model's calibration."""
    out = []
    n_reg, n_conf = int(everything.n_regressed), int(everything.n_confident_regressed)
    if n_reg:
        share = n_conf / n_reg
        tone = "Most of" if share >= 0.5 else "Some of" if share >= 0.2 else "Few of"
        tail = ", so a confidence cut-off would not catch them." if share >= 0.5 else "."
        out.append(f"{tone} the candidate's regressions are confident: {n_conf} of {n_reg} come with confidence "
                   f">= {conf_threshold:g}{tail}")
    cal = analysis.results.calibration
    cal = cal[cal["slice"] == ALL_SLICE].set_index("role")
    if set(ROLES) <= set(cal.index) and not cal.loc[list(ROLES), "ece"].isna().any():
        parts = []
        for role in ROLES:
            row = cal.loc[role]
            acc = analysis.results.overall[role]["value"]
            gap = row["mean_conf"] - acc
            if abs(gap) >= 0.1:
                parts.append(f"{row['model']} is {'over' if gap > 0 else 'under'}confident "
                             f"(mean confidence {row['mean_conf']:.2f} against accuracy {acc:.2f})")
        text = (f"Calibration: expected calibration error {cal.loc['baseline', 'ece']:.3f} for "
                f"{cal.loc['baseline', 'model']} and {cal.loc['candidate', 'ece']:.3f} for {cand}")
        out.append(text + ("; " + " and ".join(parts) if parts else "") + ".")
    return out


# --- figures --------------------------------------------------------------------------------------


def analysis_figures(analysis: Analysis) -> dict[str, Any]:
    """The analysis's Plotly charts by name, shared by the HTML report and the W&B push."""
    from evalcore import charts
    from evalcore.metrics import confusion, reliability_diagram

    r = analysis.results
    df = analysis.df_eval
    names = role_names(df)
    figs = {"accuracy_per_slice": charts.accuracy_bars(r.slice_metrics, r.regression_metrics),
            "delta_per_slice": charts.delta_dots(r.regression_metrics),
            "rates_per_slice": charts.rate_bars(r.regression_metrics)}
    bins = {names[role]: reliability_diagram(df[role_col(role, "conf")], df[role_col(role, "correct")])
            for role in ROLES}
    if any(b["count"].sum() for b in bins.values()):
        figs["reliability"] = charts.reliability_diagram(bins)
    for role in ROLES:
        figs[f"confusion_{role}"] = charts.confusion_heatmap(
            confusion(df, None, role, analysis.data.labels), f"Confusion matrix: {names[role]} ({role})")
    return figs


# --- the document ---------------------------------------------------------------------------------


def report_blocks(analysis: Analysis, gates: GateReport | None = None, stress: StressResult | None = None,
                  perturb: PerturbResult | None = None, notes: str = "", *, stress_set: StressSet | None = None,
                  figures: bool = False, generated_at: datetime | None = None) -> list[Block]:
    """The whole report as blocks (figures only when `figures`: Markdown has no place for them)."""
    from evalcore.gates import evaluate_gates

    gates = gates if gates is not None else evaluate_gates(analysis, stress=stress)
    names = role_names(analysis.df_eval)
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        Heading(f"evalcore report: {names['candidate']} (candidate) vs {names['baseline']} (baseline)", 1),
        Para(f"Generated {when} by evalcore."),
        *_recommendation_blocks(gates),
        Heading("What slicing revealed"), Bullets(summarize_findings(analysis)),
    ]
    if notes and notes.strip():
        blocks += [Heading("Notes"), Para(notes.strip(), markup=False)]
    blocks += _data_blocks(analysis)
    blocks += _overall_blocks(analysis)
    blocks += _slice_blocks(analysis)
    if figures:
        blocks += [Heading("Charts")] + [Figure(n, f) for n, f in analysis_figures(analysis).items()]
    blocks += _calibration_blocks(analysis)
    if stress is not None:
        blocks += _stress_blocks(stress, stress_set)
    if perturb is not None:
        blocks += _perturb_blocks(perturb)
    blocks += [Heading("Methods"), Bullets([f"{k}: {v}" for k, v in METHODS.items()])]
    if analysis.results.warnings:
        blocks += [Heading("Warnings"), Bullets(list(analysis.results.warnings))]
    return blocks


def _recommendation_blocks(gates: GateReport) -> list[Block]:
    verdict = "SHIP" if gates.passed else "NO-SHIP"
    rows = [["pass" if g.passed else "FAIL", g.name, _cell(g.threshold), _cell(g.observed), g.explanation]
            for g in gates.results]
    blocks: list[Block] = [Heading("Recommendation"), Para(f"**Recommendation: {verdict}.** {gates.summary()}")]
    if rows:
        blocks.append(Table(["result", "gate", "threshold", "observed", "why"], rows,
                            frozenset(i for i, g in enumerate(gates.results) if not g.passed)))
    return blocks


def _data_blocks(analysis: Analysis) -> list[Block]:
    data = analysis.data
    s = _settings(analysis)
    items = [f"Data: {data.name} (source `{data.source}`), {len(data)} rows, labels {', '.join(data.labels)}."]
    for role, p in zip(ROLES, (analysis.baseline, analysis.candidate)):
        origin = "precomputed predictions" if p.precomputed else (
            f"{p.n_cached} from the prediction cache, {p.n_computed} computed in this run")
        items.append(f"{role.capitalize()}: {p.model} (spec `{p.spec}`): {p.n_total} rows, {origin}.")
    items.append(f"Settings: a regression is confident when the candidate's confidence is >= {s['conf_threshold']:g}; "
                 f"slices are flagged at false discovery rate {s['alpha']:g}; slices under {s['min_n']} rows are "
                 "marked small.")
    return [Heading("Data and models"), Bullets(items)]


def _overall_blocks(analysis: Analysis) -> list[Block]:
    o = analysis.results.overall
    rows = [[role, o[role]["model"], _ci(o[role]["value"], o[role]["lo"], o[role]["hi"])] for role in ROLES]
    d = o["delta"]
    items = [f"Change (candidate - baseline, paired): {_ci(d['value'], d['lo'], d['hi'], signed=True)}; "
             f"exact McNemar p = {_p(o['mcnemar_p'])}.",
             f"Regression rate {_f3(o['regression_rate'])} ({o['n_regressed']} examples), improvement rate "
             f"{_f3(o['improvement_rate'])} ({o['n_improved']}), confident-regression rate "
             f"{_f3(o['confident_regression_rate'])}."]
    return [Heading("Overall results"), Table(["role", "model", "accuracy [95% interval]"], rows), Bullets(items)]


def _slice_blocks(analysis: Analysis) -> list[Block]:
    r = analysis.results
    reg = r.regression_metrics
    acc = r.slice_metrics.set_index(["slice", "role"])
    rows, marked = [], set()
    for i, row in enumerate(reg.itertuples()):
        accs = [_ci(*(acc.loc[(row.slice, role), k] for k in ("accuracy", "acc_lo", "acc_hi"))) for role in ROLES]
        flags = [f for f, on in (("significant regression", row.significant_regression), ("small", row.small)) if on]
        if row.significant_regression:
            marked.add(i)
        rows.append([row.slice, str(int(row.n)), *accs, _ci(row.delta, row.delta_lo, row.delta_hi, signed=True),
                     _f3(row.regression_rate), _f3(row.improvement_rate), _f3(row.confident_regression_rate),
                     _p(row.mcnemar_p), _p(row.p_adjusted), ", ".join(flags) or "–"])
    headers = ["slice", "n", "baseline accuracy", "candidate accuracy", "change", "regression rate",
               "improvement rate", "confident regression rate", "McNemar p", "BH-adjusted p", "flags"]
    flagged = reg[reg["slice"].isin(r.flagged)].sort_values("delta")
    flag_items = [f"{row.slice}: {_pts(row.delta)} (n={int(row.n)}{', small' if row.small else ''}), "
                  f"{int(row.n_regressed)} regressed vs {int(row.n_improved)} improved, BH-adjusted p = "
                  f"{_p(row.p_adjusted)}" for row in flagged.itertuples()]
    defs = [[s.name, s.text, s.note or "–"] for s in analysis.slices]
    return [Heading("Per-slice results"),
            Para("Accuracies with 95% Wilson intervals; the change with its paired 95% interval; rates are "
                 "shares of the slice's rows."),
            Table(headers, rows, frozenset(marked)),
            Heading("Flagged regressions", 3),
            Bullets(flag_items) if flag_items else Para("No slice regresses significantly after the correction."),
            Heading("Slice definitions", 3),
            Table(["slice", "rule", "hypothesis"], defs) if defs else Para("No slices are defined.")]


def _calibration_blocks(analysis: Analysis) -> list[Block]:
    cal = analysis.results.calibration
    cal = cal[cal["slice"] == ALL_SLICE]
    return [Heading("Calibration"),
            Para("Top-label confidence on every row: lower ECE and Brier are better."),
            frame_table(cal, ["model", "role", "n_with_conf", "mean_conf", "ece", "brier"])]


def _stress_blocks(stress: StressResult, stress_set: StressSet | None) -> list[Block]:
    blocks: list[Block] = [Heading("Stress tests")]
    if stress_set is not None and (stress_set.hypothesis or stress_set.target_slice):
        items = [f"Hypothesis: {stress_set.hypothesis or '(none written)'}",
                 f"Targeted slice: {stress_set.target_slice or '(none)'}"]
        blocks.append(Bullets(items))
    blocks += [Para(f"Summary (a wrong answer counts as high-confidence at confidence >= {stress.conf_threshold:g}):"),
               frame_table(stress.stress_summary)]
    wide = stress.stress_wide
    shown = f"first {MAX_CASE_ROWS} of {len(wide)}" if len(wide) > MAX_CASE_ROWS else f"all {len(wide)}"
    blocks += [Para(f"Cases ({shown}):"), frame_table(wide, max_rows=MAX_CASE_ROWS)]
    return blocks


def _perturb_blocks(perturb: PerturbResult) -> list[Block]:
    blocks: list[Block] = [Heading("Perturbation tests"),
                           Para("INV: the prediction must not change; DIR: a clearly polar tweet must not keep its "
                                "polarity with high confidence. Failure rate over the applicable cases."),
                           frame_table(perturb.summary)]
    if not perturb.examples.empty:
        blocks += [Para("Failing examples:"),
                   frame_table(perturb.examples, ["generator", "model", "original", "perturbed", "orig_pred",
                                                  "pert_pred", "pert_conf"], max_rows=MAX_PERTURB_EXAMPLES)]
    return blocks


# --- Markdown -------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text
    if isinstance(block, Para):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_md_cell(h) for h in block.headers) + " |",
                 "|" + "|".join("---" for _ in block.headers) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    return ""  # figures live in the HTML report


def render_markdown(analysis: Analysis, gates: GateReport | None = None, stress: StressResult | None = None,
                    perturb: PerturbResult | None = None, notes: str = "", *, stress_set: StressSet | None = None,
                    generated_at: datetime | None = None) -> str:
    """The report as Markdown (tables, no charts). `gates=None` evaluates the default gates."""
    blocks = report_blocks(analysis, gates, stress, perturb, notes, stress_set=stress_set,
                           generated_at=generated_at)
    return "\n\n".join(t for t in (_md_block(b) for b in blocks) if t) + "\n"


# --- HTML -----------------------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#212529;max-width:1200px;
margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.6rem}h2{border-bottom:1px solid #dee2e6;padding-bottom:.25rem;margin-top:2rem}
table{border-collapse:collapse;margin:.75rem 0;font-size:.85rem;display:block;overflow-x:auto}
th,td{border:1px solid #dee2e6;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f5}tr.marked td{background:#fff5f5}
code{background:#f1f3f5;padding:0 .2rem;border-radius:3px}
.notes{white-space:pre-wrap;background:#f8f9fa;padding:.75rem;border-left:3px solid #adb5bd}
.figure{margin:1rem 0}
"""


def _inline(text: str) -> str:
    """Escape, then our own markup: **bold** and `code`."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def _html_block(block: Block, plotly_js: list[bool]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Para):
        if block.markup:
            return f"<p>{_inline(block.text)}</p>"
        return f'<div class="notes">{html.escape(block.text)}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
        body = "".join(
            ('<tr class="marked">' if i in block.marked else "<tr>")
            + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for i, row in enumerate(block.rows))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    include = not plotly_js[0]  # plotly.js inline once, with the first figure
    plotly_js[0] = True
    div = block.fig.to_html(full_html=False, include_plotlyjs=include, config={"displaylogo": False})
    return f'<div class="figure" id="fig-{html.escape(block.name)}">{div}</div>'


def render_html(analysis: Analysis, gates: GateReport | None = None, stress: StressResult | None = None,
                perturb: PerturbResult | None = None, notes: str = "", *, stress_set: StressSet | None = None,
                generated_at: datetime | None = None, charts: bool = True) -> str:
    """The report as one self-contained HTML page: inline CSS, plotly.js inlined once (works offline)."""
    blocks = report_blocks(analysis, gates, stress, perturb, notes, stress_set=stress_set, figures=charts,
                           generated_at=generated_at)
    title = blocks[0].text if isinstance(blocks[0], Heading) else "evalcore report"
    plotly_js = [False]
    body = "\n".join(_html_block(b, plotly_js) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def export_reports(analysis: Analysis, gates: GateReport | None = None, *, markdown: str | None = None,
                   html_path: str | None = None, stress: StressResult | None = None,
                   perturb: PerturbResult | None = None, notes: str = "",
                   stress_set: StressSet | None = None) -> list[str]:
    """Write the Markdown and/or HTML report (what `report --markdown FILE --html FILE` does);
    returns the paths written."""
    kwargs = dict(stress=stress, perturb=perturb, notes=notes, stress_set=stress_set)
    written = []
    if markdown:
        written.append(write_report(markdown, render_markdown(analysis, gates, **kwargs)))
    if html_path:
        written.append(write_report(html_path, render_html(analysis, gates, **kwargs)))
    return written


def write_report(path: str, text: str) -> str:
    """Write a rendered report (UTF-8), creating the folder; returns the path as written."""
    from pathlib import Path

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return str(out)


__all__ = ["analysis_figures", "export_reports", "frame_table", "render_html", "render_markdown", "report_blocks",
           "summarize_findings", "write_report"]
