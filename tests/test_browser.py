"""The app served on localhost and driven in headless Chromium, as a user would.

Debian's chromium (installed by scripts/test.sh when missing) is driven by Playwright for Python
through `executable_path`; Playwright's own browser download is never used. Screenshots of every
page land in the ignored folder `artifacts/screenshots/` for a human to look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGES = [
    ("Data & models", "data_models"),
    ("Slices", "slices"),
    ("Compare", "compare"),
    ("Examples", "examples"),
    ("Stress tests", "stress"),
    ("Report & W&B", "share"),
    ("History", "history"),
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The dashboard as `scripts/demo.sh` starts it (`python -m ui.launch`: the engine and pages imported, then
    `streamlit run app.py`) on a free loopback port with its own state folder."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run the README's test command (scripts/test.sh installs it)")
    home = tmp_path_factory.mktemp("browser_home")
    port = _free_port()
    env = {
        **os.environ,
        "EVALCORE_HOME": str(home),
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ui.launch",
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
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + (home / "server.log").read_text()[-2000:])
    yield {"url": f"http://127.0.0.1:{port}", "home": home}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def _settle(page, timeout: float = 120) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''",
        timeout=timeout * 1000,
    )
    page.wait_for_timeout(800)


def _full_shot(page, path: Path) -> None:
    """Streamlit scrolls inside its main block, so grow the viewport to the content, then shoot."""
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\')].map(e => e.scrollHeight), 900)'
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 9000)})
    page.wait_for_timeout(1200)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]


def test_the_launcher_imported_every_module_before_serving(server) -> None:
    """`python -m ui.launch` imported the engine and the pages (all of them: an import that fails is named) before
    the port opened."""
    log = (server["home"] / "server.log").read_text()
    assert "evalcore: engine and pages imported in" in log and "not imported" not in log, log[-2000:]


def test_deep_link_as_first_request_goes_through_app(server, browser) -> None:
    """Runs first: on a fresh server Streamlit's legacy pages/ discovery would run the page alone."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server["url"] + "/examples")
    _settle(page)
    _no_exception(page)
    page.wait_for_selector("h1:has-text('Examples')", timeout=60_000)
    assert page.get_by_role("link", name="Data & models").count() >= 1  # the app's navigation is there
    page.close()


def test_click_through_every_page(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _settle(page)
    for title, slug in PAGES:
        page.get_by_role("link", name=title).first.click()
        _settle(page)
        _no_exception(page)
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=60_000)
        _full_shot(page, SHOTS / f"{slug}.png")
    body = page.inner_text("body")
    assert "Traceback" not in body
    page.close()


def test_compare_page_shows_the_verdict_power_and_lab_figures(server, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"] + "/compare")
    _settle(page)
    _no_exception(page)
    # Streamlit draws elements as the script reaches them: wait for the numbers, then read the page.
    page.get_by_text("69.8%", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("39.8%", exact=True).first.wait_for(timeout=60_000)
    expected = [
        "Verdict: NO-SHIP",
        "Look at slice has_mention",
        "2.0-point margin",
        "5.0-point margin",
        "Detectable change (MDE)",
        "9.0 pts",
        "What slicing revealed",
        "too small to judge",
        "7 slices judged · 7 with evidence of harm · 3 too small to judge",
    ]
    deadline = time.monotonic() + 60  # a rerun (another session joined or left) redraws the page: read it whole
    text = page.inner_text("body")
    while not all(e in text for e in expected) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        text = page.inner_text("body")
    assert [e for e in expected if e not in text] == [], text[:3000]
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=60_000)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 3
    page.get_by_role("tab", name="Table").click()
    page.wait_for_timeout(800)
    _full_shot(page, SHOTS / "compare_verdict.png")
    page.get_by_role("tab", name="Per class").click()
    page.wait_for_timeout(800)
    page.locator("[data-testid='stDataFrame']:visible").first.wait_for(timeout=30_000)
    _full_shot(page, SHOTS / "compare_per_class.png")
    page.close()


TEN_CASES = "\n".join(
    [
        "I don't love this phone at all\tnegative",
        "not bad at all, honestly\tpositive",
        "Oh great, another Monday #sarcasm\tnegative",
        "The meeting is at 3pm in room 4\tneutral",
        "I can't say I hated it\tpositive",
        "Never been happier with a purchase!!!\tpositive",
        "@user thanks for nothing\tnegative",
        "soooo tired of this weather\tnegative",
        "The update ships tomorrow\tneutral",
        "Best. Day. Ever. 😍😍\tpositive",
    ]
)


def test_paste_ten_cases_score_and_push_offline(server, browser) -> None:
    """Issue 5's walk-through: paste ten hard cases, score them live, push the session offline."""
    import json

    from evalcore.serve.workspace import Workspace

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Live models for stress scoring are part of the saved workspace; a new browser session reads it.
    ws = Workspace(stress={"models": {"baseline": "vader", "candidate": "vader:0.3"}})
    work = server["home"] / "work"
    work.mkdir(parents=True, exist_ok=True)
    (work / "workspace.json").write_text(json.dumps(ws.to_dict()))

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"] + "/stress")
    _settle(page)
    _no_exception(page)
    page.get_by_role("tab", name="Paste many").click()
    paste = page.get_by_role("textbox", name=re.compile("^One case per line"))
    paste.fill(TEN_CASES)
    paste.press("Control+Enter")  # commit the text area's value
    _settle(page)
    page.get_by_role("button", name="Add pasted").click()
    _settle(page)
    page.get_by_role("button", name="Score 10 case(s)").click()
    _settle(page)
    _no_exception(page)
    body = page.inner_text("body")
    assert "10 case(s)" in body
    saved = json.loads((work / "workspace.json").read_text())
    assert len(saved["stress"]["cases"]) == 10
    _full_shot(page, SHOTS / "stress_scored.png")

    page.get_by_role("link", name="Report & W&B").first.click()
    _settle(page)
    page.get_by_role("radio", name="offline", exact=True).check(force=True)
    page.get_by_role("button", name="Push to W&B").click()
    _settle(page, timeout=180)
    _no_exception(page)
    text = page.inner_text("body")
    assert "wandb sync" in text
    _full_shot(page, SHOTS / "share_pushed.png")
    runs = list((server["home"]).rglob("offline-run-*"))
    assert runs, "no offline W&B run folder was written"
    page.close()


def test_two_browsers_on_one_workspace_lose_nothing_and_see_the_conflict(server, browser) -> None:
    """Two browser contexts (two users) edit the same workspace: a stress case from one and report notes
    from both; the first user's notes are kept in the conflict list and the second user is told."""
    import json

    from evalcore.serve import workspace as store

    SHOTS.mkdir(parents=True, exist_ok=True)
    os.environ["EVALCORE_HOME"] = str(server["home"])
    users = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    a, b = (ctx.new_page() for ctx in users)
    a.goto(server["url"] + "/?ws=review")
    b.goto(server["url"] + "/?ws=review")
    for page in (a, b):
        _settle(page)
        _no_exception(page)
    a.get_by_role("link", name="Report & W&B").first.click()
    b.get_by_role("link", name="Report & W&B").first.click()
    for page in (a, b):
        _settle(page)
    notes = {a: "A: ship it", b: "B: not before the slice fix"}
    for page in (a, b):
        box = page.get_by_role("textbox", name=re.compile("^Notes for the report"))
        box.fill(notes[page])
        box.press("Control+Enter")
        _settle(page)
    text = b.inner_text("body")  # the rerun after B's edit tells B (app.py draws it above the page)
    assert "another session changed notes at the same time" in text, text[:2000]
    _full_shot(b, SHOTS / "conflict_told.png")
    saved = json.loads(store.workspace_path("review").read_text())
    assert saved["notes"] == notes[b] and saved["_conflicts"][-1]["theirs"] == notes[a]
    assert "?ws=review" in a.url or "ws=review" in a.url
    for ctx in users:
        ctx.close()


def test_create_a_workspace_from_the_sidebar(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _settle(page)
    page.get_by_text("New workspace").click()
    page.get_by_role("textbox", name="Name").fill("carol")
    page.get_by_role("textbox", name="Name").press("Enter")
    _settle(page)
    page.get_by_role("button", name="Create (a copy of this one)").click()
    _settle(page)
    _no_exception(page)
    assert "ws=carol" in page.url
    assert (server["home"] / "work" / "workspaces" / "carol.json").is_file()
    page.close()


def test_discover_save_compare_and_explain(server, browser) -> None:
    """Issue 14 on the lab file with two live models (vader vs vader:0.3): discover regression slices, save
    one with a click, find it on Compare, see both models' highlighted explanations on Examples, explain the
    slice's regressions in aggregate, and find both in the report page's list of what is included."""
    import json

    from evalcore.serve.workspace import Workspace

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = server["home"] / "work" / "workspaces" / "disc.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Workspace(baseline="vader", candidate="vader:0.3").to_dict()))

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"] + "/slices?ws=disc")
    _settle(page)
    _no_exception(page)
    page.get_by_role("tab", name=re.compile("Discover regression slices")).click()
    page.get_by_role("button", name="Run discovery").click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("confirmed", exact=False).first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    assert "worse than the rest" in text and "seed 0, depth 2" in text, text[:3000]
    _full_shot(page, SHOTS / "slices_discover.png")
    page.get_by_role("button", name="Save as a slice").first.click()
    _settle(page)
    _no_exception(page)
    assert "Saved 1 discovered slice(s): label_negative" in page.inner_text("body")
    saved = json.loads(path.read_text())
    assert "label_negative" in [s["name"] for s in saved["slices"]]

    page.get_by_role("link", name="Compare").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("label_negative").first.wait_for(timeout=60_000)
    _full_shot(page, SHOTS / "compare_discovered_slice.png")

    page.get_by_role("link", name="Examples").first.click()
    _settle(page)
    _no_exception(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Row detail").click()
    page.get_by_role("option").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("Why each model predicts what it does").wait_for(timeout=60_000)
    html = page.inner_html("[data-testid='stMain']")
    # the browser normalises inline styles: rgba(47, 158, 68, 0.75) is a green (toward) highlight
    assert re.search(r"rgba\(47,\s*158,\s*68", html) and "Toward its prediction" in html, html[-3000:]
    page.locator("[data-testid='stSelectbox']").filter(has_text="Slice to explain").click()
    page.keyboard.type("label_negative (")  # the list is long: filter it as a user would
    page.get_by_role("option", name=re.compile("^label_negative ")).first.click()
    _settle(page)
    page.get_by_role("button", name="Explain the regressed rows").click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("regressed rows of slice label_negative").first.wait_for(timeout=60_000)
    _full_shot(page, SHOTS / "examples_explained.png")

    page.get_by_role("link", name="Stress tests").first.click()  # the workspace's live models score the cases
    _settle(page)
    page.get_by_role("tab", name="Paste many").click()
    paste = page.get_by_role("textbox", name=re.compile("^One case per line"))
    paste.fill("I do not love this phone at all\tnegative\nnot bad, not bad at all\tpositive")
    paste.press("Control+Enter")
    _settle(page)
    page.get_by_role("button", name="Add pasted").click()
    _settle(page)
    page.get_by_role("button", name="Score 2 case(s)").click()
    _settle(page)
    page.get_by_text("Why each model predicts what it does").wait_for(timeout=60_000)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Scored case to explain").click()
    page.keyboard.type("not bad")
    page.keyboard.press("Enter")
    _settle(page)
    _no_exception(page)
    page.get_by_text("Toward the gold label").first.wait_for(timeout=60_000)
    _full_shot(page, SHOTS / "stress_explained.png")

    page.get_by_role("link", name="Report & W&B").first.click()
    _settle(page)
    _no_exception(page)
    text = page.inner_text("body")
    assert "discovered slices (" in text and "token explanations of slice label_negative" in text, text[:3000]
    _full_shot(page, SHOTS / "share_with_discovery.png")
    page.close()


def test_first_run_builds_the_demo_and_leaves_no_stale_banner(server, browser) -> None:
    """From an empty EVALCORE_HOME (this server's): pick the demo transformer, build it from the page
    (under a minute on a quiet machine), and no 'not built yet' / 'Building…' message stays."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert not (server["home"] / "models" / "demo-minilm-tweeteval").exists()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"] + "/?ws=firstrun")
    _settle(page)
    page.get_by_label("Candidate").click()  # the model picker (a select box)
    page.get_by_role("option", name=re.compile("^Demo transformer")).click()
    _settle(page)
    assert "The demo transformer is not built yet" in page.inner_text("body")
    _full_shot(page, SHOTS / "first_run_before_build.png")
    page.get_by_role("button", name="Build the demo transformer").click()
    page.get_by_text("Building the demo transformer (first use").first.wait_for(timeout=60_000)
    _full_shot(page, SHOTS / "first_run_building.png")  # the banner and the bar with the time left
    # when the build ends its banner goes; a stale one would keep this waiting until it fails
    page.wait_for_function("() => !document.body.innerText.includes('Building the demo transformer')", timeout=900_000)
    _settle(page, timeout=300)
    _no_exception(page)
    body = page.inner_text("body")
    assert "not built yet" not in body and "Building the demo transformer" not in body
    assert (server["home"] / "models" / "demo-minilm-tweeteval" / "config.json").is_file()
    page.get_by_role("button", name="Use these models").click()
    _settle(page, timeout=300)
    # the build's check on the lab rows filled the prediction cache (the status table is drawn on a canvas,
    # so ask the cache itself)
    stats = subprocess.run(
        [sys.executable, "-m", "evalcore", "cache", "stats"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "EVALCORE_HOME": str(server["home"])},
        timeout=120,
    ).stdout
    assert re.search(r"^\s*demo\s+demo\s+500\b", stats, flags=re.M), stats
    _full_shot(page, SHOTS / "first_run_after_build.png")
    page.close()
