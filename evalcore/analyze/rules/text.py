"""The text form of a rule: one hand-written parser and one canonical printer.

    has_negation == true and (emoji_count >= 2 or text contains "lol")

Grammar (keywords are case-insensitive; `not` binds tighter than `and`, `and` tighter than `or`):

    rule      := or_expr END
    or_expr   := and_expr ("or" and_expr)*
    and_expr  := unary ("and" unary)*
    unary     := "not" unary | "(" or_expr ")" | condition
    condition := column ( ("==" | "!=" | "<" | "<=" | ">" | ">=") value
                        | ["not"] "in" list | ["not"] "contains" string | "matches" string
                        | "is" ["not"] "null" )
    column    := identifier (letters, digits, _) | `back quoted` (\\` and \\\\ escaped)
    value     := true | false | number | "string" (\\" and \\\\ escaped; any other backslash is kept)
    list      := "[" value ("," value)* "]"

No eval/exec/query: text only ever becomes the typed tree of `evalcore.analyze.rules.tree`. The printer
writes the one canonical spelling (minimal parentheses), so `format_rule` doubles as a cache key,
and `parse_rule(format_rule(r)) == r` for every rule (property-tested).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalcore.analyze.rules.tree import Condition, Group, Not, Op, Rule, Scalar, Value, all_of, any_of, describe
from evalcore.core.errors import RuleError

KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "matches", "is", "null", "true", "false"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMPARE = ("==", "!=", "<=", ">=", "<", ">")  # two-character ones first
_PUNCT = "()[],"


@dataclass(frozen=True)
class Token:
    kind: str  # word, column, string, number, compare, one of _PUNCT, end
    text: str  # as written (for messages)
    value: object
    pos: int

    def shown(self) -> str:
        return "end of text" if self.kind == "end" else f"'{self.text}'"

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value in words


def _fail(pos: int, message: str) -> RuleError:
    return RuleError(f"at {pos}: {message}", position=pos)


def _quoted(text: str, start: int, quote: str, strict: bool) -> tuple[str, int]:
    """Read a quoted run starting at `start` (the opening quote); return (content, end)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in (quote, "\\"):
                out.append(nxt)
            elif strict:
                raise _fail(i, f"unknown escape '\\{nxt}' in a back-quoted column name; allowed: \\` and \\\\")
            else:
                out.append(ch + nxt)  # keep regex escapes like \d as written
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    what = "column name" if quote == "`" else "string"
    raise _fail(start, f"the {what} starting here is never closed (missing {quote})")


def tokenize(text: str) -> list[Token]:
    """Split rule text into tokens, each with its character offset."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _PUNCT:
            tokens.append(Token(ch, ch, ch, i))
            i += 1
            continue
        if ch in '"`':
            content, end = _quoted(text, i, ch, strict=ch == "`")
            tokens.append(Token("string" if ch == '"' else "column", text[i:end], content, i))
            i = end
            continue
        op = next((c for c in _COMPARE if text.startswith(c, i)), None)
        if op:
            tokens.append(Token("compare", op, op, i))
            i += len(op)
            continue
        match = _NUMBER.match(text, i)
        if match:
            raw = match.group()
            number = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(Token("number", raw, number, i))
            i = match.end()
            continue
        match = _IDENT.match(text, i)
        if match:
            word = match.group()
            lowered = word.lower()
            kind = "word" if lowered in KEYWORDS else "column"
            tokens.append(Token(kind, word, lowered if kind == "word" else word, i))
            i = match.end()
            continue
        hint = (
            " (did you mean '=='?)"
            if ch == "="
            else " (did you mean '!='?)"
            if ch == "!"
            else " (back-quote column names with other characters, like `café`)"
            if ch.isalpha()
            else " (strings take double quotes)"
            if ch == "'"
            else ""
        )
        raise _fail(i, f"unexpected character '{ch}'{hint}")
    tokens.append(Token("end", "", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.positions: list[int] = []  # offset of each condition, in tree (left to right) order

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, what: str, after: Token | None = None, hint: str = "") -> RuleError:
        where = f" after {after.shown()}" if after else ""
        return _fail(self.tok.pos, f"expected {what}{where} but found {self.tok.shown()}{hint}")

    def rule(self) -> Rule:
        if self.tok.kind == "end":
            raise self.expect("a rule")
        rule = self.or_expr()
        if self.tok.kind != "end":
            raise self.expect("'and', 'or' or end of text")
        return rule

    def or_expr(self) -> Rule:
        parts = [self.and_expr()]
        while self.tok.is_word("or"):
            self.take()
            parts.append(self.and_expr())
        return any_of(*parts)

    def and_expr(self) -> Rule:
        parts = [self.unary()]
        while self.tok.is_word("and"):
            self.take()
            parts.append(self.unary())
        return all_of(*parts)

    def unary(self) -> Rule:
        if self.tok.is_word("not"):
            self.take()
            return Not(self.unary())
        if self.tok.kind == "(":
            opening = self.take()
            inner = self.or_expr()
            if self.tok.kind != ")":
                raise self.expect(f"')' to close the '(' at {opening.pos}")
            self.take()
            return inner
        return self.condition()

    def condition(self) -> Condition:
        if self.tok.kind != "column":
            hint = " (back-quote a column named like a keyword: `in`)" if self.tok.kind == "word" else ""
            raise self.expect("a column name or '('", hint=hint)
        col = self.take()
        self.positions.append(col.pos)
        op_tok = self.tok
        op = self.operator(col)
        if op in (Op.IS_NULL, Op.IS_NOT_NULL):
            return Condition(col.value, op)
        value_tok = self.tok
        value = self.value(op_tok, allow_list=True)
        try:
            return Condition(col.value, op, value)
        except RuleError as exc:
            raise _fail(value_tok.pos, str(exc)) from exc

    def operator(self, col: Token) -> Op:
        tok = self.tok
        if tok.kind == "compare":
            self.take()
            return Op(tok.value)
        if tok.is_word("in", "contains", "matches"):
            self.take()
            return Op(tok.value)
        if tok.is_word("not"):
            self.take()
            if self.tok.is_word("in", "contains"):
                return Op("not " + self.take().value)
            raise self.expect("'in' or 'contains'", after=tok)
        if tok.is_word("is"):
            self.take()
            negated = self.tok.is_word("not")
            if negated:
                self.take()
            if not self.tok.is_word("null"):
                raise self.expect("'null'", after=self.tokens[self.i - 1])
            self.take()
            return Op.IS_NOT_NULL if negated else Op.IS_NULL
        raise self.expect(
            "an operator (==, !=, <, <=, >, >=, in, not in, contains, not contains, matches, is null, is not null)",
            after=col,
        )

    def value(self, after: Token, allow_list: bool) -> Value:
        tok = self.tok
        if tok.kind in ("string", "number"):
            self.take()
            return tok.value  # type: ignore[return-value]
        if tok.is_word("true", "false"):
            self.take()
            return tok.value == "true"
        if tok.is_word("null"):
            raise _fail(tok.pos, "null is not a value to compare with; use 'is null' or 'is not null'")
        if tok.kind == "[" and allow_list:
            self.take()
            items: list[Scalar] = [self.value(tok, allow_list=False)]  # type: ignore[list-item]
            while self.tok.kind == ",":
                comma = self.take()
                items.append(self.value(comma, allow_list=False))  # type: ignore[arg-type]
            if self.tok.kind != "]":
                raise self.expect(f"',' or ']' to close the list at {tok.pos}")
            self.take()
            return tuple(items)
        hint = ""
        if tok.kind == "column":  # a bare word: an unquoted string, or another column
            hint = f' (quote strings: "{tok.text}"; a rule compares a column with values, not with another column)'
        raise self.expect("a value" if allow_list else "a value in the list", after=after, hint=hint)


MAX_RULE_CHARS = 20_000  # far above any hand-written rule; bounds parsing work on pasted text


def parse_rule(text: str) -> Rule:
    """The rule written in `text`; a RuleError with `.position` (character offset) otherwise."""
    return parse_with_positions(text)[0]


def parse_with_positions(text: str) -> tuple[Rule, list[int]]:
    """The rule and the character offset of each of its conditions, left to right (the order of
    `conditions(rule)`), so schema problems can point into the text."""
    if not isinstance(text, str):
        raise RuleError(f"rule text must be a string, got {type(text).__name__}")
    if len(text) > MAX_RULE_CHARS:
        raise RuleError(f"rule text is {len(text):,} characters long; at most {MAX_RULE_CHARS:,} are allowed")
    parser = _Parser(text)
    try:
        return parser.rule(), parser.positions
    except RecursionError as exc:
        raise RuleError("rule nests too deeply: use fewer levels of parentheses or `not`") from exc


# ---- the canonical printer


def format_column(name: str) -> str:
    """A column as written in rule text: bare when it is a plain identifier, else back-quoted."""
    if _IDENT.fullmatch(name) and name.lower() not in KEYWORDS:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def format_value(value: Value) -> str:
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return describe(value)


def format_condition(cond: Condition) -> str:
    head = f"{format_column(cond.col)} {cond.op.value}"
    return head if cond.value is None else f"{head} {format_value(cond.value)}"


def format_rule(rule: Rule) -> str:
    """The one canonical text of `rule` (lower-case keywords, single spaces, minimal parentheses)."""
    if isinstance(rule, Condition):
        return format_condition(rule)
    if isinstance(rule, Not):
        inner = format_rule(rule.child)
        return f"not ({inner})" if isinstance(rule.child, Group) else f"not {inner}"
    parts = []
    for child in rule.children:
        text = format_rule(child)
        # an `or` inside an `and` needs parentheses; an `and` inside an `or` binds tighter already
        parts.append(f"({text})" if isinstance(child, Group) and rule.join == "and" else text)
    return f" {rule.join} ".join(parts)
