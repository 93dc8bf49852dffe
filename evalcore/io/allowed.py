"""The folders a dashboard visitor may read from, and the gate every loader passes (`guard`).

A visitor may be a stranger, and a typed path is a read of the server's disk. The server decides the
roots, never the visitor: `$EVALCORE_DATA_ROOTS` (folders separated by `os.pathsep`) when set, else the
shared data folder, the uploads folder and the models folder. Inside `gated()` (the dashboard's engine
wraps every load in it) every file a loader opens goes through `guard` first (`evalcore.io.limits.check_file`),
its symlinks resolved on its own. It sits in the data layer because the loaders call it; the serving side
(uploads, whole data choices and model specs) is `evalcore.serve.roots`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from evalcore.core.errors import DataError
from evalcore.core.paths import models_dir, shared_data_dir, work_dir

ENV_VAR = "EVALCORE_DATA_ROOTS"


def uploads_dir() -> Path:
    """Where the dashboard keeps uploaded files (under the work folder, so uploads survive restarts)."""
    return work_dir() / "uploads"


def allowed_roots() -> list[Path]:
    """The folders visitors may read from, resolved (symlinks followed)."""
    raw = os.environ.get(ENV_VAR, "")
    roots = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()] or [
        shared_data_dir(),
        uploads_dir(),
        models_dir(),
    ]
    return [r.resolve() for r in roots]


def check_allowed(path: str | Path) -> Path:
    """`path` resolved, if it lies inside an allowed root; `DataError` naming the roots otherwise.
    Resolving first means `..` and symlinks cannot step outside."""
    resolved = Path(path).expanduser().resolve()
    roots = allowed_roots()
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    raise DataError(
        f"{path} is outside the data folders this server allows ({', '.join(map(str, roots))}); "
        "upload the files instead, or ask the server's operator to add the folder to "
        f"${ENV_VAR}"
    )


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
    Every loader calls it (through `evalcore.io.limits.check_file`) for each file before opening it."""
    if _GATE.get():
        check_allowed(path)


def _local(target: str) -> Path | None:
    """A path on this server's disk, or None for a hub id (`org/name` that is not a local folder)."""
    path = Path(target).expanduser()
    looks_local = target.startswith(("/", ".", "~")) or path.exists() or path.is_symlink()
    return path if looks_local else None
