"""The readable report: findings sentences, Markdown content and a self-contained HTML page."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from evalcore.data import load_data
from evalcore.gates import GateConfig, evaluate_gates
from evalcore.models import load_predictor
from evalcore.perturb import get_generators, run_perturbation_tests
from evalcore.pipeline import analyse, run_analysis
from evalcore.report import export_reports, render_html, render_markdown, summarize_findings, write_report
from evalcore.slices import Slice, SliceSet
from evalcore.stress import StressCase, StressSet, score_stress

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
    return StressSet("negation flips polarity", "has_negation",
                     [StressCase("I love it", "positive"), StressCase("this is not good", "negative"),
                      StressCase("good | bad <b>day</b>"), StressCase("kind of ok I guess", "positive")])


@pytest.fixture(scope="module")
def stress(models, stress_set):
    return score_stress(stress_set.cases, *models)


@pytest.fixture(scope="module")
def perturb(models, lab):
    return run_perturbation_tests(lab.data.texts[:40], list(models), get_generators(["add_negation", "upper_case"]),
                                  max_cases_per_generator=5)


def test_findings_on_the_lab_read_like_a_summary(lab):
    found = summarize_findings(lab)
    assert found[0].startswith("Overall, the candidate gpt2 is right on 39.8% of the 500 examples against 69.8% "
                               "for the baseline roberta: a change of -30.0 points (95% interval -35.6 to -24.1), "
                               "which is significant (exact McNemar p = 1.09e-21).")
    assert "gpt2 breaks 204 examples roberta got right and fixes 54." in found[0]
    assert found[1] == ("The candidate loses most on has_mention (-42.5 points, n=207), has_negation "
                        "(-38.1 points, n=97) and long_tweets (-37.5 points, n=16, small).")
    assert found[2].startswith("8 of 10 slices regress significantly after Benjamini-Hochberg correction")
    text = "\n".join(found)
    # where the overall number misleads: a slice going the other way, and small slices
    assert "has_url goes against the overall trend: the candidate gains 6.2 points on has_url (n=16, small)" in text
    assert "too wide to tell the direction" in text
    assert "Large drops that are not significant: emoji_dense (-25.0 points, n=8, small)" in text
    assert "long_tweets is flagged although it has only 16 examples: 6 regressions against 0 improvements" in text
    assert "191 of 204 come with confidence >= 0.8" in text
    assert "gpt2 is overconfident (mean confidence 0.96 against accuracy 0.40)" in text
    assert all(s.endswith(".") and "nan" not in s for s in found)


def test_findings_when_overall_gains_hide_a_slice_loss(lab):
    mirror = run_analysis(lab.data, "gpt2", "roberta")
    slices = SliceSet((Slice("broken", "regressed == true", "rows the candidate breaks"),
                       Slice("questions", "has_question == true")))
    results = analyse(mirror.df_eval, slices, lab.data.labels)
    found = summarize_findings(replace(mirror, slices=slices, results=results))
    text = "\n".join(found)
    assert "1 of 2 slices regresses significantly" in found[2]
    assert ("Overall accuracy hides a loss here: the candidate loses 100.0 points on broken (n=54) while it gains "
            "30.0 points overall, and this is significant after the correction.") in text
    none_flagged = summarize_findings(mirror)
    assert "No slice regresses significantly after Benjamini-Hochberg correction (false discovery rate 0.05), " \
           "so no slice-level loss is established beyond chance." in none_flagged


def _with_slices(analysis, *slices):
    chosen = SliceSet(tuple(slices))
    return replace(analysis, slices=chosen, results=analyse(analysis.df_eval, chosen, analysis.data.labels))


def test_findings_without_slices_or_with_empty_ones(lab):
    found = summarize_findings(_with_slices(lab))
    assert len(found) == 2 and "add slices" in found[1]
    nothing = Slice("nothing", 'text contains "zzqqzz"')
    found = summarize_findings(_with_slices(lab, nothing))
    assert len(found) == 2 and found[1].startswith("No slice selects any row of this data")
    found = summarize_findings(_with_slices(lab, nothing, Slice("neg", "has_negation == true")))
    assert found[2].startswith("1 of 2 slices regresses significantly")
    assert found[-1] == "nothing selects no rows of this data: check the rule, or drop the slice."
    md = render_markdown(_with_slices(lab, nothing))
    assert "| nothing | 0 | – | – | – | – | – | – | 1 | 1 | small |" in md


def test_findings_separate_raw_from_corrected_significance(lab):
    small = _with_slices(lab, Slice("long_tweets", 'length_bucket == "long"'), Slice("has_url", "has_url == true"),
                         Slice("emoji_dense", "emoji_dense == true"))
    found = summarize_findings(small)
    assert found[2] == ("No slice regresses significantly after Benjamini-Hochberg correction (false discovery rate "
                        "0.05), so no slice-level loss is established beyond chance. long_tweets had p < 0.05 before "
                        "the correction but not after: treat it as a lead, not as evidence.")
    assert ("Large drops that are not significant: long_tweets (-37.5 points, n=16, small) and emoji_dense "
            "(-25.0 points, n=8, small). These slices are too small to tell") in "\n".join(found)


def test_markdown_has_the_key_numbers_gates_slices_stress_and_perturbation(lab, stress, stress_set, perturb):
    gates = evaluate_gates(lab, GateConfig(min_stress_accuracy=0.5), stress=stress)
    md = render_markdown(lab, gates, stress=stress, perturb=perturb, notes="Checked by the TA.",
                         stress_set=stress_set, generated_at=WHEN)
    assert md.startswith("# evalcore report: gpt2 (candidate) vs roberta (baseline)\n\nGenerated 2026-01-02 03:04 UTC")
    assert "**Recommendation: NO-SHIP.** 3 of 3 gate(s) fail: max_slice_regression, min_overall_change, " \
           "min_stress_accuracy." in md
    assert "| baseline | roberta | 0.698 [0.656, 0.737] |" in md
    assert "| candidate | gpt2 | 0.398 [0.356, 0.442] |" in md
    assert "-0.300 [-0.356, -0.241]; exact McNemar p = 1.09e-21" in md
    assert ("| has_negation | 97 | 0.660 [0.561, 0.746] | 0.278 [0.199, 0.375] | -0.381 [-0.491, -0.253] | 0.443 | "
            "0.062 | 0.423 | 5.73e-08 | 1.91e-07 | significant regression |") in md
    flagged = md.split("### Flagged regressions")[1].split("###")[0]
    assert flagged.count("\n- ") == 8 and "- has_mention: -42.5 points (n=207), 100 regressed vs 12 improved" in flagged
    assert "| has_negation | has_negation == true | Negation (not, never, n't) flips sentiment" in md
    assert "| gpt2 | candidate | 500 | 0.963 | 0.566 | 0.569 |" in md  # calibration
    assert "- Hypothesis: negation flips polarity\n- Targeted slice: has_negation" in md
    assert "good \\| bad <b>day</b>" in md  # a pipe in a case cannot break the table
    assert "## Perturbation tests" in md and "| add_negation | DIR | vader |" in md
    assert "## Notes\n\nChecked by the TA." in md
    assert "- Overall, the candidate gpt2 is right on 39.8%" in md
    # every table row has as many cells as its header
    for table in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        rows = [re.split(r"(?<!\\)\|", line)[1:-1] for line in table.strip().split("\n")]
        assert {len(r) for r in rows} == {len(rows[0])}


def test_markdown_defaults_to_the_default_gates(lab):
    md = render_markdown(lab)
    assert "2 of 2 gate(s) fail: max_slice_regression, min_overall_change" in md
    assert "## Stress tests" not in md and "## Perturbation tests" not in md


def test_html_is_self_contained_with_plotly_inlined_once(lab, stress, stress_set, tmp_path):
    page = render_html(lab, stress=stress, stress_set=stress_set, notes="<script>alert(1)</script>",
                       generated_at=WHEN)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page)
    assert page.count("<style>") == 1
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1  # the library, once
    assert page.count('class="figure"') == 6
    assert page.count("Plotly.newPlot") == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "good | bad &lt;b&gt;day&lt;/b&gt;" in page
    assert '<tr class="marked"><td>FAIL</td><td>max_slice_regression</td>' in page
    assert "<strong>Recommendation: NO-SHIP.</strong>" in page and "0.698 [0.656, 0.737]" in page
    path = write_report(str(tmp_path / "out" / "report.html"), page)
    assert (tmp_path / "out" / "report.html").read_text(encoding="utf-8") == page and path.endswith("report.html")


def test_export_reports_writes_both_formats(lab, tmp_path):
    written = export_reports(lab, markdown=str(tmp_path / "r.md"), html_path=str(tmp_path / "sub" / "r.html"))
    assert written == [str(tmp_path / "r.md"), str(tmp_path / "sub" / "r.html")]
    assert "0.698" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert (tmp_path / "sub" / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert export_reports(lab) == []


def test_html_without_charts_is_small(lab):
    page = render_html(lab, charts=False)
    assert "plotly" not in page.lower() and len(page) < 100_000
