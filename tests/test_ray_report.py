"""`report --ray` for real: a local Ray cluster (2 CPUs) started here, 3,000 rows of TweetEval test tweets drawn with
replacement in 4 Parquet shards with two models' prediction columns (the lab file's layout), and the CLI's output
compared with the local `report` on the same rows in one file: the verdict and every per-slice number are equal.
`discover --ray` refuses, naming the route that works: discover locally, then `report --ray --slices`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalcore.cli import main
from evalcore.core.paths import shared_data_dir

ray = pytest.importorskip("ray")
N, SHARDS = 3000, 4
LABELS = np.array(["negative", "neutral", "positive"], dtype=object)
MODELS = ["--baseline", "base_model", "--candidate", "cand_model", "--no-history"]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same rows as one Parquet file (the local report) and as 4 shards (`--ray`)."""
    root = tmp_path_factory.mktemp("ray_report")
    folder = shared_data_dir() / "tweet_eval" / "sentiment"
    texts = np.array((folder / "test_text.txt").read_text(encoding="utf-8").splitlines(), dtype=object)
    gold_ids = np.array((folder / "test_labels.txt").read_text().split(), dtype=int)
    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(texts), N)
    gold = gold_ids[idx]

    def model(acc: float) -> tuple[np.ndarray, np.ndarray]:
        right = rng.random(N) < acc
        conf = np.round(rng.uniform(0.34, 1, N), 3)
        conf[rng.random(N) < 0.05] = np.nan  # some confidences unknown
        return LABELS[np.where(right, gold, (gold + rng.integers(1, 3, N)) % 3)], conf

    (base, base_conf), (cand, cand_conf) = model(0.72), model(0.69)
    df = pd.DataFrame(
        {
            "id": np.arange(N).astype(str),
            "text": texts[idx],
            "label": LABELS[gold],
            "base_model": base,
            "base_model_score": base_conf,
            "cand_model": cand,
            "cand_model_score": cand_conf,
        }
    )
    df.to_parquet(root / "all.parquet", index=False)
    (root / "shards").mkdir()
    for i, part in enumerate(np.array_split(np.arange(N), SHARDS)):
        df.iloc[part].to_parquet(root / "shards" / f"part-{i}.parquet", index=False)
    return {"all": root / "all.parquet", "shards": root / "shards", "root": root}


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_report_ray_equals_local(data, capsys, monkeypatch, tmp_path):
    """The CLI's table (verdict with a guardrail, exit status) and the result's JSON (`report --format json` prints
    `to_dict()`: overall, every slice, class and change row, the verdict) equal the local ones."""
    from evalcore.api import compare, compare_on_ray

    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path))
    gates = ["--guardrail", "has_hashtag", "--verdict"]
    code, local, _ = run(capsys, "report", "--data", str(data["all"]), *MODELS, *gates)
    code_ray, remote, err = run(capsys, "report", "--ray", "--data", str(data["shards"]), *MODELS, *gates)
    assert (code_ray, remote.splitlines()[1:]) == (code, local.splitlines()[1:]), err
    assert local.splitlines()[0] == "data: all.parquet (3,000 rows)"
    assert remote.splitlines()[0] == "data: shards (3,000 rows)"
    assert "has_hashtag" in local and "verdict:" in local
    here = compare(str(data["all"]), "base_model", "cand_model", cache=False)
    there = compare_on_ray(str(data["shards"]), "base_model", "cand_model")
    assert json.dumps(there.to_dict()) == json.dumps(here.to_dict())
    # calibration is the one table computed from float sums: equal up to the order of additions
    calibration = there.analysis.results.calibration
    pd.testing.assert_frame_equal(calibration, here.analysis.results.calibration, check_exact=False, rtol=1e-9)
    assert (calibration["n_with_conf"] < calibration["n"]).all()  # unknown confidences left out on both paths


def test_discovered_slices_on_ray(data, capsys, monkeypatch, tmp_path):
    """`discover --ray` refuses and names the route; that route (discover here, `report --ray --slices`) gives the
    local numbers, and so do hand-written rules on a feature and the label, and on a model's output."""
    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path))
    code, _, err = run(capsys, "discover", "--ray", "--data", str(data["shards"]), *MODELS[:-1])
    assert code == 2 and "report --ray --slices" in err
    found = tmp_path / "found.json"
    code, _, _ = run(
        capsys,
        "discover",
        "--data",
        str(data["all"]),
        *MODELS[:-1],
        "--depth",
        "1",
        "--min-support",
        "20",
        "--out",
        str(found),
    )
    assert code == 0 and found.is_file()
    rules = [
        *json.loads(found.read_text())["slices"],
        {"name": "neg_hashtag", "rule": 'label == "negative" and has_hashtag == true'},
        {"name": "cand_sure", "rule": "conf_cand_model >= 0.9"},  # model-defined: shown, never gating
    ]
    found.write_text(json.dumps({"version": 1, "slices": rules}))
    args = ["--slices", str(found), "--format", "json"]
    _, local, _ = run(capsys, "report", "--data", str(data["all"]), *MODELS, *args)
    _, remote, err = run(capsys, "report", "--ray", "--data", str(data["shards"]), *MODELS, *args)
    assert json.loads(remote) == json.loads(local), err
    assert "cand_sure" in local


def test_lab_file_and_default_models(capsys, monkeypatch, tmp_path):
    """The lab's tweets (its own default models, roberta and gpt2) on Ray: the local report's numbers."""
    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path))
    _, local, err = run(capsys, "report", "--format", "json", "--data", "lab", "--no-history")
    assert local, err
    _, remote, err = run(capsys, "report", "--format", "json", "--ray", "--data", "lab", "--no-history")
    assert remote, err
    assert json.loads(remote) == json.loads(local)


def test_default_slices_no_row_matches(data, capsys, monkeypatch, tmp_path):
    """Default slices no row matches are left out from the counted sizes, with the local note."""
    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path))
    df = pd.read_parquet(data["all"])
    df = df[~df["text"].str.contains("#|http", regex=True)].reset_index(drop=True)
    df.to_parquet(tmp_path / "plain.parquet", index=False)
    (tmp_path / "plain").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(df)), 2)):
        df.iloc[part].to_parquet(tmp_path / "plain" / f"part-{i}.parquet", index=False)
    args = [*MODELS, "--format", "json"]
    _, local, local_err = run(capsys, "report", "--data", str(tmp_path / "plain.parquet"), *args)
    _, remote, err = run(capsys, "report", "--ray", "--data", str(tmp_path / "plain"), *args)
    assert remote, err
    assert json.loads(remote) == json.loads(local)
    note = "warning: default slices left out because no row of this data matches them: has_hashtag, has_url"
    assert note in local_err and note in err


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--cluster-col", "label"], "--cluster-col does not apply with --ray"),
        (["--out", "tables"], "--out does not apply with --ray"),
        (["--baseline", "vader", "--candidate", "cand_model", "--no-history"], "Score live models first"),
    ],
)
def test_refused_with_the_fix(data, capsys, monkeypatch, tmp_path, extra, says):
    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path))
    models = [] if "--baseline" in extra else MODELS
    code, _, err = run(capsys, "report", "--ray", "--data", str(data["shards"]), *models, *extra)
    assert code == 2 and says in err
