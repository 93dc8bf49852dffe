"""Batched, cached scoring: texts in, `Predictions` out, each distinct text run through a model once.

Why this shape:
- texts are deduplicated by sha256 and looked up in the `PredictionCache` first; the model runs
  only on the missing ones, so a second run over the same data runs no model at all;
- missing texts are scored in batches sorted by length (then put back in order): a padded batch
  costs as much as its longest text, so grouping similar lengths removes most padding work;
- each batch is committed to the cache as soon as it is computed, so a killed run loses at most
  the batch in flight and the next run resumes from there;
- `predict_batch` is a pure function of (predictor, texts), which is what `ScoringActor` hands
  to Ray Data for scoring at scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from evalcore.errors import ModelError
from evalcore.models import (ModelSpec, PrecomputedPredictor, PredictionBatch, Predictor,
                             load_predictor)

if TYPE_CHECKING:
    import pandas as pd

    from evalcore.cache import PredictionCache
    from evalcore.data import EvalData

ProgressFn = Callable[[int, int], None]


@dataclass
class Predictions:
    """One model's outputs for a list of texts, plus where they came from.

    `pred` holds label strings, `probs` is (n, k) over `labels`. `n_cached` rows came from the
    cache, `n_computed` rows were computed in this run (n_cached + n_computed == n_total for live
    models; both 0 for precomputed ones), `n_model_texts` distinct texts went through the model.
    """

    model: str
    spec: str
    labels: tuple[str, ...]
    pred: np.ndarray
    conf: np.ndarray
    probs: np.ndarray
    n_total: int
    n_cached: int = 0
    n_computed: int = 0
    n_model_texts: int = 0
    fingerprint: str = ""
    precomputed: bool = False
    ids: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """Columns `[id,] pred, conf, prob_<label>...`, one row per text, in input order."""
        import pandas as pd

        frame = pd.DataFrame({"pred": self.pred, "conf": self.conf})
        for j, label in enumerate(self.labels):
            frame[f"prob_{label}"] = self.probs[:, j]
        if self.ids is not None:
            frame.insert(0, "id", self.ids)
        return frame

    def accuracy(self, gold: Sequence[str]) -> float:
        """Share of predictions equal to the gold labels (same order as the scored texts)."""
        return float((self.pred == np.asarray(gold, dtype=object)).mean())

    @property
    def summary(self) -> str:
        """The line the CLI ends with, e.g. `500/500 rows from cache`."""
        if self.precomputed:
            return f"{self.n_total}/{self.n_total} rows precomputed ({self.model})"
        return f"{self.n_cached}/{self.n_total} rows from cache"


def predict_batch(predictor: Predictor, texts: Sequence[str]) -> PredictionBatch:
    """Score texts with no cache and no side effects (checks the shape the predictor returns)."""
    batch = predictor.predict(list(texts))
    if batch.probs.shape != (len(texts), len(predictor.labels)):
        raise ModelError(f"model {predictor.name} returned probabilities of shape {batch.probs.shape} "
                         f"for {len(texts)} texts and {len(predictor.labels)} labels")
    return batch


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index batches over `texts`, shortest first (stable), so each batch pads little."""
    if batch_size < 1:
        raise ModelError(f"batch_size must be a positive number of texts, got {batch_size}")
    order = np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)),
                       kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def score_texts(texts: Sequence[str], predictor: Predictor, cache: PredictionCache | None = None, *,
                batch_size: int = 32, progress: ProgressFn | None = None) -> Predictions:
    """Score texts through the cache: only texts it lacks reach the model, in length-sorted batches.

    `progress(done, total)` counts distinct texts (cache hits count as done at once).
    """
    from evalcore.cache import PredictionCache

    if not predictor.live:
        raise ModelError(f"precomputed model {predictor.name} cannot score new text; "
                         f"use score(data, ...) on the data its predictions belong to")
    texts = list(texts)
    k = len(predictor.labels)
    hashes = PredictionCache.text_hashes(texts)
    first: dict[str, int] = {}
    for row, h in enumerate(hashes):
        first.setdefault(h, row)
    unique = list(first)
    found = cache.get_many(predictor.fingerprint, unique) if cache is not None else {}
    results = {h: v for h, v in found.items() if v[1].shape == (k,)}
    if results and cache is not None:
        cache.name_model(predictor.fingerprint, predictor.name, predictor.spec)
    missing = [h for h in unique if h not in results]
    if progress:
        progress(len(results), len(unique))
    missing_texts = [texts[first[h]] for h in missing]
    for idx in length_sorted_batches(missing_texts, batch_size):
        batch = predict_batch(predictor, [missing_texts[i] for i in idx])
        rows = [(missing[i], int(p), pr) for i, p, pr in zip(idx, batch.pred, batch.probs)]
        if cache is not None:
            cache.put_many(predictor.fingerprint, rows, name=predictor.name, spec=predictor.spec)
        results.update((h, (p, pr)) for h, p, pr in rows)
        if progress:
            progress(len(results), len(unique))
    computed = set(missing)
    n_computed = sum(h in computed for h in hashes)
    return _assemble(predictor, hashes, results, n_cached=len(texts) - n_computed,
                     n_computed=n_computed, n_model_texts=len(missing))


def _assemble(predictor: Predictor, hashes: Sequence[str], results: dict[str, tuple[int, np.ndarray]],
              **counts: int) -> Predictions:
    k = len(predictor.labels)
    pred = np.fromiter((results[h][0] for h in hashes), dtype=np.int64, count=len(hashes))
    probs = np.stack([results[h][1] for h in hashes]).astype(np.float32) if hashes \
        else np.zeros((0, k), dtype=np.float32)
    return _predictions(predictor, PredictionBatch(pred=pred, probs=probs,
                                                   conf=probs[np.arange(len(pred)), pred]),
                        n_total=len(hashes), **counts)


def _predictions(predictor: Predictor, batch: PredictionBatch, **fields: Any) -> Predictions:
    return Predictions(model=predictor.name, spec=predictor.spec, labels=predictor.labels,
                       pred=np.array(predictor.labels, dtype=object)[batch.pred],
                       conf=np.asarray(batch.conf, dtype=np.float32), probs=batch.probs,
                       fingerprint=predictor.fingerprint, **fields)


def score(data: EvalData, predictor: Predictor, cache: PredictionCache | None = None,
          **kw: Any) -> Predictions:
    """Predictions for the rows of `data` (precomputed models read theirs; live ones go through
    `score_texts`). The result carries the row ids."""
    if tuple(predictor.labels) != tuple(data.labels):
        raise ModelError(f"model {predictor.name} was mapped onto labels {', '.join(predictor.labels)} "
                         f"but {data.name} has labels {', '.join(data.labels)}; load it with data.labels")
    ids = data.df["id"].astype(str).to_numpy()
    if isinstance(predictor, PrecomputedPredictor):
        out = _predictions(predictor, predictor.predict_rows(data), n_total=len(data),
                           precomputed=True)
        progress = kw.get("progress")
        if progress:
            progress(len(data), len(data))
    else:
        out = score_texts(data.texts, predictor, cache, **kw)
    out.ids = ids
    return out


# ----- Ray Data ---------------------------------------------------------------------------------


class ScoringActor:
    """A callable class for `ray.data.Dataset.map_batches`: loads the model once per actor.

    >>> # ds.map_batches(ScoringActor, fn_constructor_kwargs={"spec": "vader", "labels": labels},
    >>> #                batch_size=32, concurrency=2)

    Input batches need a `text` column; the output adds `pred` (label), `conf` and `probs`.
    Live models only (precomputed predictions have nothing to compute).
    """

    def __init__(self, spec: str, labels: Sequence[str], max_length: int | None = None):
        kwargs = {"max_length": max_length} if max_length else {}
        self.predictor = load_predictor(spec, labels, **kwargs)
        self._labels = np.array(self.predictor.labels, dtype=object)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = predict_batch(self.predictor, [str(t) for t in batch["text"]])
        return {**batch, "pred": self._labels[out.pred], "conf": out.conf, "probs": out.probs}


def ray_score(texts: Sequence[str], spec: str, labels: Sequence[str], batch_size: int = 32,
              concurrency: int = 1) -> Predictions:
    """Score texts with Ray Data (`ScoringActor` actors); no cache. Ray must be initialised or
    installed (`ray.init` is called with defaults when it is not)."""
    import ray

    if not ray.is_initialized():
        ray.init()
    items = [{"row": i, "text": t} for i, t in enumerate(texts)]
    ds = ray.data.from_items(items).map_batches(
        ScoringActor, fn_constructor_kwargs={"spec": spec, "labels": list(labels)},
        batch_size=batch_size, concurrency=concurrency, batch_format="numpy")
    rows = sorted(ds.take_all(), key=lambda r: r["row"])
    labels = tuple(labels)
    probs = np.stack([r["probs"] for r in rows]).astype(np.float32) if rows \
        else np.zeros((0, len(labels)), dtype=np.float32)
    spec_obj = ModelSpec.parse(spec)
    return Predictions(model=spec_obj.name, spec=str(spec_obj), labels=labels,
                       pred=np.array([r["pred"] for r in rows], dtype=object),
                       conf=np.array([r["conf"] for r in rows], dtype=np.float32), probs=probs,
                       n_total=len(rows), n_computed=len(rows), n_model_texts=len(rows))
