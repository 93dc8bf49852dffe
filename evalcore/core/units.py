"""One unit convention for every number a person reads (pages, report, CLI text, W&B summary text).

- accuracies and rates: percentages with one decimal, `69.8%`, intervals `69.8% [65.6%, 73.7%]`;
- changes between the two models: signed points with one decimal, `-30.0 pts`, intervals
  `-30.0 pts [-35.6, -24.1]`; prose spells out `points`;
- p-values: two significant digits; ECE and Brier: three decimals (they are not shares of rows);
- missing values: `–` (an en dash), never 0 and never `nan`.

Machine outputs (JSON, CSV, `--out` tables, W&B tables) keep plain shares (0.698): a program reads them.

    >>> pct(0.698), pts(-0.3), pct_ci(0.698, 0.656, 0.737), pts_ci(-0.3, -0.356, -0.241)
    ('69.8%', '-30.0 pts', '69.8% [65.6%, 73.7%]', '-30.0 pts [-35.6, -24.1]')
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"


def missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return x is not None and str(x) == "<NA>"


def pct(x: Any) -> str:
    """A share as a percentage: 0.698 -> '69.8%'."""
    return MISSING if missing(x) else f"{float(x) * 100:.1f}%"


def pts(x: Any, unit: str = " pts") -> str:
    """A change as signed points: -0.3 -> '-30.0 pts'."""
    return MISSING if missing(x) else f"{float(x) * 100:+.1f}{unit}"


def pct_ci(value: Any, lo: Any, hi: Any) -> str:
    """'69.8% [65.6%, 73.7%]'."""
    if missing(value):
        return MISSING
    return f"{pct(value)} [{pct(lo)}, {pct(hi)}]"


def pts_ci(value: Any, lo: Any, hi: Any) -> str:
    """'-30.0 pts [-35.6, -24.1]'."""
    if missing(value):
        return MISSING
    return f"{pts(value)} [{pts(lo, '')}, {pts(hi, '')}]"


def rate(e: dict, unknown: str = "unknown (no row with a known confidence)") -> str:
    """A rate `Estimate` dict as '38.2% [34.0%, 42.5%] (n=500)'; `unknown` when nothing could be counted."""
    if not e.get("n") or missing(e.get("value")):
        return unknown
    return f"{pct_ci(e['value'], e['lo'], e['hi'])} (n={e['n']:,})"


def p_value(p: Any) -> str:
    """Two significant digits; a p-value that underflowed to 0 (a paired t test on 10,000 rows) is written
    as the bound it is, never as an impossible exact 0."""
    if missing(p):
        return MISSING
    return "<1e-300" if float(p) == 0 else f"{float(p):.2g}"


def p_text(p: Any, name: str = "p") -> str:
    """'p = 0.0019' in a sentence, and 'p < 1e-300' when the p-value underflowed (never 'p = <1e-300')."""
    shown = p_value(p)
    return f"{name} < {shown[1:]}" if shown.startswith("<") else f"{name} = {shown}"


def dec3(x: Any) -> str:
    return MISSING if missing(x) else f"{float(x):.3f}"


def dec3_ci(value: Any, lo: Any, hi: Any) -> str:
    return MISSING if missing(value) else f"{dec3(value)} [{dec3(lo)}, {dec3(hi)}]"


def magnitude_pts(x: Any) -> str:
    """An unsigned size in points (an MDE, a margin): 0.05 -> '5.0 pts'."""
    return MISSING if missing(x) else f"{abs(float(x)) * 100:.1f} pts"


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 row', '2 rows', '1,000 rows': a count with its noun in the right number."""
    return f"{int(n):,} {one if int(n) == 1 else (many or one + 's')}"


def strict_json(value: Any) -> Any:
    """NaN and infinities -> None, numpy scalars -> Python, recursively: output any strict JSON parser
    reads (`json.dumps(..., allow_nan=False)`), and W&B summaries without NaN."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value


__all__ = [
    "MISSING",
    "count",
    "dec3",
    "dec3_ci",
    "magnitude_pts",
    "missing",
    "p_text",
    "p_value",
    "pct",
    "pct_ci",
    "pts",
    "pts_ci",
    "rate",
    "strict_json",
]
