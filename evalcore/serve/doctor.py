"""`python -m evalcore doctor`: where evalcore keeps its state, how much disk each part uses, and
whether the server's configuration (data roots, LLM endpoints) is sound. It never prints a secret."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from evalcore.core import paths

PARTS = (
    ("prediction cache", "cache"),
    ("feature store", "cache/features"),
    ("models", "models"),
    ("uploads", "work/uploads"),
    ("workspaces", "work"),
    ("W&B runs and staging", "wandb"),
    ("decision history", "history"),
)


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under a folder; (0, 0) when it does not exist."""
    if not path.exists():
        return 0, 0
    if path.is_file():
        return path.stat().st_size, 1
    size = count = 0
    for f in path.rglob("*"):
        if f.is_file() and not f.is_symlink():
            size += f.stat().st_size
            count += 1
    return size, count


def disk_use(home: Path | None = None) -> dict[str, tuple[int, int]]:
    """Bytes and files per part of the evalcore home; `workspaces` excludes the uploads inside `work`, the
    prediction cache the feature store inside `cache`."""
    home = home or paths.home()
    out = {name: folder_size(home / sub) for name, sub in PARTS}
    ws, up = out["workspaces"], out["uploads"]
    out["workspaces"] = (ws[0] - up[0], ws[1] - up[1])
    pc, fs = out["prediction cache"], out["feature store"]
    out["prediction cache"] = (pc[0] - fs[0], pc[1] - fs[1])
    rest = folder_size(home)
    counted = sum(b for b, _ in out.values())
    out["other"] = (max(rest[0] - counted, 0), max(rest[1] - sum(n for _, n in out.values()), 0))
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def report_lines() -> list[str]:
    from evalcore.io.allowed import allowed_roots
    from evalcore.probe.llm import configured_endpoints
    from evalcore.serve.roots import DEFAULT_UPLOADS_MB, UPLOADS_CAP_VAR
    from evalcore.serve.workspace import list_workspaces

    home = paths.home()
    use = disk_use(home)
    lines = [
        f"evalcore home: {home}" + ("" if os.environ.get(paths.ENV_VAR) else f" (set ${paths.ENV_VAR} to move it)")
    ]
    for name, (size, files) in use.items():
        extra = ""
        if name == "uploads":
            extra = f"; capped at {os.environ.get(UPLOADS_CAP_VAR, DEFAULT_UPLOADS_MB)} MB (${UPLOADS_CAP_VAR})"
        if name == "feature store":
            from evalcore.analyze.featurestore import CAP_VAR, cap_bytes

            extra = f"; capped at {cap_bytes() / 1e6:,.0f} MB (${CAP_VAR}), least recently read go first"
        if name == "workspaces":
            extra = f"; {', '.join(list_workspaces())}"
        lines.append(f"  {name:<22} {_mb(size):>12}  {files:,} file(s){extra}")
    lines.append(f"  {'total':<22} {_mb(sum(s for s, _ in use.values())):>12}")
    total, _, free = shutil.disk_usage(home)
    lines.append(f"disk: {free / 1e9:,.1f} GB free of {total / 1e9:,.1f} GB")
    lines.append("data folders a dashboard visitor may read ($EVALCORE_DATA_ROOTS):")
    lines += [f"  {root}{'' if root.exists() else '  (missing)'}" for root in allowed_roots()]
    lines += _limit_lines()
    endpoints, problems = configured_endpoints(None)
    if endpoints:
        lines.append("LLM endpoints ($EVALCORE_LLM_ENDPOINTS; secrets.toml is read by the app):")
        lines += [
            f"  {name}: {c.model} at {c.display_url}; key variable "
            f"{('$' + c.api_key_env + (' (set)' if c.key_is_set() else ' (NOT set)')) if c.api_key_env else 'none'}"
            for name, c in endpoints.items()
        ]
    else:
        lines.append("LLM endpoints: none in $EVALCORE_LLM_ENDPOINTS")
    lines += [f"  problem: {p}" for p in problems]
    return lines


def _limit_lines() -> list[str]:
    """The limits every load is measured against (`evalcore.io.limits`), with the variable that sets each."""
    from dataclasses import asdict

    from evalcore.core.errors import DataError
    from evalcore.io.limits import ENV_VARS, current

    try:
        values = asdict(current())
    except DataError as exc:  # a variable that does not read: the loads refuse until it is fixed
        return [f"limits per dataset: {exc}"]
    shown = [
        f"{name.removeprefix('max_').replace('_', ' ').replace(' mb', ' MB')} {value:,.0f} (${ENV_VARS[name]})"
        for name, value in values.items()
    ]
    return ["limits per dataset (every load is measured first):", "  " + "; ".join(shown)]


__all__ = ["disk_use", "folder_size", "report_lines"]
