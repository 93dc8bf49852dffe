"""Batched, cached scoring on real models and a real SQLite cache; resume after a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from test_models import make_tiny_model

from evalcore.core.errors import ModelError
from evalcore.io.load import load_data
from evalcore.predict.cache import PredictionCache
from evalcore.predict.load import load_predictor
from evalcore.predict.scoring import length_sorted_batches, score, score_texts

SENTIMENT = ("negative", "neutral", "positive")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", {0: "negative", 1: "neutral", 2: "positive"})


@pytest.fixture(scope="module")
def lab():
    return load_data("lab")


def test_second_run_computes_nothing(lab, tmp_path: Path) -> None:
    predictor = load_predictor("vader", lab.labels)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        first = score(lab, predictor, cache)
        assert (first.n_cached, first.n_computed) == (0, 500)
        second = score(lab, predictor, cache)
    assert (second.n_cached, second.n_computed, second.n_model_texts) == (500, 0, 0)
    assert second.summary == "500/500 rows from cache"
    np.testing.assert_array_equal(first.pred, second.pred)
    np.testing.assert_array_equal(first.probs, second.probs)  # float32 round trip is bit-exact
    np.testing.assert_array_equal(second.to_frame()["id"], lab.df["id"])


def test_order_is_restored_after_length_sorting(lab, tiny_model: Path) -> None:
    texts = lab.texts[:40]
    assert [len(texts[i]) for i in np.concatenate(length_sorted_batches(texts, 7))] == sorted(map(len, texts))
    predictor = load_predictor(f"hf:{tiny_model}", SENTIMENT)
    out = score_texts(texts, predictor, batch_size=7)
    one_by_one = np.concatenate([predictor.predict([t]).probs for t in texts])
    np.testing.assert_allclose(out.probs, one_by_one, atol=1e-5)  # padding must not change outputs
    np.testing.assert_array_equal(out.pred, np.array(SENTIMENT)[one_by_one.argmax(axis=1)])


def test_duplicates_are_scored_once(lab, tmp_path: Path) -> None:
    texts = lab.texts[:20] * 3 + lab.texts[:5]
    calls: list[tuple[int, int]] = []
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        predictor = load_predictor("vader", SENTIMENT)
        out = score_texts(texts, predictor, cache, batch_size=8, progress=lambda d, t: calls.append((d, t)))
        assert cache.count(predictor.fingerprint) == 20
    assert (out.n_total, out.n_computed, out.n_cached, out.n_model_texts) == (65, 65, 0, 20)
    np.testing.assert_array_equal(out.pred[:20], out.pred[20:40])
    assert calls[0] == (0, 20) and calls[-1] == (20, 20)


def test_partial_cache_runs_only_the_missing_texts(lab, tmp_path: Path) -> None:
    predictor = load_predictor("vader", SENTIMENT)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        score_texts(lab.texts[:30], predictor, cache)
        out = score_texts(lab.texts[:50], predictor, cache)
    assert (out.n_cached, out.n_computed) == (30, 20)


def test_precomputed_models_bypass_the_cache(lab, tmp_path: Path) -> None:
    predictor = load_predictor("roberta", lab.labels, data=lab)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        out = score(lab, predictor, cache)
        assert cache.count() == 0
    assert out.precomputed and (out.n_cached, out.n_computed) == (0, 0)
    with pytest.raises(ModelError, match="precomputed model roberta cannot score new text"):
        score_texts(["hello"], predictor)


def test_cache_resumes_after_a_kill(lab, tiny_model: Path, tmp_path: Path) -> None:
    """A scoring process killed mid-run keeps every committed batch; the next run does the rest."""
    db = tmp_path / "c.sqlite"
    texts_file = tmp_path / "texts.txt"
    texts = [t.replace("\n", " ") for t in lab.texts[:300]]
    texts_file.write_text("\n".join(texts), encoding="utf-8")
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from evalcore.predict.cache import PredictionCache
        from evalcore.predict.load import load_predictor
        from evalcore.predict.scoring import score_texts
        texts = Path({str(texts_file)!r}).read_text(encoding="utf-8").split("\\n")
        predictor = load_predictor({f"hf:{tiny_model}"!r}, {SENTIMENT!r})
        # a slow model: each batch takes a while, so the kill lands mid-run
        score_texts(texts, predictor, PredictionCache(Path({str(db)!r})), batch_size=8,
                    progress=lambda done, total: time.sleep(0.25))
    """)
    predictor = load_predictor(f"hf:{tiny_model}", SENTIMENT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 120
        with PredictionCache(db) as watcher:
            while watcher.count(predictor.fingerprint) < 24:
                assert proc.poll() is None, "the scoring process ended before it could be killed"
                assert time.monotonic() < deadline, "no batch reached the cache in 120 s"
                time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    with PredictionCache(db) as cache:
        assert cache.integrity_check() == "ok"
        done = cache.count(predictor.fingerprint)
        assert 24 <= done < 300 and done % 8 == 0  # whole batches only
        out = score_texts(texts, predictor, cache, batch_size=8)
        assert (out.n_cached, out.n_computed) == (done, 300 - done)
        assert cache.count(predictor.fingerprint) == 300
    fresh = score_texts(texts, predictor, batch_size=8)
    np.testing.assert_allclose(out.probs, fresh.probs, atol=1e-5)
