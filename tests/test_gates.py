"""Ship / no-ship gates on the lab analysis, its mirror image and real VADER stress results."""
from __future__ import annotations

import doctest
import json

import pytest

import evalcore.gates
from evalcore.data import load_data
from evalcore.errors import ConfigError
from evalcore.gates import GATES, GateConfig, evaluate_gates, parse_gate_args
from evalcore.models import load_predictor
from evalcore.pipeline import run_analysis
from evalcore.stress import StressCase, score_stress

LABELS = ["negative", "neutral", "positive"]
ALL_OFF = {name: None for name in GATES}


@pytest.fixture(scope="module")
def lab():
    """gpt2 replacing roberta: 30 points worse overall, 8 slices flagged."""
    return run_analysis(load_data("lab"), "roberta", "gpt2")


@pytest.fixture(scope="module")
def mirror():
    """roberta replacing gpt2: 30 points better, no slice regresses significantly."""
    return run_analysis(load_data("lab"), "gpt2", "roberta")


@pytest.fixture(scope="module")
def stress():
    """Real VADER (threshold 0.05) against a stricter VADER (0.5): the candidate is right on 1 of 3."""
    cases = [StressCase("I love it", "positive"), StressCase("this is not good", "negative"),
             StressCase("meh"), StressCase("kind of ok I guess", "positive")]
    return score_stress(cases, load_predictor("vader", LABELS), _renamed(load_predictor("vader:0.5", LABELS)))


def _renamed(predictor):
    """A second live model needs its own name: the stricter VADER is `vader_strict`."""
    predictor.name = "vader_strict"
    return predictor


def only(**values):
    return GateConfig(**{**ALL_OFF, **values})


def test_lab_fails_the_default_gates(lab):
    report = evaluate_gates(lab)
    assert [r.name for r in report.results] == ["max_slice_regression", "min_overall_change"]
    assert not report.passed and report.recommendation == "no-ship" and report.exit_code == 1
    slice_gate, overall = report.results
    assert slice_gate.observed == pytest.approx(0.425121, abs=1e-6)  # has_mention, -42.5 points
    assert slice_gate.explanation.startswith("8 slice(s) regress significantly by more than 5.0 points: has_mention")
    assert overall.observed == pytest.approx(-0.3) and not overall.passed
    assert "95% interval -35.6 to -24.1" in overall.explanation
    assert report.headline().startswith("no-ship: 2 of 2 gate(s) fail")
    assert report.lines()[1].startswith("FAIL max_slice_regression: ")
    assert len(report.reasons) == 2
    assert report.to_dict()["gates"][1]["observed"] == pytest.approx(-0.3)


def test_mirror_image_ships(mirror):
    report = evaluate_gates(mirror)
    assert report.passed and report.recommendation == "ship" and report.exit_code == 0
    assert report.results[0].observed == 0.0
    assert report.results[0].explanation.startswith("no slice regresses significantly")
    assert report.reasons == [] and report.lines()[0] == "ship: All 2 gate(s) pass."


@pytest.mark.parametrize("threshold, passed", [(0.43, True), (0.425121, True), (0.42, False)])
def test_slice_regression_threshold_is_the_largest_flagged_drop(lab, threshold, passed):
    result = evaluate_gates(lab, only(max_slice_regression=threshold)).results[0]
    assert result.passed is passed
    if passed:
        assert "the largest by 42.5 points, within the allowed" in result.explanation


def test_small_but_flagged_slice_counts_and_is_marked(lab):
    result = evaluate_gates(lab, only(max_slice_regression=0.37)).results[0]
    assert "long_tweets (-37.5 points, n=16, small)" in result.explanation
    assert "has_hashtag" not in result.explanation  # -19.9 points: within 37 points


def test_overall_change_uses_the_point_estimate_and_quotes_the_interval(lab, mirror):
    assert evaluate_gates(lab, only(min_overall_change=-0.3)).passed  # -0.300 >= -0.300
    assert not evaluate_gates(lab, only(min_overall_change=-0.29)).passed
    # +30.0 points with interval +24.1..+35.6: passes 0.25, but the interval reaches below it
    result = evaluate_gates(mirror, only(min_overall_change=0.25)).results[0]
    assert result.passed and "cannot rule out a smaller change" in result.explanation
    result = evaluate_gates(lab, only(min_overall_change=-0.36)).results[0]
    assert result.passed and "cannot rule out" not in result.explanation
    result = evaluate_gates(lab, only(min_overall_change=-0.25)).results[0]
    assert not result.passed and "more data could change this verdict" in result.explanation


def test_confident_regression_rate(lab):
    assert evaluate_gates(lab, only(max_confident_regression_rate=0.4)).passed  # observed 0.382
    result = evaluate_gates(lab, only(max_confident_regression_rate=0.3)).results[0]
    assert not result.passed and result.observed == pytest.approx(0.382)
    assert "38.2% of all examples" in result.explanation and "confidence >= 0.8" in result.explanation


def test_stress_accuracy_on_real_vader_cases(lab, stress):
    assert evaluate_gates(lab, only(min_stress_accuracy=0.3), stress=stress).passed
    result = evaluate_gates(lab, only(min_stress_accuracy=0.5), stress=stress).results[0]
    assert not result.passed and result.observed == pytest.approx(1 / 3)
    assert "vader_strict" in result.explanation and "3 labelled stress cases" in result.explanation


def test_stress_gate_without_labelled_cases_cannot_pass(lab):
    result = evaluate_gates(lab, only(min_stress_accuracy=0.0)).results[0]
    assert not result.passed and result.observed is None
    assert "turn the gate off" in result.explanation
    unlabelled = score_stress([StressCase("meh")], load_predictor("vader", LABELS),
                              _renamed(load_predictor("vader:0.5", LABELS)))
    assert not evaluate_gates(lab, only(min_stress_accuracy=0.0), stress=unlabelled).passed


def test_all_gates_off_ships_with_a_clear_line(lab):
    config = parse_gate_args(["max_slice_regression=off", "min_overall_change=none"])
    report = evaluate_gates(lab, config)
    assert report.results == [] and report.passed
    assert report.headline() == "ship: No gate is configured, so nothing blocks the candidate."


def test_config_round_trips_through_json_and_accepts_aliases():
    config = parse_gate_args(["max_significant_slice_regression=0.1", "min_overall_change=-0.02",
                              "min_stress_accuracy=0.6"])
    assert config.to_dict() == {"max_slice_regression": 0.1, "min_overall_change": -0.02,
                                "max_confident_regression_rate": None, "min_stress_accuracy": 0.6}
    assert GateConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert GateConfig.from_dict({}) == GateConfig() == GateConfig.from_dict(None)
    assert GateConfig().to_dict()["max_slice_regression"] == 0.05
    # later --gate wins; the base is kept for the rest
    assert parse_gate_args(["min_overall_change=0.01"], base=config).max_slice_regression == 0.1


@pytest.mark.parametrize("items, message", [
    (["speed=1"], "gate 'speed' is unknown; allowed gates: max_slice_regression, min_overall_change, "
                  "max_confident_regression_rate, min_stress_accuracy"),
    (["max_slice_regression"], "must look like NAME=VALUE"),
    (["max_slice_regression=five"], "value 'five' is not a number"),
    (["max_slice_regression=5"], "outside [0, 1]; thresholds are shares (0.05 = 5 points)"),
    (["min_overall_change=nan"], "must be a finite number"),
    (["min_overall_change=-2"], "outside [-1, 1]"),
])
def test_parse_errors_name_the_gate_and_what_is_allowed(items, message):
    with pytest.raises(ConfigError, match="gate") as info:
        parse_gate_args(items)
    assert message in str(info.value)


@pytest.mark.parametrize("raw, message", [
    ({"max_slice_regression": True}, "must be a finite number"),
    ({"nope": 0.1}, "gate 'nope' is unknown"),
    ([0.1], "must be a JSON object"),
])
def test_from_dict_refuses_bad_workspace_entries(raw, message):
    with pytest.raises(ConfigError) as info:
        GateConfig.from_dict(raw)
    assert message in str(info.value)


def test_docstring_examples_run():
    assert doctest.testmod(evalcore.gates).failed == 0
