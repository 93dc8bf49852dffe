"""Gold-label mix per slice: is a slice's change about its text property, or about its labels?

Slices track the gold label: on TweetEval irony, `has_hashtag` is 55% ironic against 40% overall.
When the two models differ by label (the candidate better on irony, worse on non-irony), such a
slice shows a change even if the hashtag itself does nothing. The change of a slice s splits
exactly into

    delta_s - delta = sum_c (p_s(c) - p(c)) * delta_c  +  sum_c p_s(c) * (delta_s,c - delta_c)
                      `---- mix effect --------------'     `---- within-label effect -------'

where p(c) is label c's share, delta_c the paired change (candidate - baseline accuracy) on rows
of gold label c over all data, and delta, delta_s the overall and slice changes. The mix effect is
what the slice's label mix alone would give at each label's overall change.

`label_mix` computes per slice the mix, its total variation distance from the overall mix, a
chi-square test of homogeneity (slice rows against the other rows, Benjamini-Hochberg over the
slices) and the mix effect; `label_driven` flags a slice whose mix differs beyond chance *and*
whose mix effect is at least half of its departure from the overall change (and >= 1 point):
its change may come from the labels rather than the text property. `label_mix_findings` turns
those flags into sentences that carry every number they rest on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.tables import role_col
from evalcore.core.errors import DataError
from evalcore.stats.intervals import group_counts
from evalcore.stats.metrics import ALL_SLICE, stack_masks

if TYPE_CHECKING:
    from evalcore.stats.results import Analysis

MIX_SHARE = 0.5  # the mix effect must explain at least this share of the slice's departure ...
MIN_MIX_EFFECT = 0.01  # ... and be at least one accuracy point, to be worth a warning
TEST_METHOD = (
    "chi-square test of homogeneity of the gold-label counts, slice rows vs the other rows "
    "(scipy.stats.chi2_contingency), Benjamini-Hochberg over the slices"
)


@dataclass
class LabelMix:
    """`counts` / `shares`: index `all` then the slices, one column per label (rows of each gold
    label, and their share of the slice). `tests`: one row per slice (not `all`): n, total
    variation distance from the overall mix, chi2, dof, p_value, p_adjusted, mix_differs, delta
    (slice change), overall_delta, mix_effect, label_driven. `label_delta`: each label's overall
    paired change (NaN when no model output is known)."""

    counts: pd.DataFrame
    shares: pd.DataFrame
    tests: pd.DataFrame
    label_delta: pd.Series
    alpha: float


def _gold_codes(gold: pd.Series, labels: list[str]) -> np.ndarray:
    """Each row's index in `labels` (-1 where the gold label is not one), in Arrow's C++ kernels: a million
    rows in milliseconds, where mapping Python strings takes a second."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(gold.astype(str)), value_set=pa.array(labels, pa.string()))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def label_mix(
    df_eval: pd.DataFrame, masks: Mapping[str, object], labels: Sequence[str], *, alpha: float = 0.05
) -> LabelMix:
    """Gold-label mix of every slice beside the overall mix, with the test and the flag above.
    `df_eval` needs `label`; the mix effect also needs `baseline_correct` / `candidate_correct`
    (without them it is NaN and nothing is flagged)."""
    from scipy.stats import chi2_contingency, false_discovery_control

    labels = [str(x) for x in labels]
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be in (0, 1), got {alpha}")
    index = {lab: i for i, lab in enumerate(labels)}
    code = _gold_codes(df_eval["label"], list(index))
    if (code < 0).any():
        bad = df_eval["label"][code < 0].iloc[0]
        raise DataError(f"gold label {bad!r} is not one of the labels {', '.join(labels)}")
    names, matrix = stack_masks(masks, len(df_eval))
    # (S, k) gold-label counts per slice: one sort of the codes for every slice (`group_counts`)
    present, grouped = group_counts(matrix, code)
    counts = np.zeros((len(names), len(labels)), dtype=np.int64)
    counts[:, present] = grouped
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / n[:, None]
    total = counts[0]
    p_all = shares[0]

    delta_c = np.full(len(labels), np.nan)
    change = None
    correct = [role_col("baseline", "correct"), role_col("candidate", "correct")]
    if set(correct) <= set(df_eval.columns):
        change = df_eval[correct[1]].to_numpy(dtype=float) - df_eval[correct[0]].to_numpy(dtype=float)
        sums = np.bincount(code, weights=change, minlength=len(labels))
        with np.errstate(invalid="ignore", divide="ignore"):
            delta_c = np.where(total > 0, sums / np.maximum(total, 1), np.nan)
        overall = float(change.mean())
        slice_sum = _slice_sums(matrix, change, [df_eval[c] for c in correct])

    rows = []
    for s in range(1, len(names)):
        rest = total - counts[s]
        table = np.stack([counts[s], rest])
        table = table[:, table.sum(axis=0) > 0]
        if n[s] == 0 or rest.sum() == 0 or table.shape[1] < 2:
            chi2 = p = np.nan
            dof = 0
        else:
            res = chi2_contingency(table)
            chi2, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
        tv = 0.5 * float(np.abs(shares[s] - p_all).sum()) if n[s] else np.nan
        if change is not None and n[s]:
            slice_delta, row_overall = float(slice_sum(s) / n[s]), overall
            known = total > 0
            mix_effect = float(((shares[s] - p_all)[known] * delta_c[known]).sum())
        else:
            slice_delta = row_overall = mix_effect = np.nan
        rows.append(
            {
                "slice": names[s],
                "n": int(n[s]),
                "tv_distance": tv,
                "chi2": chi2,
                "dof": dof,
                "p_value": p,
                "delta": slice_delta,
                "overall_delta": row_overall,
                "mix_effect": mix_effect,
            }
        )
    tests = pd.DataFrame(
        rows, columns=["slice", "n", "tv_distance", "chi2", "dof", "p_value", "delta", "overall_delta", "mix_effect"]
    )
    p_adj = np.full(len(tests), np.nan)
    ok = tests["p_value"].notna().to_numpy()
    if ok.any():
        p_adj[ok] = false_discovery_control(tests.loc[ok, "p_value"].to_numpy(), method="bh")
    tests.insert(6, "p_adjusted", p_adj)
    tests.insert(7, "mix_differs", np.nan_to_num(p_adj, nan=1.0) < alpha)
    departure = (tests["delta"] - tests["overall_delta"]).to_numpy()
    effect = tests["mix_effect"].to_numpy()
    with np.errstate(invalid="ignore"):
        explains = (np.sign(effect) == np.sign(departure)) & (np.abs(effect) >= MIX_SHARE * np.abs(departure))
        tests["label_driven"] = tests["mix_differs"].to_numpy() & explains & (np.abs(effect) >= MIN_MIX_EFFECT)
    tests.attrs = {"alpha": alpha, "method": TEST_METHOD}
    return LabelMix(
        counts=pd.DataFrame(counts, index=names, columns=labels),
        shares=pd.DataFrame(shares, index=names, columns=labels),
        tests=tests,
        label_delta=pd.Series(delta_c, index=labels),
        alpha=alpha,
    )


def _slice_sums(matrix: np.ndarray, change: np.ndarray, correct: list[pd.Series]) -> Callable[[int], float]:
    """The sum of `change` (candidate right minus baseline right) over matrix row s's rows. With boolean
    correctness a row's change is -1, 0 or 1: the sum is improved rows minus regressed rows, counted on the masks
    without gathering a million floats per slice (exactly the float sum: integers)."""
    if all(c.dtype == bool for c in correct):
        base, cand = (c.to_numpy(dtype=bool) for c in correct)
        improved, regressed = cand & ~base, base & ~cand
        return lambda s: float(np.count_nonzero(matrix[s] & improved) - np.count_nonzero(matrix[s] & regressed))
    return lambda s: float(change[matrix[s]].sum())


def mix_text(shares: pd.Series) -> str:
    """`irony 55% · non_irony 45%`: a mix in one line, for tables and sentences."""
    return " · ".join(f"{lab} {v:.0%}" if v == v else f"{lab} –" for lab, v in shares.items())


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} points"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def label_mix_findings(analysis: Analysis, alpha: float | None = None) -> list[str]:
    """Sentences on slices whose change may come from their gold-label mix, each printing the
    numbers it rests on (for `evalcore.present.report.summarize_findings`). Empty when no slice is flagged."""
    r = analysis.results
    if alpha is None:
        alpha = float(r.regression_metrics.attrs.get("alpha", 0.05))
    return findings_from_mix(analysis_label_mix(analysis, r.masks, alpha))


def analysis_label_mix(analysis: Analysis, masks: Mapping[str, object], alpha: float = 0.05) -> LabelMix:
    """`label_mix` of an analysis' table on `masks`, kept with its results (`SliceResults.derived`): a rerun of a
    page that shows the same results (the findings, the verdict's notes) computes it once."""
    r = analysis.results
    key = ("label_mix", id(analysis.df_eval), tuple(analysis.data.labels), alpha, tuple(masks))
    mix = r.derived.get(key)
    if mix is None:
        mix = r.derived[key] = label_mix(analysis.df_eval, masks, analysis.data.labels, alpha=alpha)
    return mix


def findings_from_mix(mix: LabelMix) -> list[str]:
    """The sentences of `label_mix_findings`, from a computed `LabelMix`."""
    out = []
    overall = mix.shares.loc[ALL_SLICE]
    for row in mix.tests[mix.tests["label_driven"]].sort_values("mix_effect", key=np.abs, ascending=False).itertuples():
        lab = str((mix.shares.loc[row.slice] - overall).idxmax())  # the most over-represented label
        out.append(
            f"{row.slice} has a different gold-label mix from the data: {lab} is "
            f"{mix.shares.loc[row.slice, lab]:.0%} of its {row.n:,} rows against {overall[lab]:.0%} overall "
            f"(total variation {row.tv_distance:.2f}; chi-square {_p(row.p_adjusted)} after Benjamini-Hochberg). "
            f"At each label's overall change, this mix alone moves the slice's change by {_pts(row.mix_effect)}, "
            f"of the {_pts(row.delta - row.overall_delta)} by which its change ({_pts(row.delta)}) departs from "
            f"the overall {_pts(row.overall_delta)}: read it as partly a label effect, not only {row.slice}."
        )
    return out
