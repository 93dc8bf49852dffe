"""The gates: rules on paired intervals (ship / no-ship / need more data), slices by role, the CLI's
gate syntax, on the lab analysis, real VADER stress results and synthetic tables built to sit on
each side of every rule (the verdict itself: tests/test_verdict.py)."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from synthetic import analysis_of

import evalcore.decide.gates
from evalcore.analyze.slices import GUARDRAIL, SliceSet
from evalcore.core.errors import ConfigError
from evalcore.decide.gates import (
    FAIL,
    GATES,
    NEED_MORE_DATA,
    NO_SHIP,
    NOT_EVALUABLE,
    PASS,
    SHIP,
    TOO_SMALL,
    GateConfig,
    interval_status,
    parse_gate_args,
    rate_status,
)
from evalcore.decide.verdict import evaluate_gates
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.probe.stress import StressCase, score_stress
from evalcore.stats.paired import rows_to_settle
from evalcore.tasks.pipeline import run_analysis

LABELS = ["negative", "neutral", "positive"]
ALL_OFF = {name: None for name in GATES}


@pytest.fixture(scope="module")
def lab():
    """gpt2 replacing roberta: 30 points worse overall, has_mention worse than the rest."""
    return run_analysis(load_data("lab"), "roberta", "gpt2")


@pytest.fixture(scope="module")
def mirror():
    """roberta replacing gpt2: 30 points better; has_url (16 rows) and emoji_dense (8) are too small."""
    return run_analysis(load_data("lab"), "gpt2", "roberta")


@pytest.fixture(scope="module")
def stress():
    """Real VADER (threshold 0.05) against a stricter VADER (0.5): the candidate is right on 1 of 3."""
    cases = [
        StressCase("I love it", "positive"),
        StressCase("this is not good", "negative"),
        StressCase("meh"),
        StressCase("kind of ok I guess", "positive"),
    ]
    return score_stress(cases, load_predictor("vader", LABELS), _renamed(load_predictor("vader:0.5", LABELS)))


def _renamed(predictor, name="vader_strict"):
    predictor.name = name
    return predictor


def only(**values) -> GateConfig:
    return GateConfig({**ALL_OFF, **values})


# --- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lo, hi, status",
    [
        (-0.019, 0.03, PASS),
        (-0.02, 0.03, NEED_MORE_DATA),
        (-0.05, -0.021, FAIL),
        (-0.05, -0.02, NEED_MORE_DATA),
        (-0.5, 0.5, NEED_MORE_DATA),
        (float("nan"), 0.1, NOT_EVALUABLE),
    ],
)
def test_non_inferiority_rule_reads_the_interval_bounds(lo, hi, status):
    assert interval_status(lo, hi, 0.02) == status


@pytest.mark.parametrize(
    "lo, hi, kind, status",
    [
        (0.01, 0.049, "max", PASS),
        (0.01, 0.06, "max", NEED_MORE_DATA),
        (0.051, 0.1, "max", FAIL),
        (0.7, 0.9, "min", PASS),
        (0.6, 0.75, "min", NEED_MORE_DATA),
        (0.3, 0.69, "min", FAIL),
    ],
)
def test_rate_rule(lo, hi, kind, status):
    assert rate_status(lo, hi, 0.05 if kind == "max" else 0.7, kind) == status


def test_rows_to_settle_follow_the_interval_width():
    # +1 point with half-width 4 points against a 2-point margin: needs half-width 3 -> (4/3)^2 n.
    assert rows_to_settle(1000, 0.01, -0.03, 0.05, 0.02) == pytest.approx(np.ceil(1000 * (4 / 3) ** 2 - 1000))
    assert np.isnan(rows_to_settle(1000, -0.02, -0.05, 0.01, 0.02))  # sits on the margin: no n settles it
    assert rows_to_settle(1000, 0.05, 0.01, 0.09, 0.02) == 0  # already settled


# --- on real analyses ----------------------------------------------------------------------------


def test_lab_is_no_ship_with_reasons(lab):
    report = evaluate_gates(lab)
    assert [r.name for r in report.results] == ["accuracy", "macro_f1", "slice_accuracy"]
    assert report.decision == NO_SHIP and report.exit_code == 1 and not report.passed
    acc, f1, slices = report.results
    assert acc.status == FAIL and acc.observed == pytest.approx(-0.3)
    assert "-30.0 points (95% interval -35.6 to -24.1, n=500)" in acc.reason
    assert "the whole interval lies below -2.0" in acc.reason
    assert f1.status == FAIL and f1.metric == "macro_f1"
    # watched slices block on evidence of harm (one-sided, Benjamini-Hochberg): the 30-point loss is everywhere,
    # so every judged slice loses beyond the margin; the next step names the worst
    assert slices.status == FAIL
    failing = [c.name for c in slices.checks if c.status == FAIL]
    assert "has_mention" in failing and len(failing) == 7
    assert {c.name for c in slices.checks if c.status == TOO_SMALL} == {"long_tweets", "has_url", "emoji_dense"}
    assert slices.reason.startswith(
        "7 watched slices lose beyond the 5.0-point margin with significant harm: "
        "has_mention -42.5 points [-50.2, -33.8] (n=207)"
    )
    assert report.headline().startswith("no-ship: Look at slice has_mention: it loses 42.5 points")
    assert report.to_dict()["gates"][0]["lo"] == pytest.approx(acc.lo)
    json.dumps(report.to_dict(), allow_nan=False)  # strict JSON


def test_mirror_ships_with_its_tiny_slices_too_small_to_judge(mirror):
    """The issue's case: +30 points was inconclusive because has_url (16 rows) and emoji_dense (8) could not detect
    a 5-point loss (the old rule). Watched slices never block for lack of power: it ships, listing them."""
    report = evaluate_gates(mirror)
    assert report.decision == SHIP and report.exit_code == 0
    acc, f1, slices = report.results
    assert acc.status == PASS and f1.status == PASS and slices.status == PASS
    small = {c.name: c for c in slices.checks if c.status == TOO_SMALL}
    assert set(small) == {"long_tweets", "has_url", "emoji_dense"}
    assert "has_url is too small to judge (fewer than 30 rows; -6.2 points" in small["has_url"].sentence
    assert "3 too small to judge (long_tweets, has_url, emoji_dense)" in slices.reason


def test_a_small_slice_losing_20_points_is_shown_watched_and_never_passes_as_a_guardrail():
    """25 rows at -20 points (interval about -37 to -2): watched, it is too small to judge (shown with its numbers,
    never tested); marked a guardrail, it is never a pass: the data cannot rule out a 5-point loss."""
    n = 1000
    gold, base, cand = ["a"] * n, ["a"] * n, ["a"] * n
    rng = np.random.default_rng(0)
    for i in rng.choice(np.arange(25, n), 300, replace=False):  # the rest: equal, 15% discordant
        base[i] = "b" if i % 2 else "a"
        cand[i] = "a" if i % 2 else "b"
    for i in range(5):  # the slice: 5 regressions, 15 both right, 5 both wrong
        cand[i] = "b"
    for i in range(20, 25):
        base[i] = cand[i] = "b"
    flags = {"small": np.arange(n) < 25}
    analysis = analysis_of(gold, base, cand, ["a", "b"], flags)
    gate = evaluate_gates(analysis, only(slice_accuracy=0.05)).results[0]
    check = gate.checks[0]
    assert check.delta == pytest.approx(-0.2) and check.hi < 0 and check.lo < -0.3
    assert check.status == TOO_SMALL and gate.status == PASS
    assert "small is too small to judge (fewer than 30 rows; -20.0 points, 95% interval" in check.sentence
    from dataclasses import replace

    from evalcore.tasks.pipeline import analyse

    marked = SliceSet([replace(s, role=GUARDRAIL) for s in analysis.slices])
    guarded = replace(analysis, slices=marked, results=analyse(analysis.df_eval, marked, ["a", "b"]))
    gate = evaluate_gates(guarded, only(slice_accuracy=0.05)).results[0]
    assert gate.checks[0].status in (NEED_MORE_DATA, FAIL) and gate.status != PASS


def test_constant_predictor_fails_macro_f1_even_when_accuracy_holds():
    rng = np.random.default_rng(1)
    n = 3000
    gold = rng.choice(["against", "favor", "none"], n, p=[0.55, 0.25, 0.2])
    base = np.where(rng.random(n) < 0.6, gold, rng.choice(["against", "favor", "none"], n))
    cand = np.full(n, "against")
    analysis = analysis_of(list(gold), list(base), list(cand), ["against", "favor", "none"])
    report = evaluate_gates(analysis)
    by = {r.name: r for r in report.results}
    assert by["macro_f1"].status == FAIL and report.decision == NO_SHIP
    assert by["macro_f1"].observed < -0.2


def test_class_recall_gate(lab, mirror):
    result = evaluate_gates(lab, only(class_recall=0.05)).results[0]
    assert result.status == FAIL and {c.name for c in result.checks if c.status == FAIL} == {"negative", "neutral"}
    assert "negative (-54.0 points" in result.reason
    assert evaluate_gates(mirror, only(class_recall=0.05)).results[0].status in (PASS, NEED_MORE_DATA)


def test_confident_regression_rate(lab):
    result = evaluate_gates(lab, only(confident_regression_rate=0.5)).results[0]
    assert result.status == PASS and result.observed == pytest.approx(0.382)  # 34.0%..42.5% <= 50%
    result = evaluate_gates(lab, only(confident_regression_rate=0.3)).results[0]
    assert result.status == FAIL and "191 of 500 (38.2%, 95% interval 34.0% to 42.5%)" in result.reason
    assert evaluate_gates(lab, only(confident_regression_rate=0.4)).results[0].status == NEED_MORE_DATA


def test_confident_regression_gate_is_not_evaluable_without_confidences():
    gold, base, cand = ["a"] * 50, ["a"] * 50, ["a"] * 40 + ["b"] * 10
    analysis = analysis_of(gold, base, cand, ["a", "b"])
    result = evaluate_gates(analysis, only(confident_regression_rate=0.05)).results[0]
    assert result.status == NOT_EVALUABLE and "gives no confidences" in result.reason
    report = evaluate_gates(analysis, only(confident_regression_rate=0.05))
    assert report.decision == NEED_MORE_DATA  # never a pass


def test_stress_gate_counts_only_the_compared_candidate(lab, stress):
    # the lab compares roberta vs gpt2, but the stress cases were scored by vader and vader_strict
    result = evaluate_gates(lab, only(stress_accuracy=0.3), stress=stress).results[0]
    assert result.status == NOT_EVALUABLE and "not by the candidate gpt2" in result.reason
    # a comparison whose candidate is vader_strict: 1 of 3 labelled cases right
    own = run_analysis(load_data("lab", n_rows=40), "vader", "vader:0.5")
    stress_own = score_stress(
        [
            StressCase("I love it", "positive"),
            StressCase("this is not good", "negative"),
            StressCase("kind of ok I guess", "positive"),
        ],
        load_predictor("vader", LABELS),
        load_predictor("vader:0.5", LABELS),
    )
    result = evaluate_gates(own, only(stress_accuracy=0.9), stress=stress_own).results[0]
    assert result.n == 3 and result.status in (FAIL, NEED_MORE_DATA)
    assert "95% interval" in result.reason


def test_stress_gate_without_stress_or_labels_is_not_evaluable(lab):
    result = evaluate_gates(lab, only(stress_accuracy=0.0)).results[0]
    assert result.status == NOT_EVALUABLE and "turn this gate off" in result.reason


def test_no_gate_needs_more_data(lab):
    report = evaluate_gates(lab, parse_gate_args([f"{name}=off" for name in GATES]))
    assert report.results == [] and report.decision == NEED_MORE_DATA and report.exit_code == 3
    assert "No gate is turned on" in report.reason()


# --- configuration -------------------------------------------------------------------------------


def test_config_round_trips_and_maps_legacy_names():
    config = parse_gate_args(["max_significant_slice_regression=0.1", "accuracy=0.01", "min_stress_accuracy=0.6"])
    assert config.values["slice_accuracy"] == 0.1 and config.values["stress_accuracy"] == 0.6
    assert config.values["accuracy"] == 0.01 and config.values["macro_f1"] == 0.02
    assert GateConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert GateConfig.from_dict({}) == GateConfig() == GateConfig.from_dict(None)
    assert parse_gate_args(["macro_f1=off"], base=config).values["slice_accuracy"] == 0.1


@pytest.mark.parametrize(
    "items, message",
    [
        (["speed=1"], "gate 'speed' is unknown; allowed gates: accuracy, macro_f1, slice_accuracy, accuracy_gain"),
        (["accuracy"], "must look like NAME=VALUE"),
        (["accuracy="], "the value is empty; give a number (e.g. 0.02) or 'off'"),
        (["accuracy= "], "the value is empty"),
        (["slice_accuracy=five"], "value 'five' is not a number"),
        (["slice_accuracy=5"], "outside [0, 1]; values are shares (0.02 = 2 points)"),
        (["accuracy=nan"], "must be a finite number"),
        (["accuracy=-0.1"], "outside [0, 1]"),
        (["min_overall_change=0"], "was retired; use accuracy=MARGIN"),
    ],
)
def test_parse_errors_name_the_gate_and_what_is_allowed(items, message):
    with pytest.raises(ConfigError, match="gate") as info:
        parse_gate_args(items)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"slice_accuracy": True}, "must be a finite number"),
        ({"nope": 0.1}, "gate 'nope' is unknown"),
        ([0.1], "must be a JSON object"),
        ({"accuracy": ""}, "the value is empty"),
    ],
)
def test_from_dict_refuses_bad_workspace_entries(raw, message):
    with pytest.raises(ConfigError) as info:
        GateConfig.from_dict(raw)
    assert message in str(info.value)


def test_docstring_examples_run():
    assert doctest.testmod(evalcore.decide.gates).failed == 0
