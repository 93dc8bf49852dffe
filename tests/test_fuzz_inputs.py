"""Issue 19's bad-file families through the CLI and the upload page: 0 tracebacks, 0 hangs, 0 memory kills,
and the process playing the server stays under its memory budget.

Each family runs in one subprocess (`tests/fuzz_driver.py`) with a wall-clock limit, so a hang fails the
test and names the case it was in, and the process's peak resident memory is that of the "server" alone.
The files are small on disk (tests/bad_files.py); what they would cost once read is the attack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bad_files
import pytest

from evalcore.core.paths import shared_data_dir

DRIVER = Path(__file__).resolve().parent / "fuzz_driver.py"
BUDGET_MB = 4_000  # EVALCORE_MEMORY_MB's default: no single dataset may be estimated past it
CASE_SECONDS = 30  # one case, including a fresh dashboard session


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    return bad_files.make(tmp_path_factory.mktemp("bad") / "root")


def _run(mode: str, cases: list[dict], bad: dict[str, Path], home: Path, timeout: float) -> tuple[list[dict], int]:
    """The driver's results per case and its peak memory (MB); a hang names the case it was in."""
    root = next(iter(bad.values())).parent
    home.mkdir(parents=True, exist_ok=True)
    spec = home / f"{mode}_cases.json"
    spec.write_text(json.dumps(cases))
    env = {
        **os.environ,
        "EVALCORE_HOME": str(home),
        "MPLBACKEND": "Agg",
        "EVALCORE_DATA_ROOTS": os.pathsep.join([str(root), str(home / "work" / "uploads"), str(shared_data_dir())]),
    }
    for var in [v for v in env if v.startswith("EVALCORE_MAX_") or v == "EVALCORE_MEMORY_MB"]:
        env.pop(var)  # the defaults are what is tested
    try:
        proc = subprocess.run(
            [sys.executable, str(DRIVER), mode, str(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(DRIVER.parent.parent),
        )
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        lines = [
            json.loads(x) for x in (raw.decode() if isinstance(raw, bytes) else raw).splitlines() if x.startswith("{")
        ]
        pytest.fail(f"hang: the {mode} fuzz passed {timeout} s in case {lines[-1].get('case') if lines else '?'}")
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert proc.returncode == 0 and lines and lines[-1].get("done"), (
        f"the {mode} driver died (exit {proc.returncode}: a memory kill is -9): {proc.stderr[-3000:]}"
    )
    return [x for x in lines if "status" in x], lines[-1]["peak_mb"]


def _check(results: list[dict], peak: int, expected: set[str]) -> None:
    tracebacks = [f"{r['case']}: {r['detail']}" for r in results if r["status"] == "traceback"]
    assert not tracebacks, "\n\n".join(tracebacks)
    slow = [(r["case"], r["seconds"]) for r in results if r["seconds"] > CASE_SECONDS]
    assert not slow, slow
    assert {r["case"] for r in results} == expected
    assert peak < BUDGET_MB, f"peak resident memory {peak} MB, budget {BUDGET_MB} MB"


DATA_FILES = [
    "nested.jsonl",
    "nested.json",
    "nested_squad.json",
    "huge_int.jsonl",
    "huge_int.csv",
    "huge_id.jsonl",
    "numbers.json",
    "object.json",
    "string.json",
    "null.json",
    "dict_text.jsonl",
    "list_text.jsonl",
    "bad_squad.json",
    "squad_qas.json",
    "gold_dict.jsonl",
    "bytes_text.parquet",
    "list_text.parquet",
    "bomb.parquet",
    "wide.csv",
    "zero.csv",
    "urandom.jsonl",
    "zero.parquet",
    "devfolder",
]
REFUSED = {
    "nested.jsonl": "levels of nesting",
    "nested.json": "levels of nesting",
    "nested_squad.json": "nesting",
    "huge_int.jsonl": "5,001 digits",
    "huge_id.jsonl": "5,001 digits",
    "dict_text.jsonl": "holds a dict",
    "list_text.jsonl": "holds a list",
    "bytes_text.parquet": "not UTF-8",
    "bomb.parquet": "$EVALCORE_MAX_ROWS",
    "wide.csv": "$EVALCORE_MAX_COLUMNS",
    "zero.csv": "not a regular file",
    "urandom.jsonl": "not a regular file",
    "devfolder": "not a regular file",
    "bad_squad.json": "not found",
    "squad_qas.json": "qas",
}


def test_cli_fuzz(bad: dict[str, Path], tmp_path: Path) -> None:
    """`report` on every bad data file; `score`, `discover` and `push` too on the bomb, the wide CSV and a
    link to /dev/zero; bad predictions, answers and slices files; hf: ids that are builder names."""
    cases = [{"name": f"report {n}", "args": ["report", "--data", str(bad[n])]} for n in DATA_FILES if n in bad]
    for n in ("bomb.parquet", "wide.csv", "zero.csv"):
        for command in (["score", "--model", "vader"], ["discover"], ["push", "--mode", "offline"]):
            cases.append({"name": f"{command[0]} {n}", "args": [command[0], "--data", str(bad[n]), *command[1:]]})
    for n in ("nested_preds.jsonl", "huge_int_preds.csv", "numbers_preds.json", "preds_zero.txt"):
        if n in bad:
            cases.append({"name": f"file:{n}", "args": ["report", "--candidate", f"file:{bad[n]}"]})
    for n in ("nested_answers.json", "answers_numbers.json", "answers_urandom.json"):
        if n in bad:
            cases.append(
                {"name": f"answers {n}", "args": ["report", "--data", "squad", "--candidate", f"file:{bad[n]}"]}
            )
    for n in ("nested_slices.json", "slices_zero.json"):
        if n in bad:
            cases.append({"name": f"slices {n}", "args": ["report", "--slices", str(bad[n])]})
    for builder in ("csv", "json", "text", "parquet", "arrow"):
        cases.append({"name": f"hf:{builder}", "args": ["report", "--data", f"hf:{builder}"]})
    if "hf_folder" in bad:
        cases.append({"name": "hf folder with a link", "args": ["report", "--data", f"hf:{bad['hf_folder']}"]})
    results, peak = _run("cli", cases, bad, tmp_path / "home", timeout=300)
    _check(results, peak, {c["name"] for c in cases})
    by_case = {r["case"]: r for r in results}
    for name, fragment in REFUSED.items():
        if name in bad:
            result = by_case[f"report {name}"]
            assert result["status"] == "message" and fragment in result["detail"], (name, result)
    assert all(by_case[f"{c} bomb.parquet"]["status"] == "message" for c in ("score", "discover", "push"))
    assert all(by_case[f"hf:{b}"]["detail"].find("names a `datasets` builder") > 0 for b in ("csv", "json", "text"))


def test_upload_fuzz(bad: dict[str, Path], tmp_path: Path) -> None:
    """Every bad data file uploaded on Data & models (and loaded with the guessed mapping), device links
    typed as a folder, a predictions file and an HF folder, builder names as HF ids."""
    cases = [
        {"name": f"upload {n}", "kind": "upload", "file": n, "path": str(bad[n])}
        for n in DATA_FILES
        if n in bad and bad[n].is_file() and not bad[n].is_symlink()
    ]
    if "devfolder" in bad:
        cases.append({"name": "folder of device links", "kind": "folder", "path": str(bad["devfolder"])})
        cases.append(
            {"name": "predictions link to /dev/zero", "kind": "predictions", "path": str(bad["preds_zero.txt"])}
        )
        cases.append({"name": "hf folder with a link", "kind": "hf", "id": str(bad["hf_folder"])})
    cases.append(
        {"name": "predictions [1, 2, 3]", "kind": "predictions", "path": str(bad["numbers_preds.json"]), "upload": True}
    )
    for builder in ("csv", "json", "text"):
        cases.append({"name": f"hf:{builder}", "kind": "hf", "id": builder})
    results, peak = _run("upload", cases, bad, tmp_path / "home", timeout=420)
    _check(results, peak, {c["name"] for c in cases})
    by_case = {r["case"]: r for r in results}
    for name in ("bomb.parquet", "wide.csv", "nested.jsonl", "dict_text.jsonl", "bytes_text.parquet"):
        assert by_case[f"upload {name}"]["status"] == "message" and REFUSED[name] in by_case[f"upload {name}"]["detail"]
    for name in ("predictions link to /dev/zero", "hf folder with a link"):  # the links resolve outside the roots
        if name in by_case:
            assert "outside the data folders" in by_case[name]["detail"], by_case[name]
    if "folder of device links" in by_case:  # its splits are not regular files: none to open
        assert "has no `<split>_text.txt`" in by_case["folder of device links"]["detail"]
