"""Loaders on the real shared data, and one test per bad input checking its message."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalcore.core.errors import DataError
from evalcore.io.data import DataSource
from evalcore.io.load import load_data


def test_lab_file_gives_two_precomputed_models(shared_data: Path) -> None:
    data = load_data("lab")
    assert len(data) == 500
    assert list(data.df.columns[:3]) == ["id", "text", "label"]
    assert data.labels == ("negative", "neutral", "positive")
    assert set(data.precomputed) == {"roberta", "gpt2"}
    assert data.precomputed["roberta"].conf_col == "roberta_score"
    assert data.default_models == ("roberta", "gpt2")
    assert round((data.df["roberta"] == data.df["label"]).mean(), 3) == 0.698
    assert round((data.df["gpt2"] == data.df["label"]).mean(), 3) == 0.398


def test_tweeteval_test_and_val_splits(shared_data: Path) -> None:
    test = load_data("tweeteval")
    assert len(test) == 12284 and test.df["id"].is_unique
    assert test.df["label"].value_counts().to_dict() == {"neutral": 5937, "negative": 3972, "positive": 2375}
    # The lab file is the first 500 test rows: same texts, same labels.
    lab = load_data("lab")
    assert (test.df["text"].head(500).to_numpy() == lab.df["text"].str.strip().to_numpy()).mean() > 0.99
    assert (test.df["label"].head(500).to_numpy() == lab.df["label"].to_numpy()).all()
    val = load_data("tweeteval:val", n_rows=100)
    assert len(val) == 100 and val.df["id"].iloc[0] == "val-0"


def test_tweeteval_any_folder_and_task(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("0\tnot_offensive\n1\toffensive\n")
    (tmp_path / "train_text.txt").write_text("you are great\nshut up idiot\n")
    (tmp_path / "train_labels.txt").write_text("0\n1\n")
    data = load_data(str(tmp_path), split="train")
    assert data.labels == ("not_offensive", "offensive")
    assert data.df["label"].tolist() == ["not_offensive", "offensive"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_table_files_with_column_mapping(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame(
        {
            "uid": ["a", "b", "c"],
            "tweet": ["good day", "bad day", "a day"],
            "gold": ["positive", "negative", "neutral"],
            "n": [1, 2, 3],
        }
    )
    path = tmp_path / f"d{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    data = load_data(str(path), text_col="tweet", label_col="gold", id_col="uid")
    assert data.df["id"].tolist() == ["a", "b", "c"]
    assert data.df["text"].tolist() == ["good day", "bad day", "a day"]
    assert data.labels == ("negative", "neutral", "positive")
    assert data.df["n"].tolist() == [1, 2, 3]


def test_hf_loader_reads_local_data_files_through_datasets(shared_data: Path) -> None:
    data = load_data(f"hf:{shared_data / 'lab' / 'tweets.csv'}", n_rows=40)
    assert len(data) == 40
    assert set(data.precomputed) == {"roberta", "gpt2"}


def test_hf_loader_maps_classlabel_integers(tmp_path: Path) -> None:
    import datasets

    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "neutral", "positive"])}
    )
    ds = datasets.Dataset.from_dict({"text": ["meh", "yay", "ugh"], "label": [1, 2, 0]}, features=features)
    folder = tmp_path / "mini"
    folder.mkdir()
    ds.to_parquet(str(folder / "test.parquet"))
    data = load_data(f"hf:{folder}", split="test")
    assert data.df["label"].tolist() == ["neutral", "positive", "negative"]


def test_source_round_trip() -> None:
    assert str(DataSource.parse("lab")) == "lab"
    assert str(DataSource.parse("tweeteval:val")) == "tweeteval:val"
    assert str(DataSource.parse("hf:cardiffnlp/tweet_eval", config="sentiment")) == "hf:cardiffnlp/tweet_eval"


# --- every bad input has a message ----------------------------------------------------------------


def _csv(tmp_path: Path, body: str | bytes, name: str = "bad.csv") -> str:
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return str(path)


@pytest.mark.parametrize(
    "source, options, message",
    [
        ("missing.csv", {}, "data file not found"),
        ("notes.docx", {}, "is not a known source"),
        ("", {}, "data source is empty"),
        ("hf:no/such-dataset-offline", {}, "could not load Hugging Face dataset 'no/such-dataset-offline'"),
    ],
)
def test_bad_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, options: dict, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=message):
        load_data(source, **options)


def test_missing_column_suggests_nearest(tmp_path: Path) -> None:
    path = _csv(tmp_path, "tweet,label\nhi,positive\n")
    with pytest.raises(DataError, match=r"text column 'text' not found in bad.csv — did you mean 'tweet'\?"):
        load_data(path)


def test_empty_text(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text,label\nhi,positive\n  ,negative\n")
    with pytest.raises(DataError, match=r"empty text in 1 row\(s\) of bad.csv \(rows 2\)"):
        load_data(path)


def test_unknown_label(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text,label\nhi,positive\nyo,postive\n")
    with pytest.raises(
        DataError, match=r"unknown label 'postive' at row 2 .* allowed labels: negative, neutral, positive"
    ):
        load_data(path, labels=["negative", "neutral", "positive"])


def test_missing_label(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text,label\nhi,positive\nyo,\n")
    with pytest.raises(DataError, match="missing label in column 'label' at row 2"):
        load_data(path)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"text,label\ncaf\xe9,positive\n")
    with pytest.raises(DataError, match="not valid UTF-8"):
        load_data(path)


def test_non_utf8_tweeteval(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (tmp_path / "test_text.txt").write_bytes(b"fine\nbad \xff byte\n")
    (tmp_path / "test_labels.txt").write_text("0\n1\n")
    with pytest.raises(DataError, match=r"test_text.txt is not valid UTF-8 \(line 2"):
        load_data(str(tmp_path))


def test_ragged_tweeteval(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (tmp_path / "test_text.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "test_labels.txt").write_text("0\n1\n")
    with pytest.raises(DataError, match="ragged TweetEval files: test_text.txt has 3 lines but test_labels.txt has 2"):
        load_data(str(tmp_path))


def test_tweeteval_unknown_label_and_missing_split(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (tmp_path / "test_text.txt").write_text("one\ntwo\n")
    (tmp_path / "test_labels.txt").write_text("0\n7\n")
    with pytest.raises(
        DataError, match=r"label id '7' at row 2 of test_labels.txt is not in the label map .*\(ids 0, 1\)"
    ):
        load_data(str(tmp_path))
    with pytest.raises(DataError, match=r"has no file val_text.txt \(splits present: test\)"):
        load_data(str(tmp_path), split="val")


def test_duplicate_ids_and_bad_json(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,text,label\n1,a,positive\n1,b,negative\n")
    with pytest.raises(DataError, match="duplicate id '1'"):
        load_data(path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "a", "label": "positive"}) + "\n{oops\n")
    with pytest.raises(DataError, match=r"bad.jsonl is not valid JSON: .*line 2"):
        load_data(str(bad))


def test_unparseable_parquet(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"not parquet at all", name="x.parquet")
    with pytest.raises(DataError, match="could not read x.parquet as parquet"):
        load_data(path)
