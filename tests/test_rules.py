"""evalcore.analyze.rules: building, JSON, text round trip, schema validation and masks."""

from __future__ import annotations

import doctest
import functools
import importlib
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalcore.analyze.rules import (
    ColumnType,
    Condition,
    Group,
    Not,
    Op,
    Schema,
    all_of,
    any_of,
    check,
    conditions,
    evaluate,
    format_rule,
    mask,
    parse_rule,
    rule_from_json,
    rule_to_json,
    validate,
    validate_text,
)
from evalcore.core.errors import EvalcoreError, RuleError

EXAMPLE = 'has_negation == true and (emoji_count >= 2 or text contains "lol")'
EXAMPLE_JSON = {
    "and": [
        {"col": "has_negation", "op": "==", "value": True},
        {"or": [{"col": "emoji_count", "op": ">=", "value": 2}, {"col": "text", "op": "contains", "value": "lol"}]},
    ]
}


def c(col: str, op: str, value=None) -> Condition:
    return Condition(col, Op(op), value)


# ---- building: the first validation phase


@pytest.mark.parametrize(
    ("op", "value", "message"),
    [
        ("in", [], "operator 'in' needs a non-empty list"),
        ("not in", "a", "operator 'not in' needs a non-empty list"),
        ("in", [1, "a"], "needs values of one kind"),
        ("in", [True, 1], "needs values of one kind"),
        ("==", [1, 2], "takes one value"),
        ("==", None, "needs a value; to test for missing values use 'is null'"),
        ("is null", 1, "operator 'is null' takes no value, got 1"),
        ("is not null", "x", "operator 'is not null' takes no value"),
        ("<", "a", "operator '<' needs a number, got \"a\""),
        (">=", True, "operator '>=' needs a number, got true"),
        ("contains", 3, "operator 'contains' needs a non-empty string, got 3"),
        ("not contains", "", "needs a non-empty string"),
        ("==", float("nan"), "finite numbers only"),
        ("==", {"a": 1}, "allowed: true/false, a number or a string"),
        ("matches", "(", "does not compile"),
        ("matches", "a" * 201, "201 characters long; allowed: at most 200"),
        ("matches", "(a+)+", "repeats a group that itself repeats"),
        ("matches", r"(\w+\s?)*$", "no nested quantifiers"),
        ("matches", "(?:x|y*)+z", "nested quantifiers"),
        ("matches", "(ab{1,3}){2,}", "nested quantifiers"),
    ],
)
def test_condition_rejects_values_that_do_not_fit_the_operator(op, value, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        Condition("x", Op(op), value)


def test_rule_error_is_an_evalcore_error():
    assert issubclass(RuleError, EvalcoreError)


@pytest.mark.parametrize("module", ["evalcore.analyze.rules", "evalcore.analyze.rules.evaluation"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("pattern", [r"\d+", "a{2,3}b", "(ab)+", "(a|b)c*", "^lol$", "(?:a{1})+", r"(\d{3})+"])
def test_safe_patterns_are_accepted(pattern):
    assert Condition("text", Op.MATCHES, pattern).value == pattern


def test_condition_normalises_op_and_lists():
    cond = Condition("x", "NOT  IN", ["a", "b"])  # type: ignore[arg-type]
    assert cond.op is Op.NOT_IN and cond.value == ("a", "b")
    hash(cond)  # frozen and hashable: usable as a cache key
    with pytest.raises(RuleError, match="unknown operator 'like'; allowed: ==, !=, <"):
        Condition("x", "like", "a")  # type: ignore[arg-type]
    with pytest.raises(RuleError, match="column name must be a non-empty string"):
        Condition("", Op.EQ, 1)


def test_groups_are_kept_in_normal_form():
    a, b, d = c("a", "==", 1), c("b", "==", 2), c("d", "==", 3)
    with pytest.raises(RuleError, match="needs at least two rules, got 1"):
        Group("and", (a,))
    with pytest.raises(RuleError, match="'and' group directly inside another 'and' group"):
        Group("and", (a, Group("and", (b, d))))
    with pytest.raises(RuleError, match="join must be 'and' or 'or', got 'xor'"):
        Group("xor", (a, b))  # type: ignore[arg-type]
    with pytest.raises(RuleError, match="at least one rule, got none"):
        all_of()
    assert all_of(a) == a
    assert all_of(a, all_of(b, d)) == Group("and", (a, b, d))
    assert any_of(a, all_of(b, d)) == Group("or", (a, Group("and", (b, d))))
    assert conditions(Not(any_of(a, all_of(b, d)))) == [a, b, d]


# ---- JSON form


def test_json_form_matches_design_md():
    rule = parse_rule(EXAMPLE)
    assert rule_to_json(rule) == EXAMPLE_JSON
    assert rule_from_json(json.loads(json.dumps(EXAMPLE_JSON))) == rule
    assert rule_to_json(c("x", "is null")) == {"col": "x", "op": "is null"}
    assert rule_from_json({"col": "x", "op": "is null", "value": None}) == c("x", "is null")
    assert rule_to_json(Not(c("x", "in", [1, 2]))) == {"not": {"col": "x", "op": "in", "value": [1, 2]}}


def test_json_groups_are_normalised_on_load():
    one = {"and": [{"col": "a", "op": "==", "value": 1}]}
    assert rule_from_json(one) == c("a", "==", 1)
    nested = {
        "or": [
            {"or": [{"col": "a", "op": "==", "value": 1}, {"col": "b", "op": "==", "value": 2}]},
            {"col": "d", "op": "==", "value": 3},
        ]
    }
    assert rule_from_json(nested) == Group("or", (c("a", "==", 1), c("b", "==", 2), c("d", "==", 3)))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "$: a rule must be a JSON object, got a list"),
        ({"and": {"col": "a"}}, "$.and: must be a list of rules"),
        ({"and": []}, "$.and: an 'and' group needs at least one rule, got none"),
        ({"and": [], "or": []}, "$: unexpected key 'or'; an 'and' group takes only the key 'and'"),
        ({"not": {"col": "a", "op": "is null"}, "x": 1}, "$: unexpected key 'x'; a 'not' takes only"),
        ({"col": "a", "op": "==", "value": 1, "colour": 2}, "$: unexpected key 'colour'; a condition takes"),
        ({"col": "a", "value": 1}, "$: a condition needs the keys col and op (and value), missing op"),
        ({"column": "a"}, "$: cannot tell what rule this is (keys: column)"),
        (
            {"or": [{"col": "a", "op": "==", "value": 1}, {"col": "b", "op": "~", "value": 1}]},
            "$.or[1]: unknown operator '~'",
        ),
        ({"not": {"col": "a", "op": "in", "value": []}}, "$.not: operator 'in' needs a non-empty list"),
        ({"col": 3, "op": "==", "value": 1}, "$: column name must be a non-empty string, got 3"),
    ],
)
def test_malformed_json_gets_a_message_with_its_path(raw, message):
    with pytest.raises(RuleError) as info:
        rule_from_json(raw)
    assert message in str(info.value)


# ---- text form


def test_the_design_example_round_trips():
    rule = parse_rule(EXAMPLE)
    assert rule == Group(
        "and", (c("has_negation", "==", True), Group("or", (c("emoji_count", ">=", 2), c("text", "contains", "lol"))))
    )
    assert format_rule(rule) == EXAMPLE


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a==1 AND b<2 Or c>3", "a == 1 and b < 2 or c > 3"),
        ("a == 1 and (b == 2 and c == 3)", "a == 1 and b == 2 and c == 3"),
        ("((a == 1))", "a == 1"),
        ("not a == 1 and b == 2", "not a == 1 and b == 2"),
        ("not (a == 1 and b == 2)", "not (a == 1 and b == 2)"),
        ("(a == 1 or b == 2) and c == 3", "(a == 1 or b == 2) and c == 3"),
        ("a == 1 or (b == 2 and c == 3)", "a == 1 or b == 2 and c == 3"),
        ("NOT NOT a is NOT NULL", "not not a is not null"),
        ("a not  in [1,2.5, -3]", "a not in [1, 2.5, -3]"),
        ("a in [TRUE]", "a in [true]"),
        ("x == -.5e2", "x == -50.0"),
        ('t matches "\\d+"', 't matches "\\\\d+"'),  # a regex escape is kept as written
        ('t == "say \\"hi\\" \\\\ bye"', 't == "say \\"hi\\" \\\\ bye"'),
        ("`odd col` == 1 and `in` != 2 and `a\\`b` is null", "`odd col` == 1 and `in` != 2 and `a\\`b` is null"),
        ("`plain` == 1", "plain == 1"),
        ("x  not contains 'q'".replace("'", '"'), 'x not contains "q"'),
    ],
)
def test_parser_accepts_the_grammar_and_prints_canonically(text, canonical):
    rule = parse_rule(text)
    assert format_rule(rule) == canonical
    assert parse_rule(canonical) == rule


def test_precedence_not_and_or():
    a, b, d = c("a", "==", 1), c("b", "==", 2), c("d", "==", 3)
    assert parse_rule("a == 1 or b == 2 and d == 3") == Group("or", (a, Group("and", (b, d))))
    assert parse_rule("not a == 1 and b == 2") == Group("and", (Not(a), b))
    assert parse_rule("not (a == 1 or b == 2)") == Not(Group("or", (a, b)))
    assert format_rule(Not(Group("and", (a, b)))) == "not (a == 1 and b == 2)"
    assert format_rule(Group("and", (Not(a), Group("or", (b, d))))) == "not a == 1 and (b == 2 or d == 3)"
    assert parse_rule("a == 1.0").value == 1.0 and isinstance(parse_rule("a == 1.0").value, float)
    assert isinstance(parse_rule("a == 1").value, int)
    assert parse_rule("a == -2").value == -2


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("has_negation == true and emoji_count >= ", 40, "at 40: expected a value after '>=' but found end of text"),
        ("", 0, "at 0: expected a rule but found end of text"),
        ("a == 1 and", 10, "at 10: expected a column name or '(' but found end of text"),
        ("(a == 1 or b == 2", 17, "at 17: expected ')' to close the '(' at 0 but found end of text"),
        ("a = 1", 2, "at 2: unexpected character '=' (did you mean '=='?)"),
        ("a ! 1", 2, "did you mean '!='?"),
        ("a == 1 @", 7, "at 7: unexpected character '@'"),
        ("café == 1", 3, "at 3: unexpected character 'é' (back-quote column names with other characters"),
        ("a == 'x'", 5, "(strings take double quotes)"),
        ('a == "open', 5, 'at 5: the string starting here is never closed (missing ")'),
        ("`open == 1", 0, "at 0: the column name starting here is never closed"),
        ("`a\\q` == 1", 2, "unknown escape '\\q' in a back-quoted column name"),
        ("a 1", 2, "at 2: expected an operator (==, !=, <, <=, >, >=, in, not in"),
        ("a not == 1", 6, "at 6: expected 'in' or 'contains' after 'not' but found '=='"),
        ("a is nul", 5, "at 5: expected 'null' after 'is' but found 'nul'"),
        ("a is not 3", 9, "at 9: expected 'null' after 'not' but found '3'"),
        ("a == null", 5, "at 5: null is not a value to compare with; use 'is null' or 'is not null'"),
        ("a == b", 5, "at 5: expected a value after '==' but found 'b' (quote strings: \"b\"; a rule compares"),
        ("a in [1, 2", 10, "at 10: expected ',' or ']' to close the list at 5 but found end of text"),
        ("a in [1, ]", 9, "at 9: expected a value in the list after ',' but found ']'"),
        ("a in [[1]]", 6, "at 6: expected a value in the list after '[' but found '['"),
        ("a == [1]", 5, "at 5: operator '==' takes one value"),
        ('a < "x"', 4, "at 4: operator '<' needs a number"),
        ('t matches "(a+)+"', 10, 'at 10: regular expression "(a+)+" repeats a group'),
        ("a == 1 b == 2", 7, "at 7: expected 'and', 'or' or end of text but found 'b'"),
        ("in == 1", 0, "expected a column name or '(' but found 'in' (back-quote a column named like a keyword"),
        ("a == 1)", 6, "at 6: expected 'and', 'or' or end of text but found ')'"),
        ("a == 1e999", 5, "finite numbers only"),
    ],
)
def test_syntax_errors_say_where_and_what(text, position, message):
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert info.value.position == position
    assert message in str(info.value)


def test_parse_rule_rejects_non_text():
    with pytest.raises(RuleError, match="rule text must be a string, got dict"):
        parse_rule({"col": "a"})  # type: ignore[arg-type]


# ---- property tests: random trees survive text and JSON

_COLUMNS = st.one_of(
    st.sampled_from(["a", "has_negation", "emoji_count", "text", "and", "In", "x1"]), st.text(min_size=1, max_size=6)
)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_NUMBERS = st.one_of(st.integers(-(10**6), 10**6), _FLOATS)
_STRINGS = st.text(max_size=8)
_SCALARS = st.one_of(st.booleans(), _NUMBERS, _STRINGS)
_LISTS = st.one_of(*(st.lists(s, min_size=1, max_size=4) for s in (st.booleans(), _NUMBERS, _STRINGS)))
_PATTERNS = st.sampled_from([r"\d+", "lol+", "^a|b$", "(ab)+c", r"[\"\\]", "x{2,3}"])


def _value_for(op: Op):
    if op in (Op.IS_NULL, Op.IS_NOT_NULL):
        return st.none()
    if op in (Op.IN, Op.NOT_IN):
        return _LISTS
    if op in (Op.LT, Op.LE, Op.GT, Op.GE):
        return _NUMBERS
    if op in (Op.CONTAINS, Op.NOT_CONTAINS):
        return st.text(min_size=1, max_size=8)
    if op is Op.MATCHES:
        return _PATTERNS
    return _SCALARS


_CONDITIONS = st.builds(
    lambda col, op_value: Condition(col, *op_value),
    _COLUMNS,
    st.sampled_from(list(Op)).flatmap(lambda op: _value_for(op).map(lambda v: (op, v))),
)


def _extend(children):
    return st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=4).map(lambda rs: all_of(*rs)),
        st.lists(children, min_size=2, max_size=4).map(lambda rs: any_of(*rs)),
    )


RULES = st.recursive(_CONDITIONS, _extend, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RULES)
def test_text_and_json_round_trips_are_exact(rule):
    text = format_rule(rule)
    again = parse_rule(text)
    assert again == rule
    assert format_rule(again) == text  # also catches True/1 and 1.0/1, which == would not
    from_json = rule_from_json(json.loads(json.dumps(rule_to_json(rule))))
    assert from_json == rule and format_rule(from_json) == text


# ---- schema: the second validation phase


@pytest.fixture
def table() -> pd.DataFrame:
    return _table().copy()


@functools.cache
def _rows() -> list[dict]:
    """The fixture table as plain Python rows (nulls as None), for the reference evaluator."""
    df = _table()
    return df.astype(object).where(df.notna(), None).to_dict("records")


@functools.cache
def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "has_negation": [True, False, True, False, True],
            "flag": pd.array([True, None, False, True, None], dtype="boolean"),
            "obj_flag": pd.Series([True, None, False, True, False], dtype=object),
            "emoji_count": [0, 1, 2, 3, 4],
            "conf": [0.9, np.nan, 0.5, 0.1, 0.8],
            "maybe_int": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "obj_num": pd.Series([1, None, 2.5, 3, 4], dtype=object),
            "text": ["LOL so fun", None, "not bad at all", "a.c", "lol123 x"],
            "label": pd.Categorical(["negative", "positive", "neutral", "positive", None]),
            "length_bucket": ["short", "short", "long", "medium", None],
            "empty": [None] * 5,
        }
    )


def test_schema_types_columns(table):
    schema = Schema.from_frame(table, max_categories=3)
    types = {name: info.type for name, info in schema.columns.items()}
    assert types == {
        "has_negation": ColumnType.BOOL,
        "flag": ColumnType.BOOL,
        "obj_flag": ColumnType.BOOL,
        "emoji_count": ColumnType.NUMBER,
        "conf": ColumnType.NUMBER,
        "maybe_int": ColumnType.NUMBER,
        "obj_num": ColumnType.NUMBER,
        "text": ColumnType.STRING,
        "label": ColumnType.CATEGORY,
        "length_bucket": ColumnType.CATEGORY,
        "empty": ColumnType.CATEGORY,
    }
    assert schema["length_bucket"].values == ("long", "medium", "short")
    assert schema["label"].values == ("negative", "neutral", "positive")
    assert Schema.from_frame(table)["text"].type is ColumnType.CATEGORY  # 4 values <= 50
    many = pd.DataFrame({"t": [f"tweet {i}" for i in range(51)]})
    assert Schema.from_frame(many)["t"].type is ColumnType.STRING
    assert schema.names(ColumnType.BOOL) == ["has_negation", "flag", "obj_flag"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "has_negaton == true",
            "at 0: in `has_negaton == true`: unknown column 'has_negaton' — did you mean 'has_negation'?",
        ),
        ("zzz == 1", "unknown column 'zzz'; known columns: has_negation, flag, obj_flag, emoji_count"),
        (
            'emoji_count contains "x"',
            "in `emoji_count contains \"x\"`: operator 'contains' does not apply to "
            "number column 'emoji_count'; allowed: ==, !=, <, <=, >, >=, in, not in, "
            "is null, is not null",
        ),
        (
            "has_negation < 1",
            "operator '<' does not apply to bool column 'has_negation'; allowed: ==, !=, in, "
            "not in, is null, is not null",
        ),
        ("length_bucket >= 2", "operator '>=' does not apply to category column 'length_bucket'"),
        ("text > 1", "operator '>' does not apply to string column 'text'"),
        ('emoji_count == "2"', "value \"2\" is a string but column 'emoji_count' holds numbers"),
        ("has_negation == 1", "value 1 is a number but column 'has_negation' holds true/false values"),
        ("text in [true, false]", "value [true, false] is true/false but column 'text' holds strings"),
        ("label != 3", "value 3 is a number but column 'label' holds strings"),
    ],
)
def test_validation_messages(table, text, message):
    schema = Schema.from_frame(table, max_categories=3)
    with pytest.raises(RuleError) as info:
        validate_text(text, schema)
    assert message in str(info.value)
    with pytest.raises(RuleError):
        validate(parse_rule(text), schema)


def test_validation_lists_every_problem_in_one_error(table):
    schema = Schema.from_frame(table)
    text = 'emoji_count == "x" and (conf > 0.5 or has_negaton == true) and text < 2'
    with pytest.raises(RuleError) as info:
        validate_text(text, schema)
    message = str(info.value)
    assert message.startswith("3 problems:\n")
    assert '- at 0: in `emoji_count == "x"`' in message
    assert "- at 38: in `has_negaton == true`: unknown column 'has_negaton' — did you mean 'has_negation'?" in message
    assert "- at 63: in `text < 2`: operator '<' does not apply to category column 'text'" in message
    assert info.value.position == 0
    # without text, the same problems without offsets
    with pytest.raises(RuleError, match=r"^3 problems:\n- in `emoji_count"):
        validate(parse_rule(text), schema)


def test_unseen_category_value_is_a_warning_not_an_error(table):
    schema = Schema.from_frame(table)
    warnings = validate(parse_rule('length_bucket in ["short", "tiny"] and label == "postive"'), schema)
    assert warnings == [
        'in `length_bucket in ["short", "tiny"]`: value "tiny" never occurs in column \'length_bucket\' '
        '(seen: "long", "medium", "short")',
        'in `label == "postive"`: value "postive" never occurs in column \'label\' '
        '(seen: "negative", "neutral", "positive")',
    ]
    assert [p.severity for p in check(parse_rule('label == "postive"'), schema)] == ["warning"]
    assert validate(parse_rule('label contains "postive"'), schema) == []  # substring: no value check


def test_validate_text_returns_the_rule(table):
    assert validate_text(
        EXAMPLE.replace("emoji_count >= 2", "emoji_count >= 2.5"), Schema.from_frame(table)
    ) == parse_rule(EXAMPLE.replace("2", "2.5"))


# ---- evaluation: each operator on each type it supports, and nulls


def _m(text: str, df: pd.DataFrame) -> list[bool]:
    out = evaluate(parse_rule(text), df)
    assert isinstance(out, np.ndarray) and out.dtype == bool and out.shape == (len(df),)
    return out.tolist()


T, F = True, False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bool (plain, nullable boolean with <NA>, object with None)
        ("has_negation == true", [T, F, T, F, T]),
        ("has_negation != true", [F, T, F, T, F]),
        ("has_negation in [false]", [F, T, F, T, F]),
        ("has_negation not in [true, false]", [F, F, F, F, F]),
        ("flag == true", [T, F, F, T, F]),
        ("flag != true", [F, T, T, F, T]),
        ("flag == false", [F, F, T, F, F]),
        ("flag in [true, false]", [T, F, T, T, F]),
        ("flag not in [true]", [F, T, T, F, T]),
        ("flag is null", [F, T, F, F, T]),
        ("flag is not null", [T, F, T, T, F]),
        ("obj_flag == true", [T, F, F, T, F]),
        ("obj_flag == false", [F, F, T, F, T]),
        ("obj_flag is null", [F, T, F, F, F]),
        # numbers (int, float with NaN, Int64 with <NA>, object with None)
        ("emoji_count == 2", [F, F, T, F, F]),
        ("emoji_count != 2", [T, T, F, T, T]),
        ("emoji_count < 2", [T, T, F, F, F]),
        ("emoji_count <= 2", [T, T, T, F, F]),
        ("emoji_count > 2", [F, F, F, T, T]),
        ("emoji_count >= 2.5", [F, F, F, T, T]),
        ("emoji_count in [0, 4]", [T, F, F, F, T]),
        ("emoji_count not in [0, 4.0]", [F, T, T, T, F]),
        ("conf >= 0.8", [T, F, F, F, T]),
        ("conf < 0.8", [F, F, T, T, F]),
        ("conf == 0.5", [F, F, T, F, F]),
        ("conf != 0.5", [T, T, F, T, T]),
        ("conf in [0.1, 0.9]", [T, F, F, T, F]),
        ("conf not in [0.1, 0.9]", [F, T, T, F, T]),
        ("conf is null", [F, T, F, F, F]),
        ("conf is not null", [T, F, T, T, T]),
        ("maybe_int > 2", [F, F, T, T, T]),
        ("maybe_int <= 1", [T, F, F, F, F]),
        ("maybe_int != 1", [F, T, T, T, T]),
        ("maybe_int is null", [F, T, F, F, F]),
        ("obj_num >= 2.5", [F, F, T, T, T]),
        ("obj_num == 1", [T, F, F, F, F]),
        ("obj_num is null", [F, T, F, F, F]),
        # strings and categories
        ('text == "a.c"', [F, F, F, T, F]),
        ('text == "A.C"', [F, F, F, F, F]),  # equality is exact
        ('text != "a.c"', [T, T, T, F, T]),
        ('text in ["a.c", "lol123 x"]', [F, F, F, T, T]),
        ('text not in ["a.c"]', [T, T, T, F, T]),
        ('text contains "lol"', [T, F, F, F, T]),  # case-insensitive
        ('text contains "A.C"', [F, F, F, T, F]),  # literal: "." is not a wildcard
        ('text not contains "lol"', [F, T, T, T, F]),
        ('text matches "^lol\\\\d"', [F, F, F, F, T]),  # re.search, anchored by the user
        ('text matches "b.d"', [F, F, T, F, F]),
        ('text matches "FUN$"', [T, F, F, F, F]),  # case-insensitive
        ("text is null", [F, T, F, F, F]),
        ('label == "positive"', [F, T, F, T, F]),
        ('label != "positive"', [T, F, T, F, T]),
        ('label in ["negative", "neutral"]', [T, F, T, F, F]),
        ('label not in ["negative", "neutral"]', [F, T, F, T, T]),
        ('label contains "POS"', [F, T, F, T, F]),
        ('label matches "^ne"', [T, F, T, F, F]),
        ("label is null", [F, F, F, F, T]),
        ('length_bucket == "short"', [T, T, F, F, F]),
        ('length_bucket not contains "o"', [F, F, F, T, T]),
        ("empty is null", [T, T, T, T, T]),
        # groups and negation
        ("has_negation == true and emoji_count >= 2", [F, F, T, F, T]),
        ("has_negation == true or conf is null", [T, T, T, F, T]),
        ("not (has_negation == true or conf is null)", [F, F, F, T, F]),
        ("not conf >= 0.8", [F, T, T, T, F]),  # not includes the null row, unlike conf < 0.8
        ('has_negation == true and (emoji_count >= 3 or text contains "LOL")', [T, F, F, F, T]),
    ],
)
def test_each_operator_on_each_type(table, text, expected):
    assert _m(text, table) == expected


def test_negative_operators_complement_positive_ones_even_on_nulls(table):
    pairs = [("==", "!="), ("in", "not in"), ("contains", "not contains"), ("is null", "is not null")]
    cases = {"conf": (0.5, [0.5]), "text": ("lol", ["lol"]), "flag": (True, [True]), "label": ("neutral", ["neutral"])}
    for col, (scalar, listed) in cases.items():
        for pos, neg in pairs:
            if pos == "contains" and not isinstance(scalar, str):
                continue
            value = None if "null" in pos else listed if "in" == pos else scalar
            yes, no = mask(Condition(col, Op(pos), value), table), mask(Condition(col, Op(neg), value), table)
            assert (yes ^ no).all(), (col, pos)


def test_evaluate_validates_first(table):
    with pytest.raises(RuleError, match="did you mean 'emoji_count'"):
        evaluate(parse_rule("emoji_cont > 1"), table)
    with pytest.raises(RuleError, match="unknown column 'nope'; validate the rule"):
        mask(parse_rule("nope == 1"), table)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_masks_match_a_row_by_row_reference(data):
    """Random well-typed rules over the fixture agree with a plain-Python reading of the semantics."""
    by_type = {
        "conf": _NUMBERS.filter(lambda v: not isinstance(v, bool)),
        "flag": st.booleans(),
        "text": st.sampled_from(["lol", "a.c", "bad", "x", "LOL so fun"]),
    }
    ops = {
        "conf": [Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.IN, Op.NOT_IN, Op.IS_NULL, Op.IS_NOT_NULL],
        "flag": [Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.IS_NULL, Op.IS_NOT_NULL],
        "text": [Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.CONTAINS, Op.NOT_CONTAINS, Op.MATCHES, Op.IS_NULL],
    }

    @st.composite
    def conds(draw):
        col = draw(st.sampled_from(sorted(ops)))
        op = draw(st.sampled_from(ops[col]))
        if op in (Op.IS_NULL, Op.IS_NOT_NULL):
            return Condition(col, op)
        if op in (Op.IN, Op.NOT_IN):
            return Condition(col, op, draw(st.lists(by_type[col], min_size=1, max_size=3)))
        return Condition(col, op, draw(by_type[col]))

    rule = data.draw(st.recursive(conds(), _extend, max_leaves=6))
    assert mask(rule, _table()).tolist() == [_reference(rule, row) for row in _rows()]


def _reference(rule, row) -> bool:
    if isinstance(rule, Not):
        return not _reference(rule.child, row)
    if isinstance(rule, Group):
        results = [_reference(child, row) for child in rule.children]
        return all(results) if rule.join == "and" else any(results)
    x, v, op = row[rule.col], rule.value, rule.op
    negated = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN, Op.NOT_CONTAINS: Op.CONTAINS, Op.IS_NOT_NULL: Op.IS_NULL}
    if op in negated:
        return not _reference(Condition(rule.col, negated[op], v), row)
    if op is Op.IS_NULL:
        return x is None or (isinstance(x, float) and math.isnan(x))
    if x is None:
        return False
    return {
        Op.EQ: lambda: x == v,
        Op.LT: lambda: x < v,
        Op.LE: lambda: x <= v,
        Op.GT: lambda: x > v,
        Op.GE: lambda: x >= v,
        Op.IN: lambda: x in v,
        Op.CONTAINS: lambda: v.lower() in x.lower(),
        Op.MATCHES: lambda: re.search(v, x, re.IGNORECASE) is not None,
    }[op]()


def test_deep_nesting_is_a_rule_error_not_a_crash() -> None:
    from evalcore.analyze.rules import parse_rule, rule_from_json
    from evalcore.core.errors import RuleError

    with pytest.raises(RuleError, match="nests too deeply"):
        parse_rule("(" * 3000 + "has_url == true" + ")" * 3000)
    deep: dict = {"col": "has_url", "op": "==", "value": True}
    for _ in range(3000):
        deep = {"not": deep}
    with pytest.raises(RuleError, match="nests too deeply"):
        rule_from_json(deep)
    with pytest.raises(RuleError, match="at most 20,000"):
        parse_rule("has_url == true or " * 2000 + "has_url == true")


def test_user_regex_runs_on_re2_in_linear_time() -> None:
    """`(a|aa)+b` on 200 a's would backtrack for ages in Python's re; on RE2 it is instant."""
    import pandas as pd

    from evalcore.analyze.rules import evaluate, parse_rule
    from evalcore.core.errors import RuleError

    df = pd.DataFrame({"text": ["a" * 200 + "c", "xaab", None]})
    assert evaluate(parse_rule('text matches "(a|aa)+b"'), df).tolist() == [False, True, False]
    assert evaluate(parse_rule('text matches "XAAB"'), df).tolist() == [False, True, False]  # ignores case
    with pytest.raises(RuleError, match="cannot run on RE2"):
        evaluate(parse_rule('text matches "a(?=b)"'), df)
