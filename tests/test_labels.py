"""Declared label maps: integers are read only through a declared map, on gold labels and
predictions alike; every ambiguity and every undeclared integer is refused with the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from evalcore.core.errors import DataError, ModelError
from evalcore.io.labels import LabelMap, is_sentiment, parse_label_map, read_labels
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.predict.scoring import score
from tests.task_folders import ORDER, RENAMED, raw_ids, renamed_tweeteval

# --- the map itself ---------------------------------------------------------------------------------


def test_parse_orders_by_id_and_prints_canonically() -> None:
    m = parse_label_map(" 1=positive , 0=negative ")
    assert m.names == ("negative", "positive") and m.ids == ("0", "1") and m.text == "0=negative,1=positive"
    assert parse_label_map(m.text) == m
    assert parse_label_map("a=yes\nb=no").names == ("yes", "no")  # non-integer ids: as declared


@pytest.mark.parametrize(
    "text, message",
    [
        ("0=negative,0=positive", "ambiguous: id '0' is given twice"),
        ("0=positive,1=positive", "ambiguous: label 'positive' is given to ids '0' and '1'"),
        ("0=1,1=0", "ambiguous: label name '1' .* is also the id of '0'"),
        ("0=negative", "names one label"),
        ("0negative", "must be <id>=<label name>"),
        ("", "is empty"),
    ],
)
def test_ambiguous_or_malformed_maps_are_refused(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_label_map(text)


def test_reading_refuses_undeclared_integers_and_mixed_columns() -> None:
    names = LabelMap(("negative", "positive"), None, "the data's label names")
    with pytest.raises(
        DataError, match=r"integer label '1' .* no ids.*--label-map <id>=<label>,\.\.\. covering negative, positive"
    ):
        read_labels(["positive", "1"], names, where="preds.txt")
    ids = parse_label_map("0=negative,1=positive")
    assert read_labels([0, 1.0, "1"], ids, where="x") == ["negative", "positive", "positive"]
    with pytest.raises(DataError, match=r"mixes label ids and names \(id '0' in row 1, name 'positive' in row 2\)"):
        read_labels(["0", "positive"], ids, where="x")
    with pytest.raises(DataError, match=r"label id '2' at row 1 of x is not in the label map"):
        read_labels(["2"], ids, where="x")
    assert read_labels(["POS", "neg"], ids, where="x", lenient=True) == ["positive", "negative"]


def test_sentiment_tasks_are_recognised_by_their_labels() -> None:
    assert is_sentiment(("negative", "neutral", "positive")) and is_sentiment(("NEG", "POS"))
    assert not is_sentiment(ORDER) and not is_sentiment(("negative", "positive", "mixed"))


# --- gold labels --------------------------------------------------------------------------------------


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "d.csv") -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return str(path)


def test_integer_gold_labels_without_a_map_are_refused_naming_the_fix(shared_data: Path) -> None:
    sst2 = str(shared_data / "sst2" / "dev.tsv")
    with pytest.raises(
        DataError,
        match=r"gold labels of column 'label' of dev.tsv are integers \(0, 1\).*"
        r"--label-map 0=<name>,1=<name>",
    ):
        load_data(sst2, text_col="sentence")
    with pytest.raises(DataError, match=r"integer label '1' \(row 1\).*--label-map <id>=<label>"):
        load_data(sst2, text_col="sentence", labels=["negative", "positive"])
    data = load_data(sst2, text_col="sentence", label_map="0=negative,1=positive")
    raw = pd.read_csv(sst2, sep="\t")
    assert data.labels == ("negative", "positive") and len(data) == 872
    assert (data.df["label"] == np.where(raw["label"] == 1, "positive", "negative")).all()
    assert data.df["label"].value_counts().to_dict() == {"positive": 444, "negative": 428}


def test_a_map_that_disagrees_with_the_folder_or_the_labels_option_is_refused(tmp_path: Path) -> None:
    folder = renamed_tweeteval(tmp_path / "stance", n_rows=50)
    with pytest.raises(DataError, match=r"two label maps disagree: stance/mapping.txt says 0=none,1=against,2=favor"):
        load_data(str(folder), label_map="0=against,1=none,2=favor")
    assert load_data(str(folder), label_map="2=favor,1=against,0=none").labels == ORDER  # the same map
    csv = _csv(tmp_path, pd.DataFrame({"text": ["a", "b"], "label": [0, 1]}))
    with pytest.raises(DataError, match=r"--labels b,a disagrees with the label map of --label-map \(0=a,1=b\)"):
        load_data(csv, label_map="0=a,1=b", labels=["b", "a"])


def test_hf_integer_column_needs_a_map_and_classlabel_declares_one(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "hf"
    folder.mkdir()
    datasets.Dataset.from_dict({"text": ["meh", "yay"], "label": [1, 0]}).to_parquet(str(folder / "test.parquet"))
    with pytest.raises(DataError, match="are integers"):
        load_data(f"hf:{folder}", split="test")
    data = load_data(f"hf:{folder}", split="test", label_map="0=irony,1=non_irony")
    assert data.df["label"].tolist() == ["non_irony", "irony"] and data.labels == ("irony", "non_irony")


# --- a folder whose mapping.txt order is neither alphabetical nor the original, end to end ------------


def test_renamed_reordered_tweeteval_folder_reads_right_end_to_end(tmp_path: Path, shared_data: Path) -> None:
    folder = renamed_tweeteval(tmp_path / "stance")
    data = load_data(str(folder))
    assert data.labels == ORDER != tuple(sorted(ORDER))
    assert data.label_map.text == "0=none,1=against,2=favor"
    original = load_data("tweeteval")
    rename = {"negative": "against", "neutral": "none", "positive": "favor"}
    assert (data.df["label"].to_numpy() == original.df["label"].map(rename).to_numpy()).all()

    # the shipped prediction files and the same file given as `file:` agree with a direct computation
    direct = accuracy_score(raw_ids(folder, "test_labels.txt"), raw_ids(folder, "predictions_roberta.txt"))
    assert direct == pytest.approx(0.7232, abs=1e-4)  # the paper's RoBERTa-RT on TweetEval sentiment test
    for spec in ("roberta", f"file:{folder / 'predictions_roberta.txt'}"):
        preds = score(data, load_predictor(spec, data.labels, data=data))
        assert preds.accuracy(data.df["label"]) == pytest.approx(direct, abs=1e-12)
    majority = score(data, load_predictor("majority", data.labels, data=data))
    assert set(majority.pred) == {"none"}

    # the same task as a CSV with label names, and predictions as integer ids: the ids mean
    # nothing without the map (refused); with the declared map they read right
    csv = _csv(tmp_path, data.df[["id", "text", "label"]], "stance.csv")
    as_csv = load_data(csv)
    assert as_csv.labels == ("against", "favor", "none")  # names only: sorted, and no ids
    preds_file = f"file:{folder / 'predictions_roberta.txt'}"
    with pytest.raises(
        ModelError, match=r"predictions_roberta.txt holds integer label '1' .* come with no ids.*--label-map"
    ):
        load_predictor(preds_file, as_csv.labels, data=as_csv)
    mapped = load_data(csv, label_map="0=none,1=against,2=favor")
    preds = score(mapped, load_predictor(preds_file, mapped.labels, data=mapped))
    assert preds.accuracy(mapped.df["label"]) == pytest.approx(direct, abs=1e-12)
    assert RENAMED["1"] == ("0", "none")
