"""Sign-in and owned workspaces (issue 22, item 1), in headless Chromium against a real OpenID Connect provider
(`oidc-provider-mock`, run here on a free port) and a Streamlit server whose secrets (an `[auth]` section) are
written to a temp folder: user A's workspace is invisible to user B, and B's `?ws=` link opens nothing, until A
shares it; a read share refuses B's saves on the server; a signed-out visitor sees the sign-in page only.

The single-user mode (no `[auth]`) is every other browser and page test, unchanged: e.g.
tests/test_browser.py::test_click_through_every_page and tests/test_browser_savework.py, whose servers have no
secrets file. Screenshots land in `artifacts/screenshots/signin_*.png`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, ROOT, SHOTS, _free_port, _full_shot, _no_exception, _settle, browser  # noqa: F401

pytestmark = pytest.mark.browser

ALICE = {"sub": "alice-sub", "email": "alice@example.org", "name": "Alice *A* <b>x</b>"}
BOB = {"sub": "bob-sub", "email": "bob@example.org", "name": "Bob [B](https://e.vil)"}


def _wait_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{log.name} did not start: " + log.read_text()[-2000:])


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory: pytest.TempPathFactory):
    """The OIDC provider, then `streamlit run app.py` with an `[auth]` section pointing at it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run the README's test command (scripts/test.sh installs it)")
    home = tmp_path_factory.mktemp("signin_home")
    idp_port, app_port = _free_port(), _free_port()
    idp_log = home / "oidc.log"
    idp_out = open(idp_log, "w")  # noqa: SIM115 (closed at teardown)
    idp = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--port",
            str(idp_port),
            "--user-claims",
            json.dumps(ALICE),
            "--user-claims",
            json.dumps(BOB),
        ],
        stdout=idp_out,
        stderr=subprocess.STDOUT,
    )
    _wait_port(idp_port, idp, idp_log)
    secrets = home / "secrets" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "test-cookie-secret-0123456789abcdef"
client_id = "evalcore-test"
client_secret = "evalcore-test-secret"
server_metadata_url = "http://127.0.0.1:{idp_port}/.well-known/openid-configuration"
""")
    env = {
        **os.environ,
        "EVALCORE_HOME": str(home),
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    app_log = home / "server.log"
    app_out = open(app_log, "w")  # noqa: SIM115 (closed at teardown)
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(app_port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--secrets.files",
            str(secrets),
        ],
        cwd=ROOT,
        env=env,
        stdout=app_out,
        stderr=subprocess.STDOUT,
    )
    _wait_port(app_port, app, app_log)
    yield {"url": f"http://127.0.0.1:{app_port}", "home": home}
    _stop(app)
    _stop(idp)
    app_out.close()
    idp_out.close()


def _sign_in(chromium, url: str, user: dict):
    """A fresh browser context (its own cookies) signed in as `user` through the provider's form."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    _settle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"), timeout=60_000)
    page.get_by_role("button", name=user["sub"], exact=True).click()  # the provider's predefined user
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"), timeout=60_000)
    _settle(page)
    page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    _no_exception(page)
    return context, page


def _access(home: Path, name: str) -> dict:
    return json.loads((home / "work" / "access" / f"{name}.json").read_text())


def _workspace_options(page) -> list[str]:
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Workspace", exact=True)).first
    box.click()
    options = [o.inner_text() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return options


def _shown_workspace(page) -> str:
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Workspace", exact=True)).first
    return box.get_by_role("combobox").input_value()


def _open(page, url: str) -> None:
    page.goto(url)
    _settle(page)
    _no_exception(page)


def test_owned_workspaces_shared_read_only_and_a_visitor_refused(signin_server, browser) -> None:  # noqa: F811
    chromium = browser
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, home = signin_server["url"], signin_server["home"]

    # A signed-out visitor: the sign-in page only, whatever the URL asks for.
    visitor = chromium.new_context(viewport={"width": 1400, "height": 1000})
    vpage = visitor.new_page()
    for path in ("", "/compare", "/?ws=default"):
        _open(vpage, url + path)
        vpage.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        body = vpage.inner_text("body")
        assert "evalcore · sign in" in body and "Workspace" not in body and "Compare" not in body, body[:1500]
        assert vpage.get_by_role("link", name="Data & models").count() == 0
    _full_shot(vpage, SHOTS / "signin_visitor.png")

    # A signs in (their own workspace opens) and makes a workspace.
    ctx_a, a = _sign_in(chromium, url, ALICE)
    assert "Alice \\*A\\*" not in a.inner_text("body")  # the name is shown as text, not Markdown
    a.get_by_text("Alice *A* <b>x</b>", exact=True).first.wait_for(timeout=30_000)
    a_home = _shown_workspace(a)
    assert a_home.startswith("alice-") and _access(home, a_home)["owner"]["subject"] == "alice-sub"
    a.get_by_text("New workspace").first.click()
    box = a.get_by_role("textbox", name="Name")
    box.fill("alice-review")
    box.press("Enter")
    _settle(a)
    a.get_by_role("button", name="Create (a copy of this one)").click()
    _settle(a)
    _no_exception(a)
    assert _shown_workspace(a) == "alice-review" and "ws=alice-review" in a.url
    rec = _access(home, "alice-review")
    assert (rec["owner"]["issuer"], rec["owner"]["subject"]) == (rec["owner"]["issuer"], "alice-sub")
    assert rec["shares"] == []
    _full_shot(a, SHOTS / "signin_alice_owner.png")

    # B signs in: A's workspaces are not listed, and the name in the URL opens B's own workspace instead.
    ctx_b, b = _sign_in(chromium, url, BOB)
    b_home = _shown_workspace(b)
    assert b_home.startswith("bob-") and b_home != a_home
    options = _workspace_options(b)
    assert not any(o.startswith(("alice-review", a_home, "default")) for o in options), options
    _open(b, url + "/?ws=alice-review")
    b.get_by_text("No workspace named 'alice-review' is open to you").first.wait_for(timeout=30_000)
    assert _shown_workspace(b) == b_home and "ws=alice-review" not in b.url
    _full_shot(b, SHOTS / "signin_bob_refused.png")
    _open(b, url + f"/compare?ws={a_home}")  # any page, A's other workspace: refused the same way
    b.get_by_text(f"No workspace named '{a_home}' is open to you").first.wait_for(timeout=30_000)

    # A shares alice-review with B, read-only.
    a.get_by_text("Share this workspace").first.click()
    a.get_by_text("Shared with 0 people").first.wait_for(timeout=30_000)
    email = a.get_by_role("textbox", name="Their email")
    email.fill("bob@example.org")
    email.press("Enter")
    _settle(a)
    a.get_by_role("button", name="Share", exact=True).click()
    _settle(a)
    _no_exception(a)
    a.get_by_text("Shared with 1 person").first.wait_for(timeout=30_000)
    shares = _access(home, "alice-review")["shares"]
    assert [(s["who"]["subject"], s["role"]) for s in shares] == [("bob-sub", "read")]
    _full_shot(a, SHOTS / "signin_alice_shared.png")

    # B now sees it, opens it by its link, and cannot save it.
    _open(b, url + "/share?ws=alice-review")
    b.wait_for_selector("h1:has-text('Report & W&B')", timeout=60_000)
    assert _shown_workspace(b) == "alice-review · shared, read-only"
    assert "alice-review · shared, read-only" in _workspace_options(b)
    b.get_by_text("you can read it").first.wait_for(timeout=30_000)
    ws_file = home / "work" / "workspaces" / "alice-review.json"
    before = json.loads(ws_file.read_text())
    notes = b.get_by_role("textbox", name="Notes for the report (optional)")
    notes.fill("bob was here")
    notes.press("Control+Enter")
    _settle(b)
    b.get_by_text("shared with you read-only: your change was not saved").first.wait_for(timeout=30_000)
    after = json.loads(ws_file.read_text())
    assert after["notes"] == before["notes"] == "" and after["_revision"] == before["_revision"]
    assert notes.input_value() == ""  # the page went back to the saved copy
    _full_shot(b, SHOTS / "signin_bob_read_only.png")

    # An edit share lets B save (the same server path, now allowed).
    a.locator("[data-testid='stRadio']").get_by_text("edit", exact=True).click()
    _settle(a)
    a.get_by_role("textbox", name="Their email").fill("bob@example.org")
    a.get_by_role("textbox", name="Their email").press("Enter")
    _settle(a)
    a.get_by_role("button", name="Share", exact=True).click()
    _settle(a)
    assert [s["role"] for s in _access(home, "alice-review")["shares"]] == ["edit"]
    _open(b, url + "/share?ws=alice-review")
    notes = b.get_by_role("textbox", name="Notes for the report (optional)")
    notes.fill("bob was here")
    notes.press("Control+Enter")
    _settle(b)
    assert json.loads(ws_file.read_text())["notes"] == "bob was here"

    # A withdraws the share: B's link opens nothing again (the record is read at every open and every save).
    a.get_by_role("button", name="Remove this share").click()
    _settle(a)
    a.get_by_text("Shared with 0 people").first.wait_for(timeout=30_000)
    assert _access(home, "alice-review")["shares"] == []
    _open(b, url + "/?ws=alice-review")
    b.get_by_text("No workspace named 'alice-review' is open to you").first.wait_for(timeout=30_000)
    assert _shown_workspace(b) == b_home

    # B signs out (through the provider's end-session page): the sign-in page only, even with a link.
    b.get_by_role("button", name="Sign out").click()
    b.wait_for_url(re.compile(r".*/oauth2/end_session.*"), timeout=60_000)
    b.get_by_role("button", name="End session").click()
    _settle(b)
    _open(b, url + f"/?ws={b_home}")
    b.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert "Workspace" not in b.inner_text("body")
    _full_shot(b, SHOTS / "signin_bob_signed_out.png")
    for ctx in (visitor, ctx_a, ctx_b):
        ctx.close()
