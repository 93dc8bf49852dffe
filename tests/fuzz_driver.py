"""Run bad inputs through the CLI or the dashboard's upload page in this process, one case after another,
and print one JSON line per case and a last line with this process's peak memory.

`python tests/fuzz_driver.py cli|upload CASES.json`; tests/test_fuzz_inputs.py runs it in a subprocess
with a wall-clock limit (a hang fails the test and names the case that was running) and reads the peak
resident memory of this process, which plays the server. A case's status:

- `message`: refused with a readable message (CLI: exit 2 and `error: ...`; page: `st.error`);
- `ok`: accepted (CLI exit 0/1/3; page: no error);
- `traceback`: any other exception (the bug this hunts).
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB


def run_cli(args: list[str]) -> dict:
    from evalcore.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    except BaseException:  # noqa: BLE001 - the point is to catch everything
        return {"status": "traceback", "detail": traceback.format_exc()[-2000:]}
    text = err.getvalue()
    if "Traceback" in text or code not in (0, 1, 2, 3):
        return {"status": "traceback", "detail": text[-2000:]}
    if code == 2:
        return {"status": "message" if text.startswith("error: ") else "traceback", "detail": text.strip()[:600]}
    return {"status": "ok", "detail": out.getvalue()[:200]}


def run_upload(case: dict) -> dict:
    """One dashboard session (a fresh AppTest, as a new visitor) doing what `case` says."""
    from apptest_helpers import errors, open_page

    at = open_page()
    kind = case["kind"]
    at.radio(key="dm_source").set_value({"upload": "upload", "folder": "folder", "hf": "hf"}.get(kind, "lab")).run()
    if kind == "upload":
        raw = Path(case["path"]).read_bytes()
        at.file_uploader(key="dm_upload").set_value((case["file"], raw, "application/octet-stream")).run()
        if case.get("task") and "dm_up_task" in [r.key for r in at.radio]:
            at.radio(key="dm_up_task").set_value(case["task"]).run()
        if "dm_up_load" in [b.key for b in at.button]:
            at.button(key="dm_up_load").click().run()
    elif kind == "folder":
        at.selectbox(key="dm_folder_pick").set_value("(type a path)").run()
        at.text_input(key="dm_folder_path").set_value(case["path"]).run()
        if "dm_folder_load" in [b.key for b in at.button]:
            at.button(key="dm_folder_load").click().run()
    elif kind == "hf":
        at.text_input(key="dm_hf_id").set_value(case["id"]).run()
        at.button(key="dm_hf_load").click().run()
    elif kind == "predictions":
        at.selectbox(key="dm_candidate_choice").set_value("file").run()
        if case.get("upload"):
            raw = Path(case["path"]).read_bytes()
            at.file_uploader(key="dm_candidate_file_up").set_value((Path(case["path"]).name, raw, "text/plain")).run()
        else:
            at.text_input(key="dm_candidate_file_path").set_value(case["path"]).run()
    if at.exception:
        return {"status": "traceback", "detail": "\n".join(str(e.value) for e in at.exception)[-2000:]}
    shown = errors(at)
    return {"status": "message" if shown else "ok", "detail": " | ".join(shown)[:600]}


def main() -> None:
    mode, cases_file = sys.argv[1], sys.argv[2]
    cases = json.loads(Path(cases_file).read_text())
    for case in cases:
        print(json.dumps({"case": case["name"], "start": True}), flush=True)
        start = time.perf_counter()
        result = run_cli(case["args"]) if mode == "cli" else run_upload(case)
        result.update(case=case["name"], seconds=round(time.perf_counter() - start, 2), peak_mb=round(peak_mb()))
        print(json.dumps(result), flush=True)
    print(json.dumps({"done": True, "peak_mb": round(peak_mb())}), flush=True)


if __name__ == "__main__":
    main()
