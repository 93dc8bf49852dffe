"""The command line run for real, as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, home: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALCORE_HOME": str(home), "WANDB_MODE": "offline", "WANDB_DIR": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "evalcore", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_documents_every_command_and_option(evalcore_home: Path) -> None:
    top = run("--help", home=evalcore_home, check=True).stdout
    for command in ("score", "report", "push", "build-demo", "cache"):
        assert command in top
        text = run(command, "--help", home=evalcore_home, check=True).stdout
        assert "usage:" in text and "--help" in text
    score_help = run("score", "--help", home=evalcore_home, check=True).stdout
    for option in (
        "--data",
        "--split",
        "--config",
        "--n-rows",
        "--text-col",
        "--label-col",
        "--id-col",
        "--labels",
        "--label-map",
        "--model",
        "--batch-size",
        "--no-cache",
    ):
        assert option in score_help


def test_score_twice_second_run_is_all_from_cache(evalcore_home: Path) -> None:
    first = run("score", "--data", "lab", "--model", "vader", "--model", "roberta", home=evalcore_home, check=True)
    assert "vader: accuracy 0.508 on 500 rows; 0/500 rows from cache" in first.stdout
    assert "roberta: accuracy 0.698 on 500 rows; 500/500 rows precomputed" in first.stdout
    second = run("score", "--data", "lab", "--model", "vader", home=evalcore_home, check=True)
    assert second.stdout.strip().endswith("500/500 rows from cache")


def test_report_reproduces_the_lab_and_writes_the_four_tables(evalcore_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    proc = run(
        "report",
        "--data",
        "lab",
        "--baseline",
        "roberta",
        "--candidate",
        "gpt2",
        "--format",
        "json",
        "--out",
        str(out),
        home=evalcore_home,
        check=True,
    )
    doc = json.loads(proc.stdout, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert doc["overall"]["baseline"]["value"] == 0.698 and doc["overall"]["candidate"]["value"] == 0.398
    assert doc["worse_than_rest"] == ["has_mention"]
    assert doc["verdict"]["decision"] == "no-ship" and doc["verdict"]["exit_code"] == 1
    assert doc["regression_metrics"][0]["p_adjusted"] is None  # 'all' is not adjusted: null, never NaN
    assert {r["label"] for r in doc["per_class"]} == {"negative", "neutral", "positive"}
    assert {r["metric"] for r in doc["metric_changes"]} == {"accuracy", "macro_f1"}
    assert proc.returncode == 0  # without --verdict the exit status is not the verdict
    for name, rows in (
        ("df_long", 1000),
        ("df_eval", 500),
        ("slice_metrics", 22),
        ("regression_metrics", 11),
        ("per_class", 3),
        ("metric_changes", 22),
    ):
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == rows, name


def test_report_verdict_exit_status_and_reports(evalcore_home: Path, tmp_path: Path) -> None:
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    failing = run("report", "--verdict", "--markdown", str(md), "--html", str(html), home=evalcore_home)
    assert failing.returncode == 1
    assert "verdict: no-ship: Look at slice has_mention: it loses 42.5 points" in failing.stdout
    assert "  FAIL            accuracy" in failing.stdout
    assert "69.8% [65.6%, 73.7%]" in failing.stdout and "-30.0 pts [-35.6, -24.1]" in failing.stdout
    assert "69.8%" in md.read_text() and "<html" in html.read_text().lower()
    plain = run("report", home=evalcore_home)
    assert plain.returncode == 0 and "add --verdict" in plain.stdout
    # the better model ships: the two tiny slices are too small to judge, listed, never blocking (the case;
    # the old rule made it inconclusive, exit 3)
    mirror = run("report", "--baseline", "gpt2", "--candidate", "roberta", "--verdict", home=evalcore_home)
    assert mirror.returncode == 0, mirror.stdout[-2000:]
    assert (
        "verdict: ship: Every gate passes; 3 slices too small to judge (long_tweets, has_url, emoji_dense)"
        in mirror.stdout
    )
    assert "too small to judge" in mirror.stdout.split("per class")[0]  # the slice table says it too
    # a guardrail must be verified: has_url (16 rows) cannot be, so the verdict needs more data (exit 3)
    guarded = run(
        "report", "--baseline", "gpt2", "--candidate", "roberta", "--guardrail", "has_url", home=evalcore_home
    )
    assert guarded.returncode == 3 and "verdict: need more data: Merge tiny guardrail has_url" in guarded.stdout
    unknown = run("report", "--guardrail", "nope", home=evalcore_home)
    assert unknown.returncode == 2 and "no slice named 'nope'" in unknown.stderr
    # --gate implies --verdict
    ships = run(
        "report", "--baseline", "gpt2", "--candidate", "roberta", "--gate", "slice_accuracy=off", home=evalcore_home
    )
    assert ships.returncode == 0 and "verdict: ship: Every gate passes." in ships.stdout
    gain = run("report", "--baseline", "gpt2", "--candidate", "roberta", "--require-gain", home=evalcore_home)
    assert gain.returncode == 0 and "PASS            accuracy_gain (any gain)" in gain.stdout


def test_a_model_defined_slice_cannot_be_a_guardrail(evalcore_home: Path, tmp_path: Path) -> None:
    from evalcore.analyze.slices import Slice, SliceSet, save_slices

    path = save_slices(
        tmp_path / "s.json",
        SliceSet((Slice("broken", "regressed == true", "its own regressions"), Slice("neg", "has_negation == true"))),
    )
    shown = run(
        "report", "--slices", str(path), "--baseline", "gpt2", "--candidate", "roberta", "--verdict", home=evalcore_home
    )
    assert shown.returncode == 0 and "model-defined slices (their rule reads a model's output)" in shown.stdout
    refused = run("report", "--slices", str(path), "--guardrail", "broken", home=evalcore_home)
    assert refused.returncode == 2 and "reads model output (regressed) and cannot be a guardrail" in refused.stderr


def test_report_uses_the_workspace_saved_by_the_dashboard(evalcore_home: Path) -> None:
    from evalcore.analyze.slices import Slice, SliceSet
    from evalcore.serve.workspace import Workspace, save_workspace, workspace_path

    ws = Workspace(
        baseline="gpt2",
        candidate="roberta",
        alpha=0.1,
        slices=SliceSet((Slice("questions", "has_question == true"),)).to_json(),
        gates={"slice_accuracy": None, "macro_f1": 0.5},
    )
    save_workspace(ws)
    proc = run("report", "--workspace", "--format", "json", home=evalcore_home)
    doc = json.loads(proc.stdout)
    assert [r["slice"] for r in doc["regression_metrics"]] == ["all", "questions"]
    assert [g["name"] for g in doc["verdict"]["gates"]] == ["accuracy", "macro_f1"]
    assert doc["verdict"]["gates"][1]["margin"] == 0.5 and doc["overall"]["candidate"]["model"] == "roberta"
    # an explicit option wins over the workspace
    proc = run(
        "report", "--workspace", str(workspace_path()), "--candidate", "vader", "--format", "json", home=evalcore_home
    )
    assert json.loads(proc.stdout)["overall"]["candidate"]["model"] == "vader"


@pytest.mark.parametrize(
    "args, message",
    [
        (("report", "--data", "missing.csv"), "data file not found"),
        (("report", "--gate", "bogus=1"), "gate 'bogus' is unknown"),
        (("report", "--gate", "accuracy="), "gate accuracy: the value is empty"),
        (("report", "--gate", "min_overall_change=0"), "was retired"),
        (("report", "--workspace", "/nonexistent/ws.json"), "no saved workspace at /nonexistent/ws.json"),
        (("score", "--model", "nosuchcolumn"), "nosuchcolumn"),
        (("report", "--data", "tweeteval", "--n-rows", "50"), "give --baseline and --candidate"),
        (
            ("score", "--data", "../shared/data/sst2/dev.tsv", "--text-col", "sentence", "--model", "vader"),
            "are integers (0, 1) and no label map says which label each one is",
        ),
        (
            (
                "score",
                "--data",
                "tweeteval",
                "--n-rows",
                "5",
                "--label-map",
                "0=negative,1=positive,2=negative",
                "--model",
                "vader",
            ),
            "ambiguous: label 'negative' is given to ids '0' and '2'",
        ),
        (("report", "--out", "/proc/evalcore-cannot-write-here"), "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(evalcore_home: Path, args: tuple, message: str) -> None:
    proc = run(*args, home=evalcore_home)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_push_offline_prints_sync_command(evalcore_home: Path) -> None:
    proc = run("push", "--run-name", "cli-test", home=evalcore_home, check=True)
    assert "wandb sync" in proc.stdout
    run_dir = proc.stdout.split("wandb sync ")[1].split()[0]
    assert Path(run_dir).is_dir()


# --- binary SST-2 from the command line, checked against scikit-learn --------------------------------


def _refuse_nan(constant: str):
    raise AssertionError(f"non-strict JSON constant {constant}")


@pytest.fixture(scope="module")
def small_demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder holding a demo transformer trained on 64 tweets only (seconds, not minutes):
    the numbers below are checked against direct computations, not against its quality."""
    from evalcore.predict.demo_model import build_demo_model

    home = tmp_path_factory.mktemp("small_demo_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALCORE_HOME", str(home))
        build_demo_model(epochs=1, limit=64, batch_size=32)
    return home


def _demo_folder(home: Path) -> Path:
    from evalcore.predict.demo_model import demo_model_dir

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALCORE_HOME", str(home))
        return demo_model_dir()


def test_sst2_binary_vader_vs_demo_equals_sklearn_on_the_same_predictions(
    small_demo_home: Path, tmp_path: Path, shared_data: Path
) -> None:
    import numpy as np
    import pandas as pd
    import torch
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from evalcore.analyze.slices import Slice, SliceSet, save_slices

    sst2 = shared_data / "sst2" / "dev.tsv"
    slices = save_slices(
        tmp_path / "s.json",
        SliceSet(
            (
                Slice("has_negation", "has_negation == true", "negation"),
                Slice("has_hashtag", "has_hashtag == true", "no hashtags in movie reviews: an empty slice"),
            )
        ),
    )
    out = tmp_path / "tables"
    proc = run(
        "report",
        "--data",
        str(sst2),
        "--text-col",
        "sentence",
        "--label-map",
        "0=negative,1=positive",
        "--baseline",
        "vader",
        "--candidate",
        "demo",
        "--slices",
        str(slices),
        "--format",
        "json",
        "--out",
        str(out),
        home=small_demo_home,
        check=True,
    )
    doc = json.loads(proc.stdout, parse_constant=_refuse_nan)  # strict JSON: null, never NaN
    raw = pd.read_csv(sst2, sep="\t")
    gold = np.where(raw["label"] == 1, "positive", "negative")
    df_eval = pd.read_json(out / "df_eval.jsonl", lines=True, dtype={"id": str})
    assert (df_eval["label"].to_numpy() == gold).all()

    # the predictions, computed here without evalcore: VADER's sign rule and the demo model's
    # argmax over its negative and positive logits (its neutral dropped)
    analyzer = SentimentIntensityAnalyzer()
    vader = np.where([analyzer.polarity_scores(t)["compound"] >= 0 for t in raw["sentence"]], "positive", "negative")
    folder = _demo_folder(small_demo_home)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    ids = {v: int(k) for k, v in model.config.id2label.items()}
    with torch.inference_mode():
        logits = torch.cat(
            [
                model(
                    **tok(
                        list(raw["sentence"][i : i + 64]),
                        truncation=True,
                        max_length=128,
                        padding=True,
                        return_tensors="pt",
                    )
                ).logits
                for i in range(0, len(raw), 64)
            ]
        ).numpy()
    pair = logits[:, [ids["negative"], ids["positive"]]]
    demo = np.where(pair[:, 1] > pair[:, 0], "positive", "negative")
    np.testing.assert_array_equal(df_eval["pred_vader"].to_numpy(), vader)
    assert (df_eval["pred_demo"].to_numpy() == demo).mean() > 0.995  # float ties across batch shapes aside
    demo = df_eval["pred_demo"].to_numpy()

    overall = doc["overall"]
    assert overall["baseline"]["value"] == pytest.approx(accuracy_score(gold, vader), abs=1e-12)
    assert round(overall["baseline"]["value"], 3) == 0.631
    assert overall["candidate"]["value"] == pytest.approx(accuracy_score(gold, demo), abs=1e-12)
    assert overall["delta"]["value"] == pytest.approx(accuracy_score(gold, demo) - accuracy_score(gold, vader))
    assert overall["regression_rate"]["value"] == pytest.approx(np.mean((vader == gold) & (demo != gold)))
    rows = {(r["slice"], r["model"]): r for r in doc["slice_metrics"]}
    assert rows[("all", "vader")]["macro_f1"] == pytest.approx(f1_score(gold, vader, average="macro"))
    assert rows[("all", "demo")]["macro_f1"] == pytest.approx(f1_score(gold, demo, average="macro"))
    assert rows[("has_hashtag", "vader")]["n"] == 0 and rows[("has_hashtag", "vader")]["accuracy"] is None
    assert "NaN" not in proc.stdout


SQUAD = (
    "--data",
    "../shared/data/squad/dev-v1.1.json",
    "--baseline",
    "file:../shared/data/squad/predictions/match_lstm.json",
    "--candidate",
    "file:../shared/data/squad/predictions/bert_ensemble.json",
)


def test_report_on_squad_prints_the_published_figures_and_ships(evalcore_home: Path, tmp_path: Path) -> None:
    """Generation: EM / F1 of 67.6 / 76.8 (Match-LSTM) and 86.2 / 92.2 (BERT ensemble), paired changes with
    intervals, per slice, the verdict as the exit status, and strict JSON."""
    html = tmp_path / "squad.html"
    proc = run("report", *SQUAD, "--verdict", "--html", str(html), home=evalcore_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    # questions come in articles: SQuAD's intervals are clustered by article title (the published means, wider
    # intervals than independent rows would give: the design effect of the F1 change is 5.6)
    assert "baseline: match_lstm     exact match 67.6% [65.0%, 70.2%] · F1 76.8% [74.5%, 79.0%]" in out
    assert "candidate: bert_ensemble  exact match 86.2% [84.7%, 87.7%] · F1 92.2% [91.2%, 93.1%]" in out
    assert "+15.4 pts [+13.7, +17.2]" in out and "cluster-robust t" in out  # the F1 change
    assert "short_answers 10,554" in out and "per slice (F1;" in out
    assert "verdict: ship: Every gate passes." in out and "F1 changes by +15.4 points" in out
    assert "48 clusters of title" in out and "design effect of the overall change is 5.6" in out
    assert "candidate_verbose" in out and "model-defined" in out
    assert "non-Latin letters" in proc.stderr
    assert "F1 per slice" in html.read_text(encoding="utf-8")
    doc = json.loads(
        run("report", *SQUAD, "--n-rows", "2000", "--format", "json", home=evalcore_home, check=True).stdout,
        parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"),
    )
    assert doc["task"] == "generation" and doc["overall"]["n"] == 2000
    assert {r["metric"] for r in doc["metric_changes"]} == {
        "exact_match",
        "f1",
        "relaxed_match",
        "rouge_l",
        "rouge_acc",
    }
    assert [g["name"] for g in doc["verdict"]["gates"]] == ["f1", "slice_f1"]
    refused = run("report", *SQUAD, "--gate", "accuracy=0.02", home=evalcore_home)
    assert (
        refused.returncode == 2
        and "reads classification metrics and does not apply to generation data" in refused.stderr
    )
    score = run("score", "--data", "squad", "--model", SQUAD[3], home=evalcore_home, check=True)
    assert "match_lstm: exact match 67.6%, F1 76.8% on 10,570 rows" in score.stdout


def test_report_states_how_a_model_was_put_onto_binary_labels(evalcore_home: Path, shared_data: Path) -> None:
    """Issue 18: the dashboard shows the projection beside each model's mapping table; the CLI says it too."""
    proc = run(
        "report",
        "--data",
        str(shared_data / "sst2" / "dev.tsv"),
        "--text-col",
        "sentence",
        "--label-map",
        "0=negative,1=positive",
        "--baseline",
        "vader",
        "--candidate",
        "vader:0.3",
        "--markdown",
        str(evalcore_home / "r.md"),
        home=evalcore_home,
        check=True,
    )
    assert (
        "   labels: vader, binary rule: compound >= 0 is positive, < 0 negative (VADER's neutral band is not "
        "used on data without a neutral label)"
    ) in proc.stdout
    assert "Labels: binary rule: compound >= 0 is positive" in (evalcore_home / "r.md").read_text()
