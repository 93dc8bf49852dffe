"""Prediction cache: model outputs keyed by (model fingerprint, sha256 of the text), in SQLite.

Why SQLite: one file under `$EVALCORE_HOME`, transactions, and safe concurrent use by several
processes (the CLI and the app scoring at once). Choices that follow from the issue:

- WAL journal, `synchronous=NORMAL`: readers never block the writer; a committed batch survives a
  killed process (SIGKILL); only an OS crash or power cut can lose the last commits, never
  corrupt the file. Each `put_many` is one short `BEGIN IMMEDIATE` transaction, so scoring that
  commits per batch resumes after a kill with every committed batch complete.
- The file says what it is: `PRAGMA application_id` + `user_version` (schema version) + a `meta`
  table. A foreign SQLite file, another schema version, garbage bytes or a truncated file is moved
  aside to `<name>.corrupt-<UTC timestamp>` (with its -wal/-shm) and a fresh cache is built; the
  `warning` attribute says so, naming both paths. The cache is disposable, so rebuilding beats
  refusing to run.
- Probabilities are little-endian float32 bytes (+ their count `k`): compact and bit-exact on the
  way back. Text hashes are stored as 32 raw bytes, fingerprints once in `models`, with the model's
  display name, spec and first / last write times, so `cache stats` speaks of models, not hashes.
- Schema 2 added those model columns; a schema-1 file is migrated in place (columns added, its
  predictions kept, times unknown), in one transaction.
- One connection per object, shared across threads under a lock (Streamlit calls from several
  threads); other processes coordinate through SQLite's locks and a 30 s busy timeout.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from evalcore.core import paths
from evalcore.core.errors import CacheError

APPLICATION_ID = 0x45564331  # "EVC1": marks the file as an evalcore prediction cache
SCHEMA_VERSION = 2
MIGRATABLE = (1,)  # older schema versions upgraded in place by `_migrate`
PROBS_DTYPE = np.dtype("<f4")
BUSY_TIMEOUT_S = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_COMPANIONS = ("-wal", "-shm", "-journal")
_TABLES = ("meta", "models", "predictions")
_CORRUPT_CODES = {getattr(sqlite3, "SQLITE_CORRUPT", 11), getattr(sqlite3, "SQLITE_NOTADB", 26)}

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE models (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE,"
    " name TEXT, spec TEXT, created_at TEXT, updated_at TEXT)",
    "CREATE TABLE predictions ("
    " model_id INTEGER NOT NULL REFERENCES models(id),"
    " text_hash BLOB NOT NULL,"
    " pred INTEGER NOT NULL,"
    " k INTEGER NOT NULL,"
    " probs BLOB NOT NULL,"
    " PRIMARY KEY (model_id, text_hash)) WITHOUT ROWID",
)

T = TypeVar("T")


class _Unusable(Exception):
    """The file at the cache path is not a usable cache; `str()` says why."""


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in _CORRUPT_CODES or "malformed" in str(exc)


class PredictionCache:
    """Cached (pred index, probability vector) per model fingerprint and text hash.

    >>> import tempfile, numpy as np
    >>> with PredictionCache(Path(tempfile.mkdtemp()) / "c.sqlite") as cache:
    ...     h = PredictionCache.text_hash("good movie")
    ...     cache.put_many("vader|v1", [(h, 2, np.array([0.1, 0.2, 0.7], dtype=np.float32))])
    ...     cache.get_many("vader|v1", [h])[h][0]
    2
    """

    warning: str | None

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else paths.cache_path()
        self.warning = None
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None
        self._chunk = 999
        self._pid = os.getpid()
        self.journal_mode = ""
        self._open()

    # ----- public API -------------------------------------------------------------------------

    @staticmethod
    def text_hash(text: str) -> str:
        """sha256 hex of the UTF-8 text (lone surrogates kept, so any `str` hashes)."""
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def text_hashes(cls, texts: Iterable[str]) -> list[str]:
        """`text_hash` of each text, in order."""
        return [cls.text_hash(t) for t in texts]

    def get_many(self, fingerprint: str, hashes: Sequence[str]) -> dict[str, tuple[int, np.ndarray]]:
        """Cached rows among `hashes` (keys exactly as given); missing hashes are simply absent."""
        wanted: dict[bytes, str] = {}
        for h in hashes:
            wanted.setdefault(_hash_bytes(h), h)
        if not wanted:
            return {}

        def read(con: sqlite3.Connection) -> dict[str, tuple[int, np.ndarray]]:
            row = con.execute("SELECT id FROM models WHERE fingerprint = ?", (fingerprint,)).fetchone()
            if row is None:
                return {}
            out: dict[str, tuple[int, np.ndarray]] = {}
            keys = list(wanted)
            step = self._chunk
            for start in range(0, len(keys), step):
                chunk = keys[start : start + step]
                sql = (
                    "SELECT text_hash, pred, probs FROM predictions WHERE model_id = ? "
                    f"AND text_hash IN ({','.join('?' * len(chunk))})"
                )
                for key, pred, blob in con.execute(sql, (row[0], *chunk)):
                    out[wanted[key]] = (pred, np.frombuffer(blob, dtype=PROBS_DTYPE).copy())
            return out

        return self._run(read)

    def put_many(
        self,
        fingerprint: str,
        rows: Iterable[tuple[str, int, np.ndarray]],
        *,
        name: str | None = None,
        spec: str | None = None,
    ) -> None:
        """Store rows `(text hash, pred index, probs)` in one committed transaction.

        A row already present is replaced (the same fingerprint gives the same output, so two
        processes writing the same row agree). Nothing is written if any row is invalid.
        `name` and `spec` describe the model for `stats` (kept when None); the write time is noted.
        """
        records = [_record(h, pred, probs) for h, pred, probs in rows]
        if not records:
            return

        def write(con: sqlite3.Connection) -> None:
            now = _now()
            with _transaction(con):
                con.execute("INSERT OR IGNORE INTO models (fingerprint, created_at) VALUES (?, ?)", (fingerprint, now))
                (model_id,) = con.execute("SELECT id FROM models WHERE fingerprint = ?", (fingerprint,)).fetchone()
                con.execute(
                    "UPDATE models SET name = COALESCE(?, name), spec = COALESCE(?, spec), updated_at = ? WHERE id = ?",
                    (name, spec, now, model_id),
                )
                con.executemany(
                    "INSERT OR REPLACE INTO predictions (model_id, text_hash, pred, k, probs) VALUES (?, ?, ?, ?, ?)",
                    [(model_id, *r) for r in records],
                )

        self._run(write)

    def name_model(self, fingerprint: str, name: str, spec: str) -> None:
        """Describe a model whose rows carry no name yet (rows migrated from schema 1, read back
        by a run that computed nothing); a no-op for models already described."""

        def write(con: sqlite3.Connection) -> None:
            with _transaction(con):
                con.execute(
                    "UPDATE models SET name = ?, spec = ? WHERE fingerprint = ? AND name IS NULL",
                    (name, spec, fingerprint),
                )

        self._run(write)

    def export(self, fingerprint: str, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row of one model with `k` probabilities, sorted by text hash: (hashes as ASCII hex
        `S64`, pred (n,) int64, probs (n, k) float32). What a scoring job on other machines gets
        instead of the SQLite file (see `evalcore.predict.ray_scoring`)."""

        def read(con: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rows = con.execute(
                "SELECT text_hash, pred, probs FROM predictions JOIN models ON models.id = model_id "
                "WHERE fingerprint = ? AND k = ? ORDER BY text_hash",
                (fingerprint, k),
            ).fetchall()
            hashes = np.array([h.hex() for h, _, _ in rows], dtype="S64")
            pred = np.array([p for _, p, _ in rows], dtype=np.int64)
            probs = (
                np.frombuffer(b"".join(b for _, _, b in rows), dtype=PROBS_DTYPE).reshape(len(rows), k)
                if rows
                else np.zeros((0, k), dtype=PROBS_DTYPE)
            )
            return hashes, pred, probs.astype(np.float32)

        return self._run(read)

    def count(self, fingerprint: str | None = None) -> int:
        """Rows cached for one fingerprint, or for all when None."""

        def read(con: sqlite3.Connection) -> int:
            if fingerprint is None:
                return con.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
            return con.execute(
                "SELECT COUNT(*) FROM predictions JOIN models ON models.id = model_id WHERE fingerprint = ?",
                (fingerprint,),
            ).fetchone()[0]

        return self._run(read)

    def stats(self) -> dict:
        """What the UI and `cache stats` show: path, total rows, bytes on disk (with WAL), rows per
        fingerprint, and `models`: one record per model, most recently written first, with its
        name, spec, rows, `bytes` (its rows' stored bytes: hash, probabilities, two integers) and
        first / last write times (ISO UTC; None for rows migrated from schema 1)."""

        def read(con: sqlite3.Connection) -> dict:
            models = [
                dict(zip(("fingerprint", "name", "spec", "created_at", "updated_at", "rows", "bytes"), r))
                for r in con.execute(
                    "SELECT fingerprint, name, spec, created_at, updated_at, COUNT(model_id), "
                    "COALESCE(SUM(LENGTH(text_hash) + LENGTH(probs) + 16), 0) FROM models "
                    "LEFT JOIN predictions ON models.id = model_id "
                    "GROUP BY models.id ORDER BY updated_at IS NULL, updated_at DESC, fingerprint"
                )
            ]
            per = {m["fingerprint"]: m["rows"] for m in sorted(models, key=lambda m: m["fingerprint"])}
            return {
                "path": str(self.path),
                "rows": sum(per.values()),
                "fingerprints": per,
                "models": models,
                "file_bytes": sum(_size(self.path, s) for s in ("", "-wal")),
                "schema_version": SCHEMA_VERSION,
                "journal_mode": con.execute("PRAGMA journal_mode").fetchone()[0],
                "warning": self.warning,
            }

        return self._run(read)

    def clear(self, fingerprint: str | None = None) -> int:
        """Delete the rows of one fingerprint (all when None); returns how many were deleted."""

        def write(con: sqlite3.Connection) -> int:
            with _transaction(con):
                if fingerprint is None:
                    n = con.execute("DELETE FROM predictions").rowcount
                    con.execute("DELETE FROM models")
                else:
                    n = con.execute(
                        "DELETE FROM predictions WHERE model_id IN (SELECT id FROM models WHERE fingerprint = ?)",
                        (fingerprint,),
                    ).rowcount
                    con.execute("DELETE FROM models WHERE fingerprint = ?", (fingerprint,))
            con.execute("PRAGMA incremental_vacuum")  # give freed pages back to the file system
            return n

        return self._run(write)

    def integrity_check(self) -> str:
        """SQLite's full `integrity_check`: "ok" when the file is sound (for tests and `doctor`)."""
        return self._run(lambda con: "\n".join(r[0] for r in con.execute("PRAGMA integrity_check").fetchall()))

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple:
        """Pickle as the path, so a cache can be handed to worker processes (spawn, Ray)."""
        return (type(self), (self.path,))

    def __repr__(self) -> str:
        return f"PredictionCache({str(self.path)!r})"

    # ----- opening, checking, recovering ------------------------------------------------------

    def _open(self) -> None:
        """Connect and check the file; move a bad file aside once and start fresh."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create the prediction cache folder {self.path.parent}: {exc}. "
                f"Set EVALCORE_HOME to a writable folder."
            ) from exc
        try:
            self._con = self._connect_checked()
        except _Unusable as bad:
            self._move_aside(str(bad))
            try:
                self._con = self._connect_checked()
            except _Unusable as again:
                raise CacheError(
                    f"the prediction cache {self.path} was moved aside but a fresh one could not be built: {again}"
                ) from again

    def _connect_checked(self) -> sqlite3.Connection:
        """A connection to a sound cache file of our schema, creating it when absent or empty."""
        self._inode = _inode(self.path)  # so `_move_aside` moves only the file judged here
        _check_header(self.path)
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc
        try:
            verdict = con.execute("PRAGMA quick_check").fetchall()
            if verdict != [("ok",)]:
                raise _Unusable("SQLite's quick_check failed: " + "; ".join(r[0] for r in verdict[:3]))
            if not con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall():
                # must precede the first table; on a non-empty file it would rewrite the header
                con.execute("PRAGMA auto_vacuum = INCREMENTAL")
            _ensure_schema(con)
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            con.execute("PRAGMA synchronous = NORMAL")
            self._chunk = max(1, min(5000, con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 1))
            self.journal_mode = mode
            self._inode = _inode(self.path)  # the file exists now, even if it did not above
            return con
        except _Unusable:
            con.close()
            raise
        except sqlite3.DatabaseError as exc:
            con.close()
            if _is_corruption(exc):
                raise _Unusable(f"SQLite reports: {exc}") from exc
            raise self._error("open", exc) from exc

    def _move_aside(self, reason: str) -> None:
        """Rename the bad file and its -wal/-shm/-journal to `<name>.corrupt-<timestamp>...`."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        if _inode(self.path) != self._inode:
            return  # another process already replaced the bad file with a fresh cache
        try:
            for suffix in ("", *_COMPANIONS):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    os.replace(src, f"{target}{suffix}")
        except OSError as exc:
            raise CacheError(
                f"the prediction cache {self.path} is unusable ({reason}) and could not be moved "
                f"aside to {target}: {exc}. Delete it or set EVALCORE_HOME to another folder."
            ) from exc
        self.warning = (
            f"The prediction cache {self.path} was unusable ({reason}); it was moved aside to "
            f"{target} and a fresh, empty cache was started at {self.path}."
        )

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` under the lock; corruption found mid-session triggers one move-aside + retry."""
        with self._lock:
            if self._pid != os.getpid():  # forked: SQLite connections must not cross a fork
                self._con, self._pid = None, os.getpid()  # abandon, never close, the parent's
                self._open()
            for attempt in (1, 2):
                if self._con is None:
                    raise CacheError(f"the prediction cache {self.path} is closed")
                try:
                    return fn(self._con)
                except sqlite3.DatabaseError as exc:
                    if attempt == 2 or not _is_corruption(exc):
                        raise self._error("use", exc) from exc
                    self.close()
                    self._move_aside(f"SQLite reports: {exc}")
                    self._open()
            raise AssertionError("unreachable")

    def _error(self, action: str, exc: sqlite3.Error) -> CacheError:
        hint = ""
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            hint = f" Another process held it for more than {BUSY_TIMEOUT_S:.0f} s; retry."
        elif "readonly" in text or "unable to open" in text or "disk" in text:
            hint = " Check that its folder is writable and has free space, or set EVALCORE_HOME."
        return CacheError(f"cannot {action} the prediction cache {self.path}: {exc}.{hint}")


# ----- helpers ----------------------------------------------------------------------------------


def _ensure_schema(con: sqlite3.Connection) -> None:
    """Create the schema in an empty file, or check that the file is ours and of our version.

    Runs in one `BEGIN IMMEDIATE` transaction so two processes creating a fresh cache at once
    do not both create it.
    """
    with _transaction(con):
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = sorted(
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
        if app_id == 0 and not tables:
            for stmt in _SCHEMA:
                con.execute(stmt)
            con.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("probs_dtype", PROBS_DTYPE.str),
                    ("created_at", _now()),
                ],
            )
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif app_id != APPLICATION_ID:
            raise _Unusable(f"a foreign SQLite database: application_id {app_id}, tables {', '.join(tables) or 'none'}")
        elif version != SCHEMA_VERSION and version not in MIGRATABLE:
            raise _Unusable(
                f"schema version {version}; this evalcore reads {SCHEMA_VERSION}"
                f" (and migrates {', '.join(map(str, MIGRATABLE))})"
            )
        elif not set(_TABLES) <= set(tables):
            raise _Unusable(f"tables {', '.join(tables) or 'none'}; expected {', '.join(_TABLES)}")
        elif version != SCHEMA_VERSION:
            _migrate(con, version)


def _migrate(con: sqlite3.Connection, version: int) -> None:
    """Schema 1 -> 2 in place, inside the caller's transaction: the model description columns
    are added (NULL for existing models: their names and times are unknown); no prediction moves."""
    have = {r[1] for r in con.execute("PRAGMA table_info(models)")}
    for col in ("name", "spec", "created_at", "updated_at"):
        if col not in have:
            con.execute(f"ALTER TABLE models ADD COLUMN {col} TEXT")
    con.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("schema_version", str(SCHEMA_VERSION)), (f"migrated_from_{version}_at", _now())],
    )
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, locked from the start (`IMMEDIATE`): waiting for the lock happens
    at BEGIN under the busy timeout, never as a deadlock when a reader upgrades to writer."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _check_header(path: Path) -> None:
    """Reject garbage and files cut inside the 100-byte header before SQLite sees them."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CacheError(f"cannot read the prediction cache {path}: {exc}") from exc
    if not head:
        return  # an empty file is a new database
    if not head.startswith(_SQLITE_MAGIC):
        raise _Unusable("not an SQLite file")
    if len(head) < 100:
        raise _Unusable(f"truncated to {len(head)} bytes")


def _hash_bytes(h: str) -> bytes:
    try:
        raw = bytes.fromhex(h)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CacheError(
            f"text hash {h!r} is not a sha256 hex digest (64 hex characters); use PredictionCache.text_hash(text)"
        )
    return raw


def _record(h: str, pred: int, probs: np.ndarray) -> tuple[bytes, int, int, bytes]:
    arr = np.ascontiguousarray(probs, dtype=PROBS_DTYPE)
    if arr.ndim != 1:
        raise CacheError(f"probs for text hash {h} has shape {arr.shape}; expected one vector (k,) per text")
    return _hash_bytes(h), int(pred), arr.size, arr.tobytes()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _size(path: Path, suffix: str) -> int:
    try:
        return os.path.getsize(f"{path}{suffix}")
    except OSError:
        return 0
