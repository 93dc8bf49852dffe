"""evalcore: decide whether a candidate text classifier may replace the baseline.

Importing this package is cheap and has no side effects: heavy libraries (torch, transformers,
datasets, wandb) are imported only inside the functions that need them.
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
