"""Benchmark: does the verdict behave? Simulations through the public API, many seeds each.

Each seed builds a 5,000-row, 3-label dataset with two models' predictions as columns and 18 slices:
13 overlapping boolean metadata columns with 10-50% prevalence, slice `s01` of exactly 300 rows (800 in
the guardrail scenarios), and four tiny slices of 5, 12, 20 and 30 rows. It runs
`evalcore.tasks.pipeline.run_analysis` and `evalcore.decide.verdict.decide` with the default gates (no guardrail unless
stated) and records the verdict. The baseline is right on 75% of rows; the candidate agrees with it except
on a discordant 20% of rows, drawn per scenario:

- null: equal accuracy everywhere (10% regressed, 10% improved);
- uniform +5: 7.5% regressed, 12.5% improved on every row;
- planted -15 / -10: that loss on `s01` only (17.5 / 15% regressed, 2.5 / 5% improved there);
- guardrail losing its margin: `s01` (800 rows) marked a guardrail, truly 5 points worse (the margin);
- guardrail with no change: `s01` (800 rows) marked a guardrail, no change (its MDE, 4.4 points, is under the
  5-point margin);
- clustered: rows in clusters of 5 whose per-row change has intra-cluster correlation 0.2 (a latent normal
  per cluster); the share of seeds whose 95% interval of the overall accuracy change covers the true 0,
  cluster-robust (`cluster_col`) and, for contrast, treating rows as independent;
- constant: the candidate always predicts the most frequent label.

Rates are printed with 95% Wilson intervals.

    python bench/bench_decisions.py              # 200 seeds per scenario
    python bench/bench_decisions.py --seeds 50   # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalcore.analyze.slices import GUARDRAIL, Slice, SliceSet  # noqa: E402
from evalcore.decide.gates import FAIL, NEED_MORE_DATA, NO_SHIP, PASS, SHIP  # noqa: E402
from evalcore.decide.verdict import decide  # noqa: E402
from evalcore.io.data import EvalData, PrecomputedModel  # noqa: E402
from evalcore.stats.intervals import wilson_interval  # noqa: E402
from evalcore.tasks.pipeline import run_analysis  # noqa: E402

LABELS = ("negative", "neutral", "positive")
N_ROWS, N_FLAGS, PLANTED = 5000, 13, "s01"
TINY = {"t05": 5, "t12": 12, "t20": 20, "t30": 30}
BASE_ACC = 0.75
SCENARIOS = {  # (regressed share, improved share) outside / inside s01, size of s01, s01 a guardrail?
    "null": ((0.10, 0.10), (0.10, 0.10), 300, False),
    "uniform+5": ((0.075, 0.125), (0.075, 0.125), 300, False),
    "planted-15": ((0.10, 0.10), (0.175, 0.025), 300, False),
    "planted-10": ((0.10, 0.10), (0.15, 0.05), 300, False),
    "guardrail-loses-margin": ((0.10, 0.10), (0.125, 0.075), 800, True),
    "guardrail-no-change": ((0.10, 0.10), (0.10, 0.10), 800, True),
}
CLUSTER_SIZE, LATENT_ICC = 5, 0.36  # a latent intra-cluster correlation of 0.36 gives 0.2 on the per-row change


def _wrong(gold: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A label other than gold, uniformly."""
    return (gold + rng.integers(1, len(LABELS), size=len(gold))) % len(LABELS)


def _flags(rng: np.random.Generator, planted_n: int) -> dict[str, np.ndarray]:
    flags = {f"s{i:02d}": rng.random(N_ROWS) < rng.uniform(0.1, 0.5) for i in range(2, N_FLAGS + 2)}
    order = rng.permutation(N_ROWS)
    planted = np.zeros(N_ROWS, dtype=bool)
    planted[order[:planted_n]] = True
    out = {PLANTED: planted, **flags}
    at = planted_n
    for name, size in TINY.items():
        tiny = np.zeros(N_ROWS, dtype=bool)
        tiny[order[at : at + size]] = True
        out[name] = tiny
        at += size
    return out


def _data(name: str, gold, base, cand, flags, extra=None) -> EvalData:
    names = np.array(LABELS, dtype=object)
    df = pd.DataFrame(
        {
            "id": [str(i) for i in range(N_ROWS)],
            "text": [f"example {i}" for i in range(N_ROWS)],
            "label": names[gold],
            "base_model": names[base],
            "cand_model": names[cand],
            **flags,
            **(extra or {}),
        }
    )
    return EvalData(
        name=name,
        df=df,
        labels=LABELS,
        source="simulation",
        precomputed={"base_model": PrecomputedModel("base_model"), "cand_model": PrecomputedModel("cand_model")},
    )


def simulate(scenario: str, seed: int) -> tuple[EvalData, SliceSet]:
    rng = np.random.default_rng(seed)
    gold = rng.choice(len(LABELS), size=N_ROWS, p=[0.35, 0.40, 0.25])
    (reg_out, imp_out), (reg_in, imp_in), planted_n, guard = SCENARIOS.get(scenario, SCENARIOS["null"])
    flags = _flags(rng, planted_n)
    base_ok = rng.random(N_ROWS) < BASE_ACC
    base = np.where(base_ok, gold, _wrong(gold, rng))
    if scenario == "constant":
        cand = np.full(N_ROWS, int(np.bincount(gold).argmax()))
    else:
        planted = flags[PLANTED]
        reg = np.where(planted, reg_in, reg_out) / BASE_ACC
        imp = np.where(planted, imp_in, imp_out) / (1 - BASE_ACC)
        cand_ok = base_ok ^ (rng.random(N_ROWS) < np.where(base_ok, reg, imp))
        cand = np.where(cand_ok, gold, _wrong(gold, rng))
    slices = SliceSet(
        [Slice(n, f"{n} == true", role=GUARDRAIL if guard and n == PLANTED else "watched") for n in flags]
    )
    return _data(f"{scenario}-{seed}", gold, base, cand, flags), slices


def simulate_clustered(seed: int) -> tuple[EvalData, SliceSet]:
    """Clusters of 5 rows; the per-row change d (-1, 0, +1) is a latent normal (cluster + row parts) cut at its
    10% tails, so 20% of rows are discordant, the change is 0 in truth and d's ICC is about 0.2."""
    rng = np.random.default_rng(seed)
    cluster = np.arange(N_ROWS) // CLUSTER_SIZE
    latent = rng.normal(0, np.sqrt(LATENT_ICC), N_ROWS // CLUSTER_SIZE)[cluster] + rng.normal(
        0, np.sqrt(1 - LATENT_ICC), N_ROWS
    )
    cut = NormalDist().inv_cdf(0.9)
    d = np.where(latent > cut, 1, np.where(latent < -cut, -1, 0))
    gold = rng.choice(len(LABELS), size=N_ROWS, p=[0.35, 0.40, 0.25])
    both = rng.random(N_ROWS) < (BASE_ACC - 0.1) / 0.8
    base_ok = np.where(d == 0, both, d == -1)
    cand_ok = np.where(d == 0, both, d == 1)
    wrong = _wrong(gold, rng)
    base = np.where(base_ok, gold, wrong)
    cand = np.where(cand_ok, gold, np.where(base_ok, _wrong(gold, rng), wrong))
    flags = _flags(rng, 300)
    data = _data(f"clustered-{seed}", gold, base, cand, flags, {"cluster": cluster.astype(str)})
    data.cluster_col = "cluster"
    return data, SliceSet([Slice(n, f"{n} == true") for n in flags])


def icc(values: np.ndarray, groups: np.ndarray) -> float:
    """One-way ANOVA intra-class correlation of `values` in equal-size groups."""
    k = np.bincount(groups)[0]
    means = np.bincount(groups, weights=values) / k
    msb = k * ((means - values.mean()) ** 2).sum() / (len(means) - 1)
    msw = ((values - means[groups]) ** 2).sum() / (len(values) - len(means))
    return float((msb - msw) / (msb + (k - 1) * msw))


def run(scenario: str, seeds: int) -> dict:
    verdicts: Counter[str] = Counter()
    out = Counter()
    start = time.perf_counter()
    for seed in range(seeds):
        data, slices = simulate(scenario, 1000 * seed + 7)
        v = decide(run_analysis(data, "base_model", "cand_model", slices=slices))
        verdicts[v.decision] += 1
        checks = {c.name: c for c in v.slice_checks()}
        planted = checks[PLANTED]
        out["no_ship_naming_planted"] += v.decision == NO_SHIP and planted.status == FAIL and PLANTED in v.next_step
        out["guardrail_passes"] += planted.role == GUARDRAIL and planted.status == PASS
        out["tiny_blocks"] += any(checks[t].status in (FAIL, NEED_MORE_DATA) for t in TINY)
        out["guardrail_mde"] += planted.mde if planted.role == GUARDRAIL else 0.0
    return {"seeds": seeds, "verdicts": verdicts, **out, "seconds": time.perf_counter() - start}


def run_clustered(seeds: int) -> dict:
    covered = naive_covered = 0
    iccs, deffs = [], []
    start = time.perf_counter()
    for seed in range(seeds):
        data, slices = simulate_clustered(1000 * seed + 11)
        a = run_analysis(data, "base_model", "cand_model", slices=slices)
        row = a.results.changes.query("metric == 'accuracy' and slice == 'all'").iloc[0]
        covered += row.delta_lo <= 0 <= row.delta_hi
        deffs.append(float(row.design_effect))
        naive = run_analysis(replace(data, cluster_col=None), "base_model", "cand_model", slices=slices)
        nrow = naive.results.changes.query("metric == 'accuracy' and slice == 'all'").iloc[0]
        naive_covered += nrow.delta_lo <= 0 <= nrow.delta_hi
        d = a.df_eval["candidate_correct"].astype(int) - a.df_eval["baseline_correct"].astype(int)
        iccs.append(icc(d.to_numpy(dtype=float), np.arange(N_ROWS) // CLUSTER_SIZE))
    return {
        "seeds": seeds,
        "covered": covered,
        "naive_covered": naive_covered,
        "icc": float(np.mean(iccs)),
        "design_effect": float(np.mean(deffs)),
        "seconds": time.perf_counter() - start,
    }


def rate(k: float, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k / n:6.1%} [{float(lo):.1%}, {float(hi):.1%}] ({int(k)} of {n})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--only", default=None, help="one scenario (a name above, clustered or constant)")
    args = parser.parse_args()
    checks = []
    names = [args.only] if args.only else [*SCENARIOS, "clustered", "constant"]
    for scenario in names:
        if scenario == "clustered":
            r = run_clustered(args.seeds)
            print(
                f"clustered: {r['seeds']} seeds in {r['seconds']:.0f} s; ICC of the per-row change "
                f"{r['icc']:.3f}, design effect {r['design_effect']:.2f}"
            )
            checks.append(
                (
                    "clustered (5, ICC 0.2): 95% interval covers",
                    r["covered"],
                    r["seeds"],
                    r["covered"] / r["seeds"] >= 0.93,
                    ">= 93%",
                )
            )
            checks.append(("  same data as independent rows: covers", r["naive_covered"], r["seeds"], None, ""))
            continue
        seeds = args.seeds if scenario != "constant" else max(20, args.seeds // 10)
        r = run(scenario, seeds)
        shares = ", ".join(f"{k} {v / seeds:.1%}" for k, v in sorted(r["verdicts"].items()))
        print(f"{scenario:>24}: {seeds} seeds in {r['seconds']:.0f} s; verdicts: {shares}")
        v = r["verdicts"]
        not_ship = seeds - v[SHIP]
        if scenario == "null":
            checks += [
                ("null: no-ship", v[NO_SHIP], seeds, v[NO_SHIP] / seeds <= 0.05, "<= 5%"),
                ("null: ship", v[SHIP], seeds, v[SHIP] / seeds >= 0.80, ">= 80%"),
                (
                    "null: a slice of 5-30 rows blocked the verdict",
                    r["tiny_blocks"],
                    seeds,
                    r["tiny_blocks"] == 0,
                    "never",
                ),
            ]
        elif scenario == "uniform+5":
            checks.append(("uniform +5 points: ship", v[SHIP], seeds, v[SHIP] / seeds >= 0.80, ">= 80%"))
        elif scenario == "planted-15":
            checks.append(
                (
                    "-15 points on s01 (300 rows): no-ship naming s01",
                    r["no_ship_naming_planted"],
                    seeds,
                    r["no_ship_naming_planted"] / seeds >= 0.95,
                    ">= 95%",
                )
            )
        elif scenario == "planted-10":
            checks.append(
                ("-10 points on s01 (300 rows): not ship", not_ship, seeds, not_ship / seeds >= 0.80, ">= 80%")
            )
            checks.append(("  of which need more data", v[NEED_MORE_DATA], seeds, None, ""))
        elif scenario == "guardrail-loses-margin":
            checks.append(
                (
                    "guardrail truly losing its margin: passes",
                    r["guardrail_passes"],
                    seeds,
                    r["guardrail_passes"] / seeds <= 0.20,
                    "<= 20%",
                )
            )
        elif scenario == "guardrail-no-change":
            checks.append(
                (
                    f"guardrail, no change (MDE {r['guardrail_mde'] / seeds * 100:.1f} points < 5): passes",
                    r["guardrail_passes"],
                    seeds,
                    r["guardrail_passes"] / seeds >= 0.80,
                    ">= 80%",
                )
            )
        elif scenario == "constant":
            checks.append(("constant predictor: no-ship", v[NO_SHIP], seeds, v[NO_SHIP] == seeds, "every seed"))
    print()
    for text, k, n, ok, target in checks:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{text:<60} {rate(k, n)}  {target}{mark}")
    return 0 if all(ok is not False for *_, ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
