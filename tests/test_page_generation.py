"""Generation data through the real app under AppTest: SQuAD and an uploaded JSONL loaded on Data & models,
the Compare metric picker against the engine's numbers, Examples' filters and highlighted answers, the
Slices page's generation features, gates per task, and the report. Classification pages are covered by
their own test files; the switch between the two task kinds is tested here."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
from apptest_helpers import errors, open_page, show
from test_page_compare import _decode

from evalcore.analyze.features import compute_generation_features
from evalcore.analyze.slices import Slice, SliceSet
from evalcore.core import units
from evalcore.io.load import load_data
from evalcore.present.report import DETECTABLE
from evalcore.serve.workspace import Workspace, save_workspace, workspace_path
from evalcore.stats.comparisons import GENERATION, compared_metric, metrics_for
from evalcore.stats.genmetrics import score_answers
from evalcore.tasks.pipeline import run_analysis

SQUAD = load_data("squad")
MODELS = SQUAD.default_models  # file: the Match-LSTM and BERT answers shipped beside the dev set


@pytest.fixture(scope="module")
def squad_analysis():
    return run_analysis(SQUAD, *MODELS)


def _on_squad(**fields) -> None:
    save_workspace(Workspace(data={"source": "squad"}, baseline=MODELS[0], candidate=MODELS[1], **fields))


def _saved() -> dict:
    return json.loads(workspace_path().read_text())


# --- Data & models ----------------------------------------------------------------------------------------


def test_squad_demo_loads_with_its_answer_files_and_published_scores() -> None:
    at = open_page()
    at.radio(key="dm_source").set_value("squad").run()
    at.button(key="dm_use_squad").click().run()
    assert not errors(at) and not at.exception
    assert [m.value for m in at.metric][0] == "10,570 rows"
    saved = _saved()
    assert saved["data"] == {"source": "squad"} and (saved["baseline"], saved["candidate"]) == MODELS
    assert at.selectbox(key="dm_baseline_choice").value == "file"  # the answers files, shown by path
    assert at.text_input(key="dm_baseline_file_path").value.endswith("squad/predictions/match_lstm.json")
    table = at.dataframe[-1].value.set_index("model")
    assert list(table["role"]) == ["baseline", "candidate"]
    # the published dev figures (Match-LSTM 67.6 / 76.8, BERT ensemble 86.2 / 92.2), each with its interval
    assert table.loc["match_lstm", "exact match [95%]"].startswith("67.6% [")
    assert table.loc["match_lstm", "F1 [95%]"].startswith("76.8% [")
    assert table.loc["bert_ensemble", "exact match [95%]"].startswith("86.2% [")
    assert table.loc["bert_ensemble", "F1 [95%]"].startswith("92.2% [")
    assert set(table["status"]) == {"10,570 answers read"}


def test_uploaded_jsonl_with_two_prediction_columns(tmp_path: Path) -> None:
    rows = SQUAD.df.head(120)
    golds = SQUAD.golds[:120]
    rng = np.random.default_rng(0)
    base = [g[0] if rng.random() < 0.5 else "no idea" for g in golds]
    tuned = [g[-1] if rng.random() < 0.8 else f"it is {g[0]} I think" for g in golds]
    lines = [
        {"id": i, "question": q, "context": c, "answers": list(g), "pred_base": b, "pred_tuned": t}
        for i, q, c, g, b, t in zip(rows["id"], rows["text"], rows["context"], golds, base, tuned)
    ]
    raw = "\n".join(json.dumps(x) for x in lines).encode()
    at = open_page()
    at.radio(key="dm_source").set_value("upload").run()
    at.file_uploader(key="dm_upload").set_value(("qa.jsonl", raw, "application/jsonl")).run()
    assert at.radio(key="dm_up_task").value == "generation"  # a prompt, gold answers and no label column
    assert (
        at.selectbox(key="dm_up_prompt").value,
        at.selectbox(key="dm_up_gold").value,
        at.selectbox(key="dm_up_gid").value,
    ) == ("question", "answers", "id")
    assert any("`pred_base` (base)" in c.value and "`pred_tuned` (tuned)" in c.value for c in at.caption)
    at.button(key="dm_up_load").click().run()
    assert not errors(at), errors(at)
    saved = _saved()
    assert saved["data"]["task"] == "generation" and saved["data"]["text_col"] == "question"
    assert (saved["baseline"], saved["candidate"]) == ("base", "tuned")  # the two answer columns
    table = at.dataframe[-1].value.set_index("model")
    for model, answers in (("base", base), ("tuned", tuned)):
        scores = score_answers(answers, golds)
        assert table.loc[model, "F1 [95%]"].startswith(units.pct(scores["f1"].mean()) + " [")
        assert table.loc[model, "exact match [95%]"].startswith(units.pct(scores["exact_match"].mean()) + " [")
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not [e for e in errors(at) if "Verdict" not in e and "worse than" not in e]
    f1 = score_answers(tuned, golds)["f1"].mean() - score_answers(base, golds)["f1"].mean()
    assert [m.value for m in at.metric][2] == units.pts(f1)


def test_task_switch_keeps_the_classification_slices_aside() -> None:
    mine = SliceSet((Slice("negated", "has_negation == true", "negation flips sentiment"),)).to_json()
    save_workspace(Workspace(slices=mine))
    at = open_page()
    at.radio(key="dm_source").set_value("squad").run()
    at.button(key="dm_use_squad").click().run()
    assert any("classification slices are kept aside" in i.value for i in at.info)
    saved = _saved()
    assert saved["slices"] is None and saved["slices_aside"] == {"classification": mine}
    at.switch_page("pages/slices.py").run()
    assert at.selectbox(key="sl_pick").options[0] == "short_answers"  # the generation defaults
    at.switch_page("pages/data_models.py").run()
    at.radio(key="dm_source").set_value("lab").run()
    at.button(key="dm_use_lab").click().run()
    saved = _saved()
    assert saved["slices"] == mine and saved["slices_aside"] == {}
    assert (saved["baseline"], saved["candidate"]) == ("roberta", "gpt2")


# --- Compare ----------------------------------------------------------------------------------------------


def test_compare_metric_picker_shows_the_engines_numbers(squad_analysis) -> None:
    _on_squad()
    at = open_page("pages/compare.py")
    assert not at.exception
    assert at.success[0].value.startswith("**Verdict: SHIP** — Every gate passes.")
    assert at.radio(key="cmp_gen_metric").value == "f1"
    o = squad_analysis.results.overall
    from evalcore.present.genreport import metric_table

    for metric in metrics_for(GENERATION):
        at.radio(key="cmp_gen_metric").set_value(metric).run()
        assert not at.exception
        b, c, ch = o["baseline"][metric], o["candidate"][metric], o["changes"][metric]
        values = [m.value for m in at.metric]
        assert values[:5] == [
            units.pct(b["value"]),
            units.pct(c["value"]),
            units.pts(ch["value"]),
            units.p_value(ch["p"]),
            units.magnitude_pts(ch["mde"]),
        ]
        assert f"change {units.pts_ci(ch['value'], ch['lo'], ch['hi'])}" in next(
            html.unescape(x.value)
            for x in at.caption  # the caption's terms carry hover help (HTML)
            if html.unescape(x.value).startswith(compared_metric(metric).title + " · 95%")
        )
        table = next(d.value for d in at.dataframe if DETECTABLE in d.value.columns).set_index("slice")
        engine = metric_table(squad_analysis, metric).set_index("slice")
        for name in ("all", "who_questions", "short_answers"):
            row = engine.loc[name]
            assert table.loc[name, "change [95%]"] == units.pts_ci(row["delta"], row["delta_lo"], row["delta_hi"])
            assert table.loc[name, "n"] == row["n"]
        charts = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
        bars = next(
            f for f in charts if f["layout"]["title"]["text"].startswith(compared_metric(metric).title + " per slice")
        )
        assert [t["name"] for t in bars["data"]] == ["baseline: match_lstm", "candidate: bert_ensemble"]
        for trace, e in zip(_decode(bars["data"]), (b, c)):  # the 'all' bar of each model is the engine's mean
            assert trace.y[0] == "all (n=10,570)" and trace.x[0] == pytest.approx(e["value"])
    at.radio(key="cmp_gen_metric").set_value("exact_match").run()
    assert [m.value for m in at.metric][:3] == ["67.6%", "86.2%", "+18.6 pts"]
    assert [m.label for m in at.metric][5:7] == ["Rows where exact match gained", "Rows where exact match lost"]
    captions = " ".join(c.value for c in at.caption)
    assert "No confusion matrix, calibration or per-class table for generation" in captions
    every = next(d.value for d in at.dataframe if "ROUGE-L" in d.value.columns)
    assert list(every.columns) == ["slice", "n", *(compared_metric(m).title for m in metrics_for(GENERATION))]


# --- Examples ---------------------------------------------------------------------------------------------


def test_examples_filter_by_the_picked_metric_and_highlight_shared_words(squad_analysis) -> None:
    from evalcore.stats.gentables import metric_delta

    df = squad_analysis.df_eval
    _on_squad()
    at = open_page("pages/examples.py")
    assert not at.exception and not errors(at)
    f1 = metric_delta(df, "f1")
    assert f"Showing rows 1–100 of {int((f1 < 0).sum()):,}" in _captions(at)  # regressed on F1 by default
    shown = at.dataframe[0].value
    assert len(shown) == 100 and (shown["change"] < 0).all()
    assert list(shown["change"].abs()) == sorted(shown["change"].abs(), reverse=True)  # largest change first
    at.selectbox(key="ex_gen_metric").set_value("exact_match").run()
    em = metric_delta(df, "exact_match")
    assert f"of {int((em < 0).sum()):,}" in _captions(at)
    at.multiselect(key="exg_outcomes").set_value(["improved"]).run()
    at.selectbox(key="exg_slice").set_value("who_questions").run()
    who = squad_analysis.results.masks["who_questions"]
    assert f"of {int(((em > 0) & who).sum()):,}" in _captions(at)
    at.number_input(key="exg_page").set_value(2).run()
    assert "Showing rows 101–" in _captions(at)
    shown = at.dataframe[0].value
    assert not shown["baseline_score"].any() and shown["candidate_score"].all()  # EM gained: 0 -> 1
    at.selectbox(key="exg_sort").set_value("row").run()
    detail = at.selectbox(key="exg_detail")
    detail.set_value(detail.options[0]).run()
    row = df.set_index("id").loc[detail.options[0]]
    golds = json.loads(row["gold_answers"])
    boxes = [m.value for m in at.markdown if m.value.startswith("<div")]
    assert len(boxes) == 2 and "<mark" in boxes[1]  # the candidate's exact answer shares every word
    gold_words = {w.lower().strip(".,") for g in golds for w in g.split()}
    assert all(w.lower().strip(".,") in gold_words for w in _marked(boxes[1]))
    scores = next(d.value for d in at.dataframe if "score" in d.value.columns).set_index("score")
    assert scores.loc["exact match", "candidate: bert_ensemble"] == "✓"
    assert scores.loc["exact match", "baseline: match_lstm"] == "✗"
    assert scores.loc["F1", "baseline: match_lstm"] == f"{row['baseline_f1']:.2f}"
    assert "who_questions" in next(c.value for c in at.caption if c.value.startswith("In slices:"))


def test_highlight_marks_the_words_token_f1_counts() -> None:
    from ui.generation_view import highlight

    out = highlight("in the Denver <Broncos>!", ["Denver Broncos"])
    assert out.count("<mark") == 2 and "&lt;Broncos&gt;!</mark>" in out and ">Denver</mark>" in out
    assert out.startswith("in the ")  # 'in' is not in the gold; 'the' is an article the normaliser drops
    assert "(empty answer)" in highlight("", ["x"])


# --- Slices, gates and the report ----------------------------------------------------------------------


def test_slices_page_offers_the_generation_features() -> None:
    _on_squad()
    at = open_page("pages/slices.py")
    assert not at.exception and not errors(at)
    first = next(s for s in at.selectbox if (s.key or "").endswith("_col") and s.key.startswith("rb_"))
    assert {
        "metadata · question_word",
        "metadata · answer_type",
        "metadata · short_answer",
        "metadata · context_tokens",
        "model · candidate_verbose",
        "model · f1_delta",
    } <= set(first.options)
    builtins = next(d.value for d in at.dataframe if "hypothesis" in d.value.columns and "kind" in d.value.columns)
    assert {"short_answer", "question_word", "answer_type", "verbose"} <= set(builtins["name"])
    at.text_area(key="sl_text_w").set_value('question_word == "what" and answer_type == "number"').run()
    at.button(key="sl_apply_text").click().run()
    features = compute_generation_features(SQUAD.df)
    n = int(((features["question_word"] == "what") & (features["answer_type"] == "number")).sum())
    assert int(next(m.value for m in at.metric if m.label == "Matching rows").replace(",", "")) == n
    assert any(m.label.startswith("Baseline F1 here") for m in at.metric)


def test_gates_are_per_task_and_the_report_speaks_of_answers() -> None:
    _on_squad(gates={"accuracy": 0.05})  # a classification margin saved earlier stays that task's
    at = open_page("pages/share.py")
    assert not at.exception
    keys = {t.key for t in at.toggle}
    assert {"share_gate_on_f1", "share_gate_on_slice_f1", "share_gate_on_exact_match"} <= keys
    assert "share_gate_on_accuracy" not in keys
    at.toggle(key="share_gate_on_exact_match").set_value(True).run()
    assert _saved()["gates"]["exact_match"] == pytest.approx(0.02)
    assert _saved()["gates"]["accuracy"] == pytest.approx(0.05)  # kept for classification data
    verdict = next(s.value for s in at.success if s.value.startswith("**"))
    assert verdict.startswith("**SHIP** · Every gate passes.")
    assert any("**exact_match** (margin 2.0 points) · *pass*" in m.value for m in at.markdown)
    at.toggle(key="share_preview").set_value(True).run()
    report = next(m.value for m in at.markdown if "Overall results" in m.value)
    assert "| exact match | 67.6% [" in report and "Every metric per slice" in report
    compare = show(open_page("pages/compare.py"), cmp_gates_open=True)  # the gates sit in an expander
    assert compare.success[0].value.startswith("**Verdict: SHIP** — Every gate passes.")
    assert any(m.value.startswith("✅ **exact_match**") for m in compare.markdown)
    save_workspace(Workspace(gates=_saved()["gates"]))  # the lab: its own gates, the generation ones aside
    lab = open_page("pages/share.py")
    assert lab.number_input(key="share_gate_accuracy").value == pytest.approx(5.0)  # typed in points
    assert "share_gate_on_exact_match" not in {t.key for t in lab.toggle}


def test_stress_page_offers_live_answers_instead_of_classifier_stress_tests() -> None:
    _on_squad()
    at = open_page("pages/stress.py")
    assert not at.exception and not errors(at)
    assert "Here two live generation models answer the prompt you type" in _captions(at)
    assert "stress_paste" not in {t.key for t in at.text_area}  # no classifier stress cases on answers


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _marked(box: str) -> list[str]:
    import html
    import re

    return [html.unescape(w) for w in re.findall(r"<mark[^>]*>(.*?)</mark>", box)]


def test_offline_push_from_the_page_carries_the_generation_tables(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_root"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for var in ("WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    _on_squad()
    at = open_page("pages/share.py")
    at.button(key="FormSubmitter:share_wandb_form-Push to W&B").click().run()
    assert not at.exception and not [e for e in errors(at) if not e.startswith("**")], errors(at)
    assert at.code[0].value.startswith("wandb sync ")
    tables = next(c.value for c in at.caption if c.value.startswith("tables:"))
    assert "df_eval (10570x" in tables and "metric_changes (" in tables and "calibration" not in tables, tables
