"""evalcore: decide whether a candidate text classifier may replace the baseline.

Importing this package is cheap and has no side effects: heavy libraries (torch, transformers,
datasets, wandb) are imported only inside the functions that need them.

The engine is in layers (README, Layout; `.importlinter`): core, io, predict, analyze, stats, probe, decide,
present, tasks, then the public API (`evalcore.api`), serve and cli. This file only re-exports: the error
family below, and the public API's names (`from evalcore.api import ...`) where marked.
"""
from __future__ import annotations

from evalcore.core.errors import (
    CacheError,
    ConfigError,
    DataError,
    EvalcoreError,
    FeatureError,
    ModelError,
    RuleError,
)

# --- the public API (evalcore.api) is re-exported here ---

__version__ = "0.1.0"

__all__ = [
    "CacheError",
    "ConfigError",
    "DataError",
    "EvalcoreError",
    "FeatureError",
    "ModelError",
    "RuleError",
    "__version__",
]
