"""Shared fixtures: isolated state folder, paths to the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalcore.core.paths import shared_data_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(autouse=True)
def evalcore_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its state (cache, saved work) into its own folder."""
    home = tmp_path / "evalcore_home"
    monkeypatch.setenv("EVALCORE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "lab" / "tweets.csv").is_file():
        pytest.fail(f"shared data not found at {path}: clone the project with ../shared beside it")
    return path
