"""The result records of one comparison: `SliceResults` (the metric tables of one df_eval and slice set) and
`Analysis` (everything a baseline-vs-candidate comparison produced). The pipeline (`evalcore.tasks.pipeline`)
builds them; the decision, probes and reports read them, so they sit below all of those."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from evalcore.analyze.slices import SliceSet
from evalcore.analyze.tables import build_df_long
from evalcore.core.kind import TaskKind
from evalcore.io.data import EvalData
from evalcore.predict.scoring import Predictions
from evalcore.stats.metrics import ALL_SLICE


@dataclass
class SliceResults:
    """Metric tables for one df_eval and one slice set (the lab's names)."""

    masks: dict[str, np.ndarray]
    slice_metrics: pd.DataFrame
    regression_metrics: pd.DataFrame
    # calibration per slice and model (`evalcore.stats.metrics.calibration_metrics`), or the function that computes
    # it on first read of `calibration`: the dashboard's Compare shows every slice's only when its Calibration tab
    # opens, so its first render computes the whole-data rows alone (`overall_calibration`, what the findings read)
    calibration_source: pd.DataFrame | Callable[[], pd.DataFrame]
    overall: dict
    changes: pd.DataFrame  # one row per (compared metric, slice): evalcore.stats.comparisons.metric_changes
    per_class: pd.DataFrame  # per gold label: precision / recall / F1 of both models and their change
    warnings: list[str] = field(default_factory=list)
    # slice -> "watched", "guardrail" or "model-defined" (a rule on a model's output: shown, never gates)
    roles: dict[str, str] = field(default_factory=dict)
    # tables derived from these on demand (the gold-label mix per alpha), kept with them: the dashboard keeps one
    # SliceResults per (df_eval, slice set, settings), so a rerun of the page computes none of them again
    derived: dict = field(default_factory=dict, repr=False, compare=False)
    # the rows of `calibration` for every row of the data (slice `ALL_SLICE`) without the slices' rows; None: read
    # them from `calibration`
    overall_calibration_source: Callable[[], pd.DataFrame] | None = field(default=None, repr=False, compare=False)

    @property
    def calibration(self) -> pd.DataFrame:
        """Calibration per slice and model; computed here, once, when it was given as a function."""
        if callable(self.calibration_source):
            self.calibration_source = self.calibration_source()
        return self.calibration_source

    @calibration.setter
    def calibration(self, table: pd.DataFrame) -> None:
        self.calibration_source = table

    def overall_calibration(self) -> pd.DataFrame:
        """The calibration rows of the whole data (one per model), the same numbers as those rows of
        `calibration`, without computing every slice's when that table is not computed yet."""
        if self.overall_calibration_source is not None and callable(self.calibration_source):
            return self.overall_calibration_source()
        table = self.calibration
        return table[table["slice"] == ALL_SLICE] if len(table) else table

    @property
    def flagged(self) -> list[str]:
        """Slices where the candidate is worse than on the rest of the rows, after Benjamini-Hochberg:
        the slices findings and the slice gate speak of."""
        reg = self.regression_metrics
        return reg.loc[reg["worse_than_rest"] & (reg["slice"] != ALL_SLICE), "slice"].tolist()

    @property
    def regressed_slices(self) -> list[str]:
        """Slices whose own change is below zero after Benjamini-Hochberg (changed vs zero)."""
        reg = self.regression_metrics
        return reg.loc[reg["significant_regression"] & (reg["slice"] != ALL_SLICE), "slice"].tolist()


@dataclass
class Analysis:
    """Everything one baseline-vs-candidate comparison produced."""

    data: EvalData
    baseline: Predictions
    candidate: Predictions
    df_eval: pd.DataFrame
    slices: SliceSet
    results: SliceResults
    # the task kind's object (`evalcore.tasks.kinds.task_kind(data.task)`): the verdict, the reports and the W&B
    # push ask it for the kind's findings, blocks and tables instead of testing the task's name
    kind: TaskKind

    @property
    def task(self) -> str:
        """The name of the task kind the data declared ("classification", "generation")."""
        return self.kind.name

    @property
    def df_long(self) -> pd.DataFrame:
        return build_df_long(self.df_eval)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The lab's four tables, by their W&B names."""
        r = self.results
        return {
            "df_long": self.df_long,
            "df_eval": self.df_eval,
            "slice_metrics": r.slice_metrics,
            "regression_metrics": r.regression_metrics,
        }


__all__ = ["Analysis", "SliceResults"]
