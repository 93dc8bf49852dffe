"""Ray Data against the local engine, in one run: scoring (default), or `report --ray` on millions of rows.

    python bench/bench_ray.py [--n 2000] [--model demo] [--shards 4]      (from the repo root)
    python bench/bench_ray.py --report                        # 10,000,000 rows; equality checked on 1,000,000
    python bench/bench_ray.py --report --rows 2000000 --check-rows 1000000 --shard-rows 500000   # quicker

`--report` writes `--rows` synthetic rows as Parquet shards of `--shard-rows` (TweetEval test tweets drawn with
replacement, gold labels and two models' prediction columns with confidences: `bench_million.write_parquet`, one
seed per shard, ids made unique), starts a local Ray cluster with every core, then runs the CLI as a user would:
(c) the local `report --format json` on the first `--check-rows` rows (one file) and (d) `report --ray` on the same
rows (their shards), and checks the two JSON reports are equal (verdict, every overall, slice, class and change
number); (e) `report --ray` over every row. It prints wall times, rows/s, the peak memory of the CLI's process
(the driver) and of the Ray cluster's processes (sum over workers, raylet and GCS, sampled every 0.2 s), and whether
driver + cluster stayed within the machine's memory.

The scoring bench:

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
    parser.add_argument("--report", action="store_true", help="bench `report --ray` instead of scoring")
    parser.add_argument("--rows", type=int, default=10_000_000, help="--report: rows in all (default 10,000,000)")
    parser.add_argument("--check-rows", type=int, default=1_000_000, help="--report: rows compared with local")
    parser.add_argument("--shard-rows", type=int, default=500_000, help="--report: rows per Parquet shard")
    parser.add_argument("--dir", default=None, help="--report: folder for the shards (kept; reused when complete)")
    args = parser.parse_args()
    if args.report:
        bench_report(args)
        return

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


def write_shards(folder: Path, rows: int, shard_rows: int) -> list[Path]:
    """`rows` rows as shards of `shard_rows` (bench_million's builder, one seed per shard, unique ids); shards
    already there with the right row count are kept."""
    import pandas as pd
    import pyarrow.parquet as pq

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_million import write_parquet

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, start in enumerate(range(0, rows, shard_rows)):
        n = min(shard_rows, rows - start)
        path = folder / f"part-{i:04d}.parquet"
        if not (path.is_file() and pq.ParquetFile(path).metadata.num_rows == n):
            write_parquet(path, n, seed=i)
            df = pd.read_parquet(path)
            df["id"] = (start + df.index.to_numpy()).astype(str)
            df.to_parquet(path, index=False)
        paths.append(path)
    return paths


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants (0 once it has gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_cli(args: list[str], cluster_pids: list[int]) -> tuple[float, str, int, int]:
    """Run `python -m evalcore ARGS`; (seconds, stdout, peak driver bytes, peak cluster bytes)."""
    import subprocess
    import threading

    root = Path(__file__).resolve().parent.parent
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalcore", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = {"driver": 0, "cluster": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["driver"] = max(peak["driver"], _tree_rss(proc.pid))
            peak["cluster"] = max(peak["cluster"], sum(_tree_rss(p) for p in cluster_pids))
            done.wait(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"evalcore {' '.join(args)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return seconds, out, peak["driver"], peak["cluster"]


def bench_report(args: argparse.Namespace) -> None:
    import json

    import pandas as pd
    import psutil
    import ray

    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="evalcore-bench-ray-report-"))
    t = time.perf_counter()
    shards = write_shards(folder / "shards", args.rows, args.shard_rows)
    print(
        f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB, load average before: "
        f"{os.getloadavg()[0]:.2f}; {args.rows:,} rows in {len(shards)} Parquet shards of {args.shard_rows:,} under "
        f"{folder} ({time.perf_counter() - t:.0f} s to write or check)"
    )
    k = max(1, -(-min(args.check_rows, args.rows) // args.shard_rows))
    check = folder / f"check-{k}"
    if not check.is_dir():
        check.mkdir()
        for s in shards[:k]:
            (check / s.name).symlink_to(s)
    single = folder / f"check-{k}.parquet"
    if not single.is_file():
        pd.concat([pd.read_parquet(s) for s in shards[:k]], ignore_index=True).to_parquet(single, index=False)
    n_check = sum(min(args.shard_rows, args.rows - i * args.shard_rows) for i in range(k))
    env_home = Path(tempfile.mkdtemp(prefix="evalcore-bench-home-"))
    os.environ["EVALCORE_HOME"] = str(env_home)
    models = ["--baseline", "baseline_model", "--candidate", "candidate_model", "--no-history", "--format", "json"]
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        address = ray.get_runtime_context().gcs_address
        cluster = [p.pid for p in psutil.Process().children(recursive=False)]  # gcs, raylet and under it the workers
        gib = 2**30
        local_s, local, local_peak, _ = run_cli(["report", "--data", str(single), *models], [])
        print(
            f"(c) local report, {n_check:,} rows: {local_s:7.1f} s  {n_check / local_s:10,.0f} rows/s  "
            f"peak {local_peak / gib:.2f} GiB"
        )
        ray_args = ["report", "--ray", "--address", address, *models]
        sub_s, remote, d_peak, c_peak = run_cli([*ray_args, "--data", str(check)], cluster)
        same = json.loads(remote) == json.loads(local)
        print(
            f"(d) report --ray, same rows: {sub_s:7.1f} s  {n_check / sub_s:10,.0f} rows/s  driver peak "
            f"{d_peak / gib:.2f} GiB, cluster peak {c_peak / gib:.2f} GiB; equal to (c): {same}"
        )
        all_s, _, d_peak, c_peak = run_cli([*ray_args, "--data", str(folder / "shards")], cluster)
        total = psutil.virtual_memory().total
        print(
            f"(e) report --ray, {args.rows:,} rows: {all_s:7.1f} s  {args.rows / all_s:10,.0f} rows/s  driver peak "
            f"{d_peak / gib:.2f} GiB, cluster peak {c_peak / gib:.2f} GiB (sum over workers, raylet, GCS); "
            f"driver + cluster {(d_peak + c_peak) / gib:.2f} GiB of the machine's {total / gib:.1f} GiB: "
            f"{'within' if d_peak + c_peak < total else 'OVER'}"
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if not same:
            raise SystemExit("report --ray differs from the local report on the same rows")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
