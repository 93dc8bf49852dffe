"""The public API: five functions a notebook, the CLI and the pages call, each returning a typed result.

    >>> import evalcore
    >>> r = evalcore.compare("../shared/data/lab/tweets.csv", baseline="roberta", candidate="gpt2")  # doctest: +SKIP
    >>> r.verdict.decision  # doctest: +SKIP
    'no-ship'

- `compare` scores two models on the data (through the prediction cache), slices the rows and gives the
  verdict: a `CompareResult` whose tables are DataFrames and whose `verdict` is an
  `evalcore.decide.verdict.Verdict`.
- `score` scores one or more models on the data: a `ScoreResult`.
- `discover` searches for slices where the candidate is worse than on the rest: a `DiscoverResult`.
- `explain` explains one slice's regressed rows token by token (live models): an `ExplainResult`.
- `push` logs a comparison to Weights & Biases (offline without a key): the engine's `PushResult`.

Each function is a thin layer over the engine (`evalcore.tasks.pipeline`, `evalcore.decide.verdict`,
`evalcore.decide.discover`, `evalcore.probe.explain_aggregate`, `evalcore.present.wandb_push`): the numbers are the ones
the CLI prints and the dashboard shows. Each result renders itself in a notebook (`_repr_html_`) with
every user-written text escaped. Bad input raises the `EvalcoreError` family, as everywhere.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, Union

from evalcore.core.errors import ConfigError, ModelError

if TYPE_CHECKING:  # pandas and the engine load on first call, so `import evalcore` stays cheap
    import pandas as pd

    from evalcore.analyze.features import CustomFeature
    from evalcore.analyze.slices import SliceSet
    from evalcore.decide.discover import Discovery
    from evalcore.decide.gates import GateConfig
    from evalcore.decide.verdict import Verdict
    from evalcore.io.data import EvalData
    from evalcore.predict.cache import PredictionCache
    from evalcore.predict.scoring import Predictions
    from evalcore.present.blocks import Block
    from evalcore.present.wandb_push import PushResult
    from evalcore.probe.explain_aggregate import RegressionExplanations
    from evalcore.stats.results import Analysis

__all__ = [
    "CompareResult",
    "DiscoverResult",
    "ExplainResult",
    "ScoreResult",
    "compare",
    "compare_on_ray",
    "discover",
    "explain",
    "load",
    "push",
    "score",
]

DataLike = Union[str, "os.PathLike[str]", "EvalData"]
"""A data source (`lab`, `tweeteval[:split]`, a .csv/.jsonl/.parquet file, a TweetEval folder, `hf:<id>`,
`squad`, a SQuAD-format .json) or data already loaded with `evalcore.load`."""
ProgressFactory = Callable[[str], Union[Callable[[int, int], None], None]]
"""`progress(model_name)` returns a `progress(done, total)` callback for that model's scoring, or None."""

# Scoped to the result's own element: a notebook's page keeps its styles.
_CSS = """<style>
.evalcore-result{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;line-height:1.45}
.evalcore-result table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
.evalcore-result th,.evalcore-result td{border:1px solid #dee2e6;padding:.2rem .45rem;text-align:left;
vertical-align:top}
.evalcore-result th{background:#f1f3f5}.evalcore-result tr.marked td{background:#fff5f5}
.evalcore-result code{background:#f1f3f5;padding:0 .2rem;border-radius:3px}
.evalcore-result .verdict{font-size:1.1rem;margin:.25rem 0 .5rem}
</style>"""


# --- data -------------------------------------------------------------------------------------------


def load(data: DataLike, **options: Any) -> EvalData:
    """Load a data source (see `DataLike`) as the CLI's `--data` does; `options` are `evalcore.io.load.load_data`'s
    (split, config, n_rows, text_col, label_col, id_col, labels, label_map, context_col, rouge_tokenizer,
    cluster_col, task). Loaded data passes through (a `cluster_col` option still applies)."""
    from evalcore.io.data import EvalData, with_clusters
    from evalcore.io.load import load_data

    if isinstance(data, EvalData):
        unknown = sorted(k for k, v in options.items() if k != "cluster_col" and v is not None)
        if unknown:
            raise ConfigError(
                f"{', '.join(unknown)} apply to a data source, not to data already loaded: pass the "
                "source (a path or name) instead"
            )
        column = options.get("cluster_col")
        return data if column is None else with_clusters(replace(data), column)  # the caller's data unchanged
    if not isinstance(data, (str, os.PathLike)):
        raise ConfigError(
            f"data must be a source (a path or a name such as `lab`) or data from evalcore.load, "
            f"got {type(data).__name__}"
        )
    return load_data(os.fspath(data), **{k: v for k, v in options.items() if v is not None})


def _cache(cache: bool | PredictionCache | None) -> tuple[PredictionCache | None, list[str]]:
    """The prediction cache to use (`True`: the one under EVALCORE_HOME) and a warning when a damaged file
    was moved aside."""
    if cache is None or cache is False:
        return None, []
    if cache is True:
        from evalcore.predict.cache import PredictionCache

        opened = PredictionCache()
        return opened, [opened.warning] if opened.warning else []
    return cache, []


def _gate_config(
    gates: GateConfig | Mapping[str, float | str | None] | None, task: str, require_gain: bool
) -> GateConfig:
    """The gates of the data's task: a `GateConfig` as given, else the task's defaults with `gates`' margins
    (a share, 0.02 = 2 points; None or "off" turns a gate off)."""
    from evalcore.decide import gates as gates_mod

    if isinstance(gates, gates_mod.GateConfig):
        config = gates
    elif gates is None:
        config = gates_mod.GateConfig(task=task)
    elif isinstance(gates, Mapping):
        config = gates_mod.GateConfig(task=task).with_values(gates)
    else:
        raise ConfigError(
            f"gates must be a mapping of gate name -> margin (e.g. {{'accuracy': 0.01}}) or a "
            f"GateConfig, got {type(gates).__name__}"
        )
    if config.task != task:
        raise ConfigError(
            f"the gates are set for {config.task} data but this data is {task}: build them with "
            f"GateConfig(..., task={task!r}) or pass a mapping"
        )
    return gates_mod.require_gain(config) if require_gain else config


def _slice_set(slices: SliceSet | str | os.PathLike[str] | Sequence[Any] | None) -> SliceSet | None:
    """A slice set from a `SliceSet`, a slice file's path (as `--slices`), or a list of `Slice`s / their JSON."""
    from evalcore.analyze.slices import Slice, SliceSet, load_slices

    if slices is None or isinstance(slices, SliceSet):
        return slices
    if isinstance(slices, (str, os.PathLike)):
        return load_slices(os.fspath(slices))
    if isinstance(slices, Sequence):
        return SliceSet(tuple(s if isinstance(s, Slice) else Slice.from_json(s) for s in slices))
    raise ConfigError(
        f"slices must be a SliceSet, a slice file's path or a list of slices, got {type(slices).__name__}"
    )


# --- compare ------------------------------------------------------------------------------------------


def compare(
    data: DataLike,
    baseline: str | None = None,
    candidate: str | None = None,
    *,
    slices: SliceSet | str | os.PathLike[str] | Sequence[Any] | None = None,
    gates: GateConfig | Mapping[str, float | str | None] | None = None,
    guardrails: str | Sequence[str] = (),
    require_gain: bool = False,
    cluster_col: str | None = None,
    custom_features: Sequence[CustomFeature] = (),
    conf_threshold: float = 0.8,
    min_n: int = 30,
    alpha: float = 0.05,
    cache: bool | PredictionCache | None = True,
    batch_size: int = 32,
    progress: ProgressFactory | None = None,
    **data_options: Any,
) -> CompareResult:
    """Compare `candidate` with `baseline` on `data`, overall and per slice, and give the verdict.

    `baseline` / `candidate` are model specs (`roberta` / `gpt2`: prediction columns of the data;
    `vader`; `demo`; `hf:<hub id or folder>`; `file:<predictions file>`); by default the data's own pair.
    `slices`: default the task's starter slices that match rows. `gates`: margins over the task's defaults,
    e.g. `{"accuracy": 0.01, "slice_accuracy": None}`. `guardrails`: slice names that must be verified.
    `cluster_col`: rows come in groups (article, user): every interval becomes cluster-robust ("none": off).
    `cache`: True reads and writes the prediction cache under EVALCORE_HOME. `data_options` go to `load`.

    The same function `python -m evalcore report`, `push` and `discover` run.
    """
    from evalcore.decide.verdict import decide
    from evalcore.tasks.pipeline import run_analysis

    loaded = load(data, cluster_col=cluster_col, **data_options)
    config = _gate_config(gates, loaded.task, require_gain)  # a typo in a gate fails before any model runs
    if not (baseline and candidate):
        if not loaded.default_models:
            raise ModelError(
                "this data has no default models: give baseline= and candidate= (model specs; on the "
                "command line, give --baseline and --candidate)"
            )
        baseline, candidate = baseline or loaded.default_models[0], candidate or loaded.default_models[1]
    chosen = _slice_set(slices)
    store, notes = _cache(cache)
    analysis = run_analysis(
        loaded,
        baseline,
        candidate,
        slices=chosen,
        custom=custom_features,
        cache=store,
        conf_threshold=conf_threshold,
        min_n=int(min_n),
        alpha=alpha,
        batch_size=batch_size,
        progress=progress,
        guardrails=[guardrails] if isinstance(guardrails, str) else guardrails,
    )
    analysis.results.warnings = notes + analysis.results.warnings
    return CompareResult(analysis=analysis, verdict=decide(analysis, config), gates=config)


def compare_on_ray(
    source: str | os.PathLike[str],
    baseline: str | None = None,
    candidate: str | None = None,
    *,
    slices: SliceSet | str | os.PathLike[str] | Sequence[Any] | None = None,
    gates: GateConfig | Mapping[str, float | str | None] | None = None,
    guardrails: str | Sequence[str] = (),
    require_gain: bool = False,
    custom_features: Sequence[CustomFeature] = (),
    conf_threshold: float = 0.8,
    min_n: int = 30,
    alpha: float = 0.05,
    address: str | None = None,
    **data_options: Any,
) -> CompareResult:
    """`compare` over Parquet / CSV shards with Ray Data (`evalcore.tasks.ray_report`): features, slice masks
    and per-slice counts are computed on the cluster, the statistics and the verdict here, equal to `compare`
    on the same rows. `baseline` / `candidate`: prediction columns of the shards. `address`: a Ray cluster
    (`auto`, `host:6379`); default a local one. `data_options`: labels, label_map, text_col, label_col, id_col."""
    from evalcore.decide.verdict import decide
    from evalcore.tasks.ray_report import ray_analysis

    config = _gate_config(gates, "classification", require_gain)
    analysis, _ = ray_analysis(
        os.fspath(source),
        baseline,
        candidate,
        slices=_slice_set(slices),
        guardrails=[guardrails] if isinstance(guardrails, str) else guardrails,
        custom=custom_features,
        conf_threshold=conf_threshold,
        min_n=int(min_n),
        alpha=alpha,
        address=address,
        **data_options,
    )
    return CompareResult(analysis=analysis, verdict=decide(analysis, config), gates=config)


@dataclass(repr=False)
class CompareResult:
    """One baseline-vs-candidate comparison: the engine's `analysis`, its `verdict` and the `gates` it used.
    Tables are DataFrames in the lab's names (`df_eval`, `df_long`, `slice_metrics`, `regression_metrics`),
    plus `changes` (every compared metric per slice, paired) and `per_class` (classification)."""

    analysis: Analysis
    verdict: Verdict
    gates: GateConfig

    @property
    def task(self) -> str:
        """The task kind: "classification" or "generation"."""
        return self.analysis.task

    @property
    def baseline(self) -> str:
        """The baseline's name in the tables."""
        return self.analysis.baseline.model

    @property
    def candidate(self) -> str:
        """The candidate's name in the tables."""
        return self.analysis.candidate.model

    @property
    def overall(self) -> pd.DataFrame:
        """One row per compared metric on all rows: baseline, candidate, paired change and its interval, p, MDE."""
        ch = self.analysis.results.changes
        return ch[ch["slice"] == "all"].reset_index(drop=True)

    @property
    def changes(self) -> pd.DataFrame:
        return self.analysis.results.changes

    @property
    def slice_metrics(self) -> pd.DataFrame:
        return self.analysis.results.slice_metrics

    @property
    def regression_metrics(self) -> pd.DataFrame:
        return self.analysis.results.regression_metrics

    @property
    def per_class(self) -> pd.DataFrame:
        """Per gold label (classification; empty for generation)."""
        import pandas as pd

        return self.analysis.kind.extra_tables(self.analysis).get("per_class", pd.DataFrame())

    @property
    def df_eval(self) -> pd.DataFrame:
        return self.analysis.df_eval

    @property
    def df_long(self) -> pd.DataFrame:
        return self.analysis.df_long

    @property
    def warnings(self) -> list[str]:
        return self.analysis.results.warnings

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name (what `report --out DIR` writes)."""
        extra = self.analysis.kind.extra_tables(self.analysis)  # classification: per class
        return {**self.analysis.tables(), **extra, "metric_changes": self.changes}

    def headline(self) -> str:
        """The verdict in one line: decision and next step."""
        return self.verdict.headline()

    def figures(self) -> dict[str, Any]:
        """The Plotly charts of the HTML report, by name."""
        from evalcore.present.report import analysis_figures

        return analysis_figures(self.analysis)

    def report(
        self,
        *,
        markdown: str | None = None,
        html: str | None = None,
        discovery: DiscoverResult | Discovery | None = None,
        explanations: ExplainResult | RegressionExplanations | None = None,
    ) -> list[str]:
        """Write the Markdown and/or HTML report (as `report --markdown --html`); returns the paths written."""
        from evalcore.present.report import export_reports

        return export_reports(
            self.analysis,
            self.verdict,
            markdown=markdown,
            html_path=html,
            discovery=_discovery(discovery),
            explanations=_explanations(explanations),
        )

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON (what `report --format json` prints)."""
        from evalcore.core.units import strict_json

        r = self.analysis.results
        columns = self.analysis.kind.report_columns
        payload: dict[str, Any] = {
            "task": self.task,
            "overall": r.overall,
            "verdict": self.verdict.to_dict(),
            "worse_than_rest": r.flagged,
            **{k: getattr(r, k)[c].to_dict(orient="records") for k, c in columns.items()},
            "metric_changes": r.changes.to_dict(orient="records"),
        }
        payload.update(
            {k: v.to_dict(orient="records") for k, v in self.analysis.kind.extra_tables(self.analysis).items()}
        )
        strict: dict[str, Any] = strict_json(payload)
        return strict

    def __repr__(self) -> str:
        return (
            f"<CompareResult {self.analysis.data.name}: {self.candidate} (candidate) vs {self.baseline} "
            f"(baseline), {len(self.df_eval):,} rows; {self.headline()}>"
        )

    def _repr_html_(self) -> str:
        return _render(self._blocks(), self.headline())

    def _blocks(self) -> list[Block]:
        """The verdict with its gates, the headline numbers, the per-slice table and one chart."""
        from evalcore.present import report

        a = self.analysis
        blocks: list[Block] = [
            report.Heading(
                f"{self.candidate} (candidate) vs {self.baseline} (baseline) on "
                f"{a.data.name}: {len(self.df_eval):,} rows",
                3,
            )
        ]
        # the gates' table and the verdict's notes (the verdict line itself heads the rendering)
        blocks += [
            b for b in report._recommendation_blocks(self.verdict) if isinstance(b, (report.Table, report.Bullets))
        ]
        kind_blocks, chart = a.kind.notebook_blocks(a, self.verdict)  # overall and per slice, the kind's chart
        blocks += kind_blocks
        if chart is not None:
            blocks.append(report.Figure(*chart))
        if self.warnings:
            from evalcore.core.safetext import lit

            blocks.append(report.Bullets([lit(f"warning: {w}") for w in self.warnings]))
        return blocks


def _render(blocks: Sequence[Block], headline: str) -> str:
    """HTML of report blocks inside a scoped element, the verdict line on top; every text escaped (the
    report's own renderer, `evalcore.present.report`, with `evalcore.core.safetext`)."""
    from evalcore.present.report import _html_block

    plotly_js = [False]
    body = "\n".join(_html_block(b, plotly_js) for b in blocks)
    return (
        f'{_CSS}<div class="evalcore-result"><div class="verdict"><strong>Verdict:</strong> '
        f"{html.escape(headline)}</div>\n{body}</div>"
    )


# --- score --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class ScoreResult:
    """Each model's outputs on the data: `table` has one row per model (n, accuracy with its 95% Wilson
    interval, rows from the cache and computed; generation: exact match and F1), `predictions` the
    engine's `Predictions` by model name."""

    data: EvalData
    table: pd.DataFrame
    predictions: dict[str, Predictions] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per model, as `python -m evalcore score` prints them."""
        from evalcore.tasks.kinds import kind_of

        kind = kind_of(self.data)
        return [kind.score_line(r) for r in self.table.itertuples()]

    def __repr__(self) -> str:
        return f"<ScoreResult {self.data.name}: " + "; ".join(self.lines()) + ">"

    def _repr_html_(self) -> str:
        from evalcore.present import report

        head = f"{self.data.name}: {len(self.data):,} rows"
        return _render([report.frame_table(self.table)], head)


def score(
    data: DataLike,
    models: str | Sequence[str],
    *,
    cache: bool | PredictionCache | None = True,
    batch_size: int = 32,
    progress: ProgressFactory | None = None,
    **data_options: Any,
) -> ScoreResult:
    """Score `data` with each model spec (only texts missing from the prediction cache run); on generation
    data, score each model's answers against the gold answers. The same function `python -m evalcore score`
    runs."""
    import pandas as pd

    from evalcore.tasks.kinds import kind_of
    from evalcore.tasks.pipeline import model_outputs

    loaded = load(data, **data_options)
    specs = [models] if isinstance(models, str) else list(models)
    if not specs:
        raise ModelError("score: give at least one model spec")
    store, warnings = _cache(cache)
    kind = kind_of(loaded)
    rows, preds = [], {}
    for spec in specs:
        out, note = model_outputs(loaded, spec, store, batch_size=batch_size, progress=progress)
        warnings += [note] if note else []
        preds[out.model] = out
        rows.append(kind.score_row(loaded, spec, out))  # the task kind's numbers
    return ScoreResult(data=loaded, table=pd.DataFrame(rows), predictions=preds, warnings=warnings)


# --- discover -----------------------------------------------------------------------------------------


@dataclass(repr=False)
class DiscoverResult:
    """Slices where the candidate is worse than on the rest, found on one random half of the rows and tested
    once on the other: `discovery` is the engine's record, `table` one row per candidate slice."""

    discovery: Discovery
    comparison: CompareResult

    @property
    def table(self) -> pd.DataFrame:
        return self.discovery.table()

    @property
    def confirmed(self) -> list[str]:
        """Names of the slices confirmed on the held-out half."""
        return [c.name for c in self.discovery.confirmed]

    def slice_set(self, only_confirmed: bool = True) -> SliceSet:
        """The found slices as a slice set: pass it to `compare(slices=...)`."""
        return self.discovery.slice_set(only_confirmed)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the confirmed slices as a slice file (`discover --out`)."""
        from evalcore.analyze.slices import save_slices

        return save_slices(os.fspath(path), self.slice_set())

    def lines(self) -> list[str]:
        from evalcore.decide.discover import discovery_text

        return discovery_text(self.discovery)

    def __repr__(self) -> str:
        return f"<DiscoverResult {' / '.join(self.discovery.summary_lines())}>"

    def _repr_html_(self) -> str:
        from evalcore.present.report import discovery_blocks

        n = len(self.confirmed)
        head = f"{n} slice{'s' if n != 1 else ''} confirmed worse than the rest"
        return _render(discovery_blocks(self.discovery, figures=True), head)


def _comparison(
    result: CompareResult | DataLike, baseline: str | None, candidate: str | None, options: dict[str, Any]
) -> CompareResult:
    if isinstance(result, CompareResult):
        if baseline or candidate or options:
            raise ConfigError(
                "a comparison is given: its models and options are already set (pass the data instead to compare anew)"
            )
        return result
    return compare(result, baseline, candidate, **options)


def discover(
    result: CompareResult | DataLike,
    baseline: str | None = None,
    candidate: str | None = None,
    *,
    depth: int = 2,
    bins: int = 4,
    min_support: int = 30,
    max_candidates: int = 10,
    alpha: float | None = None,
    screen_p: float = 0.05,
    seed: int = 0,
    beam: int = 200,
    features: Sequence[str] | None = None,
    include_model_outputs: bool = False,
    **compare_options: Any,
) -> DiscoverResult:
    """Search conjunctions of metadata features for slices where the candidate is worse than on the rest
    (`evalcore.decide.discover`), on a comparison from `compare`, or on data (then `compare` runs first with
    `compare_options`). `alpha`: the false discovery rate (default: the comparison's, 0.05)."""
    from evalcore.decide.discover import DiscoverySettings, discover_slices

    comparison = _comparison(result, baseline, candidate, compare_options)
    if alpha is None:
        alpha = float(comparison.regression_metrics.attrs.get("alpha", 0.05))
    settings = DiscoverySettings(
        depth=depth,
        bins=bins,
        min_support=min_support,
        max_candidates=max_candidates,
        alpha=alpha,
        screen_p=screen_p,
        seed=seed,
        beam=beam,
        features=tuple(features) if features else None,
        include_model_outputs=include_model_outputs,
    )
    return DiscoverResult(discovery=discover_slices(comparison.df_eval, settings), comparison=comparison)


def _discovery(d: DiscoverResult | Discovery | None) -> Discovery | None:
    return d.discovery if isinstance(d, DiscoverResult) else d


# --- explain ------------------------------------------------------------------------------------------


@dataclass(repr=False)
class ExplainResult:
    """Which tokens pushed the candidate to its wrong label on one slice's regressed rows (occlusion, live
    models only): `tokens` and `groups` (word classes) are DataFrames with shares and 95% intervals."""

    explanations: RegressionExplanations

    @property
    def tokens(self) -> pd.DataFrame:
        return self.explanations.tokens

    @property
    def groups(self) -> pd.DataFrame:
        return self.explanations.groups

    @property
    def rows(self) -> pd.DataFrame:
        return self.explanations.rows

    def message(self) -> str:
        return self.explanations.message()

    def __repr__(self) -> str:
        return f"<ExplainResult {self.message()}>"

    def _repr_html_(self) -> str:
        from evalcore.present.report import explanation_blocks

        return _render(explanation_blocks(self.explanations, figures=True), self.message())


def explain(
    result: CompareResult,
    slice: str,
    *,
    discovery: DiscoverResult | Discovery | None = None,
    max_rows: int = 100,
    seed: int = 0,
    top_k: int = 3,
) -> ExplainResult:
    """Explain the regressed rows (baseline right, candidate wrong) of `slice`: a slice of the comparison, a
    slice of `discovery`, or rule text. The candidate must be a live model (`vader`, `demo`, `hf:`);
    otherwise a `ModelError` says why."""
    from evalcore.analyze.rules import mask
    from evalcore.probe.explain_aggregate import explain_slice

    found = _discovery(discovery)
    extra = {f.name: (f.text, mask(f.rule, result.df_eval)) for f in found.candidates} if found else {}
    out = explain_slice(result.analysis, slice, extra=extra, max_rows=max_rows, seed=seed, top_k=top_k)
    if "candidate" in out.unavailable:
        raise ModelError(f"explain: {out.unavailable['candidate']}")
    return ExplainResult(out)


def _explanations(e: ExplainResult | RegressionExplanations | None) -> RegressionExplanations | None:
    return e.explanations if isinstance(e, ExplainResult) else e


# --- push ---------------------------------------------------------------------------------------------


def push(
    result: CompareResult,
    *,
    project: str = "evalcore",
    entity: str | None = None,
    run_name: str | None = None,
    mode: str | None = None,
    discovery: DiscoverResult | Discovery | None = None,
    explanations: ExplainResult | RegressionExplanations | None = None,
) -> PushResult:
    """Log the comparison (tables, slices, charts, verdict) to a W&B run: online with an API key, else
    offline with the `wandb sync` command in the result (`mode` forces one). As `python -m evalcore push`."""
    from evalcore.present.wandb_push import push_to_wandb

    return push_to_wandb(
        result.analysis,
        project=project,
        entity=entity,
        run_name=run_name,
        mode=mode,
        gates=result.verdict,
        discovery=_discovery(discovery),
        explanations=_explanations(explanations),
    )
