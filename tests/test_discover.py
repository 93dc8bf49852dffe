"""Regression-slice discovery: planted conjunctions are found and confirmed, null data confirm nothing,
and every finding is a rule of the project's language that selects exactly the rows it was tested on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synthetic_slices import PLANTED_RULE, planted_table

from evalcore.analyze.rules import evaluate, format_rule, mask, parse_rule
from evalcore.analyze.slices import SliceSet, load_slices, save_slices
from evalcore.core.errors import ConfigError, DataError
from evalcore.decide.discover import (
    DiscoverySettings,
    column_items,
    discover_slices,
    discovery_text,
    item_space,
    split_halves,
)
from evalcore.io.load import load_data
from evalcore.stats.paired import binary_changes
from evalcore.tasks.pipeline import run_analysis

PLANTED = format_rule(parse_rule(PLANTED_RULE))


@pytest.fixture(scope="module")
def planted():
    df = planted_table(5000, 3)
    return df, discover_slices(df, seed=3)


def test_the_planted_conjunction_is_found_confirmed_and_first(planted):
    df, found = planted
    assert found.confirmed and found.confirmed[0].text == PLANTED
    top = found.confirmed[0]
    assert top.confirm["worse_than_rest"] and top.confirm["vs_rest_p_adjusted"] < 0.05
    assert top.confirm["delta_lo"] <= top.confirm["delta"] <= top.confirm["delta_hi"] < 0
    assert top.confirm["vs_rest_lo"] <= top.confirm["vs_rest"] <= top.confirm["vs_rest_hi"] < 0
    assert 0 < top.confirm["mde"] < 0.2 and top.overall["n"] == int(mask(top.rule, df).sum())
    assert found.n_search + found.n_confirm == len(df) == found.n_rows
    assert found.n_tested > 500 and found.search_seconds > 0 and found.total_seconds >= found.search_seconds


def test_confirmation_figures_are_the_decision_layers_on_the_held_out_half(planted):
    df, found = planted
    _, confirm = split_halves(len(df), found.settings.seed)
    half = df.iloc[confirm]
    b_ok, c_ok = half["baseline_correct"].to_numpy(), half["candidate_correct"].to_numpy()
    masks = [mask(f.rule, half) for f in found.candidates]  # the rule text selects the tested rows
    cells = [b_ok & c_ok, ~b_ok & c_ok, b_ok & ~c_ok, ~b_ok & ~c_ok]
    counts = [[int(c.sum()), *(int((m & c).sum()) for m in masks)] for c in cells]
    names = [f.name for f in found.candidates]
    expected = binary_changes(["all", *names], *counts)
    for k, f in enumerate(found.candidates, start=1):
        for col in ("n", "delta", "delta_lo", "delta_hi", "vs_rest", "vs_rest_p", "vs_rest_p_adjusted", "mde"):
            assert f.confirm[col] == pytest.approx(expected.iloc[k][col], nan_ok=True), (f.name, col)
        assert f.confirmed == bool(expected.iloc[k]["worse_than_rest"])


def test_findings_are_canonical_rules_and_slices_that_round_trip(planted, tmp_path):
    df, found = planted
    for f in found.candidates:
        assert parse_rule(f.text) == f.rule and format_rule(parse_rule(f.text)) == f.text
        assert np.array_equal(evaluate(parse_rule(f.text), df), mask(f.rule, df))
    saved = load_slices(save_slices(tmp_path / "found.json", found.slice_set()))
    assert saved.names() == [f.name for f in found.confirmed]
    assert saved[found.confirmed[0].name].text == PLANTED
    note = saved[found.confirmed[0].name].note
    assert "confirmation half" in note and "seed 3" in note
    doc = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    assert doc["settings"]["seed"] == 3 and doc["confirmed"][0] == found.confirmed[0].name
    assert SliceSet.from_json(doc["slices"]).names() == saved.names()
    assert len(doc["candidates"]) == len(found.candidates) and doc["candidates"][0]["rule"] == PLANTED


def test_the_same_seed_repeats_the_run_and_another_seed_splits_differently(planted):
    df, found = planted
    again = discover_slices(df, seed=3)
    assert [f.text for f in again.candidates] == [f.text for f in found.candidates]
    assert [f.confirm["delta"] for f in again.candidates] == [f.confirm["delta"] for f in found.candidates]
    a, _ = split_halves(len(df), 3)
    b, _ = split_halves(len(df), 4)
    assert not np.array_equal(a, b) and len(a) == len(b) == len(df) // 2


@pytest.mark.parametrize("depth", [2, 3])
def test_simulation_planted_found_in_nine_of_ten_null_rarely_confirms(depth):
    """40 fixed seeds each (the benchmark runs 200): a -15 point regression on a 10% two-feature slice of
    4,000 rows is found and confirmed in >= 90%; null data confirm any slice in at most 2 of 40."""
    found = sum(
        PLANTED in [f.text for f in discover_slices(planted_table(4000, s), seed=s, depth=depth).confirmed]
        for s in range(40)
    )
    false = sum(
        bool(discover_slices(planted_table(4000, 1000 + s, planted=False), seed=s, depth=depth).confirmed)
        for s in range(40)
    )
    assert found >= 36 and false <= 2


def test_near_duplicate_spellings_are_tested_once_in_their_simplest_form():
    df = planted_table(4000, 5)
    df["flag1_copy"] = df["flag1"]  # the same rows under another name
    df["group_is_b"] = df["group"] == "b"
    found = discover_slices(df, seed=5)
    planted_rows = mask(parse_rule(PLANTED_RULE), df)
    same = [f for f in found.candidates if np.array_equal(mask(f.rule, df), planted_rows)]
    assert len(same) == 1 and same[0].confirmed


def test_numeric_items_are_readable_bins_that_partition_the_rows():
    s = pd.Series(np.r_[np.arange(100) / 7, np.nan], name="x")
    items, kind, reason = column_items(s, 4)
    assert kind == "number" and reason is None
    texts = [format_rule(i.rule) for i in items]
    assert texts[0].startswith("x < ") and texts[-1] == "x is null" and " and x < " in texts[1]
    frame = s.to_frame()
    owners = np.sum([mask(i.rule, frame) for i in items], axis=0)
    assert (owners == 1).all()  # every row in exactly one bin
    counts, _, _ = column_items(pd.Series([0, 1, 1, 2, 0] * 10, name="count"), 4)
    assert [format_rule(i.rule) for i in counts] == ["count == 0", "count == 1", "count == 2"]
    ints, _, _ = column_items(pd.Series(np.arange(40), name="n"), 4)
    assert [format_rule(i.rule) for i in ints] == ["n < 10", "n >= 10 and n < 20", "n >= 20 and n < 30", "n >= 30"]
    # names a person can read: a confidence cut in percent ("0p63" was the old spelling), decimals spelled out
    conf, _, _ = column_items(pd.Series(np.linspace(0.3, 0.99, 40), name="candidate_conf"), 2)
    assert [i.tag for i in conf] == ["candidate_conf_lt_64point5pct", "candidate_conf_ge_64point5pct"]
    dec, _, _ = column_items(pd.Series(np.linspace(-2, 9, 40), name="score"), 2)
    assert [i.tag for i in dec] == ["score_lt_3point5", "score_ge_3point5"]


def test_the_search_space_skips_text_and_constant_columns_and_refuses_the_outcome():
    df = planted_table(800, 1)
    df["note"] = [f"free text {i}" for i in range(len(df))]
    df["constant"] = True
    space = item_space(df, ["flag1", "note", "constant", "group"], 4)
    assert list(space.features["feature"]) == ["flag1", "group"] and space.matrix.shape == (800, 6)
    assert "free text" in space.skipped["note"] and "constant" in space.skipped
    with pytest.raises(ConfigError, match="outcome"):
        discover_slices(df, features=["flag1", "regressed"])
    with pytest.raises(ConfigError, match="not a column"):
        discover_slices(df, features=["flag1", "nope"])
    with pytest.raises(DataError, match="at least 120 rows"):
        discover_slices(df.head(100))


@pytest.mark.parametrize(
    "option, value",
    [
        ("depth", 4),
        ("bins", 1),
        ("min_support", 2),
        ("alpha", 1.5),
        ("max_candidates", 0),
        ("seed", -1),
        ("screen_p", 0),
        ("beam", True),
    ],
)
def test_bad_settings_are_refused_with_what_is_allowed(option, value):
    with pytest.raises(ConfigError, match=f"{option}=.*use"):
        DiscoverySettings(**{option: value})


def test_lab_file_discovery_on_precomputed_models():
    """roberta vs gpt2 are columns of the lab file: discovery needs no live model. gpt2 loses most on
    negative tweets; the run states that its 250-row halves only confirm large regressions."""
    analysis = run_analysis(load_data("lab"), "roberta", "gpt2")
    found = discover_slices(analysis.df_eval)
    assert found.confirmed and any('label == "negative"' in f.text for f in found.confirmed)
    # model outputs are left out unless asked: a slice chosen on a model's confidence is model-defined
    assert "baseline_conf" not in set(found.features["feature"]) and "label" in set(found.features["feature"])
    asked = discover_slices(analysis.df_eval, include_model_outputs=True)
    assert {"baseline_conf", "candidate_conf"} <= set(asked.features["feature"])
    assert any("250 rows" in w for w in found.warnings)
    text = "\n".join(discovery_text(found))
    assert "CONFIRMED" in text and "pts [" in text and "seed 0" in text
