"""Slices: a named rule plus the hypothesis it tests; sets of them, saved as JSON.

A slice is where we *expect* the candidate might differ ("negation flips sentiment"), so the note
travels with the rule into the UI and reports. Slice sets are plain JSON (never pickle) with a
version field; loading goes through the validating constructors, so a hand-edited file either
loads whole or fails with a message that says which slice and what.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalcore.analyze.rules import (
    Rule,
    Schema,
    check,
    conditions,
    format_rule,
    mask,
    parse_rule,
    rule_from_json,
    rule_to_json,
)
from evalcore.core.errors import RuleError

SLICES_VERSION = 1
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")


def check_name(name: Any) -> str:
    """A slice name: letters, digits, _ and -, starting with a letter or _, at most 64 chars."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RuleError(
            f"slice name {name!r} is not allowed; use 1-64 letters, digits, _ or -, "
            "starting with a letter or _ (e.g. short_tweets)"
        )
    return name


WATCHED, GUARDRAIL, MODEL_DEFINED = "watched", "guardrail", "model-defined"
ROLES = (WATCHED, GUARDRAIL)  # what a user may mark; model-defined is found from the rule


@dataclass(frozen=True)
class Slice:
    """`rule` may be given as text; it is parsed (and so checked) on construction.

    `role`: "watched" (the default: blocks the verdict only on evidence of harm) or "guardrail" (the user
    marked it: it must be verified, a loss of its margin ruled out; `evalcore.decide.verdict`)."""

    name: str
    rule: Rule
    note: str = ""  # the hypothesis this slice tests, shown beside its metrics
    role: str = WATCHED

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.role not in ROLES:
            raise RuleError(f"slice '{self.name}': role {self.role!r} is not allowed; use {' or '.join(ROLES)}")
        if isinstance(self.rule, str):
            try:
                object.__setattr__(self, "rule", parse_rule(self.rule))
            except RuleError as exc:
                raise RuleError(f"slice '{self.name}': {exc}", position=exc.position) from exc
        if not isinstance(self.note, str):
            raise RuleError(f"slice '{self.name}': note must be a string, got {type(self.note).__name__}")

    @property
    def text(self) -> str:
        """The rule's canonical text (also a good cache key for the slice's mask)."""
        return format_rule(self.rule)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "rule": rule_to_json(self.rule), "note": self.note}
        return out | ({"role": self.role} if self.role != WATCHED else {})

    @classmethod
    def from_json(cls, raw: Any, where: str = "slice") -> "Slice":
        """From `{"name", "rule", "note"?, "role"?}`; `rule` is the JSON tree or the rule's text."""
        if not isinstance(raw, dict):
            raise RuleError(f"{where}: must be a JSON object with name, rule and note, got {type(raw).__name__}")
        extra = set(raw) - {"name", "rule", "note", "role"}
        missing = {"name", "rule"} - set(raw)
        if extra or missing:
            what = (
                f"unexpected key {', '.join(sorted(extra))}" if extra else f"missing key {', '.join(sorted(missing))}"
            )
            raise RuleError(f"{where}: {what}; allowed: name, rule, note, role")
        name = check_name(raw["name"])
        rule_raw = raw["rule"]
        try:
            rule = parse_rule(rule_raw) if isinstance(rule_raw, str) else rule_from_json(rule_raw, "rule")
        except RuleError as exc:
            raise RuleError(f"{where} '{name}': {exc}", position=exc.position) from exc
        role = raw.get("role", WATCHED)
        if role not in ROLES:
            raise RuleError(f"{where} '{name}': role {role!r} is not allowed; use {' or '.join(ROLES)}")
        return cls(name, rule, raw.get("note", ""), role)


@dataclass(frozen=True)
class SliceSet:
    """An ordered set of slices with unique names. Immutable: edits return a new set, which keeps
    cached results (keyed by the set) honest."""

    slices: tuple[Slice, ...] = ()

    def __post_init__(self) -> None:
        items = tuple(self.slices)
        object.__setattr__(self, "slices", items)
        seen: set[str] = set()
        for s in items:
            if not isinstance(s, Slice):
                raise RuleError(f"a slice set holds slices, got {type(s).__name__}")
            if s.name in seen:
                raise RuleError(f"slice name '{s.name}' is used twice; names must be unique")
            seen.add(s.name)

    def __iter__(self) -> Iterator[Slice]:
        return iter(self.slices)

    def __len__(self) -> int:
        return len(self.slices)

    def __contains__(self, name: object) -> bool:
        return any(s.name == name for s in self.slices)

    def __getitem__(self, name: str) -> Slice:
        for s in self.slices:
            if s.name == name:
                return s
        raise RuleError(f"no slice named {name!r}; slices: {', '.join(self.names()) or 'none'}")

    def names(self) -> list[str]:
        return [s.name for s in self.slices]

    def add(self, item: Slice) -> "SliceSet":
        """A new set with `item` appended (its name must be new)."""
        return SliceSet(self.slices + (item,))

    def remove(self, name: str) -> "SliceSet":
        self[name]  # noqa: B018 - raises a clear error for an unknown name
        return SliceSet(tuple(s for s in self.slices if s.name != name))

    def replace(self, item: Slice) -> "SliceSet":
        """A new set where the slice named like `item` is swapped for it, in place."""
        self[item.name]  # noqa: B018
        return SliceSet(tuple(item if s.name == item.name else s for s in self.slices))

    def rename(self, old: str, new: str) -> "SliceSet":
        self[old]  # noqa: B018
        if new != old and new in self:
            raise RuleError(f"cannot rename slice '{old}' to '{new}': a slice with that name exists")
        return SliceSet(tuple(replace(s, name=new) if s.name == old else s for s in self.slices))

    def to_json(self) -> list[dict[str, Any]]:
        """The list stored in files and in the workspace."""
        return [s.to_json() for s in self.slices]

    @classmethod
    def from_json(cls, raw: Any) -> "SliceSet":
        if not isinstance(raw, list):
            raise RuleError(f"slices must be a JSON list of slices, got {type(raw).__name__}")
        return cls(tuple(Slice.from_json(item, f"slice #{i + 1}") for i, item in enumerate(raw)))


def model_output_reads(item: Slice, table: pd.DataFrame) -> list[str]:
    """The model-output columns a slice's rule reads (predictions, confidences or scores, correctness, the
    regressed / improved flags, either model's answers and answer-derived features such as
    `candidate_verbose`); empty for a slice on the data alone."""
    from evalcore.analyze.tables import model_output_columns

    try:
        outputs = set(model_output_columns(table))
    except Exception:  # a table without model names (features only): no model output to read
        outputs = set()
    return list(dict.fromkeys(c.col for c in conditions(item.rule) if c.col in outputs))


def slice_roles(slices: SliceSet | Iterable[Slice], table: pd.DataFrame) -> dict[str, str]:
    """Each slice's role in the verdict: its own (watched / guardrail), or "model-defined" when its rule reads
    a model's output (chosen by the model's own output, so biased by construction: shown, never gates).
    A guardrail on a model's output is refused with a message naming the fix."""
    out = {}
    for item in _as_set(slices):
        reads = model_output_reads(item, table)
        if reads and item.role == GUARDRAIL:
            raise RuleError(
                f"slice '{item.name}' reads model output ({', '.join(reads)}) and cannot be a guardrail: "
                "a slice chosen by a model's own output is biased by construction; unmark it (role "
                "watched) or rewrite the rule on data columns"
            )
        out[item.name] = MODEL_DEFINED if reads else item.role
    return out


def mark_guardrails(slices: SliceSet, names: Iterable[str]) -> SliceSet:
    """The set with the named slices marked as guardrails (the CLI's `--guardrail NAME`)."""
    out = slices
    for name in names:
        out = out.replace(replace(out[name], role=GUARDRAIL))
    return out


def _as_set(slices: SliceSet | Iterable[Slice]) -> SliceSet:
    return slices if isinstance(slices, SliceSet) else SliceSet(tuple(slices))


def save_slices(path: str | Path, slices: SliceSet | Iterable[Slice]) -> Path:
    """Write `{"version": 1, "slices": [...]}` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": SLICES_VERSION, "slices": _as_set(slices).to_json()}
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_slices(path: str | Path) -> SliceSet:
    """Read a file written by `save_slices` (or by hand); RuleError naming the file otherwise."""
    from evalcore.io import limits

    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        raise RuleError(f"slices file {path} does not exist")
    text = limits.read_text(path, "slices file", RuleError)  # a regular file, its size bounded
    try:
        limits.check_json_text(text, f"slices file {path}", RuleError)  # nesting depth: no RecursionError
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleError(
            f"slices file {path} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (RecursionError, ValueError) as exc:
        raise RuleError(f"slices file {path} cannot be read: {str(exc)[:200]}") from exc
    if not isinstance(doc, dict) or "slices" not in doc:
        raise RuleError(f'slices file {path} must hold an object {{"version": {SLICES_VERSION}, "slices": [...]}}')
    if doc.get("version") != SLICES_VERSION:
        raise RuleError(f"slices file {path} has version {doc.get('version')!r}; allowed: {SLICES_VERSION}")
    try:
        return SliceSet.from_json(doc["slices"])
    except RuleError as exc:
        raise RuleError(f"slices file {path}: {exc}", position=exc.position) from exc


def validate_slices(slices: SliceSet | Iterable[Slice], schema: Schema) -> list[str]:
    """One RuleError listing every problem of every slice; returns the warnings."""
    found = [(s.name, p) for s in _as_set(slices) for p in check(s.rule, schema)]
    errors = [f"slice '{name}' {p}" for name, p in found if p.severity == "error"]
    if len(errors) == 1:
        raise RuleError(errors[0])
    if errors:
        raise RuleError(f"{len(errors)} problems in the slices:\n" + "\n".join(f"- {e}" for e in errors))
    return [f"slice '{name}' {p}" for name, p in found if p.severity == "warning"]


def masks(slices: SliceSet | Iterable[Slice], df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Validate every slice against `df`, then each slice's boolean mask, by name, in order."""
    items = _as_set(slices)
    validate_slices(items, Schema.from_frame(df))
    return {s.name: mask(s.rule, df) for s in items}


_STARTER = [
    (
        "has_negation",
        "has_negation == true",
        "Negation (not, never, n't) flips sentiment; a weaker model reads the words, not the flip.",
    ),
    (
        "has_all_caps",
        "has_all_caps == true",
        "ALL-CAPS words signal intensity or shouting that a model trained on cased text may misread.",
    ),
    (
        "has_question",
        "has_question == true",
        "Questions are often neutral or rhetorical, which pushes models off their usual cues.",
    ),
    (
        "has_strong_sentiment",
        "has_strong_sentiment == true",
        "Strongly worded tweets should be easy; a model failing here has a basic problem.",
    ),
    (
        "short_tweets",
        'length_bucket == "short"',
        "Short tweets carry little context, so the label hangs on one or two words.",
    ),
    (
        "long_tweets",
        'length_bucket == "long"',
        "Long tweets mix sentiments and may be cut by the model's maximum length.",
    ),
    (
        "has_hashtag",
        "has_hashtag == true",
        "Hashtags (#fail, #blessed) carry sentiment in tokens that tokenizers split oddly.",
    ),
    (
        "has_mention",
        "has_mention == true",
        "@mentions are noise or address a target; models may key on them instead of the content.",
    ),
    (
        "has_url",
        "has_url == true",
        "Tweets with links often share news and read neutral; the sentiment is in the link.",
    ),
    (
        "emoji_dense",
        "emoji_dense == true",
        "Emoji-heavy tweets put the sentiment in emoji a text model may never have seen.",
    ),
]

# For any labelled text task: text properties only, with hypotheses that name no label.
_GENERIC = [
    (
        "short_texts",
        'length_bucket == "short"',
        "Short texts carry little context, so the label hangs on one or two words.",
    ),
    (
        "long_texts",
        'length_bucket == "long"',
        "Long texts mix several signals and may be cut by the model's maximum length.",
    ),
    (
        "has_question",
        "has_question == true",
        "Questions phrase content differently from statements; a model fitted on statements may misread them.",
    ),
    (
        "has_negation",
        "has_negation == true",
        "Negation reverses what a sentence asserts; a model reading words rather than structure misses it.",
    ),
    (
        "has_all_caps",
        "has_all_caps == true",
        "ALL-CAPS words (shouting) mark emphasis that uncased or lower-casing models lose.",
    ),
    (
        "has_elongation",
        "has_elongation == true",
        "Elongated words (soooo, nooo) are out of vocabulary for many tokenizers yet carry emphasis.",
    ),
    (
        "has_exclamation",
        "has_exclamation == true",
        "Exclamation marks signal emphasis or emotion the words alone may not carry.",
    ),
    (
        "has_number",
        "has_number == true",
        "Numbers (dates, counts, scores) must be read exactly, and tokenizers cut them unpredictably.",
    ),
    ("has_hashtag", "has_hashtag == true", "Hashtags pack meaning into joined words that tokenizers split oddly."),
    (
        "has_mention",
        "has_mention == true",
        "@mentions address someone out of view; a model may key on them instead of the content.",
    ),
    (
        "has_url",
        "has_url == true",
        "Texts with links leave part of their meaning in the link, out of the model's view.",
    ),
    ("has_emoji", "emoji_count >= 1", "Emoji carry meaning that text-only pre-training may not have seen."),
]


def _slice_set(rows: list[tuple[str, str, str]]) -> SliceSet:
    return SliceSet(tuple(Slice(name, text, note) for name, text, note in rows))


def starter_slices() -> SliceSet:
    """The lab's slice set for sentiment tasks, each with the hypothesis it tests (columns from
    evalcore.analyze.features)."""
    return _slice_set(_STARTER)


def generic_slices() -> SliceSet:
    """Slices for any text classification task: length, questions, negation, shouting, elongation,
    exclamations, numbers, hashtags, mentions, links, emoji; hypotheses name no label."""
    return _slice_set(_GENERIC)


def task_slices(labels: Iterable[str] | None) -> SliceSet:
    """The starter set that fits the task: the sentiment set only when the labels are sentiment
    labels (negative / positive, optionally neutral), else the generic set."""
    from evalcore.io.labels import is_sentiment

    return starter_slices() if labels is not None and is_sentiment(tuple(labels)) else generic_slices()


def default_slices(
    table: pd.DataFrame,
    labels: Iterable[str],
    candidates: SliceSet | None = None,
    *,
    sizes: dict[str, int] | None = None,
) -> tuple[SliceSet, list[str]]:
    """The task's starter set without the slices no row of `table` matches (a slice of SST-2's movie
    reviews on hashtags says nothing), and a note naming what was left out and why. `candidates`: the
    starter set to filter (default: `task_slices(labels)`; generation passes its own). A slice on a
    column `table` lacks (a per-model column such as `candidate_verbose`, which exists only once both
    models answered) is kept: its size is known in df_eval only. `sizes`: each candidate's rows, counted
    elsewhere (over shards, `evalcore.tasks.ray_report`), instead of masks over `table`."""
    candidates = task_slices(labels) if candidates is None else candidates
    if sizes is None:
        known = SliceSet(tuple(s for s in candidates if all(c.col in table.columns for c in conditions(s.rule))))
        sizes = {name: int(m.sum()) for name, m in masks(known, table).items()}
    empty = [name for name, n in sizes.items() if n == 0]
    kept = SliceSet(tuple(s for s in candidates if sizes.get(s.name, 1) > 0))
    notes = [f"default slices left out because no row of this data matches them: {', '.join(empty)}"] if empty else []
    return kept, notes


__all__ = [
    "GUARDRAIL",
    "MODEL_DEFINED",
    "ROLES",
    "SLICES_VERSION",
    "WATCHED",
    "Slice",
    "SliceSet",
    "check_name",
    "default_slices",
    "generic_slices",
    "load_slices",
    "mark_guardrails",
    "masks",
    "model_output_reads",
    "slice_roles",
    "save_slices",
    "starter_slices",
    "task_slices",
    "validate_slices",
]
