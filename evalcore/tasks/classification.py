"""The classification task kind: a text and its label; two classifiers' predictions (with confidences when the
model gives them) compared per slice on accuracy and macro-F1, confident regressions, per-class changes and
calibration. Everything the pipeline, the verdict and the reports do differently for this kind is here."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

NAME = "classification"


class Classification:
    name = NAME
    headline = "accuracy"
    label_mix = True
    confidences = True
    scored = True
    outputs_word = "predictions"
    read_origin = "precomputed predictions"
    scores_word = "accuracies"
    report_columns: Mapping[str, Sequence[str]] = {
        "slice_metrics": ["slice", "model", "n", "accuracy", "acc_lo", "acc_hi", "macro_f1", "small"],
        "regression_metrics": [
            "slice",
            "n",
            "baseline_accuracy",
            "candidate_accuracy",
            "delta",
            "delta_lo",
            "delta_hi",
            "mde",
            "rest_delta",
            "vs_rest",
            "vs_rest_lo",
            "vs_rest_hi",
            "vs_rest_p",
            "vs_rest_p_adjusted",
            "worse_than_rest",
            "regression_rate",
            "regression_rate_lo",
            "regression_rate_hi",
            "improvement_rate",
            "improvement_rate_lo",
            "improvement_rate_hi",
            "confident_regression_rate",
            "confident_regression_rate_lo",
            "confident_regression_rate_hi",
            "n_conf_known",
            "mcnemar_p",
            "p_adjusted",
            "significant_regression",
            "small",
        ],
    }

    # --- the pipeline ---
    def features(self, data: Any, custom: Sequence[Any]) -> pd.DataFrame:
        from evalcore.analyze.featurestore import text_features

        # read back from the on-disk store when these rows' features were computed before
        return text_features(data.df["text"], custom)

    def outputs(
        self,
        data: Any,
        spec: str,
        cache: Any = None,
        *,
        batch_size: int = 32,
        progress: Callable[[str], Any] | None = None,
    ) -> tuple[Any, str | None]:
        """A classifier's predictions through the cache, and a warning naming any gold label it can never predict."""
        from evalcore.predict.load import load_predictor
        from evalcore.predict.models import unreachable_warning
        from evalcore.predict.scoring import score

        predictor = load_predictor(spec, data.labels, data=data)
        preds = score(
            data,
            predictor,
            cache,
            batch_size=batch_size,
            progress=progress(predictor.name) if progress and predictor.live else None,
        )
        return preds, unreachable_warning(predictor, data.df["label"].tolist())

    def model_applies(self, parsed: Any, spec: str, data: Any) -> bool:
        """A precomputed column the data has, a predictions file that reads for its rows, VADER or the demo
        transformer only on sentiment labels; an `hf:` model is the user's own choice and is kept."""
        from evalcore.core.errors import EvalcoreError
        from evalcore.io.labels import is_sentiment
        from evalcore.predict.load import load_predictor

        if parsed.kind == "precomputed":
            return parsed.target in data.precomputed
        if parsed.kind in ("vader", "demo"):
            return is_sentiment(data.labels)
        if parsed.kind == "file":
            try:
                load_predictor(parsed, data.labels, data=data)
            except EvalcoreError:
                return False
        return True

    def build_eval(
        self, base: pd.DataFrame, baseline: Any, candidate: Any, data: Any, *, conf_threshold: float
    ) -> pd.DataFrame:
        from evalcore.analyze.tables import build_df_eval

        return build_df_eval(base, baseline, candidate, conf_threshold=conf_threshold)

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
    ) -> Any:
        """The metric tables; `parts` (`evalcore.stats.incremental.Parts`) keeps each slice's cells and calibration
        in a memo, so an edit of one slice recomputes that slice's row-level work only."""
        from evalcore.stats.comparisons import confusion_cells, metric_changes, per_class_changes
        from evalcore.stats.metrics import (
            DEFAULT_MIN_N,
            calibration_metrics,
            overall_comparison,
            regression_metrics,
            slice_metrics,
        )
        from evalcore.stats.results import SliceResults

        regression = regression_metrics(df_eval, masks, min_n=min_n, conf_threshold=conf_threshold, alpha=alpha)
        overall_calibration = None
        if parts:
            texts = {s.name: s.text for s in slices}
            cells = parts.cells(df_eval, masks, texts, labels)
            # every slice's calibration on first read; the whole data's rows alone before that (the findings')
            calibration: Any = partial(parts.calibration, df_eval, masks, texts, min_n=DEFAULT_MIN_N)
            overall_calibration = partial(parts.calibration, df_eval, {}, {}, min_n=DEFAULT_MIN_N)
            per_class = parts.per_class(df_eval, labels, cells)
        else:
            cells = confusion_cells(df_eval, masks, labels)
            calibration = calibration_metrics(df_eval, masks)
            per_class = per_class_changes(df_eval, labels, cells=cells)
        return SliceResults(
            masks=masks,
            slice_metrics=slice_metrics(df_eval, masks, labels=labels, min_n=min_n, cell_counts=cells.counts),
            regression_metrics=regression,
            calibration_source=calibration,
            overall=overall_comparison(df_eval, conf_threshold=conf_threshold, regression=regression),
            changes=metric_changes(df_eval, masks, labels=labels, alpha=alpha, cells=cells),
            per_class=per_class,
            warnings=warnings,
            overall_calibration_source=overall_calibration,
        )

    def default_slices(self, df_eval: pd.DataFrame, labels: Sequence[str]) -> tuple[Any, list[str]]:
        from evalcore.analyze.slices import default_slices

        return default_slices(df_eval, labels)

    def starter_slices(self) -> Any:
        from evalcore.analyze.slices import starter_slices

        return starter_slices()

    # --- the decision and what shows it ---
    def findings(self, analysis: Any, margin: float) -> list[Any]:
        from evalcore.decide.findings import findings_from_tables

        attrs = analysis.results.regression_metrics.attrs
        model = frozenset(s for s, role in (analysis.results.roles or {}).items() if role == "model-defined")
        return findings_from_tables(
            analysis.results.overall,
            analysis.results.regression_metrics,
            analysis.results.overall_calibration(),  # its whole-data rows are all the findings read
            alpha=float(attrs.get("alpha", 0.05)),
            margin=margin,
            conf_threshold=float(attrs.get("conf_threshold", 0.8)),
            model_defined=model,
        )

    def data_description(self, data: Any) -> str:
        return f"labels {', '.join(data.labels)}"

    def method_lines(self, analysis: Any) -> list[str]:
        from evalcore.present.report import classification_method_lines

        return classification_method_lines(analysis)

    def figures(self, analysis: Any) -> dict[str, Any]:
        from evalcore.present.report import classification_figures

        return classification_figures(analysis)

    def report_blocks(self, analysis: Any, gates: Any) -> list[Any]:
        from evalcore.present.report import _overall_blocks, _slice_blocks

        return _overall_blocks(analysis) + _slice_blocks(analysis, gates)

    def class_blocks(self, analysis: Any) -> list[Any]:
        from evalcore.present.report import _per_class_blocks

        return _per_class_blocks(analysis)

    def calibration_blocks(self, analysis: Any) -> list[Any]:
        from evalcore.present.report import _calibration_blocks

        return _calibration_blocks(analysis)

    def text_lines(self, analysis: Any, verdict: Any) -> list[str]:
        from evalcore.present.report import classification_text_lines

        return classification_text_lines(analysis, verdict)

    def predictions_table(self, analysis: Any) -> pd.DataFrame:
        from evalcore.present.wandb_push import classification_predictions

        return classification_predictions(analysis)

    def run_summary(self, analysis: Any) -> dict[str, Any]:
        from evalcore.present.wandb_push import classification_summary

        return classification_summary(analysis)

    def extra_tables(self, analysis: Any) -> dict[str, pd.DataFrame]:
        """Tables of this kind beside the lab's four and the metric changes: the per-class changes."""
        return {"per_class": analysis.results.per_class}

    def score_header(self, data: Any) -> str:
        """The first line of `evalcore score`: the data and its labels."""
        return f"data: {data.name}: {len(data)} rows, labels {', '.join(data.labels)}"

    def score_row(self, data: Any, spec: str, out: Any) -> dict[str, Any]:
        """One model's row of `evalcore.api.score`: its accuracy with the 95% Wilson interval, rows cached and
        computed."""
        from evalcore.stats.intervals import wilson_interval

        acc = out.accuracy(data.df["label"])
        lo, hi = wilson_interval(int(round(acc * out.n_total)), out.n_total)
        return {
            "model": out.model,
            "spec": spec,
            "n": out.n_total,
            "accuracy": acc,
            "accuracy_lo": float(lo),
            "accuracy_hi": float(hi),
            "n_cached": out.n_cached,
            "n_computed": out.n_computed,
            "summary": out.summary,
        }

    def score_line(self, row: Any) -> str:
        return f"{row.model}: accuracy {row.accuracy:.3f} on {row.n} rows; {row.summary}"

    def notebook_blocks(self, analysis: Any, verdict: Any) -> tuple[list[Any], tuple[str, Any] | None]:
        """The compact result a notebook shows (`evalcore.api.CompareResult._repr_html_`): the overall table, the
        per-slice table and the chart of each slice's change."""
        from evalcore.present import report
        from evalcore.present.blocks import Heading, Table

        overall = report._overall_blocks(analysis)
        tables = [b for b in report._slice_blocks(analysis, verdict) if isinstance(b, Table)]
        blocks = [Heading("Overall", 4), *overall[1:], Heading("Per slice", 4), tables[0]]
        return blocks, ("delta_per_slice", self.figures(analysis)["delta_per_slice"])


KIND = Classification()

__all__ = ["KIND", "NAME", "Classification"]
