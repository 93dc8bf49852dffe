"""One verdict everywhere: 20 synthetic datasets (10 classification, 10 generation) saved as a dashboard workspace
and read through all four paths: the CLI (`report --workspace --format json`), the Compare page (AppTest), the
Markdown report and the W&B run (offline). Decision, next step and slice counts must be equal on every one.

The generation tables have no SQuAD-style questions, so most default slices (who / when / why questions...)
select no rows: the case where Compare once said SHIP and `report --workspace` said inconclusive."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from apptest_helpers import open_page, restart_server
from test_wandb_push import _summary_and_config

from evalcore.analyze.slices import GUARDRAIL, Slice, SliceSet
from evalcore.io.allowed import uploads_dir
from evalcore.io.load import load_data
from evalcore.present.report import render_markdown
from evalcore.present.wandb_push import push_to_wandb
from evalcore.serve.workspace import Workspace, save_workspace, workspace_path
from evalcore.tasks.pipeline import run_analysis

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]


def _classification(seed: int, folder: Path) -> tuple[Path, Workspace]:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([600, 1200, 2500]))
    change = float(rng.choice([-0.08, -0.01, 0.0, 0.06]))
    gold = rng.choice(["neg", "pos"], size=n)
    base_ok = rng.random(n) < 0.75
    flags = {
        "f_big": rng.random(n) < 0.4,
        "f_mid": rng.random(n) < 0.15,
        "f_tiny": np.arange(n) < int(rng.choice([8, 20])),
    }
    reg, imp = 0.1 - change / 2, 0.1 + change / 2
    if seed % 3 == 0:  # a planted loss on one slice
        reg = np.where(flags["f_mid"], 0.25, reg)
    flip = rng.random(n) < np.where(base_ok, reg / 0.75, imp / 0.25)
    cand_ok = base_ok ^ flip
    other = np.where(gold == "neg", "pos", "neg")
    df = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"row {i} of set {seed}" for i in range(n)],
            "label": gold,
            "base": np.where(base_ok, gold, other),
            "cand": np.where(cand_ok, gold, other),
            **flags,
        }
    )
    path = folder / f"cls_{seed}.csv"
    df.to_csv(path, index=False)
    slices = [Slice(name, f"{name} == true", f"hypothesis {name}") for name in flags]
    slices.append(Slice("broken", "regressed == true", "the candidate's own regressions (model-defined)"))
    if seed % 2:
        slices[0] = Slice("f_big", "f_big == true", "a guardrail", GUARDRAIL)
    ws = Workspace(
        data={"source": str(path)}, baseline="base", candidate="cand", slices=SliceSet(tuple(slices)).to_json()
    )
    return path, ws


def _generation(seed: int, folder: Path) -> tuple[Path, Workspace]:
    """A prompt / gold table with two answer columns and no SQuAD-style question: default slices (who / when /
    why questions, dates...) select no row and are left out, with one note, on every path."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([500, 1500]))
    gold = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 4)))) for _ in range(n)]

    def answers(p_right: float) -> list[str]:
        out = []
        for g in gold:
            u = rng.random()
            out.append(g if u < p_right else g.split()[0] if u < p_right + 0.15 else str(rng.choice(WORDS)))
        return out

    quality = float(rng.choice([0.45, 0.55, 0.6]))
    df = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(n)],
            "instruction": [f"Repeat item {i} of list {seed} back" for i in range(n)],
            "gold": gold,
            "pred_base": answers(0.55),
            "pred_cand": answers(quality),
        }
    )
    path = folder / f"gen_{seed}.csv"
    df.to_csv(path, index=False)
    return path, Workspace(data={"source": str(path), "task": "generation"}, baseline="base", candidate="cand")


def _cli(home: Path) -> dict:
    env = {**os.environ, "EVALCORE_HOME": str(home), "WANDB_MODE": "offline"}
    proc = subprocess.run(
        [sys.executable, "-m", "evalcore", "report", "--workspace", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)["verdict"]


def _compare() -> tuple[str, str, str]:
    restart_server()  # a new dataset each time: nothing cached from the previous one
    at = open_page("pages/compare.py")
    text = next(el.value for el in [*at.success, *at.error, *at.warning] if el.value.startswith("**Verdict:"))
    decision, step = re.match(r"\*\*Verdict: (.+?)\*\* — (.*)", text, flags=re.S).groups()
    counts = next((c.value for c in at.caption if "slices judged" in c.value), "")
    return decision.lower(), step, counts


def _counts_line(c: dict) -> str:
    parts = [
        f"{c['judged']} slices judged",
        f"{c['harm']} with evidence of harm",
        f"{c['too_small']} too small to judge",
        f"{c['model_defined']} model-defined (never gate)",
    ]
    if c["guardrails"]:
        parts.append(f"guardrails verified: {c['verified']} of {c['guardrails']}")
    return " · ".join(parts) if c["slices"] else ""


def test_twenty_datasets_get_one_verdict_on_every_path(evalcore_home: Path, tmp_path: Path) -> None:
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    seen = set()
    for seed in range(20):
        path, ws = (_classification if seed < 10 else _generation)(seed, folder)
        save_workspace(ws, workspace_path())
        cli = _cli(evalcore_home)
        decision, step, counts = _compare()
        data = load_data(ws.data["source"], **{k: v for k, v in ws.data.items() if k != "source"})
        slices = SliceSet.from_json(ws.slices) if ws.slices is not None else None
        analysis = run_analysis(data, ws.baseline, ws.candidate, slices=slices)
        md = render_markdown(analysis)
        pushed = push_to_wandb(analysis, project="paths", wandb_dir=tmp_path / "wandb")
        summary, _ = _summary_and_config(Path(pushed.run_dir))
        where = f"dataset {seed} ({path.name})"
        assert cli["decision"] == decision == summary["verdict"], where
        assert f"**Verdict: {decision.upper()}.** {cli['next_step']}" in md, where
        assert cli["next_step"] == step == summary["next_step"], where
        assert counts == _counts_line(cli["counts"]) and summary["verdict_counts"] == cli["counts"], where
        assert cli["notes"] == summary["verdict_notes"], where
        seen.add((data.task, decision))
        if data.task == "generation":
            assert any("no row of this data matches them" in n and "who_questions" in n for n in cli["notes"]), where
    # the datasets reach every decision of both task kinds
    assert {d for _, d in seen} == {"ship", "no-ship", "need more data"}, seen
    assert {t for t, _ in seen} == {"classification", "generation"}


def test_dashboard_and_cli_agree_on_a_saved_generation_workspace(evalcore_home: Path) -> None:
    """The issue's case, on its own: a generation table without SQuAD-style questions."""
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _, ws = _generation(31, folder)
    save_workspace(ws, workspace_path())
    cli = _cli(evalcore_home)
    decision, step, _ = _compare()
    assert (cli["decision"], cli["next_step"]) == (decision, step)


@pytest.mark.parametrize("seed", [3])
def test_a_cluster_column_saved_with_the_data_reaches_every_path(evalcore_home: Path, seed: int) -> None:
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path, ws = _classification(seed, folder)
    df = pd.read_csv(path)
    df["user"] = [f"u{i // 4}" for i in range(len(df))]
    df.to_csv(path, index=False)
    ws.data["cluster_col"] = "user"
    save_workspace(ws, workspace_path())
    cli = _cli(evalcore_home)
    assert cli["cluster_col"] == "user" and cli["n_clusters"] == (len(df) + 3) // 4
    decision, step, _ = _compare()
    assert (cli["decision"], cli["next_step"]) == (decision, step)
