"""The decision history: `report` records every verdict it prints, `evalcore history` lists, shows, compares and
exports them, a rerun records nothing twice, many writers at once lose nothing, a damaged file costs no work."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evalcore.serve.history import HistoryStore, compare_runs, data_fingerprint, history_path

ROOT = Path(__file__).resolve().parent.parent
LAB = "../shared/data/lab/tweets.csv"


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALCORE_HOME": str(home), "WANDB_MODE": "offline"}
    return subprocess.run(
        [sys.executable, "-m", "evalcore", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def near_copy(tmp_path: Path, flips: int = 4) -> Path:
    """roberta's predictions with the first `flips` rows changed to gpt2's: a candidate nearly equal to the
    baseline (a `file:` predictions file, one label a line)."""
    df = pd.read_csv(ROOT / LAB)
    preds = df["roberta"].tolist()
    changed = [i for i in range(len(df)) if df["gpt2"][i] != preds[i]][:flips]
    for i in changed:
        preds[i] = df["gpt2"][i]
    path = tmp_path / "roberta_v2.txt"
    path.write_text("\n".join(preds) + "\n", encoding="utf-8")
    return path


EXIT = {0: "ship", 1: "no-ship", 3: "need more data"}


@pytest.fixture()
def three_reports(evalcore_home: Path, tmp_path: Path) -> dict[str, str]:
    """`report --verdict` three times on the lab file, baseline roberta, three candidates: candidate -> verdict
    (read from the exit status each run gave)."""
    out = {}
    for cand in ("gpt2", "vader", f"file:{near_copy(tmp_path)}"):
        proc = run(
            "report", "--data", LAB, "--baseline", "roberta", "--candidate", cand, "--verdict", home=evalcore_home
        )
        assert proc.returncode in EXIT, proc.stderr
        assert "recorded in the history as decision #" in proc.stderr
        out[cand] = EXIT[proc.returncode]
    return out


def test_three_reports_three_decisions_with_their_verdicts(three_reports, evalcore_home: Path, tmp_path: Path) -> None:
    assert list(three_reports.values()) == ["no-ship", "no-ship", "ship"]
    listing = run("history", home=evalcore_home)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].startswith("3 decisions, newest first")
    body = "\n".join(lines[2:])
    assert "roberta -> gpt2" in body and "roberta -> vader" in body and "roberta -> roberta_v2" in body
    assert "accuracy -30.0 pts [-35.6, -24.1]" in body  # the number report printed, with its interval
    # JSON: the verdict of each, its figures per slice with n and interval
    doc = json.loads(run("history", "--format", "json", home=evalcore_home).stdout)
    assert [d["decision"] for d in doc] == ["ship", "no-ship", "no-ship"]  # newest first
    by_cand = {
        d["candidate_spec"].split("/")[-1] if d["candidate_spec"].startswith("file:") else d["candidate_spec"]: d
        for d in doc
    }
    assert (
        by_cand["gpt2"]["decision"] == three_reports["gpt2"] and by_cand["vader"]["decision"] == three_reports["vader"]
    )
    assert len({d["data_fingerprint"] for d in doc}) == 1 and {d["user"] for d in doc} != {""}
    gpt2 = by_cand["gpt2"]
    assert gpt2["gates"] == {
        "accuracy": 0.02,
        "accuracy_gain": None,
        "class_recall": None,
        "confident_regression_rate": None,
        "macro_f1": 0.02,
        "slice_accuracy": 0.05,
        "stress_accuracy": None,
    }
    overall = next(f for f in gpt2["figures"] if f["slice"] == "all" and f["metric"] == "accuracy")
    assert (overall["n"], overall["baseline"], overall["candidate"]) == (500, 0.698, 0.398)
    assert overall["delta_lo"] < overall["delta"] < overall["delta_hi"] and overall["candidate_lo"] < 0.398
    mention = next(f for f in gpt2["figures"] if f["slice"] == "has_mention" and f["metric"] == "accuracy")
    assert mention["n"] == 207 and mention["status"] == "watched: HARM (fail)"
    assert round(mention["delta"] * 100, 1) == -42.5
    # CSV export: one row per decision, slice and metric
    target = tmp_path / "h.csv"
    assert run("history", "--format", "csv", "--out", str(target), home=evalcore_home).returncode == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 3 * 22 and {r["decision"] for r in rows} == {"ship", "no-ship"}
    # filters
    only = run("history", "--model", "vader", home=evalcore_home).stdout
    assert only.startswith("1 decision,") and "roberta -> vader" in only
    # two runs compared: what changed and which slices moved
    ids = {d["candidate"]: d["id"] for d in doc}
    diff = run("history", "--compare", str(ids["gpt2"]), str(ids["roberta_v2"]), home=evalcore_home).stdout
    assert "changed: candidate: gpt2 -> roberta_v2" in diff and "changed: verdict: no-ship -> ship" in diff
    assert "has_mention" in diff and "status, intervals apart" in diff


def test_a_rerun_records_nothing_twice(evalcore_home: Path) -> None:
    args = ("report", "--data", "lab", "--baseline", "roberta", "--candidate", "gpt2")
    first, second = run(*args, home=evalcore_home), run(*args, home=evalcore_home)
    assert "recorded in the history as decision #1" in first.stderr
    assert "already in the history as decision #1" in second.stderr
    # the same rows read from the file are the same data, so the same decision
    third = run("report", "--data", LAB, "--baseline", "roberta", "--candidate", "gpt2", home=evalcore_home)
    assert "already in the history as decision #1" in third.stderr
    rows = HistoryStore().decisions()
    assert len(rows) == 1 and rows["times_seen"].iloc[0] == 3
    # another gate is another decision; --no-history records nothing
    run(*args, "--gate", "accuracy=0.4", home=evalcore_home)
    run(*args, "--gate", "accuracy=0.3", "--no-history", home=evalcore_home)
    assert len(HistoryStore().decisions()) == 2


def test_data_fingerprint_is_content_not_path(shared_data: Path) -> None:
    from evalcore.io.load import load_data

    assert data_fingerprint(load_data("lab")) == data_fingerprint(load_data(str(shared_data / "lab" / "tweets.csv")))
    assert data_fingerprint(load_data("lab")) != data_fingerprint(load_data("lab", n_rows=499))


def test_data_fingerprint_keeps_its_formula() -> None:
    """The column-by-column hashing gives the fingerprint recorded decisions already carry: sha256 of the header
    and of pandas' row hashes of id, text and label as text (recorded fingerprints stay comparable)."""
    import hashlib
    import json

    import pandas as pd

    from evalcore.io.load import load_data

    data = load_data("lab")
    cols = ["id", "text", "label"]
    h = hashlib.sha256(
        json.dumps(
            {"task": "classification", "labels": list(data.labels), "columns": cols, "rows": len(data.df)}
        ).encode()
    )
    h.update(pd.util.hash_pandas_object(data.df[cols].astype(str), index=False).to_numpy().tobytes())
    assert data_fingerprint(data) == h.hexdigest()


def _record_many(args: tuple[str, str, int]) -> list[int]:
    home, worker, n = args
    os.environ["EVALCORE_HOME"] = home
    rec = json.loads(Path(home, "record.json").read_text())
    out = []
    for i in range(n):
        done = HistoryStore().record({**rec, "key": f"w{worker}-{i}"})
        assert done.id is not None and done.warning is None, done.warning
        out.append(done.id)
        out.append(HistoryStore().record({**rec, "key": "shared"}).id)  # every worker records one same decision
    return out


def _lab_record() -> dict:
    from evalcore.decide.gates import GateConfig
    from evalcore.decide.verdict import decide
    from evalcore.io.load import load_data
    from evalcore.serve.history import decision_record
    from evalcore.tasks.pipeline import run_analysis

    analysis = run_analysis(load_data("lab"), "roberta", "gpt2")
    config = GateConfig()
    return decision_record(analysis, decide(analysis, config), config, user="tester", origin="cli")


def test_many_writers_at_once_lose_nothing(evalcore_home: Path) -> None:
    evalcore_home.mkdir(parents=True, exist_ok=True)
    (evalcore_home / "record.json").write_text(json.dumps(_lab_record()))
    workers, each = 6, 8
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        ids = pool.map(_record_many, [(str(evalcore_home), w, each) for w in range(workers)])
    store = HistoryStore()
    rows = store.decisions()
    assert len(rows) == workers * each + 1  # every distinct decision once, the shared one once
    shared = rows[rows["key"] == "shared"].iloc[0]
    assert shared["times_seen"] == workers * each
    assert len(store.figures()) == len(rows) * 22  # no decision without its figures
    import sqlite3

    with sqlite3.connect(history_path()) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len({i for part in ids for i in part}) == workers * each + 1


def test_a_damaged_history_loses_no_work(evalcore_home: Path) -> None:
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    listing = run("history", home=evalcore_home)
    assert listing.returncode == 2 and "Traceback" not in listing.stderr
    assert "is not a readable history database" in listing.stderr and "move it aside" in listing.stderr
    assert path.read_bytes() == junk  # reading never moves or rewrites it
    report = run(
        "report", "--data", "lab", "--baseline", "roberta", "--candidate", "gpt2", "--verdict", home=evalcore_home
    )
    assert report.returncode == 1 and "verdict: no-ship" in report.stdout and "Traceback" not in report.stderr
    assert "was damaged" in report.stderr and "a new history was started" in report.stderr
    kept = [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == junk  # the damaged file is kept, byte for byte
    assert len(HistoryStore().decisions()) == 1


def test_compare_refuses_two_datasets(evalcore_home: Path) -> None:
    from evalcore.core.errors import EvalcoreError

    run("report", "--data", "lab", "--baseline", "roberta", "--candidate", "gpt2", home=evalcore_home)
    run(
        "report", "--data", "lab", "--n-rows", "400", "--baseline", "roberta", "--candidate", "gpt2", home=evalcore_home
    )
    with pytest.raises(EvalcoreError, match="different data"):
        compare_runs(HistoryStore(), 1, 2)
    proc = run("history", "--compare", "1", "2", home=evalcore_home)
    assert proc.returncode == 2 and "pick two decisions on the same data" in proc.stderr
    assert run("history", "--show", "9", home=evalcore_home).stderr.startswith("error: no decision #9")


def test_outputs_digest_bytes_are_those_of_the_text_array() -> None:
    """Predicted labels are hashed as `astype(str)` bytes; converting each distinct label once gives the same."""
    import numpy as np

    from evalcore.serve.history import _text_bytes

    for a in (
        np.array(["negative", "positive", "neutral"] * 400, dtype=object),
        np.array(["", ""], dtype=object),
        np.array([], dtype=object),
        np.array(["x", None], dtype=object),
        np.array([1, "a"], dtype=object),
        np.array(["négatif", "pos"], dtype=object),
    ):
        assert _text_bytes(a) == a.astype(str).tobytes()
