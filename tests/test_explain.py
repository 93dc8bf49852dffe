"""Token explanations: VADER's exact lexicon contributions (hand-checked, and summing to its compound on
every lab tweet), occlusion on real models (VADER and a real transformer) in one batched call, and the
highlighters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_models import make_tiny_model

from evalcore.core.errors import ModelError
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.predict.models import Predictor
from evalcore.probe.explain import (
    explain,
    explain_many,
    highlight_html,
    highlight_markdown,
    occluded,
    tokenize,
    vader_lexicon,
)

LABELS = ("negative", "neutral", "positive")


def scores(expl) -> dict[str, float]:
    return {t.token: round(t.score, 6) for t in expl.tokens}


# --- VADER, exact -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, label, expected",
    [
        # lexicon: good 1.9, bad -2.5, love 3.2; negation x -0.74; booster "very" +0.293; ALL CAPS +0.733;
        # "but": words before x 0.5, after x 1.5 (Hutto & Gilbert 2014, vaderSentiment's constants)
        ("The food is good", "positive", {"good": 1.9, "The": 0, "food": 0, "is": 0}),
        ("The food is not good", "negative", {"good": 1.406, "not": 0}),  # 1.9 x -0.74, toward negative
        ("The food is very good", "positive", {"good": 2.193, "very": 0}),
        ("I LOVE it", "positive", {"LOVE": 3.933}),
        ("The food is good but the service is bad", "negative", {"good": -0.95, "bad": 3.75, "but": 0}),
        ("not bad at all 😂", "positive", {"bad": 1.85, "😂": 1.9}),  # the emoji's words: tears -0.9 + joy 2.8
    ],
)
def test_vader_attributions_equal_its_hand_checked_lexicon_contributions(text, label, expected):
    expl = explain(load_predictor("vader", LABELS), text, label)
    got = scores(expl)
    for token, value in expected.items():
        assert got[token] == pytest.approx(value, abs=1e-9), token
    assert expl.method == "lexicon" and expl.label == label
    assert sum(t.score for t in expl.tokens) + expl.unattributed == pytest.approx(expl.value)


def test_vader_lexicon_adds_up_to_its_compound_on_every_lab_tweet():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    vader = load_predictor("vader", LABELS)
    texts = load_data("lab").texts
    preds = vader.predict(texts).pred
    for text, pred in zip(texts, preds):
        expl = vader_lexicon(text, "positive")
        total = sum(t.score for t in expl.tokens) + expl.unattributed
        compound = round(total / math.sqrt(total * total + 15), 4) if expl.tokens else 0.0
        assert compound == analyzer.polarity_scores(text)["compound"], text
        assert expl.predicted == LABELS[pred], text
        assert all(text[t.start : t.end] == t.token for t in expl.tokens)


def test_vader_directions_toward_each_label():
    text = "good movie, bad ending!!"
    pos, neg, neu = (vader_lexicon(text, lab) for lab in ("positive", "negative", "neutral"))
    assert [t.score for t in neg.tokens] == [-t.score for t in pos.tokens]
    assert pos.unattributed == pytest.approx(-neg.unattributed) and pos.value == pytest.approx(-neg.value)
    # toward neutral a word counts against the total's direction: the total is negative here (bad > good)
    assert pos.value < 0 and [t.score for t in neu.tokens] == [t.score for t in pos.tokens]
    assert neu.value == pytest.approx(-abs(pos.value))


def test_occlusion_on_vader_gives_the_negator_its_effect():
    vader = load_predictor("vader", LABELS)
    expl = explain(vader, "this is not good", method="occlusion")
    assert expl.predicted == "negative" == LABELS[vader.predict(["this is not good"]).pred[0]]
    assert expl.top(1)[0].token == "not" and expl.unit == "vader_margin"
    compound = -0.3412  # polarity_scores("this is not good")
    assert expl.value == pytest.approx(-compound - 0.05)


# --- occlusion on a real transformer ----------------------------------------------------------------


class Counting(Predictor):
    """A real model whose predict calls are counted (no stand-in: every call runs the transformer)."""

    def __init__(self, inner: Predictor):
        self.inner, self.calls = inner, []
        self.name, self.spec, self.labels = inner.name, inner.spec, inner.labels
        self.fingerprint, self.label_mapping = inner.fingerprint, inner.label_mapping

    def predict(self, texts):
        self.calls.append(len(texts))
        return self.inner.predict(texts)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Counting:
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "m", {0: "negative", 1: "neutral", 2: "positive"})
    return Counting(load_predictor(f"hf:{folder}", LABELS))


def test_occlusion_scores_are_the_probability_drops_in_one_batched_call(tiny):
    text = "@user not happy with this at all!! 😡 http://t.co/x"
    tiny.calls.clear()
    expl = explain(tiny, text, "negative")
    spans = tokenize(text)
    assert tiny.calls == [1 + len(spans)]  # the original and every occluded variant: one call
    assert [t.token for t in expl.tokens] == [
        "@user",
        "not",
        "happy",
        "with",
        "this",
        "at",
        "all",
        "!!",
        "😡",
        "http://t.co/x",
    ]
    full = tiny.inner.predict_proba([text])[0, 0]
    one_by_one = [full - tiny.inner.predict_proba([v])[0, 0] for v in occluded(text, spans)]
    np.testing.assert_allclose([t.score for t in expl.tokens], one_by_one, atol=2e-5)
    assert expl.value == pytest.approx(full, abs=1e-6) and expl.unit == "probability" and expl.method == "occlusion"
    predicted = explain(tiny, text)
    assert predicted.label == predicted.predicted == LABELS[int(np.argmax(tiny.inner.predict_proba([text])[0]))]


def test_explain_many_batches_several_texts_and_matches_explain(tiny):
    texts = ["great game tonight", "worst service ever", "ok"]
    tiny.calls.clear()
    many = explain_many(tiny, texts, ["positive", None, "neutral"], batch_size=5)
    assert sum(tiny.calls) == sum(1 + len(tokenize(t)) for t in texts) and max(tiny.calls) <= 5
    for text, label, got in zip(texts, ["positive", None, "neutral"], many):
        one = explain(tiny, text, label)
        assert got.label == one.label and np.allclose(
            [t.score for t in got.tokens], [t.score for t in one.tokens], atol=2e-5
        )


def test_what_cannot_be_explained_says_why():
    data = load_data("lab")
    with pytest.raises(ModelError, match="precomputed predictions .* cannot be explained"):
        explain(load_predictor("gpt2", data.labels, data=data), "not good")
    vader = load_predictor("vader", LABELS)
    with pytest.raises(ModelError, match="labels are negative, neutral, positive"):
        explain(vader, "good", "angry", method="occlusion")
    with pytest.raises(ModelError, match="method 'saliency'"):
        explain(vader, "good", method="saliency")


def test_lexicon_is_for_vader_only(tiny):
    with pytest.raises(ModelError, match="lexicon method explains VADER only"):
        explain(tiny, "good", method="lexicon")


# --- highlighting -----------------------------------------------------------------------------------


def test_highlighters_escape_the_text_and_mark_the_strongest_tokens():
    expl = vader_lexicon("good & bad <script> | then", "negative")
    out = highlight_html(expl)
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert out.count("<span") == 2 and "rgba(224,49,49" in out and "rgba(47,158,68" in out  # good away, bad toward
    assert 'title="+2.500' in out and 'title="-1.900' in out
    md = highlight_markdown(expl, k=1)
    assert md == "~~good~~ (-1.90) \\& **bad** (+2.50) \\<script> \\| then"
    plain = vader_lexicon("the table", "positive")
    assert highlight_html(plain) == "the table" and highlight_markdown(plain) == "the table"
