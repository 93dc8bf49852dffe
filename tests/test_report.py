"""The readable report: findings sentences, Markdown content and a self-contained HTML page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from evalcore.analyze.slices import Slice, SliceSet
from evalcore.decide.gates import GateConfig
from evalcore.decide.verdict import evaluate_gates
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.present.report import export_reports, render_html, render_markdown, write_report
from evalcore.probe.perturb import get_generators, run_perturbation_tests
from evalcore.probe.stress import StressCase, StressSet, score_stress
from evalcore.tasks.pipeline import analyse, run_analysis

LABELS = ["negative", "neutral", "positive"]
WHEN = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def lab():
    return run_analysis(load_data("lab"), "roberta", "gpt2")


@pytest.fixture(scope="module")
def models():
    strict = load_predictor("vader:0.5", LABELS)
    strict.name = "vader_strict"  # a second live model needs its own name
    return load_predictor("vader", LABELS), strict


@pytest.fixture(scope="module")
def stress_set():
    return StressSet(
        "negation flips polarity",
        "has_negation",
        [
            StressCase("I love it", "positive"),
            StressCase("this is not good", "negative"),
            StressCase("good | bad <b>day</b>"),
            StressCase("kind of ok I guess", "positive"),
        ],
    )


@pytest.fixture(scope="module")
def stress(models, stress_set):
    return score_stress(stress_set.cases, *models)


@pytest.fixture(scope="module")
def perturb(models, lab):
    return run_perturbation_tests(
        lab.data.texts[:40], list(models), get_generators(["add_negation", "upper_case"]), max_cases_per_generator=5
    )


def _with_slices(analysis, *slices):
    chosen = SliceSet(tuple(slices))
    return replace(analysis, slices=chosen, results=analyse(analysis.df_eval, chosen, analysis.data.labels))


def test_empty_slice_row_reads_as_missing_not_zero(lab):
    md = render_markdown(_with_slices(lab, Slice("nothing", 'text contains "zzqqzz"')))
    assert "| nothing | 0 | – | – | – | – | – | – | – | – | not in the verdict (no rows) |" in md
    assert "Left out of the verdict because they select no rows of this data: nothing." in md
    assert "nothing selects no rows of this data" in md


def test_markdown_has_the_key_numbers_gates_slices_stress_and_perturbation(lab, stress, stress_set, perturb):
    gates = evaluate_gates(lab, GateConfig({"stress_accuracy": 0.5}), stress=stress)
    md = render_markdown(
        lab, gates, stress=stress, perturb=perturb, notes="Checked by the TA.", stress_set=stress_set, generated_at=WHEN
    )
    assert md.startswith("# evalcore report: gpt2 (candidate) vs roberta (baseline)\n\nGenerated 2026-01-02 03:04 UTC")
    assert "**Verdict: NO-SHIP.** Look at slice has_mention: it loses 42.5 points (95% interval -50.2 to -33.8" in md
    # the stress cases were scored by vader / vader_strict, not by gpt2: that gate is not evaluable
    assert "| NOT EVALUABLE | stress_accuracy | at least 50.0% |" in md and "not by the candidate gpt2" in md
    assert "| FAIL | accuracy | margin 2.0 points | -30.0 pts [-35.6, -24.1] | 500 |" in md
    assert "| baseline | roberta | 69.8% [65.6%, 73.7%] | 500 |" in md
    assert "| candidate | gpt2 | 39.8% [35.6%, 44.2%] | 500 |" in md
    assert "-30.0 pts [-35.6, -24.1], n=500; exact McNemar p = 1.1e-21" in md
    assert "- Confident-regression rate (candidate confidence >= 0.8): 38.2% [34.0%, 42.5%] (n=500)." in md
    assert (
        "| has_mention | 207 | 70.0% [63.5%, 75.9%] | 27.5% [21.9%, 34.0%] | -42.5 pts [-50.2, -33.8] | 16.7 pts | "
        "-21.4 pts [-32.6, -10.1] | 0.0019 | 1.9e-18 | 1.9e-17 | watched: HARM (fail), worse than the rest |"
    ) in md
    assert "| all | 500 | 69.8% [65.6%, 73.7%] | 39.8% [35.6%, 44.2%] | -30.0 pts [-35.6, -24.1] | – | – | – |" in md
    assert "| has_negation | 97 | 44.3% [34.8%, 54.2%] | 6.2% [2.9%, 12.8%] | 42.3% [32.9%, 52.2%] | 97 |" in md
    assert "| has_negation | has_negation == true | Negation (not, never, n't) flips sentiment" in md
    assert "| negative | 150 | 64.3% -> 46.3% | -18.0 pts [" in md  # per class
    assert "| gpt2 | candidate | 500 | 96.3% | 0.566 [" in md  # calibration with an interval
    assert "- Hypothesis: negation flips polarity\n- Targeted slice: has_negation" in md
    assert "good \\| bad \\<b>day\\</b>" in md  # a pipe cannot break the table, nor a tag become HTML
    assert "| vader_strict | candidate | 4 | 33.3% [6.1%, 79.2%] (1 of 3) |" in md
    assert "## Perturbation tests" in md and "| add_negation | DIR | vader |" in md
    assert "## Notes\n\nChecked by the TA." in md
    assert "- Overall, the candidate gpt2 is right on 39.8%" in md
    assert "Connor (1987)" in md and "Agresti-Min" in md  # methods
    # every table row has as many cells as its header
    for table in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        rows = [re.split(r"(?<!\\)\|", line)[1:-1] for line in table.strip().split("\n")]
        assert {len(r) for r in rows} == {len(rows[0])}


def test_markdown_defaults_to_the_default_gates(lab):
    md = render_markdown(lab)
    assert "**Verdict: NO-SHIP.** Look at slice has_mention" in md
    assert "| FAIL | slice_accuracy | margin 5.0 points |" in md
    assert "## Stress tests" not in md and "## Perturbation tests" not in md


def test_html_is_self_contained_with_plotly_inlined_once(lab, stress, stress_set, tmp_path):
    page = render_html(lab, stress=stress, stress_set=stress_set, notes="<script>alert(1)</script>", generated_at=WHEN)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page)
    assert page.count("<style>") == 1
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1  # the library, once
    assert page.count('class="figure"') == 6
    assert page.count("Plotly.newPlot") == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "good | bad &lt;b&gt;day&lt;/b&gt;" in page
    assert '<tr class="marked"><td>FAIL</td><td>accuracy</td>' in page
    assert "<strong>Verdict: NO-SHIP.</strong>" in page and "69.8% [65.6%, 73.7%]" in page
    path = write_report(str(tmp_path / "out" / "report.html"), page)
    assert (tmp_path / "out" / "report.html").read_text(encoding="utf-8") == page and path.endswith("report.html")


def test_export_reports_writes_both_formats(lab, tmp_path):
    written = export_reports(lab, markdown=str(tmp_path / "r.md"), html_path=str(tmp_path / "sub" / "r.html"))
    assert written == [str(tmp_path / "r.md"), str(tmp_path / "sub" / "r.html")]
    assert "69.8%" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert (tmp_path / "sub" / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert export_reports(lab) == []


def test_html_without_charts_is_small(lab):
    page = render_html(lab, charts=False)
    assert "plotly" not in page.lower() and len(page) < 100_000


def test_figures_draw_only_the_trace_types_their_template_styles(lab):
    """The charts carry `plotly_white` cut to the trace types they draw (`charts.TRACE_TYPES`): the same look for
    every trace here, as long as no chart draws another type (then its defaults would be plotly's own)."""
    import plotly.io as pio

    from evalcore.present import charts
    from evalcore.present.report import analysis_figures

    white = pio.templates["plotly_white"]
    figures = analysis_figures(lab)
    assert len(figures) >= 5
    for name, fig in figures.items():
        assert {trace.type for trace in fig.data} <= set(charts.TRACE_TYPES), name
        assert fig.layout.template.layout == white.layout, name
        for kind in charts.TRACE_TYPES:
            assert fig.layout.template.data[kind] == white.data[kind], (name, kind)
