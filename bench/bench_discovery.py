"""Benchmark: does slice discovery find what is there, and only that? How fast are search and explanations?

1. Simulation (tests/synthetic_slices.py): 5,000 rows, 8 boolean flags, two categorical columns, a
   continuous and a count column, gold labels and random confidences (15 features, ~40 items); 20% of
   rows discordant between the models. *planted*: the candidate loses 15 points on
   `flag1 == true and group == "b"` (~10% of rows) and nowhere else; *null*: no change anywhere.
   `evalcore.decide.discover.discover_slices` with its defaults (depth 2, seed = the simulation's seed) on each
   seed: how often the planted conjunction is found *and confirmed*, and how often null data confirm
   any slice at all.
2. Search time on 100,000 rows (the same generator), depth 2 and depth 3.
3. A MiniLM explanation of one tweet (`evalcore.probe.explain.explain`, occlusion, all variants in one batch):
   the full demo model when it is built, else a small build (256 tweets, 1 epoch) in a temporary folder.

    python bench/bench_discovery.py               # 200 seeds per scenario
    python bench/bench_discovery.py --seeds 50    # quicker
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from synthetic_slices import PLANTED_RULE, planted_table  # noqa: E402

from evalcore.analyze.rules import format_rule, mask, parse_rule  # noqa: E402
from evalcore.decide.discover import discover_slices  # noqa: E402
from evalcore.stats.intervals import wilson_interval  # noqa: E402

TWEET = "@user I don't think this update is good at all, my phone keeps crashing 😡 #fail"


def _rate(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k / n:.1%} [{float(lo):.1%}, {float(hi):.1%}] ({k} of {n})"


def simulate(seeds: int, rows: int, depth: int) -> dict[str, str]:
    want = format_rule(parse_rule(PLANTED_RULE))
    found = elsewhere = null_any = 0
    n_confirmed = []
    for seed in range(seeds):
        df = planted_table(rows, seed)
        d = discover_slices(df, seed=seed, depth=depth)
        found += want in [f.text for f in d.confirmed]
        planted_rows = mask(parse_rule(PLANTED_RULE), df)
        # a confirmed slice sharing under 10% of its rows with the planted one is a false discovery
        elsewhere += any((mask(f.rule, df) & planted_rows).sum() < 0.1 * mask(f.rule, df).sum() for f in d.confirmed)
        n_confirmed.append(len(d.confirmed))
        null = discover_slices(planted_table(rows, 100_000 + seed, planted=False), seed=seed, depth=depth)
        null_any += bool(null.confirmed)
    return {
        "found": _rate(found, seeds),
        "elsewhere": _rate(elsewhere, seeds),
        "null": _rate(null_any, seeds),
        "confirmed": f"{statistics.mean(n_confirmed):.1f}",
    }


def time_search(rows: int, depth: int, repeats: int = 3) -> tuple[float, float, int, int]:
    df = planted_table(rows, 7)
    runs = [discover_slices(df, seed=7, depth=depth) for _ in range(repeats)]
    return (
        statistics.median(r.search_seconds for r in runs),
        statistics.median(r.total_seconds for r in runs),
        runs[0].n_tested,
        runs[0].n_items,
    )


def time_explanation() -> tuple[str, dict[int, tuple[float, float, float]], int, list[str]]:
    """(which model, {torch threads: (median, fastest of 7 explanations, one plain prediction)}, tokens, top)."""
    from evalcore.predict.demo_model import build_demo_model, demo_model_dir
    from evalcore.predict.models import HFPredictor
    from evalcore.probe.explain import explain

    labels = ("negative", "neutral", "positive")
    folder, which = demo_model_dir(), "the full demo model (3 epochs on the 2,000 validation tweets)"
    scratch = None
    if not (folder / "config.json").is_file():
        scratch = tempfile.mkdtemp()
        folder = build_demo_model(epochs=1, limit=256, target=Path(scratch) / "demo")
        which = "a small demo build (1 epoch on 256 validation tweets; the full demo was not built)"
    try:
        model = HFPredictor(folder, labels, name="demo", spec="demo")
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)  # the model is in memory now
    import torch

    timings = {}
    default_threads = torch.get_num_threads()
    for threads in (default_threads, 1):  # on a busy 2-core machine, two threads mostly wait for each other
        torch.set_num_threads(threads)
        explain(model, TWEET)  # warm-up: first forward pass allocates
        times = []
        for _ in range(7):
            start = time.perf_counter()
            expl = explain(model, TWEET)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.predict([TWEET])
        timings[threads] = (statistics.median(times), min(times), time.perf_counter() - start)
    torch.set_num_threads(default_threads)
    top = [f"{t.token} {t.score:+.3f}" for t in expl.top(3)]
    return which, timings, len(expl.tokens), [expl.predicted, *top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    discover_slices(planted_table(1000, 0))  # imports and BLAS warm-up outside the timings

    print(f"simulation: {args.seeds} seeds per scenario, {args.rows:,} rows, planted -15 pts on {PLANTED_RULE}")
    for depth in (2, 3):
        started = time.perf_counter()
        r = simulate(args.seeds, args.rows, depth)
        print(
            f"  depth {depth}: planted found and confirmed {r['found']}; a confirmed slice away from the planted "
            f"one {r['elsewhere']}; mean confirmed slices {r['confirmed']}; null data confirm any slice "
            f"{r['null']} ({time.perf_counter() - started:.0f} s)"
        )
    for depth in (2, 3):
        search, total, tested, items = time_search(args.big, depth)
        print(
            f"search time on {args.big:,} rows, depth {depth}: {search:.2f} s to score {tested:,} conjunctions of "
            f"{items} items on the search half; {total:.2f} s with the confirmation (median of 3)"
        )
    which, timings, n_tokens, top = time_explanation()
    print(
        f"MiniLM explanation of one tweet ({n_tokens} tokens, so {n_tokens + 1} texts in one batch), {which}; "
        f"predicted {top[0]}, top pushes {', '.join(top[1:])}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores:"
    )
    for threads, (median, fastest, single) in timings.items():
        print(
            f"  {threads} torch thread(s): {median * 1000:.0f} ms median of 7 (fastest {fastest * 1000:.0f} ms); "
            f"one plain prediction {single * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
