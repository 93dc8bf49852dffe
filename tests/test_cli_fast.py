"""The CLI imports only what a command needs: `--help` loads no pandas, numpy or torch, and a
fully cached `score` of a transformer never imports torch or transformers (no weights load)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_models import make_tiny_model

ROOT = Path(__file__).resolve().parent.parent
# Runs the CLI in-process, then reports which heavy modules it imported.
PROBE = """
import json, sys
from evalcore.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ("torch", "transformers", "pandas", "numpy", "ray", "streamlit")
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}), file=sys.stderr)
"""


def probe(*args: str, home: Path) -> dict:
    env = {**os.environ, "EVALCORE_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    out = json.loads(proc.stderr.strip().splitlines()[-1])
    assert out["code"] in (0, None), proc.stderr[-2000:]
    return {**out, "stdout": proc.stdout}


def test_help_imports_nothing_heavy(evalcore_home: Path) -> None:
    for args in (("--help",), ("score", "--help"), ("cache", "--help")):
        assert probe(*args, home=evalcore_home)["imported"] == []


def test_fully_cached_score_never_loads_the_model(evalcore_home: Path, tmp_path: Path) -> None:
    model = make_tiny_model(tmp_path / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
    args = ("score", "--data", "lab", "--n-rows", "40", "--model", f"hf:{model}")
    first = probe(*args, home=evalcore_home)
    assert "torch" in first["imported"] and "0/40 rows from cache" in first["stdout"]
    second = probe(*args, home=evalcore_home)
    assert "40/40 rows from cache" in second["stdout"]
    assert "torch" not in second["imported"] and "transformers" not in second["imported"]
    stats = probe("cache", "stats", home=evalcore_home)["stdout"]
    assert "tiny" in stats and f"hf:{model}" in stats and "s ago" in stats  # by model name, with age


def test_the_gates_written_out_for_help_are_the_registry() -> None:
    from evalcore.cli import GATE_DEFAULTS, GATE_NAMES
    from evalcore.decide.gates import DEFAULTS, GATES

    assert GATE_NAMES == tuple(GATES)
    assert GATE_DEFAULTS == "; ".join(
        f"{t}: " + ", ".join(f"{k}={v:g}" for k, v in d.items()) for t, d in DEFAULTS.items()
    )
