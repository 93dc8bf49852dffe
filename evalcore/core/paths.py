"""Where evalcore writes: one folder for cache, demo model and saved work.

`$EVALCORE_HOME` when set, else `.evalcore/` in the working directory (git-ignored), so a user can
wipe all state with one `rm -r` and tests can isolate themselves with one environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "EVALCORE_HOME"


def home() -> Path:
    """The evalcore state folder, created on first use."""
    raw = os.environ.get(ENV_VAR)
    root = Path(raw).expanduser() if raw else Path.cwd() / ".evalcore"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_path() -> Path:
    """SQLite file of the prediction cache."""
    return home() / "cache" / "predictions.sqlite"


def models_dir() -> Path:
    """Folder of models evalcore builds itself (the demo transformer)."""
    return home() / "models"


def work_dir() -> Path:
    """Folder of the user's saved work: session settings, slices, stress cases."""
    return home() / "work"


def shared_data_dir() -> Path:
    """The shared data folder that sits beside the project checkout (`../shared/data`)."""
    raw = os.environ.get("EVALCORE_SHARED_DATA")
    if raw:
        return Path(raw).expanduser()
    return Path(__file__).resolve().parents[3] / "shared" / "data"
