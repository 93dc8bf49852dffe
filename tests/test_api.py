"""The public API (`evalcore.compare`, `score`, `discover`, `explain`, `push`) on the lab's real data: the
numbers are the CLI's, the results render in a notebook with every user text escaped, errors are the
`EvalcoreError` family, and examples/lab.ipynb runs top to bottom."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import evalcore
from evalcore.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lab(shared_data: Path) -> Path:
    return shared_data / "lab" / "tweets.csv"


@pytest.fixture(scope="module")
def lab_result(lab: Path, tmp_path_factory: pytest.TempPathFactory) -> evalcore.CompareResult:
    return evalcore.compare(
        str(lab), baseline="roberta", candidate="gpt2", cache=False
    )  # precomputed columns: nothing to cache


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALCORE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "evalcore", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_import_is_cheap_and_pandas_loads_on_the_first_call() -> None:
    code = (
        "import sys, evalcore; evalcore.compare, evalcore.CompareResult; "
        "heavy = [m for m in ('pandas', 'numpy', 'torch') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_the_api_names_stay_functions_when_engine_modules_of_the_same_name_load() -> None:
    import importlib

    for name in ("compare", "score", "discover", "explain", "push", "load"):
        try:
            importlib.import_module(f"evalcore.{name}")  # a flat engine module of that name, where one exists
        except ImportError:
            pass
        assert getattr(evalcore, name) is getattr(evalcore.api, name), name


def test_compare_gives_the_lab_figures_and_the_verdict(lab_result: evalcore.CompareResult) -> None:
    r = lab_result
    assert isinstance(r.verdict, Verdict) and r.verdict.decision == "no-ship" and r.verdict.exit_code == 1
    acc = r.overall.set_index("metric").loc["accuracy"]
    assert (acc["n"], round(acc["baseline"], 3), round(acc["candidate"], 3)) == (500, 0.698, 0.398)
    for name, frame in r.tables().items():
        assert isinstance(frame, pd.DataFrame) and len(frame), name
    assert {"df_long", "df_eval", "slice_metrics", "regression_metrics", "per_class"} <= set(r.tables())
    assert r.headline().startswith("no-ship: Look at slice has_mention")
    assert "no-ship" in repr(r) and "500 rows" in repr(r)


def test_the_notebook_rendering_shows_verdict_headline_slices_and_a_chart(lab_result: evalcore.CompareResult) -> None:
    page = lab_result._repr_html_()
    assert "69.8%" in page and "39.8%" in page
    assert "<strong>Verdict:</strong> no-ship: Look at slice has_mention" in page
    assert re.search(r"<td>has_mention</td><td>207</td><td>70\.0% \[63\.5%, 75\.9%\]</td>", page)
    assert 'class="plotly-graph-div"' in page and 'id="fig-delta_per_slice"' in page
    assert "<body" not in page and ".evalcore-result table" in page  # a fragment, its CSS scoped to itself


def test_report_json_of_the_cli_is_the_api_result(
    lab: Path, lab_result: evalcore.CompareResult, evalcore_home: Path
) -> None:
    proc = cli(
        "report",
        "--data",
        str(lab),
        "--baseline",
        "roberta",
        "--candidate",
        "gpt2",
        "--format",
        "json",
        home=evalcore_home,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(json.dumps(lab_result.to_dict()))


def test_user_text_is_escaped_in_the_rendering(lab: Path, tmp_path: Path) -> None:
    hostile = tmp_path / "<img src=x onerror=alert(1)>.csv"
    shutil.copy(lab, hostile)
    slices = [{"name": "negated", "rule": "has_negation == true", "note": "<script>alert(2)</script>"}]
    r = evalcore.compare(hostile, baseline="roberta", candidate="gpt2", slices=slices, cache=False)
    page = r._repr_html_()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.csv" in page
    assert "<script>alert(2)" not in page
    assert r.slice_metrics["slice"].tolist() == ["all", "all", "negated", "negated"]


def test_gates_guardrails_and_require_gain_change_the_verdict(lab: Path) -> None:
    assert evalcore.compare(lab, baseline="gpt2", candidate="roberta").verdict.decision == "ship"
    guarded = evalcore.compare(lab, baseline="gpt2", candidate="roberta", guardrails="has_url")
    assert guarded.verdict.decision == "need more data" and "has_url" in guarded.headline()
    no_slices = evalcore.compare(lab, baseline="roberta", candidate="gpt2", gates={"slice_accuracy": "off"})
    assert no_slices.verdict.decision == "no-ship" and no_slices.gates.values["slice_accuracy"] is None
    assert "slice_accuracy" not in {g.name for g in no_slices.verdict.results}
    none = evalcore.compare(
        lab, baseline="roberta", candidate="gpt2", gates={"accuracy": None, "macro_f1": None, "slice_accuracy": None}
    )
    assert none.verdict.decision == "need more data" and "No gate is turned on" in none.headline()
    gain = evalcore.compare(lab, baseline="gpt2", candidate="roberta", require_gain=True)
    assert "accuracy_gain" in {g.name for g in gain.verdict.results}


def test_bad_input_raises_the_evalcore_family_before_any_model_runs(lab: Path) -> None:
    with pytest.raises(evalcore.ConfigError, match="accuracyy"):
        evalcore.compare(lab, baseline="hf:/no/such/model", candidate="gpt2", gates={"accuracyy": 0.01})
    with pytest.raises(evalcore.ConfigError, match="generation"):
        evalcore.compare(lab, gates={"f1": 0.02})
    with pytest.raises(evalcore.DataError):
        evalcore.compare("no-such-file.csv", baseline="a", candidate="b")
    with pytest.raises(evalcore.ConfigError, match="got int"):
        evalcore.compare(123)  # type: ignore[arg-type]
    with pytest.raises(evalcore.RuleError):
        evalcore.compare(
            lab, baseline="roberta", candidate="gpt2", slices=[{"name": "x", "rule": "no_such_column == true"}]
        )
    with pytest.raises(evalcore.ModelError, match="default models"):
        evalcore.compare(lab, baseline="roberta")  # a plain file names no default pair (`lab` does)
    with pytest.raises(evalcore.EvalcoreError):
        evalcore.compare(lab, baseline="roberta", candidate="no_such_column")


def test_cluster_col_makes_every_interval_cluster_robust_as_the_cli_does(
    lab: Path, tmp_path: Path, evalcore_home: Path
) -> None:
    frame = pd.read_csv(lab)
    frame["user"] = [f"u{i // 10}" for i in range(len(frame))]
    path = tmp_path / "grouped.csv"
    frame.to_csv(path, index=False)
    r = evalcore.compare(path, baseline="roberta", candidate="gpt2", cluster_col="user")
    assert r.changes.attrs["cluster_col"] == "user" and r.verdict.cluster_col == "user"
    proc = cli(
        "report",
        "--data",
        str(path),
        "--baseline",
        "roberta",
        "--candidate",
        "gpt2",
        "--cluster-col",
        "user",
        "--format",
        "json",
        home=evalcore_home,
    )
    assert json.loads(proc.stdout) == json.loads(json.dumps(r.to_dict()))


def test_discover_then_compare_on_the_found_slices(lab_result: evalcore.CompareResult, tmp_path: Path) -> None:
    found = evalcore.discover(lab_result, seed=0)
    assert isinstance(found.table, pd.DataFrame) and found.confirmed
    assert found.table.loc[found.table["confirmed"], "name"].tolist() == found.confirmed
    again = evalcore.compare(lab_result.analysis.data, baseline="roberta", candidate="gpt2", slices=found.slice_set())
    assert set(found.confirmed) <= set(again.regression_metrics["slice"])
    saved = found.save(tmp_path / "found.json")
    assert evalcore.compare("lab", slices=saved).analysis.slices.names() == found.confirmed  # `lab`: the default pair
    assert "confirmed worse than the rest" in found._repr_html_()
    with pytest.raises(evalcore.ConfigError, match="already set"):
        evalcore.discover(lab_result, baseline="vader")


def test_score_gives_accuracy_with_its_interval(lab: Path) -> None:
    s = evalcore.score(lab, ["roberta", "vader"])
    t = s.table.set_index("model")
    assert round(t.loc["roberta", "accuracy"], 3) == 0.698 and t.loc["roberta", "n"] == 500
    assert t.loc["roberta", "accuracy_lo"] < 0.698 < t.loc["roberta", "accuracy_hi"]
    assert t.loc["vader", "n_computed"] == 500
    assert evalcore.score(lab, "vader").table.loc[0, "n_cached"] == 500  # the second run reads the cache
    assert "roberta: accuracy 0.698 on 500 rows" in s.lines()[0]


def test_explain_a_live_candidate_and_refuse_a_precomputed_one(lab: Path, lab_result: evalcore.CompareResult) -> None:
    r = evalcore.compare(lab, baseline="roberta", candidate="vader")
    e = evalcore.explain(r, "has_negation", max_rows=20)
    assert e.explanations.n_explained == 20 and len(e.tokens) and isinstance(e.tokens, pd.DataFrame)
    assert "Explained 20 regressed rows" in e.message() and "<table>" in e._repr_html_()
    with pytest.raises(evalcore.ModelError, match="explain"):
        evalcore.explain(lab_result, "has_negation")


def test_push_writes_an_offline_wandb_run(lab_result: evalcore.CompareResult) -> None:
    pushed = evalcore.push(lab_result, mode="offline", run_name="api-test")
    assert pushed.mode == "offline" and Path(pushed.run_dir).is_dir()
    assert pushed.tables["df_eval"][0] == 500 and pushed.sync_command


def test_the_lab_notebook_runs(evalcore_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    # the kernel imports this checkout's evalcore, installed (scripts/test.sh: pip install -e) or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    path = ROOT / "examples" / "lab.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook with its outputs stripped"
    )
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    html_out = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "69.8%" in html_out and "39.8%" in html_out and "no-ship" in html_out


def test_generation_compares_answers_clustered_by_article(shared_data: Path) -> None:
    answers = shared_data / "squad" / "predictions"
    r = evalcore.compare(
        "squad",
        baseline=f"file:{answers / 'match_lstm.json'}",
        candidate=f"file:{answers / 'bert_ensemble.json'}",
        n_rows=1500,
    )
    assert r.task == "generation" and r.verdict.decision == "ship" and r.verdict.cluster_col == "title"
    em = r.overall.set_index("metric").loc["exact_match"]
    assert (round(em["baseline"], 3), round(em["candidate"], 3)) == (0.676, 0.884)
    page = r._repr_html_()
    assert "<td>exact match</td><td>67.6% [59.4%, 75.8%]</td><td>88.4% [84.6%, 92.2%]</td>" in page
    assert "<strong>Verdict:</strong> ship" in page and 'class="plotly-graph-div"' in page
    assert r.per_class.empty and "per_class" not in r.tables()
