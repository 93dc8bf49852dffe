"""Scored results that come back after a refresh: stress scoring, perturbation tests, discovery and a
slice's explanations in aggregate.

A result is derived (tables, charts): it is never saved. What produced it is: each run records its
settings in the workspace's drafts file (`state.keep_run`), and a fresh session (a refreshed browser,
a second tab) reruns it from them: stress cases and perturbations through the prediction cache,
discovery from its seed (deterministic, a fraction of a second), all by themselves. An explanation
in aggregate comes back by itself while the server still holds it in memory, else with one click
(it re-runs the models on altered texts, which no cache holds).

The pages that draw these results (Stress tests, Slices, Examples) and the Report & W&B page, which
includes them, call the same functions, so a result comes back on whichever page the user opens first.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from evalcore.analyze.tables import ROLES
from evalcore.core import units
from evalcore.core.errors import DataError, EvalcoreError
from ui import engine, state
from ui.widgets import progress_bar, shown_errors

RESTORED = "ec_restored"  # {kind: True} for the results this session got back from a run record


# --- models and slices -------------------------------------------------------------------------------


def distinct(predictors: list) -> list:
    """The stress tables key models by name, and `vader` and `vader:0.3` are both named 'vader': the
    candidate then goes by its spec (a shallow copy, so the cached predictor keeps its name)."""
    base, cand = predictors
    if base.name != cand.name:
        return predictors
    twin = copy.copy(cand)
    twin.name = cand.spec if cand.spec != base.name else f"{cand.name} (candidate)"
    return [base, twin]


def predictors(models: dict[str, str], data: Any, dkey: str) -> list:
    if models["baseline"] == models["candidate"]:
        raise DataError(f"baseline and candidate are both {models['baseline']!r}: choose two different live models")
    return distinct([engine.get_predictor(models[role], data, dkey) for role in ROLES])


def slice_accuracy(rows: pd.DataFrame | None, preds: list) -> dict[str, float] | None:
    """Accuracy of each stress model on the targeted slice's rows (scored through the cache)."""
    from evalcore.predict.scoring import score_texts

    if rows is None or rows.empty:
        return None
    gold = rows["label"].astype(str).to_numpy()
    out = {}
    for p in preds:
        scored = score_texts(
            rows["text"].tolist(),
            p,
            cache=engine.prediction_cache(),
            progress=progress_bar(f"Scoring the slice with {p.name}"),
        )
        out[p.name] = float((np.asarray(scored.pred, dtype=object).astype(str) == gold).mean())
    return out


# --- stress cases and perturbations ------------------------------------------------------------------


def score_key(cases: list, models: dict[str, str], threshold: float, target: str | None, dkey: str) -> str:
    """What a stress scoring depends on: a change re-scores."""
    return engine.key_of([[c.to_dict() for c in cases], models, threshold, target, dkey])


def score_cases(
    data: Any,
    dkey: str,
    stress_set: Any,
    models: dict[str, str],
    threshold: float,
    target: str | None,
    target_rows: pd.DataFrame | None,
) -> dict:
    """Score the stress cases with two live models (through the prediction cache), keep the result in the
    session and record the run."""
    from evalcore.probe.stress import score_stress

    preds = predictors(models, data, dkey)
    result = score_stress(
        stress_set.cases,
        *preds,
        cache=engine.prediction_cache(),
        conf_threshold=threshold,
        slice_accuracy=slice_accuracy(target_rows, preds),
        progress=progress_bar("Scoring the cases"),
    )
    entry = {
        "key": score_key(stress_set.cases, models, threshold, target, dkey),
        "models": dict(models),
        "result": result,
        "set": stress_set,
        "data_key": dkey,
    }
    st.session_state[state.STRESS_RESULT] = entry
    state.keep_run("stress", {"data_key": dkey, "models": dict(models), "threshold": threshold, "target": target})
    return entry


def perturb_texts(
    source: str, cases: list, target: str | None, target_rows: pd.DataFrame | None, data: Any
) -> tuple[list[str], str]:
    """The texts a perturbation run edits, and where they come from (for the caption and the report)."""
    if source == "cases":
        texts, origin = [c.text for c in cases], units.count(len(cases), "stress case")
    else:
        texts = (target_rows if target_rows is not None else data.df)["text"].tolist()
        origin = (
            f"slice {target} ({units.count(len(texts), 'row')})"
            if target_rows is not None
            else f"all {units.count(len(texts), 'dataset row')}"
        )
    if not texts:
        raise DataError("no texts to perturb: add cases, or choose the slice's rows")
    return texts, origin


def run_perturbations(
    data: Any, dkey: str, models: dict[str, str], settings: dict[str, Any], texts: list[str], origin: str
) -> dict:
    """CheckList-style perturbation tests (`settings`: generators, clear_conf, high_conf, max_cases, source,
    target), kept in the session and recorded."""
    from evalcore.probe.perturb import Expectation, get_generators, run_perturbation_tests

    expectation = Expectation("DIR", clear_conf=float(settings["clear_conf"]), high_conf=float(settings["high_conf"]))
    generators = get_generators(list(settings["generators"]), expectation)
    preds = predictors(models, data, dkey)
    result = run_perturbation_tests(
        texts,
        preds,
        generators,
        max_cases_per_generator=int(settings["max_cases"]),
        cache=engine.prediction_cache(),
        progress=progress_bar("Scoring"),
    )
    entry = {"result": result, "source": origin, "models": [p.name for p in preds], "data_key": dkey}
    st.session_state[state.PERTURB_RESULT] = entry
    state.keep_run("perturb", {"data_key": dkey, "models": dict(models), **settings})
    return entry


def stress_record(dkey: str) -> dict | None:
    """The last stress scoring's settings, when this session has no result and it was on this data."""
    record = state.run_record("stress")
    if st.session_state.get(state.STRESS_RESULT) is not None or not record or record.get("data_key") != dkey:
        return None
    return record if isinstance(record.get("models"), dict) else None


def perturb_record(dkey: str) -> dict | None:
    record = state.run_record("perturb")
    if st.session_state.get(state.PERTURB_RESULT) is not None or not record or record.get("data_key") != dkey:
        return None
    needed = ("models", "generators", "clear_conf", "high_conf", "max_cases", "source")
    return record if all(k in record for k in needed) else None


def mark_restored(kind: str) -> None:
    st.session_state.setdefault(RESTORED, {})[kind] = True


def restored(kind: str) -> bool:
    return bool(st.session_state.get(RESTORED, {}).get(kind))


# --- discovery and explanations -------------------------------------------------------------------------


def record_discovery(comparison_key: str, settings: Any) -> None:
    state.keep_run("discovery", {"comparison_key": comparison_key, "settings": asdict(settings)})


def restore_discovery(comp: Any) -> dict | None:
    """This session's discovery on `comp`, rerun from the workspace's last record when the session has none
    (seeded: the same slices)."""
    from evalcore.decide.discover import DiscoverySettings

    entry = state.comparison_result(state.DISCOVERY_RESULT, comp.key)
    record = state.run_record("discovery")
    if entry is not None or not record or record.get("comparison_key") != comp.key:
        return entry
    try:
        settings = DiscoverySettings(**record["settings"])
        found = engine.get_discovery(comp, settings)
    except (EvalcoreError, TypeError, KeyError, ValueError):
        return None
    st.session_state[state.DISCOVERY_RESULT] = {"result": found, "comparison_key": comp.key, "settings": settings}
    mark_restored("discovery")
    return st.session_state[state.DISCOVERY_RESULT]


def record_explanation(comparison_key: str, slice_name: str, max_rows: int) -> None:
    state.keep_run("explain", {"comparison_key": comparison_key, "slice": slice_name, "max_rows": int(max_rows)})


def explanation_record(comp: Any) -> dict | None:
    """The last explanation in aggregate's settings on this comparison, when this session has none."""
    record = state.run_record("explain")
    if state.comparison_result(state.EXPLAIN_RESULT, comp.key) is not None or not record:
        return None
    if record.get("comparison_key") != comp.key or not isinstance(record.get("slice"), str):
        return None
    return record if isinstance(record.get("max_rows"), int) else None


def explain(ws: Any, comp: Any, slices: Any, results: Any, pick: str, extra: dict, max_rows: int) -> dict:
    """Explain a slice's regressed rows with both models; kept in the session and recorded."""
    result = engine.get_regression_explanations(ws, comp, slices, results, pick, extra, max_rows=int(max_rows))
    entry = {"result": result, "comparison_key": comp.key, "slice": pick, "max_rows": int(max_rows)}
    st.session_state[state.EXPLAIN_RESULT] = entry
    record_explanation(comp.key, pick, max_rows)
    return entry


def restore_explanation(ws: Any, comp: Any, slices: Any, results: Any, *, cached_only: bool) -> dict | None:
    """Bring the last explanation back: by itself when the server still holds it (`cached_only`), else only
    when asked (the caller's button)."""
    from ui.explain_view import discovered_slices

    record = explanation_record(comp)
    if record is None:
        return None
    extra = discovered_slices(comp, slices)
    known = set(results.masks) | set(extra)
    if record["slice"] not in known:
        return None
    if cached_only and not engine.has_regression_explanations(
        comp, slices, record["slice"], extra, max_rows=record["max_rows"]
    ):
        return None
    entry = explain(ws, comp, slices, results, record["slice"], extra, record["max_rows"])
    mark_restored("explain")
    return entry


# --- everything at once (the Report & W&B page) --------------------------------------------------------------


def restore_all(ws: Any, comp: Any, slices: Any, results: Any) -> list[str]:
    """Every result the workspace's run records describe and this session lacks, rerun (an explanation only
    when the server still holds it). Returns what still needs a click on its own page."""
    from evalcore.probe.stress import StressSet

    data, dkey = comp.data, engine.data_key(ws.data)
    labels = [str(lab) for lab in data.labels]
    pending = []
    with shown_errors(stop=False):
        record = stress_record(dkey)
        stress_set = StressSet.from_dict(ws.stress, labels) if record else None
        if record and stress_set.cases:
            with st.spinner("Restoring your last stress scoring from the prediction cache…"):
                target = record.get("target")
                score_cases(
                    data,
                    dkey,
                    stress_set,
                    record["models"],
                    float(record.get("threshold", 0.8)),
                    target,
                    _rows(comp, results, target),
                )
            mark_restored("stress")
    with shown_errors(stop=False):
        record = perturb_record(dkey)
        if record:
            with st.spinner("Restoring your last perturbation tests from the prediction cache…"):
                target = record.get("target")
                cases = StressSet.from_dict(ws.stress, labels).cases
                texts, origin = perturb_texts(record["source"], cases, target, _rows(comp, results, target), data)
                run_perturbations(data, dkey, record["models"], _perturb_settings(record), texts, origin)
            mark_restored("perturb")
    restore_discovery(comp)
    with shown_errors(stop=False):
        if restore_explanation(ws, comp, slices, results, cached_only=True) is None and explanation_record(comp):
            pending.append("the explanations in aggregate (Examples page: one click)")
    return pending


def _perturb_settings(record: dict) -> dict:
    return {
        k: record[k] for k in ("generators", "clear_conf", "high_conf", "max_cases", "source", "target") if k in record
    }


def _rows(comp: Any, results: Any, target: str | None) -> pd.DataFrame | None:
    mask = results.masks.get(target) if target else None
    return None if mask is None else comp.df_eval[np.asarray(mask, dtype=bool)]
