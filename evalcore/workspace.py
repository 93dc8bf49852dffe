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
  user is told. Writes are atomic (temp file + rename) and bump a revision counter.

    >>> merged, conflicts = merge3({"a": 1, "b": [1]}, {"a": 2, "b": [1]}, {"a": 1, "b": [1, 3]})
    >>> merged, conflicts
    ({'a': 2, 'b': [1, 3]}, [])
"""
from __future__ import annotations

import copy
import fcntl
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

from evalcore.errors import ConfigError, EvalcoreError
from evalcore.paths import work_dir

WORKSPACE_VERSION = 2
DEFAULT_NAME = "default"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
META = ("_revision", "_updated", "_notices", "_conflicts")
MAX_NOTICES = 20
MAX_CONFLICTS = 50
_LOCK = threading.Lock()


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
    from evalcore.models import ModelSpec

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


def _data(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) or not value["source"].strip():
        raise ConfigError("must be an object with a non-empty text 'source'")
    text_opts = ("split", "config", "text_col", "label_col", "id_col", "label_map", "context_col", "rouge_tokenizer",
                 "cluster_col")
    for key in text_opts:
        if value.get(key) is not None and not isinstance(value[key], str):
            raise ConfigError(f"option {key!r} must be text, got {value[key]!r}")
    if value.get("n_rows") is not None:
        _number(1, 10 ** 9, integer=True)(value["n_rows"])
    labels = value.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise ConfigError("option 'labels' must be a list of label names")
    return value


def _slices(value: Any) -> Any:
    from evalcore.slices import SliceSet

    if value is not None:
        SliceSet.from_json(value)
    return value


def _slices_aside(value: Any) -> dict:
    from evalcore.gendata import TASKS

    if not isinstance(value, dict):
        raise ConfigError(f"must be an object of slice sets by task kind, got {type(value).__name__}")
    for task, slices in value.items():
        if task not in TASKS:
            raise ConfigError(f"task kind {task!r} is unknown; allowed: {', '.join(TASKS)}")
        _slices(slices)
    return value


def _features(value: Any) -> list:
    from evalcore.features import CustomFeature

    if not isinstance(value, list):
        raise ConfigError("must be a list of custom features")
    for raw in value:
        CustomFeature.from_dict(raw)
    return value


def _gates(value: Any) -> dict:
    from evalcore.gates import GateConfig

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
    from evalcore.stress import StressSet

    if not isinstance(value, dict):
        raise ConfigError(f"must be an object, got {type(value).__name__}")
    StressSet.from_dict({k: value[k] for k in ("version", "hypothesis", "target_slice", "cases") if k in value})
    return value


STRESS_SETTINGS: dict[str, Check] = {
    "conf_threshold": _number(0, 1), "llm_n": _number(1, 200, integer=True),
    "models": _text_dict("baseline", "candidate"),
}
PERTURB_SETTINGS: dict[str, Check] = {
    "clear_conf": _number(0, 1), "high_conf": _number(0, 1), "max_cases": _number(1, 1000, integer=True),
    "source": _str,
    "generators": lambda v: v if isinstance(v, list) and all(isinstance(x, str) for x in v) else _raise("a list of names"),
}


def _raise(what: str) -> Any:
    raise ConfigError(f"must be {what}")


FIELDS: dict[str, Check] = {
    "data": _data, "baseline": _spec, "candidate": _spec, "slices": _slices, "slices_aside": _slices_aside,
    "custom_features": _features,
    "stress": _stress, "conf_threshold": _number(0, 1), "alpha": _number(0, 0.5, open_lo=True),
    "min_n": _number(1, 100_000, integer=True), "gates": _gates,
    "wandb": _text_dict("project", "entity", "run_name", "mode"), "llm": _text_dict("endpoint"), "notes": _str,
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


def validate(raw: Any) -> tuple[Workspace, list[str]]:
    """A workspace from saved JSON: every field checked on its own; a bad one falls back to its
    default and a message names it. Unknown keys are ignored (newer or older files)."""
    if not isinstance(raw, dict):
        return Workspace(), [f"the file holds {type(raw).__name__}, not a workspace object; a fresh one was started"]
    defaults = Workspace()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, check in FIELDS.items():
        if name not in raw:
            continue
        value = copy.deepcopy(raw[name])
        try:
            values[name] = check(value)
        except (EvalcoreError, TypeError, ValueError, RecursionError) as exc:
            problems.append(f"{name}={raw[name]!r:.60} {exc}; the default ({getattr(defaults, name)!r:.40}) applies")
    stress = values.get("stress")
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
        raise ConfigError(f"workspace name {name!r:.60} must be 1-40 letters, digits, '-' or '_', starting with a "
                          "letter or digit")
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


def _merge_lists(base: list, ours: list, theirs: list, path: str) -> tuple[list, list[dict]]:
    """Items keyed by identity: additions and removals of either side apply; an item both sides changed
    differently keeps ours and gets a conflict; order follows ours, then their additions."""
    b = {_key(x): x for x in base}
    o = {_key(x): x for x in ours}
    t = {_key(x): x for x in theirs}
    conflicts: list[dict] = []
    out = []
    for k, item in o.items():
        if k in t:
            merged, sub = merge3(b.get(k, item), item, t[k], f"{path}[{k[1]}]")
            conflicts += sub
            out.append(merged)
        elif k in b and item == b[k]:
            continue  # they removed it and we did not touch it
        else:
            out.append(item)  # ours (added, or changed while they removed it: keep it)
    out += [item for k, item in t.items() if k not in o and k not in b]  # their additions
    return out, conflicts


def merge3(base: Any, ours: Any, theirs: Any, path: str = "") -> tuple[Any, list[dict]]:
    """Merge two edits of `base`. Returns the merged value and the conflicts, each
    `{"field", "ours", "theirs"}`: a value both sides changed differently (ours is kept)."""
    if ours == theirs:
        return copy.deepcopy(ours), []
    if ours == base:
        return copy.deepcopy(theirs), []
    if theirs == base:
        return copy.deepcopy(ours), []
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
                out[k] = copy.deepcopy(t if o is missing else o)
                continue
            out[k], sub = merge3(None if b is missing else b, o, t, f"{path}.{k}" if path else str(k))
            conflicts += sub
        return out, conflicts
    if isinstance(ours, list) and isinstance(theirs, list) and _keyed(ours) and _keyed(theirs):
        base = base if isinstance(base, list) and _keyed(base) else []
        return _merge_lists(base, ours, theirs, path)
    return copy.deepcopy(ours), [{"field": path, "ours": ours, "theirs": theirs}]


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
    with _LOCK, open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: dict[str, Any]) -> None:
    """Atomic: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    os.replace(tmp, path)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _read(path: Path) -> tuple[dict[str, Any] | None, Snapshot]:
    """The raw file and its validated snapshot. A file that cannot be parsed is moved aside."""
    if not path.is_file():
        return None, Snapshot(Workspace())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        text = (f"{_now()}: the saved workspace could not be read ({exc}); it was moved to {aside.name} and a fresh "
                "workspace was started")
        return None, Snapshot(Workspace(), notices=[{"at": _now(), "text": text}], messages=[text])
    ws, problems = validate(raw)
    meta = raw if isinstance(raw, dict) else {}
    revision = meta.get("_revision", 0)
    notices = [n for n in meta.get("_notices", []) if isinstance(n, dict) and isinstance(n.get("text"), str)]
    conflicts = [c for c in meta.get("_conflicts", []) if isinstance(c, dict)]
    snap = Snapshot(ws, revision if isinstance(revision, int) and revision >= 0 else 0, notices, conflicts)
    if problems:
        text = f"{_now()}: some saved settings were invalid and fell back to their defaults: " + "; ".join(problems)
        snap.notices.append({"at": _now(), "text": text})
        snap.messages.append(text)
    return raw, snap


def _file_dict(snap: Snapshot) -> dict[str, Any]:
    return {**snap.workspace.to_dict(), "_revision": snap.revision, "_updated": _now(),
            "_notices": snap.notices[-MAX_NOTICES:], "_conflicts": snap.conflicts[-MAX_CONFLICTS:]}


def load(name: str = DEFAULT_NAME) -> Snapshot:
    """Read (and repair) a workspace. Repairs are written back at once with their notices, so every
    later reader sees the same repaired file and the same notices."""
    path = workspace_path(name)
    with _locked(path):
        raw, snap = _read(path)
        if snap.messages:
            snap.revision += 1
            _write(path, _file_dict(snap))
    return snap


def save(name: str, base: dict[str, Any] | None, ours: Workspace) -> Snapshot:
    """Save `ours`, merged with whatever other sessions wrote since this session read `base`.

    Returns the merged snapshot (the session continues from it); `messages` tell the user about
    values two sessions changed differently (this session's value is kept, the other is recorded in
    the file's conflict list)."""
    path = workspace_path(name)
    with _locked(path):
        _, disk = _read(path)
        mine = ours.to_dict()
        theirs = disk.workspace.to_dict()
        merged, conflicts = merge3(base if base is not None else theirs, mine, theirs)
        ws, problems = validate(merged)
        snap = Snapshot(ws, disk.revision + 1, disk.notices, disk.conflicts, list(disk.messages))
        for c in conflicts:
            snap.conflicts.append({"at": _now(), **c})
            snap.messages.append(f"another session changed {c['field']} at the same time: your value was saved, "
                                 f"theirs was kept in the workspace's conflict list ({json.dumps(c['theirs'])[:120]})")
        if problems:  # a merge of two valid copies is valid; belt and braces
            snap.messages.append("merged settings were invalid and fell back to defaults: " + "; ".join(problems))
        _write(path, _file_dict(snap))
    return snap


def dismiss(name: str, *, notices: bool = True, conflicts: bool = False) -> Snapshot:
    """Clear the notices (and/or the conflict list) of a workspace for everyone."""
    path = workspace_path(name)
    with _locked(path):
        _, snap = _read(path)
        if notices:
            snap.notices = []
        if conflicts:
            snap.conflicts = []
        snap.revision += 1
        _write(path, _file_dict(snap))
    return snap


def revision_of(name: str) -> int:
    """The file's revision without validating it (cheap: sessions poll it on every rerun)."""
    try:
        raw = json.loads(workspace_path(name).read_text(encoding="utf-8"))
        rev = raw.get("_revision", 0) if isinstance(raw, dict) else 0
        return rev if isinstance(rev, int) else 0
    except (OSError, ValueError, UnicodeDecodeError):
        return -1


# --- the simple API (one user, CLI, tests) ---------------------------------------------------------


def save_workspace(ws: Workspace, path: Path | None = None) -> Path:
    """Write a whole workspace (no merge): for seeding and tests. Sessions use `save`."""
    path = path or workspace_path()
    with _locked(path):
        _, disk = _read(path)
        _write(path, _file_dict(Snapshot(ws, disk.revision + 1, disk.notices, disk.conflicts)))
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


__all__ = ["DEFAULT_NAME", "FIELDS", "Snapshot", "Workspace", "check_name", "dismiss", "list_workspaces", "load",
           "load_workspace", "merge3", "revision_of", "save", "save_workspace", "validate", "workspace_path",
           "workspaces_dir"]
