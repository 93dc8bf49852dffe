"""Inputs an unfriendly or careless user sends: every one gets a message, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from apptest_helpers import errors, open_page
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalcore.cli import main
from evalcore.core.paths import shared_data_dir

LAB = shared_data_dir() / "lab" / "tweets.csv"


def cli(*args: str) -> tuple[int, str, str]:
    """`python -m evalcore ...` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _predictions(tmp_path: Path, conf_cells: list[str]) -> Path:
    lab = pd.read_csv(LAB)
    path = tmp_path / "preds.csv"
    conf = lab["roberta_score"].astype(str).tolist()
    conf[: len(conf_cells)] = conf_cells
    pd.DataFrame({"pred": lab["roberta"], "conf": conf}).to_csv(path, index=False)
    return path


def test_a_blank_confidence_is_unknown_not_a_traceback(tmp_path: Path) -> None:
    path = _predictions(tmp_path, ["", " "])
    code, out, err = cli("report", "--candidate", f"file:{path}", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["overall"]["n_conf_known"] == 498  # two unknown confidences, never read as 0
    code, _, err = cli("report", "--candidate", f"file:{_predictions(tmp_path, ['high'])}")
    assert code == 2 and err.startswith("error: column `conf` of preds.csv must hold probabilities")
    assert "row 1 holds 'high'" in err and "Traceback" not in err


BAD_INPUTS = [
    ("report", "--data", "nowhere.csv"),
    ("report", "--data", "hf:"),
    ("report", "--data", str(LAB), "--label-col", "nope"),
    ("report", "--data", str(LAB), "--label-map", "0=a,0=b"),
    ("report", "--candidate", "hf:"),
    ("report", "--candidate", "vader:abc"),
    ("report", "--candidate", "file:/nonexistent.txt"),
    ("report", "--slices", "/nonexistent.json"),
    ("report", "--gate", "accuracy=-1"),
    ("report", "--gate", "slice_accuracy="),
    ("report", "--conf-threshold", "7"),
    ("report", "--alpha", "0"),
    ("report", "--min-n", "-3"),
    ("report", "--n-rows", "0"),
    ("report", "--workspace", "/nonexistent/ws.json"),
    ("score", "--model", "nosuchcolumn"),
    ("cache", "clear", "--model", "hf:"),
    ("push", "--mode", "online"),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=[" ".join(a)[:60] for a in BAD_INPUTS])
def test_bad_cli_input_is_one_message_and_exit_2(args: tuple[str, ...], monkeypatch) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent-netrc")
    code, _, err = cli(*args)
    assert code == 2, (code, err)
    assert err.startswith("error: ") and "Traceback" not in err


def test_bad_files_named_on_the_command_line(tmp_path: Path) -> None:
    broken = tmp_path / "slices.json"
    broken.write_text("{nope")
    ws = tmp_path / "ws.json"
    ws.write_text(json.dumps({"alpha": "high"}))
    for args in (("report", "--slices", str(broken)), ("report", "--workspace", str(ws))):
        code, _, err = cli(*args)
        assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(spec=st.text(max_size=30), data=st.text(max_size=30))
def test_any_spec_or_data_string_gets_a_message(spec: str, data: str) -> None:
    if spec.startswith("-") or data.startswith("-") or "\x00" in spec + data:
        return  # an option name or a NUL byte: argparse's and the OS's business
    code, _, err = cli("report", "--data", data or "lab", "--candidate", spec or "gpt2", "--n-rows", "20")
    assert code in (0, 1, 2, 3) and "Traceback" not in err, err


def test_a_300_character_upload_name_is_a_message_in_both_uploaders() -> None:
    long_name = "x" * 300 + ".csv"
    at = open_page()
    at.radio(key="dm_source").set_value("upload").run()
    at.file_uploader(key="dm_upload").set_value((long_name, b"text,label\nhi,positive\n", "text/csv")).run()
    assert not at.exception and any("not allowed for an upload" in e for e in errors(at)), errors(at)
    stress = open_page("pages/stress.py")
    stress.file_uploader[0].set_value((long_name, b"text,label\nhi,positive\n", "text/csv")).run()
    stress.button(key="stress_add_file").click().run()
    assert not stress.exception
