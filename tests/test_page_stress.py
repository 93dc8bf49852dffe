"""Stress tests page through the real app: cases in (pasted, typed, uploaded, LLM), live scoring
checked against VADER called directly, persistence across a fresh session, perturbation tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from apptest_helpers import errors, open_page
from chat_server import send_chat_reply
from scipy.stats import binomtest

from evalcore.analyze.features import compute_features
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.probe.perturb import Expectation, get_generators, run_perturbation_tests

PAGE = "pages/stress.py"
LABELS = ["negative", "neutral", "positive"]
CASES = [  # VADER gets some wrong with confidence (sarcasm); add_negation applies to the last two
    ("I do not love this phone at all", "negative"),
    ("not bad, not bad at all", "positive"),
    ("great, another monday. just great", "negative"),
    ("I hate waiting in line", "negative"),
    ("the meeting is at noon", "neutral"),
    ("sure, thanks a lot for nothing", "negative"),
    ("this isn't good", "negative"),
    ("It is great", "positive"),
    ("I am happy", "positive"),
    ("just landed in Boston", None),
]
PASTED = "\n".join(text if label is None else f"{text}\t{label}" for text, label in CASES)


def _paste(at, text: str):
    at.text_area(key="stress_paste").set_value(text).run()
    return at.button(key="stress_add_pasted").click().run()


def _use_candidate(at, spec: str):
    at.selectbox(key="stress_model_candidate").set_value("other…").run()
    return at.text_input(key="stress_spec_candidate").set_value(spec).run()


def _editor(at):
    return at.dataframe[0].value  # the case list (st.data_editor) is the page's first table


def _table(at, column: str):
    """The table holding `column` (only widget tables carry their keys in AppTest)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _expected_summary(threshold: float, target_rows) -> dict[str, dict[str, float]]:
    """The summary computed straight from VADER, with no evalcore scoring code in between."""
    texts = [t for t, _ in CASES]
    gold = np.array([lab if lab is not None else "" for _, lab in CASES], dtype=object)
    labelled = np.array([lab is not None for _, lab in CASES])
    out, preds = {}, {}
    for spec in ("vader", "vader:0.3"):
        p = load_predictor(spec, LABELS)
        batch = p.predict(texts)
        pred = np.array([LABELS[i] for i in batch.pred], dtype=object)
        preds[spec] = pred
        wrong = labelled & (pred != gold)
        slice_batch = p.predict(target_rows["text"].tolist())
        slice_pred = np.array([LABELS[i] for i in slice_batch.pred], dtype=object)
        out[spec] = {
            "accuracy": float((pred == gold)[labelled].mean()),
            "high_conf_wrong": int((wrong & (batch.conf >= threshold)).sum()),
            "slice_accuracy": float((slice_pred == target_rows["label"].to_numpy(dtype=object)).mean()),
        }
    disagreement = float((preds["vader"] != preds["vader:0.3"]).mean())
    for spec in out:
        out[spec]["disagreement_rate"] = disagreement
    return out


def test_paste_score_and_persist() -> None:
    at = open_page(PAGE)
    assert not errors(at)
    # the lab workspace compares two precomputed models: the page explains it and proposes live ones
    assert any("precomputed" in i.value and "cannot score new text" in i.value for i in at.info)
    assert at.selectbox(key="stress_model_baseline").value == "vader"
    assert at.selectbox(key="stress_model_candidate").value == "demo"

    at.text_input(key="stress_hypothesis").set_value("negation flips polarity").run()
    at.selectbox(key="stress_target").set_value("has_negation").run()
    _paste(at, PASTED)
    assert not errors(at), errors(at)
    assert "Added 10 case(s)" in at.success[0].value
    assert at.text_area(key="stress_paste").value == ""
    table = _editor(at)
    assert table["text"].tolist() == [t for t, _ in CASES]
    assert table["label"].isna().sum() == 1

    _use_candidate(at, "vader:0.3")
    at.slider(key="stress_conf").set_value(0.6).run()
    at.button(key="stress_score").click().run()
    assert not errors(at), errors(at)

    lab = load_data("lab").df
    target_rows = lab[compute_features(lab["text"])["has_negation"].to_numpy(dtype=bool)]
    expected = _expected_summary(0.6, target_rows)
    summary = _table(at, "accuracy [95% interval]").set_index("model")
    for spec, role in (("vader", "baseline"), ("vader:0.3", "candidate")):
        row, want = summary.loc[spec], expected[spec]
        k = round(want["accuracy"] * 9)
        lo, hi = binomtest(k, 9).proportion_ci(method="wilson")
        assert row["role"] == role and row["cases"] == "10"
        assert row["accuracy [95% interval]"] == (f"{want['accuracy']:.1%} [{lo:.1%}, {hi:.1%}] ({k} of 9)")
        # VADER's score is a lexicon share: its high-confidence errors are not counted, and it says so
        assert row["high-confidence wrong"] == "n/a (lexicon share, not a probability)"
        assert row["accuracy on the targeted slice"] == f"{want['slice_accuracy']:.1%}"
        assert row["cases - slice"] == f"{(want['accuracy'] - want['slice_accuracy']) * 100:+.1f} pts"
        assert row["disagreement between the models"].startswith(f"{want['disagreement_rate']:.1%} [")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Disagreement rate"] == f"{expected['vader']['disagreement_rate']:.1%}"
    assert metrics["High-confidence wrong (≥ 0.60)"] == "n/a / n/a"
    wide = _table(at, "agree")
    assert len(wide) == 10 and {"pred_vader", "pred_vader:0.3", "agree", "score_vader"} <= set(wide.columns)

    # once scored, a new case is scored at once (same models, the rest comes from the cache)
    at.text_input(key="stress_type_text").set_value("what a wonderful surprise")
    at.button(key="FormSubmitter:stress_type_form-Add").click().run()
    assert _table(at, "accuracy [95% interval]")["cases"].tolist() == ["11", "11"]

    # a browser refresh (fresh session) finds the cases, hypothesis, target and model choice
    again = open_page(PAGE)
    assert not errors(again)
    assert _editor(again)["text"].tolist() == [t for t, _ in CASES] + ["what a wonderful surprise"]
    assert again.text_input(key="stress_hypothesis").value == "negation flips polarity"
    assert again.selectbox(key="stress_target").value == "has_negation"
    assert again.selectbox(key="stress_model_candidate").value == "vader:0.3"
    assert again.slider(key="stress_conf").value == pytest.approx(0.6)


def test_bad_inputs_show_messages_and_add_nothing(tmp_path) -> None:
    at = open_page(PAGE)
    _paste(at, "fine day\tpositive\nso so\tmixed")
    assert any("line 2" in e and "'mixed'" in e and "negative, neutral, positive" in e for e in errors(at)), errors(at)
    assert at.text_area(key="stress_paste").value.endswith("mixed")  # kept for fixing
    assert len(_editor(at)) == 0
    at.text_input(key="stress_type_text").set_value("oh well")  # inside a form: sent on submit
    at.selectbox(key="stress_type_label").set_value("neutral")
    at.button(key="FormSubmitter:stress_type_form-Add").click().run()
    assert len(_editor(at)) == 1 and _editor(at)["label"].tolist() == ["neutral"]
    at.file_uploader[0].set_value(("cases.csv", b"text,label\nyay,positive\nmeh,mixed\n", "text/csv")).run()
    at.button(key="stress_add_file").click().run()
    assert any("cases.csv" in e and "line 3" in e and "'mixed'" in e for e in errors(at)), errors(at)
    assert len(_editor(at)) == 1
    at.file_uploader[0].set_value(("cases.jsonl", b'{"text": "ugh", "label": "negative"}\n', "application/json")).run()
    at.button(key="stress_add_file").click().run()
    assert not errors(at) and _editor(at)["text"].tolist() == ["oh well", "ugh"]
    at.selectbox(key="stress_model_candidate").set_value("other…").run()
    at.text_input(key="stress_spec_candidate").set_value("roberta").run()
    assert any("precomputed" in e for e in errors(at))
    assert at.selectbox(key="stress_model_candidate").value == "other…"  # choice not saved
    at.button(key="stress_clear").click().run()
    assert len(_editor(at)) == 0


def test_perturbation_tests_on_the_cases() -> None:
    at = open_page(PAGE)
    _paste(at, PASTED)
    _use_candidate(at, "vader:0.3")
    names = ["add_negation", "upper_case", "add_typos"]
    at.multiselect(key="stress_pt_generators").set_value(names).run()
    at.radio(key="stress_pt_source").set_value("cases").run()
    at.slider(key="stress_pt_clear").set_value(0.6).run()
    at.button(key="stress_pt_run").click().run()
    assert not errors(at), errors(at)
    shown = _table(at, "failure rate [95% interval]")
    assert len(at.get("plotly_chart")) == 1
    vader, vader03 = load_predictor("vader", LABELS), load_predictor("vader:0.3", LABELS)
    vader03.name = "vader:0.3"
    direct = run_perturbation_tests(
        [t for t, _ in CASES],
        [vader, vader03],
        get_generators(names, Expectation("DIR", clear_conf=0.6, high_conf=0.8)),
        max_cases_per_generator=50,
    ).summary
    assert shown[["test", "model", "applicable"]].values.tolist() == [
        [g, m, str(n)] for g, m, n in direct[["generator", "model", "n_applicable"]].values
    ]
    for text, (rate, fail, n) in zip(
        shown["failure rate [95% interval]"], direct[["failure_rate", "n_fail", "n_applicable"]].values
    ):
        if n:
            lo, hi = binomtest(int(fail), int(n)).proportion_ci(method="wilson")
            assert text == f"{rate:.1%} [{lo:.1%}, {hi:.1%}] ({int(fail)} of {int(n)})"
        else:
            assert text == "not applicable (no case applies)"  # never a 0% rate
    # texts the negation rules could not edit are counted as skipped, with the reason
    assert shown["texts tried"].tolist()[0] == "10" and shown["skipped: no edit made (why)"].tolist()[0] == (
        "6 (already holds a negation (4); no auxiliary, copula, modal or known verb after a subject (2))"
    )
    # each test's examples with the edit marked: add_negation first, then another test picked
    edits = [m.value for m in at.markdown if 'class="edits"' in m.value]
    assert len(edits) == 1 and '<ins style="' in edits[0] and ">not</ins> great" in edits[0], edits
    at.selectbox(key="stress_pt_show").set_value("upper_case").run()
    edits = [m.value for m in at.markdown if 'class="edits"' in m.value]
    assert ">HATE</ins>" in edits[0] and ("✗ fail" in edits[0] or "✓ pass" in edits[0])


class _LLM(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.prompts.append(request["messages"][0]["content"])  # type: ignore[attr-defined]
        self.server.auth.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        content = "1. I don't love it\tnegative\n2. not bad at all\tPositive\n"
        send_chat_reply(self, content)


def test_llm_prompt_reply_and_a_configured_endpoint(monkeypatch) -> None:
    at = open_page(PAGE)
    at.text_input(key="stress_hypothesis").set_value("negation flips polarity").run()
    prompt = at.code[0].value
    assert "Hypothesis to probe: negation flips polarity" in prompt and "TAB" in prompt
    assert any("No LLM endpoint is configured on this server" in i.value for i in at.info)
    at.text_area(key="stress_llm_reply").set_value("```\n- so not fun | negative\n```").run()
    at.button(key="stress_add_reply").click().run()
    assert _editor(at)[["text", "label", "source"]].values.tolist() == [["so not fun", "negative", "llm"]]

    srv = ThreadingHTTPServer(("127.0.0.1", 0), _LLM)
    srv.prompts, srv.auth = [], []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # the operator configures the endpoint and its key variable; a visitor only picks it by name
    monkeypatch.setenv("EVALCORE_TEST_API_KEY", "sk-test-1234567890")
    monkeypatch.setenv(
        "EVALCORE_LLM_ENDPOINTS",
        json.dumps(
            {
                "local tiny": {
                    "base_url": f"http://127.0.0.1:{srv.server_port}/v1",
                    "model": "tiny",
                    "api_key_env": "EVALCORE_TEST_API_KEY",
                }
            }
        ),
    )
    try:
        at = open_page(PAGE)
        assert not [t for t in at.text_input if (t.key or "").startswith("stress_llm_")]  # no URL or key field
        assert at.selectbox(key="stress_llm_endpoint").value == "local tiny"
        assert "set on the server (value hidden)" in " ".join(c.value for c in at.caption)
        at.number_input(key="stress_llm_n").set_value(2).run()
        at.button(key="stress_llm_generate").click().run()
    finally:
        srv.shutdown()
        srv.server_close()
    assert not errors(at), errors(at)
    assert "Write 2 new" in srv.prompts[0] and srv.auth == ["Bearer sk-test-1234567890"]
    assert _editor(at)["text"].tolist() == ["so not fun", "I don't love it", "not bad at all"]
    assert _editor(at)["label"].tolist() == ["negative", "negative", "positive"]
    saved = json.loads((load_workspace_path()).read_text())
    assert set(saved["llm"]) <= {"endpoint"} and "sk-test" not in json.dumps(saved)  # a name, never a URL or key


def load_workspace_path():
    from evalcore.serve.workspace import workspace_path

    return workspace_path()
