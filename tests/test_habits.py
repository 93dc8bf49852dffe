"""The code habits CI keeps (README, "Checks"): lint, format, types and the API reference, each run as the
developer would run it, with its configuration read from pyproject.toml. A failure prints the tool's own
output, so the fix is one command away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Files kept in `ruff format` style. The rest of the tree is formatted in one commit of its own (so that no
# branch in flight has to merge a reformatted file); then this list becomes the whole tree.
FORMATTED = ["."]  # the whole tree is formatted


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def check(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, (
        f"{' '.join(map(str, proc.args[2:]))} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    )


def test_ruff_lint_passes() -> None:
    check(run("ruff", "check", "."))


def test_ruff_format_keeps_the_formatted_files() -> None:
    check(run("ruff", "format", "--check", *FORMATTED))


def test_mypy_passes_on_the_api_and_the_engine() -> None:
    proc = run("mypy")  # files and strictness: [tool.mypy] in pyproject.toml
    check(proc)
    assert "Success" in proc.stdout


def test_the_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "api"
    proc = run("pdoc", "-o", str(out), "evalcore", "evalcore.api")  # the README's command
    check(proc)
    assert "Warn" not in proc.stderr, proc.stderr
    page = (out / "evalcore" / "api.html").read_text(encoding="utf-8")
    for name in ("compare", "score", "discover", "explain", "push", "CompareResult"):
        assert f'id="{name}"' in page, name
