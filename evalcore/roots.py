"""Which folders a dashboard visitor may read data and prediction files from.

A visitor may be a stranger, and a typed path is a read of the server's disk, so every path a
visitor gives (a TweetEval-format folder, a predictions file, a local dataset) goes through
`check_allowed` first. The server decides the roots, never the visitor: `$EVALCORE_DATA_ROOTS`
(folders separated by `os.pathsep`) when set, else the shared data folder and the uploads folder.
The command line does not check: its user owns the machine.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from evalcore.errors import DataError
from evalcore.paths import shared_data_dir, work_dir

ENV_VAR = "EVALCORE_DATA_ROOTS"


def uploads_dir() -> Path:
    """Where the dashboard keeps uploaded files (under the work folder, so uploads survive restarts)."""
    return work_dir() / "uploads"


def allowed_roots() -> list[Path]:
    """The folders visitors may read from, resolved (symlinks followed)."""
    raw = os.environ.get(ENV_VAR, "")
    roots = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()] or [shared_data_dir(), uploads_dir()]
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
    return folder
