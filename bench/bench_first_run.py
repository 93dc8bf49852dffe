"""The first ten minutes, measured in one run: demo build, CLI start-up, cached scoring.

    python bench/bench_first_run.py [--skip-demo]      (from the repo root)

Prints, with the machine's load average (2 shared cores: a busy machine is slower):
1. the demo transformer's build time from an empty EVALCORE_HOME (`python -m evalcore build-demo`,
   a subprocess, so imports count) and its accuracy on the 500 lab rows (read from its card);
2. wall time of `python -m evalcore --help`, of a fully cached `score --model demo` (the lab rows
   are in the cache after the build: no weights load) and of `python -c "import pandas"`, the
   floor of any command that reads a table; each best of 5.
Targets: build < 60 s on a quiet machine with accuracy >= 0.60; --help well under 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], env: dict, repeat: int = 1) -> tuple[float, subprocess.CompletedProcess]:
    best, proc = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        best = min(best, time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return best, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true", help="reuse ./.evalcore's demo model (no build timing)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="evalcore-bench-")) if not args.skip_demo else ROOT / ".evalcore"
    env = {**os.environ, "EVALCORE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    py = sys.executable
    print(f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    if not args.skip_demo:
        build_s, proc = timed([py, "-m", "evalcore", "build-demo"], env)
        acc = re.search(r"accuracy on the 500 lab rows \| ([0-9.]+)", proc.stdout)
        print(
            f"demo build (empty EVALCORE_HOME, imports included): {build_s:.1f} s "
            f"(target < 60 s on a quiet machine); accuracy on the 500 lab rows: "
            f"{acc.group(1) if acc else '?'} (target >= 0.60); load after: {os.getloadavg()[0]:.2f}"
        )
    help_s, _ = timed([py, "-m", "evalcore", "--help"], env, repeat=5)
    score_s, proc = timed([py, "-m", "evalcore", "score", "--data", "lab", "--model", "demo"], env, repeat=5)
    pandas_s, _ = timed([py, "-c", "import pandas"], env, repeat=5)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("demo:")), "?")
    print(f"python -m evalcore --help:              {help_s:.2f} s")
    print(f"cached `score --data lab --model demo`: {score_s:.2f} s   ({line})")
    print(f'python -c "import pandas":              {pandas_s:.2f} s')
    print(
        f"ratios: --help / import pandas = {help_s / pandas_s:.2f}; cached score / import pandas = "
        f"{score_s / pandas_s:.2f}; load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
