"""Predictors: one interface from a list of texts to dataset labels, confidences and probabilities.

Placeholder contract; implementations (Hugging Face, VADER, precomputed, demo) land next.
A model spec string is the same everywhere (CLI, app, config):
  `vader`, `demo`, `hf:<hub id or local dir>[@revision]`, `file:<path>` or the name of a
  precomputed prediction column of the data (`roberta`, `gpt2` in the lab file).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class PredictionBatch:
    """Outputs for a batch: `pred` indexes into the predictor's `labels`; `probs` rows sum to 1
    (NaN rows when the source gives no probabilities); `conf` is the probability of `pred`."""

    pred: np.ndarray  # (n,) int
    probs: np.ndarray  # (n, k) float32
    conf: np.ndarray  # (n,) float32


class Predictor(ABC):
    """A model mapped onto a dataset's label set.

    `labels` are the dataset's labels, in the order of the probability columns.
    `fingerprint` changes whenever any output could change (kind, id/path, revision or weight hash,
    label mapping, max length); it keys the prediction cache.
    `live` is False for precomputed predictions, which cannot score new text.
    """

    name: str
    spec: str
    labels: tuple[str, ...]
    fingerprint: str
    live: bool = True
    label_mapping: dict[str, str]  # model label -> dataset label, for display

    @abstractmethod
    def predict(self, texts: Sequence[str]) -> PredictionBatch:
        """Score a batch of texts; no caching here (see `evalcore.scoring`)."""
