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
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.tables import ROLES, role_col, role_names
from evalcore.core import units
from evalcore.core.safetext import code, lit, md_escape, md_escape_line, plain, to_html, to_markdown
from evalcore.present.blocks import (
    DETECTABLE,
    Block,
    Bullets,
    Figure,
    Heading,
    Para,
    Raw,
    Table,
    _cluster_note,
    detectable_loss,
    verdict_label,
)
from evalcore.stats.metrics import ALL_SLICE, METHODS

if TYPE_CHECKING:
    from evalcore.decide.discover import Discovery
    from evalcore.decide.verdict import Verdict
    from evalcore.probe.explain_aggregate import RegressionExplanations
    from evalcore.probe.perturb import PerturbResult
    from evalcore.probe.stress import StressResult, StressSet
    from evalcore.stats.results import Analysis

BIG_DROP = 0.05  # a drop of 5 points or more is worth a sentence even when not significant
MAX_LISTED = 3  # slices named per finding sentence
MAX_CASE_ROWS = 200  # stress cases shown in the report
PERTURB_EXAMPLES_PER_TEST = 3  # edits shown per test, failures first, the edit marked


# --- number formatting ----------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _cell(x: Any) -> str:
    """Any table value as text: 3 decimals for floats, yes/no for flags, '–' when missing."""
    if _missing(x):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.3f}"
    return str(x)


def stress_summary_table(summary: pd.DataFrame) -> Table:
    """The stress summary with n and intervals on every rate (shared by the report and the app)."""
    with_slice = "slice_accuracy" in summary.columns
    rows = []
    for r in summary.itertuples():
        acc = (
            f"{units.pct_ci(r.accuracy, r.accuracy_lo, r.accuracy_hi)} ({r.n_correct:,} of {r.n_labelled:,})"
            if r.n_labelled
            else "unknown (no labelled case)"
        )
        high = (
            f"{int(r.high_conf_wrong):,} of {r.n_wrong:,} wrong"
            if r.high_conf_wrong == r.high_conf_wrong
            else f"n/a ({getattr(r, 'score_kind', 'score')}, not a probability)"
        )
        row = [
            str(r.model),
            r.role,
            f"{r.n:,}",
            acc,
            high,
            f"{units.pct_ci(r.disagreement_rate, r.disagreement_lo, r.disagreement_hi)} ({r.n_disagree:,} of {r.n:,})",
        ]
        if with_slice:
            row += [units.pct(r.slice_accuracy), units.pts(r.accuracy_vs_slice)]
        rows.append(row)
    headers = [
        "model",
        "role",
        "cases",
        "accuracy [95% interval]",
        "high-confidence wrong",
        "disagreement between the models",
    ]
    return Table(headers + (["accuracy on the targeted slice", "cases - slice"] if with_slice else []), rows)


def perturb_summary_table(summary: pd.DataFrame) -> Table:
    """Failure rate per generator and model with its interval; 'not applicable' never reads as 0%."""

    def skipped(r: Any) -> str:
        n = getattr(r, "n_skipped", 0)
        return f"{n:,} ({r.skipped_why})" if n and getattr(r, "skipped_why", "") else f"{n:,}"

    rows = [
        [
            r.generator,
            r.expectation,
            str(r.model),
            f"{getattr(r, 'n_texts', r.n_cases):,}",
            skipped(r),
            f"{r.n_cases:,}",
            f"{r.n_applicable:,}",
            f"{units.pct_ci(r.failure_rate, r.failure_rate_lo, r.failure_rate_hi)} ({r.n_fail:,} of {r.n_applicable:,})"
            if r.n_applicable
            else "not applicable (no case applies)",
        ]
        for r in summary.itertuples()
    ]
    return Table(
        [
            "test",
            "expectation",
            "model",
            "texts tried",
            "skipped: no edit made (why)",
            "edits",
            "applicable",
            "failure rate [95% interval]",
        ],
        rows,
    )


def method_lines(analysis: Analysis) -> list[str]:
    """Every method behind the numbers of this report, once (the task kind's: generation's are genreport's)."""
    return analysis.kind.method_lines(analysis)


def classification_method_lines(analysis: Analysis) -> list[str]:
    """The methods behind a classification comparison's numbers, once."""
    r = analysis.results
    methods = {
        **{k: METHODS[k] for k in ("accuracy_interval", "delta_interval", "mcnemar_p", "rate_interval")},
        **r.regression_metrics.attrs.get("methods", {}),
        **{f"{k} change": v for k, v in r.changes.attrs.get("methods", {}).items()},
        **{f"per-class {k}": v for k, v in r.per_class.attrs.get("methods", {}).items()},
        **r.overall_calibration().attrs.get("methods", {}),
    }
    return [f"{k}: {v}" for k, v in methods.items()]


def frame_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, max_rows: int | None = None) -> Table:
    """A DataFrame as a report table (the columns that exist, in order)."""
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    part = frame if max_rows is None else frame.head(max_rows)
    return Table([str(c) for c in cols], [[_cell(v) for v in row] for row in part[cols].itertuples(index=False)])


# --- findings -------------------------------------------------------------------------------------


def _settings(analysis: Analysis) -> dict[str, Any]:
    attrs = analysis.results.regression_metrics.attrs
    return {
        "alpha": attrs.get("alpha", 0.05),
        "min_n": attrs.get("min_n", 30),
        "conf_threshold": attrs.get("conf_threshold", analysis.df_eval.attrs.get("conf_threshold", 0.8)),
    }


def slice_margin(gates: Verdict | None, task: str = "classification") -> float:
    """The slice gate's margin when it is on: the headline metric's slice gate
    first (slice_accuracy, slice_f1), else any slice gate, else the task's default (5 points)."""
    from evalcore.decide.gates import DEFAULTS
    from evalcore.stats.comparisons import HEADLINE

    own = f"slice_{HEADLINE[task]}"
    results = list(gates.results) if gates is not None else []
    for r in sorted(results, key=lambda r: r.name != own):
        if r.name.startswith("slice_"):
            return r.margin
    return DEFAULTS[task][own]


def summarize_findings(analysis: Analysis, gates: Verdict | None = None) -> list[str]:
    """Plain sentences on what slicing revealed beyond the overall number, to be read aloud; each is
    generated from the numbers it prints (`evalcore.decide.findings`)."""
    from evalcore.decide.findings import analysis_findings
    from evalcore.decide.label_mix import label_mix_findings

    return [f.text for f in analysis_findings(analysis, slice_margin(gates, analysis.task))] + (
        label_mix_findings(analysis) if analysis.kind.label_mix else []
    )


# --- figures --------------------------------------------------------------------------------------


def analysis_figures(analysis: Analysis) -> dict[str, Any]:
    """The analysis's Plotly charts by name, shared by the HTML report and the W&B push (the task kind's)."""
    return analysis.kind.figures(analysis)


def classification_figures(analysis: Analysis) -> dict[str, Any]:
    """A classification comparison's Plotly charts by name."""
    from evalcore.present import charts
    from evalcore.stats.metrics import confusion, reliability_diagram

    r = analysis.results
    df = analysis.df_eval
    names = role_names(df)
    figs = {
        "accuracy_per_slice": charts.accuracy_bars(r.slice_metrics, r.regression_metrics),
        "delta_per_slice": charts.delta_dots(r.regression_metrics),
        "rates_per_slice": charts.rate_bars(r.regression_metrics),
    }
    bins = {
        names[role]: reliability_diagram(df[role_col(role, "conf")], df[role_col(role, "correct")]) for role in ROLES
    }
    if any(b["count"].sum() for b in bins.values()):
        figs["reliability"] = charts.reliability_diagram(bins)
    for role in ROLES:
        figs[f"confusion_{role}"] = charts.confusion_heatmap(
            confusion(df, None, role, analysis.data.labels), f"Confusion matrix: {names[role]} ({role})"
        )
    return figs


# --- the document ---------------------------------------------------------------------------------


def report_blocks(
    analysis: Analysis,
    gates: Verdict | None = None,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    notes: str = "",
    *,
    stress_set: StressSet | None = None,
    figures: bool = False,
    generated_at: datetime | None = None,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> list[Block]:
    """The whole report as blocks (figures only when `figures`: Markdown has no place for them).
    `discovery` and `explanations` (evalcore.decide.discover, evalcore.probe.explain_aggregate) add their sections."""
    from evalcore.decide.verdict import decide

    gates = gates if gates is not None else decide(analysis, stress=stress)
    names = role_names(analysis.df_eval)
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        Heading(f"evalcore report: {names['candidate']} (candidate) vs {names['baseline']} (baseline)", 1),
        Para(f"Generated {when} by evalcore."),
        *_recommendation_blocks(gates),
        Heading("What slicing revealed"),
        Bullets([lit(f) for f in summarize_findings(analysis, gates)]),
    ]
    if notes and notes.strip():
        blocks += [Heading("Notes"), Para(notes.strip(), markup=False)]
    blocks += _data_blocks(analysis)
    blocks += analysis.kind.report_blocks(analysis, gates)  # generation: scores of answers (genreport)
    if discovery is not None:
        blocks += discovery_blocks(discovery, figures)
    if explanations is not None:
        blocks += explanation_blocks(explanations, figures)
    blocks += analysis.kind.class_blocks(analysis)  # none on generation: gold answers are free text
    if figures:
        blocks += [Heading("Charts")] + [Figure(n, f) for n, f in analysis_figures(analysis).items()]
    blocks += analysis.kind.calibration_blocks(analysis)  # none on generation: answers carry no confidence
    if stress is not None:
        blocks += _stress_blocks(stress, stress_set)
    if perturb is not None:
        blocks += _perturb_blocks(perturb)
    blocks += [Heading("Methods"), Bullets([lit(m) for m in method_lines(analysis)])]
    if analysis.results.warnings:
        blocks += [Heading("Warnings"), Bullets([lit(w) for w in analysis.results.warnings])]
    return blocks


def _recommendation_blocks(gates: Verdict) -> list[Block]:
    from evalcore.decide.gates import PASS, margin_text

    rows = [
        [
            g.status if g.status == PASS else g.status.upper(),
            g.name,
            margin_text(g.name, g.margin),
            _gate_value(g),
            "–" if g.n is None else f"{g.n:,}",
            g.reason,
        ]
        for g in gates.results
    ]
    blocks: list[Block] = [
        Heading("Recommendation"),
        Para(f"**Verdict: {gates.decision.upper()}.** {lit(gates.next_step)}"),
    ]
    if rows:
        blocks.append(
            Table(
                ["result", "gate", "margin", "observed [95% interval]", "n", "why"],
                rows,
                frozenset(i for i, g in enumerate(gates.results) if not g.passed),
            )
        )
    if gates.notes:
        blocks.append(Bullets([lit(n[0].upper() + n[1:] + ".") for n in gates.notes]))
    blocks.append(Para(RULES_TEXT))
    return blocks


RULES_TEXT = (
    "An overall gate passes when its 95% interval rules out a loss beyond the margin, fails when the whole "
    "interval lies beyond it, and needs more data otherwise. A watched slice blocks only on evidence of harm "
    "(one-sided test, Benjamini-Hochberg over the judged slices): no-ship when the loss is beyond the margin, "
    "need more data when its interval spans it; slices under the small-slice size are too small to judge, "
    "and slices defined by a model's own output are shown but never gate. A guardrail passes only when a "
    "loss of its margin is ruled out (Bonferroni over the guardrails)."
)


def _gate_value(g: Any) -> str:
    from evalcore.decide.gates import GATES

    if g.observed is None:
        return "–"
    if GATES[g.name].kind in ("margin", "gain"):
        return units.pts_ci(g.observed, g.lo, g.hi)
    return units.pct_ci(g.observed, g.lo, g.hi)


def _data_blocks(analysis: Analysis) -> list[Block]:
    data = analysis.data
    s = _settings(analysis)
    what = analysis.kind.data_description(data)
    items = [f"Data: {lit(data.name)} (source {code(data.source)}), {len(data)} rows, {lit(what)}."]
    for role, p in zip(ROLES, (analysis.baseline, analysis.candidate)):
        origin = (
            analysis.kind.read_origin
            if p.precomputed
            else (f"{p.n_cached} from the prediction cache, {p.n_computed} computed in this run")
        )
        projection = "".join(f" Labels: {lit(n)}." for n in getattr(p, "projection", ()))
        items.append(
            f"{role.capitalize()}: {lit(p.model)} (spec {code(p.spec)}): {p.n_total} rows, {origin}." + projection
        )
    confident = (
        f"a regression is confident when the candidate's confidence is >= {s['conf_threshold']:g}; "
        if analysis.kind.confidences
        else ""
    )
    items.append(
        f"Settings: {confident}slices are compared with the rest at false discovery rate {s['alpha']:g} "
        f"(Benjamini-Hochberg); slices under {s['min_n']} rows are marked small."
    )
    return [Heading("Data and models"), Bullets(items)]


def _overall_blocks(analysis: Analysis) -> list[Block]:
    o = analysis.results.overall
    rows = [
        [role, o[role]["model"], units.pct_ci(o[role]["value"], o[role]["lo"], o[role]["hi"]), f"{o['n']:,}"]
        for role in ROLES
    ]
    d = o["delta"]
    ch = analysis.results.changes
    items = [
        f"Accuracy change (candidate - baseline, paired): {units.pts_ci(d['value'], d['lo'], d['hi'])}, "
        f"n={o['n']:,}; exact McNemar {units.p_text(o['mcnemar_p'])}; the smallest change these rows "
        f"detect with 80% power is {units.magnitude_pts(o['mde'])}."
    ]
    for row in ch[(ch["slice"] == ALL_SLICE) & (ch["metric"] != "accuracy")].itertuples():
        from evalcore.stats.comparisons import compared_metric

        title = compared_metric(row.metric).title
        items.append(
            f"{title}: {units.pct(row.baseline)} -> {units.pct(row.candidate)}, change "
            f"{units.pts_ci(row.delta, row.delta_lo, row.delta_hi)} (n={int(row.n):,}, "
            f"{units.p_text(row.p)})."
        )
    items += [
        f"Regression rate (baseline right, candidate wrong): {units.rate(o['regression_rate'])}, "
        f"{o['n_regressed']:,} rows.",
        f"Improvement rate (baseline wrong, candidate right): {units.rate(o['improvement_rate'])}, "
        f"{o['n_improved']:,} rows.",
        f"Confident-regression rate (candidate confidence >= {o['conf_threshold']:g}): "
        f"{units.rate(o['confident_regression_rate'])}.",
    ]
    return [Heading("Overall results"), Table(["role", "model", "accuracy [95% interval]", "n"], rows), Bullets(items)]


def _slice_blocks(analysis: Analysis, gates: Verdict) -> list[Block]:
    r = analysis.results
    reg = r.regression_metrics
    acc = r.slice_metrics.set_index(["slice", "role"])
    status = gates.slice_status("accuracy")
    rows, rate_rows, marked = [], [], set()
    loss = detectable_loss(gates, "accuracy", reg["slice"])
    for i, row in enumerate(reg.itertuples()):
        accs = [
            units.pct_ci(*(acc.loc[(row.slice, role), k] for k in ("accuracy", "acc_lo", "acc_hi"))) for role in ROLES
        ]
        flags = [verdict_label(status, row)]
        if row.worse_than_rest or "HARM" in flags[0] or "FAIL" in flags[0]:
            marked.add(i)
        rows.append(
            [
                row.slice,
                f"{int(row.n):,}",
                *accs,
                units.pts_ci(row.delta, row.delta_lo, row.delta_hi),
                loss[i],
                units.pts_ci(row.vs_rest, row.vs_rest_lo, row.vs_rest_hi),
                units.p_value(row.vs_rest_p_adjusted),
                units.p_value(row.mcnemar_p),
                units.p_value(row.p_adjusted),
                ", ".join(flags) or "–",
            ]
        )
        rate_rows.append(
            [
                row.slice,
                f"{int(row.n):,}",
                units.pct_ci(row.regression_rate, row.regression_rate_lo, row.regression_rate_hi),
                units.pct_ci(row.improvement_rate, row.improvement_rate_lo, row.improvement_rate_hi),
                units.pct_ci(
                    row.confident_regression_rate, row.confident_regression_rate_lo, row.confident_regression_rate_hi
                )
                if row.n_conf_known
                else "unknown",
                f"{int(row.n_conf_known):,}",
            ]
        )
    headers = [
        "slice",
        "n",
        "baseline accuracy",
        "candidate accuracy",
        "change",
        DETECTABLE,
        "change minus the rest's",
        "BH p (vs rest)",
        "p (vs 0)",
        "BH p (vs 0)",
        "in the verdict",
    ]
    defs = [[s.name, s.text, s.note or "–", r.roles.get(s.name, s.role)] for s in analysis.slices]
    return [
        Heading("Per-slice results"),
        Para(
            "Accuracies with 95% intervals; the change (candidate - baseline) with its paired 95% interval; "
            "the detectable loss is the loss the test that decides the slice in the verdict detects with 80% "
            "power (a watched slice's one-sided harm test at its Benjamini-Hochberg level, a guardrail's margin "
            "test; '–' where no test decides the slice); 'change minus the rest's' compares "
            "the slice with the other rows, and a slice is worse than the rest when that comparison survives "
            "Benjamini-Hochberg. The 'all' row is one pre-planned test and is not adjusted." + _cluster_note(analysis)
        ),
        Table(headers, rows, frozenset(marked)),
        Heading("Regression rates per slice", 3),
        Para(
            "Shares of the slice's rows with 95% Wilson intervals; the confident-regression rate is over the rows "
            "whose candidate confidence is known (last column)."
        ),
        Table(
            ["slice", "n", "regression rate", "improvement rate", "confident-regression rate", "n with confidence"],
            rate_rows,
        ),
        Heading("Slice definitions", 3),
        Table(["slice", "rule", "hypothesis", "role"], defs) if defs else Para("No slices are defined."),
    ]


def _per_class_blocks(analysis: Analysis) -> list[Block]:
    pc = analysis.results.per_class
    rows = []
    for r in pc.itertuples():
        row = [str(r.label), f"{int(r.n_gold):,}"]
        for m in ("precision", "recall", "f1"):
            row += [
                f"{units.pct(getattr(r, f'{m}_baseline'))} -> {units.pct(getattr(r, f'{m}_candidate'))}",
                units.pts_ci(getattr(r, f"{m}_delta"), getattr(r, f"{m}_delta_lo"), getattr(r, f"{m}_delta_hi")),
            ]
        rows.append(row)
    methods = pc.attrs.get("methods", {})
    return [
        Heading("Per-class results"),
        Para(
            "Per gold label, baseline -> candidate and the paired change with its 95% interval. "
            + " ".join(f"{k}: {v}." for k, v in methods.items())
        ),
        Table(["label", "n gold", "precision", "change", "recall", "change", "F1", "change"], rows),
    ]


def _calibration_blocks(analysis: Analysis) -> list[Block]:
    cal = analysis.results.calibration
    cal = cal[cal["slice"] == ALL_SLICE]
    rows = [
        [
            r.model,
            r.role,
            f"{int(r.n_with_conf):,}",
            units.pct(r.mean_conf),
            units.dec3_ci(r.ece, r.ece_lo, r.ece_hi),
            units.dec3_ci(r.brier, r.brier_lo, r.brier_hi),
        ]
        for r in cal.itertuples()
    ]
    return [
        Heading("Calibration"),
        Para(
            "Top-label confidence on the rows where it is known, with 95% bootstrap intervals: lower ECE and "
            "Brier are better. ECE is biased upward on small n; compare it on the same rows."
        ),
        Table(["model", "role", "n with confidence", "mean confidence", "ECE", "Brier"], rows),
    ]


def _stress_blocks(stress: StressResult, stress_set: StressSet | None) -> list[Block]:
    blocks: list[Block] = [Heading("Stress tests")]
    if stress_set is not None and (stress_set.hypothesis or stress_set.target_slice):
        items = [
            f"Hypothesis: {lit(stress_set.hypothesis or '(none written)')}",
            f"Targeted slice: {lit(stress_set.target_slice or '(none)')}",
        ]
        blocks.append(Bullets(items))
    blocks += [
        Para(
            f"Summary (accuracy over the labelled cases with its 95% Wilson interval; a wrong answer counts "
            f"as high-confidence at confidence >= {stress.conf_threshold:g}):"
        ),
        stress_summary_table(stress.stress_summary),
    ]
    wide = stress.stress_wide
    shown = f"first {MAX_CASE_ROWS} of {len(wide)}" if len(wide) > MAX_CASE_ROWS else f"all {len(wide)}"
    blocks += [Para(f"Cases ({shown}):"), frame_table(wide, max_rows=MAX_CASE_ROWS)]
    return blocks


def _perturb_blocks(perturb: PerturbResult) -> list[Block]:
    from evalcore.probe.perturb import examples_html, examples_markdown

    blocks: list[Block] = [
        Heading("Perturbation tests"),
        Para(
            "INV (invariance): the prediction must not change; DIR (direction): adding or removing "
            "a negation must not leave a clearly polar prediction at the same polarity with high "
            "confidence. Negations are edited only where the grammar is known, other texts are "
            "skipped and counted; a DIR check applies only where the edited clause carries the "
            "text's sentiment. Failure rate over the applicable cases, with its 95% Wilson "
            "interval; 'not applicable' where no case applies."
        ),
        perturb_summary_table(perturb.summary),
    ]
    for gen in dict.fromkeys(perturb.summary["generator"]):
        shown = perturb.shown_examples(gen, n=PERTURB_EXAMPLES_PER_TEST)
        if shown.empty:
            continue
        blocks += [Heading(f"Examples: {gen}", 3), Raw(examples_markdown(shown), examples_html(shown))]
    return blocks


# --- discovered slices and explanations -----------------------------------------------------------


def discovery_blocks(discovery: Discovery, figures: bool = False) -> list[Block]:
    """The slices `evalcore.decide.discover` found: how it searched, each candidate's confirmation-half test
    (the honest figures) and its figures on all rows (optimistic: they include the rows that chose it)."""
    from evalcore.present import charts

    blocks: list[Block] = [
        Heading("Discovered slices"),
        Para(f"Searched automatically (`python -m evalcore discover`): {lit(discovery.method())}."),
        Bullets([lit(line) for line in discovery.summary_lines()]),
    ]
    if not discovery.candidates:
        blocks.append(
            Para(
                "No conjunction was worse than the rest on the search half (search p below "
                f"{discovery.settings.screen_p:g}), so nothing was tested: no slice found."
            )
        )
        return blocks + ([Bullets([lit(w) for w in discovery.warnings])] if discovery.warnings else [])
    rows, marked = [], set()
    for i, f in enumerate(discovery.candidates):
        c, a = f.confirm, f.overall
        if f.confirmed:
            marked.add(i)
        rows.append(
            [
                f.name,
                f.text,
                "confirmed" if f.confirmed else "not confirmed",
                f"{int(c['n']):,}",
                units.pts_ci(c["delta"], c["delta_lo"], c["delta_hi"]),
                units.pts_ci(c["vs_rest"], c["vs_rest_lo"], c["vs_rest_hi"]),
                units.p_value(c["vs_rest_p_adjusted"]),
                units.magnitude_pts(c["mde"]),
                f"{int(a['n']):,}",
                units.pts_ci(a["delta"], a["delta_lo"], a["delta_hi"]),
                f.related or "–",
            ]
        )
    blocks += [
        Table(
            [
                "slice",
                "rule",
                "result",
                "n (confirmation half)",
                "change",
                "change minus the rest's",
                "BH p (vs rest)",
                "MDE (80% power)",
                "n (all rows)",
                "change on all rows",
                "overlap",
            ],
            rows,
            frozenset(marked),
        ),
        Para(
            "Changes are candidate − baseline accuracy, paired, with 95% intervals. Only the confirmation "
            "half's figures are a fair test: the figures on all rows include the search half that chose the "
            "slice and overstate its effect. Save a confirmed slice with `discover --out slices.json`, then "
            "`report --slices slices.json`."
        ),
    ]
    if figures:
        blocks.append(Figure("discovered_slices", charts.discovered_slices_chart(discovery)))
    if discovery.warnings:
        blocks.append(Bullets([lit(w) for w in discovery.warnings]))
    return blocks


PUSH_HEADERS = [
    "token",
    "rows with it",
    "pushed the candidate to its wrong label",
    "pushed the baseline to that label",
    "candidate − baseline",
    "mean candidate score",
    "mean baseline score",
]


def push_rows(frame: pd.DataFrame, n: int) -> list[list[str]]:
    """Rows of a token (or word-class) push table: shares with intervals and counts, the paired gap in points."""

    def share(r: Any, role: str) -> str:
        value = getattr(r, f"{role}_share")
        if units.missing(value):
            return "not explained"
        ci = units.pct_ci(value, getattr(r, f"{role}_share_lo"), getattr(r, f"{role}_share_hi"))
        return f"{ci} ({int(getattr(r, f'{role}_rows'))} of {n})"

    return [
        [
            str(r.token),
            f"{int(r.n_rows):,}",
            share(r, "candidate"),
            share(r, "baseline"),
            units.pts_ci(r.gap, r.gap_lo, r.gap_hi),
            f"{r.candidate_mean:+.3f}",
            "–" if units.missing(r.baseline_mean) else f"{r.baseline_mean:+.3f}",
        ]
        for r in frame.itertuples()
    ]


def explanation_blocks(result: RegressionExplanations, figures: bool = False, max_tokens: int = 15) -> list[Block]:
    """Which tokens pushed the candidate to its wrong label on a slice's regressed rows, against the
    baseline; says plainly when a model could not be explained."""
    from evalcore.present import charts
    from evalcore.probe.explain import highlight_html, highlight_markdown
    from evalcore.probe.explain_aggregate import unit_text

    blocks: list[Block] = [Heading(f"Why the candidate flips on {result.slice}"), Para(lit(result.message()))]
    if not result.available:
        return blocks
    blocks.append(
        Para(
            f"Slice rule: {code(result.rule)}. Method: {lit(result.method())}. Mean scores are in each "
            f"model's own unit (candidate: {lit(unit_text(result, 'candidate'))}; baseline: "
            f"{lit(unit_text(result, 'baseline'))})."
        )
    )
    headers = PUSH_HEADERS
    rows = push_rows(result.tokens.head(max_tokens), result.n_explained)
    groups = push_rows(result.groups, result.n_explained)
    if groups:
        blocks += [
            Para("Word classes (any of the class's words among a row's top pushes), then single tokens:"),
            Table(["class", *headers[1:]], groups),
        ]
    blocks.append(
        Table(headers, rows)
        if rows
        else Para("No token had a positive score toward the candidate's wrong label on these rows.")
    )
    if figures and rows:
        blocks.append(Figure("token_pushes", charts.token_push_bars(result)))
    if result.examples:
        md, cells = [], []
        for (base, cand), gold in zip(result.examples, result.rows["label"]):
            line = (
                f"- gold {md_escape(gold)}, candidate {md_escape(cand.model)} says {md_escape(cand.label)}: "
                f"{highlight_markdown(cand)}"
            )
            if base is not None:
                line += (
                    f"  \n  baseline {md_escape(base.model)} toward {md_escape(base.label)}: {highlight_markdown(base)}"
                )
            md.append(line)
            cells.append(
                f"<tr><td>{html.escape(gold)} → {html.escape(cand.label)}</td>"
                f"<td>{highlight_html(cand)}</td>"
                f"<td>{highlight_html(base) if base else 'not explained'}</td></tr>"
            )
        blocks += [
            Heading("Examples", 3),
            Para(
                "Each regressed row explained toward the candidate's wrong label: green pushes toward it, red "
                "away (hover for the score)."
            ),
            Raw(
                "\n".join(md),
                "<table><thead><tr><th>gold → candidate</th><th>candidate</th><th>baseline</th>"
                "</tr></thead><tbody>" + "".join(cells) + "</tbody></table>",
            ),
        ]
    if result.warnings:
        blocks.append(Bullets([lit(w) for w in result.warnings]))
    return blocks


# --- Markdown -------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    """A table cell is text, never markup: every character that could start Markdown is escaped."""
    return md_escape(text)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + md_escape(block.text)
    if isinstance(block, Para):
        if block.markup:
            return to_markdown(block.text)
        return "  \n".join(md_escape_line(line) for line in block.text.splitlines())  # the user's notes, as text
    if isinstance(block, Bullets):
        return "\n".join(f"- {to_markdown(item)}" for item in block.items)
    if isinstance(block, Table):
        lines = [
            "| " + " | ".join(_md_cell(h) for h in block.headers) + " |",
            "|" + "|".join("---" for _ in block.headers) + "|",
        ]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, Raw):
        return block.markdown
    return ""  # figures live in the HTML report


def render_markdown(
    analysis: Analysis,
    gates: Verdict | None = None,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    notes: str = "",
    *,
    stress_set: StressSet | None = None,
    generated_at: datetime | None = None,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> str:
    """The report as Markdown (tables, no charts). `gates=None` evaluates the default gates."""
    blocks = report_blocks(
        analysis,
        gates,
        stress,
        perturb,
        notes,
        stress_set=stress_set,
        generated_at=generated_at,
        discovery=discovery,
        explanations=explanations,
    )
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
del{text-decoration:line-through}
"""


def _inline(text: str) -> str:
    """Escape, then our own markup (**bold**, `code`); text marked with `safetext.lit` / `code` stays text."""
    return to_html(text)


def _html_block(block: Block, plotly_js: list[bool]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(plain(block.text))}</h{block.level}>"
    if isinstance(block, Para):
        if block.markup:
            return f"<p>{_inline(block.text)}</p>"
        return f'<div class="notes">{html.escape(plain(block.text))}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(plain(h))}</th>" for h in block.headers)
        body = "".join(
            ('<tr class="marked">' if i in block.marked else "<tr>")
            + "".join(f"<td>{html.escape(plain(c))}</td>" for c in row)
            + "</tr>"
            for i, row in enumerate(block.rows)
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Raw):
        return block.html
    include = not plotly_js[0]  # plotly.js inline once, with the first figure
    plotly_js[0] = True
    div = block.fig.to_html(full_html=False, include_plotlyjs=include, config={"displaylogo": False})
    return f'<div class="figure" id="fig-{html.escape(block.name)}">{div}</div>'


def render_html(
    analysis: Analysis,
    gates: Verdict | None = None,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    notes: str = "",
    *,
    stress_set: StressSet | None = None,
    generated_at: datetime | None = None,
    charts: bool = True,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> str:
    """The report as one self-contained HTML page: inline CSS, plotly.js inlined once (works offline)."""
    blocks = report_blocks(
        analysis,
        gates,
        stress,
        perturb,
        notes,
        stress_set=stress_set,
        figures=charts,
        generated_at=generated_at,
        discovery=discovery,
        explanations=explanations,
    )
    title = blocks[0].text if isinstance(blocks[0], Heading) else "evalcore report"
    plotly_js = [False]
    body = "\n".join(_html_block(b, plotly_js) for b in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def export_reports(
    analysis: Analysis,
    gates: Verdict | None = None,
    *,
    markdown: str | None = None,
    html_path: str | None = None,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    notes: str = "",
    stress_set: StressSet | None = None,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> list[str]:
    """Write the Markdown and/or HTML report (what `report --markdown FILE --html FILE` does);
    returns the paths written."""
    kwargs = dict(
        stress=stress,
        perturb=perturb,
        notes=notes,
        stress_set=stress_set,
        discovery=discovery,
        explanations=explanations,
    )
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


def classification_text_lines(analysis: Analysis, verdict: Verdict) -> list[str]:
    """A classification comparison as the CLI's text report, in the units of every page (evalcore.core.units):
    both models, the change and the rates, then per slice and per class."""
    from evalcore.stats.comparisons import compared_metric

    r = analysis.results
    o = r.overall
    status = verdict.slice_status("accuracy")
    out = [f"data: {analysis.data.name} ({o['n']:,} rows)"]
    for role in ("baseline", "candidate"):
        e = o[role]
        out.append(f"{role:>9}: {e['model']:<14} accuracy {units.pct_ci(e['value'], e['lo'], e['hi'])}")
    for role, p in (("baseline", analysis.baseline), ("candidate", analysis.candidate)):
        for note in getattr(p, "projection", ()):  # as the Data & models page shows beside its mapping table
            out.append(f"{'labels':>9}: {p.model}, {note}")
    d = o["delta"]
    out.append(
        f"   change: {units.pts_ci(d['value'], d['lo'], d['hi'])} (paired, n={o['n']:,}), McNemar p "
        f"{units.p_value(o['mcnemar_p'])}, detects {units.magnitude_pts(o['mde'])} with 80% power"
    )
    ch = r.changes
    for row in ch[(ch["slice"] == "all") & (ch["metric"] != "accuracy")].itertuples():
        out.append(
            f"{compared_metric(row.metric).title:>9}: {units.pct(row.baseline)} -> {units.pct(row.candidate)}, "
            f"change {units.pts_ci(row.delta, row.delta_lo, row.delta_hi)}"
        )
    rates = []
    for key, name in (
        ("regression_rate", "regression"),
        ("improvement_rate", "improvement"),
        ("confident_regression_rate", "confident regression"),
    ):
        e = o[key]
        rates.append(f"{name} {units.rate(e, 'unknown (no confidences)')}")
    out.append("    rates: " + "; ".join(rates))
    reg = r.regression_metrics
    table = pd.DataFrame(
        {
            "slice": reg["slice"],
            "n": reg["n"].map("{:,}".format),
            "baseline": reg["baseline_accuracy"].map(units.pct),
            "candidate": reg["candidate_accuracy"].map(units.pct),
            "change [95%]": [units.pts_ci(a, b, c) for a, b, c in zip(reg["delta"], reg["delta_lo"], reg["delta_hi"])],
            "detectable loss": detectable_loss(verdict, "accuracy", reg["slice"]),
            "vs rest [95%]": [
                units.pts_ci(a, b, c) for a, b, c in zip(reg["vs_rest"], reg["vs_rest_lo"], reg["vs_rest_hi"])
            ],
            "BH p vs rest": reg["vs_rest_p_adjusted"].map(units.p_value),
            **(
                {"design effect": reg["design_effect"].map(lambda x: "-" if x != x else f"{x:.2f}")}
                if r.changes.attrs.get("cluster_col")
                else {}
            ),
            "in the verdict": [status.get(s, "-") if s != "all" else "overall gates" for s in reg["slice"]],
            "flag": [
                ("WORSE THAN REST" if d < 0 else "gains less than rest") if w else "-"
                for w, d in zip(reg["worse_than_rest"], reg["delta"])
            ],
        }
    )
    out += [
        "",
        "per slice (accuracy; change = candidate - baseline; detectable loss = what the slice's verdict test "
        "detects with 80% power, - where no test decides it; vs rest = change minus the other rows' change, "
        "Benjamini-Hochberg):",
        table.to_string(index=False),
    ]
    pc = r.per_class
    cls = pd.DataFrame(
        {
            "label": pc["label"],
            "n gold": pc["n_gold"].map("{:,}".format),
            **{
                m: [
                    f"{units.pct(b)} -> {units.pct(c)} ({units.pts_ci(dl, lo, hi)})"
                    for b, c, dl, lo, hi in zip(
                        pc[f"{m}_baseline"],
                        pc[f"{m}_candidate"],
                        pc[f"{m}_delta"],
                        pc[f"{m}_delta_lo"],
                        pc[f"{m}_delta_hi"],
                    )
                ]
                for m in ("precision", "recall", "f1")
            },
        }
    )
    out += ["", "per class (baseline -> candidate, paired change [95%]):", cls.to_string(index=False)]
    return out


__all__ = [
    "PUSH_HEADERS",
    "analysis_figures",
    "discovery_blocks",
    "explanation_blocks",
    "export_reports",
    "frame_table",
    "push_rows",
    "render_html",
    "render_markdown",
    "report_blocks",
    "summarize_findings",
    "write_report",
]
