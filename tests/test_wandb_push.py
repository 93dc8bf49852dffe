"""Real W&B in offline mode: push once, read the run folder back (table files and the run log).

An offline run writes each wandb.Table as `files/media/table/<name>_<step>_<hash>.table.json`
({"columns": [...], "data": [[...], ...]}) and every record (config, summary...) into
`run-<id>.wandb`, a LevelDB-style log of `wandb.proto` Record messages, read with `_records`.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pandas as pd
import pytest

from evalcore.core.errors import ConfigError
from evalcore.decide.verdict import evaluate_gates
from evalcore.io.load import load_data
from evalcore.predict.load import load_predictor
from evalcore.present.wandb_push import predictions_table, push_summary_lines, push_to_wandb, resolve_mode
from evalcore.probe.perturb import PerturbResult, get_generators, run_perturbation_tests
from evalcore.probe.stress import StressCase, StressSet, score_stress
from evalcore.tasks.pipeline import run_analysis

LABELS = ["negative", "neutral", "positive"]
FAKE_KEY = "evalcorefakekey" + "0123456789abcdef" * 2  # 47 characters, never a real key
CHARTS = (
    "accuracy_per_slice",
    "delta_per_slice",
    "rates_per_slice",
    "reliability",
    "confusion_baseline",
    "confusion_candidate",
)


@pytest.fixture(scope="module")
def lab():
    return run_analysis(load_data("lab"), "roberta", "gpt2")


@pytest.fixture(scope="module")
def extras(lab):
    """Real VADER stress and perturbation results (a stricter VADER as the second live model)."""
    strict = load_predictor("vader:0.5", LABELS)
    strict.name = "vader_strict"
    vader = load_predictor("vader", LABELS)
    stress_set = StressSet(
        "negation flips polarity",
        "has_negation",
        [
            StressCase("I love it", "positive"),
            StressCase("this is not good", "negative"),
            StressCase("meh"),
            StressCase("kind of ok I guess", "positive"),
        ],
    )
    stress = score_stress(stress_set.cases, vader, strict)
    perturb = run_perturbation_tests(
        lab.data.texts[:30], [vader, strict], get_generators(["upper_case"]), max_cases_per_generator=4
    )
    return stress_set, stress, perturb


@pytest.fixture(scope="module")
def pushed(lab, extras, tmp_path_factory):
    """One offline push shared by the tests, with a fake API key in the environment."""
    stress_set, stress, perturb = extras
    root = tmp_path_factory.mktemp("wandb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_API_KEY", FAKE_KEY)
        mp.setenv("EVALCORE_HOME", str(root / "home"))
        for var, folder in (("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config")):
            mp.setenv(var, str(root / "wandb_state" / folder))  # wandb stages table files in its data dir
        result = push_to_wandb(
            lab,
            project="evalcore-test",
            run_name="lab push",
            stress=stress,
            perturb=perturb,
            gates=evaluate_gates(lab, stress=stress),
            wandb_dir=root / "runs",
            stress_set=stress_set,
        )
    return result, root


def _tables(run_dir: Path) -> dict[str, dict]:
    out = {}
    for path in (run_dir / "files" / "media" / "table").glob("*.table.json"):
        name = re.fullmatch(r"(.+)_\d+_[0-9a-f]+\.table\.json", path.name).group(1)
        out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def _records(run_dir: Path) -> list:
    """Records of `run-<id>.wandb`: a 7-byte header, then 32 KiB blocks of chunks, each with a 7-byte
    header (crc32, little-endian length, type: 1 full, 2 first, 3 middle, 4 last)."""
    from wandb.proto import wandb_internal_pb2

    data = next(run_dir.glob("run-*.wandb")).read_bytes()
    assert data[:4] == b":W&B"
    pos, chunks, buf = 7, [], b""
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # block trailer
            pos += 32768 - pos % 32768
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (1, 2):
            buf = chunk
        elif kind in (3, 4):
            buf += chunk
        if kind in (1, 4):
            chunks.append(buf)
    records = []
    for chunk in chunks:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(chunk)
        records.append(record)
    return records


def _summary_and_config(run_dir: Path) -> tuple[dict, dict]:
    summary, config = {}, {}
    for record in _records(run_dir):
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            summary.update({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.summary.update})
        elif kind == "run":
            config.update({i.key: json.loads(i.value_json) for i in record.run.config.update})
    return summary, config


def test_offline_push_writes_every_table_with_its_columns_and_rows(pushed, lab, extras):
    result, root = pushed
    _, stress, perturb = extras
    run_dir = Path(result.run_dir)
    assert result.mode == "offline" and result.url_or_path == result.run_dir
    assert run_dir.parent == root / "runs" / "wandb" and run_dir.name.endswith(result.run_id)
    assert result.sync_command == f"wandb sync {run_dir}"
    expected = {**lab.tables(), "predictions_table": predictions_table(lab), **stress.tables(), **perturb.tables()}
    found = _tables(run_dir)
    assert (
        set(found)
        == set(result.tables)
        == set(expected)
        | {"calibration_metrics", "slices", "gates", "gate_checks", "stress_hypothesis", "metric_changes", "per_class"}
    )
    assert found["gates"]["columns"] == [
        "name",
        "metric",
        "margin",
        "status",
        "observed",
        "lo",
        "hi",
        "n",
        "rows_needed",
        "reason",
        "next_step",
    ]
    checks = found["gate_checks"]
    assert {"gate", "name", "status", "mde", "vs_rest"} <= set(checks["columns"])
    for name, frame in expected.items():
        assert found[name]["columns"] == [str(c) for c in frame.columns], name
        assert len(found[name]["data"]) == len(frame), name
        assert result.tables[name] == frame.shape
    assert result.tables["df_long"] == (1000, 31) and result.tables["df_eval"] == (500, 43)
    assert found["predictions_table"]["columns"] == [
        "id",
        "text",
        "label",
        "pred_roberta",
        "conf_roberta",
        "baseline_correct",
        "pred_gpt2",
        "conf_gpt2",
        "candidate_correct",
        "regressed",
        "improved",
        "confident_regression",
    ]
    assert (len(found["stress_long"]["data"]), len(found["stress_wide"]["data"])) == (8, 4)
    slices = found["slices"]
    assert slices["columns"] == ["name", "rule", "note", "n", "role"] and len(slices["data"]) == 10
    assert slices["data"][0][:2] == ["has_negation", "has_negation == true"] and slices["data"][0][3] == 97
    assert found["stress_hypothesis"]["data"] == [["negation flips polarity", "has_negation"]]
    # missing labels of unlabelled stress cases arrive as null, not as a crash
    wide = found["stress_wide"]
    assert wide["data"][2][wide["columns"].index("label")] is None


def test_charts_summary_and_config_are_in_the_run(pushed, lab):
    result, _ = pushed
    run_dir = Path(result.run_dir)
    charts = {
        re.sub(r"_\d+_[0-9a-f]+\.plotly\.json$", "", p.name)
        for p in (run_dir / "files" / "media" / "plotly" / "charts").glob("*.plotly.json")
    }
    assert charts == set(CHARTS)
    summary, config = _summary_and_config(run_dir)
    assert summary["baseline_accuracy"] == pytest.approx(0.698)
    assert summary["candidate_accuracy"] == pytest.approx(0.398)
    assert summary["accuracy/roberta"] == pytest.approx(0.698)
    assert summary["delta"] == pytest.approx(-0.3) and summary["delta_lo"] == pytest.approx(-0.3556, abs=1e-4)
    assert summary["regression_rate"] == pytest.approx(0.408) and summary["improvement_rate"] == pytest.approx(0.108)
    assert summary["regression_rate_lo"] == pytest.approx(0.3658, abs=1e-4) and summary["regression_rate_n"] == 500
    assert summary["confident_regression_rate"] == pytest.approx(0.382)
    assert summary["worse_than_rest_slices"] == ["has_mention"] and summary["n_worse_than_rest"] == 1
    assert summary["verdict"] == "no-ship" and summary["gates_passed"] is False
    assert summary["verdict_reason"].startswith("Look at slice has_mention: it loses 42.5 points")
    assert summary["next_step"] == summary["verdict_reason"] and summary["exit_code"] == 1
    assert summary["gate_margins"]["slice_accuracy"] == 0.05 and summary["gate_status"]["accuracy"] == "fail"
    assert summary["mde"] == pytest.approx(0.0898, abs=1e-4) and summary["slice_margin"] == 0.05
    assert (
        "has_url" in summary["too_small_slices"] and "has_url" not in summary["slice_mde"]
    )  # no test decides it: no power claimed
    harm = next(c for c in evaluate_gates(lab).slice_checks() if c.name == "has_negation")
    assert summary["slice_mde"]["has_negation"] == pytest.approx(harm.mde)  # the harm test's, not McNemar's
    assert summary["slice_status"]["has_url"] == "too small to judge"
    assert summary["verdict_counts"]["too_small"] == 3
    assert summary["macro_f1/delta"] == pytest.approx(-0.3163, abs=1e-4)
    assert summary["stress_accuracy/vader"] == pytest.approx(1.0) and summary["stress_accuracy_n/vader"] == 3
    assert config["data"]["source"] == "lab" and config["data"]["n_rows"] == 500
    assert config["baseline"]["spec"] == "roberta" and config["candidate"]["model"] == "gpt2"
    assert config["conf_threshold"] == 0.8 and config["alpha"] == 0.05 and len(config["slices"]) == 10
    assert config["gates"] == {"accuracy": 0.02, "macro_f1": 0.02, "slice_accuracy": 0.05}


def test_the_api_key_is_nowhere(pushed):
    result, root = pushed
    for path in root.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    shown = json.dumps(result.to_dict()) + "\n".join(push_summary_lines(result)) + repr(result)
    assert FAKE_KEY not in shown


def test_summary_lines_give_the_sync_command(pushed):
    result, _ = pushed
    lines = push_summary_lines(result)
    assert lines[0] == f"W&B run {result.run_id} written offline to {result.run_dir}"
    assert lines[1] == f"upload it with: wandb sync {result.run_dir}"
    assert lines[2].startswith("tables: df_long (1000x31), df_eval (500x43), ")


def test_no_run_is_left_open(pushed):
    import wandb

    assert wandb.run is None


@pytest.mark.parametrize(
    "env, explicit, expected",
    [
        ({"WANDB_MODE": "online"}, "offline", "offline"),  # the argument wins
        ({"WANDB_MODE": "offline", "WANDB_API_KEY": FAKE_KEY}, None, "offline"),
        ({"WANDB_MODE": "dryrun"}, None, "offline"),
        ({"WANDB_API_KEY": FAKE_KEY}, None, "online"),
        ({}, None, "offline"),
    ],
)
def test_mode_resolution(monkeypatch, tmp_path, env, explicit, expected):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert resolve_mode(explicit) == expected


def test_a_netrc_login_means_online(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {FAKE_KEY}\n")
    netrc.chmod(0o600)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(netrc))
    assert resolve_mode() == "online"


@pytest.mark.parametrize(
    "env, explicit, message",
    [
        ({}, "cloud", "mode 'cloud' is not allowed; use one of online, offline"),
        ({"WANDB_MODE": "disabled"}, None, "WANDB_MODE='disabled' cannot push a run"),
    ],
)
def test_bad_modes(monkeypatch, env, explicit, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        resolve_mode(explicit)
    assert message in str(info.value)


def test_online_without_a_key_says_what_to_do(lab, monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with pytest.raises(
        ConfigError, match="needs an API key: set WANDB_API_KEY or run `wandb login`; or push with mode offline"
    ):
        push_to_wandb(lab, mode="online", wandb_dir=tmp_path)


def test_online_without_network_fails_fast_and_clearly(lab, monkeypatch, tmp_path):
    import wandb

    with socket.socket() as s:  # a local port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    before = lab.results.regression_metrics.copy()
    with pytest.raises(ConfigError) as info:
        push_to_wandb(lab, mode="online", wandb_dir=tmp_path, init_timeout=3)
    message = str(info.value)
    assert message.startswith("could not start a W&B run (online, project 'evalcore')")
    assert "push with mode offline" in message and FAKE_KEY not in message
    assert wandb.run is None
    pd.testing.assert_frame_equal(lab.results.regression_metrics, before)


def test_big_tables_go_to_an_artifact_and_huge_ones_are_sampled(lab, monkeypatch, tmp_path):
    import wandb

    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb_data"))
    monkeypatch.setattr(wandb.Table, "MAX_ROWS", 600)  # W&B's own limits, lowered to fit the lab
    monkeypatch.setattr(wandb.Table, "MAX_ARTIFACT_ROWS", 900)
    result = push_to_wandb(lab, mode="offline", wandb_dir=tmp_path)  # no gates given: the default ones
    assert result.tables["gates"] == (3, 11)
    assert result.tables["df_long"] == (900, 31) and result.tables["df_eval"] == (500, 43)
    assert result.warnings == [
        "table df_long has 1000 rows, more than W&B takes; a random sample of 900 rows (seed 0) was logged",
        f"table(s) df_long exceed 600 rows and were logged in the run's artifact evalcore-tables-{result.run_id}",
    ]
    assert "df_long" not in _tables(Path(result.run_dir)) and "df_eval" in _tables(Path(result.run_dir))
    artifacts = {
        r.artifact.name: r.artifact for r in _records(Path(result.run_dir)) if r.WhichOneof("record_type") == "artifact"
    }
    big = artifacts[f"evalcore-tables-{result.run_id}"]
    assert [e.path for e in big.manifest.contents] == ["df_long.table.json"]
    staged = json.loads(Path(big.manifest.contents[0].local_path).read_text(encoding="utf-8"))
    assert len(staged["data"]) == 900
    roles = staged["columns"].index("role")
    assert {row[roles] for row in staged["data"]} == {"baseline", "candidate"}
    assert push_summary_lines(result)[-1].startswith("warning: table(s) df_long exceed 600 rows")


def test_a_failure_while_logging_closes_the_run(lab, monkeypatch, tmp_path):
    import wandb

    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb_data"))
    mixed = pd.DataFrame({"value": [1, "one"]})  # wandb.Table refuses mixed types in a column
    broken = PerturbResult(mixed, mixed, mixed)
    expected = r"failed while logging \(TypeError: table perturb_cases: .*'value'.*the run was closed"
    with pytest.raises(ConfigError, match=expected):
        push_to_wandb(lab, perturb=broken, mode="offline", wandb_dir=tmp_path)
    assert wandb.run is None
    log = next((tmp_path / "wandb").glob("offline-run-*"))
    exits = [r.exit.exit_code for r in _records(log) if r.WhichOneof("record_type") == "exit"]
    assert exits == [1]
