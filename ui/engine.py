"""Cached engine calls for the pages: each step recomputes only when its own inputs change.

- data, predictors and the prediction cache are process-wide resources (`st.cache_resource`):
  models load once per process;
- predictions are memoised per (data, model spec) in process memory, on top of the SQLite cache,
  so a second visit is instant and a restart re-reads the disk cache instead of re-running models;
- the feature table is memoised per (data, custom features), df_eval per (data, both specs, custom
  features, threshold), and slice results per
  (df_eval, slice set), so editing a slice rule re-runs only the metrics; inside them each slice's mask,
  confusion cells and calibration row are kept per (df_eval, rule) (`evalcore.stats.incremental`), so an edit of one
  slice reads that slice's rows only, then the statistics across slices run on counts;
- discovered slices per (df_eval, discovery settings); token explanations per (model, text, label) and
  a slice's explanations in aggregate per (df_eval, slice rule, sample settings).

Everything here raises `EvalcoreError` for user problems; pages show them with `ui.widgets.show_error`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import streamlit as st

from evalcore.analyze.features import CustomFeature
from evalcore.analyze.slices import SliceSet
from evalcore.core import memory, paths
from evalcore.core.errors import EvalcoreError
from evalcore.io.data import EvalData
from evalcore.io.load import load_data
from evalcore.predict.cache import PredictionCache
from evalcore.predict.load import load_predictor
from evalcore.predict.models import ModelSpec, Predictor
from evalcore.predict.scoring import Predictions, score
from evalcore.serve.workspace import Workspace
from evalcore.stats.results import Analysis, SliceResults
from evalcore.tasks.kinds import kind_of
from evalcore.tasks.pipeline import analyse, build_eval, eval_base

Progress = Callable[[int, int], None]


def key_of(value: Any) -> str:
    """A short stable key for JSON-able settings (data source, slice set, custom features)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


class _Memo:
    """A small thread-safe LRU for derived objects too large to copy on every rerun. Single flight: when
    several sessions ask for the same missing key at once (twenty browsers opening Report on one workspace),
    one computes it and the others wait for that result instead of each computing it again."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()
        self.flights: dict[str, Any] = {}  # key -> an RLock (reentrant: a make() that asks again)

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            flight = self.flights.setdefault(key, threading.RLock())
        with flight:  # the first caller computes; the others wait here, then find the value
            with self.lock:
                if key in self.items:
                    return self.items[key]
            try:
                value = make()
            except BaseException:
                with self.lock:
                    self.flights.pop(key, None)  # the waiters then try themselves
                raise
            with self.lock:
                self.items[key] = value
                self.flights.pop(key, None)
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
        return value

    __call__ = get  # a memo as `evalcore.stats.incremental.Parts` takes it (a callable, with `has`)

    def has(self, key: str) -> bool:
        return key in self.items


@st.cache_resource(show_spinner=False)
def _memos_for(home: str) -> dict[str, _Memo]:
    return {
        "predictions": _Memo(16),
        "features": _Memo(4),
        "df_eval": _Memo(6),
        "results": _Memo(24),
        "defaults": _Memo(8),
        "discovery": _Memo(8),
        "explanations": _Memo(256),
        "aggregate": _Memo(8),
        "parts": _Memo(160),
        "details": _Memo(32),
        "label_mix": _Memo(16),
    }  # per-slice masks (n bytes each), cells, calibration rows


def _memos() -> dict[str, _Memo]:
    """Memos per state folder, so two EVALCORE_HOMEs in one process never share results."""
    return _memos_for(str(paths.home()))


@st.cache_resource(show_spinner=False)
def _prediction_cache(path: str) -> PredictionCache:
    return PredictionCache(Path(path))


def prediction_cache() -> PredictionCache:
    """One SQLite cache per process and state folder (opening it runs an integrity check)."""
    return _prediction_cache(str(paths.cache_path()))


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def _load_data(settings_json: str) -> EvalData:
    from evalcore.io.allowed import gated

    settings = json.loads(settings_json)
    source = settings.pop("source")
    warming = _warm_imports()
    with gated():  # every file the loader opens must lie in the allowed folders (symlinks resolved per file)
        data = load_data(source, **settings)
    if warming is not None:  # the imports overlap the load only: no two threads importing in the page's code
        warming.join()
    memory.release_unused()
    return data


WARM_MODULES = ("scipy.stats", "plotly.graph_objects", "plotly.io", "pyarrow.parquet", "pyarrow.compute")


def _warm_imports() -> threading.Thread | None:
    """Import what the analysis and the charts need on a side thread while the data loads: on a cold server
    the first Compare imported ~2 s of modules after the load; reading Parquet and Arrow's kernels release
    the GIL, so part of that now overlaps. The caller joins the thread when the load is done. None when they
    are imported already."""
    missing = [m for m in WARM_MODULES if m not in sys.modules]
    if not missing:
        return None

    def run() -> None:
        import importlib

        for name in missing:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 (the page's own import reports it)
                return

    thread = threading.Thread(target=run, name="evalcore-warm-imports", daemon=True)
    thread.start()
    return thread


def get_data(settings: dict[str, Any]) -> EvalData:
    """The dataset the workspace points at (`{"source": ..., options...}`), only from the folders the
    server allows (`evalcore.serve.roots`): a saved or typed path elsewhere is refused before any read."""
    from evalcore.serve.roots import check_source, touch_upload

    clean = {k: v for k, v in settings.items() if v not in (None, "", [])}
    check_source(clean)
    touch_upload(clean.get("source"))  # an upload in use goes last when the uploads cap needs room
    return _load_data(json.dumps(clean, sort_keys=True))


def data_key(settings: dict[str, Any]) -> str:
    return key_of({k: v for k, v in settings.items() if v not in (None, "", [])})


def needs_data(spec: str) -> bool:
    """Precomputed models depend on the data's rows; live models only on its labels.
    An unparseable spec counts as live here; loading it reports the problem."""
    try:
        return not ModelSpec.parse(spec).live
    except EvalcoreError:
        return False


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _predictor(spec: str, labels: tuple[str, ...], dkey: str, _data: EvalData | None) -> Predictor:
    from evalcore.io.allowed import gated

    with gated():  # a predictions file only from the allowed folders
        return load_predictor(spec, labels, data=_data)


def demo_built() -> bool:
    from evalcore.predict.demo_model import demo_built as built

    return built()


def get_predictor(spec: str, data: EvalData, dkey: str) -> Predictor:
    """A predictor mapped onto the data's labels, loaded once per process.

    The demo transformer is built on first use (under a minute on a quiet 2-core machine), with a
    banner and a bar showing the time left; both are removed when it is done, so no stale message
    stays on the page. Its check on the lab rows fills the prediction cache.
    """
    if ModelSpec.parse(spec).kind == "demo" and not demo_built():
        from evalcore.predict.demo_model import build_demo_model
        from ui.widgets import step_bar

        banner = st.empty()
        banner.info(
            "Building the demo transformer (first use, under a minute): the top layer of MiniLM "
            "trained offline on the TweetEval validation split. This happens once; the model is "
            "saved under the evalcore folder."
        )
        try:
            build_demo_model(progress=step_bar("Building the demo transformer"), cache=prediction_cache())
        finally:
            banner.empty()
    from evalcore.serve.roots import check_spec

    check_spec(spec)  # a predictions file or model folder only from the allowed folders
    pinned = dkey if needs_data(spec) else ""
    return _predictor(spec, tuple(data.labels), pinned, data if pinned else None)


def predictions_ready(dkey: str, spec: str) -> bool:
    return _memos()["predictions"].has(f"{dkey}|{spec}")


def get_predictions(data: EvalData, dkey: str, spec: str, progress: Progress | None = None) -> Predictions:
    """Predictions of one model on the data: memory, then the SQLite cache, then the model. On generation
    data, a model's answers (an answer column, or a `file:` answers file from the allowed folders),
    aligned with the rows by `evalcore.tasks.pipeline.model_outputs`."""

    def make() -> Predictions:
        if not kind_of(data).scored:  # answers are read, not computed
            from evalcore.io.allowed import gated
            from evalcore.serve.roots import check_spec
            from evalcore.tasks.pipeline import model_outputs

            check_spec(spec)
            with gated():  # an answers file only from the allowed folders
                return model_outputs(data, spec)[0]
        predictor = get_predictor(spec, data, dkey)
        # a prediction column is read, never cached: its first read opens no SQLite cache (an integrity check)
        return score(data, predictor, prediction_cache() if predictor.live else None, progress=progress)

    return _memos()["predictions"].get(f"{dkey}|{spec}", make)


@dataclass
class Comparison:
    """What the analysis pages share: the data, both models' outputs, df_eval and its key."""

    data: EvalData
    baseline: Predictions
    candidate: Predictions
    df_eval: Any
    key: str


def custom_features(ws: Workspace) -> list[CustomFeature]:
    return [CustomFeature.from_dict(raw) for raw in ws.custom_features]


def get_comparison(ws: Workspace, progress: Callable[[str], Progress | None] | None = None) -> Comparison:
    """df_eval for the workspace's data, models, custom features and threshold."""
    from evalcore.core.errors import ModelError

    if not ws.baseline or not ws.candidate:
        raise ModelError(
            "no model applies to this data yet: on Data & models, choose a baseline and a candidate "
            "(for a task without shipped predictions, a predictions file `file:` or an `hf:` model)"
        )
    if ws.baseline == ws.candidate:
        raise ModelError(f"baseline and candidate are both {ws.baseline!r}: choose two different models")
    data = get_data(ws.data)
    dkey = data_key(ws.data)
    scored = kind_of(data).scored  # answers are read, not scored: no bar that would never move
    preds = [
        get_predictions(
            data, dkey, spec, progress(spec) if progress and scored and not predictions_ready(dkey, spec) else None
        )
        for spec in (ws.baseline, ws.candidate)
    ]
    ckey = key_of([dkey, ws.baseline, ws.candidate, ws.custom_features, ws.conf_threshold])
    custom = custom_features(ws)
    base = _memos()["features"].get(key_of([dkey, ws.custom_features]), lambda: _released(eval_base(data, custom)))
    df_eval = _memos()["df_eval"].get(
        ckey,
        lambda: _settled(build_eval(data, preds[0], preds[1], custom, conf_threshold=ws.conf_threshold, base=base)),
    )
    return Comparison(data=data, baseline=preds[0], candidate=preds[1], df_eval=df_eval, key=ckey)


def _released(value: Any) -> Any:
    memory.release_unused()
    return value


def _settled(value: Any) -> Any:
    """After the last cold build of a comparison (its df_eval): Arrow's freed pages back to the system, then the
    objects alive now (modules, the server's data and tables) moved out of the cyclic collector's sight
    (`gc.freeze`, after one collection so no garbage is kept). Streamlit runs a full collection after every
    script run; over the ~200,000 objects a loaded dashboard holds it took 0.1 s of each rerun, now it walks
    only what the run made. Frozen objects are still freed by reference counting (tables dropped from a memo
    hold no reference cycle); cycles among them that became garbage since (a closed session's objects) are
    collected here at the next cold build, which unfreezes first."""
    import gc

    memory.release_unused()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return value


def default_slice_set(ws: Workspace) -> tuple[SliceSet, list[str]]:
    """The task's default slices for the workspace's data (sentiment, generic or generation, empty ones
    left out) and the note on what was left out; shares the feature table with `get_comparison`."""
    data = get_data(ws.data)
    dkey = data_key(ws.data)
    base = _memos()["features"].get(key_of([dkey, []]), lambda: eval_base(data, []))
    # the kind's defaults (generation: the factoid-QA slices only on factoid answers)
    return _memos()["defaults"].get(dkey, lambda: kind_of(data).default_slices(base, data.labels))


def get_results(
    comp: Comparison,
    slices: SliceSet,
    conf_threshold: float,
    min_n: int = 30,
    alpha: float = 0.05,
    notes: list[str] | None = None,
    memos: dict[str, _Memo] | None = None,
) -> SliceResults:
    """Slice masks and metric tables; re-run only when the slice set or settings change. `notes`: what the
    default slice set left out (the same warning `run_analysis` gives the CLI, so the verdict's notes agree).
    `memos`: this state folder's memos, when the caller is not a page's run (`prefetch_analysis`)."""
    memos = _memos() if memos is None else memos
    rkey = key_of([comp.key, slices.to_json(), conf_threshold, min_n, alpha, notes or []])

    def make() -> SliceResults:
        from evalcore.stats.incremental import Parts

        # each slice's mask, cells and calibration kept per (df_eval, rule): an edit recomputes one slice's rows
        out = analyse(
            comp.df_eval,
            slices,
            comp.data.labels,
            conf_threshold=conf_threshold,
            min_n=min_n,
            alpha=alpha,
            parts=Parts(comp.key, memos["parts"]),
        )
        out.warnings = [*(notes or []), *out.warnings]
        return out

    return memos["results"].get(rkey, make)


def slice_mask(comp: Comparison, item: Any) -> Any:
    """One slice's boolean mask on df_eval, from the same per-(df_eval, rule) memo `get_results` fills: the
    Slices page's table of sizes reads the masks the analysis computed (the caller validated the rule)."""
    from evalcore.stats.incremental import Parts

    return Parts(comp.key, _memos()["parts"]).masks([item], comp.df_eval)[item.name]


def rule_mask(comp: Comparison, rule: Any, text: str) -> Any:
    """The mask of a rule being built (its canonical text `text`), through the same memo: the Slices page's
    preview reruns on every keystroke without reading the table again, and saving the rule as a slice finds
    its mask already there. Callers never write into it (it is shared by every session)."""
    from types import SimpleNamespace

    return slice_mask(comp, SimpleNamespace(name="", rule=rule, text=text))


def get_label_mix(comp: Comparison, slices: Any, masks: dict[str, Any], alpha: float) -> Any:
    """`evalcore.decide.label_mix.label_mix` of the slices on the Slices page, once per (df_eval, slice rules,
    alpha): a rerun of that page (each widget change) reads no row again."""
    from evalcore.decide.label_mix import label_mix

    key = key_of([comp.key, [(name, slices[name].text) for name in masks], list(comp.data.labels), alpha])
    return _memos()["label_mix"].get(key, lambda: label_mix(comp.df_eval, masks, comp.data.labels, alpha=alpha))


def slice_details(comp: Comparison, rule_text: str, mask: Any, view: str) -> dict[str, Any]:
    """Per role, the confusion matrix (`view` "confusion") or the reliability bins ("reliability") on one slice's
    rows (`mask` None: every row), once per (df_eval, rule, view): a rerun of Compare's detail section reads no
    row again, and a shut tab's view is never computed."""
    from evalcore.analyze.tables import ROLES, role_col
    from evalcore.stats.metrics import confusion, reliability_diagram

    def one(role: str) -> Any:
        df = comp.df_eval
        if view == "confusion":
            return confusion(df, mask, role, comp.data.labels)
        conf, correct = (df[role_col(role, f)].to_numpy() for f in ("conf", "correct"))
        if mask is not None:  # two columns of the slice's rows, not a copy of the whole table
            conf, correct = conf[mask], correct[mask]
        return reliability_diagram(conf, correct)

    return _memos()["details"].get(key_of([comp.key, rule_text, view]), lambda: {role: one(role) for role in ROLES})


def as_analysis(comp: Comparison, slices: SliceSet, results: SliceResults) -> Analysis:
    """The engine's `Analysis` record (for findings, the report and the W&B push)."""
    return Analysis(
        data=comp.data,
        baseline=comp.baseline,
        candidate=comp.candidate,
        df_eval=comp.df_eval,
        slices=slices,
        results=results,
        kind=kind_of(comp.data),
    )


def llm_endpoints() -> tuple[dict[str, Any], list[str]]:
    """LLM endpoints the server's operator configured ($EVALCORE_LLM_ENDPOINTS, then the
    `[llm.endpoints]` of .streamlit/secrets.toml); a visitor only ever picks one of them by name."""
    from evalcore.probe.llm import configured_endpoints

    try:
        secrets = st.secrets.to_dict() if len(st.secrets) else None
    except Exception:  # no secrets file (Streamlit raises its own not-found error): nothing configured there
        secrets = None
    return configured_endpoints(secrets)


def gate_config(ws: Workspace, task: str) -> tuple[Any, str | None]:
    """The workspace's gates for a task kind (its defaults where none is saved; a workspace keeps both
    kinds' gates side by side) and a message when the saved ones could not be read (the defaults apply
    until the user changes a gate)."""
    from evalcore.decide.gates import GateConfig

    try:
        return GateConfig.from_dict(ws.gates or None, task), None
    except EvalcoreError as exc:
        return GateConfig(task=task), (
            f"The saved gates could not be read ({exc}); the default gates apply until you change one."
        )


def current_verdict(ws: Workspace, analysis: Analysis) -> tuple[Any, Any, str | None]:
    """(Verdict, the stress result it used or None, a gate-loading message) for the analysis: the one engine
    function (`evalcore.decide.verdict.decide`) with the saved gates, and this session's stress results when they were
    computed on the same data; the CLI's `report --workspace` makes the same call."""
    from evalcore.decide.verdict import decide
    from ui import state

    config, message = gate_config(ws, analysis.task)
    entry = state.session_result(state.STRESS_RESULT, data_key(ws.data))
    stress = entry["result"] if entry else None
    return decide(analysis, config, stress=stress), stress, message


def prefetch_analysis(ws: Workspace, comp: Comparison | None, slices: SliceSet) -> threading.Thread | None:
    """Compute, on a side thread, what Compare will read for this slice set (`current_analysis`'s metric tables,
    then the findings' gold-label mix) right after a slice is saved: a user who saved a slice goes to Compare
    next, and its run then finds them in the memos (single flight: a run asking while the thread computes waits
    for that result instead of computing it again). Errors are left for the page to show. None: nothing to do."""
    if comp is None or ws.slices is None:  # the default slices carry notes only `current_analysis` knows
        return None
    memos, settings = _memos(), _result_settings(ws)

    def run() -> None:
        try:
            results = get_results(comp, slices, *settings, [], memos=memos)
            analysis = as_analysis(comp, slices, results)
            if analysis.kind.label_mix:
                from evalcore.decide.label_mix import label_mix_findings

                label_mix_findings(analysis)
        except Exception:  # noqa: BLE001 (Compare computes it again and shows the error)
            return

    thread = threading.Thread(target=run, name="evalcore-prefetch-analysis", daemon=True)
    thread.start()
    return thread


def current_analysis(ws: Workspace) -> tuple[Comparison, SliceSet, SliceResults]:
    """What every analysis page starts from: df_eval (scoring with progress bars if needed), the
    user's slices and their metric tables, with the workspace's saved settings, so Compare, the
    report and the W&B push always flag the same slices. Raises `EvalcoreError`; pages wrap it in
    `shown_errors`."""
    from ui import state
    from ui.widgets import scoring_progress

    comp = get_comparison(ws, progress=scoring_progress)
    slices = state.slices()
    notes = default_slice_set(ws)[1] if ws.slices is None else []
    return comp, slices, get_results(comp, slices, *_result_settings(ws), notes)


def _result_settings(ws: Workspace) -> tuple[float, int, float]:
    """The workspace's (confidence threshold, small-slice size, false discovery rate) as `get_results` keys them:
    `current_analysis` and `prefetch_analysis` must ask for the very same results."""
    return ws.conf_threshold, int(ws.min_n), float(ws.alpha)


# --- discovery and explanations (issue 14) ---------------------------------------------------------


def get_discovery(comp: Comparison, settings: Any) -> Any:
    """`evalcore.decide.discover.discover_slices` on the comparison's df_eval, once per (df_eval, settings):
    the run is seeded, so the same settings give the same slices."""
    from evalcore.decide.discover import discover_slices

    key = key_of([comp.key, asdict(settings)])
    return _memos()["discovery"].get(key, lambda: discover_slices(comp.df_eval, settings))


_threads = {"lock": threading.Lock(), "users": 0, "before": 1}


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one intra-op thread while explaining: on this busy 2-core machine one MiniLM tweet takes
    69 ms on one thread and ~0.5 s on torch's default (bench/bench_discovery.py), the threads mostly
    waiting for each other. torch's thread count is process-wide, so concurrent sessions share one
    count of users and the last one out restores the default. Nothing happens when torch is not loaded
    (VADER)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    with _threads["lock"]:
        if _threads["users"] == 0:
            _threads["before"] = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads["users"] += 1
    try:
        yield
    finally:
        with _threads["lock"]:
            _threads["users"] -= 1
            if _threads["users"] == 0:
                torch.set_num_threads(_threads["before"])


def explainable(spec: str, data: EvalData, dkey: str) -> str:
    """'' when the model can be explained, else why not (`evalcore.probe.explain.not_explainable`: precomputed
    predictions cannot score the altered texts an explanation needs). A live model is not loaded here:
    a page that only asks must not wait for a transformer to load."""
    from evalcore.probe.explain import not_explainable

    if not needs_data(spec):
        return ""
    return not_explainable(get_predictor(spec, data, dkey))


def get_explanation(spec: str, data: EvalData, dkey: str, text: str, label: str | None = None) -> Any:
    """Why the model gives `label` (None: its own prediction) to `text`: `evalcore.probe.explain.explain` (VADER's
    exact lexicon contributions, occlusion for other live models), once per (model, text, label).
    Raises `ModelError` for a precomputed model."""
    from evalcore.core.errors import ModelError
    from evalcore.probe.explain import explain, not_explainable

    predictor = get_predictor(spec, data, dkey)
    reason = not_explainable(predictor)
    if reason:
        raise ModelError(reason)
    pinned = dkey if needs_data(spec) else ""
    key = key_of([spec, pinned, list(data.labels), text, label])

    def make() -> Any:
        with one_thread():
            return explain(predictor, text, label)

    return _memos()["explanations"].get(key, make)


def get_regression_explanations(
    ws: Workspace,
    comp: Comparison,
    slices: SliceSet,
    results: SliceResults,
    slice_name: str,
    extra: dict[str, tuple[str, Any]] | None = None,
    *,
    max_rows: int,
    seed: int = 0,
    top_k: int = 3,
) -> Any:
    """`evalcore.probe.explain_aggregate.explain_slice` over one slice's regressed rows with the workspace's
    models, once per (df_eval, slice rule, max_rows, seed, top_k). `extra`: slices outside the saved set
    (name -> (rule text, mask)), e.g. this session's discovered slices."""
    from evalcore.probe.explain_aggregate import explain_slice

    key = _aggregate_key(comp, slices, slice_name, extra, max_rows, seed, top_k)

    def make() -> Any:
        dkey = data_key(ws.data)
        predictors = {}
        for role, spec in (("baseline", ws.baseline), ("candidate", ws.candidate)):
            twin = copy.copy(get_predictor(spec, comp.data, dkey))
            twin.name = comp.df_eval.attrs.get(role, twin.name)  # a copy: the cached predictor keeps its name
            predictors[role] = twin
        with one_thread():
            return explain_slice(
                as_analysis(comp, slices, results),
                slice_name,
                predictors=predictors,
                extra=extra,
                max_rows=max_rows,
                seed=seed,
                top_k=top_k,
            )

    return _memos()["aggregate"].get(key, make)


def _aggregate_key(
    comp: Comparison,
    slices: SliceSet,
    slice_name: str,
    extra: dict | None,
    max_rows: int,
    seed: int = 0,
    top_k: int = 3,
) -> str:
    if slice_name in slices:
        rule = slices[slice_name].text
    elif extra and slice_name in extra:
        rule = extra[slice_name][0]
    else:
        rule = slice_name
    return key_of([comp.key, slice_name, rule, max_rows, seed, top_k])


def has_regression_explanations(
    comp: Comparison, slices: SliceSet, slice_name: str, extra: dict | None = None, *, max_rows: int
) -> bool:
    """True when `get_regression_explanations` with these arguments would answer from memory (no model runs)."""
    return _memos()["aggregate"].has(_aggregate_key(comp, slices, slice_name, extra, max_rows))


# --- live answers on generation data (issue 11, item 6) ------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=1)
def _smollm2_loaded() -> Any:
    from evalcore.probe.answerers import load_smollm2

    return load_smollm2()


def _smollm2() -> Any:
    """SmolLM2, loaded once per server; while it loads, the spinner counts the seconds and says what the last
    load on this machine took (not a fixed promise)."""
    from evalcore.probe.answerers import smollm2_load_estimate

    with st.spinner(f"Loading SmolLM2-135M-Instruct once per server ({smollm2_load_estimate()})…", show_time=True):
        return _smollm2_loaded()


def _answerers(specs: dict[str, str]) -> dict[str, Any]:
    """Live answerers by role: SmolLM2 loads once per process; an endpoint only one the operator configured."""
    from evalcore.probe.answerers import SMOLLM2, load_answerer

    endpoints, _ = llm_endpoints()
    return {role: _smollm2() if spec == SMOLLM2 else load_answerer(spec, endpoints) for role, spec in specs.items()}


def get_answers(specs: dict[str, str], question: str, context: str, golds: list[str]) -> Any:
    """Both answerers' answers to one typed prompt with every score (`evalcore.probe.answerers.live_answers`)."""
    from evalcore.probe.answerers import live_answers

    with one_thread():
        return live_answers(_answerers(specs), question, context, golds)


def explain_answers(
    specs: dict[str, str], question: str, context: str, golds: list[str], metric: str = "f1"
) -> dict[str, Any]:
    """Per role, which question words the answer's score depends on (`evalcore.probe.explain.explain_answer`)."""
    from evalcore.probe.explain import explain_answer

    with one_thread():
        return {
            role: explain_answer(answerer, question, golds, context, metric=metric)
            for role, answerer in _answerers(specs).items()
        }
