"""Sign-in on (an `[auth]` secrets section), through AppTest with its simulated `st.user` (issue 22, item 1): the
page side of what tests/test_browser_signin.py shows against a real provider, fast and without a browser. A
read share refuses the save in `ui.state` (the server), whatever the widget sent; a link to a workspace that is
not yours opens your own; a signed-out visitor gets the sign-in page and no workspace is touched.
(Sign-in off is every other page test: e.g. tests/test_multiuser.py, unchanged.)"""

from __future__ import annotations

from apptest_helpers import APP
from streamlit.testing.v1 import AppTest

from evalcore.serve import access
from evalcore.serve import workspace as store
from evalcore.serve.access import Identity

ISS = "http://127.0.0.1:9400"
SECRETS = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "evalcore",
        "client_secret": "s",
        "server_metadata_url": f"{ISS}/.well-known/openid-configuration",
    }
}
ALICE = Identity(ISS, "alice-sub", "alice@example.org", "Alice")
BOB = Identity(ISS, "bob-sub", "bob@example.org", "Bob")


def _claims(who: Identity | None) -> dict:
    if who is None:
        return {"is_logged_in": False}
    return {"is_logged_in": True, "iss": who.issuer, "sub": who.subject, "email": who.email, "name": who.name}


def _open(who: Identity | None, ws_name: str | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets = SECRETS
    at.user = _claims(who)
    if ws_name:
        at.query_params["ws"] = ws_name
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _team() -> None:
    access.claim("team", ALICE)
    store.save_workspace(store.Workspace(notes="alice's notes"), store.workspace_path("team"))


def test_a_read_share_refuses_the_save_on_the_server() -> None:
    _team()
    access.share("team", ALICE, BOB, "read")
    b = _open(BOB, "team", "pages/share.py")
    assert b.session_state["ec_workspace_name"] == "team"
    assert b.text_area(key="share_notes").value == "alice's notes"
    before = store.revision_of("team")
    b.text_area(key="share_notes").set_value("bob's notes").run()
    assert store.load("team").workspace.notes == "alice's notes" and store.revision_of("team") == before
    # told on the next app run (AppTest reruns the page without app.py, which shows it; the browser test sees it)
    assert any("read-only: your change was not saved" in m for m in b.session_state["ec_workspace_messages"])
    assert b.session_state["ec_workspace"].notes == "alice's notes"  # the session went back to the saved copy
    b.run()
    assert b.text_area(key="share_notes").value == "alice's notes"
    access.share("team", ALICE, BOB, "edit")  # the same session, now allowed: the record is read at each save
    b.text_area(key="share_notes").set_value("bob's notes").run()
    assert store.load("team").workspace.notes == "bob's notes"
    access.unshare("team", ALICE, BOB.key)  # withdrawn while B's page is open: B's next save is refused
    b.text_area(key="share_notes").set_value("bob, again").run()
    assert store.load("team").workspace.notes == "bob's notes"
    assert any("no longer shared with you" in m for m in b.session_state["ec_workspace_messages"])
    assert store.load(access.home_name(BOB)).workspace.notes == ""  # the typed text went nowhere else either
    assert b.session_state["ec_workspace_name"] == access.home_name(BOB)  # this run's refresh opened B's own


def test_a_link_to_a_workspace_not_yours_opens_your_own() -> None:
    _team()
    b = _open(BOB, "team")
    home = access.home_name(BOB)
    assert b.session_state["ec_workspace_name"] == home
    assert access.role(home, BOB) == "owner"
    assert any("No workspace named 'team' is open to you" in w.value for w in b.warning)
    assert b.selectbox(key="ec_ws_pick").options == [home]  # neither 'team' nor the unowned 'default'
    a = _open(ALICE, "team")
    assert a.session_state["ec_workspace_name"] == "team"
    assert set(a.selectbox(key="ec_ws_pick").options) == {"team", access.home_name(ALICE)}


def test_a_signed_out_visitor_gets_the_sign_in_page_only() -> None:
    _team()
    v = _open(None, "team")
    assert [t.value for t in v.title] == ["evalcore · sign in"]
    assert [b.label for b in v.button] == ["Sign in"]
    assert "ec_workspace" not in v.session_state and "ec_workspace_name" not in v.session_state
    assert not (store.workspace_path("team").parent.parent / "access" / "_users.json").exists()
