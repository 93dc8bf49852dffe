"""Stress cases: parsing the three pasted forms and uploads, JSON round trip, live scoring."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evalcore.analyze.tables import build_df_eval
from evalcore.core.errors import DataError, ModelError
from evalcore.io.load import load_data
from evalcore.predict.cache import PredictionCache
from evalcore.predict.load import load_predictor
from evalcore.predict.models import PredictionBatch, Predictor
from evalcore.probe.stress import (
    StressCase,
    StressSet,
    parse_case_bytes,
    parse_case_file,
    parse_cases,
    score_stress,
    slice_accuracy_of,
    stress_dir,
)

LABELS = ["negative", "neutral", "positive"]


def _pairs(cases):
    return [(c.text, c.label) for c in cases]


def test_one_case_per_line_skips_blank_lines():
    cases = parse_cases("  I love it \n\n\nworst day ever\n   \n", LABELS)
    assert _pairs(cases) == [("I love it", None), ("worst day ever", None)]
    assert {c.source for c in cases} == {"pasted"}
    assert parse_cases("\n \n", LABELS) == []


def test_tab_separated_labels_match_case_insensitively():
    raw = "text\tlabel\nI love it\tPOSITIVE\nmeh, fine\t neutral \nno label here\nit is a\ttab\t negative\n"
    assert _pairs(parse_cases(raw, LABELS, source="typed")) == [
        ("I love it", "positive"),
        ("meh, fine", "neutral"),
        ("no label here", None),
        ("it is a\ttab", "negative"),
    ]  # the label is after the last tab
    assert _pairs(parse_cases("empty label\t\n", LABELS)) == [("empty label", None)]


def test_csv_with_header_quotes_commas_and_line_breaks():
    raw = '\ntext,label\n"hi, there",Positive\n\n"two\nlines",neutral\nno label,\n'
    assert _pairs(parse_cases(raw, LABELS)) == [
        ("hi, there", "positive"),
        ("two\nlines", "neutral"),
        ("no label", None),
    ]
    assert _pairs(parse_cases("label,text,extra\nnegative,awful,x\n", LABELS)) == [("awful", "negative")]
    assert _pairs(parse_cases('text\n"only text, no label column"\n', LABELS)) == [("only text, no label column", None)]


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            "good\tpositive\n\nbad\tmixed\n",
            "line 3: label 'mixed' is not one of the dataset labels: negative, neutral, positive",
        ),
        ("text,label\nfine,neutral\nodd,sarcastic\n", "line 3: label 'sarcastic' is not one of"),
        ("ok\tpositive\n\tnegative\n", "line 2: the text is empty"),
        ("text,label\nfine, really,neutral\n", "line 2: 3 cells but the header has 2 column"),
    ],
)
def test_parse_errors_name_the_line_and_label(raw, message):
    with pytest.raises(DataError, match=message):
        parse_cases(raw, LABELS)


def test_case_files_of_each_kind(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\tpositive\n", encoding="utf-8")
    (tmp_path / "a.tsv").write_text("text\tlabel\nthree\tNegative\n", encoding="utf-8")
    (tmp_path / "a.csv").write_bytes('\ufefftext,label\n"four, 4",neutral\n'.encode("utf-8"))
    (tmp_path / "a.jsonl").write_text('{"text": "five"}\n\n{"text": "six", "label": "POSITIVE"}\n', encoding="utf-8")
    got = {
        suffix: _pairs(parse_case_file(tmp_path / f"a{suffix}", LABELS))
        for suffix in (".txt", ".tsv", ".csv", ".jsonl")
    }
    assert got == {
        ".txt": [("one", None), ("two", "positive")],
        ".tsv": [("three", "negative")],
        ".csv": [("four, 4", "neutral")],
        ".jsonl": [("five", None), ("six", "positive")],
    }
    assert {c.source for c in parse_case_file(tmp_path / "a.txt", LABELS)} == {"file"}


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("cases.xlsx", b"x", r"suffix '.xlsx' is not supported; use one of .txt, .csv, .tsv, .jsonl"),
        ("cases.txt", b"caf\xe9\n", r"'cases.txt' is not UTF-8 text \(byte 3\)"),
        ("cases.csv", b"just a tweet, with a comma\n", "first line must be a CSV header with a 'text' column"),
        ("cases.jsonl", b'{"text": "a"}\n{"text": "b",\n', r"'cases.jsonl', line 2: not valid JSON"),
        ("cases.jsonl", b'["a"]\n', "line 1: expected an object with a string 'text'"),
        ("cases.jsonl", b'{"text": "a", "label": "meh"}\n', "line 1: label 'meh' is not one of"),
        ("cases.tsv", b"a\tpositive\nb\tmeh\n", r"case file 'cases.tsv', line 2: label 'meh'"),
    ],
)
def test_case_file_errors(name, data, message):
    with pytest.raises(DataError, match=message):
        parse_case_bytes(data, name, LABELS)


def test_missing_case_file(tmp_path):
    with pytest.raises(DataError, match="could not be read"):
        parse_case_file(tmp_path / "nope.txt", LABELS)


def test_stress_set_json_round_trip(tmp_path):
    stress = StressSet(
        "negation flips polarity", "has_negation", [StressCase("not good", "negative"), StressCase("meh", None, "llm")]
    )
    raw = json.loads(json.dumps(stress.to_dict()))
    assert StressSet.from_dict(raw) == stress
    path = stress.save(stress_dir() / "negation.json")
    assert path.parent.parent.name == "work" and StressSet.load(path) == stress
    relabelled = StressSet.from_dict({"cases": [{"text": "x", "label": "Positive"}]}, labels=LABELS)
    assert relabelled.cases[0].label == "positive" and relabelled.target_slice is None
    assert StressSet.from_dict({"cases": [{"text": "x", "label": " "}]}, LABELS).cases[0].label is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ([], "must be a JSON object"),
        ({"version": 9}, "version=9 is not supported"),
        ({"hypothesis": 3}, "hypothesis=3 must be a string"),
        ({"target_slice": ["a"]}, "target_slice=\\['a'\\] must be a slice name or null"),
        ({"cases": "a"}, "'cases' must be a list"),
        ({"cases": [{"text": "ok"}, {"label": "positive"}]}, "case 2: stress case must be an object with a 'text'"),
        ({"cases": [{"text": " "}]}, "case 1: stress case: text=' ' must be a non-empty string"),
        ({"cases": [{"text": "a", "source": "web"}]}, "source='web' is not one of typed, pasted"),
        ({"cases": [{"text": "a", "lable": "x"}]}, r"unknown keys \['lable'\]"),
        ({"cases": [{"text": "a", "label": "meh"}]}, "case 1: label 'meh' is not one of"),
    ],
)
def test_stress_set_validation(raw, message):
    with pytest.raises(DataError, match=message):
        StressSet.from_dict(raw, labels=LABELS)


def test_load_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        StressSet.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="is not valid UTF-8 JSON"):
        StressSet.load(tmp_path / "bad.json")


# --- live scoring -------------------------------------------------------------------------------
class KeywordPredictor(Predictor):
    """A real (if tiny) rule model with known outputs, so summary numbers can be checked by hand:
    "good" -> positive 0.9, "bad" -> negative 0.7, anything else neutral 0.6."""

    def __init__(self, labels):
        self.name, self.spec, self.labels = "kw", "kw", tuple(labels)
        self.fingerprint, self.label_mapping = "test-keyword-v1", {lab: lab for lab in labels}

    def predict(self, texts):
        rules = [("good", "positive", 0.9), ("bad", "negative", 0.7)]
        out = [next(((lab, c) for word, lab, c in rules if word in t), ("neutral", 0.6)) for t in texts]
        pred = np.array([self.labels.index(lab) for lab, _ in out], dtype=np.int64)
        conf = np.array([c for _, c in out], dtype=np.float32)
        probs = np.tile(((1 - conf) / 2)[:, None], (1, len(self.labels))).astype(np.float32)
        probs[np.arange(len(pred)), pred] = conf
        return PredictionBatch(pred=pred, probs=probs, conf=conf)


CASES = [
    StressCase("good movie", "positive"),
    StressCase("bad movie", "negative"),
    StressCase("not good at all", "negative"),
    StressCase("not bad", "positive"),
    StressCase("the meeting is at noon", "neutral"),
    StressCase("what a good bad day", None, "llm"),
]


@pytest.fixture(scope="module")
def vader():
    return load_predictor("vader", LABELS)


def test_score_stress_tables_hand_checked(vader):
    cache = PredictionCache()
    result = score_stress(
        CASES, KeywordPredictor(LABELS), vader, cache=cache, slice_accuracy={"kw": 0.8, "candidate": 0.7}
    )
    # kw: right on 1, 2, 5; wrong on 3 (positive at 0.9: high confidence) and 4 (negative at 0.7).
    # VADER: right on all five labelled cases ("not good at all" negative, "not bad" positive).
    # Predictions differ on cases 3, 4 and 6 ("good bad day": kw positive, VADER negative).
    summary = result.stress_summary.set_index("model")
    assert list(summary.index) == ["kw", "vader"]
    assert summary.loc["kw", ["n", "n_labelled", "high_conf_wrong"]].tolist() == [6, 5, 1]
    assert summary.loc["vader", ["n", "n_labelled"]].tolist() == [6, 5]
    assert np.isnan(summary.loc["vader", "high_conf_wrong"])  # a lexicon share is no confidence: unknown, not 0
    assert summary.loc["vader", "score_kind"] == "lexicon share"
    assert summary.loc["kw", "accuracy"] == pytest.approx(0.6)
    assert summary.loc["vader", "accuracy"] == pytest.approx(1.0)
    assert summary["disagreement_rate"].tolist() == pytest.approx([0.5, 0.5])
    assert summary["slice_accuracy"].tolist() == pytest.approx([0.8, 0.7])
    assert summary["accuracy_vs_slice"].tolist() == pytest.approx([-0.2, 0.3])
    assert summary.loc["kw", "role"] == "baseline" and summary.loc["vader", "role"] == "candidate"

    wide = result.stress_wide
    assert list(wide.columns) == [
        "case_id",
        "text",
        "label",
        "source",
        "pred_kw",
        "conf_kw",
        "pred_vader",
        "conf_vader",
        "score_vader",
        "agree",
        "baseline_correct",
        "candidate_correct",
    ]
    assert wide["conf_vader"].isna().all() and wide["score_vader"].between(0, 1).all()  # a share, labelled
    assert wide["pred_kw"].tolist() == ["positive", "negative", "positive", "negative", "neutral", "positive"]
    assert wide["pred_vader"].tolist() == ["positive", "negative", "negative", "positive", "neutral", "negative"]
    assert wide["agree"].tolist() == [True, True, False, False, True, False]
    assert wide["baseline_correct"].tolist() == [True, True, False, False, True, pd.NA]
    assert wide["candidate_correct"].tolist() == [True, True, True, True, True, pd.NA]
    assert wide["conf_kw"].tolist() == pytest.approx([0.9, 0.7, 0.9, 0.7, 0.6, 0.9])

    long = result.stress_long
    assert list(long.columns) == ["case_id", "text", "label", "model", "role", "pred", "conf", "correct"]
    assert len(long) == 12 and long["model"].tolist() == ["kw"] * 6 + ["vader"] * 6
    assert cache.count(vader.fingerprint) == 6  # scored through the cache
    lower = score_stress(CASES, KeywordPredictor(LABELS), vader, conf_threshold=0.65)
    assert lower.stress_summary["high_conf_wrong"].tolist()[0] == 2
    assert np.isnan(lower.stress_summary["high_conf_wrong"].tolist()[1])
    assert "slice_accuracy" not in lower.stress_summary.columns
    assert set(lower.tables()) == {"stress_long", "stress_wide", "stress_summary"}


def test_unlabelled_cases_give_nan_accuracy(vader):
    result = score_stress([StressCase("good"), StressCase("bad")], KeywordPredictor(LABELS), vader)
    assert result.stress_summary["n_labelled"].tolist() == [0, 0]
    assert result.stress_summary["accuracy"].isna().all()
    assert result.stress_summary["high_conf_wrong"].tolist()[0] == 0
    assert np.isnan(result.stress_summary["high_conf_wrong"].tolist()[1])  # VADER gives no probability


def test_precomputed_model_is_refused_with_the_fix(shared_data, vader):
    data = load_data(str(shared_data / "lab" / "tweets.csv"))
    roberta = load_predictor("roberta", data.labels, data=data)
    with pytest.raises(
        ModelError,
        match=r"roberta is a precomputed model: it cannot score new text; "
        r"choose a live model \(vader, demo, hf:\.\.\.\)",
    ):
        score_stress(CASES, roberta, vader)


@pytest.mark.parametrize(
    "cases, kwargs, message",
    [
        ([], {}, "no stress cases to score"),
        (CASES, {"conf_threshold": 1.5}, "conf_threshold=1.5 must lie in"),
        ([StressCase("x", "Positive")], {}, "label 'Positive' is not one of the model labels"),
    ],
)
def test_score_stress_input_errors(vader, cases, kwargs, message):
    with pytest.raises(DataError, match=message):
        score_stress(cases, KeywordPredictor(LABELS), vader, **kwargs)


def test_same_model_twice_is_refused(vader):
    with pytest.raises(DataError, match="same model 'vader'"):
        score_stress(CASES, vader, vader)


def test_slice_accuracy_of_feeds_the_summary(vader):
    base = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "text": ["w", "x", "y", "z"],
            "label": ["positive", "negative", "neutral", "neutral"],
        }
    )
    kw = SimpleNamespace(model="kw", pred=["positive", "positive", "neutral", "negative"], conf=[0.9] * 4)
    vd = SimpleNamespace(model="vader", pred=["positive", "negative", "neutral", "neutral"], conf=[0.5] * 4)
    df_eval = build_df_eval(base, kw, vd)
    acc = slice_accuracy_of(df_eval, [True, True, True, False])
    assert acc == pytest.approx({"kw": 2 / 3, "vader": 1.0})
    summary = score_stress(CASES, KeywordPredictor(LABELS), vader, slice_accuracy=acc).stress_summary
    assert summary["accuracy_vs_slice"].tolist() == pytest.approx([0.6 - 2 / 3, 0.0])
    assert all(np.isnan(v) for v in slice_accuracy_of(df_eval, [False] * 4).values())


def test_stress_with_a_real_transformer(tmp_path, vader):
    """The HF path end to end: a tiny randomly initialised BERT (MiniLM tokenizer) against VADER."""
    from test_models import make_tiny_model  # the shared tiny-model builder of the models tests

    folder = make_tiny_model(tmp_path / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
    tiny = load_predictor(f"hf:{folder}", LABELS)
    result = score_stress(CASES, tiny, vader, cache=PredictionCache())
    wide = result.stress_wide
    assert wide[f"pred_{tiny.name}"].isin(LABELS).all()
    assert wide[f"conf_{tiny.name}"].between(1 / 3, 1).all()  # the argmax of 3 probabilities
    assert result.stress_summary["n"].tolist() == [6, 6]
    again = score_stress(CASES, tiny, vader, cache=PredictionCache())  # from the cache, same values
    assert again.stress_wide.equals(wide)
