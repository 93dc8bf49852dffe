"""The basic intervals and tests, vectorised over slices: Wilson's interval of a share, Newcombe's interval of a
paired difference, the exact McNemar test, and per-slice counts of row codes. Everything else in the stats layer
(paired changes, slice tables, compared metrics) builds on these, so they sit at its bottom.

    >>> [round(float(x), 3) for x in wilson_interval(7, 10)]  # 7 right out of 10
    [0.397, 0.892]
    >>> # 10 both right, 5 only candidate right, 15 only baseline right, 20 both wrong:
    >>> [round(float(x), 3) for x in paired_difference_interval(10, 5, 15, 20)], round(float(mcnemar_exact(5, 15)), 4)
    ([-0.357, -0.026], 0.0414)
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from evalcore.core.errors import ConfigError


def _z(confidence: float) -> float:
    """Two-sided normal quantile (the stdlib's, so tables need not import scipy.stats)."""
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (arrays); NaN where n == 0.

    Same numbers as `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`, for many k at once.
    """
    z = _z(confidence)
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n + z * z
        center = (k + z * z / 2) / denom
        half = z / denom * np.sqrt(k * (n - k) / n + z * z / 4)
        lo, hi = np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def paired_difference_interval(
    both, first_only, second_only, neither, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 - p2 from paired binary outcomes (arrays of counts).

    p1 = (both + first_only) / n, p2 = (both + second_only) / n. Wilson intervals of p1 and p2 are
    combined with the correlation estimate phi (continuity-corrected as in Newcombe 1998, method 10).
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = (a + b) / n, (a + c) / n
        l1, u1 = wilson_interval(a + b, n, confidence)
        l2, u2 = wilson_interval(a + c, n, confidence)
        margins = (a + b) * (c + d) * (a + c) * (b + d)
        cross = a * d - b * c
        num = np.where(cross > n / 2, cross - n / 2, np.where(cross < 0, cross, 0.0))
        phi = np.where(margins > 0, num / np.sqrt(margins), 0.0)
        delta = p1 - p2
        lo = delta - np.sqrt(np.maximum((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0))
        hi = delta + np.sqrt(np.maximum((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0))
    return np.clip(lo, -1, 1), np.clip(hi, -1, 1)


def mcnemar_exact(first_only, second_only) -> np.ndarray:
    """Exact two-sided McNemar p-value: binomial test of the discordant counts against p = 1/2.

    Equals `scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue`; 1.0 when there is no discordant pair.
    """
    from scipy.stats import binom

    b, c = np.asarray(first_only, dtype=float), np.asarray(second_only, dtype=float)
    return np.minimum(1.0, 2 * binom.cdf(np.minimum(b, c), b + c, 0.5))


def group_counts(matrix: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per matrix row (slice) and per present code, how many selected rows carry the code.
    Returns the present codes (G,) and the counts (S, G).

    One sort of the codes and one column permutation of the matrix; each code's rows are then a
    contiguous block whose row sums are the counts, instead of a boolean filter per slice.
    """
    s, n = matrix.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((s, 0), dtype=np.int64)
    small = code.astype(np.uint16) if code.max() < 2**16 else code  # radix sort for small codes
    order = np.argsort(small, kind="stable")
    ordered = code[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.append(starts[1:], n)
    permuted = np.take(matrix, order, axis=1).view(np.uint8)
    counts = np.empty((s, len(starts)), dtype=np.int64)
    for j, (a, b) in enumerate(zip(starts, ends)):
        counts[:, j] = permuted[:, a:b].sum(axis=1, dtype=np.int64)
    return ordered[starts].astype(np.int64), counts


__all__ = ["group_counts", "mcnemar_exact", "paired_difference_interval", "wilson_interval"]
