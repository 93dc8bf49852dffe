"""Issue 19's bad-file families through the CLI and the upload page, in one run: cases, outcomes, the slowest
case, and the peak resident memory of the process playing the server.

Writes the files of tests/bad_files.py (nested JSON, bytes text, 5,001-digit integers, wrong JSON shapes, a
30M-row Parquet bomb, a 100,000-column CSV, links to /dev/zero and /dev/urandom), then runs the cases of
tests/test_fuzz_inputs.py through tests/fuzz_driver.py in two subprocesses (CLI, dashboard uploads).

    python bench/bench_bad_files.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import bad_files  # noqa: E402
import test_fuzz_inputs as fuzz  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        bad = bad_files.make(tmp / "root")
        print(
            f"{len(bad)} bad files written in {time.perf_counter() - start:.1f} s "
            f"(bomb.parquet {os.path.getsize(bad['bomb.parquet']) / 1e3:,.0f} KB, "
            f"wide.csv {os.path.getsize(bad['wide.csv']) / 1e3:,.0f} KB)"
        )
        for mode, test in (("cli", fuzz.test_cli_fuzz), ("upload", fuzz.test_upload_fuzz)):
            seen: dict = {}
            real_run = fuzz._run

            def spy(*args, **kwargs):
                seen["results"], seen["peak"] = real_run(*args, **kwargs)
                return seen["results"], seen["peak"]

            start = time.perf_counter()
            with mock.patch.object(fuzz, "_run", spy):
                test(bad, tmp / mode)
            wall = time.perf_counter() - start
            results = seen["results"]
            counts = {s: sum(r["status"] == s for r in results) for s in ("message", "ok", "traceback")}
            slowest = max(results, key=lambda r: r["seconds"])
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "cases": len(results),
                        **counts,
                        "wall_s": round(wall, 1),
                        "slowest": f"{slowest['case']} ({slowest['seconds']} s)",
                        "peak_rss_mb": seen["peak"],
                        "budget_mb": fuzz.BUDGET_MB,
                    }
                )
            )


if __name__ == "__main__":
    main()
