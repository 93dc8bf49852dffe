"""Time every built-in feature on N rows (the 12,284 TweetEval test tweets, repeated).

Compares `compute_features` (pyarrow string kernels) with the same features run row by row
through Python's `re` (an object-dtype Series makes pandas loop in Python), and prints the ratio.
The row-by-row side runs on a smaller sample and is scaled linearly, said as such; it skips the
features derived from others (emoji_density, emoji_dense, length_bucket), which a loop would get
from the same pass, so the ratio is not inflated by recomputation.

    python bench/bench_features.py [--rows 100000] [--loop-rows 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from evalcore.analyze.features import as_texts, compute_features, list_features
from evalcore.core.paths import shared_data_dir

DERIVED = {"emoji_density", "emoji_dense", "length_bucket"}


def tweets(n: int) -> pd.Series:
    path = shared_data_dir() / "tweet_eval" / "sentiment" / "test_text.txt"
    lines = path.read_text(encoding="utf-8").split("\n")[:12284]
    return pd.Series((lines * (n // len(lines) + 1))[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--loop-rows", type=int, default=10_000)
    args = parser.parse_args()

    texts = tweets(args.rows)
    compute_features(texts.head(100))  # build the lazy patterns (emoji, VADER) outside the timing
    start = time.perf_counter()
    table = compute_features(texts)
    ours = time.perf_counter() - start
    print(f"compute_features: {len(table.columns)} features x {len(texts):,} rows in {ours:.2f} s")

    sample = pd.Series(as_texts(texts.head(args.loop_rows)).tolist(), dtype=object)
    per_feature = {}
    for feature in list_features():
        if feature.name in DERIVED:
            continue
        start = time.perf_counter()
        feature.fn(sample)
        per_feature[feature.name] = time.perf_counter() - start
    loop = sum(per_feature.values()) * len(texts) / len(sample)
    slowest = sorted(per_feature.items(), key=lambda kv: -kv[1])[:3]
    print(
        f"row-by-row Python re: {sum(per_feature.values()):.2f} s on {len(sample):,} rows, "
        f"scaled to {len(texts):,}: {loop:.1f} s (slowest: " + ", ".join(f"{k} {v:.2f} s" for k, v in slowest) + ")"
    )
    print(f"ratio row-by-row / vectorised: {loop / ours:.0f}x")


if __name__ == "__main__":
    main()
