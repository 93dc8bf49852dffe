"""The history of decisions: every verdict `report` prints and the Compare page shows, in one SQLite file.

A serving concern beside the analysis (DESIGN.md): it reads an `Analysis` and its `Verdict` and writes
them down; no analysis module imports it. The file is `$EVALCORE_HOME/history/decisions.sqlite`.

- **What a decision is.** When and who (the OS user for the CLI; the signed-in user, else `local`, on the
  dashboard, with the workspace name), the data's content fingerprint (`data_fingerprint`: ids, texts, gold
  labels or answers, the label set and the task; not the path, so `lab` and `tweets.csv` are the same data),
  both models' names, specs and prediction-cache fingerprints, the gates, the slice set, the settings, the
  verdict, and per (slice, compared metric) the figures `report` prints: n, both models' values (with their
  intervals where the task gives one), the paired change with its 95% interval, MDE, BH p and the slice's
  status in the verdict.
- **Once per decision.** A decision's `key` hashes everything that decides it (data fingerprint, both models'
  names and outputs on it, gates, slices with their rules and roles, settings, the stress gate's result); recording the
  same key again (a page rerun, the same `report` twice) only bumps `times_seen` and `last_seen_at`.
- **Many writers.** WAL journal, a 10 s busy timeout, one short `BEGIN IMMEDIATE` transaction per decision,
  a connection per call (Streamlit serves sessions on threads).
- **A bad file loses nothing.** Reading a file that is not a history database raises `HistoryError`, naming
  the file and the fix; recording into one moves it aside to `<name>.corrupt-<UTC time>` (kept, never deleted)
  and starts a new one, with a warning that says both paths. A busy or unwritable file is never moved: the
  decision is not recorded and the warning says why; the report or the page carries on either way.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import pandas as pd

from evalcore.core import paths
from evalcore.core.errors import EvalcoreError

if TYPE_CHECKING:
    from evalcore.decide.verdict import Verdict
    from evalcore.io.data import EvalData
    from evalcore.stats.results import Analysis

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
DATA_COLUMNS = ("id", "text", "label", "context", "gold_answers")  # what makes two datasets the same data

__all__ = [
    "HistoryError",
    "HistoryStore",
    "Recorded",
    "RunDiff",
    "cli_user",
    "compare_runs",
    "data_fingerprint",
    "decision_key",
    "decision_record",
    "history_path",
    "trend_chart",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1,
    user TEXT NOT NULL,
    origin TEXT NOT NULL,
    workspace TEXT,
    task TEXT NOT NULL,
    data_name TEXT NOT NULL,
    data_source TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    baseline TEXT NOT NULL,
    baseline_spec TEXT NOT NULL,
    baseline_fingerprint TEXT NOT NULL,
    candidate TEXT NOT NULL,
    candidate_spec TEXT NOT NULL,
    candidate_fingerprint TEXT NOT NULL,
    gates TEXT NOT NULL,
    slices TEXT NOT NULL,
    settings TEXT NOT NULL,
    decision TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    next_step TEXT NOT NULL,
    headline_metric TEXT NOT NULL,
    delta REAL, delta_lo REAL, delta_hi REAL,
    verdict TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_data ON decisions (data_fingerprint, created_at);
CREATE TABLE IF NOT EXISTS figures (
    decision_id INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    slice TEXT NOT NULL,
    metric TEXT NOT NULL,
    n INTEGER NOT NULL,
    baseline REAL, baseline_lo REAL, baseline_hi REAL,
    candidate REAL, candidate_lo REAL, candidate_hi REAL,
    delta REAL, delta_lo REAL, delta_hi REAL,
    mde REAL, p_adjusted REAL, vs_rest REAL, vs_rest_p_adjusted REAL,
    clusters REAL, design_effect REAL,
    status TEXT NOT NULL,
    PRIMARY KEY (decision_id, metric, slice)
);
"""
DECISION_COLUMNS = (
    "id",
    "created_at",
    "user",
    "origin",
    "workspace",
    "task",
    "data_name",
    "data_fingerprint",
    "n_rows",
    "baseline",
    "candidate",
    "decision",
    "headline_metric",
    "delta",
    "delta_lo",
    "delta_hi",
    "times_seen",
    "last_seen_at",
    "next_step",
    "baseline_fingerprint",
    "candidate_fingerprint",
    "baseline_spec",
    "candidate_spec",
    "data_source",
    "gates",
    "slices",
    "settings",
    "key",
)
_JOINED = ("decision_id", "created_at", "data_fingerprint", "baseline_model", "candidate_model", "verdict")
FIGURE_COLUMNS = (
    "slice",
    "metric",
    "n",
    "baseline",
    "baseline_lo",
    "baseline_hi",
    "candidate",
    "candidate_lo",
    "candidate_hi",
    "delta",
    "delta_lo",
    "delta_hi",
    "mde",
    "p_adjusted",
    "vs_rest",
    "vs_rest_p_adjusted",
    "clusters",
    "design_effect",
    "status",
)


class HistoryError(EvalcoreError):
    """The history database cannot be read or written; the message names the file and the fix."""


def history_path() -> Path:
    """`$EVALCORE_HOME/history/decisions.sqlite`."""
    return paths.home() / "history" / "decisions.sqlite"


def cli_user() -> str:
    """Who runs the CLI: the OS user (`unknown` where the platform cannot say)."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no login name in a container without a passwd entry
        return os.environ.get("USER") or "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- what a decision is ----------------------------------------------------------------------------


def data_fingerprint(data: EvalData) -> str:
    """sha256 of the data's content: task, label set, and the ids, texts, gold labels (generation: contexts and
    gold answers) row by row. Where the file lives and what it is called are left out: the same rows read
    from `lab` or from `tweets.csv` are the same data."""
    df = data.df
    cols = [c for c in DATA_COLUMNS if c in df.columns]
    h = hashlib.sha256(
        json.dumps(
            {
                "task": getattr(data, "task", "classification"),
                "labels": list(data.labels),
                "columns": cols,
                "rows": len(df),
            }
        ).encode()
    )
    if cols and len(df):
        h.update(_row_hashes(df, cols).tobytes())
    return h.hexdigest()


def _row_hashes(df: pd.DataFrame, cols: Sequence[str]) -> Any:
    """`pd.util.hash_pandas_object(df[cols].astype(str), index=False)`, the same numbers, column by column: the id
    column (unique: every loader checks) is hashed without pandas' categorize step, which finds the distinct
    values first and for a million distinct ids doubled the cost (0.31 s against 0.15 s)."""
    from pandas.core.util.hashing import combine_hash_arrays, hash_array

    def one(col: str) -> Any:
        values = df[col].astype(str)
        if col == "id":
            return hash_array(values.to_numpy(dtype=object), categorize=False)
        return pd.util.hash_pandas_object(values, index=False).to_numpy()

    return combine_hash_arrays((one(c) for c in cols), len(cols))


def _settings(analysis: Analysis) -> dict[str, Any]:
    """The analysis settings that change a verdict, read from the tables' own attributes."""
    r = analysis.results
    attrs = {**r.changes.attrs, **r.slice_metrics.attrs, **r.regression_metrics.attrs}
    return {
        "min_n": _num(attrs.get("min_n")),
        "alpha": _num(r.changes.attrs.get("alpha", attrs.get("alpha"))),
        "conf_threshold": _num(attrs.get("conf_threshold", r.overall.get("conf_threshold"))),
        "cluster_col": r.changes.attrs.get("cluster_col"),
    }


def _slices(analysis: Analysis) -> list[dict[str, str]]:
    roles = analysis.results.roles or {}
    return [{"name": s.name, "rule": s.text, "role": roles.get(s.name, s.role)} for s in analysis.slices]


def _stress(verdict: Verdict) -> Any:
    """The stress gate's result, the one verdict input the analysis does not carry (this session's cases)."""
    return next((r.to_dict() for r in verdict.results if r.name == "stress_accuracy"), None)


_DIGESTS: dict[int, tuple[Any, int, int, str]] = {}  # id(preds) -> (weakref, id(pred), id(conf), digest)


def outputs_digest(preds: Any) -> str:
    """sha256 of a model's outputs on the data (labels, predictions, confidences; answers for generation): the
    decision key uses it rather than the model fingerprint, which for a prediction column also names the file
    it was read from, so the same predictions read from `lab` or from `tweets.csv` make the same decision.

    Once per predictions object: the dashboard keeps one per (data, model) and records on every Compare render,
    where hashing a million predictions as text took about 0.3 s per model (the memo holds a weak reference,
    so a dropped object is never mistaken for a new one at the same address)."""
    import weakref

    known = _DIGESTS.get(id(preds))
    if known and known[0]() is preds and known[1:3] == (id(preds.pred), id(preds.conf)):
        return known[3]
    digest = _outputs_digest(preds)
    try:
        ref = weakref.ref(preds)
    except TypeError:  # an object without weak references: not kept
        return digest
    if len(_DIGESTS) > 64:
        _DIGESTS.clear()
    _DIGESTS[id(preds)] = (ref, id(preds.pred), id(preds.conf), digest)
    return digest


def _outputs_digest(preds: Any) -> str:
    import numpy as np

    h = hashlib.sha256(json.dumps([preds.model, list(preds.labels)]).encode())
    for arr in (preds.pred, preds.conf):
        a = np.asarray(arr)
        h.update(_text_bytes(a) if a.dtype == object else a.tobytes())
    return h.hexdigest()


def _text_bytes(a: Any) -> bytes:
    """`a.astype(str).tobytes()` of an object array, the same bytes, converting each distinct value once (a
    million predicted labels are a handful of strings: half the time)."""
    import numpy as np

    codes, uniques = pd.factorize(a)
    if len(a) == 0 or (codes < 0).any() or not all(isinstance(u, str) for u in uniques):
        return a.astype(str).tobytes()
    width = max(1, *(len(u) for u in uniques))
    return np.asarray(list(uniques), dtype=f"<U{width}")[codes].tobytes()


def decision_key(
    data_fp: str, analysis: Analysis, gates: dict[str, Any], verdict: Verdict, settings: dict[str, Any] | None = None
) -> str:
    """What makes two recordings the same decision: data, both models, gates, slices, settings, stress."""
    parts = {
        "v": SCHEMA_VERSION,
        "data": data_fp,
        "baseline": outputs_digest(analysis.baseline),
        "candidate": outputs_digest(analysis.candidate),
        "gates": gates,
        "slices": _slices(analysis),
        "settings": settings if settings is not None else _settings(analysis),
        "stress": _stress(verdict),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _model_intervals(analysis: Analysis) -> dict[tuple[str, str, str], tuple[float | None, float | None]]:
    """(slice, role, metric) -> a model's own interval, where the task's slice table gives one."""
    sm = analysis.results.slice_metrics
    out: dict[tuple[str, str, str], tuple[float | None, float | None]] = {}
    if "role" not in sm.columns:
        return out
    for metric in analysis.results.changes["metric"].unique():
        lo, hi = ("acc_lo", "acc_hi") if metric == "accuracy" else (f"{metric}_lo", f"{metric}_hi")
        if lo in sm.columns and hi in sm.columns:
            for row in sm[["slice", "role", lo, hi]].itertuples(index=False):
                out[(str(row[0]), str(row[1]), str(metric))] = (_num(row[2]), _num(row[3]))
    return out


def _figures(analysis: Analysis, verdict: Verdict) -> list[dict[str, Any]]:
    """Per (slice, compared metric): the numbers `report` prints, and the slice's status in the verdict."""
    ch = analysis.results.changes
    intervals = _model_intervals(analysis)
    status = {m: verdict.slice_status(m) for m in ch["metric"].unique()}
    rows = []
    for r in ch.to_dict(orient="records"):
        s, m = str(r["slice"]), str(r["metric"])
        b_lo, b_hi = intervals.get((s, "baseline", m), (None, None))
        c_lo, c_hi = intervals.get((s, "candidate", m), (None, None))
        rows.append(
            {
                "slice": s,
                "metric": m,
                "n": int(r["n"]),
                "baseline": _num(r.get("baseline")),
                "baseline_lo": b_lo,
                "baseline_hi": b_hi,
                "candidate": _num(r.get("candidate")),
                "candidate_lo": c_lo,
                "candidate_hi": c_hi,
                "delta": _num(r.get("delta")),
                "delta_lo": _num(r.get("delta_lo")),
                "delta_hi": _num(r.get("delta_hi")),
                "mde": _num(r.get("mde")),
                "p_adjusted": _num(r.get("p_adjusted")),
                "vs_rest": _num(r.get("vs_rest")),
                "vs_rest_p_adjusted": _num(r.get("vs_rest_p_adjusted")),
                "clusters": _num(r.get("clusters")),
                "design_effect": _num(r.get("design_effect")),
                "status": "overall gates" if s == "all" else status[m].get(s, "-"),
            }
        )
    return rows


def decision_record(
    analysis: Analysis,
    verdict: Verdict,
    gates: Any,
    *,
    user: str,
    origin: str,
    workspace: str | None = None,
    data_fp: str | None = None,
) -> dict[str, Any]:
    """One decision as the row `HistoryStore.record` writes (`figures` holds the per-slice rows).
    `gates`: the GateConfig the verdict used (or its dict); `user`: who decided (the signed-in user's id on a
    server with sign-in, `local` without, the OS user on the CLI); `origin`: `cli` or `dashboard`."""
    from evalcore.stats.comparisons import HEADLINE

    gate_values = gates.to_dict() if hasattr(gates, "to_dict") else dict(gates or {})
    data_fp = data_fp or data_fingerprint(analysis.data)
    settings = _settings(analysis)
    ch = analysis.results.changes
    headline = HEADLINE.get(analysis.task, "accuracy")
    head = ch[(ch["slice"] == "all") & (ch["metric"] == headline)]
    h = head.iloc[0] if len(head) else None
    b, c = analysis.baseline, analysis.candidate
    return {
        "key": decision_key(data_fp, analysis, gate_values, verdict, settings),
        "user": str(user or "unknown"),
        "origin": origin,
        "workspace": workspace,
        "task": analysis.task,
        "data_name": str(analysis.data.name),
        "data_source": str(analysis.data.source),
        "data_fingerprint": data_fp,
        "n_rows": len(analysis.data),
        "baseline": b.model,
        "baseline_spec": b.spec,
        "baseline_fingerprint": b.fingerprint or "",
        "candidate": c.model,
        "candidate_spec": c.spec,
        "candidate_fingerprint": c.fingerprint or "",
        "gates": json.dumps(gate_values, sort_keys=True),
        "slices": json.dumps(_slices(analysis)),
        "settings": json.dumps(settings, sort_keys=True),
        "decision": verdict.decision,
        "exit_code": int(verdict.exit_code),
        "next_step": verdict.next_step,
        "headline_metric": headline,
        "delta": _num(h["delta"]) if h is not None else None,
        "delta_lo": _num(h["delta_lo"]) if h is not None else None,
        "delta_hi": _num(h["delta_hi"]) if h is not None else None,
        "verdict": json.dumps(verdict.to_dict(), allow_nan=False),
        "figures": _figures(analysis, verdict),
    }


# --- the store -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What recording did: the decision's id (None when it could not be recorded), whether it was new, and a
    warning to show (a file moved aside, a busy or unwritable database)."""

    id: int | None
    new: bool = False
    warning: str | None = None

    def message(self) -> str:
        if self.id is None:
            return f"not recorded in the history: {self.warning}"
        what = "recorded in the history as decision" if self.new else "already in the history as decision"
        return f"{what} #{self.id}" + (f" ({self.warning})" if self.warning else "")


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "file is encrypted" in text


class HistoryStore:
    """The decisions database (`history_path()` by default). Each call opens its own short connection."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else history_path()

    # connections
    def _connect(self, create: bool) -> sqlite3.Connection:
        if not create and (not self.path.exists() or self.path.stat().st_size == 0):  # nothing recorded yet
            raise FileNotFoundError(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            con.execute("PRAGMA foreign_keys = ON")
            if create:
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("PRAGMA synchronous = NORMAL")
                con.executescript(_SCHEMA)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None or int(version[0]) > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"not a database of this evalcore (schema {version and version[0]})")
        except BaseException:
            con.close()
            raise
        return con

    def _read_error(self, exc: Exception) -> HistoryError:
        if isinstance(exc, sqlite3.DatabaseError) and (
            _is_corruption(exc) or "schema" in str(exc) or "no such table" in str(exc)
        ):
            return HistoryError(
                f"the decision history {self.path} is not a readable history database ({exc}); "
                f"move it aside (`mv {self.path} {self.path}.bad`) and the next decision starts a "
                "new one, or set EVALCORE_HOME to another folder"
            )
        return HistoryError(
            f"the decision history {self.path} cannot be read ({exc}); check that the file and its "
            "folder are readable, or set EVALCORE_HOME to another folder"
        )

    def _move_aside(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target

    # writing
    def record(self, record: dict[str, Any]) -> Recorded:
        """Write one decision (from `decision_record`) unless its key is there already; never raises for a
        database problem: the result's warning says what happened."""
        warning = None
        for attempt in (0, 1):
            try:
                with closing(self._connect(create=True)) as con:
                    return Recorded(*self._write(con, record), warning=warning)
            except sqlite3.DatabaseError as exc:
                if attempt == 0 and _is_corruption(exc) and self.path.exists():
                    try:
                        target = self._move_aside()
                    except OSError as move_exc:
                        return Recorded(
                            None,
                            warning=f"{self.path} is damaged ({exc}) and could not be moved "
                            f"aside ({move_exc}); move or delete it by hand",
                        )
                    warning = (
                        f"the decision history {self.path} was damaged ({exc}); it was kept as {target} and "
                        "a new history was started"
                    )
                    continue
                why = "the database is busy (another writer held it for 10 s)" if "locked" in str(exc) else str(exc)
                return Recorded(None, warning=f"{self.path}: {why}")
            except OSError as exc:
                return Recorded(None, warning=f"{self.path}: {exc.strerror or exc}")
        return Recorded(None, warning=warning)

    @staticmethod
    def _write(con: sqlite3.Connection, record: dict[str, Any]) -> tuple[int, bool]:
        now = _now()
        con.execute("BEGIN IMMEDIATE")
        try:
            row = con.execute("SELECT id FROM decisions WHERE key = ?", (record["key"],)).fetchone()
            if row is not None:
                con.execute(
                    "UPDATE decisions SET times_seen = times_seen + 1, last_seen_at = ? WHERE id = ?", (now, row[0])
                )
                con.execute("COMMIT")
                return int(row[0]), False
            cols = [c for c in record if c != "figures"]
            cur = con.execute(
                f"INSERT INTO decisions ({', '.join(cols)}, created_at, last_seen_at) VALUES "
                f"({', '.join('?' for _ in cols)}, ?, ?)",
                [record[c] for c in cols] + [now, now],
            )
            new_id = int(cur.lastrowid)
            con.executemany(
                f"INSERT INTO figures (decision_id, {', '.join(FIGURE_COLUMNS)}) VALUES "
                f"(?, {', '.join('?' for _ in FIGURE_COLUMNS)})",
                [[new_id] + [f.get(c) for c in FIGURE_COLUMNS] for f in record["figures"]],
            )
            con.execute("COMMIT")
            return new_id, True
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # reading
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        try:
            with closing(self._connect(create=False)) as con:
                return pd.read_sql_query(sql, con, params=list(params))
        except FileNotFoundError:
            return pd.DataFrame()
        except (sqlite3.Error, pd.errors.DatabaseError, OSError) as exc:
            cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
            raise self._read_error(cause) from exc

    def decisions(
        self,
        *,
        data: str | None = None,
        model: str | None = None,
        user: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> pd.DataFrame:
        """Decisions, newest first. `data`: a data fingerprint (or its prefix) or a data name; `model`: a model
        name or spec, as baseline or candidate; `user`: who recorded it."""
        where, params = [], []
        if data:
            where.append("(data_fingerprint LIKE ? OR data_name = ?)")
            params += [f"{data}%", data]
        if model:
            where.append("(baseline = ? OR candidate = ? OR baseline_spec = ? OR candidate_spec = ?)")
            params += [model] * 4
        if user:
            where.append("user = ?")
            params.append(user)
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"id IN ({', '.join('?' for _ in ids) or 'NULL'})")
            params += ids
        sql = (
            f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY id DESC"
        )
        out = self._query(sql, params)
        return out if len(out.columns) else pd.DataFrame(columns=list(DECISION_COLUMNS))

    def figures(
        self, ids: Iterable[int] | None = None, *, slice_name: str | None = None, metric: str | None = None
    ) -> pd.DataFrame:
        """Per-slice figures of the given decisions (all when None), with each decision's candidate, verdict and
        time alongside for charts."""
        where, params = [], []
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"f.decision_id IN ({', '.join('?' for _ in ids) or 'NULL'})")
            params += ids
        if slice_name:
            where.append("f.slice = ?")
            params.append(slice_name)
        if metric:
            where.append("f.metric = ?")
            params.append(metric)
        sql = (
            "SELECT f.decision_id, d.created_at, d.data_fingerprint, d.baseline AS baseline_model, "
            "d.candidate AS candidate_model, d.decision AS verdict, "
            + ", ".join(f"f.{c}" for c in FIGURE_COLUMNS)
            + " FROM figures f JOIN decisions d ON d.id = f.decision_id"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY f.decision_id, f.metric, f.rowid"
        )
        out = self._query(sql, params)
        cols = [*_JOINED, *FIGURE_COLUMNS]
        return out if len(out.columns) else pd.DataFrame(columns=cols)

    def get(self, decision_id: int) -> dict[str, Any]:
        """One decision with its figures; HistoryError naming the ids there are when it does not exist."""
        rows = self.decisions(ids=[decision_id])
        if rows.empty:
            known = self.decisions()["id"].tolist()
            raise HistoryError(
                f"no decision #{decision_id} in the history"
                + (f"; decisions: {', '.join(f'#{i}' for i in sorted(known)[-20:])}" if known else " (it is empty)")
            )
        out = rows.iloc[0].to_dict()
        out["figures"] = self.figures([decision_id]).drop(columns=list(_JOINED))
        return out

    def export(self, frame: pd.DataFrame, fmt: str, with_figures: bool = True) -> str:
        """Decisions as CSV (one row per decision; with figures, one row per decision, slice and metric) or as
        strict JSON (each decision with its gates, slices, settings and figures nested)."""
        from evalcore.core.units import strict_json

        if fmt == "csv":
            if with_figures and len(frame):
                figs = self.figures(frame["id"].tolist()).drop(columns=list(_JOINED[1:]))
                figs.columns = [c if c in ("decision_id", "slice", "metric") else f"slice_{c}" for c in figs.columns]
                frame = frame.merge(figs, left_on="id", right_on="decision_id", how="left").drop(
                    columns=["decision_id"]
                )
            return frame.to_csv(index=False)
        figs = self.figures(frame["id"].tolist()) if with_figures and len(frame) else pd.DataFrame()
        items = []
        for rec in frame.to_dict(orient="records"):
            for k in ("gates", "slices", "settings"):
                rec[k] = json.loads(rec[k]) if isinstance(rec[k], str) else rec[k]
            if with_figures:
                own = figs[figs["decision_id"] == rec["id"]] if len(figs) else figs
                rec["figures"] = own[list(FIGURE_COLUMNS)].to_dict(orient="records") if len(own) else []
            items.append(rec)
        return json.dumps(strict_json(items), indent=2, allow_nan=False, default=str)


# --- two runs on the same data ---------------------------------------------------------------------


@dataclass
class RunDiff:
    """What changed between two decisions on the same data, and which slices moved.

    A slice **moved** when its status in the verdict changed, or when the two runs' 95% intervals of its
    change do not overlap. Both runs share the rows and usually the baseline, so their estimates are
    positively correlated and non-overlap is a conservative sign of a real shift; an overlap does not show
    the two are equal (a paired test between the two candidates needs their predictions, which the history
    does not keep: run `report` with one as the baseline)."""

    a: dict[str, Any]
    b: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def moved(self) -> list[str]:
        return self.slices.loc[self.slices["moved"], "slice"].tolist() if len(self.slices) else []

    def lines(self) -> list[str]:
        from evalcore.core import units

        out = [
            f"#{self.a['id']} ({self.a['created_at']}, {self.a['baseline']} -> {self.a['candidate']}: "
            f"{self.a['decision']}) vs #{self.b['id']} ({self.b['created_at']}, {self.b['baseline']} -> "
            f"{self.b['candidate']}: {self.b['decision']})"
        ]
        out += [f"  changed: {c}" for c in self.changes] or ["  changed: nothing but the time"]
        if len(self.slices):
            t = self.slices
            table = pd.DataFrame(
                {
                    "slice": t["slice"],
                    "n": t["n"].map(lambda x: f"{int(x):,}" if pd.notna(x) else "-"),
                    f"#{self.a['id']} change [95%]": [
                        units.pts_ci(a, b, c) for a, b, c in zip(t["delta_a"], t["delta_lo_a"], t["delta_hi_a"])
                    ],
                    f"#{self.b['id']} change [95%]": [
                        units.pts_ci(a, b, c) for a, b, c in zip(t["delta_b"], t["delta_lo_b"], t["delta_hi_b"])
                    ],
                    "shift": t["shift"].map(units.pts),
                    f"#{self.a['id']} status": t["status_a"],
                    f"#{self.b['id']} status": t["status_b"],
                    "moved": t["why"],
                }
            )
            out += [
                "",
                f"per slice ({self.slices.attrs.get('metric', '')}; moved = status changed, or the 95% "
                "intervals do not overlap):",
                table.to_string(index=False),
            ]
        return out


def compare_runs(store: HistoryStore, a_id: int, b_id: int, metric: str | None = None) -> RunDiff:
    """Two decisions side by side: what differs (models, gates, slices, settings, verdict) and, per slice of
    the headline metric (or `metric`), both changes with intervals, the shift and whether it moved."""
    a, b = store.get(a_id), store.get(b_id)
    if a["data_fingerprint"] != b["data_fingerprint"]:
        raise HistoryError(
            f"decisions #{a_id} and #{b_id} were made on different data ({a['data_name']} "
            f"{a['data_fingerprint'][:12]} vs {b['data_name']} {b['data_fingerprint'][:12]}): their "
            "slice figures cannot be compared row for row; pick two decisions on the same data"
        )
    changes = []
    for role in ("baseline", "candidate"):
        if a[f"{role}_fingerprint"] != b[f"{role}_fingerprint"]:
            same = " (same name, other version)" if a[role] == b[role] else ""
            changes.append(f"{role}: {a[role]} -> {b[role]}{same}")
    for key, label in (("gates", "gates"), ("settings", "settings")):
        da, db = json.loads(a[key]), json.loads(b[key])
        diff = [f"{k} {da.get(k)} -> {db.get(k)}" for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]
        if diff:
            changes.append(f"{label}: {', '.join(diff)}")
    sa, sb = ({s["name"]: s for s in json.loads(x["slices"])} for x in (a, b))
    added, removed = [s for s in sb if s not in sa], [s for s in sa if s not in sb]
    edited = [s for s in sa if s in sb and sa[s] != sb[s]]
    for what, names in (("slices added", added), ("slices removed", removed), ("slices edited (rule or role)", edited)):
        if names:
            changes.append(f"{what}: {', '.join(names)}")
    if a["decision"] != b["decision"]:
        changes.append(f"verdict: {a['decision']} -> {b['decision']}")
    metric = metric or a["headline_metric"]
    fa, fb = (x["figures"][x["figures"]["metric"] == metric].set_index("slice") for x in (a, b))
    names = list(dict.fromkeys([*fa.index, *fb.index]))
    rows = []
    for s in names:
        ra = fa.loc[s] if s in fa.index else None
        rb = fb.loc[s] if s in fb.index else None

        def get(r, k):
            return float(r[k]) if r is not None and r[k] is not None and r[k] == r[k] else math.nan

        da, db = get(ra, "delta"), get(rb, "delta")
        la, ha, lb, hb = get(ra, "delta_lo"), get(ra, "delta_hi"), get(rb, "delta_lo"), get(rb, "delta_hi")
        st_a = str(ra["status"]) if ra is not None else "(not in this run)"
        st_b = str(rb["status"]) if rb is not None else "(not in this run)"
        apart = all(map(math.isfinite, (la, ha, lb, hb))) and (lb > ha or la > hb)
        why = []
        if ra is not None and rb is not None and st_a != st_b:
            why.append("status")
        if apart:
            why.append("intervals apart")
        rows.append(
            {
                "slice": s,
                "n": get(rb if rb is not None else ra, "n"),
                "delta_a": da,
                "delta_lo_a": la,
                "delta_hi_a": ha,
                "delta_b": db,
                "delta_lo_b": lb,
                "delta_hi_b": hb,
                "shift": db - da,
                "status_a": st_a,
                "status_b": st_b,
                "moved": bool(why),
                "why": ", ".join(why) or "-",
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["metric"] = metric
    return RunDiff(a, b, changes, table)


# --- the trend chart -------------------------------------------------------------------------------

FIGURE_KINDS = {"delta": "change vs baseline (paired, pts)", "candidate": "candidate's score (%)"}


def trend_chart(figures: pd.DataFrame, slice_name: str, metric: str, kind: str = "delta"):
    """One slice's figure across the decisions on one data (oldest first), with its 95% interval, each point
    coloured by that decision's verdict; the x label names the candidate, its baseline and the decision id.
    `kind`: `delta` (the paired change; comparable only between decisions with the same baseline, so the
    baseline is in the label) or `candidate` (the candidate's own score)."""
    import plotly.graph_objects as go

    from evalcore.core.safetext import plotly_text
    from evalcore.present.charts import _layout
    from evalcore.tasks.leaderboard import VERDICT_COLORS

    f = figures[(figures["slice"] == slice_name) & (figures["metric"] == metric)].sort_values("decision_id")
    col, lo, hi = (kind, f"{kind}_lo", f"{kind}_hi")
    scale = 100.0
    fig = go.Figure()
    labels = [
        plotly_text(f"#{i} {c} (vs {b})")
        for i, c, b in zip(f["decision_id"], f["candidate_model"], f["baseline_model"])
    ]
    for verdict, color in VERDICT_COLORS.items():
        part = [k for k, v in enumerate(f["verdict"]) if v == verdict]
        if not part:
            continue
        sub = f.iloc[part]
        y = sub[col].astype(float) * scale
        up = (sub[hi].astype(float) * scale - y).fillna(0).clip(lower=0)
        down = (y - sub[lo].astype(float) * scale).fillna(0).clip(lower=0)
        fig.add_trace(
            go.Scatter(
                x=[labels[k] for k in part],
                y=y,
                mode="markers",
                name=verdict,
                marker=dict(size=11, color=color),
                error_y=dict(type="data", array=up, arrayminus=down, visible=True),
                customdata=list(
                    zip(sub["n"], sub[lo].astype(float) * scale, sub[hi].astype(float) * scale, sub["created_at"])
                ),
                hovertemplate="%{x}<br>%{y:.1f} [%{customdata[1]:.1f}, %{customdata[2]:.1f}], n=%{customdata[0]:,}"
                "<br>%{customdata[3]}<extra>" + verdict + "</extra>",
            )
        )
    if kind == "delta":
        fig.add_hline(y=0, line=dict(color="#adb5bd", dash="dot"))
    unit = "points" if kind == "delta" else "%"
    fig.update_layout(showlegend=True)  # the colours are verdicts: say so even with one
    fig.update_xaxes(categoryorder="array", categoryarray=labels, tickangle=-30 if len(labels) > 4 else 0)
    fig.update_yaxes(title_text=f"{metric} {'change' if kind == 'delta' else 'score'} ({unit}), 95% interval")
    what = "change vs baseline" if kind == "delta" else "candidate's score"
    return _layout(fig, plotly_text(f"{metric} {what} on slice {slice_name}, decision by decision"), 420)
