"""Who may open a workspace when the dashboard asks visitors to sign in (a serving concern, like `workspace` and
`roots`: no analysis module imports it, and the CLI never does: it works on local files as before).

Sign-in is the operator's choice (Streamlit's `st.login`, configured in `.streamlit/secrets.toml`); with it, a
workspace belongs to the user who made it, named by the identity provider's issuer and subject (`Identity.key`:
an email can change hands or be shared by two providers, the pair cannot), and is open to its owner and to those
the owner shared it with, for reading or editing.

**Where the record lives**: one file per workspace, `<EVALCORE_HOME>/work/access/<name>.json`, under its own
lock, apart from the workspace file. The workspace file is rewritten by a three-way merge on every save of every
session, from copies that may be minutes old, and any editor may save it: an owner or a share kept there could be
merged away or written by an editor. Here only `claim`, `share` and `unshare` write, each a read-modify-write under
the lock, and only the owner may share.

Users who signed in are remembered (`remember`) so an owner shares by email with a person who signed in at least
once, and the grant is bound to that person's issuer and subject, not to the email text.

    >>> alice = Identity("https://id.example", "a1", "alice@example.org", "Alice")
    >>> alice.label
    'Alice'
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evalcore.core.errors import ConfigError
from evalcore.core.paths import work_dir

ROLES = ("read", "edit")  # what an owner can give; the owner's own role is "owner"
MAX_SHARES = 200
MAX_TEXT = 200  # an email, a name, an issuer or a subject longer than this is cut (they come from the provider)
_LOCK = threading.Lock()  # threads of this process; `fcntl.flock` for other processes


@dataclass(frozen=True)
class Identity:
    """A signed-in user as the identity provider names them (`st.user`'s `iss` and `sub`)."""

    issuer: str
    subject: str
    email: str = ""
    name: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.issuer, self.subject)

    @property
    def label(self) -> str:
        """How people see this user (untrusted text: escape it where shown)."""
        return self.name or self.email or self.subject

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> Identity | None:
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) and raw.get(k) for k in ("issuer", "subject")
        ):
            return None
        return cls(*(str(raw.get(k) or "")[:MAX_TEXT] for k in ("issuer", "subject", "email", "name")))

    @classmethod
    def from_claims(cls, claims: Any) -> Identity | None:
        """From OpenID Connect ID-token claims (`st.user`); None without an issuer and a subject."""
        get = claims.get if hasattr(claims, "get") else (lambda k, d=None: d)
        iss, sub = get("iss"), get("sub")
        if not isinstance(iss, str) or not isinstance(sub, str) or not iss or not sub:
            return None
        text = lambda v: v[:MAX_TEXT] if isinstance(v, str) else ""
        return cls(iss[:MAX_TEXT], sub[:MAX_TEXT], text(get("email")), text(get("name")))


@dataclass
class Access:
    """One workspace's owner and shares (`shares`: [{"who": Identity, "role": "read" | "edit", "at"}])."""

    owner: Identity
    shares: list[dict[str, Any]]
    created: str = ""

    def role(self, who: Identity | None) -> str | None:
        if who is None:
            return None
        if who.key == self.owner.key:
            return "owner"
        for s in self.shares:
            if s["who"].key == who.key:
                return s["role"]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner.to_dict(),
            "created": self.created,
            "shares": [{"who": s["who"].to_dict(), "role": s["role"], "at": s.get("at", "")} for s in self.shares],
        }


def access_dir() -> Path:
    return work_dir() / "access"


def _path(name: str) -> Path:
    from evalcore.serve.workspace import check_name

    return access_dir() / f"{check_name(name)}.json"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: Any) -> None:
    """Atomic and durable (temp file, fsync, rename), as the workspace files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def record(name: str) -> Access | None:
    """The workspace's owner and shares; None when it has no owner (made before sign-in was turned on, or not
    made at all). An unreadable record is no owner: the workspace then opens to nobody while sign-in is on."""
    raw = _read_json(_path(name))
    if not isinstance(raw, dict):
        return None
    owner = Identity.from_dict(raw.get("owner"))
    if owner is None:
        return None
    shares = []
    for s in raw.get("shares") or []:
        who = Identity.from_dict(s.get("who")) if isinstance(s, dict) else None
        if who is not None and s.get("role") in ROLES:
            shares.append({"who": who, "role": s["role"], "at": str(s.get("at", ""))})
    return Access(owner, shares[:MAX_SHARES], str(raw.get("created", "")))


def role(name: str, who: Identity | None) -> str | None:
    """ "owner", "edit", "read", or None (not open to `who`)."""
    rec = record(name)
    return rec.role(who) if rec is not None else None


def can_edit(name: str, who: Identity | None) -> bool:
    return role(name, who) in ("owner", "edit")


def claim(name: str, who: Identity) -> Access:
    """Make `who` the owner of a new workspace `name`. Refused (ConfigError) when the name is taken: owned by
    anyone, or a workspace file of that name exists (made before sign-in; its owner is the operator's call)."""
    from evalcore.serve.workspace import workspace_path

    path = _path(name)
    with _locked(path):
        if record(name) is not None or workspace_path(name).exists():
            raise ConfigError(f"the workspace name {name!r} is taken; pick another name")
        rec = Access(who, [], time.strftime("%Y-%m-%d %H:%M:%S"))
        _write(path, rec.to_dict())
    return rec


def _change(name: str, owner: Identity, edit) -> Access:
    path = _path(name)
    with _locked(path):
        rec = record(name)
        if rec is None or rec.role(owner) != "owner":
            raise ConfigError("only the workspace's owner can change who it is shared with")
        edit(rec)
        _write(path, rec.to_dict())
    return rec


def share(name: str, owner: Identity, whom: Identity, role_name: str) -> Access:
    """Give `whom` read or edit access (replacing what they had); only the owner may."""
    if role_name not in ROLES:
        raise ConfigError(f"a share is {' or '.join(ROLES)}, got {role_name!r:.40}")
    if whom.key == owner.key:
        raise ConfigError("you own this workspace already")

    def edit(rec: Access) -> None:
        rec.shares = [s for s in rec.shares if s["who"].key != whom.key]
        if len(rec.shares) >= MAX_SHARES:
            raise ConfigError(f"a workspace is shared with at most {MAX_SHARES} people")
        rec.shares.append({"who": whom, "role": role_name, "at": time.strftime("%Y-%m-%d %H:%M:%S")})

    return _change(name, owner, edit)


def unshare(name: str, owner: Identity, whom_key: tuple[str, str]) -> Access:
    def edit(rec: Access) -> None:
        rec.shares = [s for s in rec.shares if s["who"].key != tuple(whom_key)]

    return _change(name, owner, edit)


def give(name: str, who: Identity) -> Access:
    """The operator's act (`evalcore access give`): make `who` the owner of a workspace that exists, e.g. one made
    before sign-in was turned on (`default` included), or hand one over; its shares stay, `who`'s own dropped."""
    from evalcore.serve.workspace import workspace_path

    path = _path(name)
    with _locked(path):
        rec = record(name)
        if rec is None and not workspace_path(name).exists():
            raise ConfigError(f"there is no workspace named {name!r}")
        shares = [s for s in (rec.shares if rec else []) if s["who"].key != who.key]
        rec = Access(who, shares, rec.created if rec else time.strftime("%Y-%m-%d %H:%M:%S"))
        _write(path, rec.to_dict())
    return rec


def recorded() -> list[str]:
    """The names of the workspaces that have an access record (a workspace claimed and not saved yet included)."""
    from evalcore.serve.workspace import NAME_RE

    return sorted(p.stem for p in access_dir().glob("*.json") if NAME_RE.fullmatch(p.stem))


def visible(names: list[str], who: Identity) -> list[tuple[str, str]]:
    """The workspaces among `names` (and those whose record exists without a file yet) open to `who`, with
    their role, in the order given."""
    out = []
    for name in dict.fromkeys([*names, *recorded()]):
        try:
            r = role(name, who)
        except ConfigError:
            continue
        if r is not None:
            out.append((name, r))
    return out


def home_name(who: Identity) -> str:
    """The workspace a signed-in user lands in without `?ws=`: their own, named from their label and a hash of
    their issuer and subject (stable, unique, a valid workspace name)."""
    digest = hashlib.sha256(f"{who.issuer}\n{who.subject}".encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", (who.email.split("@")[0] if who.email else who.label)).strip("-_")[:24]
    return f"{slug or 'me'}-{digest}"


# --- people who signed in (so an owner can share by email) --------------------------------------------------------


def _users_path() -> Path:
    return access_dir() / "_users.json"  # "_": never a workspace name, so no workspace's record can be this file


def remember(who: Identity) -> None:
    """Note a signed-in user (written only when new or changed)."""
    path = _users_path()
    raw = _read_json(path)
    users = raw if isinstance(raw, list) else []
    if who.to_dict() in users:
        return
    with _locked(path):
        raw = _read_json(path)
        users = [
            u
            for u in (raw if isinstance(raw, list) else [])
            if Identity.from_dict(u) is not None and Identity.from_dict(u).key != who.key
        ]
        _write(path, [*users, who.to_dict()][-10_000:])


def find_users(text: str) -> list[Identity]:
    """Users who signed in whose email (any case) or subject is `text`."""
    wanted = text.strip()
    if not wanted:
        return []
    raw = _read_json(_users_path())
    found = [Identity.from_dict(u) for u in (raw if isinstance(raw, list) else [])]
    return [u for u in found if u is not None and (u.email.lower() == wanted.lower() or u.subject == wanted)]


__all__ = [
    "ROLES",
    "Access",
    "Identity",
    "can_edit",
    "claim",
    "find_users",
    "give",
    "home_name",
    "record",
    "remember",
    "role",
    "share",
    "unshare",
    "visible",
]
