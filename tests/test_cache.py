"""Prediction cache: round trip, restart, two writer processes, a killed writer, bad files.

Real SQLite files in tmp dirs and real child processes; no mocks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from evalcore.core.errors import CacheError
from evalcore.predict.cache import APPLICATION_ID, SCHEMA_VERSION, PredictionCache

REPO = Path(__file__).resolve().parent.parent

# Child process: says "ready", waits for the file `go`, then writes batches first..last-1 of `size`
# rows for fingerprint "fp" (batch b: hashes of "b-j", pred b), printing "committed b <time>" after
# each put_many; after its first batch it waits until `writers` processes have committed one, so
# concurrent writers surely overlap. Then, if `big` > 0, one batch `last` of `big` rows, announced
# by "begin <last>" just before its put_many.
WRITER = textwrap.dedent("""
    import os, sys, time, numpy as np
    from evalcore.predict.cache import PredictionCache
    path, go = sys.argv[1], sys.argv[2]
    first, last, size, big, writers = map(int, sys.argv[3:8])
    def rows(b, n):
        return [(PredictionCache.text_hash(f"{b}-{j}"), b, np.full(3, b / 7, np.float32))
                for j in range(n)]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.002)
    with PredictionCache(path) as cache:
        for b in range(first, last):
            cache.put_many("fp", rows(b, size))
            print("committed", b, time.time(), flush=True)
            if b == first:
                open(f"{go}-{first}", "w").close()
                while sum(n.startswith("go-") for n in os.listdir(os.path.dirname(go))) < writers:
                    time.sleep(0.002)
        if big:
            batch = rows(last, big)
            print("begin", last, time.time(), flush=True)
            cache.put_many("fp", batch)
            print("committed", last, time.time(), flush=True)
""")


def rows_for(n: int, k: int = 3, seed: int = 0) -> list[tuple[str, int, np.ndarray]]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k), size=n).astype(np.float32)
    return [(PredictionCache.text_hash(f"text {i}"), int(p.argmax()), p) for i, p in enumerate(probs)]


def spawn_writer(path: Path, first: int, last: int, size: int, big: int = 0, writers: int = 1) -> subprocess.Popen:
    script, go = path.parent / "writer.py", path.parent / "go"
    if not script.exists():  # never rewritten while another writer may be reading it
        script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [str(a) for a in (script, path, go, first, last, size, big, writers)]
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True, env=env)


def go(path: Path, procs: list[subprocess.Popen]) -> None:
    """Start the writers together, once each has imported evalcore and says it is ready."""
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    (path.parent / "go").touch()


def batch_hashes(b: int, size: int) -> list[str]:
    return [PredictionCache.text_hash(f"{b}-{j}") for j in range(size)]


def test_round_trip_is_bit_exact(tmp_path):
    rows = rows_for(50) + [
        (PredictionCache.text_hash("no probs"), 1, np.full(3, np.nan, np.float32)),
        (PredictionCache.text_hash("two labels"), 0, np.array([0.25, 0.75])),
    ]
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("fp-a", rows)
        missing = PredictionCache.text_hash("never scored")
        got = cache.get_many("fp-a", [h for h, _, _ in rows] + [missing])
        assert missing not in got and len(got) == len(rows)
        for h, pred, probs in rows:
            got_pred, got_probs = got[h]
            assert got_pred == pred and got_probs.dtype == np.float32
            assert got_probs.tobytes() == np.asarray(probs, np.float32).tobytes()
        assert cache.get_many("other-fp", [h for h, _, _ in rows]) == {}
        assert cache.get_many("fp-a", []) == {}


def test_keys_come_back_as_given_and_duplicates_are_fine(tmp_path):
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        h = PredictionCache.text_hash("x")
        cache.put_many("fp", [(h, 1, np.array([0.5, 0.5]))])
        assert list(cache.get_many("fp", [h, h])) == [h]
        assert list(cache.get_many("fp", [h.upper()])) == [h.upper()]


def test_get_many_chunks_long_hash_lists(tmp_path):
    rows = rows_for(100)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        cache._chunk = 7  # force many IN (...) chunks, with a ragged last one
        cache.put_many("fp", rows)
        got = cache.get_many("fp", [h for h, _, _ in rows])
        assert [got[h][0] for h, _, _ in rows] == [p for _, p, _ in rows]


def test_replace_count_stats_clear(tmp_path):
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("a", rows_for(10))
        cache.put_many("b", rows_for(4))
        h = rows_for(1)[0][0]
        cache.put_many("a", [(h, 2, np.array([0.0, 0.0, 1.0]))])  # a newer output replaces
        assert cache.get_many("a", [h])[h][0] == 2
        assert (cache.count(), cache.count("a"), cache.count("b"), cache.count("z")) == (14, 10, 4, 0)
        stats = cache.stats()
        assert stats["fingerprints"] == {"a": 10, "b": 4} and stats["rows"] == 14
        assert stats["file_bytes"] > 0 and stats["journal_mode"] == "wal"
        assert cache.clear("a") == 10 and cache.count() == 4
        assert cache.clear() == 4 and cache.count() == 0 and cache.stats()["fingerprints"] == {}


def test_invalid_rows_are_refused_and_nothing_is_written(tmp_path):
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        good = rows_for(3)
        with pytest.raises(CacheError, match="not a sha256 hex digest"):
            cache.put_many("fp", [*good, ("abc", 0, np.zeros(3))])
        with pytest.raises(CacheError, match=r"shape \(2, 3\)"):
            cache.put_many("fp", [*good, (good[0][0], 0, np.zeros((2, 3)))])
        assert cache.count() == 0
        with pytest.raises(CacheError, match="not a sha256 hex digest"):
            cache.get_many("fp", ["zz"])


def test_survives_restart_and_marks_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALCORE_HOME", str(tmp_path / "home"))
    rows = rows_for(20)
    with PredictionCache() as cache:
        assert cache.path == tmp_path / "home" / "cache" / "predictions.sqlite"
        cache.put_many("fp", rows)
    with PredictionCache() as again:
        assert again.warning is None and again.count("fp") == 20
        assert set(again.get_many("fp", [h for h, _, _ in rows])) == {h for h, _, _ in rows}
    con = sqlite3.connect(tmp_path / "home" / "cache" / "predictions.sqlite")
    pragmas = [con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version", "journal_mode")]
    assert pragmas == [APPLICATION_ID, SCHEMA_VERSION, "wal"]
    con.close()


def test_closed_cache_says_so(tmp_path):
    cache = PredictionCache(tmp_path / "c.sqlite")
    cache.close()
    cache.close()
    with pytest.raises(CacheError, match="closed"):
        cache.count()


def test_threads_share_one_cache(tmp_path):
    errors: list[BaseException] = []
    with PredictionCache(tmp_path / "c.sqlite") as cache:

        def work(t: int) -> None:
            try:
                for b in range(10):
                    rows = [(PredictionCache.text_hash(f"{t}-{b}-{j}"), t, np.ones(2)) for j in range(20)]
                    cache.put_many("fp", rows)
                    assert len(cache.get_many("fp", [h for h, _, _ in rows])) == 20
            except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == [] and cache.count() == 4 * 10 * 20


def _put_in_child(cache: PredictionCache, rows: list) -> None:
    cache.put_many("child", rows)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_cache_object_handed_to_a_child_process(tmp_path, method):
    rows = rows_for(30)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("parent", rows)
        ctx = multiprocessing.get_context(method)
        child = ctx.Process(target=_put_in_child, args=(cache, rows))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        assert cache.count("child") == 30 and cache.count("parent") == 30
        assert cache.integrity_check() == "ok"


def test_two_processes_writing_overlapping_rows(tmp_path):
    path = tmp_path / "c.sqlite"  # absent: both processes also race to create it
    size = 200
    procs = [spawn_writer(path, 0, 60, size, writers=2), spawn_writer(path, 30, 90, size, writers=2)]
    go(path, procs)
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    spans = [[float(line.split()[2]) for line in out.splitlines()] for out in outs]
    assert max(s[0] for s in spans) < min(s[-1] for s in spans), "the writers did not overlap"
    with PredictionCache(path) as cache:
        assert cache.warning is None
        assert cache.integrity_check() == "ok"
        assert cache.count("fp") == 90 * size
        for b in (0, 45, 89):
            got = cache.get_many("fp", batch_hashes(b, size))
            assert len(got) == size and all(p == b for p, _ in got.values())
            assert all(probs.tobytes() == np.full(3, b / 7, np.float32).tobytes() for _, probs in got.values())


def test_killed_writer_leaves_only_complete_batches(tmp_path):
    path = tmp_path / "c.sqlite"
    size, last, big = 2000, 10, 100_000
    proc = spawn_writer(path, 0, last, size, big)
    go(path, [proc])
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("begin"):
            break
    time.sleep(0.2)  # inside the big batch's put_many (0.5 to 1 s on 2 cores)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with PredictionCache(path) as cache:
        assert cache.warning is None and cache.integrity_check() == "ok"
        present = [len(cache.get_many("fp", batch_hashes(b, size))) for b in range(last)]
        assert present == [size] * last  # every batch reported committed is complete
        assert cache.count("fp") - last * size in (0, big)  # the killed batch: all or nothing
        # the next run resumes where the killed one stopped
        cache.put_many("fp", [(h, last, np.zeros(3)) for h in batch_hashes(last, size)])
        assert len(cache.get_many("fp", batch_hashes(last, size))) == size


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))
    Path(f"{path}-wal").write_bytes(os.urandom(512))


def _truncated(path: Path) -> None:
    with PredictionCache(path) as cache:
        cache.put_many("fp", rows_for(3000))
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _cut_header(path: Path) -> None:
    _truncated(path)
    with open(path, "r+b") as fh:
        fh.truncate(60)


def _foreign(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (name TEXT)")
    con.execute("INSERT INTO users VALUES ('ada')")
    con.commit()
    con.close()


def _other_application(path: Path) -> None:
    _foreign(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA application_id = 1234")
    con.close()


def _old_schema(path: Path) -> None:
    PredictionCache(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 41}")
    con.close()


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_garbage, "not an SQLite file"),
        (_truncated, "malformed"),
        (_cut_header, "truncated to 60 bytes"),
        (_foreign, "foreign SQLite database: application_id 0, tables users"),
        (_other_application, "application_id 1234"),
        (_old_schema, f"schema version {SCHEMA_VERSION + 41}"),
    ],
)
def test_bad_file_is_moved_aside_and_rebuilt(tmp_path, damage, reason):
    path = tmp_path / "c.sqlite"
    damage(path)
    before = path.read_bytes()
    with PredictionCache(path) as cache:
        assert cache.warning is not None and reason in cache.warning
        aside = sorted(tmp_path.glob("c.sqlite.corrupt-*"))
        main = [p for p in aside if not p.name.endswith(("-wal", "-shm"))]
        assert len(main) == 1 and main[0].read_bytes() == before
        assert str(path) in cache.warning and str(main[0]) in cache.warning
        if damage is _garbage:
            assert Path(f"{main[0]}-wal").exists()
        assert cache.count() == 0 and cache.integrity_check() == "ok"
        rows = rows_for(5)
        cache.put_many("fp", rows)
        assert len(cache.get_many("fp", [h for h, _, _ in rows])) == 5
        assert cache.stats()["warning"] == cache.warning
    with PredictionCache(path) as again:  # the rebuilt file is a normal cache from now on
        assert again.warning is None and again.count() == 5


def test_corruption_found_mid_session_is_recovered(tmp_path):
    path = tmp_path / "c.sqlite"
    rows = rows_for(3000)
    with PredictionCache(path) as cache:
        cache.put_many("fp", rows)
        cache._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all pages into the main file
        cache._con.execute("PRAGMA shrink_memory")  # so the next read goes to the disk
        with open(path, "r+b") as fh:  # keep page 1 (header, schema), smash the rest
            fh.seek(8192)
            fh.write(os.urandom(path.stat().st_size - 8192))
        assert cache.get_many("fp", [h for h, _, _ in rows]) == {}  # a miss, not a crash
        assert cache.warning is not None and "malformed" in cache.warning
        assert len(list(tmp_path.glob("c.sqlite.corrupt-*"))) == 1
        cache.put_many("fp", rows[:5])
        assert cache.count() == 5 and cache.integrity_check() == "ok"


def test_unwritable_folder_raises_cache_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(CacheError, match="cannot create the prediction cache folder"):
        PredictionCache(blocker / "cache" / "predictions.sqlite")


def test_directory_at_cache_path_raises_cache_error(tmp_path):
    (tmp_path / "c.sqlite").mkdir()
    with pytest.raises(CacheError, match="prediction cache"):
        PredictionCache(tmp_path / "c.sqlite")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_raises_cache_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(CacheError, match="prediction cache"):
            PredictionCache(folder / "c.sqlite")
    finally:
        folder.chmod(0o700)


# A schema-1 file exactly as the first release wrote it (models held only the fingerprint).
SCHEMA_1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE models (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE)",
    "CREATE TABLE predictions (model_id INTEGER NOT NULL REFERENCES models(id), text_hash BLOB NOT NULL,"
    " pred INTEGER NOT NULL, k INTEGER NOT NULL, probs BLOB NOT NULL,"
    " PRIMARY KEY (model_id, text_hash)) WITHOUT ROWID",
)


def test_schema_1_file_is_migrated_in_place_keeping_its_predictions(tmp_path):
    path = tmp_path / "c.sqlite"
    rows = rows_for(12)
    con = sqlite3.connect(path)
    for stmt in SCHEMA_1:
        con.execute(stmt)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO models (id, fingerprint) VALUES (1, 'old-fp')")
    con.executemany(
        "INSERT INTO predictions VALUES (1, ?, ?, 3, ?)",
        [(bytes.fromhex(h), p, pr.astype("<f4").tobytes()) for h, p, pr in rows],
    )
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with PredictionCache(path) as cache:
        assert cache.warning is None and not list(tmp_path.glob("*.corrupt-*"))  # migrated, not moved aside
        got = cache.get_many("old-fp", [h for h, _, _ in rows])
        assert all(np.array_equal(got[h][1], pr) and got[h][0] == p for h, p, pr in rows)
        (old,) = cache.stats()["models"]
        assert (old["name"], old["spec"], old["created_at"], old["rows"]) == (None, None, None, 12)
        cache.put_many("old-fp", rows[:1], name="vader", spec="vader")
        cache.put_many("new-fp", rows_for(3, seed=1), name="demo", spec="demo")
        models = cache.stats()["models"]
    assert [(m["name"], m["rows"]) for m in models] == [("demo", 3), ("vader", 12)]  # newest first
    assert models[1]["created_at"] is None and models[1]["updated_at"] is not None  # first write unknown
    assert models[0]["bytes"] == 3 * (32 + 12 + 16)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
    con.close()


def test_export_gives_one_models_rows_sorted_by_hash(tmp_path):
    rows = rows_for(50)
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("fp", rows)
        cache.put_many("other", rows_for(5, seed=3))
        cache.put_many("fp", [(PredictionCache.text_hash("four"), 0, np.ones(4, np.float32) / 4)])  # k=4: left out
        hashes, pred, probs = cache.export("fp", 3)
        empty = cache.export("nope", 3)
    assert [h.decode() for h in hashes] == sorted(h for h, _, _ in rows)
    by_hash = {h: (p, pr) for h, p, pr in rows}
    for h, p, pr in zip(hashes, pred, probs):
        assert by_hash[h.decode()][0] == p and np.array_equal(by_hash[h.decode()][1], pr)
    assert empty[0].shape == (0,) and empty[2].shape == (0, 3)
