"""Explanations in aggregate and where the findings go: the report, the W&B run and `python -m evalcore
discover`. Live models here are VADER at two thresholds (real, fast); the lab's precomputed roberta and
gpt2 show what happens when a model cannot be explained."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import run
from test_wandb_push import _summary_and_config, _tables

from evalcore.decide.discover import discover_slices
from evalcore.decide.verdict import evaluate_gates
from evalcore.io.load import load_data
from evalcore.present.report import render_html, render_markdown
from evalcore.present.wandb_push import push_to_wandb
from evalcore.probe.explain import explain_many
from evalcore.probe.explain_aggregate import explain_regressions, explain_slice, live_predictors, token_table
from evalcore.tasks.pipeline import run_analysis

LABELS = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def live():
    """Baseline VADER (threshold 0.05) vs a stricter VADER (0.5): real, live, and regressing on mild tweets."""
    return run_analysis(load_data("lab"), "vader", "vader:0.5")


@pytest.fixture(scope="module")
def precomputed():
    return run_analysis(load_data("lab"), "roberta", "gpt2")


@pytest.fixture(scope="module")
def negation(live):
    return explain_slice(live, "has_negation", max_rows=40, seed=1)


def test_token_pushes_over_the_negation_slices_regressions(live, negation):
    r = negation
    mask = live.results.masks["has_negation"]
    assert r.n_slice == int(mask.sum()) and r.n_regressed == int((mask & live.df_eval["regressed"]).sum()) > 0
    assert r.n_explained == min(40, r.n_regressed) and r.available and r.units["candidate"] == "vader_margin"
    t = r.tokens
    assert len(t) and (t["candidate_rows"] >= 1).all() and (t["candidate_rows"] <= t["n_rows"]).all()
    assert (t["candidate_rows"].diff().dropna() <= 0).all()  # most frequent push first
    for side in ("candidate", "baseline"):
        share = t[f"{side}_share"]
        assert np.allclose(share, t[f"{side}_rows"] / r.n_explained)
        assert ((t[f"{side}_share_lo"] <= share + 1e-12) & (share <= t[f"{side}_share_hi"] + 1e-12)).all()
    assert ((t["gap_lo"] <= t["gap"] + 1e-12) & (t["gap"] <= t["gap_hi"] + 1e-12)).all()
    assert (
        list(r.rows.columns)
        == ["id", "text", "label", "baseline_pred", "candidate_pred", "candidate_top", "baseline_top"]
        and len(r.rows) == r.n_explained
    )
    assert "Explained" in r.message() and f"top {r.top_k}" in r.message()
    negators = r.groups.set_index("token").loc["[negation word]"]  # the slice's hypothesis as one row
    assert negators["n_rows"] >= 0.9 * r.n_explained and negators["candidate_rows"] <= negators["n_rows"]


def test_counts_are_recomputed_from_the_row_explanations(live, negation):
    """The token table equals counting by hand over the same explanations."""
    preds = live_predictors(live)
    rows = negation.rows
    wrong = rows["candidate_pred"].tolist()
    cand = explain_many(preds["candidate"], rows["text"].tolist(), wrong)
    base = explain_many(preds["baseline"], rows["text"].tolist(), wrong)
    table = token_table(list(zip(base, cand)), 3)
    token = table.iloc[0]["token"]
    by_hand = sum(token in {t.token.lower() for t in e.top(3)} for e in cand)
    assert table.iloc[0]["candidate_rows"] == by_hand == negation.tokens.iloc[0]["candidate_rows"]


def test_precomputed_models_are_refused_in_words_never_an_empty_table(precomputed, live):
    r = explain_slice(precomputed, "has_negation")
    assert not r.available and r.n_explained == 0 and "gpt2 gives precomputed predictions" in r.message()
    half = explain_regressions(
        live.df_eval,
        live.results.masks["has_negation"],
        {"baseline": None, "candidate": live_predictors(live)["candidate"]},
        slice_name="has_negation",
        max_rows=10,
    )
    assert half.available and half.tokens["baseline_share"].isna().all()
    assert "the baseline could not be explained: no live model was given for vader" in half.message()
    none = explain_slice(live, 'text contains "zzqqzz"')
    assert not none.available and "has no regressed row" in none.message()


def test_report_and_wandb_carry_the_discovery_and_the_explanations(live, negation, precomputed, tmp_path):
    found = discover_slices(live.df_eval, seed=1)
    gates = evaluate_gates(live)
    md = render_markdown(live, gates, discovery=found, explanations=negation)
    assert "## Discovered slices" in md and "## Why the candidate flips on has_negation" in md
    assert found.candidates[0].text.replace("|", "\\|") in md and "confirmation half" in md
    assert "pushed the candidate to its wrong label" in md and "### Examples" in md and "| [negation word] |" in md
    html = render_html(live, gates, discovery=found, explanations=negation)
    assert 'id="fig-token_pushes"' in html and "rgba(47,158,68" in html
    plain = render_markdown(live, gates)
    assert "Discovered slices" not in plain and "Why the candidate flips" not in plain
    refused = render_markdown(precomputed, discovery=None, explanations=explain_slice(precomputed, "has_negation"))
    assert "No explanation: gpt2 gives precomputed predictions" in refused

    with pytest.MonkeyPatch.context() as mp:
        for var, folder in (("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config")):
            mp.setenv(var, str(tmp_path / "wandb_state" / folder))
        result = push_to_wandb(
            live,
            project="evalcore-test",
            mode="offline",
            gates=gates,
            wandb_dir=tmp_path / "runs",
            discovery=found,
            explanations=negation,
        )
    tables = _tables(Path(result.run_dir))
    assert {
        "discovered_slices",
        "discovery_settings",
        "explanation_status",
        "explanation_tokens",
        "explanation_word_classes",
        "explanation_rows",
    } <= set(tables)
    assert tables["explanation_tokens"]["columns"][:3] == ["token", "n_rows", "candidate_rows"]
    assert len(tables["discovered_slices"]["data"]) == len(found.candidates)
    charts = {p.name for p in (Path(result.run_dir) / "files" / "media" / "plotly" / "charts").glob("*.plotly.json")}
    assert any(c.startswith("token_pushes") for c in charts)
    summary, _ = _summary_and_config(Path(result.run_dir))
    assert summary["n_discovered_slices"] == len(found.confirmed) and summary["explanations_slice"] == "has_negation"
    assert summary["explanations_status"].startswith("Explained")


def test_cli_discover_json_out_and_the_slice_file_feeds_report(evalcore_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "found.json"
    proc = run(
        "discover",
        "--data",
        "lab",
        "--format",
        "json",
        "--out",
        str(out),
        "--seed",
        "2",
        home=evalcore_home,
        check=True,
    )
    doc = json.loads(proc.stdout)
    d = doc["discovery"]
    assert d["settings"]["seed"] == 2 and d["n_rows"] == 500 and d["baseline"] == "roberta"
    assert doc["explanations"] is None
    assert d["confirmed"] and all(c["rule"] for c in d["candidates"])
    saved = json.loads(out.read_text())
    assert saved["version"] == 1 and [s["name"] for s in saved["slices"]] == d["confirmed"]
    report = run("report", "--data", "lab", "--slices", str(out), home=evalcore_home, check=True)
    assert d["confirmed"][0] in report.stdout


def test_cli_discover_explains_live_models_into_the_reports(evalcore_home: Path, tmp_path: Path) -> None:
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    proc = run(
        "discover",
        "--data",
        "lab",
        "--baseline",
        "vader",
        "--candidate",
        "vader:0.5",
        "--explain",
        "has_negation",
        "--explain-rows",
        "30",
        "--markdown",
        str(md),
        "--html",
        str(page),
        home=evalcore_home,
        check=True,
    )
    assert "why the candidate flips on has_negation (has_negation == true):" in proc.stdout
    assert "pushed candidate" in proc.stdout and "CONFIRMED" in proc.stdout
    assert "## Why the candidate flips on has_negation" in md.read_text() and "fig-token_pushes" in page.read_text()


def test_cli_discover_refuses_to_explain_precomputed_models(evalcore_home: Path) -> None:
    proc = run("discover", "--data", "lab", "--explain", "has_negation", home=evalcore_home)
    assert proc.returncode == 2 and proc.stderr.startswith("error: --explain: gpt2 gives precomputed predictions")
    bad = run("discover", "--data", "lab", "--depth", "5", home=evalcore_home)
    assert bad.returncode == 2 and "depth=5 is not allowed" in bad.stderr
