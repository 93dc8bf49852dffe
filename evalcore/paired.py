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

from evalcore.errors import ConfigError

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
    return za * np.sqrt(psi_d) + zb * np.sqrt(np.maximum(psi_d - delta ** 2, 0)) - delta * np.sqrt(n)


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
        n = (za * np.sqrt(psi) + zb * np.sqrt(np.maximum(psi - d ** 2, 0))) ** 2 / d ** 2
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
    return ((b2 + c2) - (b2 - c2) ** 2 / n2) / n2 ** 2


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
    return {"rest_n": rn, "rest_delta": np.where(rn > 0, d_out, nan), "vs_rest": np.where(ok, gap, nan),
            "vs_rest_lo": np.where(ok, gap - z * se, nan), "vs_rest_hi": np.where(ok, gap + z * se, nan),
            "vs_rest_p": np.where(ok, p, nan)}


def binary_changes(slices: Sequence[str], both, improved, regressed, neither, *, alpha: float = ALPHA,
                   confidence: float = 0.95) -> pd.DataFrame:
    """One row per slice of a paired 0/1 outcome: both rates, the change with Newcombe's interval,
    exact McNemar p (raw and BH), MDE, and the comparison with the rest of the rows.

    The first slice must be `all` (every row): the rest of a slice is `all` minus the slice.
    """
    from evalcore.metrics import mcnemar_exact, paired_difference_interval

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
    out = pd.DataFrame({
        "slice": list(slices), "n": n.astype(np.int64), "baseline": base, "candidate": cand, "delta": delta,
        "delta_lo": np.where(n > 0, lo, np.nan), "delta_hi": np.where(n > 0, hi, np.nan),
        "p": p, "p_adjusted": _bh(p, slices),
        "discordance": np.where(n > 0, (b + c) / np.where(n > 0, n, 1), np.nan),
        "mde": minimum_detectable_effect(n, (b + c) / np.where(n > 0, n, 1)),
        **rest,
    })
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    out["n_improved"], out["n_regressed"] = b.astype(np.int64), c.astype(np.int64)
    return out


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
    return {"delta_lo": np.where(ok, lo, nan), "delta_hi": np.where(ok, hi, nan), "p": np.where(ok, p, nan),
            "se": np.where(ok, se, nan)}


def bootstrap_changes(slices: Sequence[str], counts: np.ndarray, statistic, *, n_boot: int = DEFAULT_BOOTSTRAP,
                      seed: int = DEFAULT_SEED, alpha: float = ALPHA, confidence: float = 0.95) -> pd.DataFrame:
    """One row per slice of a metric computed from cell counts, e.g. macro-F1 from the joint
    confusion cells. `counts` is (S, G) with `all` first; `statistic(cell_counts (..., G))` returns
    (baseline, candidate) arrays of shape (...). Slice and rest are resampled independently.
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
    for i in range(len(slices)):
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
    out = pd.DataFrame({
        "slice": list(slices), "n": n, "baseline": base, "candidate": cand, "delta": delta,
        "delta_lo": summary["delta_lo"], "delta_hi": summary["delta_hi"], "p": summary["p"],
        "p_adjusted": _bh(summary["p"], slices), "discordance": np.nan, "mde": mde_from_se(summary["se"]),
        "rest_n": rest_n, "rest_delta": np.where(rest_n > 0, rest_cand - rest_base, np.nan),
        "vs_rest": np.where(ok, gap, np.nan), "vs_rest_lo": np.where(ok, gap_summary["delta_lo"], np.nan),
        "vs_rest_hi": np.where(ok, gap_summary["delta_hi"], np.nan),
        "vs_rest_p": np.where(ok, gap_summary["p"], np.nan),
    })
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
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
    from evalcore.metrics import group_counts

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


def continuous_changes(slices: Sequence[str], matrix: np.ndarray, base: np.ndarray, cand: np.ndarray, *,
                       n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED, alpha: float = ALPHA,
                       confidence: float = 0.95) -> pd.DataFrame:
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
        raise ConfigError(f"continuous_changes needs finite scores of both models; {int((~np.isfinite(diff)).sum())} "
                          "row(s) have a missing or infinite score")
    rows = np.asarray(matrix, dtype=bool)
    x = rows.astype(float)
    n = rows.sum(axis=1)
    rn = len(diff) - n
    s1, s2 = x @ diff, x @ diff ** 2
    r1, r2 = diff.sum() - s1, (diff ** 2).sum() - s2
    with np.errstate(invalid="ignore", divide="ignore"):
        delta, rest_delta = s1 / n, r1 / rn
        var = np.maximum((s2 - n * delta ** 2) / (n - 1), 0)
        rest_var = np.maximum((r2 - rn * rest_delta ** 2) / (rn - 1), 0)
        se = np.sqrt(var / n)
        tstat = np.where(se > 0, delta / se, np.where(delta == 0, 0.0, np.inf))
        p = np.where(np.isfinite(tstat), 2 * student_t.sf(np.abs(tstat), np.maximum(n - 1, 1)), 0.0)
        v_in, v_out = var / n, rest_var / rn
        welch_var = v_in + v_out
        dof = np.where(welch_var > 0, welch_var ** 2 / (v_in ** 2 / (n - 1) + v_out ** 2 / (rn - 1)), 1.0)
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
    out = pd.DataFrame({
        "slice": list(slices), "n": n.astype(np.int64), "baseline": np.where(n > 0, base_mean, nan),
        "candidate": np.where(n > 0, cand_mean, nan), "delta": np.where(n > 0, delta, nan),
        "delta_lo": np.where(two, lo, nan), "delta_hi": np.where(two, hi, nan), "p": np.where(two, p, nan),
        "mde": np.where(n > 0, mde, nan), "rest_n": rn.astype(np.int64),
        "rest_delta": np.where(rn > 0, rest_delta, nan), "vs_rest": np.where(rest_two, gap, nan),
        "vs_rest_lo": np.where(rest_two, gap - tq * welch_se, nan),
        "vs_rest_hi": np.where(rest_two, gap + tq * welch_se, nan),
        "vs_rest_p": np.where(rest_two, gap_p, nan),
    })
    out["p_adjusted"] = _bh(out["p"].to_numpy(dtype=float), slices)
    out["discordance"] = np.nan
    out["vs_rest_p_adjusted"] = _bh(out["vs_rest_p"].to_numpy(dtype=float), slices)
    out["worse_than_rest"] = (out["vs_rest_p_adjusted"] < alpha) & (out["vs_rest"] < 0)
    return out


CHANGE_COLUMNS = ["slice", "n", "baseline", "candidate", "delta", "delta_lo", "delta_hi", "p", "p_adjusted",
                  "discordance", "mde", "rest_n", "rest_delta", "vs_rest", "vs_rest_lo", "vs_rest_hi", "vs_rest_p",
                  "vs_rest_p_adjusted", "worse_than_rest"]

__all__ = ["CHANGE_COLUMNS", "METHODS", "binary_changes", "bootstrap_changes", "bootstrap_summary",
           "continuous_changes", "mde_from_se", "minimum_detectable_effect", "multinomial_draws", "rows_for_effect",
           "rows_to_settle", "vs_rest"]
