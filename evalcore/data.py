"""Datasets in, one shape out: rows `id, text, label` (labels as strings) plus extra columns.

Placeholder: loaders land in the next commit. The `EvalData` contract below is stable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class PrecomputedModel:
    """Predictions shipped with the data: a column of predicted labels and an optional confidence."""

    pred_col: str
    conf_col: str | None = None


@dataclass
class EvalData:
    """A loaded dataset.

    `df` has columns `id` (str, unique), `text` (str, non-empty), `label` (str, one of `labels`)
    and any extra columns of the source. `labels` is the ordered label set: model probability
    vectors use this order. `precomputed` names the models whose predictions are columns of `df`.
    """

    name: str
    df: pd.DataFrame
    labels: tuple[str, ...]
    source: str
    precomputed: dict[str, PrecomputedModel] = field(default_factory=dict)
    default_models: tuple[str, str] | None = None

    def __len__(self) -> int:
        return len(self.df)

    @property
    def texts(self) -> list[str]:
        return self.df["text"].tolist()
