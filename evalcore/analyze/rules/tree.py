"""The rule tree: typed data checked when built, and its JSON form.

A rule is a `Condition` (column, operator, value), a `Group` (a join over two or more rules) or a
`Not`. Every constructor checks the shape of what it is given (does the value fit the operator,
does the regex compile and stay cheap), so a rule that exists is well formed; fitting a table is
the second phase (`evalcore.analyze.rules.schema`). Trees are kept in one normal form -- a group has at
least two children and never a direct child with its own join -- so the text and JSON forms map
one to one onto trees and round trips are exact (`all_of` / `any_of` build that form for you).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Union

from evalcore.analyze.textsearch import re2_problem
from evalcore.core.errors import RuleError

MAX_PATTERN_CHARS = 200

Scalar = Union[bool, int, float, str]
Value = Union[Scalar, tuple[Scalar, ...], None]


class Op(Enum):
    """Operators, spelled as they are in the text and JSON forms."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not contains"
    MATCHES = "matches"
    IS_NULL = "is null"
    IS_NOT_NULL = "is not null"

    @classmethod
    def parse(cls, raw: Any) -> "Op":
        """The operator spelled `raw` (case and inner spaces do not matter)."""
        if isinstance(raw, Op):
            return raw
        if isinstance(raw, str):
            key = " ".join(raw.lower().split())
            for op in cls:
                if op.value == key:
                    return op
        raise RuleError(f"unknown operator {raw!r}; allowed: {', '.join(op.value for op in cls)}")


ORDER_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
LIST_OPS = frozenset({Op.IN, Op.NOT_IN})
TEXT_OPS = frozenset({Op.CONTAINS, Op.NOT_CONTAINS, Op.MATCHES})
NULL_OPS = frozenset({Op.IS_NULL, Op.IS_NOT_NULL})


def value_kind(value: Scalar) -> str:
    """'bool', 'number' or 'string': the kinds a column type is checked against."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def describe(value: Any) -> str:
    """A value as the user would write it (for messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if value is None:
        return "null"
    return repr(value)


def _check_scalar(op: Op, value: Any) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        raise RuleError(f"operator '{op.value}' got {value!r}; allowed: finite numbers only")
    if isinstance(value, (bool, int, float, str)):
        return value
    raise RuleError(f"operator '{op.value}' got {describe_type(value)}; allowed: true/false, a number or a string")


def describe_type(value: Any) -> str:
    if value is None:
        return "no value"
    if isinstance(value, (list, tuple)):
        return f"a list {describe(value)}"
    return f"{type(value).__name__} {value!r}"


def _nested_quantifier(pattern: str) -> bool:
    """True when a repeated group itself contains a variable-length repeat, e.g. `(a+)+`: the shape
    that makes a backtracking regex engine take exponential time on a near-miss. A heuristic (it
    does not catch overlapping alternations like `(a|a)+`); the length bound limits the rest."""
    import re._constants as c  # noqa: PLC0415 (private, but stable since 3.11)
    import re._parser as p  # noqa: PLC0415

    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}

    def items(node: Any):
        if isinstance(node, p.SubPattern):
            yield from node.data
        elif isinstance(node, (list, tuple)):
            for child in node:
                if isinstance(child, (p.SubPattern, list, tuple)):
                    yield from items(child)

    def has_repeat(node: Any) -> bool:  # a repeat of variable length, like a+ or a{1,3}
        for op, av in items(node):
            if op in repeats and av[0] != av[1]:
                return True
            if isinstance(av, (list, tuple)) and has_repeat(list(av)):
                return True
        return False

    def nested(node: Any) -> bool:
        for op, av in items(node):
            if op in repeats and av[1] > 1 and has_repeat(av[2]):
                return True
            if isinstance(av, (list, tuple)) and nested(list(av)):
                return True
        return False

    return nested(p.parse(pattern))


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a user regex (case-insensitive) after bounding its length and shape."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"regular expression is {len(pattern)} characters long; allowed: at most {MAX_PATTERN_CHARS}")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"regular expression {describe(pattern)} does not compile: {exc}") from exc
    if _nested_quantifier(pattern):
        raise RuleError(
            f"regular expression {describe(pattern)} repeats a group that itself repeats "
            "(like (a+)+), which can take exponential time; allowed: no nested quantifiers, "
            "rewrite it e.g. (a+)+ as a+"
        )
    problem = re2_problem(pattern)
    if problem:
        raise RuleError(
            f"regular expression {describe(pattern)} cannot run on RE2 ({problem}); patterns run "
            "on RE2 so that matching takes linear time: lookarounds and backreferences are not "
            "allowed"
        )
    return compiled


def _check_value(op: Op, value: Any) -> Value:
    """The value in its stored form (lists become tuples) or a RuleError saying what `op` takes."""
    if op in NULL_OPS:
        if value is not None:
            raise RuleError(f"operator '{op.value}' takes no value, got {describe(value)}")
        return None
    if value is None:
        raise RuleError(
            f"operator '{op.value}' needs a value; to test for missing values use 'is null' or 'is not null'"
        )
    if op in LIST_OPS:
        if not isinstance(value, (list, tuple)) or not value:
            raise RuleError(
                f'operator \'{op.value}\' needs a non-empty list like ["a", "b"], got {describe_type(value)}'
            )
        items = tuple(_check_scalar(op, v) for v in value)
        kinds = {value_kind(v) for v in items}
        if len(kinds) > 1:
            raise RuleError(
                f"operator '{op.value}' needs values of one kind, got {describe(items)} "
                f"mixing {' and '.join(sorted(kinds))}"
            )
        return items
    if isinstance(value, (list, tuple)):
        raise RuleError(f"operator '{op.value}' takes one value, got {describe(value)}; use 'in' for a list")
    value = _check_scalar(op, value)
    if op in ORDER_OPS and value_kind(value) != "number":
        raise RuleError(f"operator '{op.value}' needs a number, got {describe(value)}")
    if op in TEXT_OPS:
        if not isinstance(value, str) or not value:
            raise RuleError(f"operator '{op.value}' needs a non-empty string, got {describe(value)}")
        if op is Op.MATCHES:
            check_pattern(value)
    return value


@dataclass(frozen=True)
class Condition:
    """`col op value`, e.g. `emoji_count >= 2`. Lists are stored as tuples (hashable, frozen)."""

    col: str
    op: Op
    value: Value = None

    def __post_init__(self) -> None:
        if not isinstance(self.col, str) or not self.col:
            raise RuleError(f"column name must be a non-empty string, got {self.col!r}")
        op = Op.parse(self.op)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", _check_value(op, self.value))


@dataclass(frozen=True)
class Group:
    """Two or more rules joined by `and` / `or` (the join belongs to the group)."""

    join: Literal["and", "or"]
    children: tuple["Rule", ...]

    def __post_init__(self) -> None:
        if self.join not in ("and", "or"):
            raise RuleError(f"group join must be 'and' or 'or', got {self.join!r}")
        children = tuple(self.children)
        object.__setattr__(self, "children", children)
        if len(children) < 2:
            raise RuleError(
                f"an '{self.join}' group needs at least two rules, got {len(children)}; all_of()/any_of() accept one"
            )
        for child in children:
            if not isinstance(child, (Condition, Group, Not)):
                raise RuleError(f"group members must be rules, got {type(child).__name__}")
            if isinstance(child, Group) and child.join == self.join:
                raise RuleError(
                    f"an '{self.join}' group directly inside another '{self.join}' group is "
                    "not in normal form; all_of()/any_of() flatten it"
                )


@dataclass(frozen=True)
class Not:
    """The rows where `child` does not hold (nulls included: see evalcore.analyze.rules.evaluate)."""

    child: "Rule"

    def __post_init__(self) -> None:
        if not isinstance(self.child, (Condition, Group, Not)):
            raise RuleError(f"'not' needs a rule, got {type(self.child).__name__}")


Rule = Union[Condition, Group, Not]


def _join(join: Literal["and", "or"], rules: tuple[Rule, ...]) -> Rule:
    if not rules:
        raise RuleError(f"an '{join}' group needs at least one rule, got none")
    flat: list[Rule] = []
    for rule in rules:
        flat.extend(rule.children if isinstance(rule, Group) and rule.join == join else (rule,))
    return flat[0] if len(flat) == 1 else Group(join, tuple(flat))


def all_of(*rules: Rule) -> Rule:
    """Rows where every rule holds, in normal form (one rule stays itself, nested ands flatten)."""
    return _join("and", rules)


def any_of(*rules: Rule) -> Rule:
    """Rows where at least one rule holds, in normal form."""
    return _join("or", rules)


def conditions(rule: Rule) -> list[Condition]:
    """Every condition in the tree, left to right."""
    if isinstance(rule, Condition):
        return [rule]
    if isinstance(rule, Not):
        return conditions(rule.child)
    return [c for child in rule.children for c in conditions(child)]


# ---- JSON form: {"and": [...]}, {"or": [...]}, {"not": rule}, {"col": ..., "op": ..., "value": ...}


def rule_to_json(rule: Rule) -> dict[str, Any]:
    """The JSON form of DESIGN.md (plain dicts and lists; `value` left out for is (not) null)."""
    if isinstance(rule, Condition):
        out: dict[str, Any] = {"col": rule.col, "op": rule.op.value}
        if rule.op not in NULL_OPS:
            out["value"] = list(rule.value) if isinstance(rule.value, tuple) else rule.value
        return out
    if isinstance(rule, Not):
        return {"not": rule_to_json(rule.child)}
    return {rule.join: [rule_to_json(child) for child in rule.children]}


def rule_from_json(raw: Any, where: str = "$") -> Rule:
    """A rule from its JSON form, checked like a built one; errors name the JSON path.

    Groups are normalised on the way in (one member stays itself, nested same joins flatten), so
    hand-written or UI-built JSON need not be in normal form."""
    try:
        return _from_json(raw, where)
    except RecursionError as exc:
        raise RuleError(f"{where}: rule nests too deeply") from exc


def _from_json(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be a JSON object, got {describe_type(raw)}")
    keys = set(raw)
    for join in ("and", "or"):
        if join in keys:
            if keys != {join}:
                raise _extra_keys(where, keys - {join}, f"an '{join}' group takes only the key '{join}'")
            members = raw[join]
            if not isinstance(members, list):
                raise RuleError(f"{where}.{join}: must be a list of rules, got {describe_type(members)}")
            if not members:
                raise RuleError(f"{where}.{join}: an '{join}' group needs at least one rule, got none")
            return _join(join, tuple(_from_json(m, f"{where}.{join}[{i}]") for i, m in enumerate(members)))
    if "not" in keys:
        if keys != {"not"}:
            raise _extra_keys(where, keys - {"not"}, "a 'not' takes only the key 'not'")
        return Not(_from_json(raw["not"], f"{where}.not"))
    if "col" in keys or "op" in keys:
        if not keys <= {"col", "op", "value"} or not {"col", "op"} <= keys:
            extra = keys - {"col", "op", "value"}
            if extra:
                raise _extra_keys(where, extra, "a condition takes the keys col, op and value")
            raise RuleError(
                f"{where}: a condition needs the keys col and op (and value), "
                f"missing {', '.join(sorted({'col', 'op'} - keys))}"
            )
        value = raw.get("value")
        try:
            return Condition(raw["col"], Op.parse(raw["op"]), value)
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from exc
    raise RuleError(
        f"{where}: cannot tell what rule this is (keys: {', '.join(sorted(keys)) or 'none'}); "
        'allowed: {"and": [...]}, {"or": [...]}, {"not": rule} or '
        '{"col": ..., "op": ..., "value": ...}'
    )


def _extra_keys(where: str, extra: set[str], allowed: str) -> RuleError:
    return RuleError(f"{where}: unexpected key {', '.join(repr(k) for k in sorted(extra))}; {allowed}")
