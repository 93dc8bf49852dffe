"""Slice rules: typed trees, their JSON and text forms, schema checks and vectorised masks.

    >>> import pandas as pd
    >>> rule = parse_rule('has_negation == true and (emoji_count >= 2 or text contains "lol")')
    >>> format_rule(rule)
    'has_negation == true and (emoji_count >= 2 or text contains "lol")'
    >>> df = pd.DataFrame({"has_negation": [True, True, False], "emoji_count": [0, 3, 5],
    ...                    "text": ["LOL no", "meh", "lol"]})
    >>> evaluate(rule, df).tolist()
    [True, True, False]

Modules: `tree` (data + JSON), `text` (parser + printer), `schema` (validation against a
table), `evaluation` (masks). Import from here; the split is an implementation detail.
"""

from evalcore.analyze.rules.evaluation import Mask, condition_mask, evaluate, mask
from evalcore.analyze.rules.schema import (
    ALLOWED_OPS,
    ColumnInfo,
    ColumnType,
    Problem,
    Schema,
    check,
    raise_errors,
    validate,
    validate_text,
)
from evalcore.analyze.rules.text import format_column, format_condition, format_rule, parse_rule, parse_with_positions
from evalcore.analyze.rules.tree import (
    MAX_PATTERN_CHARS,
    Condition,
    Group,
    Not,
    Op,
    Rule,
    all_of,
    any_of,
    check_pattern,
    conditions,
    rule_from_json,
    rule_to_json,
)

__all__ = [
    "ALLOWED_OPS",
    "MAX_PATTERN_CHARS",
    "ColumnInfo",
    "ColumnType",
    "Condition",
    "Group",
    "Mask",
    "Not",
    "Op",
    "Problem",
    "Rule",
    "Schema",
    "all_of",
    "any_of",
    "check",
    "check_pattern",
    "condition_mask",
    "conditions",
    "evaluate",
    "format_column",
    "format_condition",
    "format_rule",
    "mask",
    "parse_rule",
    "parse_with_positions",
    "raise_errors",
    "rule_from_json",
    "rule_to_json",
    "validate",
    "validate_text",
]
