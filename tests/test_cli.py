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
    doc = json.loads(proc.stdout)
    assert doc["overall"]["baseline"]["value"] == 0.698 and doc["overall"]["candidate"]["value"] == 0.398
    assert "has_negation" in doc["flagged"]
    for name, rows in (("df_long", 1000), ("df_eval", 500), ("slice_metrics", 22), ("regression_metrics", 11)):
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == rows, name


def test_report_gate_exit_status_and_reports(evalcore_home: Path, tmp_path: Path) -> None:
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    failing = run("report", "--gate", "min_overall_change=0", "--markdown", str(md), "--html", str(html),
                  home=evalcore_home)
    assert failing.returncode == 1
    assert "no-ship" in failing.stdout and "FAIL min_overall_change" in failing.stdout
    assert "0.698" in md.read_text() and "<html" in html.read_text().lower()
    passing = run("report", "--baseline", "gpt2", "--candidate", "roberta", "--gate", "min_overall_change=0",
                  "--gate", "max_slice_regression=off", home=evalcore_home)
    assert passing.returncode == 0, passing.stdout[-2000:]


@pytest.mark.parametrize("args, message", [
    (("report", "--data", "missing.csv"), "data file not found"),
    (("report", "--gate", "bogus=1"), "gate 'bogus' is unknown"),
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
