"""`python -m evalcore doctor` and where evalcore (and wandb) write: everything under EVALCORE_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

from evalcore.serve.doctor import disk_use, report_lines
from evalcore.serve.roots import store_file


def test_disk_use_per_part_and_no_secret_in_the_report(evalcore_home: Path, monkeypatch) -> None:
    store_file("a.csv", b"x" * 5000)
    (evalcore_home / "cache").mkdir(parents=True, exist_ok=True)
    (evalcore_home / "cache" / "predictions.sqlite").write_bytes(b"y" * 7000)
    use = disk_use(evalcore_home)
    assert use["uploads"] == (5000, 1) and use["prediction cache"] == (7000, 1) and use["workspaces"] == (0, 0)
    monkeypatch.setenv("EVALCORE_TEST_API_KEY", "sk-very-secret-123456")
    monkeypatch.setenv(
        "EVALCORE_LLM_ENDPOINTS",
        json.dumps(
            {"team": {"base_url": "https://llm.example/v1", "model": "m", "api_key_env": "EVALCORE_TEST_API_KEY"}}
        ),
    )
    text = "\n".join(report_lines())
    assert "uploads" in text and "0.0 MB" in text and "disk:" in text
    assert "team: m at https://llm.example/v1; key variable $EVALCORE_TEST_API_KEY (set)" in text
    assert "sk-very-secret" not in text


def test_wandb_writes_under_the_evalcore_home(evalcore_home: Path, monkeypatch) -> None:
    from evalcore.io.load import load_data
    from evalcore.present.wandb_push import push_to_wandb
    from evalcore.tasks.pipeline import run_analysis

    for var in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, "")  # unset for evalcore, and restored after the test
    result = push_to_wandb(run_analysis(load_data("lab", n_rows=60), "roberta", "gpt2"), mode="offline")
    assert Path(result.run_dir).is_relative_to(evalcore_home)
    for var in ("WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        assert Path(os.environ[var]).is_relative_to(evalcore_home)
