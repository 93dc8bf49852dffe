"""The generation task kind: a prompt (and a context passage), one or more gold answers, and two models' answers
read from their file or column, scored per example (exact match, F1, relaxed match, ROUGE-L) and compared per
slice with the generation features. Everything the pipeline, the verdict and the reports do differently for
this kind is here; the scores are `evalcore.stats.genmetrics`, the tables `evalcore.stats.gentables`, the report
blocks `evalcore.present.genreport`."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

NAME = "generation"


class Generation:
    name = NAME
    headline = "f1"
    label_mix = False  # gold answers are free text: no label mix
    confidences = False  # answers carry no confidence
    scored = False  # answers are read from their file or column, not computed
    outputs_word = "answers"
    read_origin = "answers read from their file or column"
    scores_word = "scores"
    report_columns: Mapping[str, Sequence[str]] = {
        "slice_metrics": [
            "slice",
            "model",
            "role",
            "n",
            *(
                f"{m}{s}"
                for m in ("exact_match", "f1", "relaxed_match", "rouge_l", "rouge_acc")
                for s in ("", "_lo", "_hi")
            ),
            "answer_tokens",
            "length_ratio",
            "verbose_share",
            "small",
        ],
        "regression_metrics": [
            "slice",
            "metric",
            "n",
            "baseline",
            "candidate",
            "delta",
            "delta_lo",
            "delta_hi",
            "p",
            "p_adjusted",
            "mde",
            "rest_delta",
            "vs_rest",
            "vs_rest_lo",
            "vs_rest_hi",
            "vs_rest_p",
            "vs_rest_p_adjusted",
            "worse_than_rest",
            "n_improved",
            "n_regressed",
            "significant_regression",
            "small",
        ],
    }

    # --- the pipeline ---
    def features(self, data: Any, custom: Sequence[Any]) -> pd.DataFrame:
        """The generation features (question word, answer type, lengths...) and the custom ones on the prompts."""
        from evalcore.analyze.features import compute_features, compute_generation_features, list_generation_features
        from evalcore.core.errors import FeatureError

        taken = {f.name for f in list_generation_features()} & {c.name for c in custom}
        if taken:
            raise FeatureError(
                f"custom feature name(s) {', '.join(sorted(taken))} are generation features of "
                "evalcore; rename the custom feature"
            )
        return pd.concat(
            [compute_generation_features(data.df), compute_features(data.df["text"], names=[], custom=custom)], axis=1
        )

    def outputs(
        self,
        data: Any,
        spec: str,
        cache: Any = None,
        *,
        batch_size: int = 32,
        progress: Callable[[str], Any] | None = None,
    ) -> tuple[Any, str | None]:
        """A generation model's answers (`evalcore.predict.answers.load_answers`): read, not computed."""
        from evalcore.predict.answers import load_answers

        return load_answers(spec, data), None

    def model_applies(self, parsed: Any, spec: str, data: Any) -> bool:
        """An answer column of the data, or an answers file that aligns with its rows."""
        from evalcore.core.errors import EvalcoreError

        if parsed.kind not in ("precomputed", "file"):
            return False
        try:
            self.outputs(data, spec)
        except EvalcoreError:
            return False
        return True

    def build_eval(
        self, base: pd.DataFrame, baseline: Any, candidate: Any, data: Any, *, conf_threshold: float
    ) -> pd.DataFrame:
        from evalcore.stats.gentables import build_generation_eval

        return build_generation_eval(
            base,
            baseline,
            candidate,
            data.golds,
            conf_threshold=conf_threshold,
            tokenizer=getattr(data, "rouge_tokenizer", "default"),
        )

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
        from evalcore.stats.gentables import generation_results

        return generation_results(df_eval, masks, min_n=min_n, alpha=alpha, warnings=warnings)

    def default_slices(self, df_eval: pd.DataFrame, labels: Sequence[str]) -> tuple[Any, list[str]]:
        """The factoid-QA slices only on factoid answers (`evalcore.stats.gentables.generation_default_slices`)."""
        from evalcore.stats.gentables import generation_default_slices

        return generation_default_slices(df_eval)

    def starter_slices(self) -> Any:
        from evalcore.stats.gentables import generation_starter_slices

        return generation_starter_slices()

    # --- the decision and what shows it ---
    def findings(self, analysis: Any, margin: float) -> list[Any]:
        from evalcore.decide.findings import generation_findings

        reg = analysis.results.regression_metrics
        model = frozenset(s for s, role in (analysis.results.roles or {}).items() if role == "model-defined")
        return generation_findings(
            analysis.results.overall, reg, alpha=float(reg.attrs.get("alpha", 0.05)), margin=margin, model_defined=model
        )

    def data_description(self, data: Any) -> str:
        return "generation: answers scored against 1+ gold answers"

    def method_lines(self, analysis: Any) -> list[str]:
        from evalcore.present import genreport

        return genreport.method_lines(analysis)

    def figures(self, analysis: Any) -> dict[str, Any]:
        from evalcore.present import genreport

        return genreport.figures(analysis)

    def report_blocks(self, analysis: Any, gates: Any) -> list[Any]:
        """Scores of answers: no per-class table, no confidences to calibrate."""
        from evalcore.present import genreport

        return genreport.report_blocks(analysis, gates)

    def class_blocks(self, analysis: Any) -> list[Any]:
        return []

    def calibration_blocks(self, analysis: Any) -> list[Any]:
        return []

    def text_lines(self, analysis: Any, verdict: Any) -> list[str]:
        from evalcore.present.genreport import text_lines

        return text_lines(analysis, verdict)

    def predictions_table(self, analysis: Any) -> pd.DataFrame:
        from evalcore.present.genreport import predictions_table

        return predictions_table(analysis)

    def run_summary(self, analysis: Any) -> dict[str, Any]:
        from evalcore.present.genreport import summary_numbers

        return summary_numbers(analysis)

    def extra_tables(self, analysis: Any) -> dict[str, pd.DataFrame]:
        """The per-example metric changes (the CSV report shows them); no per-class table: gold answers are free
        text."""
        return {"metric_changes": analysis.results.changes}

    def score_header(self, data: Any) -> str:
        """The first line of `evalcore score`: answers are read, not computed; they are scored against the golds."""
        return f"data: {data.name}: {len(data)} rows, generation (answers scored against their gold answers)"

    def score_row(self, data: Any, spec: str, out: Any) -> dict[str, Any]:
        """One model's row of `evalcore.api.score`: its answers' exact match and F1 against the gold answers."""
        from evalcore.stats.genmetrics import score_answers

        s = score_answers(list(out.pred), data.golds)
        return {
            "model": out.model,
            "spec": spec,
            "n": len(s),
            "exact_match": s["exact_match"].mean(),
            "f1": s["f1"].mean(),
        }

    def score_line(self, row: Any) -> str:
        return f"{row.model}: exact match {row.exact_match:.1%}, F1 {row.f1:.1%} on {row.n:,} rows"

    def notebook_blocks(self, analysis: Any, verdict: Any) -> tuple[list[Any], tuple[str, Any] | None]:
        """The compact result a notebook shows: the overall scores, the per-slice table and the first chart."""
        from evalcore.present import genreport
        from evalcore.present.blocks import Heading, Table

        rows, marked = genreport.slice_rows(analysis, verdict)
        blocks = [
            Heading("Overall", 4),
            Table(genreport.OVERALL_HEADERS, genreport.overall_rows(analysis)),
            Heading("Per slice", 4),
            Table(genreport.slice_headers(analysis), rows, frozenset(marked)),
        ]
        return blocks, next(iter(genreport.figures(analysis).items()), None)


KIND = Generation()

__all__ = ["KIND", "NAME", "Generation"]
