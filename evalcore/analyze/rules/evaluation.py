"""Rules to boolean masks, vectorised: one numpy/pandas function per operator, no query strings.

Null semantics (NaN, None, pd.NA alike):
- `is null` / `is not null` test for them;
- every *positive* operator (==, <, <=, >, >=, in, contains, matches) is False on a null;
- every *negative* operator is the exact complement of its positive one, so `!=`, `not in` and
  `not contains` are True on a null, just like `not (x == v)`. A slice and its negation therefore
  always split the table in two, with no row lost to "unknown".
String operators: `==`, `!=` and `in` are exact and case-sensitive; `contains` is a
case-insensitive literal substring test (no regex); `matches` is `re.search` with IGNORECASE.
Numbers compare as stored for numpy dtypes; nullable, object and categorical numbers as float64
(integers beyond 2**53 lose precision there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

from evalcore.analyze.rules.schema import Schema, validate
from evalcore.analyze.rules.tree import Condition, Not, Op, Rule
from evalcore.analyze.textsearch import regex_mask
from evalcore.core.errors import RuleError

Mask = np.ndarray


def _bools(result: pd.Series | np.ndarray) -> Mask:
    """A pandas/numpy result with possible <NA> as a plain bool array (NA -> False)."""
    if isinstance(result, np.ndarray):
        return result.astype(bool, copy=False)
    return result.to_numpy(dtype=bool, na_value=False)


def _numbers(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
        return s.to_numpy()  # no copy; numpy compares ints with floats exactly
    return s.to_numpy(dtype=float, na_value=np.nan)  # nullable, object or categorical numbers


def _nulls(s: pd.Series) -> Mask:
    return s.isna().to_numpy(dtype=bool)


def _order(compare: Callable[[np.ndarray, float], np.ndarray]) -> Callable[[pd.Series, object], Mask]:
    def op(s: pd.Series, value: object) -> Mask:
        with np.errstate(invalid="ignore"):
            return compare(_numbers(s), value)  # NaN compares False

    return op


def _eq(s: pd.Series, value: object) -> Mask:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _numbers(s) == value
    return _bools(s.eq(value))


def _in(s: pd.Series, values: tuple) -> Mask:
    if isinstance(values[0], bool) or not isinstance(values[0], (int, float)):
        return _bools(s.isin(list(values)))
    return np.isin(_numbers(s), np.asarray(values, dtype=float))


def _strings(s: pd.Series) -> pd.Series:
    return s if pd.api.types.is_string_dtype(s.dtype) else s.astype("string")


def _contains(s: pd.Series, value: str) -> Mask:
    return _bools(_strings(s).str.contains(value, case=False, regex=False, na=False))


def _matches(s: pd.Series, pattern: str) -> Mask:
    return regex_mask(s, pattern, ignore_case=True)  # RE2: linear time whatever the pattern


POSITIVE: dict[Op, Callable[[pd.Series, object], Mask]] = {
    Op.EQ: _eq,
    Op.LT: _order(np.less),
    Op.LE: _order(np.less_equal),
    Op.GT: _order(np.greater),
    Op.GE: _order(np.greater_equal),
    Op.IN: _in,  # type: ignore[dict-item]
    Op.CONTAINS: _contains,  # type: ignore[dict-item]
    Op.MATCHES: _matches,  # type: ignore[dict-item]
    Op.IS_NULL: lambda s, _value: _nulls(s),
}
NEGATION = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN, Op.NOT_CONTAINS: Op.CONTAINS, Op.IS_NOT_NULL: Op.IS_NULL}


def condition_mask(cond: Condition, df: pd.DataFrame) -> Mask:
    """The rows of `df` where `cond` holds (the column must exist; see `validate`)."""
    if cond.col not in df.columns:
        raise RuleError(f"unknown column '{cond.col}'; validate the rule against the table first")
    s = df[cond.col]
    if cond.op in NEGATION:
        return ~POSITIVE[NEGATION[cond.op]](s, cond.value)
    return POSITIVE[cond.op](s, cond.value)


def mask(rule: Rule, df: pd.DataFrame) -> Mask:
    """The rows where `rule` holds, without schema checks (call `evaluate` for user rules)."""
    if isinstance(rule, Condition):
        return condition_mask(rule, df)
    if isinstance(rule, Not):
        return ~mask(rule.child, df)
    combine = np.logical_and if rule.join == "and" else np.logical_or
    return functools.reduce(combine, (mask(child, df) for child in rule.children))


def evaluate(rule: Rule, df: pd.DataFrame, schema: Schema | None = None) -> Mask:
    """Validate `rule` against `df` (or a schema already taken from it), then its boolean mask.

    >>> df = pd.DataFrame({"n": [1.0, None, 3.0]})
    >>> from evalcore.analyze.rules.text import parse_rule
    >>> evaluate(parse_rule("n >= 2"), df).tolist(), evaluate(parse_rule("n != 1"), df).tolist()
    ([False, False, True], [False, True, True])
    """
    validate(rule, schema if schema is not None else Schema.from_frame(df))
    return mask(rule, df)


__all__ = ["Mask", "condition_mask", "evaluate", "mask"]
