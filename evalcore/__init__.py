"""evalcore: decide whether a candidate model may replace the baseline.

The public API (`evalcore.api`), for notebooks and scripts:

    import evalcore
    r = evalcore.compare("../shared/data/lab/tweets.csv", baseline="roberta", candidate="gpt2")
    r.verdict.decision        # 'no-ship'
    r.regression_metrics      # per-slice paired changes, a DataFrame
    r                         # in a notebook: verdict, headline, per-slice table, chart

`compare`, `score`, `discover`, `explain`, `push` and `load` each return a typed result; errors are the
`EvalcoreError` family below.

Importing this package is cheap and has no side effects: pandas, numpy and the engine load on the first call
(so `python -m evalcore --help` stays fast), and heavy libraries (torch, transformers, datasets, wandb) only
inside the functions that need them.

Under the API the engine is in layers along the data's path (README, "Layout"; `.importlinter` checks it):
core, io, predict, analyze, stats, probe, decide, present, tasks; serve and the CLI sit above the API.
"""

from __future__ import annotations

from typing import Any

from evalcore.api import (
    CompareResult,
    DiscoverResult,
    ExplainResult,
    ScoreResult,
    compare,
    compare_on_ray,
    discover,
    explain,
    load,
    push,
    score,
)
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
    "CompareResult",
    "ConfigError",
    "DataError",
    "DiscoverResult",
    "EvalcoreError",
    "ExplainResult",
    "FeatureError",
    "ModelError",
    "RuleError",
    "ScoreResult",
    "__version__",
    "compare",
    "compare_on_ray",
    "discover",
    "explain",
    "load",
    "push",
    "score",
]


def __getattr__(name: str) -> Any:
    """`evalcore.Verdict`, the verdict's class, imported on first use (it loads numpy and pandas)."""
    if name == "Verdict":
        from evalcore.decide.verdict import Verdict

        return Verdict
    raise AttributeError(f"module 'evalcore' has no attribute {name!r}")
