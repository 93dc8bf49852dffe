"""Benchmark: does the verdict behave? Simulations through the public API, many seeds each.

Each seed builds a 5,000-row, 3-label dataset with two models' predictions as columns and 20
overlapping slices (boolean metadata columns with 10-50% prevalence; slice `s01` has exactly 300
rows), runs `evalcore.pipeline.run_analysis` with the default gates (`evaluate_gates`) and records
the verdict and the slices named "worse than elsewhere". The baseline is right on 75% of rows;
the candidate agrees with it except on a discordant 20% of rows (realistic for two models of one
family), drawn per scenario:

- null: equal accuracy everywhere (10% regressed, 10% improved);
- planted: -15 points on the 300-row slice `s01` only (17.5% regressed, 2.5% improved there);
- uniform: -5 points on every row (12.5% regressed, 7.5% improved);
- constant: the candidate always predicts the most frequent label.

    python bench/bench_decisions.py              # 200 seeds per scenario
    python bench/bench_decisions.py --seeds 50   # quicker
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalcore.data import EvalData, PrecomputedModel  # noqa: E402
from evalcore.gates import NO_SHIP, evaluate_gates  # noqa: E402
from evalcore.pipeline import run_analysis  # noqa: E402
from evalcore.slices import Slice, SliceSet  # noqa: E402

LABELS = ("negative", "neutral", "positive")
N_ROWS, N_SLICES, PLANTED, PLANTED_N = 5000, 20, "s01", 300
BASE_ACC = 0.75
SCENARIOS = {  # (regressed share, improved share) outside / inside the planted slice
    "null": ((0.10, 0.10), (0.10, 0.10)),
    "planted": ((0.10, 0.10), (0.175, 0.025)),
    "uniform": ((0.125, 0.075), (0.125, 0.075)),
}


def _wrong(gold: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A label other than gold, uniformly."""
    shift = rng.integers(1, len(LABELS), size=len(gold))
    return (gold + shift) % len(LABELS)


def simulate(scenario: str, seed: int) -> tuple[EvalData, SliceSet]:
    rng = np.random.default_rng(seed)
    gold = rng.choice(len(LABELS), size=N_ROWS, p=[0.35, 0.40, 0.25])
    flags = {f"s{i:02d}": rng.random(N_ROWS) < rng.uniform(0.1, 0.5) for i in range(2, N_SLICES + 1)}
    planted = np.zeros(N_ROWS, dtype=bool)
    planted[rng.choice(N_ROWS, PLANTED_N, replace=False)] = True
    flags = {PLANTED: planted, **flags}
    base_ok = rng.random(N_ROWS) < BASE_ACC
    base = np.where(base_ok, gold, _wrong(gold, rng))
    if scenario == "constant":
        cand = np.full(N_ROWS, int(np.bincount(gold).argmax()))
    else:
        (reg_out, imp_out), (reg_in, imp_in) = SCENARIOS[scenario]
        reg = np.where(planted, reg_in, reg_out) / BASE_ACC
        imp = np.where(planted, imp_in, imp_out) / (1 - BASE_ACC)
        flip = rng.random(N_ROWS) < np.where(base_ok, reg, imp)
        cand_ok = base_ok ^ flip
        # both wrong: the candidate's wrong label is drawn afresh, so it may differ from the baseline's
        cand = np.where(cand_ok, gold, np.where(base_ok, _wrong(gold, rng), _wrong(gold, rng)))
    names = np.array(LABELS, dtype=object)
    df = pd.DataFrame({"id": [str(i) for i in range(N_ROWS)], "text": [f"example {i}" for i in range(N_ROWS)],
                       "label": names[gold], "base_model": names[base], "cand_model": names[cand], **flags})
    data = EvalData(name=f"{scenario}-{seed}", df=df, labels=LABELS, source="simulation",
                    precomputed={"base_model": PrecomputedModel("base_model"), "cand_model": PrecomputedModel("cand_model")})
    slices = SliceSet([Slice(name, f"{name} == true") for name in flags])
    return data, slices


def run(scenario: str, seeds: int) -> dict:
    verdicts: Counter[str] = Counter()
    named_planted = named_other = named_any = nothing_named = 0
    no_ship_naming_planted = accuracy_fail = only_underpowered = 0
    start = time.perf_counter()
    for seed in range(seeds):
        data, slices = simulate(scenario, 1000 * seed + 7)
        analysis = run_analysis(data, "base_model", "cand_model", slices=slices)
        report = evaluate_gates(analysis)
        verdicts[report.decision] += 1
        flagged = set(analysis.results.flagged)
        named_planted += PLANTED in flagged
        named_other += bool(flagged - {PLANTED})
        named_any += bool(flagged)
        nothing_named += not flagged
        gate = {r.name: r for r in report.results}
        failing = {c.name for c in gate["slice_accuracy"].checks if c.status == "fail"}
        no_ship_naming_planted += report.decision == NO_SHIP and PLANTED in failing
        accuracy_fail += gate["accuracy"].status == "fail"
        blocking = [r for r in report.results if r.status != "pass"]
        only_underpowered += (report.decision == "inconclusive" and [r.name for r in blocking] == ["slice_accuracy"]
                              and all(c.status in ("pass", "underpowered") for c in blocking[0].checks))
    return {"seeds": seeds, "verdicts": dict(verdicts), "no_ship": verdicts[NO_SHIP] / seeds,
            "named_planted": named_planted / seeds, "named_other": named_other / seeds,
            "named_any": named_any / seeds, "nothing_named": nothing_named / seeds, "no_ship_naming_planted": no_ship_naming_planted / seeds,
            "accuracy_gate_fail": accuracy_fail / seeds, "only_underpowered": only_underpowered / seeds, "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    checks = []
    for scenario in ("null", "planted", "uniform", "constant"):
        r = run(scenario, args.seeds if scenario != "constant" else max(20, args.seeds // 10))
        shares = ", ".join(f"{k} {v / r['seeds']:.1%}" for k, v in sorted(r["verdicts"].items()))
        print(f"{scenario:>8}: {r['seeds']} seeds in {r['seconds']:.0f} s; verdicts: {shares}")
        if scenario == "null":
            checks.append(("null: no-ship <= 5% of seeds", r["no_ship"], r["no_ship"] <= 0.05))
            checks.append(("null: a slice named worse than elsewhere", r["named_any"], None))
            checks.append(("null: inconclusive only for underpowered slices", r["only_underpowered"], None))
        elif scenario == "planted":
            checks.append(("planted: no-ship naming s01 >= 95%", r["no_ship_naming_planted"],
                           r["no_ship_naming_planted"] >= 0.95))
            checks.append(("planted: another slice named <= 5%", r["named_other"], r["named_other"] <= 0.05))
        elif scenario == "uniform":
            checks.append(("uniform: overall (accuracy gate) no-ship >= 95%", r["accuracy_gate_fail"],
                           r["accuracy_gate_fail"] >= 0.95 and r["no_ship"] >= 0.95))
            checks.append(("uniform: no slice named in >= 95%", r["nothing_named"], r["nothing_named"] >= 0.95))
        else:
            checks.append(("constant predictor: no-ship in every seed", r["no_ship"], r["no_ship"] == 1.0))
    print()
    for text, value, ok in checks:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{text:<52} {value:7.1%}{mark}")
    return 0 if all(ok is not False for _, _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
