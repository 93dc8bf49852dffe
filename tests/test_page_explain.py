"""Token explanations in the app: the Examples page's row detail (both models, toward each prediction and
toward the gold label) checked against `evalcore.probe.explain` called directly, the message for precomputed
models, occlusion for a real (tiny) transformer, the aggregate view of a slice's regressions, and a
scored stress case explained on the Stress tests page."""

from __future__ import annotations

import json

import pytest
from apptest_helpers import errors, open_page
from test_models import make_tiny_model

from evalcore.core.paths import models_dir
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.probe.explain import explain, highlight_html, vader_lexicon
from evalcore.probe.explain_aggregate import explain_slice
from evalcore.serve.workspace import Workspace, save_workspace
from evalcore.tasks.pipeline import run_analysis

PAGE = "pages/examples.py"
LABELS = ("negative", "neutral", "positive")
PRECOMPUTED = "gives precomputed predictions (columns of the data or a predictions file): it cannot score"


@pytest.fixture(scope="module")
def lab():
    return load_data("lab").df.set_index("id")


def _highlights(at) -> list[str]:
    """The highlighted texts on the page, top to bottom (the widget wraps each in one bordered div)."""
    return [m.value for m in at.markdown if m.value.startswith('<div style="line-height')]


def _headings(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(("Toward its prediction", "Toward the gold label"))]


def _infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_row_detail_explains_both_vader_models_toward_prediction_and_gold(lab) -> None:
    save_workspace(Workspace(baseline="vader", candidate="vader:0.3"))
    at = open_page(PAGE)
    at.selectbox(key="ex_detail").set_value("21").run()  # regressed: vader positive (gold), vader:0.3 neutral
    assert not at.exception and not errors(at), errors(at)
    text = lab.loc["21", "text"]
    base = vader_lexicon(text, threshold=0.05)
    cand = vader_lexicon(text, threshold=0.3)
    cand_gold = vader_lexicon(text, "positive", threshold=0.3)
    assert (base.predicted, cand.predicted) == ("positive", "neutral")
    shown = _highlights(at)
    assert len(shown) == 3
    for html, expl in zip(shown, (base, cand, cand_gold)):
        assert highlight_html(expl) in html
    assert _headings(at) == [
        "Toward its prediction, **positive**",
        "Toward its prediction, **neutral**",
        "Toward the gold label, **positive**",
    ]
    captions = [c.value for c in at.caption]
    assert "Its prediction is the gold label (positive)." in captions
    top = ", ".join(f"{t.token} ({t.score:+.2f})" for t in cand.top(3, toward=False))
    assert any(c.startswith("lexicon · whole text") and f"away: {top}" in c for c in captions), captions
    legend = next(m.value for m in at.markdown if "pushes the model **toward**" in m.value)
    assert "rgba(47,158,68" in legend and "rgba(224,49,49" in legend  # the colours of the highlights
    assert "rgba(47,158,68" in shown[0]  # 'growing' pushes vader toward positive: green


def test_precomputed_models_get_the_message(lab) -> None:
    at = open_page(PAGE)  # the lab's roberta and gpt2: columns of the file
    at.selectbox(key="ex_detail").set_value(at.selectbox(key="ex_detail").options[0]).run()
    assert not errors(at) and not _highlights(at)
    infos = _infos(at)
    assert any(i.startswith(f"Not explainable: roberta {PRECOMPUTED}") for i in infos), infos
    assert any(i.startswith(f"Not explainable: gpt2 {PRECOMPUTED}") for i in infos), infos
    assert any(i.startswith(f"No explanation: gpt2 {PRECOMPUTED}") for i in infos)  # the aggregate view
    assert at.button(key="ex_agg_run").disabled

    save_workspace(Workspace(baseline="vader", candidate="gpt2"))  # one live, one precomputed
    at = open_page(PAGE)
    row_id = at.selectbox(key="ex_detail").options[0]
    at.selectbox(key="ex_detail").set_value(row_id).run()
    assert not errors(at)
    assert len(_highlights(at)) == 1
    assert highlight_html(vader_lexicon(lab.loc[row_id, "text"])) in _highlights(at)[0]
    assert any(i.startswith(f"Not explainable: gpt2 {PRECOMPUTED}") for i in _infos(at))


@pytest.fixture
def tiny_spec(evalcore_home) -> str:
    """A real (tiny, random) BERT classifier in the server's models folder, where visitors may load from."""
    folder = make_tiny_model(models_dir() / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
    return f"hf:{folder}"


def test_occlusion_for_a_transformer_and_a_slice_in_aggregate(lab, tiny_spec) -> None:
    import torch

    threads = torch.get_num_threads()
    save_workspace(Workspace(baseline="vader", candidate=tiny_spec))
    at = open_page(PAGE)
    assert not errors(at), errors(at)
    row_id = at.selectbox(key="ex_detail").options[0]  # the first regressed row shown
    at.selectbox(key="ex_detail").set_value(row_id).run()
    assert not at.exception and not errors(at), errors(at)
    assert torch.get_num_threads() == threads  # the page explained on one thread, then restored the count
    text = lab.loc[row_id, "text"]
    torch.set_num_threads(1)  # as the page explains: the same arithmetic, the same digits
    try:
        tiny = load_predictor(tiny_spec, LABELS)
        own = explain(tiny, text)
        gold = explain(tiny, text, lab.loc[row_id, "label"])
    finally:
        torch.set_num_threads(threads)
    shown = _highlights(at)
    assert highlight_html(own) in shown[-2] and highlight_html(gold) in shown[-1]
    assert any(c.value.startswith("occlusion · whole text") for c in at.caption)

    # the aggregate view: a seeded sample of has_negation's regressed rows, both models explained
    at.selectbox(key="ex_agg_slice").set_value("has_negation").run()
    at.number_input(key="ex_agg_rows").set_value(5).run()
    at.button(key="ex_agg_run").click().run()
    assert not at.exception and not errors(at), errors(at)
    analysis = run_analysis(load_data("lab"), "vader", tiny_spec)
    expected = explain_slice(analysis, "has_negation", max_rows=5)
    assert expected.n_regressed > 5 and expected.n_explained == 5
    message = next(s.value for s in at.success if s.value.startswith("Explained"))
    assert message == expected.message()
    tokens = next(d.value for d in at.dataframe if "token" in d.value.columns)
    assert tokens["token"].tolist() == expected.tokens["token"].tolist()
    assert tokens["rows with it"].tolist() == [f"{n:,}" for n in expected.tokens["n_rows"]]
    classes = next(d.value for d in at.dataframe if "class" in d.value.columns)
    assert "[negation word]" in classes["class"].tolist()
    charts = [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]
    assert any(t.startswith("Why") and "flips on has_negation" in t for t in charts), charts


def test_a_scored_stress_case_is_explained() -> None:
    at = open_page("pages/stress.py")
    at.text_area(key="stress_paste").set_value(
        "I do not love this phone at all\tnegative\nwhat a lovely day\tpositive\njust landed in Boston"
    ).run()
    at.button(key="stress_add_pasted").click().run()
    at.selectbox(key="stress_model_candidate").set_value("other…").run()
    at.text_input(key="stress_spec_candidate").set_value("vader:0.3").run()
    at.button(key="stress_score").click().run()
    assert not errors(at), errors(at)
    assert not _highlights(at)  # nothing is explained before a case is picked
    at.selectbox(key="stress_explain_case").set_value(0).run()
    assert not at.exception and not errors(at), errors(at)
    text = "I do not love this phone at all"
    base, cand = vader_lexicon(text, threshold=0.05), vader_lexicon(text, threshold=0.3)
    shown = _highlights(at)
    assert highlight_html(base) in shown[0] and base.predicted == "negative"
    assert "Its prediction is the gold label (negative)." in [c.value for c in at.caption]
    assert any(highlight_html(cand) in h for h in shown)
    at.selectbox(key="stress_explain_case").set_value(2).run()  # no expected label: toward the prediction only
    assert [h.split(",")[0] for h in _headings(at)] == ["Toward its prediction"] * 2


def test_one_thread_is_nested_and_restores_the_count() -> None:
    import torch

    from ui.engine import one_thread

    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1  # the outer user still explains
    assert torch.get_num_threads() == before


def test_labels_a_model_cannot_explain_and_a_slice_without_regressions_get_messages(shared_data) -> None:
    sst2 = {
        "source": str(shared_data / "sst2" / "dev.tsv"),
        "text_col": "sentence",
        "label_map": "0=negative,1=positive",
    }
    save_workspace(Workspace(data=sst2, baseline="vader", candidate="vader:0.3"))
    at = open_page(PAGE)
    at.multiselect(key="ex_outcomes").set_value([]).run()  # on binary labels the two VADERs agree: no regression
    at.selectbox(key="ex_detail").set_value(at.selectbox(key="ex_detail").options[0]).run()
    assert not at.exception
    assert errors(at) == ["VADER explains negative/neutral/positive; the labels are negative, positive"] * 2
    at.button(key="ex_agg_run").click().run()
    assert not at.exception
    assert any(i.startswith("No explanation needed: slice all has no regressed row") for i in _infos(at))
    at.switch_page("pages/share.py").run()  # nothing explained: nothing to include
    assert any(c.value.startswith("No stress, perturbation, discovery or explanation results") for c in at.caption)
