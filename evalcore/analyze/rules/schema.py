"""Second validation phase: does a well-formed rule fit this table?

A `Schema` gives every column one of four types; `validate` walks the rule once and reports every
problem together (unknown column with the nearest names, operator not valid for the type, value of
the wrong kind), so a user fixes a rule in one pass instead of one error at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from evalcore.analyze.rules.text import format_condition, parse_with_positions
from evalcore.analyze.rules.tree import (
    LIST_OPS,
    NULL_OPS,
    ORDER_OPS,
    TEXT_OPS,
    Condition,
    Op,
    Rule,
    conditions,
    describe,
    value_kind,
)
from evalcore.core.errors import RuleError

MAX_CATEGORIES = 50
_HEAD_ROWS = 10_000


class ColumnType(Enum):
    BOOL = "bool"
    NUMBER = "number"
    STRING = "string"
    CATEGORY = "category"  # a string column with few distinct values, remembered for checks and UI


_EQUALITY = frozenset({Op.EQ, Op.NE}) | LIST_OPS | NULL_OPS
ALLOWED_OPS: dict[ColumnType, frozenset[Op]] = {
    ColumnType.BOOL: _EQUALITY,
    ColumnType.NUMBER: _EQUALITY | ORDER_OPS,
    ColumnType.STRING: _EQUALITY | TEXT_OPS,
    ColumnType.CATEGORY: _EQUALITY | TEXT_OPS,
}
_VALUE_KIND = {
    ColumnType.BOOL: "bool",
    ColumnType.NUMBER: "number",
    ColumnType.STRING: "string",
    ColumnType.CATEGORY: "string",
}
_ONE = {"bool": "true/false", "number": "a number", "string": "a string"}
_MANY = {"bool": "true/false values", "number": "numbers", "string": "strings"}


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: ColumnType
    values: tuple[str, ...] = ()  # the seen values of a CATEGORY column, sorted


def column_type(series: pd.Series, max_categories: int = MAX_CATEGORIES) -> ColumnInfo:
    """Type one column by its dtype (object columns by what they hold)."""
    name = str(series.name)
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if pd.api.types.is_bool_dtype(cats.dtype):
            return ColumnInfo(name, ColumnType.BOOL)
        if pd.api.types.is_numeric_dtype(cats.dtype):
            return ColumnInfo(name, ColumnType.NUMBER)
        return ColumnInfo(name, ColumnType.CATEGORY, tuple(sorted(str(c) for c in cats)))
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnInfo(name, ColumnType.BOOL)
    if pd.api.types.is_numeric_dtype(dtype):
        return ColumnInfo(name, ColumnType.NUMBER)
    inferred = "string" if isinstance(dtype, pd.StringDtype) else pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return ColumnInfo(name, ColumnType.BOOL)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return ColumnInfo(name, ColumnType.NUMBER)
    if inferred in ("string", "empty"):
        # a free-text column shows many values in its first rows: skip the full unique() then
        head = series.iloc[:_HEAD_ROWS].dropna()
        if head.nunique() <= max_categories:
            seen = pd.unique(series.dropna())
            if len(seen) <= max_categories:
                return ColumnInfo(name, ColumnType.CATEGORY, tuple(sorted(str(v) for v in seen)))
    return ColumnInfo(name, ColumnType.STRING)


@dataclass(frozen=True)
class Schema:
    """Column name -> type (and seen values for categories), taken from a table."""

    columns: Mapping[str, ColumnInfo]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, max_categories: int = MAX_CATEGORIES) -> "Schema":
        return cls({str(name): column_type(df[name], max_categories) for name in df.columns})

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> ColumnInfo:
        return self.columns[name]

    def names(self, kind: ColumnType | None = None) -> list[str]:
        return [n for n, info in self.columns.items() if kind is None or info.type is kind]


@dataclass(frozen=True)
class Problem:
    """One finding of `check`: `where` is the condition's text, `what` the finding."""

    where: str
    what: str
    severity: str = "error"  # or "warning": allowed, but probably not what the user meant
    position: int | None = None  # offset of the condition in the rule text, when parsed from text

    def __str__(self) -> str:
        at = "" if self.position is None else f"at {self.position}: "
        return f"{at}in `{self.where}`: {self.what}"


def _unknown_column(name: str, schema: Schema) -> str:
    close = difflib.get_close_matches(name, list(schema.columns), n=3, cutoff=0.6)
    if close:
        also = f" (also close: {', '.join(repr(c) for c in close[1:])})" if len(close) > 1 else ""
        return f"unknown column '{name}' — did you mean {close[0]!r}?{also}"
    known = schema.names()
    listed = ", ".join(known[:12]) + (f", ... ({len(known)} in all)" if len(known) > 12 else "")
    return f"unknown column '{name}'; known columns: {listed or 'none'}"


def _check_condition(cond: Condition, schema: Schema) -> list[Problem]:
    where = format_condition(cond)
    if cond.col not in schema:
        return [Problem(where, _unknown_column(cond.col, schema))]
    info = schema[cond.col]
    allowed = ALLOWED_OPS[info.type]
    if cond.op not in allowed:
        ops = ", ".join(op.value for op in Op if op in allowed)
        return [
            Problem(
                where,
                f"operator '{cond.op.value}' does not apply to {info.type.value} column '{cond.col}'; allowed: {ops}",
            )
        ]
    if cond.op in NULL_OPS:
        return []
    values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    want = _VALUE_KIND[info.type]
    got = value_kind(values[0])  # list values are of one kind (checked when built)
    if got != want:
        return [
            Problem(where, f"value {describe(cond.value)} is {_ONE[got]} but column '{cond.col}' holds {_MANY[want]}")
        ]
    if info.type is ColumnType.CATEGORY and cond.op in (_EQUALITY - NULL_OPS):
        unseen = [v for v in values if v not in info.values]
        if unseen:
            return [
                Problem(
                    where,
                    f"value {', '.join(describe(v) for v in unseen)} never occurs in column "
                    f"'{cond.col}' (seen: {', '.join(describe(v) for v in info.values)})",
                    "warning",
                )
            ]
    return []


def check(rule: Rule, schema: Schema, positions: list[int] | None = None) -> list[Problem]:
    """Every problem (errors and warnings) of `rule` against `schema`, left to right.

    `positions` (from `parse_with_positions`) are the conditions' offsets in the rule text."""
    found = []
    for i, cond in enumerate(conditions(rule)):
        pos = positions[i] if positions else None
        found.extend(Problem(p.where, p.what, p.severity, pos) for p in _check_condition(cond, schema))
    return found


def problems_message(problems: list[Problem], subject: str | None = None) -> str:
    """One problem on one line; several as a list under a count."""
    head = f"{subject}: " if subject else ""
    if len(problems) == 1:
        return f"{head}{problems[0]}"
    return f"{head}{len(problems)} problems:\n" + "\n".join(f"- {p}" for p in problems)


def raise_errors(found: list[Problem], subject: str | None = None) -> list[str]:
    """Raise one RuleError for the errors among `found` (position of the first); return warnings."""
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise RuleError(problems_message(errors, subject), position=errors[0].position)
    return [str(p) for p in found if p.severity == "warning"]


def validate(rule: Rule, schema: Schema) -> list[str]:
    """Raise one RuleError listing every error; return the warnings (e.g. unseen category values)."""
    return raise_errors(check(rule, schema))


def validate_text(text: str, schema: Schema) -> Rule:
    """Parse and validate in one step: the rule, or a RuleError saying where (offset) and what."""
    rule, positions = parse_with_positions(text)
    raise_errors(check(rule, schema, positions))
    return rule
