"""`score --ray` for real: a local Ray cluster (2 CPUs) started here, the CLI run as a user would
(a subprocess connecting with --address), VADER and a small real transformer, Parquet and CSV
shards; outputs compared with local scoring, resume from an interrupted run's Parquet files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_models import make_tiny_model

from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.predict.scoring import score_texts

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parent.parent
N, SHARDS = 120, 3


@pytest.fixture(scope="module")
def cluster():
    """A real local Ray cluster for the module; the CLI joins it through --address."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The first 120 lab rows as 3 Parquet shards, 3 CSV shards and one Parquet file, plus a tiny model."""
    root = tmp_path_factory.mktemp("ray_data")
    df = load_data("lab").df[["id", "text", "label"]].head(N)
    for kind in ("parquet", "csv"):
        (root / kind).mkdir()
        for i in range(SHARDS):
            part = df.iloc[i * N // SHARDS : (i + 1) * N // SHARDS]
            path = root / kind / f"part-{i}.{kind}"
            part.to_parquet(path, index=False) if kind == "parquet" else part.to_csv(path, index=False)
    df.to_parquet(root / "all.parquet", index=False)
    tiny = make_tiny_model(root / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
    return {
        "root": root,
        "parquet": root / "parquet",
        "csv": root / "csv",
        "all": root / "all.parquet",
        "tiny": tiny,
        "df": df,
    }


def cli(*args: str, home: Path, address: str | None = None) -> subprocess.CompletedProcess:
    extra = ["--address", address] if address else []
    env = {**os.environ, "EVALCORE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "evalcore", "score", *args, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def lines(proc: subprocess.CompletedProcess) -> dict[str, str]:
    """`model: accuracy ... rows from cache` lines by model name."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {m.group(1): m.group(0) for m in re.finditer(r"^(\S+): accuracy .*$", proc.stdout, re.M)}


def out_dir(proc: subprocess.CompletedProcess, model: str) -> Path:
    found = re.findall(r"^  predictions: (\S+) \(Parquet", proc.stdout, re.M)
    return Path(next(p for p in found if f"-{model}-" in p))


def test_ray_scoring_reports_the_numbers_of_local_scoring_and_fills_the_cache(cluster, data, evalcore_home) -> None:
    models = ["vader", f"hf:{data['tiny']}"]
    args = [a for m in models for a in ("--model", m)]
    first = cli("--ray", "--data", str(data["parquet"]), *args, home=evalcore_home, address=cluster)
    ray_lines = lines(first)
    assert ray_lines["vader"].endswith(f"0/{N} rows from cache") and ray_lines["tiny"].endswith(
        f"0/{N} rows from cache"
    )
    local = lines(cli("--data", str(data["all"]), *args, home=evalcore_home))  # local run, same cache
    for name in ("vader", "tiny"):  # same accuracy, and every row already cached by the Ray run
        assert local[name] == ray_lines[name].replace(f"0/{N} rows from cache", f"{N}/{N} rows from cache")
    df = data["df"]
    for spec, name in zip(models, ("vader", "tiny")):
        written = pd.read_parquet(out_dir(first, name)).sort_values("id", key=lambda s: s.astype(int))
        assert list(written["id"]) == list(df["id"]) and not written["computed"].eq(False).any()
        fresh = score_texts(df["text"].tolist(), load_predictor(spec, ("negative", "neutral", "positive")))
        np.testing.assert_array_equal(written["pred"].to_numpy(), fresh.pred)
        probs = written[["prob_negative", "prob_neutral", "prob_positive"]].to_numpy()
        np.testing.assert_allclose(probs, fresh.probs, atol=1e-5)
    again = lines(cli("--ray", "--data", str(data["parquet"]), *args, home=evalcore_home, address=cluster))
    assert again["tiny"].endswith(f"{N}/{N} rows from cache")  # nothing reached the model


def test_rerun_resumes_from_an_interrupted_runs_parquet(cluster, data, evalcore_home, tmp_path) -> None:
    """A run whose driver died before reading its output back left Parquet files only (simulated
    by `--no-cache` over the first two shards); the next run reads them into the cache first and
    the model scores only the third shard's rows."""
    out, partial = tmp_path / "out", tmp_path / "partial"
    partial.mkdir()
    for p in sorted(data["parquet"].iterdir())[:2]:
        (partial / p.name).write_bytes(p.read_bytes())
    done = N * 2 // SHARDS
    cut = cli(
        "--ray",
        "--no-cache",
        "--data",
        str(partial),
        "--model",
        "vader",
        "--out",
        str(out),
        home=evalcore_home,
        address=cluster,
    )
    assert lines(cut)["vader"].endswith(f"0/{done} rows from cache")
    resumed = cli(
        "--ray",
        "--data",
        str(data["parquet"]),
        "--model",
        "vader",
        "--out",
        str(out),
        home=evalcore_home,
        address=cluster,
    )
    assert f"resumed: {done} predictions" in resumed.stdout
    assert lines(resumed)["vader"].endswith(f"{done}/{N} rows from cache")
    written = pd.read_parquet(out)
    assert len(written) == N and written["computed"].sum() == N - done  # the folder is whole again


def test_a_bad_shard_fails_with_one_line_and_the_fixed_rerun_completes(cluster, data, evalcore_home, tmp_path) -> None:
    shards = tmp_path / "csv"
    shards.mkdir()
    for p in sorted(data["csv"].iterdir()):
        (shards / p.name).write_bytes(p.read_bytes())
    bad = shards / "part-2.csv"
    good = bad.read_text(encoding="utf-8")
    frame = pd.read_csv(bad)
    frame.loc[3, "label"] = "meh"
    frame.to_csv(bad, index=False)
    failed = cli(
        "--ray",
        "--data",
        str(shards),
        "--model",
        "vader",
        "--labels",
        "negative,neutral,positive",
        home=evalcore_home,
        address=cluster,
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    error = [ln for ln in failed.stderr.splitlines() if ln.startswith("error:")]
    assert len(error) == 1 and "unknown label 'meh'" in error[0] and "resumes" in error[0]
    bad.write_text(good, encoding="utf-8")
    fixed = cli("--ray", "--data", str(shards), "--model", "vader", home=evalcore_home, address=cluster)
    match = re.search(r"resumed: (\d+) predictions", fixed.stdout)
    resumed = int(match.group(1)) if match else 0  # whatever the failed run had written
    assert lines(fixed)["vader"].endswith(f"{resumed}/{N} rows from cache")
    local = score_texts(data["df"]["text"].tolist(), load_predictor("vader", ("negative", "neutral", "positive")))
    assert f"accuracy {local.accuracy(data['df']['label']):.3f} on {N} rows" in lines(fixed)["vader"]
