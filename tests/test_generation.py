"""Generation evaluation: normalisers on tricky strings, ROUGE-L equal to rouge-score, the published SQuAD
figures, data formats and alignment errors, slices, gates and the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalcore.core.errors import ConfigError, DataError, ModelError
from evalcore.decide.gates import DEFAULTS, GATES, NO_SHIP, SHIP, GateConfig, gates_for, parse_gate_args
from evalcore.decide.verdict import evaluate_gates
from evalcore.io.gendata import GenerationData
from evalcore.io.load import load_data
from evalcore.predict.answers import load_answers
from evalcore.stats.genmetrics import (
    exact_match,
    non_latin_share,
    normalize_answer,
    relaxed_match,
    rouge_l,
    score_answers,
    score_answers_loop,
    token_f1,
)
from evalcore.tasks.pipeline import run_analysis

# --- normalisers and per-pair scores, against values computed by hand --------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Cat's  hat!", "cats hat"),  # punctuation dropped inside words, the article and double space gone
        ("An apple, a day.", "apple day"),
        ("Theater of the absurd", "theater of absurd"),  # 'the' only as a whole word
        ("the THE The", ""),
        ("A.B.C.", "abc"),  # 'a' glued to '.B' is no longer a word once the dots go
        ("  Hello\tworld\n", "hello world"),
        ("rock-and-roll", "rockandroll"),
        ("“quoted”", "“quoted”"),  # the official script drops ASCII punctuation only
        ("Año 2000", "año 2000"),
        ("$1,000.50", "100050"),
    ],
)
def test_official_squad_normalisation(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    "pred, golds, em, f1",
    [
        ("Denver Broncos", ["Denver Broncos"], True, 1.0),
        ("the Denver Broncos!", ["Broncos", "Denver Broncos"], True, 1.0),  # max over the golds
        ("cat sat", ["the cat sat on mat"], False, 2 / 3),  # p = 2/2, r = 2/4
        ("x x y", ["x y y"], False, 2 / 3),  # bag of tokens: common = {x: 1, y: 1}
        ("Denver", ["Denver Broncos", "Broncos of Denver"], False, 2 / 3),  # p 1, r 1/2 on the first gold
        ("", ["anything"], False, 0.0),
        ("The", ["a"], True, 0.0),  # both normalise to "": equal, but F1 has no token to share
        ("1990s", ["1990"], False, 0.0),
    ],
)
def test_exact_match_and_token_f1(pred, golds, em, f1):
    assert exact_match(pred, golds) is em
    assert token_f1(pred, golds) == pytest.approx(f1)


@pytest.mark.parametrize(
    "pred, golds, expected",
    [
        ("in 1990", ["1990"], True),  # gold inside the answer
        ("1990", ["in the year 1990"], True),  # answer inside a 3-token gold
        ("199", ["1990"], False),  # whole tokens only
        ("war", ["the war of the spanish succession in europe"], False),  # gold of 6 normalised tokens > 5
        ("", ["x"], False),  # an empty answer never matches
        ("Paris, France", ["Paris"], True),
    ],
)
def test_relaxed_match(pred, golds, expected):
    assert relaxed_match(pred, golds) is expected


def test_rouge_l_equals_rouge_score_on_tricky_strings():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    cases = [
        ("running quickly ran", ["he runs quick"]),
        ("The  cats' toys", ["cat toy", "the toys"]),
        ("a b c d", ["d c b a"]),
        ("北京", ["北京"]),
        ("", ["x"]),
        ("New York-based", ["new york based firm"]),
        ("1,000 people", ["1000 people", "a thousand"]),
    ]
    for pred, golds in cases:
        assert rouge_l(pred, golds) == scorer.score_multi(golds, pred)["rougeL"].fmeasure
    # hand value: LCS("a b c d", "d c b a") = 1 token, p = r = 1/4
    assert rouge_l("a b c d", ["d c b a"]) == pytest.approx(0.25)
    assert rouge_l("北京", ["北京"]) == 0.0 and non_latin_share(["北京", "Paris"]) == 0.5


@pytest.fixture(scope="module")
def squad() -> GenerationData:
    return load_data("squad")


@pytest.fixture(scope="module")
def squad_answers(squad):
    return [load_answers(spec, squad) for spec in squad.default_models]


def test_vectorised_scores_equal_the_per_example_loop_and_rouge_score(squad, squad_answers):
    """On real SQuAD answers: every score of score_answers equals the official functions and
    RougeScorer.score_multi called per example (bit for bit)."""
    golds = squad.golds[:1500]
    for answers in squad_answers:
        fast = score_answers(answers.pred[:1500], golds)
        slow = score_answers_loop(list(answers.pred[:1500]), golds)
        for col in fast.columns:
            a, b = fast[col].to_numpy(dtype=float), slow[col].to_numpy(dtype=float)
            assert np.array_equal(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1)), col


def test_published_squad_dev_figures(squad, squad_answers):
    """Match-LSTM 67.6 / 76.8 and BERT ensemble 86.2 / 92.2 (EM / F1, official v1.1 evaluation)."""
    figures = {}
    for answers in squad_answers:
        s = score_answers(answers.pred, squad.golds)
        figures[answers.model] = (round(100 * s["exact_match"].mean(), 1), round(100 * s["f1"].mean(), 1))
    assert figures == {"match_lstm": (67.6, 76.8), "bert_ensemble": (86.2, 92.2)}
    assert len(squad) == 10_570 and squad.task == "generation"


# --- data formats and alignment ----------------------------------------------------------------------


def _squad_file(tmp_path: Path, qas: list[tuple[str, str, list[str]]]) -> Path:
    doc = {
        "version": "1.1",
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Some passage here.",
                        "qas": [
                            {"id": i, "question": q, "answers": [{"text": g, "answer_start": 0} for g in golds]}
                            for i, q, golds in qas
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


QAS = [("q1", "Who won?", ["Denver Broncos", "Broncos"]), ("q2", "When?", ["2016"]), ("q3", "How many?", ["three"])]


def test_squad_file_and_answers_aligned_by_id(tmp_path):
    data = load_data(str(_squad_file(tmp_path, QAS)))
    assert isinstance(data, GenerationData) and data.golds[0] == ("Denver Broncos", "Broncos")
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"q3": "3", "q1": "the Broncos", "q2": "2016"}), encoding="utf-8")
    answers = load_answers(f"file:{preds}", data)
    assert list(answers.pred) == ["the Broncos", "2016", "3"]  # in the data's row order


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"q1": "a", "q2": "b"}, "has no answer for 1 of the 3 rows of SQuAD mini (ids e.g. 'q3')"),
        (
            {"q1": "a", "q2": "b", "q3": "c", "zz": "d", "yy": "e"},
            "has answers for 2 id(s) that SQuAD mini does not have (e.g. 'zz', 'yy')",
        ),
        ({"q1": "a", "q2": None, "q3": "c"}, "null answer for 1 row(s) (ids e.g. 'q2')"),
    ],
)
def test_alignment_errors_count_and_show_examples(tmp_path, answers, message):
    data = load_data(str(_squad_file(tmp_path, QAS)))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(answers), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_answers(f"file:{preds}", data)
    assert message in str(info.value)


def test_repeated_ids_and_subsets(tmp_path):
    data = load_data(str(_squad_file(tmp_path, QAS)))
    lines = tmp_path / "preds.jsonl"
    lines.write_text("\n".join(json.dumps({"id": i, "prediction": "x"}) for i in ("q1", "q2", "q3", "q1")), "utf-8")
    with pytest.raises(ModelError, match="repeats 1 id"):
        load_answers(f"file:{lines}", data)
    lines.write_text("\n".join(json.dumps({"id": i, "prediction": "x"}) for i in ("q1", "q2", "q3")), "utf-8")
    subset = load_data(str(_squad_file(tmp_path, QAS)), n_rows=2)  # the third answer is not "extra"
    assert list(load_answers(f"file:{lines}", subset).pred) == ["x", "x"]


def test_eval_script_lines_align_by_prompt(tmp_path):
    """Two files of `{"instruction", "context", "gold", "prediction"}` lines (no id), one per model."""
    rows = [
        ("Capital of France?", "", "Paris"),
        ("Add 2 and 2.", "", "4"),
        ("Colour of the sky?", "On a clear day.", "blue"),
    ]
    base, tuned = tmp_path / "base.jsonl", tmp_path / "tuned.jsonl"
    base.write_text(
        "\n".join(
            json.dumps({"instruction": q, "context": c, "gold": g, "prediction": p})
            for (q, c, g), p in zip(rows, ["Lyon", "4", "The sky is blue."])
        ),
        "utf-8",
    )
    tuned.write_text(
        "\n".join(
            json.dumps({"instruction": q, "context": c, "gold": g, "prediction": p})
            for (q, c, g), p in reversed(list(zip(rows, ["Paris", "four", "blue"])))
        ),
        "utf-8",
    )
    data = load_data(str(base))
    assert data.task == "generation" and data.default_models is None and "base" in data.precomputed
    analysis = run_analysis(data, f"file:{base}", f"file:{tuned}", slices=None)
    df = analysis.df_eval
    assert df["candidate_pred"].tolist() == ["Paris", "four", "blue"]  # aligned by instruction + context
    assert df["baseline_exact_match"].tolist() == [False, True, False]
    assert df["baseline_relaxed_match"].tolist() == [False, True, True]  # "blue" inside the verbose answer
    assert df["has_context"].tolist() == [False, False, True]
    assert analysis.results.overall["candidate"]["exact_match"]["value"] == pytest.approx(2 / 3)


def test_csv_with_one_answer_column_per_model(tmp_path):
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "question": ["Who?", "When?", "Where?"],
            "answers": ['["Ann", "Anne"]', "1999", "Rome"],
            "pred_small": ["Anne", "in 1999", "Paris"],
            "pred_tuned": ["Ann", "1999", "Rome"],
        }
    )
    path = tmp_path / "qa.csv"
    frame.to_csv(path, index=False)
    data = load_data(str(path))
    assert data.golds[0] == ("Ann", "Anne") and set(data.precomputed) == {"small", "tuned"}
    assert data.default_models == ("small", "tuned")
    analysis = run_analysis(data, "small", "tuned")
    assert analysis.df_eval["baseline_exact_match"].tolist() == [True, False, False]
    assert analysis.df_eval["candidate_exact_match"].all()


def test_classification_files_stay_classification_and_task_can_be_forced(tmp_path, shared_data):
    assert load_data("lab").task == "classification"
    frame = pd.DataFrame({"text": ["q one", "q two"], "label": ["x", "y"], "gold": ["x", "y"]})
    path = tmp_path / "both.csv"
    frame.to_csv(path, index=False)
    assert load_data(str(path)).task == "classification"  # a label column: classification unless told
    forced = load_data(str(path), task="generation", label_col="gold")
    assert forced.task == "generation" and forced.golds == [("x",), ("y",)]
    with pytest.raises(DataError, match="task 'translation' is unknown"):
        load_data(str(path), task="translation")


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"question": ["a", "b"], "gold": ["x", None]}), "1 row(s) of qa.csv have no gold answer"),
        (pd.DataFrame({"question": ["a", ""], "gold": ["x", "y"]}), "empty question or instruction in 1 row(s)"),
        (pd.DataFrame({"id": ["1", "1"], "question": ["a", "b"], "gold": ["x", "y"]}), "duplicate id '1'"),
    ],
)
def test_bad_generation_tables_are_refused(tmp_path, frame, message):
    path = tmp_path / "qa.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        load_data(str(path), task="generation")
    assert message in str(info.value)


def test_a_classifier_spec_on_generation_data_is_refused(squad):
    with pytest.raises(ModelError, match="is a classifier; generation data compares answers"):
        load_answers("vader", squad)


# --- the comparison: slices, gates and the verdict ---------------------------------------------------


@pytest.fixture(scope="module")
def squad_analysis(squad):
    return run_analysis(squad, *squad.default_models)


def test_squad_comparison_slices_and_ship(squad_analysis):
    a = squad_analysis
    r = a.results
    assert a.task == "generation" and a.df_eval.attrs["task"] == "generation"
    assert set(r.changes["metric"]) == {"exact_match", "f1", "relaxed_match", "rouge_l", "rouge_acc"}
    f1 = r.changes[(r.changes["metric"] == "f1") & (r.changes["slice"] == "all")].iloc[0]
    assert f1["baseline"] == pytest.approx(0.7676, abs=5e-5) and f1["candidate"] == pytest.approx(0.9220, abs=5e-5)
    # questions come in 48 articles: the interval is cluster-robust (design effect about 5.6), still far above 0
    assert f1["delta_lo"] < f1["delta"] < f1["delta_hi"] and f1["delta_lo"] > 0.13
    assert f1["clusters"] == 48 and 5 < f1["design_effect"] < 6.5
    short = r.regression_metrics.set_index("slice").loc["short_answers"]
    assert short["n"] == int(a.df_eval["short_answer"].sum()) == 10_554
    assert {"question_word", "answer_type", "gold_tokens", "context_tokens", "has_context", "candidate_verbose"} <= set(
        a.df_eval.columns
    )
    gates = evaluate_gates(a)
    assert [g.name for g in gates.results] == ["f1", "slice_f1"] and gates.decision == SHIP
    assert gates.results[0].reason.startswith("F1 changes by +15.4 points (95% interval")
    assert any("0.1% of the answers" in w for w in r.warnings)  # a few gold answers are not Latin: ROUGE says 0


def test_generation_gates_are_their_own_and_refuse_the_other_task():
    config = GateConfig(task="generation")
    assert config.values == {name: DEFAULTS["generation"].get(name) for name in gates_for("generation")}
    assert "accuracy" not in config.values and "f1" not in GateConfig().values
    assert all(g.task == "generation" for g in config.gates().values())
    with pytest.raises(ConfigError, match="gate accuracy reads classification metrics"):
        parse_gate_args(["accuracy=0.02"], GateConfig(task="generation"))
    assert parse_gate_args(["accuracy=off", "f1=0.01"], GateConfig(task="generation")).values["f1"] == 0.01
    # a workspace keeps both tasks' gates: each task reads its own
    saved = {**GateConfig().to_dict(), **GateConfig(task="generation").to_dict()}
    assert GateConfig.from_dict(saved, "generation") == GateConfig(task="generation")
    assert len(gates_for("generation")) + len(gates_for("classification")) == len(GATES)


def test_a_worse_candidate_is_no_ship_and_gates_must_match_the_task(tmp_path, squad_analysis):
    rng = np.random.default_rng(3)
    n = 600
    gold = [f"answer {i}" for i in range(n)]
    base = [g if rng.random() < 0.8 else "wrong" for g in gold]
    cand = [g if rng.random() < 0.6 else "wrong" for g in gold]
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "question": [f"who {i}?" for i in range(n)],
            "gold": gold,
            "pred_base": base,
            "pred_cand": cand,
        }
    )
    path = tmp_path / "worse.jsonl"
    frame.to_json(path, orient="records", lines=True)
    analysis = run_analysis(load_data(str(path)), "base", "cand")
    report = evaluate_gates(analysis)
    assert report.decision == NO_SHIP and report.exit_code == 1
    assert report.results[0].name == "f1" and report.results[0].status == "fail"
    with pytest.raises(ConfigError, match="the gates are set for classification data"):
        evaluate_gates(squad_analysis, GateConfig())


def test_generation_findings_speak_of_f1(squad_analysis):
    from evalcore.present.report import render_markdown, summarize_findings

    found = summarize_findings(squad_analysis)
    assert found[0].startswith(
        "Overall, the candidate bert_ensemble has F1 92.2% on the 10,570 rows against 76.8% "
        "for the baseline match_lstm: a change of +15.4 points"
    )
    assert "Beside it: exact match 67.6% -> 86.2% (+18.6 points" in found[0]
    assert any("worse than the rest of the rows on F1 after Benjamini-Hochberg" in f for f in found)
    text = render_markdown(squad_analysis)
    assert "## Per-slice results (F1)" in text and "| short_answers | 10,554 |" in text
    assert "Per-class" not in text and "Calibration" not in text


# --- findings never contradict their numbers (generation tables) -------------------------------------


def _random_generation(seed: int):
    from evalcore.predict.scoring import Predictions
    from evalcore.stats.gentables import build_generation_eval, generation_results

    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 1500))
    vocab = np.array(["red", "blue", "green", "one", "two", "paris", "rome", "cat", "dog", "tree"])
    golds = [
        tuple(" ".join(rng.choice(vocab, int(rng.integers(1, 4)))) for _ in range(int(rng.integers(1, 3))))
        for _ in range(n)
    ]

    def answers(p_right: float, name: str) -> Predictions:
        pred = np.array(
            [g[0] if rng.random() < p_right else " ".join(rng.choice(vocab, int(rng.integers(1, 5)))) for g in golds],
            dtype=object,
        )
        return Predictions(
            model=name,
            spec=name,
            labels=(),
            pred=pred,
            conf=np.full(n, np.nan),
            probs=np.zeros((n, 0)),
            n_total=n,
            precomputed=True,
        )

    base = pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "text": ["q"] * n,
            "label": [g[0] for g in golds],
            "context": [""] * n,
            "gold_answers": [json.dumps(list(g)) for g in golds],
        }
    )
    df = build_generation_eval(
        base, answers(rng.uniform(0.3, 0.9), "base-1"), answers(rng.uniform(0.3, 0.9), "cand-2"), golds
    )
    masks = {
        f"slice_{i}": rng.random(n) < rng.choice([0.0, 0.02, 0.1, 0.4, 0.9]) for i in range(int(rng.integers(0, 8)))
    }
    alpha = float(rng.choice([0.01, 0.05, 0.1]))
    results = generation_results(df, masks, alpha=alpha)
    return results, alpha, float(rng.choice([0.02, 0.05, 0.1]))


@pytest.mark.parametrize("block", range(2))
def test_generation_findings_never_contradict_their_numbers(block):
    from test_findings import _check_semantics, _numbers_come_from_fields

    from evalcore.decide.findings import generation_findings

    kinds = set()
    for seed in range(block * 25, block * 25 + 25):
        results, alpha, margin = _random_generation(seed)
        for finding in generation_findings(results.overall, results.regression_metrics, alpha=alpha, margin=margin):
            kinds.add(finding.kind)
            _numbers_come_from_fields(finding)
            _check_semantics(finding, results.regression_metrics, alpha, margin)
            assert "nan" not in finding.text.lower()
    assert {"overall", "worse_than_rest"} <= kinds


def test_wandb_offline_push_carries_the_generation_tables_and_summary(tmp_path, monkeypatch):
    from evalcore.present.wandb_push import push_to_wandb, run_summary

    monkeypatch.setenv("WANDB_MODE", "offline")
    data = load_data("squad", n_rows=400)
    analysis = run_analysis(data, *data.default_models)
    gates = evaluate_gates(analysis)
    summary = run_summary(analysis, gates)
    assert summary["task"] == "generation" and summary["metric"] == "f1" and summary["verdict"] == gates.decision
    assert summary["f1/delta"] == analysis.results.overall["changes"]["f1"]["value"]
    assert summary["baseline_exact_match"] == analysis.results.overall["baseline"]["exact_match"]["value"]
    result = push_to_wandb(analysis, gates=gates, mode="offline", wandb_dir=tmp_path)
    assert {"predictions_table", "metric_changes", "slice_metrics", "regression_metrics", "gates"} <= set(result.tables)
    assert "per_class" not in result.tables and "calibration_metrics" not in result.tables
    assert result.tables["predictions_table"][0] == 400 and result.sync_command.startswith("wandb sync")
    tables = list(Path(result.run_dir).rglob("predictions_table_*.table.json"))
    columns = json.loads(tables[0].read_text())["columns"]
    assert {"gold_answers", "baseline_pred", "candidate_f1", "f1_delta"} <= set(columns)


def test_docstring_examples_run_and_custom_features_cannot_shadow_generation_features(tmp_path):
    import doctest

    import evalcore.stats.genmetrics
    from evalcore.analyze.features import CustomFeature
    from evalcore.core.errors import FeatureError

    assert doctest.testmod(evalcore.stats.genmetrics).failed == 0
    data = load_data(str(_squad_file(tmp_path, QAS)))
    with pytest.raises(FeatureError, match="question_word are generation features"):
        run_analysis(
            data,
            "file:" + str(_write(tmp_path, {"q1": "a", "q2": "b", "q3": "c"})),
            "file:" + str(_write(tmp_path, {"q1": "a", "q2": "b", "q3": "d"}, "c.json")),
            custom=[CustomFeature("question_word", "keywords", "who")],
        )


def _write(tmp_path: Path, answers: dict, name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(answers), encoding="utf-8")
    return path


def test_the_dashboard_loads_generation_data_through_the_allowed_folders(tmp_path, monkeypatch):
    from evalcore.io.allowed import ENV_VAR
    from ui import engine

    assert engine.get_data({"source": "squad"}).task == "generation"
    assert engine.get_data({"source": "lab"}).task == "classification"
    outside = tmp_path / "qa.jsonl"
    outside.write_text(json.dumps({"question": "q?", "gold": "a"}) + "\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match="outside the data folders this server allows"):
        engine.get_data({"source": str(outside), "task": "generation"})
