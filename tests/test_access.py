"""Owned and shared workspaces (issue 22, item 1), the engine side: who owns a workspace, who it is shared with,
and that the record survives concurrent saves of the workspace and concurrent shares (its own file and lock)."""

from __future__ import annotations

import threading

import pytest

from evalcore.core.errors import ConfigError
from evalcore.serve import access
from evalcore.serve import workspace as store
from evalcore.serve.access import Identity

ISS = "http://127.0.0.1:9400"
ALICE = Identity(ISS, "alice-sub", "alice@example.org", "Alice")
BOB = Identity(ISS, "bob-sub", "Bob@Example.org", "Bob")
EVE = Identity("https://other.example", "bob-sub", "eve@example.org", "Eve")  # same subject, other issuer


def test_owner_reads_and_edits_others_see_nothing_until_shared() -> None:
    access.claim("review", ALICE)
    assert access.role("review", ALICE) == "owner" and access.can_edit("review", ALICE)
    assert access.role("review", BOB) is None and access.role("review", None) is None
    access.share("review", ALICE, BOB, "read")
    assert access.role("review", BOB) == "read" and not access.can_edit("review", BOB)
    assert access.role("review", EVE) is None  # the subject alone is not the user: the issuer counts too
    access.share("review", ALICE, BOB, "edit")  # replaces the read share
    assert access.role("review", BOB) == "edit" and len(access.record("review").shares) == 1
    access.unshare("review", ALICE, BOB.key)
    assert access.role("review", BOB) is None


def test_only_the_owner_shares_and_a_taken_name_is_refused() -> None:
    access.claim("review", ALICE)
    access.share("review", ALICE, BOB, "edit")
    with pytest.raises(ConfigError, match="only the workspace's owner"):
        access.share("review", BOB, EVE, "read")  # an editor cannot widen the circle
    with pytest.raises(ConfigError, match="taken"):
        access.claim("review", BOB)
    store.save_workspace(store.Workspace(), store.workspace_path("legacy"))  # made before sign-in was on
    with pytest.raises(ConfigError, match="taken"):
        access.claim("legacy", BOB)
    assert access.role("legacy", BOB) is None and access.role("legacy", ALICE) is None
    with pytest.raises(ConfigError, match="read or edit"):
        access.share("review", ALICE, BOB, "owner")
    with pytest.raises(ConfigError):
        access.claim("../etc", ALICE)  # a name is checked like a workspace name


def test_visible_lists_own_and_shared_only() -> None:
    for name in ("a1", "a2"):
        access.claim(name, ALICE)
        store.save_workspace(store.Workspace(), store.workspace_path(name))
    access.claim("b1", BOB)
    access.share("a2", ALICE, BOB, "read")
    names = store.list_workspaces()
    assert access.visible(names, BOB) == [("a2", "read"), ("b1", "owner")]
    assert access.visible(names, ALICE) == [("a1", "owner"), ("a2", "owner")]
    assert access.visible(names, EVE) == []


def test_share_by_email_finds_people_who_signed_in() -> None:
    assert access.find_users("bob@example.org") == []
    access.remember(ALICE)
    access.remember(BOB)
    access.remember(BOB)  # once
    assert access.find_users("BOB@example.ORG") == [BOB]
    assert access.find_users("alice-sub") == [ALICE]
    assert access.find_users("") == []
    access.claim("users", ALICE)  # a workspace may be called so: the people file is apart from the records
    assert access.find_users("bob@example.org") == [BOB]


def test_one_of_two_concurrent_claims_wins() -> None:
    won, lost = [], []

    def claim(who: Identity) -> None:
        try:
            access.claim("race", who)
            won.append(who)
        except ConfigError:
            lost.append(who)

    threads = [threading.Thread(target=claim, args=(w,)) for w in (ALICE, BOB) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 7
    assert access.record("race").owner == won[0]


def test_record_survives_concurrent_saves_and_shares() -> None:
    """The workspace file is rewritten by merged saves; the access record is not in it, so no merge can drop an
    owner or a share, and shares made at the same time all land (one lock per record)."""
    access.claim("busy", ALICE)
    store.save_workspace(store.Workspace(), store.workspace_path("busy"))
    people = [Identity(ISS, f"u{i}", f"u{i}@example.org") for i in range(12)]

    def save(i: int) -> None:
        snap = store.load("busy")
        ws = snap.workspace
        ws.notes = f"session {i}"
        store.save("busy", snap.base, ws)

    def share(who: Identity) -> None:
        access.share("busy", ALICE, who, "read")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(12)]
    threads += [threading.Thread(target=share, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec = access.record("busy")
    assert rec.owner == ALICE and {s["who"].subject for s in rec.shares} == {p.subject for p in people}
    assert store.load("busy").workspace.notes.startswith("session ")
    assert "owner" not in store.workspace_path("busy").read_text()  # the workspace file never holds it


def test_identity_from_claims_needs_issuer_and_subject() -> None:
    claims = {"iss": ISS, "sub": "x", "email": "x@e.org", "name": 5}
    assert Identity.from_claims(claims) == Identity(ISS, "x", "x@e.org")
    assert Identity.from_claims({"sub": "x"}) is None
    assert Identity.from_claims({"iss": ISS, "sub": ""}) is None
    assert access.home_name(ALICE).startswith("alice-") and access.home_name(ALICE) != access.home_name(
        Identity("https://other.example", "alice-sub", "alice@example.org")
    )
    store.check_name(access.home_name(Identity(ISS, "s" * 300, "", "名前 <b>")))


def test_an_unreadable_record_opens_to_nobody() -> None:
    access.claim("broken", ALICE)
    (access.access_dir() / "broken.json").write_text("{not json")
    assert access.role("broken", ALICE) is None


def test_the_operator_gives_an_unowned_workspace(capsys) -> None:
    from evalcore.cli import main

    store.save_workspace(store.Workspace(), store.workspace_path())  # `default`, made before sign-in
    assert main(["access", "give", "default", "alice@example.org"]) == 2  # she has not signed in yet
    assert "no user who signed in matches" in capsys.readouterr().err
    access.remember(ALICE)
    access.remember(EVE)
    access.remember(Identity("https://other.example", "a2", "alice@example.org"))
    assert main(["access", "give", "default", "alice@example.org"]) == 2
    assert "add --issuer" in capsys.readouterr().err
    assert main(["access", "give", "default", "alice@example.org", "--issuer", ISS]) == 0
    assert access.role("default", ALICE) == "owner"
    assert main(["access", "give", "nothing-here", "alice@example.org", "--issuer", ISS]) == 2
    access.claim("review", EVE)
    assert main(["access", "list"]) == 0
    out = capsys.readouterr().out
    assert "default: owned by Alice" in out and "review: owned by Eve" in out
