"""Compare page under AppTest: headline numbers, chart data, flagged slices and the settings."""
from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import numpy as np

from apptest_helpers import errors, open_page
from evalcore.data import load_data


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


def _negation(lab):
    from evalcore.features import compute_features

    return compute_features(lab["text"], names=["has_negation"])["has_negation"].to_numpy()


def test_lab_headline_and_charts() -> None:
    at = open_page("pages/compare.py")
    assert not at.exception
    values = [m.value for m in at.metric]
    assert values[:4] == ["0.698", "0.398", "-30.0 pts", "1.1e-21"]
    figs = _figures(at)
    acc = figs["Accuracy per slice"]
    by_name = {t.name: t for t in acc.data}
    base, cand = by_name["baseline: roberta"], by_name["candidate: gpt2"]
    lab = load_data("lab").df
    assert base.y[0].startswith("⚠ all (n=500")
    assert round(base.x[0], 3) == 0.698 and round(cand.x[0], 3) == 0.398
    # Slice sizes are always in the labels; flagged slices carry the warning mark.
    neg = list(base.y).index("⚠ has_negation (n=97)")
    base_neg = (lab["roberta"] == lab["label"])[_negation(lab)].mean()
    assert round(base.x[neg], 4) == round(base_neg, 4)
    assert "emoji_dense (n=8, small)" in base.y
    assert "Significant regressions" in errors(at)[0] and "has_negation" in errors(at)[0]
    findings = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert any("significant" in f for f in findings)


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
    from evalcore.slices import Slice, SliceSet
    from evalcore.workspace import Workspace, save_workspace
    from ui import engine

    save_workspace(Workspace(data={"source": "tweeteval:test"}, baseline="roberta_rt", candidate="vader"))
    at = open_page("pages/compare.py", timeout=300)
    assert not errors(at) or "Significant" in errors(at)[0]
    memo = engine._memos()["predictions"]
    scored = {k: id(v) for k, v in memo.items.items()}
    assert len(scored) == 2 and all(k.endswith(("roberta_rt", "vader")) for k in scored)
    before = _figures(at)["Accuracy per slice"].data[0].y

    ws = at.session_state["ec_workspace"]
    ws.slices = SliceSet((Slice("negated_questions", "has_negation == true and has_question == true", "n"),)).to_json()
    at.run()
    after = _figures(at)["Accuracy per slice"].data[0].y
    assert after != before and after[1] == "⚠ negated_questions (n=324)"
    assert {k: id(v) for k, v in memo.items.items()} == scored  # the same prediction objects: no re-scoring
