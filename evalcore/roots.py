"""Which folders a dashboard visitor may read data and prediction files from.

A visitor may be a stranger, and a typed path is a read of the server's disk, so every path a
visitor gives (a TweetEval-format folder, a predictions file, a local dataset) goes through
`check_allowed` first. The server decides the roots, never the visitor: `$EVALCORE_DATA_ROOTS`
(folders separated by `os.pathsep`) when set, else the shared data folder, the uploads folder and the
models folder. `check_source` and `check_spec` apply it to a whole data choice or model spec; the
dashboard's engine calls them for every load, whatever page or saved workspace asked for it.
The command line does not check: its user owns the machine.

A data choice is more than one path: a TweetEval folder's files, a local Hugging Face folder's data
files, a predictions or answers file. Inside `gated()` (the dashboard's engine wraps every load in it),
every file a loader opens goes through `guard` first (`evalcore.limits.check_file`), its symlinks
resolved on its own, so a file inside an allowed folder that links outside is refused before it is read.

Uploads are stored by content (the same file twice is stored once) and the folder is capped
(`$EVALCORE_UPLOADS_MB`, default 2,000 MB): past the cap the least recently used uploads go.
"""
from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from evalcore.errors import DataError
from evalcore.paths import models_dir, shared_data_dir, work_dir

ENV_VAR = "EVALCORE_DATA_ROOTS"
UPLOADS_CAP_VAR = "EVALCORE_UPLOADS_MB"
DEFAULT_UPLOADS_MB = 2000


def uploads_dir() -> Path:
    """Where the dashboard keeps uploaded files (under the work folder, so uploads survive restarts)."""
    return work_dir() / "uploads"


def allowed_roots() -> list[Path]:
    """The folders visitors may read from, resolved (symlinks followed)."""
    raw = os.environ.get(ENV_VAR, "")
    roots = ([Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
             or [shared_data_dir(), uploads_dir(), models_dir()])
    return [r.resolve() for r in roots]


def check_allowed(path: str | Path) -> Path:
    """`path` resolved, if it lies inside an allowed root; `DataError` naming the roots otherwise.
    Resolving first means `..` and symlinks cannot step outside."""
    resolved = Path(path).expanduser().resolve()
    roots = allowed_roots()
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    raise DataError(f"{path} is outside the data folders this server allows ({', '.join(map(str, roots))}); "
                    "upload the files instead, or ask the server's operator to add the folder to "
                    f"${ENV_VAR}")


_GATE: ContextVar[bool] = ContextVar("evalcore_roots_gate", default=False)


@contextmanager
def gated() -> Iterator[None]:
    """Inside, every file a loader reads must lie in the allowed folders (`guard`)."""
    token = _GATE.set(True)
    try:
        yield
    finally:
        _GATE.reset(token)


def guard(path: str | Path) -> None:
    """`check_allowed(path)` inside `gated()`; nothing outside it (the command line's user owns the disk).
    Every loader calls it (through `evalcore.limits.check_file`) for each file before opening it."""
    if _GATE.get():
        check_allowed(path)


def _local(target: str) -> Path | None:
    """A path on this server's disk, or None for a hub id (`org/name` that is not a local folder)."""
    path = Path(target).expanduser()
    looks_local = target.startswith(("/", ".", "~")) or path.exists() or path.is_symlink()
    return path if looks_local else None


BUILT_IN_SOURCES = ("lab", "demo", "tweeteval", "squad")  # the shared data folder's own datasets


def check_source(settings: dict) -> None:
    """Refuse a data choice that would read outside the allowed folders (the message names the path,
    never what the file holds). Built-in names and hub ids read nothing a visitor chose."""
    source = settings.get("source")
    if not isinstance(source, str) or not source.strip():
        return
    raw = source.strip()
    from evalcore.data import check_hf_id, check_split

    for key in ("split",):
        if settings.get(key) is not None:
            check_split(str(settings[key]))
    if raw.split(":", 1)[0] in BUILT_IN_SOURCES:
        if ":" in raw:
            check_split(raw.split(":", 1)[1])
        return
    if raw.startswith("hf:"):
        check_hf_id(raw[3:])
        local = _local(raw[3:])
        if local is not None:
            check_allowed(local)
        return
    check_allowed(raw)


def check_spec(spec: str) -> None:
    """Refuse a model spec that would read a predictions file or model folder outside the allowed folders."""
    from evalcore.models import ModelSpec

    parsed = ModelSpec.parse(spec)
    if parsed.kind == "file" or (parsed.kind == "hf" and _local(parsed.target)):
        check_allowed(parsed.target)


def prune_uploads(cap_bytes: int | None = None) -> list[Path]:
    """Remove the least recently used uploads until the folder fits the cap; returns what went."""
    if cap_bytes is None:
        try:
            cap_bytes = int(float(os.environ.get(UPLOADS_CAP_VAR, DEFAULT_UPLOADS_MB)) * 1e6)
        except ValueError:
            cap_bytes = DEFAULT_UPLOADS_MB * 10 ** 6
    folder = uploads_dir()
    if not folder.is_dir():
        return []
    entries = []
    for item in folder.iterdir():
        files = [item] if item.is_file() else [f for f in item.rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        used = max((f.stat().st_atime for f in files), default=item.stat().st_mtime)
        entries.append((used, size, item))
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, item in sorted(entries, key=lambda e: e[0]):
        if total <= cap_bytes:
            break
        if item.is_dir():
            import shutil

            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        total -= size
        removed.append(item)
    return removed


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,120}")


def _safe_name(name: str) -> str:
    base = Path(name).name
    if not _SAFE_NAME.fullmatch(base):
        raise DataError(f"file name {name!r} is not allowed for an upload; use letters, digits, _ . and -")
    return base


def store_file(name: str, raw: bytes) -> Path:
    """Keep one uploaded file under the uploads folder, named by its content hash and its name, so
    the choice survives restarts and the same upload is stored once."""
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:12]}_{_safe_name(name)}"
    if not path.exists():
        path.write_bytes(raw)
    os.utime(path)  # used now: the cap removes the least recently used first
    prune_uploads()
    return path


def store_folder(files: dict[str, bytes]) -> Path:
    """Keep the uploaded files of one TweetEval-format folder together, in a folder of the uploads
    named by the hash of all their names and contents."""
    if not files:
        raise DataError("no files uploaded")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(_safe_name(name).encode() + b"\0" + hashlib.sha256(files[name]).digest())
    folder = uploads_dir() / f"folder_{digest.hexdigest()[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        target = folder / _safe_name(name)
        if not target.exists():
            target.write_bytes(raw)
        os.utime(target)
    prune_uploads()
    return folder
