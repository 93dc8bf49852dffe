"""Findings and gate reasons never contradict the numbers printed beside them: a property test over
many random comparison tables, plus the lab's findings read as a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest

from evalcore.analyze.slices import Slice, SliceSet
from evalcore.analyze.tables import build_df_eval
from evalcore.decide.findings import (
    analysis_findings,
    direction,
    findings_from_tables,
    fmt_ece,
    fmt_p,
    fmt_pct,
    fmt_pts,
)
from evalcore.decide.gates import FAIL, NEED_MORE_DATA, PASS, Plan, interval_status, non_inferiority_sentence
from evalcore.io.load import load_data
from evalcore.present.report import summarize_findings
from evalcore.stats.metrics import calibration_metrics, overall_comparison, regression_metrics
from evalcore.tasks.pipeline import analyse, run_analysis

LABELS = np.array(["negative", "neutral", "positive"])
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?%?")


@dataclass
class Preds:
    model: str
    pred: object
    conf: object = None


def random_tables(seed: int):
    """A random comparison: size, accuracies, discordance, slices (some tiny or empty), confidences."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 3000))
    gold = rng.integers(0, 3, n)
    base_ok = rng.random(n) < rng.uniform(0.4, 0.9)
    flip = rng.random(n) < rng.uniform(0.0, 0.4)
    shift = rng.uniform(-0.3, 0.3)
    flip |= (rng.random(n) < abs(shift)) & (base_ok if shift < 0 else ~base_ok)
    cand_ok = base_ok ^ flip
    wrong = (gold + rng.integers(1, 3, n)) % 3
    base, cand = np.where(base_ok, gold, wrong), np.where(cand_ok, gold, (gold + rng.integers(1, 3, n)) % 3)
    conf_mode = rng.integers(0, 3)  # none, some missing, all known
    cand_conf = None if conf_mode == 0 else rng.uniform(0.34, 1.0, n)
    if conf_mode == 1:
        cand_conf[rng.random(n) < 0.3] = np.nan
    frame = pd.DataFrame({"id": [str(i) for i in range(n)], "text": ["t"] * n, "label": LABELS[gold]})
    df = build_df_eval(
        frame, Preds("base-1", LABELS[base], rng.uniform(0.34, 1.0, n)), Preds("cand-2", LABELS[cand], cand_conf)
    )
    masks = {}
    for i in range(int(rng.integers(0, 12))):
        p = rng.choice([0.0, 0.01, 0.05, 0.2, 0.5, 0.9])
        mask = rng.random(n) < p
        if rng.random() < 0.3:  # a slice where the candidate is much worse
            mask &= base_ok
        masks[f"slice_{i}"] = mask
    alpha = float(rng.choice([0.01, 0.05, 0.1]))
    reg = regression_metrics(df, masks, alpha=alpha, conf_threshold=float(rng.choice([0.5, 0.8, 0.95])))
    cal = calibration_metrics(df, masks, n_boot=200)
    overall = overall_comparison(df, regression=reg)
    return overall, reg, cal, alpha, float(rng.choice([0.02, 0.05, 0.1]))


def _allowed(value, out: set[str]) -> None:
    """Every way a field's value may be printed."""
    if isinstance(value, dict):
        for v in value.values():
            _allowed(v, out)
    elif isinstance(value, (list, tuple)):
        out.add(f"{len(value):,}")
        for v in value:
            _allowed(v, out)
    elif isinstance(value, (bool, np.bool_)):
        return
    elif isinstance(value, (int, np.integer)):
        out.update({f"{int(value):,}", str(int(value))})
    elif isinstance(value, (float, np.floating)) and np.isfinite(value):
        v = float(value)
        out.update({fmt_pts(v), fmt_pct(v), fmt_p(v), fmt_ece(v), f"{v * 100:.1f}", f"{v:g}"})


def _numbers_come_from_fields(finding) -> None:
    text = finding.text
    for name in sorted(_names(finding.fields), key=len, reverse=True):
        text = text.replace(name, " ")
    allowed = {"95%", "80%", "0"}
    _allowed(finding.fields, allowed)
    stray = [t for t in NUMBER.findall(text) if t not in allowed and t.lstrip("+") not in allowed]
    assert not stray, f"{finding.kind}: numbers {stray} are not among the fields: {finding.text}"


def _names(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_names(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_names(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _check_semantics(finding, reg: pd.DataFrame, alpha: float, margin: float) -> None:
    f, text = finding.fields, finding.text
    rows = reg.set_index("slice")
    if finding.kind == "overall":
        assert f["lo"] <= f["delta"] <= f["hi"]
        d = direction(f["lo"], f["hi"])
        assert ("lies above zero" in text) == (d == "up")
        assert ("lies below zero" in text) == (d == "down")
        assert ("includes zero" in text) == (d == "unknown")
        assert f"{fmt_pts(f['delta'])} points (95% interval {fmt_pts(f['lo'])} to {fmt_pts(f['hi'])})" in text
    elif finding.kind == "worse_than_rest":
        named = [s["slice"] for s in f["slices"]]
        expected = reg[(reg["slice"] != "all") & reg["worse_than_rest"] & (reg["n"] > 0)]["slice"]
        assert sorted(named) == sorted(expected)
        for s in f["slices"]:
            assert s["q"] < alpha and s["gap"] < 0 and s["gap_lo"] <= s["gap"] <= s["gap_hi"]
            assert rows.loc[s["slice"], "vs_rest_p_adjusted"] == s["q"]
        if named:
            assert text.startswith(f"{len(named)} of {f['n_slices']} slices")
        else:
            assert text.startswith("None of") or text.startswith("The loss is spread")
            assert ("The loss is spread" in text) == (f["overall_direction"] == "down")
    elif finding.kind == "better_than_rest":
        assert all(s["q"] < alpha and rows.loc[s["slice"], "vs_rest"] > 0 for s in f["slices"])
    elif finding.kind == "against_overall":
        for s in f["slices"]:
            assert (s["lo"] > 0) if f["overall_direction"] == "down" else (s["hi"] < 0)
    elif finding.kind == "too_small":
        min_n = reg.attrs.get("min_n", 30)
        for s in f["slices"]:
            assert 0 < rows.loc[s["slice"], "n"] == s["n"] < min_n
        assert len(f["slices"]) == int(((reg["slice"] != "all") & (reg["n"] > 0) & (reg["n"] < min_n)).sum())
        assert "never block the verdict" in text
    elif finding.kind == "confidence":
        if f["n_conf_known"] == 0:
            assert "unknown" in text and not NUMBER.findall(text.replace(f["candidate"], ""))
        elif f["n_known_regressed"]:
            assert text.startswith(f"{f['n_confident_regressed']:,} of the {f['n_known_regressed']:,} regressions")
            assert ("would not catch most" in text) == (f["n_confident_regressed"] / f["n_known_regressed"] >= 0.5)
    elif finding.kind == "calibration":
        for m in f["models"]:
            assert m["ece_lo"] <= m["ece"] <= m["ece_hi"]
            assert ("overconfident" in text.split(m["model"])[1].split(";")[0]) == (
                m["mean_conf"] - m["accuracy"] >= 0.1
            )


@pytest.mark.parametrize("block", range(4))
def test_no_finding_contradicts_its_numbers(block):
    """50 random tables per block, every finding checked: its numbers come from its fields, and every
    direction, significance, power and count claim agrees with them and with the table."""
    kinds = set()
    for seed in range(block * 50, block * 50 + 50):
        overall, reg, cal, alpha, margin = random_tables(seed)
        found = findings_from_tables(overall, reg, cal, alpha=alpha, margin=margin, conf_threshold=0.8)
        for finding in found:
            kinds.add(finding.kind)
            _numbers_come_from_fields(finding)
            _check_semantics(finding, reg, alpha, margin)
            assert "nan" not in finding.text.lower()
    assert {"overall", "worse_than_rest", "confidence"} <= kinds


@pytest.mark.parametrize("seed", range(60))
def test_gate_sentences_follow_the_interval(seed):
    rng = np.random.default_rng(seed)
    delta = rng.uniform(-0.2, 0.2)
    lo, hi = delta - rng.uniform(0, 0.1), delta + rng.uniform(0, 0.1)
    margin = float(rng.choice([0.01, 0.02, 0.05]))
    status = interval_status(lo, hi, margin)
    text = non_inferiority_sentence(
        "accuracy", 500, delta, lo, hi, margin, status, Plan(100, 140, "rows", "if the change stays at +0.5 points")
    )
    assert f"{delta * 100:+.1f} points (95% interval {lo * 100:+.1f} to {hi * 100:+.1f}" in text
    assert ("lies above" in text) == (status == PASS) == (lo > -margin)
    assert ("lies below" in text) == (status == FAIL) == (hi < -margin)
    assert ("spans" in text) == (status == NEED_MORE_DATA)
    assert ("about 100-140 more rows (if the change stays at +0.5 points" in text) == (status == NEED_MORE_DATA)


# --- the lab, read as a person would --------------------------------------------------------------


@pytest.fixture(scope="module")
def lab():
    return run_analysis(load_data("lab"), "roberta", "gpt2")


def test_lab_findings(lab):
    found = summarize_findings(lab)
    assert found[0] == (
        "Overall, the candidate gpt2 is right on 39.8% of the 500 rows against 69.8% for the baseline roberta: a "
        "change of -30.0 points (95% interval -35.6 to -24.1); the interval lies below zero, so the candidate is "
        "worse (exact McNemar p = 1.1e-21). gpt2 breaks 204 rows roberta got right and fixes 54."
    )
    # a uniform 30-point loss is one overall finding; only has_mention is worse than the rest
    assert found[1].startswith(
        "1 of 10 slices is worse than the rest of the rows after Benjamini-Hochberg (false "
        "discovery rate 0.05): has_mention (-42.5 points there against -21.2 elsewhere"
    )
    text = "\n".join(found)
    # the verdict's rule: under min_n rows a slice is too small to judge (shown, never tested, never blocks)
    assert "3 of 10 slices are too small to judge (fewer than 30 rows): emoji_dense (n=8)" in text
    assert "191 of the 204 regressions with a known confidence (93.6%)" in text
    assert "gpt2 has ECE 0.566 (95% interval" in text and "overconfident: mean confidence 96.3%" in text
    assert "significant" not in text.replace("Benjamini", "")  # direction words come from intervals
    assert all(s.endswith(".") for s in found)


def test_mirror_hides_a_slice_loss(lab):
    mirror = run_analysis(lab.data, "gpt2", "roberta")
    slices = SliceSet(
        (Slice("broken", "regressed == true", "rows the candidate breaks"), Slice("questions", "has_question == true"))
    )
    found = summarize_findings(replace(mirror, slices=slices, results=analyse(mirror.df_eval, slices, lab.data.labels)))
    text = "\n".join(found)
    assert "The overall number hides the opposite change on broken (-100.0 points, 95% interval" in text
    assert "its interval lies below zero although the candidate is better overall" in text
    assert "1 of 2 slices is worse than the rest" in text


def test_without_confidences_confident_regressions_are_unknown():
    from synthetic import analysis_of

    analysis = analysis_of(["a"] * 40, ["a"] * 40, ["a"] * 30 + ["b"] * 10, ["a", "b"])
    found = {f.kind: f.text for f in analysis_findings(analysis)}
    assert found["confidence"] == (
        "The candidate cand_model gives no confidences, so how many of its regressions are confident is unknown."
    )
    assert "calibration" not in found


def test_empty_and_missing_slices(lab):
    nothing = Slice("nothing", 'text contains "zzqqzz"')
    chosen = SliceSet((nothing, Slice("neg", "has_negation == true")))
    found = summarize_findings(replace(lab, slices=chosen, results=analyse(lab.df_eval, chosen, lab.data.labels)))
    assert "nothing selects no rows of this data: check the rule, or drop the slice." in found
    none = SliceSet(())
    found = summarize_findings(replace(lab, slices=none, results=analyse(lab.df_eval, none, lab.data.labels)))
    assert [f.split(",")[0] for f in found][0].startswith("Overall")
    assert not any("slices" in f for f in found)


def test_an_underflowed_p_value_reads_as_a_bound_in_a_sentence():
    """Issue 18: "p = <1e-300" in a sentence; it reads "p < 1e-300", and an ordinary value "p = 0.0019"."""
    from evalcore.core import units

    assert units.p_text(0.0) == "p < 1e-300" and units.p_text(0.0019) == "p = 0.0019"
    assert units.p_text(0.0, "BH-adjusted p") == "BH-adjusted p < 1e-300"
    assert units.p_value(0.0) == "<1e-300"  # a table cell keeps the compact bound
