"""The demo model builder, on the real MiniLM checkpoint, shrunk to a few steps so it runs fast."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evalcore.demo_model import build_demo_model, demo_model_dir
from evalcore.models import HFPredictor, load_predictor


def test_build_demo_model_small_then_load_it_as_demo(evalcore_home: Path) -> None:
    steps: list[tuple[int, int, str]] = []
    path = build_demo_model(lambda s, t, m: steps.append((s, t, m)), epochs=1, limit=64, batch_size=32)
    assert path == demo_model_dir() and path.is_relative_to(evalcore_home)
    assert [s[:2] for s in steps] == [(1, 2), (2, 2)] and "loss" in steps[-1][2]
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= {p.name for p in path.iterdir()}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    card = (path / "README.md").read_text(encoding="utf-8")
    for fact in ("validation** split only (64 tweets)", "| epochs | 1 |", "accuracy on the 500 lab rows",
                 "never saw any test", "all-MiniLM-L6-v2"):
        assert fact in card

    predictor = load_predictor("demo", ("negative", "neutral", "positive"))
    assert isinstance(predictor, HFPredictor) and predictor.name == "demo" and predictor.notes == ()
    assert predictor.label_mapping == {"negative": "negative", "neutral": "neutral", "positive": "positive"}
    probs = predictor.predict_proba(["I love this!", "worst day ever"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
