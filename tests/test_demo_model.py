"""The demo model builder, on the real MiniLM checkpoint and the real TweetEval rows, shrunk to a
few training rows so it runs fast; the full build's time and accuracy live in bench/bench_demo.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalcore.io.load import load_data
from evalcore.predict.cache import PredictionCache
from evalcore.predict.demo_model import build_demo_model, demo_built, demo_model_dir, format_seconds
from evalcore.predict.load import load_predictor
from evalcore.predict.models import HFPredictor
from evalcore.predict.scoring import score

SENTIMENT = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[tuple[int, int, str]]]:
    """One small build (64 training tweets, 2 epochs) into its own home, shared by the tests."""
    home = tmp_path_factory.mktemp("demo_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALCORE_HOME", str(home))
    steps: list[tuple[int, int, str]] = []
    try:
        path = build_demo_model(lambda d, t, m: steps.append((d, t, m)), epochs=2, limit=64, batch_size=32)
    finally:
        mp.undo()
    return home, path, steps


def test_build_reports_progress_with_time_left_and_writes_a_standard_model(built, monkeypatch) -> None:
    home, path, steps = built
    monkeypatch.setenv("EVALCORE_HOME", str(home))
    assert path == demo_model_dir() and demo_built()
    done = [d for d, _, _ in steps]
    assert done == sorted(done) and len({t for _, t, _ in steps}) == 1  # monotonic, one total
    assert done[-1] == steps[-1][1] and all(d < steps[-1][1] for d in done[:-1])  # only the end is 100%
    phases = " ".join(m for _, _, m in steps)
    for phase in (
        "loading MiniLM",
        "encoding the training tweets once",
        "training epoch 2/2",
        "checking on the 500 lab rows",
        "demo transformer ready",
    ):
        assert phase in phases
    assert all("left" in m for _, _, m in steps[1:-1]) and "s left" in steps[-2][2]
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= {p.name for p in path.iterdir()}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    card = (path / "README.md").read_text(encoding="utf-8")
    for fact in (
        "validation** split only (64 tweets)",
        "| epochs | 2 |",
        "accuracy on the 500 lab rows",
        "never saw any test",
        "all-MiniLM-L6-v2",
        "encoder layer 6 of 6",
        "layers 1–5 frozen",
    ):
        assert fact in card


def test_demo_loads_as_a_standard_hf_model_and_the_lab_rows_are_already_cached(built, monkeypatch) -> None:
    home, path, _ = built
    monkeypatch.setenv("EVALCORE_HOME", str(home))
    lab = load_data("lab")
    predictor = load_predictor("demo", lab.labels)
    assert isinstance(predictor, HFPredictor) and predictor.name == "demo" and predictor.notes == ()
    assert predictor.label_mapping == {"negative": "negative", "neutral": "neutral", "positive": "positive"}
    with PredictionCache() as cache:  # the build's check on the lab rows filled the cache
        preds = score(lab, predictor, cache)
    assert (preds.n_cached, preds.n_computed) == (500, 0) and not predictor.loaded  # no weights loaded
    card = (path / "README.md").read_text(encoding="utf-8")
    assert f"**{preds.accuracy(lab.df['label']):.3f}**" in card  # the card's figure is this model's
    fresh = predictor.predict(lab.texts[:16])  # the same model, run now: the cache holds its outputs
    np.testing.assert_allclose(fresh.probs, preds.probs[:16], atol=1e-5)


def test_cls_only_training_path_equals_the_full_transformers_forward(built) -> None:
    """What the build trains on (frozen states -> [CLS]-only last layer -> pooler -> classifier) must
    be what `BertForSequenceClassification` computes from the saved folder, or the demo would
    score differently from the model that was trained."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from evalcore.predict.demo_model import Eta, _frozen_states, _pad, top_logits

    _, path, _ = built
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).train(False)
    texts = load_data("lab").texts[:24]
    states = _frozen_states(model, tokenizer, texts, model.config.num_hidden_layers - 1, 64, Eta(None, 1e9))
    x, mask = _pad(states, list(range(len(texts))))
    enc = tokenizer(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    with torch.inference_mode():
        ours = top_logits(model, x, mask)
        theirs = model(**enc).logits
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-4)


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0, 44.6, 60, 83)] == ["0 s", "45 s", "1 min 00 s", "1 min 23 s"]


def test_time_left_follows_a_machine_that_gets_busy() -> None:
    """Issue 18: on a busy machine the bar sat at "about 1 min 20 s" for four minutes, because the estimate
    was the whole run's average rate. It follows the last seconds' rate: when the work slows tenfold, the
    estimate grows tenfold within the window, and then counts down."""
    from evalcore.predict.demo_model import Eta

    now = [0.0]
    shown: list[str] = []
    eta = Eta(lambda d, t, m: shown.append(m), 10_000.0, window=20.0, clock=lambda: now[0])
    for _ in range(30):  # 30 s at 100 units/s: 3,000 done, 7,000 left -> 70 s
        now[0] += 1.0
        eta.step(100.0, "fast")
    assert abs(eta.seconds_left() - 70) < 1
    for _ in range(30):  # then 10 units/s (another process took the cores): 6,700 left -> 670 s
        now[0] += 1.0
        eta.step(10.0, "slow")
    assert abs(eta.seconds_left() - 670) < 10, eta.seconds_left()
    assert shown[-1] == "slow · about 11 min 10 s left"
    # the average over the whole run would have said about 4 min 30 s: 6,700 left at 3,300 in 60 s
    first = Eta(None, 100.0, clock=lambda: 0.0)
    assert first.seconds_left() is None  # nothing done yet: no estimate rather than a made-up one
