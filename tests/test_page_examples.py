"""Examples page: slice and outcome filters match df_eval computed directly; row detail shows metadata."""

from __future__ import annotations

from apptest_helpers import errors, open_page

from evalcore.io.load import load_data


def test_filters_and_detail() -> None:
    lab = load_data("lab").df
    regressed = (lab["roberta"] == lab["label"]) & (lab["gpt2"] != lab["label"])
    at = open_page("pages/examples.py")
    assert not errors(at)
    # one page of 100 rows goes to the browser; the caption counts the whole selection
    assert len(at.dataframe[0].value) == 100 and "Showing rows 1–100 of 204" in _captions(at)
    at.number_input(key="ex_page").set_value(3).run()
    assert len(at.dataframe[0].value) == 4 and "Showing rows 201–204 of 204" in _captions(at)
    assert set(at.dataframe[0].value["id"]) <= set(lab.loc[regressed, "id"].astype(str))
    at.multiselect(key="ex_outcomes").set_value(["improved", "both_correct"]).run()
    improved = (lab["roberta"] != lab["label"]) & (lab["gpt2"] == lab["label"])
    both = (lab["roberta"] == lab["label"]) & (lab["gpt2"] == lab["label"])
    total = int((improved | both).sum())
    assert f"of {total}" in _captions(at)
    at.selectbox(key="ex_slice").set_value("has_mention").run()
    shown = at.dataframe[0].value
    assert shown["text"].str.contains("@").all()
    at.selectbox(key="ex_sort").set_value("candidate_conf_asc").run()
    confs = at.dataframe[0].value["candidate_conf"].tolist()
    assert confs == sorted(confs)
    detail = at.selectbox(key="ex_detail")
    detail.set_value(detail.options[0]).run()
    meta = next(d.value for d in at.dataframe if "feature" in d.value.columns)
    assert {"has_mention", "word_count", "length_bucket"} <= set(meta["feature"])
    assert "has_mention" in next(c.value for c in at.caption if c.value.startswith("In slices:"))


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)
