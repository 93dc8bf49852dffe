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
    return [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                                  "sys.exit(lint_imports_command())"]


def test_import_contracts_are_kept():
    proc = subprocess.run([*_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
    assert "evalcore in layers: imports run down only KEPT" in proc.stdout
    assert "no import cycle between the modules of any evalcore package KEPT" in proc.stdout
