"""Load: 20 browser sessions on one server, editing and reloading; then 20 sessions on ONE workspace at once.

Starts the dashboard (`python -m ui.launch`, as `scripts/demo.sh` does) on a free loopback port with a fresh
EVALCORE_HOME and opens N headless Chromium contexts (Debian's chromium through Playwright, never a downloaded
browser) that stay connected.

- `separate`: each session in its own workspace (`?ws=user<i>`) opens Compare, writes report notes and a
  gate margin on Report & W&B, adds a stress case, then reloads and checks its own work came back. Prints
  the server's resident memory (now and peak) and p50 / p95 render times.
- `shared`: all N sessions open the same workspace (`?ws=team`), then do each step at the same moment (the
  step is sent to every browser before any is awaited): add a slice (rule, name, hypothesis, Save), add a
  stress case, write the report notes, set the accuracy gate's margin. An item is *confirmed* when its page
  showed it saved. Checks every confirmed slice and case is in the workspace, every notes / margin value is
  the final one or in the conflict list, and every session whose value lost shows it in its sidebar
  ("Conflicts (n) · … yours") without a reload. Prints p50 / p95 of the server's save time (lock wait, merge
  and the durable write, from `$EVALCORE_SAVE_TIMINGS`) and of the time a browser waited for its
  confirmation (page rerun included).

    python bench/bench_multiuser.py                  # both, 20 sessions
    python bench/bench_multiuser.py --mode shared    # 20 sessions on one workspace only
    python bench/bench_multiuser.py --sessions 5     # quicker
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
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


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
    """The dashboard as `scripts/demo.sh` starts it (`python -m ui.launch`: the engine imported, then `streamlit
    run app.py`) on a free loopback port with `home` as EVALCORE_HOME; yields (url, process) once the port is
    open. `EVALCORE_BENCH_PLAIN=1`: plain `streamlit run app.py` (the first page then imports the engine)."""
    port = _port()
    env = {
        **os.environ,
        "EVALCORE_HOME": str(home),
        "WANDB_MODE": "offline",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        **env_vars,
    }
    with open(home / "server.log", "w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                *(["streamlit", "run", "app.py"] if os.environ.get("EVALCORE_BENCH_PLAIN") else ["ui.launch"]),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
        timeout=timeout * 1000,
    )


def _timed(times: list[float], action) -> None:
    start = time.perf_counter()
    action()
    times.append(time.perf_counter() - start)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _shoot(page, name: str) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its main block: grow the viewport first) into
    $EVALCORE_BENCH_SHOTS (default the temp folder)."""
    folder = Path(os.environ.get("EVALCORE_BENCH_SHOTS", tempfile.gettempdir()))
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\')].map(e => e.scrollHeight), 900)'
    )
    page.set_viewport_size({"width": 1300, "height": min(int(height) + 40, 8000)})
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1300, "height": 900})


def _margin_box(page):
    """The accuracy gate's margin (typed in points) on Report & W&B: the first gate's number box."""
    return page.get_by_role("spinbutton", name="margin (points)").first


def _received(timings: Path, path: str) -> list:
    """The values of `path` (a `path_key`) that saves logged in `$EVALCORE_SAVE_TIMINGS` (floats rounded)."""
    return [_rounded(save["changed"][path]) for save in _saves(timings) if path in save["changed"]]


def _rounded(value):
    return round(value, 6) if isinstance(value, float) else value


def _saves(timings: Path) -> list[dict]:
    """Each logged save: {"seconds", "waited", "changed": {path: value}, "before": {path: value it replaced in
    the saving session's copy}}."""
    out = []
    for line in timings.read_text().splitlines() if timings.exists() else []:
        seconds, waited, rest = line.split(" ", 2)
        out.append({"seconds": float(seconds), "waited": float(waited), **json.loads(rest)})
    return out


def _send_until_received(pages, failed, timings: Path, path: str, value_of, fill, send, tries: int = 3) -> list[bool]:
    """Every browser types its value (`fill`), then every browser sends it (`send`); a value the server did not
    receive (a keystroke that lands while its page reruns is dropped by the browser) is typed and sent again,
    up to `tries` times. Returns, per browser, whether the server received its value."""
    got = [False] * len(pages)
    for _ in range(tries):
        todo = {i for i in range(len(pages)) if not got[i] and i not in failed}
        if not todo:
            break
        _all(pages, lambda i, pg: fill(i, pg) if i in todo else None, failed, f"type {path}")
        _all(pages, lambda i, pg: send(i, pg) if i in todo else None, failed, f"send {path}")
        time.sleep(1)
        seen = _received(timings, path)
        got = [got[i] or value_of(i) in seen for i in range(len(pages))]
    return got


def _all(pages: list, action, failed: dict[int, str], step: str, timeout: float = 300) -> None:
    """Send one step to every browser, then wait for every page to settle: the server sees N requests at once.
    A page whose step fails is photographed, named in `failed` and left out of the later steps."""
    for i, page in enumerate(pages):
        if i in failed:
            continue
        try:
            action(i, page)
        except Exception as exc:  # noqa: BLE001 (reported: that session's later items are not confirmed)
            failed[i] = f"{step}: {str(exc).splitlines()[0][:160]}"
            _shoot(page, f"bench_multiuser_user{i}")
    deadline = time.perf_counter() + timeout  # one bound for the whole step, not one per browser
    for i, page in enumerate(pages):
        if i not in failed:
            try:
                _settle(page, max(deadline - time.perf_counter(), 1.0))
            except Exception as exc:  # noqa: BLE001 (reported like a failed step)
                failed[i] = f"{step} (page never settled): {str(exc).splitlines()[0][:160]}"
                _shoot(page, f"bench_multiuser_user{i}")


def _idle(page) -> bool:
    """The page has no run in progress (Streamlit's status widget is empty)."""
    return bool(
        page.evaluate(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''"
        )
    )


def _confirm(
    pages: list,
    shows,
    clicked: list[float],
    waited: list[float],
    failed: dict[int, str],
    timeout: float = 120,
    retry=None,
    retries: list[int] | None = None,
) -> list[bool]:
    """Wait for each page to show that its save landed (`shows(i, page)`: a state that stays on the page, not a
    flash message a rerun may clear); record how long after its click that took. An unconfirmed page is
    photographed into $EVALCORE_BENCH_SHOTS (default /tmp)."""
    retries = [] if retries is None else retries
    ok = [False] * len(pages)
    pending = [i for i in range(len(pages)) if i not in failed]
    deadline = time.perf_counter() + timeout  # one bound for every browser together
    again = {i: clicked[i] + 20 for i in pending}  # a click that landed while its page reran may be lost
    while pending and time.perf_counter() < deadline:  # round robin: each page's wait is its own
        for i in list(pending):
            if shows(i, pages[i]):
                ok[i] = True
                waited.append(time.perf_counter() - clicked[i])  # from the first click
                pending.remove(i)
            elif retry is not None and time.perf_counter() > again[i] and _idle(pages[i]):
                retry(pages[i])  # the page is idle and shows no save after 20 s: click again, as a user would
                retries.append(i)
                again[i] = time.perf_counter() + 20
        if pending:
            time.sleep(0.1)
    for i in pending:
        _shoot(pages[i], f"bench_multiuser_unconfirmed{i}")
    return ok


def shared(n: int) -> list[str]:
    """N sessions on one workspace, every step at once (see the module docstring). Returns the problems."""
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="evalcore_shared_"))
    timings = home / "save_times.txt"
    url_ws = "?ws=team"
    bad: list[str] = []
    waits: dict[str, list[float]] = {"slice": [], "case": []}
    retried: dict[str, list[int]] = {"slice": [], "case": []}  # browsers whose click was lost and made again
    runs_log = home / "run_times.txt"
    with (
        serve(home, EVALCORE_SAVE_TIMINGS=str(timings), EVALCORE_RUN_TIMINGS=str(runs_log)) as (url, server),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        pages = []
        for i in range(n):  # opened one after the other; the edits below are sent to all at once
            page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
            page.set_default_timeout(60_000)  # a missing box fails its browser in a minute, not five
            page.goto(f"{url}/slices{url_ws}", wait_until="commit", timeout=300_000)
            _settle(page, 300)
            page.get_by_text("Saved slices (").first.wait_for(timeout=300_000)
            pages.append(page)

        def box(page, name):
            return page.get_by_role("textbox", name=name).first

        failed: dict[int, str] = {}  # user -> the step that failed in that browser (its later items unconfirmed)

        def each(step: str, action) -> None:
            _all(pages, action, failed, step)

        def go(step: str, link: str, path: str) -> None:
            """Every browser follows a sidebar link; one whose click landed during a rerun and was lost (still on
            the old page once settled) clicks again, as a user would, up to twice."""
            for _ in range(3):
                todo = {i for i, pg in enumerate(pages) if i not in failed and path not in pg.url}
                if not todo:
                    return
                each(step, lambda i, pg: pg.get_by_role("link", name=link).first.click() if i in todo else None)

        def clicks(step: str, target) -> list[float]:
            """Click in every browser at once; when each click was sent."""
            sent = []
            for i, page in enumerate(pages):
                sent.append(time.perf_counter())
                if i not in failed:
                    try:
                        target(page).first.click(timeout=60_000)
                    except Exception as exc:  # noqa: BLE001
                        failed[i] = f"{step}: {str(exc).splitlines()[0][:160]}"
            return sent

        each(
            "rule",
            lambda i, pg: (
                box(pg, "Rule text").fill(f"word_count >= {i + 1}"),
                box(pg, "Rule text").press("Control+Enter"),
            ),
        )
        each("apply", lambda i, pg: pg.get_by_role("button", name="Apply text").first.click())
        each("name", lambda i, pg: (box(pg, "Slice name").fill(f"words_{i}"), box(pg, "Slice name").press("Enter")))
        each(
            "hypothesis",
            lambda i, pg: (
                box(pg, "Hypothesis").fill(f"hypothesis of user {i}"),
                box(pg, "Hypothesis").press("Control+Enter"),
            ),
        )
        save_button = lambda pg: pg.get_by_role("button", name="Save as a new slice")  # noqa: E731
        clicked = clicks("save slice", save_button)
        slices_ok = _confirm(
            pages,
            lambda i, pg: pg.get_by_text(f"Editing 'words_{i}'").count() > 0,  # the heading names the saved slice
            clicked,
            waits["slice"],
            failed,
            retry=lambda pg: save_button(pg).first.click(timeout=10_000),
            retries=retried["slice"],
        )

        go("to stress", "Stress tests", "/stress")
        each("tab", lambda i, pg: pg.get_by_role("tab", name="Type one").first.click())
        each("case", lambda i, pg: box(pg, "Case text").fill(f"case written by user {i}"))
        clicked = clicks("add case", lambda pg: pg.get_by_role("button", name="Add", exact=True))

        def emptied(i, pg):  # the box is emptied once the case is saved
            found = pg.get_by_role("textbox", name="Case text")
            return found.count() > 0 and found.first.input_value(timeout=5_000) == ""

        add_button = lambda pg: pg.get_by_role("button", name="Add", exact=True)  # noqa: E731
        cases_ok = _confirm(
            pages,
            emptied,
            clicked,
            waits["case"],
            failed,
            retry=lambda pg: add_button(pg).first.click(timeout=10_000),
            retries=retried["case"],
        )

        go("to report", "Report & W&B", "/share")
        notes = re.compile("^Notes for the report")
        margin = lambda i: f"{3.0 + i / 10:.1f}"  # noqa: E731 (points; distinct per user, never the default 2)
        note_of = lambda i: f"notes of user {i}"  # noqa: E731
        got_notes = _send_until_received(
            pages,
            failed,
            timings,
            '["notes"]',
            note_of,
            lambda i, pg: box(pg, notes).fill(note_of(i)),
            lambda i, pg: box(pg, notes).press("Control+Enter"),
        )  # everyone types, then everyone sends
        got_margin = _send_until_received(
            pages,
            failed,
            timings,
            '["gates", "accuracy"]',
            lambda i: round(float(margin(i)) / 100, 6),
            lambda i, pg: _margin_box(pg).fill(margin(i)),
            lambda i, pg: _margin_box(pg).press("Enter"),
        )
        # Every value that lost must be told on its own page, without a reload: the watchers (every 5 s)
        # bring each page up to date; poll the sidebars for the "yours" count for up to 90 s.
        saved_now = json.loads((home / "work" / "workspaces" / "team.json").read_text())
        lost_by: dict[int, int] = {}
        for c in saved_now["_conflicts"]:
            for i in range(n):
                if c["theirs"] in (f"notes of user {i}", round(float(margin(i)) / 100, 6)) or (
                    isinstance(c["theirs"], float) and round(c["theirs"], 6) == round(float(margin(i)) / 100, 6)
                ):
                    if i not in failed:
                        lost_by[i] = lost_by.get(i, 0) + 1
        told_now: dict[int, bool] = {}
        deadline = time.perf_counter() + 90
        while time.perf_counter() < deadline:
            for i, count in lost_by.items():
                if not told_now.get(i):
                    label = pages[i].locator("[data-testid='stSidebar']").inner_text()
                    found = re.search(r"(one|\d+) (?:is|are) yours", label)
                    told_now[i] = bool(found) and (1 if found.group(1) == "one" else int(found.group(1))) >= count
            if all(told_now.get(i) for i in lost_by):
                break
            time.sleep(1)
        for i in lost_by:
            if not told_now.get(i):
                _shoot(pages[i], f"bench_multiuser_untold{i}")
        rss, peak = _rss_mb(server.pid)
        browser.close()

    saved = json.loads((home / "work" / "workspaces" / "team.json").read_text())
    names = {s["name"] for s in saved["slices"]}
    cases = {c["text"] for c in saved["stress"].get("cases", [])}
    conflicts = saved["_conflicts"]
    lost = [f"words_{i}" for i in range(n) if slices_ok[i] and f"words_{i}" not in names]
    lost += [f"case {i}" for i in range(n) if cases_ok[i] and f"case written by user {i}" not in cases]
    bad += [f"confirmed but missing: {x}" for x in lost]
    told = replaced_knowingly = 0
    logged = _saves(timings)  # the server is stopped: the log is complete
    for field, value_of, final in (
        ("notes", lambda i: f"notes of user {i}", saved["notes"]),
        ("gates.accuracy", lambda i: round(float(margin(i)) / 100, 6), round(saved["gates"].get("accuracy"), 6)),
    ):
        kept = [_rounded(c["theirs"]) for c in conflicts if c["field"] == field]
        key = json.dumps(field.split("."))  # the path key the save log uses
        seen_by_saver = [_rounded(save["before"][key]) for save in logged if key in save.get("before", {})]
        for i in range(n):
            value = value_of(i)
            if value == final or not (got_notes if field == "notes" else got_margin)[i]:
                continue  # kept, or never reached the server (the browser dropped it three times: reported)
            if value not in kept and value in seen_by_saver:
                replaced_knowingly += 1  # a later save replaced it in a session that had it on screen: no conflict
            elif value not in kept:
                bad.append(f"user{i}: {field} {value!r} is neither the saved value nor in the conflict list")
            elif not told_now.get(i):
                bad.append(f"user{i}: lost {field} and was not told (screenshot bench_multiuser_untold{i}.png)")
            else:
                told += 1
    save_times, lock_waits = [x["seconds"] for x in logged], [x["waited"] for x in logged]
    bad += [
        f"user{i}: the browser step '{why}' failed (screenshot bench_multiuser_user{i}.png)"
        for i, why in sorted(failed.items())
    ]
    print(f"{n} browser sessions on ONE workspace, every step sent to all at once")
    print(
        f"confirmed: {sum(slices_ok)} of {n} slices, {sum(cases_ok)} of {n} cases; in the workspace: "
        f"{len(names & {f'words_{i}' for i in range(n)})} slices, "
        f"{len(cases & {f'case written by user {i}' for i in range(n)})} cases"
    )
    print(
        f"values the server received (typed again when the browser dropped them during a rerun): notes "
        f"{sum(got_notes)} of {n}, margins {sum(got_margin)} of {n}"
    )
    bad += [f"user{i}: notes never reached the server in 3 tries" for i in range(n) if not got_notes[i]]
    bad += [f"user{i}: margin never reached the server in 3 tries" for i in range(n) if not got_margin[i]]
    print(
        f"conflicts recorded: {len(conflicts)} (notes and the accuracy margin); losers told on their page: {told}; "
        f"values replaced by a later save made on a page that showed them (no conflict): {replaced_knowingly}"
    )
    print(
        f"server save time (lock, merge, durable write; {len(save_times)} saves): p50 {pct(save_times, 50):.3f} s, "
        f"p95 {pct(save_times, 95):.3f} s, max {max(save_times):.3f} s; of which waiting for the lock: p50 "
        f"{pct(lock_waits, 50):.3f} s, p95 {pct(lock_waits, 95):.3f} s"
    )
    print(
        f"clicks made again (the page was idle 20 s after a click that showed nothing): {len(retried['slice'])} "
        f"slice saves, {len(retried['case'])} case adds"
    )
    for what, values in waits.items():
        if values:
            print(
                f"browser wait for a confirmed {what} save (rerun included): p50 {pct(values, 50):.2f} s, "
                f"p95 {pct(values, 95):.2f} s"
            )
    runs = [line.split() for line in runs_log.read_text().splitlines() if line.strip()]
    slot_waits, run_s = [float(r[2]) for r in runs], [float(r[3]) for r in runs]
    print(
        f"page runs on the server: {len(runs)} in all ({sum(run_s):.0f} s of run time), p50 {pct(run_s, 50):.2f} s, "
        f"p95 {pct(run_s, 95):.2f} s; waiting for a page-run slot (ui/admission.py): p50 {pct(slot_waits, 50):.2f} s, "
        f"p95 {pct(slot_waits, 95):.2f} s"
    )
    print(f"server RSS {rss:,.0f} MB (peak {peak:,.0f} MB)")
    if pct(save_times, 95) >= 1.0:
        bad.append(f"p95 save time {pct(save_times, 95):.2f} s is not under 1 s")
    print("every confirmed item present, every loser told: " + ("yes" if not bad else "NO\n  " + "\n  ".join(bad)))
    return bad


def separate(n: int) -> list[str]:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="evalcore_load_"))
    with serve(home) as (url, server):
        first, nav, reload_times = [], [], []
        start_rss = None
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            pages = []
            for i in range(n):
                page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
                _timed(
                    first,
                    lambda: (
                        page.goto(f"{url}/compare?ws=user{i}"),
                        _settle(page),
                        page.get_by_text("Verdict:").first.wait_for(timeout=180_000),
                    ),
                )
                pages.append(page)
                if start_rss is None:
                    start_rss = _rss_mb(server.pid)[0]
            for i, page in enumerate(pages):
                _timed(nav, lambda: (page.get_by_role("link", name="Report & W&B").first.click(), _settle(page)))
                box = page.get_by_role("textbox", name=re.compile("^Notes for the report"))
                box.fill(f"notes of user {i}")
                box.press("Control+Enter")
                _settle(page)
                value = f"{3.0 + i / 10:.1f}"  # points; never the default 2: an unchanged value saves nothing
                for _ in range(3):  # a keystroke that lands while the page reruns is dropped: type again
                    margin = _margin_box(page)
                    margin.fill(value)
                    margin.press("Enter")
                    _settle(page)
                    if page.get_by_text(f"margin {float(value):.1f} points)").count():
                        break
                _timed(nav, lambda: (page.get_by_role("link", name="Stress tests").first.click(), _settle(page)))
                page.get_by_role("tab", name="Type one").first.click()
                page.get_by_role("textbox", name="Case text").fill(f"case written by user {i}")
                page.get_by_role("button", name="Add", exact=True).first.click()
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
        for i in range(n):
            saved = json.loads((home / "work" / "workspaces" / f"user{i}.json").read_text())
            cases = [c["text"] for c in saved.get("stress", {}).get("cases", [])]
            if saved["notes"] != f"notes of user {i}":
                bad.append(f"user{i}: saved notes {saved['notes']!r}")
            if cases != [f"case written by user {i}"]:
                bad.append(f"user{i}: saved cases {cases}")
            if abs(saved["gates"].get("accuracy", 0) - (3.0 + i / 10) / 100) > 1e-9:
                bad.append(f"user{i}: saved gates {saved['gates']}")

    print(f"{n} browser sessions, each in its own workspace, on one server")
    print(f"server RSS: {start_rss:,.0f} MB after the first session, {rss:,.0f} MB with all {n} (peak {peak:,.0f} MB)")
    for name, values in (("first Compare render", first), ("page switch", nav), ("reload", reload_times)):
        print(f"{name:>22}: p50 {pct(values, 50):.2f} s, p95 {pct(values, 95):.2f} s ({len(values)} samples)")
    print("every session's work intact: " + ("yes" if not bad else "NO\n  " + "\n  ".join(bad)))
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--mode", choices=["separate", "shared", "both"], default="both")
    args = parser.parse_args()
    bad = []
    if args.mode in ("separate", "both"):
        bad += separate(args.sessions)
    if args.mode in ("shared", "both"):
        bad += shared(args.sessions)
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
