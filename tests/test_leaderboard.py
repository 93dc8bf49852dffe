"""k candidates against one baseline: the multiplicity corrections hold their level by simulation under the null
(fixed seeds), and 5+ candidates on SQuAD run through the CLI as a leaderboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from evalcore.stats.paired import binary_changes
from evalcore.tasks.leaderboard import adjust, ship_holds

ROOT = Path(__file__).resolve().parent.parent
K, N, M, SEEDS = 5, 1000, 8, 300


def _changes(rng: np.random.Generator, probs: tuple[float, float, float, float], n: int, member: np.ndarray):
    """One candidate's paired table (all + M slices) through the one statistics layer: each row's cell (both
    right, improved, regressed, neither) drawn from `probs`."""
    cell = rng.choice(4, size=n, p=probs)
    counts = [[int(((cell == j) & m).sum()) for j in range(4)] for m in [np.ones(n, bool), *member]]
    a, b, c, d = (np.array(x) for x in zip(*counts))
    out = binary_changes(["all", *[f"s{i}" for i in range(M)]], a, b, c, d)
    out["clusters"] = np.nan
    return out


def null_rates(seeds: int = SEEDS) -> dict[str, float]:
    """Under the complete null (every candidate equal to the baseline on every slice): the share of datasets
    where any overall change is flagged (Holm), any slice cell is flagged (BH across K x M), and, without a
    correction, any slice cell has p < 0.05."""
    hits = {"overall_holm": 0, "slices_bh": 0, "slices_uncorrected": 0, "overall_uncorrected": 0}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        member = rng.random((M, N)) < 0.2
        frames = []
        for k in range(K):
            ch = _changes(rng, (0.7, 0.1, 0.1, 0.1), N, member)
            ch["candidate"] = f"c{k}"
            frames.append(ch)
        table = pd.concat(frames, ignore_index=True)
        table["judged"] = (table["slice"] != "all") & (table["n"] >= 30)
        adj = adjust(table)
        hits["overall_holm"] += bool(adj.loc[adj["family"] == "overall", "significant"].any())
        hits["slices_bh"] += bool(adj.loc[adj["family"] == "slice", "significant"].any())
        hits["slices_uncorrected"] += bool((adj.loc[adj["family"] == "slice", "p"] < 0.05).any())
        hits["overall_uncorrected"] += bool((adj.loc[adj["family"] == "overall", "p"] < 0.05).any())
    return {k: v / seeds for k, v in hits.items()}


def boundary_ship_rates(seeds: int = SEEDS, n: int = 2000, margin: float = 0.02) -> dict[str, float]:
    """Every candidate truly worse by exactly the margin: the share of datasets where any candidate's ship is
    supported, at the Bonferroni level over K (the leaderboard) and at each one's own 95% (no correction)."""
    hits = {"bonferroni": 0, "uncorrected": 0}
    for seed in range(seeds):
        rng = np.random.default_rng(10_000 + seed)
        member = np.zeros((M, n), bool)
        rows = [_changes(rng, (0.7, 0.09, 0.11, 0.1), n, member).iloc[0] for _ in range(K)]
        hits["bonferroni"] += any(ship_holds(r, "binary", K, margin)[0] for r in rows)
        hits["uncorrected"] += any(ship_holds(r, "binary", 1, margin)[0] for r in rows)
    return {k: v / seeds for k, v in hits.items()}


def _ci(rate: float, seeds: int = SEEDS) -> tuple[float, float]:
    lo, hi = proportion_confint(round(rate * seeds), seeds, method="wilson")
    return float(lo), float(hi)


def test_multiplicity_across_candidates_holds_its_level_under_the_null() -> None:
    rates = null_rates()
    # family-wise error of the overall flags (Holm) and of the slice flags (BH: under the complete null FDR =
    # the chance of any flag) at or below 5%: the Wilson interval's lower end must not exceed 0.05
    assert _ci(rates["overall_holm"])[0] <= 0.05 and rates["overall_holm"] <= 0.07, rates
    assert _ci(rates["slices_bh"])[0] <= 0.05 and rates["slices_bh"] <= 0.07, rates
    # what the correction prevents: uncorrected, most datasets flag some slice of some candidate
    assert rates["slices_uncorrected"] > 0.5 and rates["overall_uncorrected"] > 0.15, rates


def test_ship_among_k_candidates_at_the_margin_is_rare() -> None:
    rates = boundary_ship_rates()
    assert _ci(rates["bonferroni"])[0] <= 0.025 and rates["bonferroni"] <= 0.045, rates  # one-sided, 2.5%
    assert rates["uncorrected"] > 0.07, rates  # about 1 - 0.975^5 = 12% without the correction


def _run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALCORE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "evalcore", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def squad_answer_files(tmp_path: Path, shared_data: Path) -> list[str]:
    """Three more SQuAD systems made from the two shared ones: BERT's answers with Match-LSTM's on a seeded
    30% / 60% of questions, and BERT's answers with their last word dropped on a seeded 20%."""
    pred = shared_data / "squad" / "predictions"
    bert = json.loads((pred / "bert_ensemble.json").read_text())
    lstm = json.loads((pred / "match_lstm.json").read_text())
    rng = np.random.default_rng(0)
    out = []
    for name, make in (
        ("mix30", lambda q, r: lstm[q] if r < 0.3 else bert[q]),
        ("mix60", lambda q, r: lstm[q] if r < 0.6 else bert[q]),
        ("clipped", lambda q, r: " ".join(bert[q].split()[:-1]) or bert[q] if r < 0.2 else bert[q]),
    ):
        draws = rng.random(len(bert))
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({q: make(q, r) for q, r in zip(bert, draws)}))
        out.append(f"file:{path}")
    return out


def test_five_candidates_on_squad_as_a_leaderboard(evalcore_home: Path, tmp_path: Path, shared_data: Path) -> None:
    pred = shared_data / "squad" / "predictions"
    cands = [f"file:{pred / 'bert_ensemble.json'}", *squad_answer_files(tmp_path, shared_data)]
    # Match-LSTM is the baseline; a fifth candidate: Match-LSTM's answers under another name
    same = tmp_path / "lstm_again.json"
    same.write_text((pred / "match_lstm.json").read_text())
    cands.append(f"file:{same}")
    args = [
        "report",
        "--data",
        str(shared_data / "squad" / "dev-v1.1.json"),
        "--baseline",
        f"file:{pred / 'match_lstm.json'}",
        *[x for c in cands for x in ("--candidate", c)],
    ]
    proc = _run(*args, "--format", "json", "--verdict", home=evalcore_home)
    assert proc.returncode == 0, proc.stderr  # some candidate ships
    doc = json.loads(proc.stdout)
    s = {r["candidate"]: r for r in doc["summary"]}
    assert list(s) == ["bert_ensemble", "mix30", "mix60", "clipped", "lstm_again"]
    assert doc["metric"] == "f1" and "Holm" in doc["method"] and "Benjamini-Hochberg" in doc["method"]
    assert round(s["bert_ensemble"]["delta"] * 100, 1) == 15.4  # README's clustered F1 gain
    assert s["bert_ensemble"]["leaderboard verdict"] == "ship" and s["mix30"]["leaderboard verdict"] == "ship"
    assert s["lstm_again"]["delta"] == 0 and s["lstm_again"]["p_holm"] == 1.0
    assert s["bert_ensemble"]["delta"] > s["clipped"]["delta"] > s["mix30"]["delta"] > s["mix60"]["delta"] > 0
    cells = pd.DataFrame(doc["cells"])
    assert set(cells["family"]) == {"overall", "slice", "not tested"} or set(cells["family"]) == {"overall", "slice"}
    assert (cells.loc[cells["candidate"] == "lstm_again", "significant"] == False).all()  # noqa: E712
    # the table form: one column per candidate, readable
    table = _run(*args, home=evalcore_home).stdout
    assert "5 candidates against baseline match_lstm on f1" in table
    assert "lstm_again" in table.splitlines()[2] or any("lstm_again" in line for line in table.splitlines()[:12])
    # each candidate's two-model decision is in the history
    hist = _run("history", "--format", "json", home=evalcore_home)
    assert len(json.loads(hist.stdout)) == 5


if __name__ == "__main__":  # the figures for the README
    for name, rates in (("null", null_rates()), ("boundary", boundary_ship_rates())):
        for k, v in rates.items():
            lo, hi = _ci(v)
            print(f"{name} {k}: {v:.1%} [{lo:.1%}, {hi:.1%}] of {SEEDS} datasets")


def test_compare_page_leaderboard(evalcore_home: Path) -> None:
    """Compare's leaderboard expander: two candidates on the lab demo, the summary with both verdicts, the two
    charts (one row / column per candidate), and each two-model decision recorded once."""
    from apptest_helpers import open_page
    from test_page_compare import _decode

    from evalcore.serve.history import HistoryStore

    at = open_page("pages/compare.py")
    assert "🏁 Pick two or more candidates to rank them against the baseline." in [c.value for c in at.caption]
    at.multiselect(key="lb_candidates").set_value(["gpt2", "vader"]).run()
    assert not at.exception
    summary = next(d.value for d in at.dataframe if "leaderboard verdict" in d.value.columns)
    assert summary["candidate"].tolist() == ["gpt2", "vader"]
    assert summary["overall change [95%]"].tolist() == ["-30.0 pts [-35.6, -24.1]", "-19.0 pts [-24.0, -13.9]"]
    assert summary["leaderboard verdict"].tolist() == ["no-ship", "no-ship"]
    assert any("Holm-adjusted across the 2 candidates" in c.value for c in at.caption)
    figs = {f.layout.title.text: f for f in (_decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart"))}
    heat = next(f for t, f in figs.items() if t.startswith("accuracy change per slice and candidate"))
    assert list(heat.data[0].x) == ["gpt2", "vader"] and heat.data[0].text[0] == ["-30.0*", "-19.0*"]
    assert any(t.startswith("Overall accuracy change per candidate") for t in figs)
    rows = HistoryStore().decisions()
    assert sorted(rows["candidate"]) == ["gpt2", "vader"] and rows["times_seen"].max() == 1


def test_five_candidates_on_squad_on_compare(
    evalcore_home: Path, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same five SQuAD candidates on Compare: answer files typed as specs (from a folder the operator allowed),
    one leaderboard with five rows and a heatmap with five columns."""
    from apptest_helpers import open_page
    from test_page_compare import _decode

    from evalcore.io.load import load_data
    from evalcore.serve.workspace import Workspace, save_workspace

    monkeypatch.setenv("EVALCORE_DATA_ROOTS", os.pathsep.join([str(shared_data), str(tmp_path)]))
    baseline, bert = load_data("squad").default_models
    same = tmp_path / "lstm_again.json"
    same.write_text((shared_data / "squad" / "predictions" / "match_lstm.json").read_text())
    save_workspace(Workspace(data={"source": "squad"}, baseline=baseline, candidate=bert))
    at = open_page("pages/compare.py")
    at.text_input(key="lb_specs").set_value(", ".join([*squad_answer_files(tmp_path, shared_data), f"file:{same}"]))
    at.run(timeout=600)
    assert not at.exception, [e.value for e in at.exception]
    summary = next(d.value for d in at.dataframe if "leaderboard verdict" in d.value.columns)
    assert summary["candidate"].tolist() == ["bert_ensemble", "mix30", "mix60", "clipped", "lstm_again"]
    assert summary["leaderboard verdict"].tolist()[0] == "ship"
    figs = {f.layout.title.text: f for f in (_decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart"))}
    heat = next(f for t, f in figs.items() if t.startswith("f1 change per slice and candidate"))
    assert len(heat.data[0].x) == 5
