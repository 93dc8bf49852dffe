"""The user's work, saved to disk: named workspaces that several browser sessions can share safely.

Everything a page builds (data choice, models, slices, custom features, stress cases and settings,
Compare settings, gates, report notes, the W&B form, the chosen LLM endpoint) lives in a `Workspace`
and is written as JSON (never pickle) on every change.

- **Named workspaces**: `default` is `<EVALCORE_HOME>/work/workspace.json` (one local user needs
  nothing else); others are `<EVALCORE_HOME>/work/workspaces/<name>.json`.
- **Every field validated on load** through one typed schema (`FIELDS`): a bad value falls back to its
  default with a notice naming the field; notices are kept in the file, so every session that loads
  it is told, not only the first. An unreadable file is moved aside, with a notice.
- **No lost work**: a save is a three-way merge of the session's base copy (what it last read),
  its current copy and the file as it is now, under a file lock. Changes to different fields, to
  different slices, features or stress cases merge; a value two sessions changed differently keeps
  this session's value and records the other one in the file's conflict list (keep both), and the
  user is told. Writes are atomic (temp file + fsync + rename) and bump a revision counter.
- **Both sides of a conflict told**: each conflict records its path, the revision that made it and the
  value that lost, so the session that wrote the losing value recognises it (`ui.state`), is told
  with its value, and can put it back (`restore`).
- **Bounded**: text fields, lists and nesting are capped (`LIMITS`, `MAX_DEPTH`) on every save and
  load, and so is the conflict store (`MAX_CONFLICTS`, `MAX_CONFLICT_BYTES`); sessions poll the
  file's `stamp` (an `os.stat`), never parse it, to notice another session's save.
- **Drafts and last runs** (a half-built slice, pasted cases, the settings of the last scoring or
  discovery) live in a side file per workspace (`save_draft`): written often, never merged, and never
  a reason for other sessions to rerun.

    >>> merged, conflicts = merge3({"a": 1, "b": [1]}, {"a": 2, "b": [1]}, {"a": 1, "b": [1, 3]})
    >>> merged, conflicts
    ({'a': 2, 'b': [1, 3]}, [])
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import math
import os
import re
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from evalcore.core.errors import ConfigError, EvalcoreError
from evalcore.core.paths import work_dir

WORKSPACE_VERSION = 2
DEFAULT_NAME = "default"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
META = ("_revision", "_updated", "_notices", "_conflicts")
MAX_NOTICES = 20
MAX_CONFLICTS = 50  # the conflict store keeps the newest 50 ...
MAX_CONFLICT_BYTES = 400_000  # ... and at most this much of their values (JSON), oldest dropped first
MAX_DEPTH = 48  # nesting of any saved value: a deeper file is refused field by field, never recursed into
# Caps on what one visitor can put into a shared workspace (characters, items). Every save and every load
# applies them: an over-long value is cut (with a message naming the field and the limit).
LIMITS = {"notes": 20_000, "text": 5_000, "slices": 500, "custom_features": 200, "cases": 2_000}
MAX_DRAFT_BYTES = 200_000  # one draft (a half-built slice, pasted cases) in the drafts file
_LOCKS: dict[str, threading.Lock] = {}  # one per file: a draft or another workspace never waits for this one
_LOCKS_GUARD = threading.Lock()


@dataclass
class Workspace:
    """Everything a user set up. Slices, features and stress sets are kept in their JSON form
    (validated by their own modules), so this file never goes stale when those grow."""

    data: dict[str, Any] = field(default_factory=lambda: {"source": "lab"})
    baseline: str = "roberta"
    candidate: str = "gpt2"
    slices: list[dict[str, Any]] | None = None  # None: not set up yet -> the starter set
    # The slice set of the other task kind ("classification" / "generation"), kept while the data is of this
    # kind: switching to SQuAD and back brings the user's classification slices back.
    slices_aside: dict[str, Any] = field(default_factory=dict)
    custom_features: list[dict[str, Any]] = field(default_factory=list)
    stress: dict[str, Any] = field(default_factory=dict)
    conf_threshold: float = 0.8
    alpha: float = 0.05  # false discovery rate of the slice comparisons (Benjamini-Hochberg)
    min_n: int = 30  # slices smaller than this are marked small
    gates: dict[str, Any] = field(default_factory=dict)
    wandb: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)  # {"endpoint": <a name the server configured>}
    notes: str = ""  # the report's notes (Report & W&B page)
    version: int = WORKSPACE_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain JSON data (through the C JSON codec: several times faster than `asdict`, and
        every save makes a few of these)."""
        try:
            return json.loads(json.dumps({f: getattr(self, f) for f in self.__dataclass_fields__}, allow_nan=True))
        except (TypeError, ValueError):
            return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> Workspace:
        """Strict: any invalid field is an error (the CLI reading a file the user named)."""
        ws, problems = validate(raw)
        if problems:
            raise ConfigError("workspace file has invalid fields: " + "; ".join(problems))
        return ws


# --- the schema ----------------------------------------------------------------------------------

Check = Callable[[Any], Any]


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"must be text, got {type(value).__name__}")
    return value


def _spec(value: Any) -> str:
    """A model spec, or "" (no model chosen yet: the data has none that applies)."""
    from evalcore.predict.models import ModelSpec

    if _str(value):
        ModelSpec.parse(value)
    return value


def _number(lo: float, hi: float, *, integer: bool = False, open_lo: bool = False) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"must be a number, got {value!r}")
        if integer and int(value) != value:
            raise ConfigError(f"must be a whole number, got {value!r}")
        if value < lo or value > hi or (open_lo and value == lo):
            raise ConfigError(f"must lie in {'(' if open_lo else '['}{lo:g}, {hi:g}], got {value!r}")
        return int(value) if integer else float(value)

    return check


DATA_TEXT_OPTIONS = (
    "split",
    "config",
    "text_col",
    "label_col",
    "id_col",
    "label_map",
    "context_col",
    "rouge_tokenizer",
    "cluster_col",
)


def data_options() -> frozenset[str]:
    """The keys a saved data choice may hold: `source`, `task` and every option the loaders take (read from
    `DataSource` and the generation loader, so a new loader option needs no change here)."""
    from dataclasses import fields

    from evalcore.io.data import DataSource
    from evalcore.io.gendata import LOAD_OPTIONS

    return frozenset(
        {"source", "task", "cluster_col", *LOAD_OPTIONS, *DATA_TEXT_OPTIONS}
        | {f.name for f in fields(DataSource)} - {"kind", "path"}
    )


def _data(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) or not value["source"].strip():
        raise ConfigError("must be an object with a non-empty text 'source'")
    unknown = sorted(str(k) for k in value if k not in data_options())
    if unknown:  # a loader would raise on it on every page: name it here, once
        raise ConfigError(
            f"has unknown option(s) {', '.join(repr(k)[:40] for k in unknown[:5])}; allowed: "
            f"{', '.join(sorted(data_options()))}"
        )
    for key in DATA_TEXT_OPTIONS:
        if value.get(key) is not None and not isinstance(value[key], str):
            raise ConfigError(f"option {key!r} must be text, got {value[key]!r}")
    if value.get("n_rows") is not None:
        _number(1, 10**9, integer=True)(value["n_rows"])
    labels = value.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise ConfigError("option 'labels' must be a list of label names")
    return value


def _slices(value: Any) -> Any:
    from evalcore.analyze.slices import SliceSet

    if value is not None:
        SliceSet.from_json(value)
    return value


def _slices_aside(value: Any) -> dict:
    from evalcore.io.gendata import TASKS

    if not isinstance(value, dict):
        raise ConfigError(f"must be an object of slice sets by task kind, got {type(value).__name__}")
    for task, slices in value.items():
        if task not in TASKS:
            raise ConfigError(f"task kind {task!r} is unknown; allowed: {', '.join(TASKS)}")
        _slices(slices)
    return value


def _features(value: Any) -> list:
    from evalcore.analyze.features import CustomFeature

    if not isinstance(value, list):
        raise ConfigError("must be a list of custom features")
    for raw in value:
        CustomFeature.from_dict(raw)
    return value


def _gates(value: Any) -> dict:
    from evalcore.decide.gates import GateConfig

    GateConfig.from_dict(value or None)
    return value


def _text_dict(*keys: str) -> Check:
    def check(value: Any) -> dict:
        if not isinstance(value, dict):
            raise ConfigError(f"must be an object, got {type(value).__name__}")
        bad = [k for k in keys if k in value and not isinstance(value[k], str)]
        if bad:
            raise ConfigError(f"{', '.join(bad)} must be text")
        return value

    return check


def _stress(value: Any) -> dict:
    """The stress page's saved state: the stress set and its settings, each checked (a bad setting
    is dropped on its own, so the cases survive it)."""
    from evalcore.probe.stress import StressSet

    if not isinstance(value, dict):
        raise ConfigError(f"must be an object, got {type(value).__name__}")
    StressSet.from_dict({k: value[k] for k in ("version", "hypothesis", "target_slice", "cases") if k in value})
    return value


STRESS_SETTINGS: dict[str, Check] = {
    "conf_threshold": _number(0, 1),
    "llm_n": _number(1, 200, integer=True),
    "models": _text_dict("baseline", "candidate"),
}
PERTURB_SETTINGS: dict[str, Check] = {
    "clear_conf": _number(0, 1),
    "high_conf": _number(0, 1),
    "max_cases": _number(1, 1000, integer=True),
    "source": _str,
    "generators": lambda v: (
        v if isinstance(v, list) and all(isinstance(x, str) for x in v) else _raise("a list of names")
    ),
}


def _raise(what: str) -> Any:
    raise ConfigError(f"must be {what}")


FIELDS: dict[str, Check] = {
    "data": _data,
    "baseline": _spec,
    "candidate": _spec,
    "slices": _slices,
    "slices_aside": _slices_aside,
    "custom_features": _features,
    "stress": _stress,
    "conf_threshold": _number(0, 1),
    "alpha": _number(0, 0.5, open_lo=True),
    "min_n": _number(1, 100_000, integer=True),
    "gates": _gates,
    "wandb": _text_dict("project", "entity", "run_name", "mode"),
    "llm": _text_dict("endpoint"),
    "notes": _str,
    "version": _number(1, WORKSPACE_VERSION, integer=True),
}


def _clean_settings(name: str, value: dict, checks: dict[str, Check], problems: list[str]) -> None:
    for key, check in checks.items():
        if key in value:
            try:
                value[key] = check(value[key])
            except (EvalcoreError, TypeError, ValueError) as exc:
                problems.append(f"{name}.{key}={value[key]!r:.60} {exc}; the default applies")
                del value[key]


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply `value` nests (a scalar: 0), counted without recursion and stopping past `limit`, so a
    hostile file can never overflow the stack of the code that reads it."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def not_a_workspace(raw: Any) -> str | None:
    """Why `raw` is not a saved workspace (None when it may be one): a JSON value that is not an object,
    or an object with none of a workspace's keys (a slice file, a predictions file, a config)."""
    if not isinstance(raw, dict):
        return f"it holds a JSON {type(raw).__name__}, not a workspace object"
    if "slices" in raw and set(raw) <= {"version", "slices"}:
        return "it is a slice file (version and slices only): give it with --slices, or import it on the Slices page"
    if raw and not any(k in FIELDS or k in META for k in raw):
        keys = ", ".join(repr(k)[:30] for k in list(raw)[:5])
        return (
            f"it is a JSON object with none of a workspace's keys (it has {keys}); a workspace has "
            f"{', '.join(list(FIELDS)[:6])}, ..."
        )
    return None


def _cut(value: Any, limit: int, where: str, problems: list[str]) -> Any:
    """`value` with every string cut to `limit` characters (iterative walk; containers changed in place)."""
    if isinstance(value, str):
        if len(value) > limit:
            problems.append(f"{where} is {len(value):,} characters long; the first {limit:,} were kept")
            return value[:limit]
        return value
    stack, cut = [value], 0
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for k, v in list(pairs):
            if isinstance(v, str) and len(v) > limit:
                item[k], cut = v[:limit], cut + 1
            elif isinstance(v, (dict, list)):
                stack.append(v)
    if cut:
        problems.append(f"{where}: {cut} text(s) longer than {limit:,} characters were cut to that length")
    return value


def clamp(values: dict[str, Any]) -> list[str]:
    """Apply `LIMITS` to a workspace's fields in place; returns what was cut (empty: nothing)."""
    problems: list[str] = []
    for name in FIELDS:
        if name in values and values[name] is not None:
            values[name] = _cut(values[name], LIMITS["notes"] if name == "notes" else LIMITS["text"], name, problems)
    for name in ("slices", "custom_features"):
        items = values.get(name)
        if isinstance(items, list) and len(items) > LIMITS[name]:
            problems.append(f"{name} holds {len(items):,} items; the first {LIMITS[name]:,} were kept")
            values[name] = items[: LIMITS[name]]
    cases = (values.get("stress") or {}).get("cases") if isinstance(values.get("stress"), dict) else None
    if isinstance(cases, list) and len(cases) > LIMITS["cases"]:
        problems.append(f"stress.cases holds {len(cases):,} cases; the first {LIMITS['cases']:,} were kept")
        values["stress"]["cases"] = cases[: LIMITS["cases"]]
    return problems


def validate(raw: Any, trusted: frozenset[str] | set[str] = frozenset()) -> tuple[Workspace, list[str]]:
    """A workspace from saved JSON: every field checked on its own; a bad one falls back to its
    default and a message names it. Unknown keys are ignored (newer or older files); a JSON value
    that is not a workspace at all gives a fresh workspace and says why. `trusted`: fields taken as they
    are (a save's merge: the fields equal to the validated file's), so a save checks only what changed."""
    why = not_a_workspace(raw)
    if why:
        return Workspace(), [f"the file is not a workspace ({why}); a fresh one was started"]
    defaults = Workspace()
    values: dict[str, Any] = {name: raw[name] for name in trusted if name in raw}
    problems: list[str] = []
    for name, check in FIELDS.items():
        if name not in raw or name in trusted:
            continue
        if depth(raw[name]) > MAX_DEPTH:
            problems.append(
                f"{name} is nested more than {MAX_DEPTH} levels deep; the default "
                f"({getattr(defaults, name)!r:.40}) applies"
            )
            continue
        value = copy.deepcopy(raw[name])
        try:
            values[name] = check(value)
        except (EvalcoreError, TypeError, ValueError, RecursionError) as exc:
            problems.append(f"{name}={raw[name]!r:.60} {exc}; the default ({getattr(defaults, name)!r:.40}) applies")
    checked = {k: v for k, v in values.items() if k not in trusted}
    problems += clamp(checked)
    values.update(checked)
    stress = values.get("stress") if "stress" not in trusted else None
    if isinstance(stress, dict):
        _clean_settings("stress", stress, STRESS_SETTINGS, problems)
        if isinstance(stress.get("perturb"), dict):
            _clean_settings("stress.perturb", stress["perturb"], PERTURB_SETTINGS, problems)
        elif "perturb" in stress:
            problems.append("stress.perturb must be an object; the defaults apply")
            del stress["perturb"]
    values["version"] = WORKSPACE_VERSION
    return Workspace(**values), problems


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ConfigError(
            f"workspace name {name!r:.60} must be 1-40 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


# --- three-way merge -----------------------------------------------------------------------------


def _key(item: Any) -> Any:
    """Identity of a list item for merging: slices and features by name, stress cases by content."""
    if isinstance(item, dict):
        if "name" in item:
            return ("name", item["name"])
        if "text" in item:
            return ("case", item.get("text"), item.get("label"), item.get("source"))
    return ("value", json.dumps(item, sort_keys=True, default=str))


def _keyed(items: list) -> bool:
    keys = [_key(x) for x in items]
    return all(k[0] != "value" for k in keys) and len(set(keys)) == len(keys)


def _copy(value: Any) -> Any:
    """A deep copy of JSON data through the C codec (a merge copies whole fields)."""
    if not isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return copy.deepcopy(value)


def _merge_lists(base: list, ours: list, theirs: list, path: str, steps: tuple) -> tuple[list, list[dict]]:
    """Items keyed by identity: additions and removals of either side apply; an item both sides changed
    differently keeps ours and gets a conflict; order follows ours, then their additions."""
    b = {_key(x): x for x in base}
    o = {_key(x): x for x in ours}
    t = {_key(x): x for x in theirs}
    conflicts: list[dict] = []
    out = []
    for k, item in o.items():
        if k in t:
            # an item both sides added (no base) and made differently conflicts field by field, never silently
            merged, sub = merge3(b.get(k), item, t[k], f"{path}[{k[1]}]", (*steps, list(k)))
            conflicts += sub
            out.append(merged)
        elif k in b and item == b[k]:
            continue  # they removed it and we did not touch it
        else:
            out.append(item)  # ours (added, or changed while they removed it: keep it)
    out += [item for k, item in t.items() if k not in o and k not in b]  # their additions
    return out, conflicts


def merge3(base: Any, ours: Any, theirs: Any, path: str = "", steps: tuple = ()) -> tuple[Any, list[dict]]:
    """Merge two edits of `base`. Returns the merged value and the conflicts, each
    `{"field", "path", "ours", "theirs"}`: a value both sides changed differently (ours is kept); `path`
    is the field's steps for `get_at` / `set_at` (a dict key, or a list item's identity)."""
    if ours == theirs:
        return _copy(ours), []
    if ours == base:
        return _copy(theirs), []
    if theirs == base:
        return _copy(ours), []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        base = base if isinstance(base, dict) else {}
        out, conflicts = {}, []
        for k in dict.fromkeys([*ours, *theirs]):
            missing = object()
            b, o, t = base.get(k, missing), ours.get(k, missing), theirs.get(k, missing)
            if o is missing and (t is missing or t == b):
                continue  # we removed it (and they kept it as it was)
            if t is missing and o == b:
                continue  # they removed it
            if o is missing or t is missing:
                out[k] = _copy(t if o is missing else o)
                continue
            merge = _whole if k in ATOMIC else merge3
            out[k], sub = merge(None if b is missing else b, o, t, f"{path}.{k}" if path else str(k), (*steps, k))
            conflicts += sub
        return out, conflicts
    if isinstance(ours, list) and isinstance(theirs, list) and _keyed(ours) and _keyed(theirs):
        base = base if isinstance(base, list) and _keyed(base) else []
        return _merge_lists(base, ours, theirs, path, steps)
    return _copy(ours), [{"field": path, "path": list(steps), "ours": ours, "theirs": theirs}]


_MISSING = object()
ATOMIC = frozenset({"rule"})  # merged as one value: half of one rule and half of another is neither user's rule


def _whole(base: Any, ours: Any, theirs: Any, path: str, steps: tuple) -> tuple[Any, list[dict]]:
    if ours == theirs or theirs == base:
        return _copy(ours), []
    if ours == base:
        return _copy(theirs), []
    return _copy(ours), [{"field": path, "path": list(steps), "ours": ours, "theirs": theirs}]


def changes(base: Any, ours: Any, steps: tuple = ()) -> dict[str, Any]:
    """The values `ours` changed from `base`, by path (`path_key`), walked the way `merge3` walks: a session
    keeps what it wrote, so a later conflict whose losing value is one of them is recognised as its own."""
    if ours == base:
        return {}
    out: dict[str, Any] = {}
    if isinstance(ours, dict):
        b = base if isinstance(base, dict) else {}
        for k, v in ours.items():
            if k in ATOMIC:
                out.update({path_key((*steps, k)): v} if v != b.get(k, _MISSING) else {})
            else:
                out.update(changes(b.get(k, _MISSING), v, (*steps, k)))
        return out
    if isinstance(ours, list) and _keyed(ours):
        b = {_key(x): x for x in base} if isinstance(base, list) and _keyed(base) else {}
        for item in ours:
            k = _key(item)
            out.update(changes(b.get(k, _MISSING), item, (*steps, list(k))))
        return out
    return {path_key(steps): ours}


def path_key(steps: Any) -> str:
    """A path's steps as one string (a dict key in a session's record of what it wrote)."""
    return json.dumps(list(steps), ensure_ascii=False, default=str)


def _step(container: Any, step: Any) -> tuple[Any, Any]:
    """(the child at `step`, its index or key) or (None, None) when it is not there."""
    if isinstance(container, dict) and isinstance(step, str):
        return (container[step], step) if step in container else (None, None)
    if isinstance(container, list) and isinstance(step, list):
        for i, item in enumerate(container):
            if list(_key(item)) == step:
                return item, i
    return None, None


def get_at(doc: Any, steps: list) -> Any:
    """The value at a conflict's path, or None when the path no longer exists."""
    for step in steps:
        doc, _ = _step(doc, step)
        if doc is None:
            return None
    return doc


def set_at(doc: dict, steps: list, value: Any) -> None:
    """Put `value` at a conflict's path in a workspace dict; ConfigError when a parent no longer exists
    (a slice deleted since)."""
    if not steps:
        raise ConfigError("a conflict without a path cannot be restored")
    parent = doc
    for step in steps[:-1]:
        parent, _ = _step(parent, step)
        if parent is None:
            what = step[1] if isinstance(step, list) and len(step) > 1 else step
            raise ConfigError(f"{what!r:.60} no longer exists in the workspace, so this value has nowhere to go")
    last = steps[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent[last] = copy.deepcopy(value)
        return
    if isinstance(parent, list) and isinstance(last, list):
        _, at = _step(parent, last)
        if at is None:
            parent.append(copy.deepcopy(value))
        else:
            parent[at] = copy.deepcopy(value)
        return
    raise ConfigError("the workspace changed shape at this value's place; it cannot be restored")


# --- storage -------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A workspace as read: the validated copy, the file's revision, notices for every reader,
    conflicts kept from concurrent edits, and what this read or save had to say."""

    workspace: Workspace
    revision: int = 0
    notices: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    stamp: tuple = ()  # the file's `stamp` as of this read or write
    new_conflicts: list[dict] = field(default_factory=list)  # the conflicts this save recorded
    base: dict[str, Any] = field(init=False)  # a frozen copy as read: the base of the next merge

    def __post_init__(self) -> None:
        self.base = self.workspace.to_dict()


def workspaces_dir() -> Path:
    return work_dir() / "workspaces"


def workspace_path(name: str = DEFAULT_NAME) -> Path:
    """The default workspace keeps its historical place; named ones live in `workspaces/`."""
    check_name(name)
    return work_dir() / "workspace.json" if name == DEFAULT_NAME else workspaces_dir() / f"{name}.json"


def list_workspaces() -> list[str]:
    names = {DEFAULT_NAME} | {p.stem for p in workspaces_dir().glob("*.json") if NAME_RE.fullmatch(p.stem)}
    return sorted(names, key=lambda n: (n != DEFAULT_NAME, n.lower()))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock for a read-modify-write: threads of this process and other processes alike."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(str(path), threading.Lock())
    with lock, open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: dict[str, Any]) -> bytes:
    """Atomic and durable: a reader sees the old file or the new one, never half of one, and a write that
    returned survives a kill -9 of the process (and, with the fsync, a crash of the machine). Returns the
    bytes written. (Temp files a killed writer left behind are removed by `load`.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")  # no indent: the C encoder
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return content


def _clean(path: Path) -> None:
    """Remove the temp files of writers killed mid-write (the caller holds the lock: none is writing now)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def stamp(name: str) -> tuple:
    """What identifies the file's current version without reading it (inode, size, change time): every
    write replaces the file, so sessions poll this on each rerun instead of parsing the file."""
    return stamp_of(workspace_path(name))


def _move_aside(path: Path, why: str) -> Snapshot:
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, aside)
    text = f"{_now()}: the saved workspace {why}; it was moved to {aside.name} and a fresh workspace was started"
    return Snapshot(Workspace(), notices=[{"at": _now(), "text": text}], messages=[text])


def _read(path: Path) -> tuple[dict[str, Any] | None, Snapshot]:
    """The raw file and its validated snapshot. A file that cannot be parsed, or holds something that is
    not a workspace, is moved aside (kept for the operator, never overwritten) with a notice."""
    if not path.is_file():
        return None, Snapshot(Workspace())
    try:
        content = path.read_bytes()
        known = _READS.get(str(path))
        if known is not None and known[0] == hashlib.sha256(content).digest():  # this version was validated here
            _, fields, revision, notices, conflicts = known
            copied = json.loads(json.dumps([fields, notices, conflicts]))
            return None, Snapshot(Workspace(**copied[0]), revision, copied[1], copied[2])
        raw = json.loads(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, OSError, RecursionError) as exc:
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else f"could not be read ({exc})"
        return None, _move_aside(path, reason)
    why = not_a_workspace(raw)
    if why:
        return None, _move_aside(path, f"is not a workspace ({why})")
    ws, problems = validate(raw)
    revision = raw.get("_revision", 0)
    notices = [n for n in _list(raw.get("_notices")) if isinstance(n, dict) and isinstance(n.get("text"), str)]
    conflicts = [c for c in _list(raw.get("_conflicts")) if isinstance(c, dict) and depth(c) <= MAX_DEPTH]
    snap = Snapshot(ws, revision if isinstance(revision, int) and revision >= 0 else 0, notices, conflicts)
    if problems:
        text = f"{_now()}: some saved settings were invalid and fell back to their defaults: " + "; ".join(problems)
        snap.notices.append({"at": _now(), "text": text})
        snap.messages.append(text)
    else:
        _remember(path, snap, content)
    return raw, snap


# The last version of each workspace file this process read or wrote, validated, by the hash of its bytes: a save
# under the lock then merges without parsing and validating the file again (reading and hashing a few KB is cheap;
# any other writer's version has other bytes). Touched only under the file lock.
_READS: dict[str, tuple] = {}


def _remember(path: Path, snap: Snapshot, content: bytes | None = None) -> None:
    try:
        digest = hashlib.sha256(content if content is not None else path.read_bytes()).digest()
    except OSError:
        return
    _READS[str(path)] = (
        digest,
        snap.workspace.to_dict(),
        snap.revision,
        json.loads(json.dumps(snap.notices)),
        json.loads(json.dumps(snap.conflicts, default=str)),
    )


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _capped(conflicts: list[dict]) -> list[dict]:
    """The newest conflicts that fit `MAX_CONFLICTS` and `MAX_CONFLICT_BYTES` (a visitor cannot grow the
    file by saving conflicting values again and again)."""
    kept, size = [], 0
    for c in reversed(conflicts[-MAX_CONFLICTS:]):
        size += len(json.dumps(c, ensure_ascii=False, default=str))
        if size > MAX_CONFLICT_BYTES and kept:
            break
        kept.append(c)
    return kept[::-1]


def _file_dict(snap: Snapshot) -> dict[str, Any]:
    return {
        **snap.workspace.to_dict(),
        "_revision": snap.revision,
        "_updated": _now(),
        "_notices": snap.notices[-MAX_NOTICES:],
        "_conflicts": _capped(snap.conflicts),
    }


def _commit(path: Path, snap: Snapshot, remember: bool = True) -> bytes:
    content = _write(path, _file_dict(snap))
    snap.conflicts = _capped(snap.conflicts)
    snap.notices = snap.notices[-MAX_NOTICES:]
    snap.stamp = stamp_of(path)
    if remember:
        _remember(path, snap, content)
    return content


def stamp_of(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return ()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def load(name: str = DEFAULT_NAME) -> Snapshot:
    """Read (and repair) a workspace. Repairs are written back at once with their notices, so every
    later reader sees the same repaired file and the same notices."""
    path = workspace_path(name)
    known = _known(path)
    if known is not None:  # a version this process validated: no lock, no parse (sessions adopt often)
        return known
    with _locked(path):
        raw, snap = _read(path)
        _clean(path)
        if snap.messages:
            snap.revision += 1
            _commit(path, snap)
            return snap
        snap.stamp = stamp_of(path)
    return snap


def _known(path: Path) -> Snapshot | None:
    """The file's snapshot from this process's last validated read or write of these exact bytes, read without
    the lock (writes replace the file whole); None when the file is another version or changed meanwhile."""
    before = stamp_of(path)
    known = _READS.get(str(path))
    if not before or known is None:
        return None
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(content).digest() != known[0] or stamp_of(path) != before:
        return None
    _, fields, revision, notices, conflicts = known
    copied = json.loads(json.dumps([fields, notices, conflicts]))
    snap = Snapshot(Workspace(**copied[0]), revision, copied[1], copied[2])
    snap.stamp = before
    return snap


def preview(value: Any, limit: int = 160) -> str:
    """A value in a line of text, for messages and the conflicts view."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save(name: str, base: dict[str, Any] | None, ours: Workspace, *, resolved: list[str] | tuple = ()) -> Snapshot:
    """Save `ours`, merged with whatever other sessions wrote since this session read `base`.

    `base` must be the copy `ours` was edited from (the session's last read or write), never a copy read
    at save time: a change another session made since then is theirs, not a deletion of ours.
    Returns the merged snapshot (the session continues from it); `messages` tell the user about
    values two sessions changed differently (this session's value is kept, the other is recorded in
    the file's conflict list with its path, so its author is told and can restore it) and about values
    cut to `LIMITS`. `resolved`: ids of conflicts this save settles (a restored value)."""
    path = workspace_path(name)
    start = time.perf_counter()
    mine = ours.to_dict()  # the work that needs no lock is done before taking it: sessions queue on it
    cut = clamp(mine)
    with _locked(path):
        locked = time.perf_counter()
        _, disk = _read(path)
        theirs = disk.base  # the file's validated fields, a fresh copy
        merged, conflicts = merge3(base if base is not None else theirs, mine, theirs)
        if merged == theirs and not conflicts and not resolved and not cut and path.is_file():
            # Nothing to write: a rewrite would only move the file's stamp and rerun every open page for nothing.
            disk.stamp = stamp_of(path)
            _time_save(time.perf_counter() - start, locked - start, base, mine)
            return disk
        ws, problems = validate(merged, trusted={f for f in FIELDS if f in merged and merged[f] == theirs.get(f)})
        snap = Snapshot(
            ws,
            disk.revision + 1,
            disk.notices,
            [c for c in disk.conflicts if c.get("id") not in resolved],
            list(disk.messages),
        )
        for i, c in enumerate(conflicts):
            record = {
                "id": f"r{snap.revision}-{i}",
                "at": _now(),
                "rev": snap.revision,
                "field": c["field"],
                "path": c["path"],
                "kept": preview(c["ours"]),
                "theirs": c["theirs"],
            }
            snap.conflicts.append(record)
            snap.new_conflicts.append(record)
            snap.messages.append(
                f"another session changed {c['field']} at the same time: your value was saved, "
                f"theirs was kept in the workspace's conflict list (Conflicts, in the sidebar): "
                f"{preview(c['theirs'], 120)}"
            )
        snap.messages += [f"not saved in full: {p}" for p in cut]
        if problems:  # a merge of two valid copies is valid; belt and braces
            snap.messages.append("merged settings were invalid and fell back to defaults: " + "; ".join(problems))
        content = _commit(path, snap, remember=False)
    _time_save(time.perf_counter() - start, locked - start, base, mine)
    _remember(path, snap, content)  # after the lock: a stale entry only costs a parse, never a wrong read
    return snap


def _time_save(seconds: float, waited: float, base: dict[str, Any] | None, mine: dict[str, Any]) -> None:
    """`$EVALCORE_SAVE_TIMINGS` names a file that gets one line per save: its time (lock wait included), the
    lock wait and the values the save changed with the ones they replaced in the saving session's copy (JSON,
    by path), what bench/bench_multiuser.py reports as save time and reads to tell a value the server received
    (then kept, listed as a conflict, or replaced by a session that had it on screen) from a keystroke the
    browser dropped."""
    target = os.environ.get("EVALCORE_SAVE_TIMINGS")
    if target:
        changed = changes(base, mine) if base is not None else {}
        before = {key: get_at(base, json.loads(key)) for key in changed}  # what the saving session had on screen
        line = json.dumps({"changed": changed, "before": before}, ensure_ascii=False, default=str)
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"{seconds:.6f} {waited:.6f} {line}\n")


def dismiss(name: str, *, notices: bool = True, conflicts: bool | list[str] = False) -> Snapshot:
    """Clear the notices and/or the conflict list (`True`: all; a list: those ids) of a workspace for everyone."""
    path = workspace_path(name)
    with _locked(path):
        _, snap = _read(path)
        if notices:
            snap.notices = []
        if conflicts is True:
            snap.conflicts = []
        elif conflicts:
            snap.conflicts = [c for c in snap.conflicts if c.get("id") not in conflicts]
        snap.revision += 1
        _commit(path, snap)
    return snap


def add_notice(name: str, text: str) -> Snapshot:
    """A standing notice for every session of a workspace (e.g. an upload it used was removed)."""
    path = workspace_path(name)
    with _locked(path):
        _, snap = _read(path)
        snap.notices.append({"at": _now(), "text": f"{_now()}: {text}"})
        snap.revision += 1
        _commit(path, snap)
    return snap


def restore(doc: dict[str, Any], conflict: dict) -> dict[str, Any]:
    """A workspace dict with a conflict's losing value put back at its path (ConfigError when that place
    is gone); the caller saves it (`save(..., resolved=[conflict id])`)."""
    out = copy.deepcopy(doc)
    path = conflict.get("path")
    if not isinstance(path, list) or not path:
        raise ConfigError(
            f"the conflict on {conflict.get('field')!r:.60} was recorded without a path and cannot "
            "be restored; copy its value by hand"
        )
    set_at(out, path, conflict.get("theirs"))
    return out


def revision_of(name: str) -> int:
    """The file's revision (reads the file: prefer `stamp` to notice a change)."""
    try:
        raw = json.loads(workspace_path(name).read_text(encoding="utf-8"))
        rev = raw.get("_revision", 0) if isinstance(raw, dict) else 0
        return rev if isinstance(rev, int) else 0
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return -1


# --- drafts and last runs: a side file per workspace, never merged -------------------------------------


def drafts_path(name: str = DEFAULT_NAME) -> Path:
    check_name(name)
    return work_dir() / "drafts" / f"{name}.json"


def load_drafts(name: str = DEFAULT_NAME) -> dict[str, Any]:
    """The workspace's drafts by kind (`{}` when none or unreadable: a draft is never worth a notice)."""
    try:
        raw = json.loads(drafts_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return raw if isinstance(raw, dict) and depth(raw) <= MAX_DEPTH else {}


def save_draft(name: str, kind: str, value: Any) -> None:
    """Keep one draft (`None` removes it): last writer wins, as for text typed in one box. A draft larger
    than `MAX_DRAFT_BYTES` is refused with a ConfigError."""
    if value is not None and len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_DRAFT_BYTES:
        raise ConfigError(f"this draft ({kind}) is larger than {MAX_DRAFT_BYTES:,} bytes and was not kept")
    path = drafts_path(name)
    with _locked(path):
        drafts = load_drafts(name)
        if value is None:
            drafts.pop(kind, None)
        else:
            drafts[kind] = value
        _write(path, drafts)


# --- the simple API (one user, CLI, tests) ---------------------------------------------------------


def save_workspace(ws: Workspace, path: Path | None = None) -> Path:
    """Write a whole workspace (no merge): for seeding and tests. Sessions use `save`."""
    path = path or workspace_path()
    with _locked(path):
        _, disk = _read(path)
        _commit(path, Snapshot(ws, disk.revision + 1, disk.notices, disk.conflicts))
    return path


def load_workspace(path: Path | None = None) -> tuple[Workspace, str | None]:
    """The saved workspace (repaired where needed) and a message to show, or None."""
    path = path or workspace_path()
    with _locked(path):
        _, snap = _read(path)
        if snap.messages:
            snap.revision += 1
            _write(path, _file_dict(snap))
    return snap.workspace, ("; ".join(snap.messages) or None)


__all__ = [
    "DEFAULT_NAME",
    "FIELDS",
    "LIMITS",
    "Snapshot",
    "Workspace",
    "add_notice",
    "changes",
    "check_name",
    "clamp",
    "dismiss",
    "get_at",
    "list_workspaces",
    "load",
    "load_drafts",
    "load_workspace",
    "merge3",
    "not_a_workspace",
    "path_key",
    "restore",
    "revision_of",
    "save",
    "save_draft",
    "save_workspace",
    "stamp",
    "validate",
    "workspace_path",
    "workspaces_dir",
]
