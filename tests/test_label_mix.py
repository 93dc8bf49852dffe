"""Gold-label mix per slice: the shares, the test, the mix effect and the flag, checked against
direct computations and on simulations with fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from evalcore.decide.label_mix import findings_from_mix, label_mix, mix_text

LABELS = ["irony", "non_irony"]


def simulated(
    seed: int, n: int = 2000, *, slice_irony: float = 0.7, text_effect: float = 0.0
) -> tuple[pd.DataFrame, dict]:
    """Irony 40% overall; a `has_hashtag` slice (30% of rows) with `slice_irony` irony. The candidate
    is 20 points better than the baseline on irony and equal on non-irony; `text_effect` adds a
    change on the slice's rows whatever their label."""
    rng = np.random.default_rng(seed)
    in_slice = rng.random(n) < 0.3
    p_out = (0.4 - 0.3 * slice_irony) / 0.7  # keeps irony at 40% overall
    irony = np.where(in_slice, rng.random(n) < slice_irony, rng.random(n) < p_out)
    base = rng.random(n) < 0.6
    cand_p = np.where(irony, 0.8, 0.6) + np.where(in_slice, text_effect, 0.0)
    cand = rng.random(n) < cand_p
    df = pd.DataFrame(
        {"label": np.where(irony, "irony", "non_irony"), "baseline_correct": base, "candidate_correct": cand}
    )
    return df, {"has_hashtag": in_slice, "random": rng.random(n) < 0.3}


def test_shares_distance_and_test_equal_direct_computations() -> None:
    df, masks = simulated(1)
    mix = label_mix(df, masks, LABELS)
    m = masks["has_hashtag"]
    assert mix.shares.loc["all", "irony"] == pytest.approx((df["label"] == "irony").mean())
    assert mix.shares.loc["has_hashtag", "irony"] == pytest.approx((df.loc[m, "label"] == "irony").mean())
    row = mix.tests.set_index("slice").loc["has_hashtag"]
    tv = 0.5 * np.abs(mix.shares.loc["has_hashtag"] - mix.shares.loc["all"]).sum()
    assert row["tv_distance"] == pytest.approx(tv)
    table = pd.crosstab(m, df["label"]).to_numpy()[::-1]
    assert row["p_value"] == pytest.approx(chi2_contingency(table).pvalue)
    assert row["n"] == m.sum() and mix.counts.loc["has_hashtag"].sum() == m.sum()
    # the mix effect is the exact first term of the decomposition of the slice's departure
    change = df["candidate_correct"].astype(float) - df["baseline_correct"].astype(float)
    delta_c = change.groupby(df["label"]).mean()
    p_s, p = mix.shares.loc["has_hashtag"], mix.shares.loc["all"]
    within = (p_s * (change[m].groupby(df.loc[m, "label"]).mean() - delta_c)).sum()
    assert row["mix_effect"] == pytest.approx(((p_s - p) * delta_c).sum())
    assert row["delta"] - row["overall_delta"] == pytest.approx(row["mix_effect"] + within)
    share = mix.shares.loc["all", "irony"]
    assert mix_text(mix.shares.loc["all"]) == f"irony {share:.0%} · non_irony {1 - share:.0%}"


def test_a_slice_whose_change_comes_from_its_labels_is_flagged_and_a_text_effect_is_not() -> None:
    df, masks = simulated(2)
    tests = label_mix(df, masks, LABELS).tests.set_index("slice")
    assert tests.loc["has_hashtag", "label_driven"] and tests.loc["has_hashtag", "mix_differs"]
    assert tests.loc["has_hashtag", "mix_effect"] == pytest.approx(0.3 * 0.2, abs=0.02)  # (0.7 - 0.4) x 20 points
    assert not tests.loc["random", "label_driven"]
    same_mix, masks = simulated(3, slice_irony=0.4, text_effect=0.15)  # a real text effect, labels as overall
    assert not label_mix(same_mix, masks, LABELS).tests.set_index("slice").loc["has_hashtag", "label_driven"]


def test_the_mix_test_holds_its_level_when_slices_ignore_the_labels() -> None:
    """Slices drawn independently of the labels: the raw test rejects in about alpha of the runs."""
    rejections = [
        label_mix(*simulated(seed, n=500, slice_irony=0.4), LABELS).tests.set_index("slice").loc["random", "p_value"]
        < 0.05
        for seed in range(300)
    ]
    assert 0.02 <= np.mean(rejections) <= 0.08


def test_findings_print_the_numbers_they_rest_on() -> None:
    df, masks = simulated(2)
    mix = label_mix(df, masks, LABELS)
    [sentence] = findings_from_mix(mix)
    row = mix.tests.set_index("slice").loc["has_hashtag"]
    assert sentence.startswith(
        "has_hashtag has a different gold-label mix from the data: irony is "
        f"{mix.shares.loc['has_hashtag', 'irony']:.0%} of its {row['n']:,} rows against "
        f"{mix.shares.loc['all', 'irony']:.0%} overall"
    )
    for number in (
        f"{row['tv_distance']:.2f}",
        f"{row['mix_effect'] * 100:+.1f} points",
        f"{row['delta'] * 100:+.1f} points",
        f"{row['overall_delta'] * 100:+.1f} points",
    ):
        assert number in sentence
    quiet, masks = simulated(4, slice_irony=0.4)
    assert findings_from_mix(label_mix(quiet, masks, LABELS)) == []
