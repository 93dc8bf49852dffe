"""The task-kind protocol: what a task kind (classification, generation...) answers for every layer.

The data declares its task by name (`EvalData.task`); `evalcore.tasks.kinds.task_kind(name)` resolves the
name to the kind object, one module per kind under `evalcore/tasks/`. The pipeline asks the object for the
features, the per-example outcomes, the metric tables and the default slices; the analysis carries it
(`Analysis.kind`) so the decision, the reports and the W&B push ask it too, instead of testing a string.
Lower layers only see this protocol; they never import the kinds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class TaskKind(Protocol):
    """One task kind. Attributes are facts; methods are the kind's steps, given what they need."""

    name: str  # what the data declares: "classification", "generation"
    headline: str  # the compared metric the findings and the gain gate speak of (evalcore.stats.comparisons)
    label_mix: bool  # gold labels form a mix worth explaining a slice's change (free-text gold answers do not)
    confidences: bool  # outputs carry confidences: confident regressions, calibration, a threshold to set
    scored: bool  # a model runs to give the outputs (through the prediction cache, with progress); else they are read
    outputs_word: str  # what a model gives: "predictions" or "answers"
    scores_word: str  # what the headline numbers are, in a caption: "accuracies", "scores"
    read_origin: str  # where outputs read from the data or a file come from, in the report's words
    report_columns: Mapping[str, Sequence[str]]  # the CLI's table and CSV columns, by result table

    # --- the pipeline (evalcore.tasks.pipeline) ---
    def features(self, data: Any, custom: Sequence[Any]) -> pd.DataFrame: ...
    def outputs(
        self,
        data: Any,
        spec: str,
        cache: Any = None,
        *,
        batch_size: int = 32,
        progress: Callable[[str], Any] | None = None,
    ) -> tuple[Any, str | None]: ...
    def model_applies(self, parsed: Any, spec: str, data: Any) -> bool: ...
    def build_eval(
        self, base: pd.DataFrame, baseline: Any, candidate: Any, data: Any, *, conf_threshold: float
    ) -> pd.DataFrame: ...
    def results(
        self,
        df_eval: pd.DataFrame,
        masks: Mapping[str, np.ndarray],
        labels: Sequence[str],
        *,
        conf_threshold: float,
        min_n: int,
        alpha: float,
        warnings: list[str],
        parts: Any = None,
        slices: Any = None,
    ) -> Any: ...
    def default_slices(self, df_eval: pd.DataFrame, labels: Sequence[str]) -> tuple[Any, list[str]]: ...
    def starter_slices(self) -> Any: ...

    # --- the decision and what shows it ---
    def findings(self, analysis: Any, margin: float) -> list[Any]: ...
    def data_description(self, data: Any) -> str: ...
    def method_lines(self, analysis: Any) -> list[str]: ...
    def figures(self, analysis: Any) -> dict[str, Any]: ...
    def report_blocks(self, analysis: Any, gates: Any) -> list[Any]: ...
    def class_blocks(self, analysis: Any) -> list[Any]: ...
    def calibration_blocks(self, analysis: Any) -> list[Any]: ...
    def text_lines(self, analysis: Any, verdict: Any) -> list[str]: ...
    def predictions_table(self, analysis: Any) -> pd.DataFrame: ...
    def run_summary(self, analysis: Any) -> dict[str, Any]: ...
    def extra_tables(self, analysis: Any) -> dict[str, pd.DataFrame]: ...
    def notebook_blocks(self, analysis: Any, verdict: Any) -> tuple[list[Any], tuple[str, Any] | None]: ...
    def score_header(self, data: Any) -> str: ...
    def score_row(self, data: Any, spec: str, out: Any) -> dict[str, Any]: ...
    def score_line(self, row: Any) -> str: ...


__all__ = ["TaskKind"]
