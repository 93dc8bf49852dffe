"""Every data shape read (issue 18, item 2), through the CLI and the upload page; the operator's limits and the
malformed values of issue 19 (items 2 and 6) at the engine's boundary."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from apptest_helpers import errors, open_page

from evalcore.cli import main
from evalcore.core.errors import DataError, ModelError
from evalcore.serve.workspace import workspace_path


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _upload(at, name: str, raw: bytes, task: str | None = None):
    at.radio(key="dm_source").set_value("upload").run()
    at.file_uploader(key="dm_upload").set_value((name, raw, "text/csv")).run()
    if task:
        at.radio(key="dm_up_task").set_value(task).run()
    return at


# --- integer prediction columns, read through the label map ----------------------------------------------


@pytest.fixture()
def int_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 300
    gold = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "text": [f"review number {i}" for i in range(n)],
            "label": gold,
            "model_a": np.where(rng.random(n) < 0.8, gold, 1 - gold),
            "model_b": np.where(rng.random(n) < 0.7, gold, 1 - gold),
            "model_b_score": rng.uniform(0.5, 1, n).round(3),
            "retweets": rng.integers(0, 40, n),
        }
    )
    path = tmp_path / "ints.csv"
    frame.to_csv(path, index=False)
    return path


def test_integer_prediction_columns_through_the_label_map_on_the_cli(int_csv: Path) -> None:
    frame = pd.read_csv(int_csv)
    code, out, err = cli(
        "report",
        "--data",
        str(int_csv),
        "--label-map",
        "0=negative,1=positive",
        "--baseline",
        "model_a",
        "--candidate",
        "model_b",
        "--format",
        "json",
    )
    assert code in (0, 1, 3), err
    overall = json.loads(out)["overall"]
    assert overall["baseline"]["value"] == pytest.approx((frame["model_a"] == frame["label"]).mean())
    assert overall["candidate"]["value"] == pytest.approx((frame["model_b"] == frame["label"]).mean())
    assert overall["n_conf_known"] == 300  # model_b_score is model_b's confidence
    code, _, err = cli(
        "report",
        "--data",
        str(int_csv),
        "--label-map",
        "0=negative,1=positive",
        "--baseline",
        "retweets",
        "--candidate",
        "model_b",
    )
    assert code == 2 and "label id '" in err and "is not in the label map" in err  # named, so read and explained
    code, _, err = cli("report", "--data", str(int_csv), "--baseline", "model_a", "--candidate", "model_b")
    assert code == 2 and "--label-map" in err  # without a map, integers are never guessed


def test_integer_prediction_columns_become_the_models_of_an_upload(int_csv: Path) -> None:
    at = _upload(open_page(), "ints.csv", int_csv.read_bytes())
    at.text_input(key="dm_up_label_map").set_value("0=negative,1=positive").run()
    at.button(key="dm_up_load").click().run()
    assert not errors(at)
    saved = json.loads(workspace_path().read_text())
    assert (saved["baseline"], saved["candidate"]) == ("model_a", "model_b")  # not VADER / the demo, unasked
    status = dict(zip(at.dataframe[-1].value["model"], at.dataframe[-1].value["status"]))
    assert status == {"model_a": "300/300 rows precomputed (model_a)", "model_b": "300/300 rows precomputed (model_b)"}


# --- generation tables: empty answers, a context column, a bracketed gold, the tokenizer ------------------


def _generation_table(tmp_path: Path, context: str = "Context") -> Path:
    frame = pd.DataFrame(
        {
            "id": ["q1", "q2", "q3", "q4"],
            "instruction": ["Who wrote The Hobbit?", "When did it rain?", "What did the audience do?", "Where is it?"],
            context: ["Tolkien wrote it in 1937.", "In March 2001 it rained.", "The crowd clapped.", "It is in Paris."],
            "gold": ["Tolkien", "March 2001", "[Applause]", "Paris"],
            "pred_base": ["Tolkien", "", "[Applause]", "Paris"],
            "pred_cand": ["J. R. R. Tolkien", "2001", "", ""],
        }
    )
    path = tmp_path / "instructions.csv"
    frame.to_csv(path, index=False)
    return path


def test_empty_answers_in_csv_columns_and_files_read_like_json(tmp_path: Path) -> None:
    data = _generation_table(tmp_path)
    ids, answers = ["q1", "q2", "q3", "q4"], ["Tolkien", "", "[Applause]", ""]
    pd.DataFrame({"id": ids, "prediction": answers}).to_csv(tmp_path / "answers.csv", index=False)
    (tmp_path / "answers.jsonl").write_text(
        "".join(json.dumps({"id": i, "prediction": a}) + "\n" for i, a in zip(ids, answers))
    )
    (tmp_path / "answers.json").write_text(json.dumps(dict(zip(ids, answers))))
    figures = {}
    for candidate in ("pred_cand", *(f"file:{tmp_path / f}" for f in ("answers.csv", "answers.jsonl", "answers.json"))):
        code, out, err = cli(
            "report", "--data", str(data), "--baseline", "pred_base", "--candidate", candidate, "--format", "json"
        )
        assert code in (0, 1, 3), (candidate, err)
        doc = json.loads(out)
        figures[candidate] = doc["overall"]["candidate"]
    files = [v for k, v in figures.items() if k.startswith("file:")]
    assert files[0] == files[1] == files[2]  # CSV, JSONL and JSON: the same empty answers, the same scores
    assert files[0]["exact_match"]["value"] == pytest.approx(0.5)  # "Tolkien" and "[Applause]" of 4


def test_a_context_column_in_any_spelling_or_named(tmp_path: Path) -> None:
    from evalcore.io.load import load_data

    for name in ("Context", "original-context", "PASSAGE"):
        path = _generation_table(tmp_path, context=name)
        data = load_data(str(path))
        assert data.context_col == name and (data.df["context"].str.len() > 0).all()
    path = _generation_table(tmp_path, context="background")  # no guessable name: named by --context-col
    assert load_data(str(path)).context_col is None
    out_dir = tmp_path / "out"
    code, _, err = cli(
        "report",
        "--data",
        str(path),
        "--context-col",
        "background",
        "--baseline",
        "pred_base",
        "--candidate",
        "pred_cand",
        "--out",
        str(out_dir),
    )
    assert code in (0, 1, 3), err
    assert pd.read_csv(out_dir / "df_eval.csv")["has_context"].all()
    code, _, err = cli(
        "report", "--data", str(path), "--context-col", "nope", "--baseline", "pred_base", "--candidate", "pred_cand"
    )
    assert code == 2 and "context column 'nope' not found" in err
    assert not load_data(str(_generation_table(tmp_path)), context_col="-").df["context"].str.len().any()


def test_the_upload_mapping_step_chooses_the_context_column(tmp_path: Path) -> None:
    path = _generation_table(tmp_path, context="original-context")
    at = _upload(open_page(), "instructions.csv", path.read_bytes())
    assert at.selectbox(key="dm_up_context").value == "original-context"  # guessed from its name
    at.button(key="dm_up_load").click().run()
    assert not errors(at)
    caption = "\n".join(c.value for c in at.caption)
    assert "4 of 4 prompts with a context passage, from column `original-context`" in caption
    assert json.loads(workspace_path().read_text())["data"]["context_col"] == "original-context"
    at.selectbox(key="dm_up_context").set_value("(no context)").run()
    at.button(key="dm_up_load").click().run()
    assert "0 of 4 prompts with a context passage, from no context column" in "\n".join(c.value for c in at.caption)


def test_a_bracketed_single_gold_and_empty_answer_columns_on_the_upload_page(tmp_path: Path) -> None:
    path = _generation_table(tmp_path)
    at = _upload(open_page(), "instructions.csv", path.read_bytes())
    at.button(key="dm_up_load").click().run()
    assert not errors(at)
    scores = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert list(scores["status"]) == ["4 answers read", "4 answers read"]  # "" is an empty answer, not a null
    from evalcore.io.load import load_data

    assert load_data(str(path)).golds[2] == ("[Applause]",)
    broken = tmp_path / "broken.csv"
    broken.write_text('question,gold\nq?,"[""a"", ""b"""\n')
    with pytest.raises(DataError, match="starts like a JSON array of answers but does not read as one"):
        load_data(str(broken))


def _translations(tmp_path: Path) -> Path:
    """English -> Slovak, sentence-long references with accents, months and years (not SQuAD)."""
    refs = [
        "V roku 1990 žila na planéte Zem veľká rodina v malom dome.",
        "V marci prišla jar a všetci ľudia boli šťastní a veselí.",
        "Pán učiteľ povedal, že domáca úloha je na pondelok ráno.",
        "Kaviareň na námestí otvára o deviatej a zatvára o polnoci.",
    ] * 10
    plain = [
        r.translate(str.maketrans("áäčďéíĺľňóôŕšťúýžÁČĎÉÍĽŇÓŠŤÚÝŽ", "aacdeillnoorstuyzACDEILNOSTUYZ")) for r in refs
    ]
    frame = pd.DataFrame(
        {
            "input": [f"English sentence {i}." for i in range(len(refs))],
            "reference": refs,
            "pred_accents": refs,
            "pred_plain": plain,
        }
    )
    path = tmp_path / "en_sk.csv"
    frame.to_csv(path, index=False)
    return path


def test_rouge_l_warns_on_accents_and_the_unicode_tokenizer_keeps_them(tmp_path: Path) -> None:
    from evalcore.stats.genmetrics import score_answers_loop

    path = _translations(tmp_path)
    frame = pd.read_csv(path)
    results = {}
    for tokenizer in ("default", "unicode"):
        code, out, err = cli(
            "report",
            "--data",
            str(path),
            "--baseline",
            "pred_plain",
            "--candidate",
            "pred_accents",
            "--rouge-tokenizer",
            tokenizer,
            "--format",
            "json",
        )
        assert code in (0, 1, 3), err
        results[tokenizer] = (json.loads(out), err)
        reference = score_answers_loop(frame["pred_plain"], [[g] for g in frame["reference"]], tokenizer=tokenizer)
        assert results[tokenizer][0]["overall"]["baseline"]["rouge_l"]["value"] == pytest.approx(
            reference["rouge_l"].mean()
        )  # rouge-score's own RougeScorer, the tokenizer through its hook
    assert "accented Latin letters" in results["default"][1] and "--rouge-tokenizer unicode" in results["default"][1]
    assert "accented Latin letters" not in results["unicode"][1]
    from evalcore.stats.genmetrics import rouge_tokens

    assert rouge_tokens("Na planéte žije", "default") == ["na", "plan", "te", "ije"]  # what the warning is about
    assert rouge_tokens("Na planéte žije", "unicode") == ["na", "planéte", "žije"]


def test_the_mapping_step_offers_the_unicode_tokenizer(tmp_path: Path) -> None:
    path = _translations(tmp_path)
    at = _upload(open_page(), "en_sk.csv", path.read_bytes())
    at.button(key="dm_up_load").click().run()
    at.switch_page("pages/compare.py").run()  # the default tokenizer: Compare says what it drops, and the fix
    assert any("accented Latin letters" in c.value and "unicode" in c.value for c in at.caption)
    at = _upload(open_page(), "en_sk.csv", path.read_bytes())
    at.radio(key="dm_up_rouge_tok").set_value("unicode").run()
    at.button(key="dm_up_load").click().run()
    assert not errors(at)
    assert json.loads(workspace_path().read_text())["data"]["rouge_tokenizer"] == "unicode"
    assert "ROUGE-L tokenizer: unicode" in "\n".join(c.value for c in at.caption)


def test_factoid_slices_only_on_factoid_answers(tmp_path: Path) -> None:
    code, out, err = cli(
        "report",
        "--data",
        str(_translations(tmp_path)),
        "--baseline",
        "pred_plain",
        "--candidate",
        "pred_accents",
        "--format",
        "json",
    )
    assert code in (0, 1, 3), err
    names = {row["slice"] for row in json.loads(out)["slice_metrics"]}
    assert not names & {"date_answers", "number_answers", "name_answers", "when_questions", "who_questions"}
    assert "question-answering slices left out" in err
    code, out, err = cli("report", "--data", "squad", "--n-rows", "400", "--format", "json")
    names = {row["slice"] for row in json.loads(out)["slice_metrics"]}
    assert {"date_answers", "number_answers", "who_questions"} <= names  # SQuAD keeps them
    at = _upload(open_page(), "en_sk.csv", _translations(tmp_path).read_bytes())
    at.button(key="dm_up_load").click().run()
    at.switch_page("pages/slices.py").run()
    assert not at.exception
    shown = set(next(d.value for d in at.dataframe if {"name", "rows"} <= set(d.value.columns))["name"])
    assert "short_answers" in shown and not shown & {"date_answers", "number_answers", "when_questions"}, shown
    assert any("question-answering slices left out" in c.value for c in at.caption)


# --- the features: tokenised contractions and link placeholders --------------------------------------------


def test_tokenised_negation_and_url_placeholders(tmp_path: Path) -> None:
    from evalcore.analyze.features import compute_features

    texts = [
        "it does n't work",
        "i ca n't believe it",
        "they wo n't come",
        "@USER look at this URL",
        "read HTTPURL now",
        "a plain sentence",
        "the url is in the text",
        "URLs are links",
    ]
    f = compute_features(texts, ["has_negation", "has_url", "has_all_caps"])
    assert f["has_negation"].tolist() == [True, True, True, False, False, False, False, False]
    assert f["has_url"].tolist() == [False, False, False, True, True, False, False, False]
    assert not f["has_all_caps"][3]  # the placeholder is a link, not shouting
    rows = pd.DataFrame(
        {
            "text": texts * 5,
            "label": ["negative", "positive"] * 20,
            "a": ["negative", "positive"] * 20,
            "b": ["positive", "positive"] * 20,
        }
    )
    path = tmp_path / "tokenised.csv"
    rows.to_csv(path, index=False)
    slices = tmp_path / "slices.json"
    slices.write_text(
        json.dumps(
            {
                "version": 1,
                "slices": [{"name": "neg", "rule": "has_negation == true"}, {"name": "url", "rule": "has_url == true"}],
            }
        )
    )
    code, out, err = cli(
        "report",
        "--data",
        str(path),
        "--baseline",
        "a",
        "--candidate",
        "b",
        "--slices",
        str(slices),
        "--format",
        "json",
    )
    assert code in (0, 1, 3), err
    sizes = {r["slice"]: r["n"] for r in json.loads(out)["regression_metrics"]}
    assert sizes["neg"] == 15 and sizes["url"] == 10


# --- the operator's limits and malformed values -------------------------------------------------------------


def test_each_limit_is_named_and_set_by_the_operator(tmp_path: Path, monkeypatch) -> None:
    from evalcore.io.load import load_data

    path = tmp_path / "small.csv"
    pd.DataFrame({"text": [f"t{i}" for i in range(50)], "label": ["positive", "negative"] * 25}).to_csv(
        path, index=False
    )
    assert len(load_data(str(path))) == 50
    for var, value, fragment in (
        ("EVALCORE_MAX_ROWS", "10", "50 rows"),
        ("EVALCORE_MAX_COLUMNS", "1", "2 columns"),
        ("EVALCORE_MAX_CELLS", "20", "cells"),
        ("EVALCORE_MAX_FILE_MB", "0.0001", "MB"),
        ("EVALCORE_MEMORY_MB", "0.001", "of memory"),
        ("EVALCORE_MAX_TEXT_CHARS", "1", "characters"),
    ):
        monkeypatch.setenv(var, value)
        with pytest.raises(DataError, match=rf"\${var}") as info:
            load_data(str(path))
        assert fragment in str(info.value)
        monkeypatch.delenv(var)
    monkeypatch.setenv("EVALCORE_MAX_ROWS", "lots")
    with pytest.raises(DataError, match="EVALCORE_MAX_ROWS='lots' must be a positive number"):
        load_data(str(path))


def test_hf_builder_names_cover_the_datasets_library() -> None:
    from datasets.packaged_modules import _PACKAGED_DATASETS_MODULES

    from evalcore.io.data import HF_BUILDERS

    assert set(_PACKAGED_DATASETS_MODULES) <= HF_BUILDERS


def test_malformed_values_are_refused_or_read(tmp_path: Path) -> None:
    from evalcore.io.load import load_data
    from evalcore.predict.load import load_predictor

    (tmp_path / "dict.jsonl").write_text('{"text": {"a": 1}, "label": "positive"}\n')
    with pytest.raises(DataError, match="row 1 holds a dict, not a text"):
        load_data(str(tmp_path / "dict.jsonl"))
    pd.DataFrame({"text": ["café".encode(), b"fine"], "label": ["positive", "negative"]}).to_parquet(
        tmp_path / "b.parquet"
    )
    assert load_data(str(tmp_path / "b.parquet")).texts == ["café", "fine"]  # UTF-8 bytes are text
    (tmp_path / "n.jsonl").write_text('{"text": "x", "label": ' + "7" * 5001 + "}\n")
    with pytest.raises(DataError, match="5,001 digits"):
        load_data(str(tmp_path / "n.jsonl"))
    (tmp_path / "n.csv").write_text("text,label\nx," + "7" * 5001 + "\n")
    with pytest.raises(DataError) as info:
        load_data(str(tmp_path / "n.csv"))
    assert len(str(info.value)) < 600  # the 5,001 digits are not repeated
    lab = load_data("lab")
    (tmp_path / "p.json").write_text("[1, 2, 3]")
    with pytest.raises(ModelError, match="must hold JSON objects with a `pred` field"):
        load_predictor(f"file:{tmp_path / 'p.json'}", lab.labels, data=lab)
    (tmp_path / "deep.json").write_text('{"version": 1, "slices": ' + "[" * 5000 + "]" * 5000 + "}")
    from evalcore.analyze.slices import load_slices
    from evalcore.core.errors import RuleError

    with pytest.raises(RuleError, match="levels of nesting"):
        load_slices(tmp_path / "deep.json")
