"""Statistics of a *paired* comparison, shared by every metric and task kind.

Both models score the same rows, so every change is paired. This module holds the few primitives
the decision layer is built from, each vectorised over slices:

- `binary_changes`: a per-example 0/1 outcome (correct, exact match...). Change = improved rate -
  regressed rate, Newcombe's paired interval, exact McNemar test, minimum detectable effect (MDE)
  from Connor (1987), and the comparison with the rest of the rows.
- `bootstrap_changes`: a metric that is not a mean of per-example outcomes (macro-F1): seeded
  paired bootstrap over rows, done on the multinomial of the slice's joint confusion cells, which
  is exact for any metric of the confusion counts and costs O(B x cells), not O(B x rows).
- `continuous_changes`: a per-example score in [0, 1] (token F1, ROUGE-L): mean paired difference
  with a seeded paired bootstrap interval and a paired t test.

"Worse than elsewhere" compares a slice's change with the change on the rows *outside* it: paired
within each part, independent between them, with a Wald test whose variances use the Agresti-Min
(2005) adjustment (+0.5 per discordant cell) so a slice with no discordant pair is not treated as
known exactly. Benjamini-Hochberg runs over the user's slices (never over `all`).

    >>> mde = minimum_detectable_effect(n=1000, discordance=0.2)
    >>> round(float(mde), 4)  # 80% power, two-sided alpha 0.05
    0.0396
    >>> int(rows_for_effect(0.05, discordance=0.2))
    626
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd

from evalcore.core.errors import ConfigError
from evalcore.stats.intervals import group_counts, mcnemar_exact, paired_difference_interval

POWER = 0.8
ALPHA = 0.05
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 0
METHODS = {
    "mde": "minimum detectable effect at 80% power, two-sided alpha 0.05, for the paired design from the slice's "
    "own size and discordance (Connor 1987; discordance taken as at least the effect)",
    "vs_rest": "slice change minus the change on the other rows (paired within, independent between): Wald test "
    "and 95% interval with Agresti-Min adjusted variances (+0.5 per discordant cell); "
    "Benjamini-Hochberg over the slices",
    "bootstrap": "paired bootstrap over rows ({b} resamples, seed {seed}), drawn as a multinomial over the joint "
    "confusion cells; percentile interval; two-sided p = twice the smaller tail share at 0 (add-one)",
    "continuous": "mean paired difference; paired bootstrap percentile interval over rows ({b} resamples, seed "
    "{seed}, drawn as a multinomial over the distinct differences); paired t test; MDE (z_a + z_b) x SE "
    "with one pseudo-row of +-1 in the SD, at most 100 points; vs rest: Welch t",
}


def _z(two_sided_alpha: float) -> float:
    return NormalDist().inv_cdf(1 - two_sided_alpha / 2)


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    return float(confidence)


# --- power ---------------------------------------------------------------------------------------


def _connor_gap(delta: np.ndarray, n: np.ndarray, psi: np.ndarray, za: float, zb: float) -> np.ndarray:
    """Connor's sample-size equation rearranged: >0 while `delta` is too small to detect with n rows."""
    psi_d = np.maximum(psi, delta)
    return za * np.sqrt(psi_d) + zb * np.sqrt(np.maximum(psi_d - delta**2, 0)) - delta * np.sqrt(n)


def minimum_detectable_effect(n, discordance, *, alpha: float = ALPHA, power: float = POWER) -> np.ndarray:
    """Smallest |change| a paired binary comparison of `n` rows detects with `power` (arrays).

    Connor (1987): n = [z_a sqrt(psi) + z_b sqrt(psi - d^2)]^2 / d^2, solved for d by bisection, with the
    discordance psi taken as max(observed, d) (a change of d needs at least d discordant rows). NaN
    where n == 0; 1.0 where even a change of 100 points could not be detected.
    """
    za, zb = _z(alpha), NormalDist().inv_cdf(power)
    n = np.asarray(n, dtype=float)
    psi = np.clip(np.nan_to_num(np.asarray(discordance, dtype=float)), 0, 1)
    n, psi = np.broadcast_arrays(n, psi)
    lo, hi = np.full(n.shape, 1e-9), np.ones(n.shape)
    for _ in range(60):
        mid = (lo + hi) / 2
        small = _connor_gap(mid, n, psi, za, zb) > 0
        lo, hi = np.where(small, mid, lo), np.where(small, hi, mid)
    out = np.where(_connor_gap(np.ones(n.shape), n, psi, za, zb) > 0, 1.0, hi)
    return np.where(n > 0, out, np.nan)


def rows_for_effect(effect, discordance, *, alpha: float = ALPHA, power: float = POWER) -> np.ndarray:
    """Rows a paired binary comparison needs to detect `effect` with `power` (Connor 1987), rounded up."""
    za, zb = _z(alpha), NormalDist().inv_cdf(power)
    d = np.abs(np.asarray(effect, dtype=float))
    psi = np.maximum(np.clip(np.nan_to_num(np.asarray(discordance, dtype=float)), 0, 1), d)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = (za * np.sqrt(psi) + zb * np.sqrt(np.maximum(psi - d**2, 0))) ** 2 / d**2
    return np.ceil(np.where(d > 0, n, np.inf))


def mde_from_se(se, *, alpha: float = ALPHA, power: float = POWER) -> np.ndarray:
    """MDE of a roughly normal estimate with standard error `se`: (z_a + z_b) x se."""
    return (_z(alpha) + NormalDist().inv_cdf(power)) * np.asarray(se, dtype=float)


def rows_to_settle(n, value, lo, hi, margin: float) -> np.ndarray:
    """About how many *more* rows would move an interval off `-margin`, at the current estimate.

    The interval's half-width on the side facing -margin shrinks as 1/sqrt(n); NaN where the estimate
    sits on -margin itself (no number of rows settles it) or n == 0; 0 where it is already settled.
    """
    n, value, lo, hi = (np.asarray(x, dtype=float) for x in (n, value, lo, hi))
    above = value > -margin
    half = np.where(above, value - lo, hi - value)
    gap = np.where(above, value + margin, -margin - value)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = n * (half / gap) ** 2
    more = np.ceil(np.maximum(total - n, 0))
    return np.where((gap > 0) & (n > 0), more, np.nan)


# --- binary outcomes -----------------------------------------------------------------------------


def _bh(p: np.ndarray, slices: Sequence[str]) -> np.ndarray:
    """Benjamini-Hochberg over every row but `all` (the first); `all` gets NaN (one pre-planned test).
    NaN p-values (empty slices) stay NaN and are not counted."""
    from scipy.stats import false_discovery_control

    out = np.full(len(p), np.nan)
    idx = np.array([i for i, s in enumerate(slices) if s != "all" and not np.isnan(p[i])], dtype=int)
    if len(idx):
        out[idx] = false_discovery_control(p[idx], method="bh")
    return out


def _paired_var(b: np.ndarray, c: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Variance of (b - c) / n with the Agresti-Min +0.5 per discordant cell (n + 2 rows)."""
    b2, c2, n2 = b + 0.5, c + 0.5, n + 2
    return ((b2 + c2) - (b2 - c2) ** 2 / n2) / n2**2


def vs_rest(b, c, n, b_all, c_all, n_all, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Slice change minus the change on the rows outside the slice, with a Wald interval and p-value.

    `b`/`c`: improved / regressed counts in each slice; `*_all`: the same over every row.
    """
    from scipy.stats import norm

    z = _z(1 - _check_confidence(confidence))
    b, c, n = (np.asarray(x, dtype=float) for x in (b, c, n))
    rb, rc, rn = b_all - b, c_all - c, n_all - n
    with np.errstate(divide="ignore", invalid="ignore"):
        d_in, d_out = (b - c) / n, (rb - rc) / rn
        gap = d_in - d_out
        se = np.sqrt(_paired_var(b, c, n) + _paired_var(rb, rc, rn))
        p = 2 * norm.sf(np.abs(gap / se))
    ok = (n > 0) & (rn > 0)
    nan = np.full(b.shape, np.nan)
    return {
        "rest_n": rn,
        "rest_delta": np.where(rn > 0, d_out, nan),
        "vs_rest": np.where(ok, gap, nan),
        "vs_rest_lo": np.where(ok, gap - z * se, nan),
        "vs_rest_hi": np.where(ok, gap + z * se, nan),
        "vs_rest_p": np.where(ok, p, nan),
    }


def binary_changes(
    slices: Sequence[str], both, improved, regressed, neither, *, alpha: float = ALPHA, confidence: float = 0.95
) -> pd.DataFrame:
    """One row per slice of a paired 0/1 outcome: both rates, the change with Newcombe's interval,
    exact McNemar p (raw and BH), MDE, and the comparison with the rest of the rows.

    The first slice must be `all` (every row): the rest of a slice is `all` minus the slice.
    """
    if not slices or slices[0] != "all":
        raise ConfigError("binary_changes needs the 'all' slice first")
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, improved, regressed, neither))
    n = a + b + c + d
    with np.errstate(invalid="ignore", divide="ignore"):
        base, cand = (a + c) / n, (a + b) / n
        delta = (b - c) / n
    lo, hi = paired_difference_interval(a, b, c, d, confidence)
    p = np.where(n > 0, mcnemar_exact(b, c), np.nan)
    rest = vs_rest(b, c, n, b[0], c[0], n[0], confidence)
    out = pd.DataFrame(
        {
            "slice": list(slices),
            "n": n.astype(np.int64),
            "baseline": base,
            "candidate": cand,
            "delta": delta,
            "delta_lo": np.where(n > 0, lo, np.nan),
            "delta_hi": np.where(n > 0, hi, np.nan),
            "p": p,
            "p_adjusted": _bh(p, slices),
            "discordance": np.where(n > 0, (b + c) / np.where(n > 0, n, 1), np.nan),
            "mde": minimum_detectable_effect(n, (b + c) / np.where(n > 0, n, 1)),
            **rest,
        }
    )
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    out["n_improved"], out["n_regressed"] = b.astype(np.int64), c.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(((b + c) - n * delta**2) / (n - 1), 0)
        out["se"] = np.where(n > 1, np.sqrt(var / n), np.nan)
    out["df"] = np.inf
    out["harm_p"] = np.where(n > 0, harm_p_exact(b, c), np.nan)  # one-sided exact McNemar: regressions exceed gains
    out["clusters"], out["design_effect"] = np.nan, np.nan
    return out


def harm_p_exact(improved, regressed) -> np.ndarray:
    """One-sided exact McNemar p of harm (the candidate loses): P(X <= improved), X ~ Binomial(discordant, 1/2);
    1.0 with no discordant pair."""
    from scipy.stats import binom

    b, c = np.asarray(improved, dtype=float), np.asarray(regressed, dtype=float)
    return np.where(b + c > 0, binom.cdf(b, b + c, 0.5), 1.0)


# --- bootstrap over confusion cells --------------------------------------------------------------


def multinomial_draws(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(B, G) resampled cell counts of one slice: a row bootstrap of a table whose rows are described
    by their cell. Zero-count cells stay zero."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n_boot, len(counts)), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return rng.multinomial(total, counts / total, size=n_boot)


def bootstrap_summary(estimate: np.ndarray, draws: np.ndarray, confidence: float) -> dict[str, np.ndarray]:
    """Percentile interval, two-sided p at 0 and bootstrap SE from (S, B) resampled changes.

    p = 2 x min((1 + #draws <= 0), (1 + #draws >= 0)) / (B + 1), so it is never reported as exactly 0.
    Rows without two finite draws (an empty slice) get NaN.
    """
    import warnings

    q = (1 - _check_confidence(confidence)) / 2
    draws = np.where(np.isfinite(draws), draws, np.nan)
    m = (~np.isnan(draws)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: their NaN is the answer
        lo, hi = np.nanquantile(draws, [q, 1 - q], axis=1) if draws.size else (np.zeros(0), np.zeros(0))
        se = np.nanstd(draws, axis=1, ddof=1)
    below = (draws <= 0).sum(axis=1)
    above = (draws >= 0).sum(axis=1)
    p = np.minimum(1.0, 2 * (1 + np.minimum(below, above)) / (m + 1))
    ok = (m > 1) & np.isfinite(estimate)
    nan = np.full(len(estimate), np.nan)
    return {
        "delta_lo": np.where(ok, lo, nan),
        "delta_hi": np.where(ok, hi, nan),
        "p": np.where(ok, p, nan),
        "se": np.where(ok, se, nan),
    }


def bootstrap_changes(
    slices: Sequence[str],
    counts: np.ndarray,
    statistic,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    alpha: float = ALPHA,
    confidence: float = 0.95,
    cluster_cells: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per slice of a metric computed from cell counts, e.g. macro-F1 from the joint
    confusion cells. `counts` is (S, G) with `all` first; `statistic(cell_counts (..., G))` returns
    (baseline, candidate) arrays of shape (...). Slice and rest are resampled independently; with
    `cluster_cells` ((S, clusters, G): each slice's cells per cluster) whole clusters are resampled
    instead (`cluster_cell_draws`), the same draw for a slice and its rest.
    """
    if not slices or slices[0] != "all":
        raise ConfigError("bootstrap_changes needs the 'all' slice first")
    counts = np.asarray(counts, dtype=np.int64)
    n = counts.sum(axis=1)
    base, cand = statistic(counts)
    delta = cand - base
    draws = np.empty((len(slices), n_boot))
    rest_draws = np.empty((len(slices), n_boot))
    rest = counts[0] - counts
    rest_base, rest_cand = statistic(rest)
    if cluster_cells is not None:
        cells = cluster_cell_draws(cluster_cells, n_boot, seed)  # (S, B, G)
        b_all, c_all = statistic(cells)
        draws[:] = c_all - b_all
        rb, rc = statistic(cells[0][None, :, :] - cells)
        rest_draws[:] = rc - rb
    for i in range(len(slices) if cluster_cells is None else 0):
        # one seed per slice and part: adding a slice never changes another slice's interval
        b_i, c_i = statistic(multinomial_draws(counts[i], n_boot, seed + 2 * i))
        draws[i] = c_i - b_i
        rb, rc = statistic(multinomial_draws(rest[i], n_boot, seed + 2 * i + 1))
        rest_draws[i] = rc - rb
    summary = bootstrap_summary(delta, draws, confidence)
    gap = delta - (rest_cand - rest_base)
    gap_summary = bootstrap_summary(gap, draws - rest_draws, confidence)
    rest_n = n[0] - n
    ok = (n > 0) & (rest_n > 0)
    out = pd.DataFrame(
        {
            "slice": list(slices),
            "n": n,
            "baseline": base,
            "candidate": cand,
            "delta": delta,
            "delta_lo": summary["delta_lo"],
            "delta_hi": summary["delta_hi"],
            "p": summary["p"],
            "p_adjusted": _bh(summary["p"], slices),
            "discordance": np.nan,
            "mde": mde_from_se(summary["se"]),
            "rest_n": rest_n,
            "rest_delta": np.where(rest_n > 0, rest_cand - rest_base, np.nan),
            "vs_rest": np.where(ok, gap, np.nan),
            "vs_rest_lo": np.where(ok, gap_summary["delta_lo"], np.nan),
            "vs_rest_hi": np.where(ok, gap_summary["delta_hi"], np.nan),
            "vs_rest_p": np.where(ok, gap_summary["p"], np.nan),
        }
    )
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    finite = np.isfinite(draws)
    m = finite.sum(axis=1)
    out["se"], out["df"] = summary["se"], np.inf
    out["harm_p"] = np.where((m > 1) & np.isfinite(delta), (1 + (draws >= 0).sum(axis=1)) / (m + 1), np.nan)
    out["clusters"] = (cluster_cells.sum(axis=2) > 0).sum(axis=1) if cluster_cells is not None else np.nan
    out["design_effect"], out["n_improved"], out["n_regressed"] = np.nan, np.nan, np.nan
    return out


# --- continuous outcomes -------------------------------------------------------------------------


MULTINOMIAL_ROWS_PER_VALUE = 25  # a binomial draw costs about as much as 20-25 row lookups (numpy, measured)


def _bootstrap_means(d: np.ndarray, mask_rows: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(S, B) bootstrap means of `d` over each slice's rows (a row bootstrap within the slice).

    The mean of a resample depends only on how often each distinct value is drawn, which is a
    multinomial over the slice's distinct values: where a slice has many rows per distinct value
    (token F1 and ROUGE-L of short answers take a few hundred values) that costs O(B x values)
    instead of O(B x rows). Other slices resample rows by index. Either way it is the same bootstrap
    distribution; one seed per slice, so adding a slice never changes another slice's interval."""
    out = np.full((len(mask_rows), n_boot), np.nan)
    if not len(d):
        return out
    values, codes = np.unique(d, return_inverse=True)
    n = mask_rows.sum(axis=1)
    groups, counts = group_counts(mask_rows, codes.astype(np.int64))
    present_values = values[groups]
    for i in range(len(mask_rows)):
        if n[i] < 2:
            continue
        there = counts[i] > 0
        if there.sum() * MULTINOMIAL_ROWS_PER_VALUE <= n[i]:
            out[i] = multinomial_draws(counts[i][there], n_boot, seed + i).astype(float) @ present_values[there] / n[i]
            continue
        rows = d[mask_rows[i]]
        rng = np.random.default_rng(seed + i)
        for start in range(0, n_boot, 100):  # chunks keep memory at 100 x n
            stop = min(start + 100, n_boot)
            out[i, start:stop] = rows[rng.integers(0, n[i], size=(stop - start, n[i]))].mean(axis=1)
    return out


def continuous_changes(
    slices: Sequence[str],
    matrix: np.ndarray,
    base: np.ndarray,
    cand: np.ndarray,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    alpha: float = ALPHA,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per slice of a per-example score (token F1, ROUGE-L): mean paired difference, seeded
    paired bootstrap percentile interval (`_bootstrap_means`), paired t test, MDE from the differences'
    SD (with one pseudo-row of +-1, so two rows that changed alike do not claim an MDE of 0), and the
    comparison with the rest (Welch's t on the differences). Vectorised over slices: sums and sums of
    squares come from one matrix product."""
    from scipy.stats import t as student_t

    if not slices or slices[0] != "all":
        raise ConfigError("continuous_changes needs the 'all' slice first")
    q = (1 - _check_confidence(confidence)) / 2
    base, cand = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    diff = cand - base
    if not np.isfinite(diff).all():
        raise ConfigError(
            f"continuous_changes needs finite scores of both models; {int((~np.isfinite(diff)).sum())} "
            "row(s) have a missing or infinite score"
        )
    rows = np.asarray(matrix, dtype=bool)
    x = rows.astype(float)
    n = rows.sum(axis=1)
    rn = len(diff) - n
    s1, s2 = x @ diff, x @ diff**2
    r1, r2 = diff.sum() - s1, (diff**2).sum() - s2
    with np.errstate(invalid="ignore", divide="ignore"):
        delta, rest_delta = s1 / n, r1 / rn
        var = np.maximum((s2 - n * delta**2) / (n - 1), 0)
        rest_var = np.maximum((r2 - rn * rest_delta**2) / (rn - 1), 0)
        se = np.sqrt(var / n)
        tstat = np.where(se > 0, delta / se, np.where(delta == 0, 0.0, np.inf))
        p = np.where(np.isfinite(tstat), 2 * student_t.sf(np.abs(tstat), np.maximum(n - 1, 1)), 0.0)
        v_in, v_out = var / n, rest_var / rn
        welch_var = v_in + v_out
        dof = np.where(welch_var > 0, welch_var**2 / (v_in**2 / (n - 1) + v_out**2 / (rn - 1)), 1.0)
        gap = delta - rest_delta
        welch_se = np.sqrt(welch_var)
        tq = student_t.ppf(1 - q, dof)
        gap_p = np.where(welch_se > 0, 2 * student_t.sf(np.abs(gap / welch_se), dof), np.where(gap == 0, 1.0, 0.0))
        base_mean, cand_mean = (x @ base) / n, (x @ cand) / n
        # MDE: the SD with one pseudo-row of +-1 (variance ((n-1) var + 1) / n), so a slice whose few rows all
        # changed alike is not taken as measured exactly; at most 1 (a change of 100 points)
        mde = np.minimum(mde_from_se(np.sqrt((np.where(n > 1, var, 0.0) * (n - 1) + 1) / n / n)), 1.0)
    means = _bootstrap_means(diff, rows, n_boot, seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # slices under 2 rows: all-NaN, their NaN is the answer
        lo, hi = np.nanquantile(means, [q, 1 - q], axis=1)
    two, rest_two = n > 1, (n > 1) & (rn > 1)
    nan = np.full(len(n), np.nan)
    out = pd.DataFrame(
        {
            "slice": list(slices),
            "n": n.astype(np.int64),
            "baseline": np.where(n > 0, base_mean, nan),
            "candidate": np.where(n > 0, cand_mean, nan),
            "delta": np.where(n > 0, delta, nan),
            "delta_lo": np.where(two, lo, nan),
            "delta_hi": np.where(two, hi, nan),
            "p": np.where(two, p, nan),
            "mde": np.where(n > 0, mde, nan),
            "rest_n": rn.astype(np.int64),
            "rest_delta": np.where(rn > 0, rest_delta, nan),
            "vs_rest": np.where(rest_two, gap, nan),
            "vs_rest_lo": np.where(rest_two, gap - tq * welch_se, nan),
            "vs_rest_hi": np.where(rest_two, gap + tq * welch_se, nan),
            "vs_rest_p": np.where(rest_two, gap_p, nan),
        }
    )
    out["p_adjusted"] = _bh(out["p"].to_numpy(dtype=float), slices)
    out["discordance"] = np.nan
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(dtype=float), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    out["se"] = np.where(two, se, nan)
    out["df"] = np.maximum(n - 1, 1).astype(float)
    with np.errstate(invalid="ignore"):
        out["harm_p"] = np.where(
            two, student_t.cdf(np.where(np.isfinite(tstat), tstat, np.sign(tstat) * 1e300), np.maximum(n - 1, 1)), nan
        )
    out["clusters"], out["design_effect"] = np.nan, np.nan
    out["n_improved"], out["n_regressed"] = (x @ (diff > 0)).astype(np.int64), (x @ (diff < 0)).astype(np.int64)
    return out


# --- clustered rows ------------------------------------------------------------------------------


MIN_CLUSTERS = 2  # a cluster-robust variance needs at least two clusters


def cluster_codes(values) -> tuple[np.ndarray, int]:
    """Integer cluster codes (0..G-1) of a column and G; missing values are refused by the loader."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=False)
    return codes.astype(np.int64), len(uniques)


CLUSTER_METHODS = {
    "mean": "cluster-robust (CR1) variance of the mean paired difference, clusters = {col}; t interval and test on "
    "clusters - 1 degrees of freedom; MDE from the cluster-robust SE; vs rest with the covariance of the "
    "clusters slice and rest share",
    "bootstrap": "cluster bootstrap ({b} resamples, seed {seed}): whole clusters of {col} drawn with replacement, "
    "percentile interval",
}


def cluster_of(df_eval: pd.DataFrame) -> tuple[np.ndarray, int] | None:
    """The cluster codes of df_eval's rows and their number, when the data names a cluster column
    (`df_eval.attrs["cluster_col"]`); None otherwise."""
    col = df_eval.attrs.get("cluster_col")
    if not col:
        return None
    if col not in df_eval.columns:
        raise ConfigError(f"the cluster column {col!r} is not in this table")
    return cluster_codes(df_eval[col].astype(str).to_numpy())


def _by_cluster(matrix: np.ndarray, values: np.ndarray, codes: np.ndarray, n_clusters: int) -> tuple[np.ndarray, ...]:
    """Per slice and cluster: the sum of `values` and the row count, (S, G) each, via one sparse product."""
    from scipy.sparse import csr_matrix

    onehot = csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), n_clusters))
    x = matrix.astype(float)
    sums = np.asarray((onehot.T @ (x * values).T).T)
    counts = np.asarray((onehot.T @ x.T).T)
    return sums, counts


def clustered_means(
    matrix: np.ndarray, values: np.ndarray, codes: np.ndarray, n_clusters: int
) -> dict[str, np.ndarray]:
    """Per slice (rows of `matrix`): mean of `values`, its cluster-robust standard error, the t degrees of
    freedom (clusters - 1), the number of clusters and the design effect; and the same for the rest of the
    rows with the covariance of slice and rest through their shared clusters.

    The variance is the sandwich of an OLS of `values` on a constant with cluster-robust covariance
    (statsmodels' `cov_type="cluster"`, CR1): G/(G-1) x sum over clusters of the summed residuals squared,
    over n^2 (tests/test_paired.py checks it against statsmodels). Slice and rest together are the OLS on
    two indicator columns, with the correction G/(G-1) x (N-1)/(N-2) and t on G-1 degrees of freedom.
    The design effect is the cluster-robust variance over the variance that treats rows as independent."""
    values = np.asarray(values, dtype=float)
    rows = np.asarray(matrix, dtype=bool)
    sums, counts = _by_cluster(rows, values, codes, n_clusters)
    total_sums, total_counts = sums[0:1].copy(), counts[0:1].copy()  # the first slice is `all`
    n = counts.sum(axis=1)
    g = (counts > 0).sum(axis=1)
    x = rows.astype(float)
    s1, s2 = x @ values, x @ values**2
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        resid = sums - counts * mean[:, None]  # per cluster: summed residuals of the slice's rows
        meat = (resid**2).sum(axis=1)
        var = np.where(g >= MIN_CLUSTERS, g / (g - 1) * meat / n**2, np.nan)
        iid = np.maximum((s2 - n * mean**2) / (n - 1), 0) / n
        deff = np.where(iid > 0, var / iid, np.nan)
        r_sums, r_counts = total_sums - sums, total_counts - counts
        rn = r_counts.sum(axis=1)
        r_mean = r_sums.sum(axis=1) / rn
        r_resid = r_sums - r_counts * r_mean[:, None]
        big_g = int((total_counts > 0).sum())
        big_n = float(total_counts.sum())
        c = big_g / max(big_g - 1, 1) * (big_n - 1) / max(big_n - 2, 1)
        gap_var = c * (
            (resid**2).sum(axis=1) / n**2
            + (r_resid**2).sum(axis=1) / rn**2
            - 2 * (resid * r_resid).sum(axis=1) / (n * rn)
        )
    return {
        "n": n,
        "mean": mean,
        "se": np.sqrt(var),
        "df": np.maximum(g - 1, 1).astype(float),
        "clusters": g,
        "design_effect": deff,
        "rest_n": rn,
        "rest_mean": r_mean,
        "gap_se": np.sqrt(np.maximum(gap_var, 0)),
        "gap_df": np.full(len(n), float(max(big_g - 1, 1))),
    }


def clustered_changes(
    slices: Sequence[str],
    matrix: np.ndarray,
    base: np.ndarray,
    cand: np.ndarray,
    codes: np.ndarray,
    n_clusters: int,
    *,
    binary: bool,
    alpha: float = ALPHA,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """`binary_changes` / `continuous_changes` when rows come in clusters: the mean paired difference with a
    cluster-robust t interval and test (t on clusters - 1), the one-sided harm p, the MDE from the
    cluster-robust SE, and the slice minus the rest with the covariance of their shared clusters."""
    from scipy.stats import t as student_t

    if not slices or slices[0] != "all":
        raise ConfigError("clustered_changes needs the 'all' slice first")
    conf = _check_confidence(confidence)
    base, cand = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    diff = cand - base
    rows = np.asarray(matrix, dtype=bool)
    m = clustered_means(rows, diff, codes, n_clusters)
    x = rows.astype(float)
    n, delta, se, df = m["n"], m["mean"], m["se"], m["df"]
    tq = student_t.ppf(0.5 + conf / 2, df)
    ok = np.isfinite(se) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tstat = np.where(se > 0, delta / se, np.where(delta == 0, 0.0, np.sign(delta) * np.inf))
        p = 2 * student_t.sf(np.abs(tstat), df)
        harm = student_t.cdf(tstat, df)
        mde = np.minimum((student_t.ppf(1 - alpha / 2, df) + student_t.ppf(POWER, df)) * se, 1.0)
        gap = delta - m["rest_mean"]
        gap_t = np.where(m["gap_se"] > 0, gap / m["gap_se"], np.where(gap == 0, 0.0, np.inf))
        gap_p = 2 * student_t.sf(np.abs(gap_t), m["gap_df"])
        gq = student_t.ppf(0.5 + conf / 2, m["gap_df"])
        base_mean, cand_mean = (x @ base) / n, (x @ cand) / n
    rest_ok = ok & (m["rest_n"] > 0) & np.isfinite(m["gap_se"])
    nan = np.full(len(n), np.nan)
    out = pd.DataFrame(
        {
            "slice": list(slices),
            "n": n.astype(np.int64),
            "baseline": np.where(n > 0, base_mean, nan),
            "candidate": np.where(n > 0, cand_mean, nan),
            "delta": np.where(n > 0, delta, nan),
            "delta_lo": np.where(ok, np.maximum(delta - tq * se, -1.0), nan),
            "delta_hi": np.where(ok, np.minimum(delta + tq * se, 1.0), nan),
            "p": np.where(ok, p, nan),
            "discordance": np.where(n > 0, (x @ (diff != 0)) / np.where(n > 0, n, 1), nan) if binary else nan,
            "mde": np.where(ok, mde, np.where(n > 0, 1.0, nan)),
            "rest_n": m["rest_n"].astype(np.int64),
            "rest_delta": np.where(m["rest_n"] > 0, m["rest_mean"], nan),
            "vs_rest": np.where(rest_ok, gap, nan),
            "vs_rest_lo": np.where(rest_ok, gap - gq * m["gap_se"], nan),
            "vs_rest_hi": np.where(rest_ok, gap + gq * m["gap_se"], nan),
            "vs_rest_p": np.where(rest_ok, gap_p, nan),
            "se": np.where(ok, se, nan),
            "df": df,
            "harm_p": np.where(ok, harm, nan),
            "clusters": m["clusters"],
            "design_effect": m["design_effect"],
            "n_improved": (x @ (diff > 0)).astype(np.int64),
            "n_regressed": (x @ (diff < 0)).astype(np.int64),
        }
    )
    out["p_adjusted"] = _bh(out["p"].to_numpy(dtype=float), slices)
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(dtype=float), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    return out[CHANGE_COLUMNS]


def cluster_cell_draws(cells: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(S, B, C) resampled cell counts of a cluster bootstrap: `cells` is (S, G, C), each slice's cell counts
    per cluster; every replicate draws G clusters with replacement (the same draw for every slice, so a
    slice and its rest move together through their shared clusters)."""
    cells = np.asarray(cells, dtype=float)
    g = cells.shape[1]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(g, np.full(g, 1 / g), size=n_boot).astype(float)  # (B, G)
    return np.einsum("bg,sgc->sbc", weights, cells)


TEST_COLUMNS = [  # the per-slice test, power and comparison-with-the-rest figures of a change table
    "discordance",
    "mde",
    "rest_n",
    "rest_delta",
    "vs_rest",
    "vs_rest_lo",
    "vs_rest_hi",
    "vs_rest_p",
    "vs_rest_p_adjusted",
    "worse_than_rest",
    "se",
    "df",
    "harm_p",
    "clusters",
    "design_effect",
]
CHANGE_COLUMNS = [
    "slice",
    "n",
    "baseline",
    "candidate",
    "delta",
    "delta_lo",
    "delta_hi",
    "p",
    "p_adjusted",
    *TEST_COLUMNS,
    "n_improved",
    "n_regressed",
]

__all__ = [
    "CHANGE_COLUMNS",
    "TEST_COLUMNS",
    "CLUSTER_METHODS",
    "METHODS",
    "binary_changes",
    "bootstrap_changes",
    "bootstrap_summary",
    "cluster_cell_draws",
    "cluster_codes",
    "cluster_of",
    "clustered_changes",
    "clustered_means",
    "continuous_changes",
    "harm_p_exact",
    "mde_from_se",
    "minimum_detectable_effect",
    "multinomial_draws",
    "rows_for_effect",
    "rows_to_settle",
    "vs_rest",
]
