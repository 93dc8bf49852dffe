"""Work done once per data: the metadata features kept on disk, so reopening a million rows reads them back.

Computing the 22 text features of a million tweets takes seconds of regex work (bench/bench_million.py); the
same rows give the same features, so a new session, another user or a restarted server should read them,
not recompute them. This store keeps each feature table as one Parquet file under
`$EVALCORE_HOME/cache/features/` (beside the prediction cache, counted and pruned with it by `doctor`):

- the file name is a key over what the table depends on: a fingerprint of the texts (pandas' per-row
  hash of every text, then sha256 of those hashes, with the row count), the custom features' definitions,
  and the code that computes features (the source of `evalcore.analyze.features`, `lexicons`, `textsearch` and the
  versions of `emoji` and `vaderSentiment`), so a changed word list or a new evalcore never reads an old
  table;
- the file says what it is: its Parquet metadata holds the key and the row count; a file whose metadata,
  row count or columns do not match, or that does not read at all (cut, garbage), is recomputed and
  replaced, never trusted;
- writers never expose a partial file: each writes a temp file in the same folder and renames it over the
  target (`os.replace`, atomic on one file system), so concurrent sessions or processes writing the same
  table both leave a complete one and a reader sees the old file or the new one;
- the caller does not wait for the write: the table it computed is returned at once and encoded to Parquet on
  a side thread (a million rows' features: ~0.2 s off a cold Compare); in this process a reader, `stats`,
  `prune` and `clear` wait for pending writes first (`flush`), and the interpreter waits for them at exit;
- the folder is capped (`$EVALCORE_FEATURES_MB`, default 2,000 MB): least recently read tables go first;
- small data skips the store (below `$EVALCORE_FEATURES_MIN_ROWS` rows, default 20,000): computing is
  faster than a disk round trip there, and tests of small tables stay unaffected.

`COMPUTED` and `READ` count computations and disk reads per kind; tests prove a second load read the disk
by counting, not by timing.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from evalcore.core import paths

CAP_VAR = "EVALCORE_FEATURES_MB"
DEFAULT_CAP_MB = 2000
MIN_ROWS_VAR = "EVALCORE_FEATURES_MIN_ROWS"
DEFAULT_MIN_ROWS = 20_000
FORMAT = "1"  # bump when the stored layout changes
_META_KEY, _META_ROWS, _META_FORMAT = b"evalcore.key", b"evalcore.rows", b"evalcore.format"

COMPUTED: Counter[str] = Counter()  # kind -> tables computed in this process
READ: Counter[str] = Counter()  # kind -> tables read back from disk
_lock = threading.Lock()
_pending: dict[Path, threading.Thread] = {}  # tables being written on a side thread, by path


def flush(path: Path | None = None) -> None:
    """Wait for the pending writes (of `path` only, when given): what this process wrote is on disk after it."""
    with _lock:
        threads = [t for p, t in _pending.items() if path is None or p == path]
    for thread in threads:
        thread.join()


def store_dir() -> Path:
    """Folder of the stored tables: `$EVALCORE_HOME/cache/features`."""
    return paths.cache_path().parent / "features"


def cap_bytes() -> int:
    try:
        return int(float(os.environ.get(CAP_VAR, DEFAULT_CAP_MB)) * 1e6)
    except ValueError:
        return int(DEFAULT_CAP_MB * 1e6)


def min_rows() -> int:
    try:
        return int(os.environ.get(MIN_ROWS_VAR, DEFAULT_MIN_ROWS))
    except ValueError:
        return DEFAULT_MIN_ROWS


def texts_fingerprint(texts: pd.Series | Sequence[str], factorized: tuple[Any, Any] | None = None) -> str:
    """sha256 over pandas' 64-bit hash of each text, in order, and the row count: one pass in C
    (about 0.7 s on a million tweets on a busy machine), so checking that reopened data is the same data costs little.
    `factorized`: the texts' `pd.factorize` when the caller has it; each distinct text is hashed once, the
    same numbers."""
    from pandas.core.util.hashing import hash_array

    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    if factorized is not None and len(factorized[0]) == len(series) and not (factorized[0] < 0).any():
        codes, uniques = factorized
        hashes = hash_array(np.asarray(uniques, dtype=object), categorize=False)[codes]
    else:
        hashes = pd.util.hash_pandas_object(series, index=False).to_numpy()  # no copy to Python objects
    return hashlib.sha256(hashes.tobytes() + str(len(series)).encode()).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """What feature values depend on besides the texts: the source of the feature modules (found through the
    imported modules, so it follows them wherever they live) and the versions of the word-list packages."""
    import importlib.metadata as md

    from evalcore.analyze import features, lexicons, textsearch

    digest = hashlib.sha256(FORMAT.encode())
    for module in (features, lexicons, textsearch):
        digest.update(Path(module.__file__).read_bytes())
    for dist in ("emoji", "vaderSentiment", "pandas", "pyarrow"):
        try:
            digest.update(f"{dist}={md.version(dist)}".encode())
        except md.PackageNotFoundError:
            digest.update(f"{dist}=none".encode())
    return digest.hexdigest()


def key_of(kind: str, parts: Any) -> str:
    """The stored table's name: sha256 over the kind, the code version and the JSON of `parts`."""
    raw = json.dumps([kind, code_version(), parts], sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def stored_frame(kind: str, key: str, rows: int, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table stored under `key` when a sound one is there (its metadata names `key` and `rows`), else
    `compute()`, written atomically for the next reader. Index: 0..rows-1."""
    path = store_dir() / f"{key}.parquet"
    frame = _read(path, key, rows)
    if frame is not None:
        with _lock:
            READ[kind] += 1
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        return frame
    frame = compute().reset_index(drop=True)
    with _lock:
        COMPUTED[kind] += 1
    _write_later(path, frame, key, rows)
    return frame


def _write_later(path: Path, frame: pd.DataFrame, key: str, rows: int) -> None:
    """`_write` then `prune` on a side thread (not a daemon: the interpreter waits for it at exit). The Arrow table
    is built here, from the frame as returned, so a caller changing its frame afterwards changes nothing stored."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except Exception:  # noqa: BLE001 (the store is disposable: the next reader recomputes)
        return

    def run() -> None:
        try:
            _write(path, table, key, rows)
            prune(wait=False)
        finally:
            with _lock:
                if _pending.get(path) is thread:
                    del _pending[path]

    thread = threading.Thread(target=run, name="evalcore-featurestore-write")
    with _lock:
        _pending[path] = thread
    thread.start()


def text_features(texts: pd.Series, custom: Sequence[Any] = (), *, store: bool | None = None) -> pd.DataFrame:
    """`evalcore.analyze.features.compute_features(texts, custom=custom)`, read from the store when this data's
    features were computed before (by any session or process on this evalcore home). `store`: None decides
    by size (`min_rows`), False always computes, True always uses the store."""

    use = len(texts) >= min_rows() if store is None else store
    factorized = pd.factorize(texts)  # once, for the fingerprint and the distinct texts' computation
    if not use:
        with _lock:
            COMPUTED["features"] += 1
        return distinct_features(texts, custom, factorized)
    key = key_of("features", [texts_fingerprint(texts, factorized), [c.to_dict() for c in custom]])
    frame = stored_frame("features", key, len(texts), lambda: distinct_features(texts, custom, factorized))
    frame.index = texts.index
    return frame


def distinct_features(
    texts: pd.Series, custom: Sequence[Any] = (), factorized: tuple[Any, Any] | None = None
) -> pd.DataFrame:
    """`compute_features` run once per distinct text, then spread back to the rows: a feature is a function
    of the text alone, so repeated texts (retweets, templated prompts, a sample drawn with replacement) cost
    one computation. Used when at most 80% of the texts are distinct; otherwise the plain computation.
    `factorized`: the texts' `pd.factorize`, when the caller has it."""
    from evalcore.analyze.features import compute_features

    codes, uniques = factorized if factorized is not None else pd.factorize(texts)
    if len(uniques) > 0.8 * len(texts) or (codes < 0).any():
        return compute_features(texts, custom=custom)
    feats = compute_features(pd.Series(uniques, dtype=texts.dtype), custom=custom)
    out = feats.take(codes).reset_index(drop=True)
    out.index = texts.index
    return out


def prune(cap: int | None = None, *, wait: bool = True) -> list[Path]:
    """Remove stored tables, least recently read first, until the folder fits the cap; returns what went.
    Stale temp files of killed writers (over an hour old) go too. `wait`: after this process's pending writes."""
    import time

    if wait:
        flush()
    cap = cap_bytes() if cap is None else cap
    folder = store_dir()
    if not folder.is_dir():
        return []
    entries, removed = [], []
    for item in folder.iterdir():
        try:
            st = item.stat()
        except OSError:
            continue
        if item.name.startswith(".") and ".tmp-" in item.name:
            if time.time() - st.st_mtime > 3600:
                item.unlink(missing_ok=True)
                removed.append(item)
            continue
        if item.suffix == ".parquet":
            entries.append((st.st_mtime, st.st_size, item))
    total = sum(size for _, size, _ in entries)
    for _, size, item in sorted(entries):
        if total <= cap:
            break
        item.unlink(missing_ok=True)
        total -= size
        removed.append(item)
    return removed


def clear() -> int:
    """Remove every stored table; returns how many."""
    flush()
    folder = store_dir()
    n = 0
    if folder.is_dir():
        for item in folder.glob("*.parquet"):
            item.unlink(missing_ok=True)
            n += 1
    return n


def stats() -> dict[str, Any]:
    """Tables, bytes and cap of the store (for `doctor` and `cache stats`)."""
    flush()
    folder = store_dir()
    files = list(folder.glob("*.parquet")) if folder.is_dir() else []
    return {
        "path": str(folder),
        "tables": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "cap_bytes": cap_bytes(),
    }


def _read(path: Path, key: str, rows: int) -> pd.DataFrame | None:
    """The stored table when it reads whole and its metadata matches; None (recompute) otherwise."""
    import pyarrow.parquet as pq

    flush(path)  # this process may be writing it right now
    if not path.is_file():
        return None
    try:
        meta = pq.read_schema(path).metadata or {}
        if (
            meta.get(_META_KEY) != key.encode()
            or meta.get(_META_ROWS) != str(rows).encode()
            or meta.get(_META_FORMAT) != FORMAT.encode()
        ):
            return None
        table = pq.read_table(path)
        if table.num_rows != rows:
            return None
        return table.to_pandas()
    except Exception:  # cut, garbage, unreadable: the store is disposable, so recompute  # noqa: BLE001
        return None


def _write(path: Path, table: Any, key: str, rows: int) -> None:
    """The Arrow table to a temp file + atomic rename; a failure to write (disk full, read-only home) only costs
    the next reader a recomputation."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(table.schema.metadata or {})
        meta.update({_META_KEY: key.encode(), _META_ROWS: str(rows).encode(), _META_FORMAT: FORMAT.encode()})
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001
        tmp.unlink(missing_ok=True)


__all__ = [
    "CAP_VAR",
    "COMPUTED",
    "MIN_ROWS_VAR",
    "READ",
    "clear",
    "code_version",
    "distinct_features",
    "flush",
    "prune",
    "stats",
    "store_dir",
    "stored_frame",
    "text_features",
    "texts_fingerprint",
]
