"""Analyses of synthetic predictions through the public pipeline (precomputed model columns)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.slices import Slice, SliceSet
from evalcore.io.data import EvalData, PrecomputedModel
from evalcore.stats.results import Analysis
from evalcore.tasks.pipeline import run_analysis


def analysis_of(
    gold: Sequence[str],
    base: Sequence[str],
    cand: Sequence[str],
    labels: Sequence[str],
    flags: Mapping[str, np.ndarray] | None = None,
    base_conf=None,
    cand_conf=None,
    **options,
) -> Analysis:
    """`run_analysis` on a table whose two prediction columns are the models; each boolean column of
    `flags` becomes a data column and a slice `<name> == true`."""
    flags = dict(flags or {})
    n = len(gold)
    df = pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "text": [f"row {i}" for i in range(n)],
            "label": list(gold),
            "base_model": list(base),
            "cand_model": list(cand),
            **flags,
        }
    )
    models = {"base_model": PrecomputedModel("base_model"), "cand_model": PrecomputedModel("cand_model")}
    if base_conf is not None:
        df["base_model_conf"] = base_conf
        models["base_model"] = PrecomputedModel("base_model", "base_model_conf")
    if cand_conf is not None:
        df["cand_model_conf"] = cand_conf
        models["cand_model"] = PrecomputedModel("cand_model", "cand_model_conf")
    data = EvalData(name="synthetic", df=df, labels=tuple(labels), source="synthetic", precomputed=models)
    slices = SliceSet([Slice(name, f"{name} == true") for name in flags])
    return run_analysis(data, "base_model", "cand_model", slices=slices, **options)


def paired_outcomes(
    n: int,
    base_right: int,
    cand_right_of_base_right: int,
    cand_right_of_base_wrong: int,
    labels: Sequence[str] = ("a", "b"),
) -> tuple[list[str], list[str], list[str]]:
    """gold / baseline / candidate label lists with exactly these paired counts (first label is gold)."""
    gold = [labels[0]] * n
    right, wrong = labels[0], labels[1]
    base = [right] * base_right + [wrong] * (n - base_right)
    cand = (
        [right] * cand_right_of_base_right
        + [wrong] * (base_right - cand_right_of_base_right)
        + [right] * cand_right_of_base_wrong
        + [wrong] * (n - base_right - cand_right_of_base_wrong)
    )
    return gold, base, cand
