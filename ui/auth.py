"""Sign-in through Streamlit's own `st.login` (OpenID Connect), when the operator turned it on.

It is on when `.streamlit/secrets.toml` (or a file named by `--secrets.files`) has an `[auth]` section; without
one, nothing changes: one local user needs no account and every workspace is open, as before. With it, a visitor
who is not signed in sees the sign-in page only (`gate`, called before any workspace is opened), and
`evalcore.serve.access` decides which workspaces a signed-in user may list, open and save (`ui.state` asks it).
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAuthError

from evalcore.serve.access import Identity

_CHECKED: list = [-1e9, None, False]  # (when, of which secrets object, answer)
RECHECK_S = 5.0


def enabled() -> bool:
    """True when the operator configured an `[auth]` section in the secrets (looked at every few seconds: every
    workspace access asks, and a lookup without a secrets file costs about 0.2 ms; a test's own secrets object
    is looked at at once)."""
    now = time.monotonic()
    if now - _CHECKED[0] > RECHECK_S or _CHECKED[1] is not st.secrets:
        try:
            on = bool(st.secrets.load_if_toml_exists() and st.secrets.get("auth"))
        except Exception:  # no secrets file, or one Streamlit cannot read (it says so itself): sign-in is off
            on = False
        _CHECKED[:] = [now, st.secrets, on]
    return _CHECKED[2]


def user() -> Identity | None:
    """The signed-in user (None when sign-in is off or nobody is signed in)."""
    if not enabled():
        return None
    info = st.user
    if not info.get("is_logged_in"):
        return None
    return Identity.from_claims(info)


def _providers() -> list[str | None]:
    """`[None]` for a single provider in `[auth]`, else the names of its `[auth.<name>]` sections."""
    section = st.secrets.get("auth") or {}
    if "client_id" in section or "server_metadata_url" in section:
        return [None]
    return [k for k, v in section.items() if hasattr(v, "get") and v.get("client_id")] or [None]


def gate() -> Identity | None:
    """When sign-in is on and nobody is signed in: the sign-in page, and the run stops there. Returns the user
    (None when sign-in is off)."""
    if not enabled():
        return None
    who = user()
    if who is not None:
        return who
    # the only page: no navigation to the others, no workspace (a legacy page run alone lands here too)
    st.navigation(
        [st.Page(_sign_in_page, title="Sign in", icon=":material/login:", default=True)], position="hidden"
    ).run()
    st.stop()
    return None


def _sign_in_page() -> None:
    st.title("evalcore · sign in")
    st.write(
        "This server asks you to sign in. Your workspaces are yours: they are listed and opened only for you "
        "and for the people you share them with."
    )
    if st.user.get("is_logged_in"):  # signed in, but the provider's token named no issuer and subject
        st.error(
            "Your sign-in did not say who you are (no issuer and subject in the identity token); ask the "
            "operator to check the provider's settings."
        )
    for provider in _providers():
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, key=f"ec_login_{provider or ''}", type="primary"):
            try:
                st.login() if provider is None else st.login(provider)
            except StreamlitAuthError as exc:  # Authlib missing, or the [auth] section incomplete: Streamlit names what
                st.error(f"Sign-in is configured but could not start: {exc}")


def sidebar(who: Identity | None) -> None:
    """Who is signed in, and a sign-out button (nothing when sign-in is off)."""
    if who is None:
        return
    from ui.widgets import esc

    st.caption(
        f"Signed in as **{esc(who.label)}**" + (f" · {esc(who.email)}" if who.email and who.email != who.label else "")
    )
    if st.button("Sign out", key="ec_logout"):
        st.logout()
