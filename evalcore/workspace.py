"""The user's work, saved to disk: data choice, models, slices, custom features, stress cases, gates.

The app keeps its live state in `st.session_state`, but anything a user built must survive a
refresh or a restart, so every change is written here as JSON (never pickle), atomically
(temp file + rename) so a crash mid-write never leaves half a file. A file that cannot be read is
moved aside and reported, never silently dropped.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from evalcore.errors import ConfigError, EvalcoreError
from evalcore.paths import work_dir

WORKSPACE_VERSION = 1


@dataclass
class Workspace:
    """Everything a user set up. Slices, features and stress sets are kept in their JSON form
    (validated by their own modules when used), so this file never goes stale when those grow."""

    data: dict[str, Any] = field(default_factory=lambda: {"source": "lab"})
    baseline: str = "roberta"
    candidate: str = "gpt2"
    slices: list[dict[str, Any]] | None = None  # None: not set up yet -> the starter set
    custom_features: list[dict[str, Any]] = field(default_factory=list)
    stress: dict[str, Any] = field(default_factory=dict)
    conf_threshold: float = 0.8
    alpha: float = 0.05  # false discovery rate of the slice-regression flags (Benjamini-Hochberg)
    min_n: int = 30  # slices smaller than this are marked small
    gates: dict[str, Any] = field(default_factory=dict)
    wandb: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    version: int = WORKSPACE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> "Workspace":
        if not isinstance(raw, dict):
            raise ConfigError("workspace file must hold a JSON object")
        known = {f.name for f in fields(cls)}
        ws = cls(**{k: v for k, v in raw.items() if k in known})
        if not isinstance(ws.data, dict) or not isinstance(ws.baseline, str) or not isinstance(ws.candidate, str):
            raise ConfigError("workspace file has a malformed data or model entry")
        ws.check()
        return ws

    def check(self) -> None:
        """The saved slices and custom features go through their validating constructors, so a
        damaged file is caught when it is loaded, not on every page afterwards."""
        from evalcore.features import CustomFeature
        from evalcore.slices import SliceSet

        try:
            if self.slices is not None:
                SliceSet.from_json(self.slices)
            for raw in self.custom_features:
                CustomFeature.from_dict(raw)
        except EvalcoreError as exc:
            raise ConfigError(f"workspace file has an invalid slice or custom feature: {exc}") from exc


def workspace_path() -> Path:
    return work_dir() / "workspace.json"


def save_workspace(ws: Workspace, path: Path | None = None) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path = path or workspace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp: every writer (Streamlit sessions are threads of one process) gets its own temp file
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(ws.to_dict(), indent=2, ensure_ascii=False))
    os.replace(tmp, path)
    return path


def load_workspace(path: Path | None = None) -> tuple[Workspace, str | None]:
    """The saved workspace, or a fresh one; the second value is a warning to show the user."""
    path = path or workspace_path()
    if not path.is_file():
        return Workspace(), None
    try:
        return Workspace.from_dict(json.loads(path.read_text(encoding="utf-8"))), None
    except (ValueError, TypeError, ConfigError, UnicodeDecodeError) as exc:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        return Workspace(), (f"saved workspace {path} could not be read ({exc}); it was moved to {aside} "
                             "and a fresh workspace was started")
