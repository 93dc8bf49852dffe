"""df_eval / df_long: columns, flags written out by hand, validation messages, the lab's figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from evalcore.analyze.tables import (
    FLAG_COLUMNS,
    build_df_eval,
    build_df_long,
    conf_col,
    correct_col,
    metadata_columns,
    model_output_columns,
    pred_col,
    role_col,
    role_names,
)
from evalcore.core.errors import ConfigError, DataError


@dataclass
class Preds:
    """The attributes build_df_eval reads (evalcore.predict.scoring.Predictions has the same ones)."""

    model: str
    pred: object
    conf: object = None
    ids: object = None


@pytest.fixture
def tiny():
    base = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "text": ["t1", "t2", "t3", "t4", "t5"],
            "label": ["neg", "neg", "pos", "pos", "neu"],
            "has_x": [True, False, True, False, True],
        }
    )
    # baseline right on a, b, c; candidate right on a, d.
    b = Preds("old", ["neg", "neg", "pos", "neg", "pos"], [0.9, 0.6, 0.7, 0.5, 0.8])
    c = Preds("new", ["neg", "pos", "neg", "pos", "pos"], [0.7, 0.8, float("nan"), 0.99, 0.3])
    return base, b, c


def test_column_names_come_from_one_place():
    assert (pred_col("m"), conf_col("m"), correct_col("m")) == ("pred_m", "conf_m", "correct_m")
    assert role_col("baseline", "correct") == "baseline_correct"
    with pytest.raises(DataError, match="role='champion'"):
        role_col("champion", "pred")


def test_df_eval_columns_flags_and_attrs(tiny):
    base, b, c = tiny
    df = build_df_eval(base, b, c, conf_threshold=0.8)
    assert list(df.columns) == [
        "id",
        "text",
        "label",
        "has_x",
        "pred_old",
        "conf_old",
        "correct_old",
        "pred_new",
        "conf_new",
        "correct_new",
        "baseline_pred",
        "baseline_conf",
        "baseline_correct",
        "candidate_pred",
        "candidate_conf",
        "candidate_correct",
        *FLAG_COLUMNS,
    ]
    assert df.attrs == {
        "baseline": "old",
        "candidate": "new",
        "conf_threshold": 0.8,
        "score_kind": {"baseline": "probability", "candidate": "probability"},
    }
    assert df["baseline_correct"].tolist() == [True, True, True, False, False]
    assert df["candidate_correct"].tolist() == [True, False, False, True, False]
    assert df["regressed"].tolist() == [False, True, True, False, False]
    assert df["improved"].tolist() == [False, False, False, True, False]
    assert df["both_correct"].tolist() == [True, False, False, False, False]
    assert df["both_wrong"].tolist() == [False, False, False, False, True]
    # b regressed at conf 0.8 (>= threshold counts); c regressed with unknown confidence: not confident.
    assert df["confident_regression"].tolist() == [False, True, False, False, False]
    assert df["candidate_pred"].tolist() == df["pred_new"].tolist()
    assert np.isnan(df["conf_new"].iloc[2])
    assert pd.api.types.is_string_dtype(df["pred_old"])


def test_confident_regression_follows_threshold(tiny):
    base, b, c = tiny
    assert build_df_eval(base, b, c, conf_threshold=0.81)["confident_regression"].sum() == 0
    with pytest.raises(ConfigError, match="conf_threshold"):
        build_df_eval(base, b, c, conf_threshold=1.5)


def test_missing_confidence_is_nan(tiny):
    base, b, _ = tiny
    df = build_df_eval(base, b, Preds("new", ["neg"] * 5))
    assert df["conf_new"].isna().all() and not df["confident_regression"].any()


def test_output_and_metadata_columns(tiny):
    df = build_df_eval(*tiny)
    outputs = model_output_columns(df)
    assert outputs[:6] == ["pred_old", "conf_old", "correct_old", "pred_new", "conf_new", "correct_new"]
    assert set(FLAG_COLUMNS) <= set(outputs)
    assert metadata_columns(df) == ["has_x"]
    assert role_names(df) == {"baseline": "old", "candidate": "new"}


def test_df_long_one_row_per_example_and_model(tiny):
    df = build_df_eval(*tiny)
    long = build_df_long(df)
    assert list(long.columns) == ["id", "text", "label", "has_x", "model", "role", "pred", "conf", "correct"]
    assert len(long) == 10
    assert long["model"].tolist() == ["old"] * 5 + ["new"] * 5
    assert long["role"].tolist() == ["baseline"] * 5 + ["candidate"] * 5
    assert long.groupby("model")["correct"].sum().to_dict() == {"old": 3, "new": 2}
    assert long["id"].tolist() == ["a", "b", "c", "d", "e"] * 2
    assert long.attrs["baseline"] == "old"


def test_attrs_survive_filtering(tiny):
    df = build_df_eval(*tiny)
    assert role_names(df[df["has_x"]]) == {"baseline": "old", "candidate": "new"}
    with pytest.raises(DataError, match="build_df_eval"):
        role_names(pd.DataFrame(df.to_dict("list")))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda b, c: (b, Preds("old", c.pred, c.conf)), "same model 'old'"),
        (lambda b, c: (b, Preds("new", c.pred[:4], c.conf)), "4 predictions for 5 rows"),
        (lambda b, c: (b, Preds("new", c.pred, [0.5] * 4)), "4 confidences for 5 rows"),
        (lambda b, c: (b, Preds("new", c.pred, [0.5, 0.5, 1.2, 0.5, 0.5])), "confidence 1.2 at row 3"),
        (lambda b, c: (b, Preds("new", c.pred, ["x"] * 5)), "non-numeric confidences"),
        (lambda b, c: (b, Preds("new", ["neg", None, "pos", "pos", "neu"], c.conf)), "no prediction for 1 row"),
        (lambda b, c: (b, Preds("", c.pred, c.conf)), "non-empty model name"),
        (
            lambda b, c: (b, Preds("new", c.pred, c.conf, ids=["a", "b", "x", "d", "e"])),
            "row 3 has id 'x' but the data has 'c'",
        ),
    ],
)
def test_bad_predictions_raise_data_error(tiny, make, message):
    base, b, c = tiny
    with pytest.raises(DataError, match=message):
        build_df_eval(base, *make(b, c))


def test_aligned_ids_pass(tiny):
    base, b, c = tiny
    c.ids = np.array(["a", "b", "c", "d", "e"])
    assert len(build_df_eval(base, b, c)) == 5


def test_bad_base_raises(tiny):
    base, b, c = tiny
    with pytest.raises(DataError, match="lacks column"):
        build_df_eval(base.drop(columns="label"), b, c)
    with pytest.raises(DataError, match="already has column"):
        build_df_eval(base.assign(regressed=False), b, c)
    with pytest.raises(DataError, match="no label in 1 row"):
        build_df_eval(base.assign(label=["neg", None, "pos", "pos", "neu"]), b, c)
    with pytest.raises(ConfigError, match="conf_threshold"):
        build_df_eval(base, b, c, conf_threshold="high")


def test_non_range_index_is_reset(tiny):
    base, b, c = tiny
    df = build_df_eval(base.set_index(pd.Index([10, 11, 12, 13, 14])), b, c)
    assert df.index.tolist() == [0, 1, 2, 3, 4]
    assert df["candidate_correct"].tolist() == [True, False, False, True, False]


def test_lab_accuracies_through_the_real_pipeline():
    """The lab's published figures: roberta 0.698, gpt2 0.398, via load_data -> models -> scoring."""
    from evalcore.io.load import load_data
    from evalcore.predict.load import load_predictor
    from evalcore.predict.scoring import score

    data = load_data("lab")
    preds = [score(data, load_predictor(m, data.labels, data=data)) for m in ("roberta", "gpt2")]
    df = build_df_eval(data.df, *preds)
    assert len(df) == 500
    assert df["baseline_correct"].mean() == pytest.approx(0.698, abs=1e-12)
    assert df["candidate_correct"].mean() == pytest.approx(0.398, abs=1e-12)
    long = build_df_long(df)
    assert long.groupby("model")["correct"].mean().round(3).to_dict() == {"gpt2": 0.398, "roberta": 0.698}


def test_docstring_examples_run():
    import doctest

    import evalcore.analyze.tables

    assert doctest.testmod(evalcore.analyze.tables).failed == 0
