"""Batched, cached scoring: texts in, `Predictions` out, each distinct text run through a model once.

Why this shape:
- texts are deduplicated by sha256 and looked up in the `PredictionCache` first; the model runs
  only on the missing ones, so a second run over the same data runs no model at all;
- missing texts are scored in batches sorted by length (then put back in order): a padded batch
  costs as much as its longest text, so grouping similar lengths removes most padding work;
- each batch is committed to the cache as soon as it is computed, so a killed run loses at most
  the batch in flight and the next run resumes from there;
- `predict_batch` and `length_sorted_batches` are pure functions, which is what the actors of
  `evalcore.predict.ray_scoring` run on each block when scoring past one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from evalcore.core.errors import ModelError
from evalcore.predict.models import PrecomputedPredictor, PredictionBatch, Predictor

if TYPE_CHECKING:
    import pandas as pd

    from evalcore.io.data import EvalData
    from evalcore.predict.cache import PredictionCache

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
    ids: np.ndarray | pd.Series | None = None  # the data's row ids (a string Series when scored on data)
    # A top-label score that is not a probability (VADER's lexicon share) stays here, labelled by
    # `score_kind`, and `conf` is NaN (unknown), so no confidence-based number is computed from it.
    score: np.ndarray | None = None
    score_kind: str = "probability"
    # How the model's labels were put onto the task's (a 3-way model on binary data, VADER's sign rule):
    # the notes the Data & models page shows beside the mapping table, for the CLI and the report too.
    projection: tuple[str, ...] = ()

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
        raise ModelError(
            f"model {predictor.name} returned probabilities of shape {batch.probs.shape} "
            f"for {len(texts)} texts and {len(predictor.labels)} labels"
        )
    return batch


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index batches over `texts`, shortest first (stable), so each batch pads little."""
    if batch_size < 1:
        raise ModelError(f"batch_size must be a positive number of texts, got {batch_size}")
    order = np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def score_texts(
    texts: Sequence[str],
    predictor: Predictor,
    cache: PredictionCache | None = None,
    *,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
) -> Predictions:
    """Score texts through the cache: only texts it lacks reach the model, in length-sorted batches.

    `progress(done, total)` counts distinct texts (cache hits count as done at once).
    """
    from evalcore.predict.cache import PredictionCache

    if not predictor.live:
        raise ModelError(
            f"precomputed model {predictor.name} cannot score new text; "
            f"use score(data, ...) on the data its predictions belong to"
        )
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
    return _assemble(
        predictor, hashes, results, n_cached=len(texts) - n_computed, n_computed=n_computed, n_model_texts=len(missing)
    )


def _assemble(
    predictor: Predictor, hashes: Sequence[str], results: dict[str, tuple[int, np.ndarray]], **counts: int
) -> Predictions:
    k = len(predictor.labels)
    pred = np.fromiter((results[h][0] for h in hashes), dtype=np.int64, count=len(hashes))
    probs = (
        np.stack([results[h][1] for h in hashes]).astype(np.float32) if hashes else np.zeros((0, k), dtype=np.float32)
    )
    return _predictions(
        predictor,
        PredictionBatch(pred=pred, probs=probs, conf=probs[np.arange(len(pred)), pred]),
        n_total=len(hashes),
        **counts,
    )


def _predictions(predictor: Predictor, batch: PredictionBatch, **fields: Any) -> Predictions:
    conf = np.asarray(batch.conf, dtype=np.float32)
    kind = getattr(predictor, "score_kind", "probability")
    score = None
    if kind != "probability":
        score, conf = conf, np.full(len(conf), np.nan, dtype=np.float32)
    return Predictions(
        model=predictor.name,
        spec=predictor.spec,
        labels=predictor.labels,
        pred=np.array(predictor.labels, dtype=object)[batch.pred],
        conf=conf,
        probs=batch.probs,
        fingerprint=predictor.fingerprint,
        score=score,
        score_kind=kind,
        projection=tuple(getattr(predictor, "notes", ()) or ()),
        **fields,
    )


def _row_ids(df: pd.DataFrame) -> pd.Series:
    """The data's row ids as a pandas string Series over the data's own Arrow buffers: every model scored on
    the data shares them, and a million ids cost no Python strings (~60 MB as objects)."""
    return df["id"].astype("str").reset_index(drop=True)


def score(data: EvalData, predictor: Predictor, cache: PredictionCache | None = None, **kw: Any) -> Predictions:
    """Predictions for the rows of `data` (precomputed models read theirs; live ones go through
    `score_texts`). The result carries the row ids."""
    if tuple(predictor.labels) != tuple(data.labels):
        raise ModelError(
            f"model {predictor.name} was mapped onto labels {', '.join(predictor.labels)} "
            f"but {data.name} has labels {', '.join(data.labels)}; load it with data.labels"
        )
    ids = _row_ids(data.df)
    if isinstance(predictor, PrecomputedPredictor):
        out = _predictions(predictor, predictor.predict_rows(data), n_total=len(data), precomputed=True)
        progress = kw.get("progress")
        if progress:
            progress(len(data), len(data))
    else:
        out = score_texts(data.texts, predictor, cache, **kw)
    out.ids = ids
    return out
