"""Load: 20 browser sessions on one server, each in its own workspace, editing and reloading.

Starts `streamlit run app.py` on a free loopback port with a fresh EVALCORE_HOME, opens N headless
Chromium contexts (Debian's chromium through Playwright, never a downloaded browser) that stay
connected, and in each: opens Compare (`?ws=user<i>`), writes report notes and a gate margin on
Report & W&B, adds a stress case, then reloads and checks its own work came back. Prints the
server's resident memory (now and peak) and p50 / p95 render times, and checks every workspace on
disk holds exactly its own session's work.

    python bench/bench_multiuser.py               # 20 sessions
    python bench/bench_multiuser.py --sessions 5  # quicker
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextmanager
def serve(home: Path, **env_vars: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on a free loopback port with `home` as EVALCORE_HOME; yields (url, process)."""
    port = _port()
    env = {**os.environ, "EVALCORE_HOME": str(home), "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", **env_vars}
    with open(home / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                   "--server.address", "127.0.0.1", "--server.headless", "true"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(120):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.5)
            yield f"http://127.0.0.1:{port}", server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _settle(page, timeout: float = 180) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''",
        timeout=timeout * 1000)


def _timed(times: list[float], action) -> None:
    start = time.perf_counter()
    action()
    times.append(time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="evalcore_load_"))
    with serve(home) as (url, server):
        first, nav, reload_times = [], [], []
        start_rss = None
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            pages = []
            for i in range(args.sessions):
                page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
                _timed(first, lambda: (page.goto(f"{url}/compare?ws=user{i}"), _settle(page),
                                       page.get_by_text("Verdict:").first.wait_for(timeout=180_000)))
                pages.append(page)
                if start_rss is None:
                    start_rss = _rss_mb(server.pid)[0]
            for i, page in enumerate(pages):
                _timed(nav, lambda: (page.get_by_role("link", name="Report & W&B").first.click(), _settle(page)))
                box = page.get_by_role("textbox", name=re.compile("^Notes for the report"))
                box.fill(f"notes of user {i}")
                box.press("Control+Enter")
                _settle(page)
                value = f"{0.03 + i / 1000:.3f}"  # never the default 0.02: an unchanged value saves nothing
                for _ in range(3):  # a keystroke that lands while the page reruns is dropped: type again
                    margin = page.locator("input[aria-label='margin']").first
                    margin.fill(value)
                    margin.press("Enter")
                    _settle(page)
                    if page.get_by_text(f"margin {float(value) * 100:.1f} points)").count():
                        break
                _timed(nav, lambda: (page.get_by_role("link", name="Stress tests").first.click(), _settle(page)))
                page.get_by_role("tab", name="Type one").click()
                page.get_by_role("textbox", name="Case text").fill(f"case written by user {i}")
                page.get_by_role("button", name="Add", exact=True).click()
                _settle(page)
            bad = []
            for i, page in enumerate(pages):  # every session reloads and finds its own work
                _timed(reload_times, lambda: (page.goto(f"{url}/share?ws=user{i}"), _settle(page)))
                box = page.get_by_role("textbox", name=re.compile("^Notes for the report"))
                deadline = time.time() + 15  # the text area may be drawn a moment before its value
                while box.input_value() != f"notes of user {i}" and time.time() < deadline:
                    page.wait_for_timeout(250)
                shown = box.input_value()
                if shown != f"notes of user {i}":
                    bad.append(f"user{i}: page shows notes {shown!r}")
            rss, peak = _rss_mb(server.pid)
            browser.close()
        for i in range(args.sessions):
            saved = json.loads((home / "work" / "workspaces" / f"user{i}.json").read_text())
            cases = [c["text"] for c in saved.get("stress", {}).get("cases", [])]
            if saved["notes"] != f"notes of user {i}":
                bad.append(f"user{i}: saved notes {saved['notes']!r}")
            if cases != [f"case written by user {i}"]:
                bad.append(f"user{i}: saved cases {cases}")
            if abs(saved["gates"].get("accuracy", 0) - (0.03 + i / 1000)) > 1e-9:
                bad.append(f"user{i}: saved gates {saved['gates']}")

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    print(f"{args.sessions} browser sessions, each in its own workspace, on one server")
    print(f"server RSS: {start_rss:,.0f} MB after the first session, {rss:,.0f} MB with all {args.sessions} "
          f"(peak {peak:,.0f} MB)")
    for name, values in (("first Compare render", first), ("page switch", nav), ("reload", reload_times)):
        print(f"{name:>22}: p50 {pct(values, 50):.2f} s, p95 {pct(values, 95):.2f} s ({len(values)} samples)")
    print("every session's work intact: " + ("yes" if not bad else "NO\n  " + "\n  ".join(bad)))
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
