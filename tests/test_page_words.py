"""Plain words on the pages (issue 18, item 5), under AppTest: hover help on the statistical terms, no empty
reliability diagram and no confidence sort without confidences, the Examples text first, percent axes, short
model names, and a generation Stress page that does not speak of tweets."""

from __future__ import annotations

import json

from apptest_helpers import open_page, show


def _save(**fields) -> None:
    from evalcore.serve.workspace import Workspace, save_workspace

    save_workspace(Workspace(**fields))


def test_terms_carry_hover_help_and_charts_read_in_percent() -> None:
    at = open_page("pages/compare.py")
    intervals = next(c.value for c in at.caption if c.value.startswith("95% intervals"))
    assert '<abbr title="Newcombe' in intervals and ">Wilson</abbr>" in intervals
    assert next(m for m in at.metric if m.label == "Paired test p").proto.help.startswith("**McNemar**: Exact McNemar")
    charts = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    acc = next(f for f in charts if f["layout"]["title"]["text"].startswith("Accuracy per slice"))
    assert acc["layout"]["xaxis"]["tickformat"] == ".0%"  # the axis in percent, like the numbers beside it
    slices = open_page("pages/slices.py")
    mix = next(c.value for c in slices.caption if c.value.startswith("Gold labels overall"))
    for term in ("total variation", "TV", "chi-square", "Benjamini-Hochberg", "⚠ labels"):
        assert f">{term}</abbr>" in mix, term


def test_without_confidences_no_reliability_diagram_and_no_confidence_sort() -> None:
    """VADER's score is a lexicon share, not a probability: neither model has a confidence."""
    _save(baseline="vader", candidate="vader:0.3")
    at = show(open_page("pages/compare.py"), cmp_detail_view="Calibration")
    assert not at.exception
    charts = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    assert not any(f["layout"]["title"]["text"].startswith("Reliability diagram") for f in charts)
    assert any(i.value.startswith("No reliability diagram: neither model gives a confidence") for i in at.info)
    ex = open_page("pages/examples.py")
    assert ex.selectbox(key="ex_sort").options == ["Row order"]
    assert list(ex.dataframe[0].value.columns)[0] == "text"  # the text first (then labels, predictions, id)


def test_the_generation_stress_page_speaks_of_questions_not_tweets() -> None:
    _save(data={"source": "squad"}, baseline="", candidate="")
    at = open_page("pages/stress.py")
    assert not at.exception
    text = " ".join(c.value for c in at.caption)
    assert "tweet" not in text.lower() and "answer" in text
