"""The paired statistics layer: power, the comparison with the rest, the bootstrap intervals, checked by
simulation with fixed seeds (the claims a verdict rests on) and against direct computations."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import f1_score

import evalcore.stats.paired
from evalcore.analyze.tables import build_df_eval
from evalcore.stats.comparisons import confusion_cells, macro_f1_of, metric_changes, per_class_changes
from evalcore.stats.intervals import mcnemar_exact
from evalcore.stats.paired import (
    binary_changes,
    continuous_changes,
    minimum_detectable_effect,
    rows_for_effect,
    vs_rest,
)


def _paired(rng, n, reg, imp, base_acc=0.75):
    """Baseline right with prob base_acc; regressed / improved shares `reg` / `imp` of all rows."""
    base = rng.random(n) < base_acc
    flip = rng.random(n) < np.where(base, reg / base_acc, imp / (1 - base_acc))
    return base, base ^ flip


def _counts(base, cand):
    return ((base & cand).sum(), (~base & cand).sum(), (base & ~cand).sum(), (~base & ~cand).sum())


def test_docstring_examples_run():
    assert doctest.testmod(evalcore.stats.paired).failed == 0


def test_mde_and_rows_for_effect_invert_each_other():
    for n, psi in ((50, 0.3), (300, 0.2), (2000, 0.1), (10_000, 0.05)):
        mde = float(minimum_detectable_effect(n, psi))
        assert rows_for_effect(mde, psi) == pytest.approx(n, abs=1)
    assert minimum_detectable_effect(0, 0.2) != minimum_detectable_effect(0, 0.2)  # NaN for an empty slice
    assert float(minimum_detectable_effect(2, 0.0)) == 1.0  # nothing is detectable on two rows
    # more rows and fewer discordant rows both make smaller changes detectable
    assert minimum_detectable_effect(1000, 0.2) < minimum_detectable_effect(500, 0.2)
    assert minimum_detectable_effect(1000, 0.1) < minimum_detectable_effect(1000, 0.2)


@pytest.mark.parametrize("n, psi", [(300, 0.2), (1000, 0.1)])
def test_mde_has_80_percent_power_with_the_exact_mcnemar_test(n, psi):
    """At the MDE, the exact McNemar test rejects in about 80% of simulated datasets (Connor's
    approximation; 2,000 seeds, so a +-3 point tolerance)."""
    mde = float(minimum_detectable_effect(n, psi))
    rng = np.random.default_rng(11)
    reg, imp = (psi + mde) / 2, (psi - mde) / 2
    cells = rng.multinomial(n, [reg, imp, 1 - psi], size=2000)
    p = mcnemar_exact(cells[:, 1], cells[:, 0])
    assert np.mean(p < 0.05) == pytest.approx(0.8, abs=0.04)


def test_binary_changes_match_direct_computation():
    rng = np.random.default_rng(3)
    base, cand = _paired(rng, 600, 0.12, 0.06)
    mask = rng.random(600) < 0.3
    a, b, c, d = _counts(base, cand)
    sa, sb, sc, sd = _counts(base[mask], cand[mask])
    t = binary_changes(["all", "s"], [a, sa], [b, sb], [c, sc], [d, sd]).set_index("slice")
    assert t.loc["all", "delta"] == pytest.approx(cand.mean() - base.mean())
    assert t.loc["s", "p"] == pytest.approx(binomtest(min(sb, sc), sb + sc).pvalue)
    assert t.loc["s", "rest_delta"] == pytest.approx(cand[~mask].mean() - base[~mask].mean())
    assert t.loc["s", "vs_rest"] == pytest.approx(t.loc["s", "delta"] - t.loc["s", "rest_delta"])
    assert t.loc["s", "vs_rest_lo"] < t.loc["s", "vs_rest"] < t.loc["s", "vs_rest_hi"]
    assert np.isnan(t.loc["all", "p_adjusted"]) and np.isnan(t.loc["all", "vs_rest"])


@pytest.mark.parametrize("size", [25, 100, 500])
def test_vs_rest_keeps_its_false_positive_rate_under_a_uniform_change(size):
    """A uniform -5-point change: a slice is no worse than the rest, so the test rejects in about 5%
    of datasets or fewer, small slices included (Agresti-Min variances), 1,500 seeds."""
    rng = np.random.default_rng(size)
    n = 3000
    rejections = 0
    for _ in range(1500):
        base, cand = _paired(rng, n, 0.125, 0.075)
        mask = np.zeros(n, dtype=bool)
        mask[:size] = True
        a, b, c, d = _counts(base, cand)
        sa, sb, sc, sd = _counts(base[mask], cand[mask])
        p = vs_rest(np.array([sb]), np.array([sc]), np.array([size]), b, c, n)["vs_rest_p"][0]
        rejections += p < 0.05
    assert rejections / 1500 <= 0.065


def test_vs_rest_finds_a_slice_15_points_worse():
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(300):
        n, size = 5000, 300
        mask = np.zeros(n, dtype=bool)
        mask[:size] = True
        base, cand = _paired(rng, n, 0.10, 0.10)
        sb, sc = _paired(rng, size, 0.175, 0.025)
        base[mask], cand[mask] = sb, sc
        a, b, c, d = _counts(base, cand)
        s = _counts(base[mask], cand[mask])
        r = vs_rest(np.array([s[1]]), np.array([s[2]]), np.array([size]), b, c, n)
        found += r["vs_rest_p"][0] < 0.05 / 20 and r["vs_rest"][0] < 0
    assert found / 300 >= 0.95


LABELS = np.array(["a", "b", "c"])


class _P:
    def __init__(self, model, pred):
        self.model, self.pred, self.conf = model, pred, None


def _frame(gold, base, cand):
    import pandas as pd

    n = len(gold)
    df = pd.DataFrame({"id": [str(i) for i in range(n)], "text": ["t"] * n, "label": LABELS[gold]})
    return build_df_eval(df, _P("b", LABELS[base]), _P("c", LABELS[cand]))


def _population(rng, n):
    gold = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    base = np.where(rng.random(n) < 0.75, gold, rng.integers(0, 3, n))
    cand = np.where(rng.random(n) < 0.65, gold, np.where(rng.random(n) < 0.5, base, rng.integers(0, 3, n)))
    return gold, base, cand


def test_macro_f1_change_matches_sklearn_and_its_bootstrap_interval_covers():
    """The point estimate equals scikit-learn's; the seeded paired bootstrap interval covers the
    population change in about 95% of 200 samples of 600 rows."""
    rng = np.random.default_rng(8)
    gold, base, cand = _population(rng, 400_000)
    truth = f1_score(gold, cand, average="macro") - f1_score(gold, base, average="macro")
    covered = 0
    for i in range(200):
        idx = rng.integers(0, len(gold), 600)
        df = _frame(gold[idx], base[idx], cand[idx])
        row = metric_changes(df, {}, ["macro_f1"], labels=list(LABELS), n_boot=400, seed=i).iloc[0]
        if i == 0:
            expected = f1_score(gold[idx], cand[idx], average="macro") - f1_score(gold[idx], base[idx], average="macro")
            assert row["delta"] == pytest.approx(expected)
        covered += row["delta_lo"] <= truth <= row["delta_hi"]
    assert 0.90 <= covered / 200 <= 0.99


def test_per_class_changes_match_sklearn():
    rng = np.random.default_rng(2)
    gold, base, cand = _population(rng, 1500)
    pc = per_class_changes(_frame(gold, base, cand), list(LABELS)).set_index("label")
    for who, pred in (("baseline", base), ("candidate", cand)):
        for metric, fn in (("recall", "recall"), ("precision", "precision"), ("f1", "f1")):
            from sklearn import metrics

            ref = getattr(metrics, f"{fn}_score")(gold, pred, average=None, labels=[0, 1, 2])
            assert pc[f"{metric}_{who}"].to_numpy() == pytest.approx(ref)
    on_a = gold == 0
    assert pc.loc["a", "recall_p"] == pytest.approx(
        binomtest(
            min(((base != 0) & (cand == 0) & on_a).sum(), ((base == 0) & (cand != 0) & on_a).sum()),
            (((base != 0) & (cand == 0)) | ((base == 0) & (cand != 0)))[on_a].sum(),
        ).pvalue
    )
    for m in ("precision", "recall", "f1"):
        assert (pc[f"{m}_delta_lo"] <= pc[f"{m}_delta"]).all() and (pc[f"{m}_delta"] <= pc[f"{m}_delta_hi"]).all()


def test_macro_f1_of_cells_equals_sklearn_on_slices():
    rng = np.random.default_rng(4)
    gold, base, cand = _population(rng, 800)
    df = _frame(gold, base, cand)
    mask = rng.random(800) < 0.2
    cells = confusion_cells(df, {"s": mask}, list(LABELS))
    cb, cc = cells.confusions()
    assert macro_f1_of(cb)[1] == pytest.approx(f1_score(gold[mask], base[mask], average="macro"))
    assert macro_f1_of(cc)[0] == pytest.approx(f1_score(gold, cand, average="macro"))


def test_continuous_changes_cover_and_keep_their_level():
    """Per-example scores in [0, 1]: the bootstrap interval covers the true mean change about 95% of the
    time and the paired t test keeps its level under no change."""
    rng = np.random.default_rng(6)
    covered = rejected = 0
    for i in range(200):
        n = 400
        base = rng.beta(2, 2, n)
        cand = np.clip(base + rng.normal(0.02, 0.1, n), 0, 1)
        t = continuous_changes(["all"], np.ones((1, n), bool), base, cand, n_boot=300, seed=i).iloc[0]
        covered += t["delta_lo"] <= 0.02 <= t["delta_hi"]  # clipping at 0 and 1 is rare for beta(2, 2) +- 0.1
        null = continuous_changes(
            ["all"], np.ones((1, n), bool), base, np.clip(base + rng.normal(0, 0.1, n), 0, 1), n_boot=50, seed=i
        ).iloc[0]
        rejected += null["p"] < 0.05
    assert 0.90 <= covered / 200 <= 0.99
    assert rejected / 200 <= 0.09


def test_continuous_bootstrap_over_distinct_values_is_the_row_bootstrap():
    """Few distinct differences (token F1 of short answers): the multinomial over distinct values gives the
    row bootstrap's distribution; its interval covers the true change about 95% of the time."""
    from evalcore.stats.paired import _bootstrap_means

    rng = np.random.default_rng(11)
    values = np.array([-1.0, -0.5, 0.0, 0.0, 0.0, 1 / 3, 0.5, 1.0])
    d = rng.choice(values, 4000)
    rows = np.ones((1, len(d)), bool)
    fast = _bootstrap_means(d, rows, 4000, seed=1)[0]  # 8 distinct values: the multinomial path
    slow = np.array([d[rng.integers(0, len(d), len(d))].mean() for _ in range(4000)])  # plain row bootstrap
    assert abs(fast.std() - slow.std()) < 0.05 * slow.std()
    assert np.quantile(fast, [0.025, 0.975]) == pytest.approx(np.quantile(slow, [0.025, 0.975]), abs=0.004)
    covered = 0
    truth = values.mean()
    for i in range(200):
        base = rng.choice([0.0, 0.5, 1.0], 300)
        cand = np.clip(base + rng.choice(values, 300), 0, 1)
        t = continuous_changes(["all"], np.ones((1, 300), bool), base, cand, n_boot=300, seed=i).iloc[0]
        true_change = (np.clip(np.add.outer([0.0, 0.5, 1.0], values), 0, 1) - np.array([[0.0], [0.5], [1.0]])).mean()
        covered += t["delta_lo"] <= true_change <= t["delta_hi"]
    assert truth != 0 and 0.90 <= covered / 200 <= 0.99
