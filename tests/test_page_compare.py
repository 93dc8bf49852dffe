"""Compare page under AppTest: headline numbers, chart data, flagged slices and the settings."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import numpy as np
from apptest_helpers import errors, open_page, show

from evalcore.io.load import load_data
from evalcore.present.report import DETECTABLE


def _decode(value):
    """Plotly serialises numpy arrays as {"dtype", "bdata"[, "shape"]}: turn them back into arrays."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return arr.reshape([int(x) for x in str(value["shape"]).split(",")]) if "shape" in value else arr
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _decode(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _figures(at) -> dict:
    """Plotly figures on the page by title, decoded from the element protos."""
    figs = [_decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart")]
    return {f.layout.title.text: f for f in figs}


def _accuracy(at):
    return next(f for title, f in _figures(at).items() if title.startswith("Accuracy per slice"))


def _negation(lab):
    from evalcore.analyze.features import compute_features

    return compute_features(lab["text"], names=["has_negation"])["has_negation"].to_numpy()


def test_lab_headline_verdict_and_charts() -> None:
    at = open_page("pages/compare.py")
    assert not at.exception
    values = [m.value for m in at.metric]
    assert values[:5] == ["69.8%", "39.8%", "-30.0 pts", "1.1e-21", "9.0 pts"]
    assert values[5:] == ["40.8%", "10.8%", "38.2%"]
    # the verdict comes first, with its reason, and every gate with its margin and status
    verdict = errors(at)[0]
    assert verdict.startswith("**Verdict: NO-SHIP** — Look at slice has_mention: it loses 42.5 points")
    # every count comes from the one verdict
    assert "7 slices judged · 7 with evidence of harm · 3 too small to judge · 0 model-defined (never gate)" in [
        c.value for c in at.caption
    ]
    assert not at.dataframe  # every table sits in a shut expander or tab: none is built or sent (issue 21)
    show(at, cmp_gates_open=True)
    gates = [m.value for m in at.markdown if "margin" in m.value and "**" in m.value]
    assert any(g.startswith("❌ **accuracy** · margin 2.0 points · *fail*") for g in gates)
    assert any(g.startswith("❌ **slice_accuracy** · margin 5.0 points · *fail*") for g in gates)
    reasons = [m.value for m in at.markdown if m.value.startswith("- slice_accuracy: ")]
    assert reasons and "7 watched slices lose beyond the 5.0-point margin" in reasons[0] and "has_mention" in reasons[0]
    # rates carry their interval and n
    assert "40.8% [36.6%, 45.2%] (Wilson), n=500" in [c.value for c in at.caption]
    figs = _figures(at)
    acc = next(f for title, f in figs.items() if title.startswith("Accuracy per slice"))
    assert "⚠ = worse than the rest of the rows" in acc.layout.title.text
    by_name = {t.name: t for t in acc.data}
    base, cand = by_name["baseline: roberta"], by_name["candidate: gpt2"]
    lab = load_data("lab").df
    assert base.y[0] == "all (n=500)"
    assert round(base.x[0], 3) == 0.698 and round(cand.x[0], 3) == 0.398
    # slice sizes are always in the labels; only the slice worse than the rest carries the mark
    neg = list(base.y).index("has_negation (n=97)")
    base_neg = (lab["roberta"] == lab["label"])[_negation(lab)].mean()
    assert round(base.x[neg], 4) == round(base_neg, 4)
    assert "⚠ has_mention (n=207)" in base.y and "emoji_dense (n=8, small)" in base.y
    assert "Worse than the rest of the rows after Benjamini–Hochberg (FDR 0.05): **has_mention**" in at.info[0].value
    findings = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert any("3 of 10 slices are too small to judge (fewer than 30 rows)" in f for f in findings)
    (verdict_slices,) = (d.value for d in at.dataframe)  # the verdict's slices; the other tables' tabs are shut
    assert not any(t.startswith("Accuracy change per slice") for t in figs)  # a hidden tab is not built (issue 21)
    assert not any(t.startswith("Reliability diagram") for t in figs)
    table = show(at, cmp_view="Table").dataframe[1].value
    assert not any(t.startswith("Accuracy per slice") for t in _figures(at))
    per_class = show(at, cmp_view="Per class").dataframe[1].value
    cal = show(at, cmp_detail_view="Calibration").dataframe[-1].value
    assert any(t.startswith("Reliability diagram · all") for t in _figures(at))
    assert verdict_slices.set_index("slice").loc["has_url", "status"] == "too small to judge"
    assert verdict_slices.set_index("slice").loc["has_mention", "status"] == "fail"
    row = table.set_index("slice").loc["has_url"]
    assert row["in the verdict"] == "too small to judge" and row[DETECTABLE] == "–" and row["n"] == 16
    # a judged slice shows the detectable loss of the test that decides it (the harm test at its BH level)
    neg = verdict_slices.set_index("slice").loc["has_negation"]
    assert table.set_index("slice").loc["has_negation", DETECTABLE] == neg["detectable loss"] != "–"
    per_class = per_class.set_index("label")
    assert per_class.loc["negative", "recall change [95%]"] == "-54.0 pts [-62.3, -43.9]"
    assert cal["ECE [95%]"].iloc[1].startswith("0.566 [")


def test_verdict_follows_the_gates_saved_on_the_report_page() -> None:
    from evalcore.serve.workspace import Workspace, save_workspace

    save_workspace(Workspace(baseline="gpt2", candidate="roberta", gates={"slice_accuracy": None}))
    at = open_page("pages/compare.py")
    assert [s.value for s in at.success][0] == "**Verdict: SHIP** — Every gate passes."
    save_workspace(Workspace(baseline="gpt2", candidate="roberta"))
    at = open_page("pages/compare.py")
    # the case: +30 points, two tiny slices; they are too small to judge and never block (it was inconclusive)
    assert [s.value for s in at.success][0].startswith(
        "**Verdict: SHIP** — Every gate passes; 3 slices too small to judge (long_tweets, has_url, emoji_dense)"
    )
    # ship only for a gain: the switch saves the headline metric's gain gate, and the verdict reads it
    show(at, cmp_gates_open=True).toggle(key="cmp_require_gain").set_value(True).run()
    from evalcore.serve.workspace import load

    assert load("default").workspace.gates["accuracy_gain"] == 0.0
    assert any(m.value.startswith("✅ **accuracy_gain** · any gain · *pass*") for m in at.markdown)


def test_threshold_setting_changes_confident_regression_and_persists() -> None:
    at = open_page("pages/compare.py")
    before = [m.value for m in at.metric][-1]
    at.slider(key="cmp_threshold").set_value(0.99).run()
    after = [m.value for m in at.metric][-1]
    assert before == "38.2%" and after != before
    fresh = open_page("pages/compare.py")
    assert [m.value for m in fresh.metric][-1] == after


def test_detail_slice_confusion_matrix_counts() -> None:
    at = open_page("pages/compare.py")
    at.selectbox(key="cmp_detail_slice").set_value("has_mention").run()
    figs = _figures(at)
    cm = figs["baseline: roberta"].data[0].z
    assert int(np.asarray(cm).sum()) == 207


def test_slice_edit_on_full_tweeteval_reruns_metrics_not_models() -> None:
    """12,284 rows: editing a slice rule changes the charts, and no model runs again."""
    from evalcore.analyze.slices import Slice, SliceSet
    from evalcore.serve.workspace import Workspace, save_workspace
    from ui import engine

    save_workspace(Workspace(data={"source": "tweeteval:test"}, baseline="roberta_rt", candidate="vader"))
    at = open_page("pages/compare.py", timeout=300)
    assert not at.exception
    memo = engine._memos()["predictions"]
    scored = {k: id(v) for k, v in memo.items.items()}
    assert len(scored) == 2 and all(k.endswith(("roberta_rt", "vader")) for k in scored)
    before = _accuracy(at).data[0].y

    ws = at.session_state["ec_workspace"]
    ws.slices = SliceSet((Slice("negated_questions", "has_negation == true and has_question == true", "n"),)).to_json()
    at.run()
    after = _accuracy(at).data[0].y
    assert after != before and after[1].endswith("negated_questions (n=324)")
    assert {k: id(v) for k, v in memo.items.items()} == scored  # the same prediction objects: no re-scoring
