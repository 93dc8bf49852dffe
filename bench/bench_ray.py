"""Ray Data scoring against local scoring, on the same texts and model, in one run.

    python bench/bench_ray.py [--n 2000] [--model demo] [--shards 4]      (from the repo root)

Writes the first `--n` TweetEval test tweets as Parquet shards, then, each with an empty
prediction cache: (a) local `score` (`evalcore.predict.scoring.score_texts`); (b) `score --ray` on a local
Ray cluster started here with every core (`ray_score_source`: read the shards, model actors, Parquet
out, cache in). Prints texts/s of both (b's time includes reading, writing and the cache ingest,
not the cluster's start) and checks that the outputs agree: the same predictions for every row and
probabilities within 1e-5. On 2 cores Ray cannot be faster (one core is left to its read and
write tasks): the point is the same numbers on a path that scales past one machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import ray

    from evalcore.io.load import load_data
    from evalcore.predict.cache import PredictionCache
    from evalcore.predict.load import load_predictor
    from evalcore.predict.ray_scoring import ray_score_source
    from evalcore.predict.scoring import score

    scratch = Path(tempfile.mkdtemp(prefix="evalcore-bench-ray-"))
    data = load_data("tweeteval:test", n_rows=args.n)
    shards = scratch / "shards"
    shards.mkdir()
    frame = data.df[["id", "text", "label"]]
    for i, part in enumerate(np.array_split(np.arange(len(frame)), args.shards)):
        frame.iloc[part].to_parquet(shards / f"part-{i:03d}.parquet", index=False)
    print(
        f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}; "
        f"{len(data)} TweetEval test tweets in {args.shards} Parquet shards; model {args.model}"
    )

    predictor = load_predictor(args.model, data.labels)  # builds the demo first if needed
    with PredictionCache(scratch / "local.sqlite") as cache:
        t = time.perf_counter()
        local = score(data, predictor, cache)
        local_s = time.perf_counter() - t

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        with PredictionCache(scratch / "ray.sqlite") as cache:
            t = time.perf_counter()
            result = ray_score_source(str(shards), args.model, labels=data.labels, cache=cache, out_dir=scratch / "out")
            ray_s = time.perf_counter() - t
    finally:
        ray.shutdown()
    out = pd.read_parquet(scratch / "out").set_index("id").loc[data.df["id"]]
    probs = out[[f"prob_{lab}" for lab in data.labels]].to_numpy()
    same_pred = bool((out["pred"].to_numpy() == local.pred).all())
    max_diff = float(np.abs(probs - local.probs).max())
    print(
        f"(a) local score:  {local_s:6.1f} s  {len(data) / local_s:7.1f} texts/s  accuracy "
        f"{local.accuracy(data.df['label']):.3f}"
    )
    print(
        f"(b) score --ray:  {ray_s:6.1f} s  {len(data) / ray_s:7.1f} texts/s  accuracy "
        f"{result.accuracy:.3f}  ({result.summary})"
    )
    print(
        f"b/a throughput: {local_s / ray_s:.2f}; outputs equal: predictions {same_pred}, "
        f"max |prob difference| {max_diff:.1e}; load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
