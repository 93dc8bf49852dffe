"""The engine's layers are checked, not described: `lint-imports` reads `.importlinter` (a layers contract,
exhaustive, and a no-cycle contract over every package) and fails when a module imports a layer above its
own, when two modules import each other (even through others, function-level imports included), or when a
new module is left at evalcore's top instead of in a layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> list[str]:
    script = Path(sys.executable).parent / "lint-imports"
    if script.exists():
        return [str(script)]
    found = shutil.which("lint-imports")
    if found:
        return [found]
    return [
        sys.executable,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    ]


def test_import_contracts_are_kept():
    proc = subprocess.run(
        [*_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
    assert "evalcore in layers: imports run down only KEPT" in proc.stdout
    assert "no import cycle between the modules of any evalcore package KEPT" in proc.stdout


def test_task_kind_is_an_object_not_a_string():
    """Outside the task modules (`evalcore/tasks/`), code asks the kind object (`Analysis.kind`,
    `evalcore.tasks.kinds.kind_of`) instead of testing the task's name: the lines that still compare a task name
    are the data's own declaration, registry checks and the pages choosing their generation view (issue 20: < 10)."""
    import re

    pattern = re.compile(r"task ==|task !=|== GENERATION|task in ")
    files = [
        ROOT / "app.py",
        *(
            p
            for d in ("evalcore", "pages", "ui")
            for p in (ROOT / d).rglob("*.py")
            if "tasks" not in p.relative_to(ROOT).parts[1:2]
        ),
    ]
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in files
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert len(hits) < 10, "\n".join(hits)
