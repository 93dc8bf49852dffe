"""The slice rule builder: a recursive Streamlit widget over a draft tree, and draft <-> Rule.

The draft is a tree of plain dicts kept in our own session-state key, not in widget keys: widget
keys vanish when their widget is not drawn (a page switch), the draft must not. Every node has an id
that never changes while it lives, and its widgets are keyed by that id (plus the column and the
operator, whose change swaps the widgets below), so deleting a node never hands its widgets' values
to a sibling.

    condition: {"id": "n3", "kind": "cond", "col": "emoji_count", "op": ">=", "value": 2}
    group:     {"id": "n1", "kind": "group", "join": "and", "negate": False, "children": [...]}

A group with one child stands for that child (a negated one for `not child`), so any rule loads and
`draft_to_rule(rule_to_draft(r))` prints as `r` does: the builder's tree and the text form are two
views of the same `Rule`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from evalcore.analyze.rules import (
    ALLOWED_OPS,
    ColumnInfo,
    ColumnType,
    Condition,
    Not,
    Op,
    Rule,
    Schema,
    all_of,
    any_of,
    check,
)
from evalcore.analyze.rules.tree import LIST_OPS, NULL_OPS, ORDER_OPS, TEXT_OPS
from evalcore.analyze.tables import CORE_COLUMNS, metadata_columns, model_output_columns
from evalcore.core.errors import EvalcoreError, RuleError
from ui.widgets import error, esc

DRAFT = "rb_draft"
NEXT_ID = "rb_next_id"
PENDING = "rb_pending"  # widget values to set at the top of the next run (after the widget was drawn)

Node = dict[str, Any]


# --- draft <-> Rule (no Streamlit) ----------------------------------------------------------------


def new_group(ids: Iterator[str], join: str = "and", children: list[Node] | None = None, negate: bool = False) -> Node:
    return {"id": next(ids), "kind": "group", "join": join, "negate": negate, "children": children or []}


def new_condition(ids: Iterator[str], col: str, op: str, value: Any) -> Node:
    return {"id": next(ids), "kind": "cond", "col": col, "op": op, "value": value}


def _plain(value: Any) -> Any:
    """A rule value in the draft's JSON-like form (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


def rule_to_draft(rule: Rule | None, ids: Iterator[str]) -> Node:
    """The draft of `rule`, always rooted in a group (an empty one for no rule)."""
    if rule is None:
        return new_group(ids)
    node = _node(rule, ids)
    return node if node["kind"] == "group" else new_group(ids, children=[node])


def _node(rule: Rule, ids: Iterator[str]) -> Node:
    if isinstance(rule, Condition):
        return new_condition(ids, rule.col, rule.op.value, _plain(rule.value))
    if isinstance(rule, Not):
        inner = _node(rule.child, ids)
        if inner["kind"] == "group" and not inner["negate"]:
            inner["negate"] = True
            return inner
        return new_group(ids, children=[inner], negate=True)
    return new_group(ids, rule.join, [_node(child, ids) for child in rule.children])


def condition_of(node: Node) -> Condition:
    """The condition a draft node stands for; RuleError when its value does not fit its operator."""
    if node["col"] is None:
        raise RuleError("a condition has no column yet: choose one, or remove the condition")
    value = node["value"]
    return Condition(node["col"], Op.parse(node["op"]), tuple(value) if isinstance(value, list) else value)


def draft_to_rule(node: Node) -> Rule | None:
    """The rule of a draft tree; None for an empty root, RuleError for an unfinished node."""
    if node["kind"] == "cond":
        return condition_of(node)
    rules = [draft_to_rule(child) for child in node["children"]]
    if not rules:
        return None
    if any(r is None for r in rules):
        raise RuleError("a group is empty: add a condition to it or remove it")
    rule = (all_of if node["join"] == "and" else any_of)(*rules)
    return Not(rule) if node["negate"] else rule


def find(node: Node, node_id: str) -> tuple[Node | None, Node | None]:
    """(the node with `node_id`, its parent) in the tree under `node`."""
    if node["id"] == node_id:
        return node, None
    for child in node.get("children", ()):
        if child["id"] == node_id:
            return child, node
        hit = find(child, node_id)
        if hit[0] is not None:
            return hit
    return None, None


# --- columns, operators and fitting values ---------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """What the builder offers: columns in display order with their labels, types and number kinds."""

    labels: dict[str, str]  # name -> "metadata · has_negation"
    schema: Schema
    integers: frozenset[str]  # number columns holding whole numbers (an integer input)

    @classmethod
    def of(cls, df_eval: pd.DataFrame, schema: Schema) -> "Columns":
        try:
            outputs = model_output_columns(df_eval)
        except EvalcoreError:  # a table without model names: no model group
            outputs = []
        try:
            meta = metadata_columns(df_eval)
        except EvalcoreError:
            meta = [c for c in df_eval.columns if c not in CORE_COLUMNS]
        labels = {c: f"metadata · {c}" for c in meta}
        labels |= {c: f"{c} · {c}" for c in ("label", "text") if c in df_eval.columns}
        labels |= {c: f"model · {c}" for c in outputs}
        ints = frozenset(c for c in labels if pd.api.types.is_integer_dtype(df_eval[c].dtype))
        return cls(labels, schema, ints)

    def label(self, col: str) -> str:
        return self.labels.get(col, f"missing · {col}")

    def info(self, col: str) -> ColumnInfo | None:
        return self.schema.columns.get(col)

    def default_column(self) -> str:
        """A first condition on a yes/no feature reads best (has_negation == true)."""
        for col in self.labels:
            info = self.info(col)
            if info is not None and info.type is ColumnType.BOOL:
                return col
        return next(iter(self.labels))


def ops_for(info: ColumnInfo | None) -> list[str]:
    """Operators that fit the column's type, in a reading order (every operator for an unknown column)."""
    allowed = ALLOWED_OPS[info.type] if info is not None else frozenset(Op)
    return [op.value for op in Op if op in allowed]


def default_value(info: ColumnInfo | None, op: Op) -> Any:
    if op in NULL_OPS:
        return None
    if info is None:
        return [] if op in LIST_OPS else ""
    if info.type is ColumnType.BOOL:
        return [True] if op in LIST_OPS else True
    if info.type is ColumnType.NUMBER:
        return [] if op in LIST_OPS else 0
    if info.type is ColumnType.CATEGORY and op not in TEXT_OPS and info.values:
        return [info.values[0]] if op in LIST_OPS else info.values[0]
    return [] if op in LIST_OPS else ""


def _fits(info: ColumnInfo | None, op: Op, item: Any) -> bool:
    if info is None:
        return True
    if info.type is ColumnType.BOOL:
        return isinstance(item, bool)
    if info.type is ColumnType.NUMBER or op in ORDER_OPS:
        return isinstance(item, (int, float)) and not isinstance(item, bool)
    return isinstance(item, str)


def fit_value(info: ColumnInfo | None, op: Op, value: Any) -> Any:
    """Keep what the user entered when the column or operator changes, as far as it still fits."""
    if op in NULL_OPS:
        return None
    items = value if isinstance(value, list) else ([] if value is None else [value])
    kept = [v for v in items if _fits(info, op, v)]
    if op in LIST_OPS:
        return kept or default_value(info, op)
    return kept[0] if kept else default_value(info, op)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


# --- the widget -----------------------------------------------------------------------------------


def _ids() -> Iterator[str]:
    """Fresh node ids for this browser session (never reused, so stale widget keys never match)."""
    while True:
        n = st.session_state.get(NEXT_ID, 0) + 1
        st.session_state[NEXT_ID] = n
        yield f"n{n}"


def draft() -> Node:
    """The builder's draft (an empty AND group at first)."""
    if DRAFT not in st.session_state:
        st.session_state[DRAFT] = new_group(_ids())
    return st.session_state[DRAFT]


def load(rule: Rule | None) -> None:
    """Replace the draft with `rule` (fresh ids: the new nodes' widgets start from the rule's values)."""
    st.session_state[DRAFT] = rule_to_draft(rule, _ids())


def start(columns: "Columns") -> None:
    """A fresh draft holding one condition on the first yes/no feature, ready to edit."""
    load(None)
    add(draft()["id"], "cond", columns)


def apply_pending() -> None:
    """Set widget values queued by `set_later` (a widget's value cannot change once drawn in a run)."""
    for key, value in st.session_state.pop(PENDING, {}).items():
        st.session_state[key] = value


def set_later(key: str, value: Any) -> None:
    st.session_state.setdefault(PENDING, {})[key] = value


def bound(key: str, value: Any) -> str:
    """`key` for a widget, seeded from the draft when the widget is new (or was dropped by a page
    switch); afterwards the widget's own state holds what the user typed."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


GUARDRAIL_BOX = "rb_guardrail_w"  # the save form's "guardrail" checkbox


def guardrail_box(rule: Rule | None, table: pd.DataFrame) -> tuple[str, str | None]:
    """The save form's guardrail checkbox: (the slice's role, a refusal message or None). A slice whose rule
    reads a model's output cannot be a guardrail (`evalcore.analyze.slices.slice_roles`): refused, with the fix."""
    from evalcore.analyze.slices import GUARDRAIL, WATCHED, Slice, model_output_reads

    on = st.checkbox(
        "Guardrail: must be verified",
        key=bound(GUARDRAIL_BOX, False),
        help="A guardrail passes only when the data rule out a loss of its margin (Bonferroni over the "
        "guardrails); otherwise the verdict needs more data. Unmarked slices are watched: they "
        "block only on evidence of harm.",
    )
    if not on:
        return WATCHED, None
    reads = model_output_reads(Slice("draft", rule), table) if rule is not None else []
    if reads:
        return WATCHED, (
            f"this rule reads model output ({', '.join(reads)}), so it cannot be a guardrail: a slice "
            "chosen by a model's own output is biased by construction; untick Guardrail, or build the "
            "rule on data columns"
        )
    return GUARDRAIL, None


def add(group_id: str, kind: str, columns: Columns) -> None:
    """Append a condition (`kind` "cond") or a sub-group holding one, with the other join, to a group."""
    group, _ = find(draft(), group_id)
    if group is None:
        return
    ids = _ids()
    if kind == "cond":  # a blank condition: the user picks its column (a copy of another would mislead)
        group["children"].append(new_condition(ids, None, None, None))
        return
    col = columns.default_column()
    info = columns.info(col)
    op = Op.parse(ops_for(info)[0])
    cond = new_condition(ids, col, op.value, default_value(info, op))
    group["children"].append(new_group(ids, "or" if group["join"] == "and" else "and", [cond]))


def remove(node_id: str) -> None:
    """Drop a node and its subtree; its siblings keep their ids, so their widgets keep their values."""
    _, parent = find(draft(), node_id)
    if parent is not None:
        parent["children"] = [c for c in parent["children"] if c["id"] != node_id]


def render(columns: Columns) -> None:
    """Draw the builder for the session's draft; every change lands in the draft at once."""
    _group(draft(), columns, root=True)


_JOINS = {"and": "AND · all of", "or": "OR · any of"}


def _group(node: Node, columns: Columns, root: bool) -> None:
    nid = node["id"]
    with st.container(border=True):
        head = st.columns([2.6, 0.9, 1.3, 1.2] + ([] if root else [0.5]), vertical_alignment="center")
        node["join"] = head[0].radio(
            "Join",
            list(_JOINS),
            format_func=_JOINS.get,
            horizontal=True,
            key=bound(f"rb_{nid}_join", node["join"]),
            label_visibility="collapsed",
            help="AND: a row must meet every condition below; OR: at least one",
        )
        node["negate"] = head[1].checkbox(
            "NOT", key=bound(f"rb_{nid}_not", node["negate"]), help="Match the rows where this group does not hold"
        )
        head[2].button(
            "Condition",
            icon=":material/add:",
            key=f"rb_{nid}_addc",
            on_click=add,
            args=(nid, "cond", columns),
            width="stretch",
        )
        head[3].button(
            "Group",
            icon=":material/add:",
            key=f"rb_{nid}_addg",
            on_click=add,
            args=(nid, "group", columns),
            width="stretch",
            help="A nested group with its own AND / OR",
        )
        if not root:
            head[4].button(
                "", icon=":material/close:", key=f"rb_{nid}_del", on_click=remove, args=(nid,), help="Remove this group"
            )
        if not node["children"] and root:
            st.caption("No conditions yet: add one.")
        elif not node["children"]:
            st.warning("Empty group: add a condition to it or remove it.", icon="⚠️")
        for child in node["children"]:
            if child["kind"] == "group":
                _group(child, columns, root=False)
            else:
                _condition(child, columns)


def _condition(node: Node, columns: Columns) -> None:
    nid = node["id"]
    row = st.columns([3, 1.4, 3, 0.5], vertical_alignment="center")
    options = list(columns.labels) + ([] if node["col"] in columns.labels or node["col"] is None else [node["col"]])
    col = row[0].selectbox(
        "Column",
        options,
        format_func=columns.label,
        key=bound(f"rb_{nid}_col", node["col"]),
        label_visibility="collapsed",
        placeholder="Choose a column",
    )
    row[3].button(
        "", icon=":material/close:", key=f"rb_{nid}_del", on_click=remove, args=(nid,), help="Remove this condition"
    )
    if col is None:  # a blank condition: nothing else to choose until the column is
        row[1].caption("then an operator")
        return
    info = columns.info(col)
    ops = ops_for(info)
    if col != node["col"]:  # a new column: keep the operator and value where they still fit
        fresh = node["col"] is None
        node["col"] = col
        if node["op"] not in ops:
            node["op"] = ops[0]
        op = Op.parse(node["op"])
        node["value"] = default_value(info, op) if fresh else fit_value(info, op, node["value"])
    if node["op"] not in ops:
        ops.append(node["op"])  # loaded from a rule that does not fit this table: the check says so
    op_text = row[1].selectbox(
        "Operator", ops, key=bound(f"rb_{nid}_op_{col}", node["op"]), label_visibility="collapsed"
    )
    if op_text != node["op"]:
        node["op"] = op_text
        node["value"] = fit_value(info, Op.parse(op_text), node["value"])
    with row[2]:
        node["value"] = _value_widget(node, info, columns)
    _show_problems(node, columns.schema)


def _value_widget(node: Node, info: ColumnInfo | None, columns: Columns) -> Any:
    """A widget that fits the column type and operator; returns the value in the draft's form."""
    op = Op.parse(node["op"])
    key = f"rb_{node['id']}_v_{node['col']}_{op.name}"
    value = node["value"]
    kind = info.type if info is not None else ColumnType.STRING
    if op in NULL_OPS:
        st.caption("no value")
        return None
    if kind is ColumnType.BOOL and isinstance(value, bool):
        return st.checkbox("true", key=bound(key, value), help="Checked: true; unchecked: false")
    if kind is ColumnType.BOOL and op in LIST_OPS:
        return st.multiselect(
            "Values",
            [True, False],
            format_func=lambda v: str(v).lower(),
            key=bound(key, [v for v in value if isinstance(v, bool)]),
            label_visibility="collapsed",
        )
    if kind is ColumnType.NUMBER and op not in LIST_OPS and _fits(info, op, value):
        if node["col"] in columns.integers and float(value).is_integer():
            return int(st.number_input("Value", step=1, key=bound(key, int(value)), label_visibility="collapsed"))
        return st.number_input(
            "Value", step=0.05, format="%.4g", key=bound(key, float(value)), label_visibility="collapsed"
        )
    if kind is ColumnType.CATEGORY and op not in TEXT_OPS:
        seen = list(info.values)
        if op in LIST_OPS:
            extra = [v for v in value if v not in seen]  # unseen values stay (the check warns)
            return st.multiselect(
                "Values",
                seen + extra,
                key=bound(key, list(value)),
                label_visibility="collapsed",
                placeholder="Choose values",
            )
        options = seen + ([value] if value not in seen else [])
        return st.selectbox("Value", options, key=bound(key, value), label_visibility="collapsed")
    if op in LIST_OPS:
        text = st.text_input(
            "Values",
            key=bound(key, ", ".join(str(v) for v in value)),
            label_visibility="collapsed",
            placeholder="comma-separated values",
            help="Values separated by commas; for a value containing a comma, use the text form",
        )
        items = [part.strip() for part in text.split(",") if part.strip()]
        return [_number(v) for v in items] if kind is ColumnType.NUMBER else items
    placeholder = "regular expression (case-insensitive)" if op is Op.MATCHES else "text"
    return st.text_input(
        "Value",
        key=bound(key, value if isinstance(value, str) else str(value)),
        label_visibility="collapsed",
        placeholder=placeholder,
    )


def _number(text: str) -> int | float | str:
    """A typed number, or the text itself (the condition check then says it is not a number)."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _show_problems(node: Node, schema: Schema) -> None:
    if _blank(node["value"]) and Op.parse(node["op"]) not in NULL_OPS:
        st.caption("⋯ enter a value to finish this condition")
        return
    try:
        found = check(condition_of(node), schema)
    except RuleError as exc:
        error(exc)
        return
    for p in found:
        (st.error if p.severity == "error" else st.warning)(esc(p.what), icon="⚠️")


def incomplete(node: Node) -> bool:
    """True while a condition still waits for its column or value (not an error, just unfinished)."""
    if node["kind"] == "cond":
        return node["col"] is None or (_blank(node["value"]) and Op.parse(node["op"]) not in NULL_OPS)
    return any(incomplete(c) for c in node["children"])
