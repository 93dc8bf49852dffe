"""Which folders a dashboard visitor may read data and prediction files from, and the uploads store.

A visitor may be a stranger, and a typed path is a read of the server's disk, so every path a
visitor gives (a TweetEval-format folder, a predictions file, a local dataset) goes through
`evalcore.io.allowed.check_allowed` first. The server decides the roots, never the visitor: `$EVALCORE_DATA_ROOTS`
(folders separated by `os.pathsep`) when set, else the shared data folder, the uploads folder and the
models folder. `check_source` and `check_spec` apply it to a whole data choice or model spec; the
dashboard's engine calls them for every load, whatever page or saved workspace asked for it.
The command line does not check: its user owns the machine.

A data choice is more than one path: a TweetEval folder's files, a local Hugging Face folder's data
files, a predictions or answers file. Inside `gated()` (the dashboard's engine wraps every load in it),
every file a loader opens goes through `guard` first (`evalcore.io.limits.check_file`), its symlinks
resolved on its own, so a file inside an allowed folder that links outside is refused before it is read.

Uploads are stored by content (the same file twice is stored once) and the folder is capped
(`$EVALCORE_UPLOADS_MB`, default 2,000 MB): an upload larger than the cap is refused before it is
stored; past the cap the least recently *used* uploads go (`touch_upload` marks a use: the dashboard
calls it whenever it loads data from an upload), those no saved workspace refers to first. When only
uploads a workspace refers to are left, they go too, and each workspace that referred to one gets a
notice saying which file went and why (never a bare "file not found" after a restart).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from evalcore.core.errors import DataError, EvalcoreError
from evalcore.io.allowed import _local, check_allowed, uploads_dir

UPLOADS_CAP_VAR = "EVALCORE_UPLOADS_MB"
DEFAULT_UPLOADS_MB = 2000

BUILT_IN_SOURCES = ("lab", "demo", "tweeteval", "squad")  # the shared data folder's own datasets


def check_source(settings: dict) -> None:
    """Refuse a data choice that would read outside the allowed folders (the message names the path,
    never what the file holds). Built-in names and hub ids read nothing a visitor chose."""
    source = settings.get("source")
    if not isinstance(source, str) or not source.strip():
        return
    raw = source.strip()
    from evalcore.io.data import check_hf_id, check_split

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
    from evalcore.predict.models import ModelSpec

    parsed = ModelSpec.parse(spec)
    if parsed.kind == "file" or (parsed.kind == "hf" and _local(parsed.target)):
        check_allowed(parsed.target)


def uploads_cap() -> int:
    """The uploads folder's cap in bytes (`$EVALCORE_UPLOADS_MB`; a bad value falls back to the default)."""
    try:
        return int(float(os.environ.get(UPLOADS_CAP_VAR, DEFAULT_UPLOADS_MB)) * 1e6)
    except ValueError:
        return DEFAULT_UPLOADS_MB * 10**6


def touch_upload(path: str | Path | None) -> None:
    """Mark an upload as used now (its top-level file or folder), so the cap removes it last. Anything
    outside the uploads folder is left alone."""
    if not path:
        return
    folder = uploads_dir()
    try:
        target = Path(path).expanduser().resolve()
        top = folder.resolve() / target.relative_to(folder.resolve()).parts[0]
        os.utime(top)
    except (ValueError, IndexError, OSError):
        return


def _workspace_refs() -> dict[str, list[str]]:
    """Upload entry name -> the saved workspaces whose data choice or models name it (read as text: an
    upload's name starts with its content hash, so a substring match is exact enough)."""
    from evalcore.serve.workspace import list_workspaces, workspace_path

    folder = uploads_dir()
    names = [item.name for item in folder.iterdir()] if folder.is_dir() else []
    refs: dict[str, list[str]] = {}
    for ws in list_workspaces():
        try:
            raw = json.loads(workspace_path(ws).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            continue
        if not isinstance(raw, dict):
            continue
        text = json.dumps([raw.get(k) for k in ("data", "baseline", "candidate", "stress")], default=str)
        for name in names:
            if name in text:
                refs.setdefault(name, []).append(ws)
    return refs


def _tell(workspaces: list[str], text: str) -> None:
    from evalcore.serve.workspace import add_notice

    for ws in workspaces:
        try:
            add_notice(ws, text)
        except (OSError, EvalcoreError):
            continue


def prune_uploads(cap_bytes: int | None = None, keep: Path | None = None) -> list[Path]:
    """Remove uploads until the folder fits the cap: least recently used first, those no workspace refers to
    before those one does (whose workspaces are told); `keep` (the upload being stored) never goes.
    Returns what went."""
    cap_bytes = uploads_cap() if cap_bytes is None else cap_bytes
    folder = uploads_dir()
    if not folder.is_dir():
        return []
    refs = _workspace_refs()
    entries = []
    for item in folder.iterdir():
        if keep is not None and item.resolve() == keep.resolve():
            continue
        files = [item] if item.is_file() else [f for f in item.rglob("*") if f.is_file()]
        entries.append((item.name in refs, item.stat().st_mtime, sum(f.stat().st_size for f in files), item))
    total = sum(e[2] for e in entries) + (_size(keep) if keep is not None else 0)
    removed = []
    for referenced, _, size, item in sorted(entries, key=lambda e: (e[0], e[1])):
        if total <= cap_bytes:
            break
        if item.is_dir():
            import shutil

            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        total -= size
        removed.append(item)
        if referenced:
            _tell(
                refs[item.name],
                f"the uploaded {'folder' if item.is_dir() else 'file'} {item.name} was removed to "
                f"keep the server's uploads under their cap of {cap_bytes / 1e6:,.0f} MB "
                f"(${UPLOADS_CAP_VAR}); upload it again to use it",
            )
    return removed


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def _check_size(nbytes: int, what: str) -> None:
    cap = uploads_cap()
    if nbytes > cap:
        raise DataError(
            f"{what} is {nbytes / 1e6:,.1f} MB, larger than the {cap / 1e6:,.1f} MB this server keeps "
            f"for all uploads (${UPLOADS_CAP_VAR}); it was not stored. Use a smaller file, or ask the "
            "operator to raise the cap"
        )


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,120}")


def _safe_name(name: str) -> str:
    base = Path(name).name
    if not _SAFE_NAME.fullmatch(base):
        raise DataError(f"file name {name!r} is not allowed for an upload; use letters, digits, _ . and -")
    return base


def store_file(name: str, raw: bytes) -> Path:
    """Keep one uploaded file under the uploads folder, named by its content hash and its name, so
    the choice survives restarts and the same upload is stored once."""
    _check_size(len(raw), f"the upload {Path(name).name!r:.80}")
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:12]}_{_safe_name(name)}"
    if not path.exists():
        path.write_bytes(raw)
    os.utime(path)  # used now: the cap removes the least recently used first
    prune_uploads(keep=path)
    return path


def store_folder(files: dict[str, bytes]) -> Path:
    """Keep the uploaded files of one TweetEval-format folder together, in a folder of the uploads
    named by the hash of all their names and contents."""
    if not files:
        raise DataError("no files uploaded")
    _check_size(sum(len(raw) for raw in files.values()), f"the uploaded folder ({len(files)} files)")
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
    os.utime(folder)  # the folder's time is its last use
    prune_uploads(keep=folder)
    return folder
