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
    proc = subprocess.run([sys.executable, "-m", "evalcore", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
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
    for option in ("--data", "--split", "--config", "--n-rows", "--text-col", "--label-col", "--id-col",
                   "--labels", "--model", "--batch-size", "--no-cache"):
        assert option in score_help


def test_score_twice_second_run_is_all_from_cache(evalcore_home: Path) -> None:
    first = run("score", "--data", "lab", "--model", "vader", "--model", "roberta", home=evalcore_home, check=True)
    assert "vader: accuracy 0.508 on 500 rows; 0/500 rows from cache" in first.stdout
    assert "roberta: accuracy 0.698 on 500 rows; 500/500 rows precomputed" in first.stdout
    second = run("score", "--data", "lab", "--model", "vader", home=evalcore_home, check=True)
    assert second.stdout.strip().endswith("500/500 rows from cache")


def test_report_reproduces_the_lab_and_writes_the_four_tables(evalcore_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    proc = run("report", "--data", "lab", "--baseline", "roberta", "--candidate", "gpt2", "--format", "json",
               "--out", str(out), home=evalcore_home, check=True)
    doc = json.loads(proc.stdout, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert doc["overall"]["baseline"]["value"] == 0.698 and doc["overall"]["candidate"]["value"] == 0.398
    assert doc["worse_than_rest"] == ["has_mention"]
    assert doc["verdict"]["decision"] == "no-ship" and doc["verdict"]["exit_code"] == 1
    assert doc["regression_metrics"][0]["p_adjusted"] is None  # 'all' is not adjusted: null, never NaN
    assert {r["label"] for r in doc["per_class"]} == {"negative", "neutral", "positive"}
    assert {r["metric"] for r in doc["metric_changes"]} == {"accuracy", "macro_f1"}
    assert proc.returncode == 0  # without --verdict the exit status is not the verdict
    for name, rows in (("df_long", 1000), ("df_eval", 500), ("slice_metrics", 22), ("regression_metrics", 11),
                       ("per_class", 3), ("metric_changes", 22)):
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == rows, name


def test_report_verdict_exit_status_and_reports(evalcore_home: Path, tmp_path: Path) -> None:
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    failing = run("report", "--verdict", "--markdown", str(md), "--html", str(html), home=evalcore_home)
    assert failing.returncode == 1
    assert "verdict: no-ship: 3 of 3 gates fail" in failing.stdout and "FAIL          accuracy" in failing.stdout
    assert "69.8% [65.6%, 73.7%]" in failing.stdout and "-30.0 pts [-35.6, -24.1]" in failing.stdout
    assert "69.8%" in md.read_text() and "<html" in html.read_text().lower()
    plain = run("report", home=evalcore_home)
    assert plain.returncode == 0 and "add --verdict" in plain.stdout
    # the better model: two lab slices are too small to detect 5 points -> inconclusive (exit 3) ...
    mirror = run("report", "--baseline", "gpt2", "--candidate", "roberta", "--verdict", home=evalcore_home)
    assert mirror.returncode == 3, mirror.stdout[-2000:]
    assert "verdict: inconclusive" in mirror.stdout and "underpowered" in mirror.stdout
    # ... and ships once the slice gate is off (--gate implies --verdict)
    ships = run("report", "--baseline", "gpt2", "--candidate", "roberta", "--gate", "slice_accuracy=off",
                home=evalcore_home)
    assert ships.returncode == 0 and "verdict: ship: all 2 gates pass" in ships.stdout


def test_report_uses_the_workspace_saved_by_the_dashboard(evalcore_home: Path) -> None:
    from evalcore.slices import Slice, SliceSet
    from evalcore.workspace import Workspace, save_workspace, workspace_path

    ws = Workspace(baseline="gpt2", candidate="roberta", alpha=0.1,
                   slices=SliceSet((Slice("questions", "has_question == true"),)).to_json(),
                   gates={"slice_accuracy": None, "macro_f1": 0.5})
    save_workspace(ws)
    proc = run("report", "--workspace", "--format", "json", home=evalcore_home)
    doc = json.loads(proc.stdout)
    assert [r["slice"] for r in doc["regression_metrics"]] == ["all", "questions"]
    assert [g["name"] for g in doc["verdict"]["gates"]] == ["accuracy", "macro_f1"]
    assert doc["verdict"]["gates"][1]["margin"] == 0.5 and doc["overall"]["candidate"]["model"] == "roberta"
    # an explicit option wins over the workspace
    proc = run("report", "--workspace", str(workspace_path()), "--candidate", "vader", "--format", "json",
               home=evalcore_home)
    assert json.loads(proc.stdout)["overall"]["candidate"]["model"] == "vader"


@pytest.mark.parametrize("args, message", [
    (("report", "--data", "missing.csv"), "data file not found"),
    (("report", "--gate", "bogus=1"), "gate 'bogus' is unknown"),
    (("report", "--gate", "accuracy="), "gate accuracy: the value is empty"),
    (("report", "--gate", "min_overall_change=0"), "was retired"),
    (("report", "--workspace", "/nonexistent/ws.json"), "no saved workspace at /nonexistent/ws.json"),
    (("score", "--model", "nosuchcolumn"), "nosuchcolumn"),
    (("report", "--data", "tweeteval", "--n-rows", "50"), "give --baseline and --candidate"),
    (("report", "--out", "/proc/evalcore-cannot-write-here"), "cannot write"),
])
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


SQUAD = ("--data", "../shared/data/squad/dev-v1.1.json", "--baseline", "file:../shared/data/squad/predictions/match_lstm.json",
         "--candidate", "file:../shared/data/squad/predictions/bert_ensemble.json")


def test_report_on_squad_prints_the_published_figures_and_ships(evalcore_home: Path, tmp_path: Path) -> None:
    """Generation: EM / F1 of 67.6 / 76.8 (Match-LSTM) and 86.2 / 92.2 (BERT ensemble), paired changes with
    intervals, per slice, the verdict as the exit status, and strict JSON."""
    html = tmp_path / "squad.html"
    proc = run("report", *SQUAD, "--verdict", "--html", str(html), home=evalcore_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "baseline: match_lstm     exact match 67.6% [66.7%, 68.5%] · F1 76.8% [76.0%, 77.5%]" in out
    assert "candidate: bert_ensemble  exact match 86.2% [85.5%, 86.9%] · F1 92.2% [91.8%, 92.6%]" in out
    assert "+18.6 pts [+17.7, +19.5]" in out and "+15.4 pts [+14.7, +16.2]" in out  # EM and F1 changes
    assert "short_answers 10,554" in out and "per slice (F1;" in out
    assert "verdict: ship: all 2 gates pass (f1, slice_f1)" in out and "F1 changes by +15.4 points" in out
    assert "non-Latin letters" in proc.stderr
    assert "F1 per slice" in html.read_text(encoding="utf-8")
    doc = json.loads(run("report", *SQUAD, "--n-rows", "2000", "--format", "json", home=evalcore_home,
                         check=True).stdout, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert doc["task"] == "generation" and doc["overall"]["n"] == 2000
    assert {r["metric"] for r in doc["metric_changes"]} == {"exact_match", "f1", "relaxed_match", "rouge_l", "rouge_acc"}
    assert [g["name"] for g in doc["verdict"]["gates"]] == ["f1", "slice_f1"]
    refused = run("report", *SQUAD, "--gate", "accuracy=0.02", home=evalcore_home)
    assert refused.returncode == 2 and "reads classification metrics and does not apply to generation data" in \
        refused.stderr
    score = run("score", "--data", "squad", "--model", SQUAD[3], home=evalcore_home, check=True)
    assert "match_lstm: exact match 67.6%, F1 76.8% on 10,570 rows" in score.stdout
