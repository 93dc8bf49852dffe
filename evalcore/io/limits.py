"""Bounded work per load: every data, predictions, answers or slices file is measured before it is read.

A dashboard visitor may be careless or hostile, and one upload must not take the shared server down:
a 268 KB Parquet file can hold 30 million rows (2 GB once in pandas), an 889 KB CSV can hold 100,000
columns, a link can point at `/dev/zero`. So each reader asks this module first, from what is cheap to
know: the file's type and size on disk, a Parquet file's metadata (rows, columns, decompressed bytes), a
CSV's header line and line count, a JSON text's nesting depth and longest integer. Each limit is named
in the message with the environment variable that sets it; the operator sets them (never a visitor):

| variable | default | what |
| --- | --- | --- |
| `EVALCORE_MAX_FILE_MB` | 500 | bytes of one file on disk |
| `EVALCORE_MAX_DATA_MB` | 1,000 | decompressed bytes of a Parquet file (its metadata) |
| `EVALCORE_MAX_ROWS` | 2,000,000 | rows of a table |
| `EVALCORE_MAX_COLUMNS` | 1,000 | columns of a table |
| `EVALCORE_MAX_CELLS` | 20,000,000 | rows x columns |
| `EVALCORE_MAX_DEPTH` | 64 | nesting depth of a JSON document |
| `EVALCORE_MAX_INT_DIGITS` | 40 | digits of an integer in JSON |
| `EVALCORE_MAX_TEXT_CHARS` | 100,000 | characters of one text (a prompt, a tweet, an answer) |
| `EVALCORE_MEMORY_MB` | 4,000 | memory one dataset may take once loaded and analysed (estimated) |

The memory estimate counts what pandas will hold, 8 bytes a numeric cell and for a text cell its bytes plus
a Python string's overhead (`STR_OVERHEAD`), times what the analysis adds (`ANALYSIS_FACTOR`). The command
line applies the same limits: a user who owns the machine raises them with the variables.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalcore.core.errors import DataError, EvalcoreError

STR_OVERHEAD = 60  # bytes of a Python str object beyond its characters (ASCII: 49 + pointer + slack)
# What the analysis adds to a loaded table (predictions, 22 features, df_eval, metric tables): a 1M-row Parquet of
# tweets estimated at 453 MB peaked at 975 MB of process memory through `run_analysis` (bench/bench_million.py).
ANALYSIS_FACTOR = 3
OBJECT_OVERHEAD = 200  # bytes a JSON record's value costs as a Python object in a dict (estimate)
MB = 1_000_000


@dataclass(frozen=True)
class Limits:
    """The operator's limits (see the module docstring); `current()` reads them from the environment."""

    max_file_mb: float = 500
    max_data_mb: float = 1_000
    max_rows: int = 2_000_000
    max_columns: int = 1_000
    max_cells: int = 20_000_000
    max_depth: int = 64
    max_int_digits: int = 40
    max_text_chars: int = 100_000
    memory_mb: float = 4_000


ENV_VARS = {f.name: "EVALCORE_" + f.name.upper() for f in fields(Limits)}


def current() -> Limits:
    """The limits in force: each `EVALCORE_*` variable that is set replaces its default."""
    values: dict[str, Any] = {}
    for f in fields(Limits):
        raw = os.environ.get(ENV_VARS[f.name], "").strip().replace(",", "").replace("_", "")
        if not raw:
            continue
        try:
            value = float(raw) if f.type == "float" else int(float(raw))
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise DataError(f"${ENV_VARS[f.name]}={raw!r} must be a positive number (default {f.default:,})")
        values[f.name] = value
    return Limits(**values)


_FIX = {"max_depth": "flatten it", "max_columns": "keep the columns you need", "max_cells": "use fewer rows or columns"}


def _over(what: str, value: float, limit: float, name: str, where: str, unit: str = "") -> DataError:
    fix = _FIX.get(name, "use a smaller file (e.g. fewer rows)")
    return DataError(
        f"{where} has {value:,.0f}{unit} {what}, over this server's limit of {limit:,.0f}{unit} "
        f"(${ENV_VARS[name]}); {fix}, or ask the operator to raise the limit"
    )


# --- files ----------------------------------------------------------------------------------------


def check_file(path: str | Path, what: str = "file", error: type[EvalcoreError] = DataError) -> Path:
    """The file resolved (symlinks followed), if it is a regular file inside the allowed folders (when the
    dashboard's gate is on: `evalcore.io.allowed.gated`) and not larger than `max_file_mb`. A device
    (`/dev/zero`), a pipe or a folder is refused before any byte is read."""
    from evalcore.io.allowed import guard

    path = Path(path).expanduser()
    try:
        guard(path)
    except DataError as exc:
        raise error(str(exc)) from exc
    try:
        st = path.resolve().stat()
    except (OSError, RuntimeError) as exc:  # missing, a symlink loop, no permission
        raise error(f"{what} not found: {path}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{what} {path} is a folder; give a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{what} {path} is not a regular file (a device, a pipe or a socket); give a file")
    limit = current().max_file_mb
    if st.st_size > limit * MB:
        raise error(_over("bytes", st.st_size / MB, limit, "max_file_mb", f"{what} {path.name}", " MB").args[0])
    return path.resolve()


def read_bytes(path: str | Path, what: str = "file", error: type[EvalcoreError] = DataError) -> bytes:
    """The bytes of a checked file (`check_file`)."""
    checked = check_file(path, what, error)
    try:
        return checked.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {Path(path).name}: {exc.strerror or exc}") from exc


def read_text(path: str | Path, what: str = "file", error: type[EvalcoreError] = DataError) -> str:
    """The UTF-8 text of a checked file; a decoding error names the line."""
    raw = read_bytes(path, what, error)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{Path(path).name} is not valid UTF-8 (line {line}, byte {exc.start}: {exc.reason}), so the "
            f"{what} cannot be read; re-save it as UTF-8"
        ) from exc


# --- JSON -----------------------------------------------------------------------------------------

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string (unrolled: one step per run of plain characters)
_DIGITS = re.compile(r"(?<![.0-9])[0-9]+")  # the integer part of a number (a fraction's digits are harmless)


def check_json_text(text: str, where: str, error: type[EvalcoreError] = DataError) -> None:
    """Refuse a JSON text nested deeper than `max_depth` or with an integer longer than `max_int_digits`,
    before the parser builds anything (Python's parser would recurse, and `int()` of 5,000 digits costs
    quadratic time or raises)."""
    lim = current()
    bare = _STRING.sub('""', text)  # brackets and digits inside strings do not count
    best = 0
    if "[" in bare or "{" in bare:
        import numpy as np

        codes = np.frombuffer(bare.encode("utf-8", "replace"), dtype=np.uint8)
        step = (codes == ord("[")).astype(np.int32) + (codes == ord("{"))
        step -= (codes == ord("]")).astype(np.int32) + (codes == ord("}"))
        best = int(step.cumsum().max()) if len(step) else 0
    if best > lim.max_depth:
        raise error(_over("levels of nesting", best, lim.max_depth, "max_depth", where).args[0])
    longest = max((len(m) for m in _DIGITS.findall(bare)), default=0)
    if longest > lim.max_int_digits:
        raise error(
            f"{where} holds a number of {longest:,} digits, over this server's limit of "
            f"{lim.max_int_digits:,} (${ENV_VARS['max_int_digits']}); write long ids as strings"
        )


def loads(text: str, where: str, error: type[EvalcoreError] = DataError) -> Any:
    """`json.loads` after `check_json_text`; a syntax error names the line and column."""
    check_json_text(text, where, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except (RecursionError, ValueError) as exc:  # a safety net: the checks above should have said why
        raise error(f"{where} cannot be read as JSON: {exc}") from exc


def read_json(path: str | Path, what: str = "file", error: type[EvalcoreError] = DataError) -> Any:
    """A whole JSON file, checked (size, depth, integers) before it is parsed."""
    return loads(read_text(path, what, error), Path(path).name, error)


# --- tables ---------------------------------------------------------------------------------------


def check_shape(
    where: str,
    rows: int,
    columns: int,
    *,
    memory_bytes: float | None = None,
    data_bytes: float | None = None,
    error: type[EvalcoreError] = DataError,
) -> None:
    """Rows, columns, cells, decompressed bytes and the memory estimate against the limits."""
    lim = current()
    if columns > lim.max_columns:
        raise error(_over("columns", columns, lim.max_columns, "max_columns", where).args[0])
    if rows > lim.max_rows:
        raise error(_over("rows", rows, lim.max_rows, "max_rows", where).args[0])
    if rows * columns > lim.max_cells:
        raise error(_over("cells (rows x columns)", rows * columns, lim.max_cells, "max_cells", where).args[0])
    if data_bytes is not None and data_bytes > lim.max_data_mb * MB:
        raise error(_over("decompressed bytes", data_bytes / MB, lim.max_data_mb, "max_data_mb", where, " MB").args[0])
    if memory_bytes is not None and memory_bytes * ANALYSIS_FACTOR > lim.memory_mb * MB:
        raise error(
            f"{where} would take about {memory_bytes * ANALYSIS_FACTOR / MB:,.0f} MB of memory once loaded "
            f"and analysed (the table itself about {memory_bytes / MB:,.0f} MB), over this server's budget of "
            f"{lim.memory_mb:,.0f} MB for one dataset (${ENV_VARS['memory_mb']}); use a smaller file, or ask "
            "the operator to raise it"
        )


def check_parquet(path: str | Path, where: str, error: type[EvalcoreError] = DataError) -> None:
    """A Parquet file's rows, columns, values, decompressed size and memory estimate, from its metadata, before
    any column is decoded. A dictionary-encoded text column stores each distinct string once and an index per
    row, so 30M rows of one repeated string (or 2M rows of one 10 KB string) fit in a few KB: for such a column
    the decoded size is bounded by its values times its longest dictionary entry (each row group's dictionary
    page, read alone), and counted exactly from the index counts only when that bound is large."""
    import pyarrow.parquet as pq

    stamp = _file_stamp(path)
    if stamp is not None and stamp in _PARQUET_PASSED:
        return
    try:
        meta = pq.ParquetFile(str(path)).metadata
    except Exception as exc:  # not Parquet, truncated: pyarrow's message
        raise error(f"could not read {where} as parquet: {str(exc)[:200]}") from exc
    rows, columns = meta.num_rows, meta.num_columns
    check_shape(where, rows, columns, error=error)  # before the per-column walk below (100k columns)
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    values = [sum(g.column(j).num_values for g in groups) for j in range(columns)]  # leaf values: lists count whole
    sizes = [sum(g.column(j).total_uncompressed_size for g in groups) for j in range(columns)]
    check_shape(where, rows, columns, data_bytes=sum(sizes), error=error)
    lim = current()
    if sum(values) > lim.max_cells:
        raise error(_over("values (cells, list items counted)", sum(values), lim.max_cells, "max_cells", where).args[0])
    schema = meta.schema
    memory = 0.0
    packed: dict[str, int] = {}  # dictionary-encoded text columns smaller on disk than 16 bytes a value
    for j in range(columns):
        col = schema.column(j)
        if col.physical_type not in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
            memory += 8 * values[j]
            continue
        memory += sizes[j] + values[j] * STR_OVERHEAD
        if sizes[j] < 16 * max(values[j], 1) and any(g.column(j).has_dictionary_page for g in groups):
            if col.max_repetition_level or "." in col.path:
                raise error(
                    f"{where}: column {col.path!r} is a nested, dictionary-encoded list of texts whose size "
                    "once decoded cannot be told before reading it; flatten it"
                )
            packed[col.path] = values[j]
    if packed:
        memory += _packed_text_bytes(path, packed, lim.memory_mb * MB / 10, where, error)
    check_shape(where, rows, columns, memory_bytes=memory, error=error)
    if stamp is not None:
        if len(_PARQUET_PASSED) > 256:
            _PARQUET_PASSED.clear()
        _PARQUET_PASSED.add(stamp)


# files that passed `check_parquet`, by (path, inode, size, modification time, limits in force): a load measures a
# file once, not once for each reader that peeks at it (a million-row file's dictionary pages: ~0.1 s a time)
_PARQUET_PASSED: set[tuple[Any, ...]] = set()


def _file_stamp(path: str | Path) -> tuple[Any, ...] | None:
    """What identifies a file's content here without reading it, with the limits it was measured against."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns, current())


def _packed_text_bytes(
    path: str | Path, packed: dict[str, int], exact_above: float, where: str, error: type[EvalcoreError]
) -> float:
    """Decoded bytes of dictionary-encoded text columns: values x longest dictionary entry (one row of each row
    group is read, which loads its dictionary page), or, when that bound passes `exact_above`, the exact sum
    from the dictionaries and the index counts (4 bytes a row, never the decoded strings)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = list(packed)
    try:
        pf = pq.ParquetFile(str(path), read_dictionary=names)
        longest = dict.fromkeys(names, 0)
        for i in range(pf.metadata.num_row_groups):
            batch = next(pf.iter_batches(batch_size=1, row_groups=[i], columns=names), None)
            for name in names if batch is not None else []:
                col = batch.column(name)
                words = col.dictionary if isinstance(col, pa.DictionaryArray) else col
                longest[name] = max(
                    longest[name], int(pc.max(pc.binary_length(words)).as_py() or 0) if len(words) else 0
                )
        total = 0.0
        for name in names:
            bound = float(packed[name]) * longest[name]
            if bound <= exact_above:
                total += bound
                continue
            for chunk in pf.read(columns=[name]).column(0).chunks:  # still dictionary-encoded: indices only
                if not isinstance(chunk, pa.DictionaryArray):
                    total += chunk.nbytes
                    continue
                lengths = pc.binary_length(chunk.dictionary).to_numpy(zero_copy_only=False).astype(np.float64)
                indices = chunk.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
                total += float(np.bincount(indices, minlength=len(lengths))[: len(lengths)] @ lengths)
    except EvalcoreError:
        raise
    except Exception as exc:
        raise error(f"could not read {where} as parquet: {str(exc)[:200]}") from exc
    return total


def _first_line(path: Path, limit: int) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(limit)
    return head.split(b"\n", 1)[0]


def count_lines(path: str | Path) -> int:
    """Newlines in a file (plus one for a last line without one), read in 4 MB blocks."""
    n, last = 0, b"\n"
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def check_csv(path: str | Path, sep: str, where: str, error: type[EvalcoreError] = DataError) -> None:
    """A CSV / TSV's columns from its header line and its rows from its line count (quoted line breaks
    count as rows: the estimate errs high), before pandas parses a cell."""
    path = Path(path)
    lim = current()
    head = _first_line(path, 1 << 20)
    try:
        header = next(csv.reader([head.decode("utf-8", "replace")], delimiter=sep), [])
    except csv.Error:
        header = head.split(sep.encode())
    columns = max(len(header), 1)
    if columns > lim.max_columns:
        raise error(_over("columns", columns, lim.max_columns, "max_columns", where).args[0])
    rows = max(count_lines(path) - 1, 0)
    size = path.stat().st_size
    check_shape(where, rows, columns, memory_bytes=size + rows * columns * STR_OVERHEAD, error=error)


def check_json_rows(
    records: Sequence[Any] | int, columns: int, text_bytes: int, where: str, error: type[EvalcoreError] = DataError
) -> None:
    """Rows and columns of a JSON table once parsed (its text was checked before parsing)."""
    rows = records if isinstance(records, int) else len(records)
    check_shape(where, rows, columns, memory_bytes=text_bytes + rows * columns * STR_OVERHEAD, error=error)


def check_texts(values: Iterable[Any], where: str, error: type[EvalcoreError] = DataError) -> None:
    """No text longer than `max_text_chars` (the first one over it is named by row)."""
    limit = current().max_text_chars
    if hasattr(values, "str") and hasattr(values, "to_numpy"):  # a pandas Series of texts: vectorised
        try:
            lengths = values.str.len().to_numpy(dtype=float, na_value=0.0)
        except (AttributeError, TypeError, ValueError):
            lengths = None
        if lengths is not None and (not len(lengths) or lengths.max() <= limit):
            return  # (over the limit: the loop below names the first row)
    for row, value in enumerate(values, start=1):
        if isinstance(value, str) and len(value) > limit:
            raise error(
                f"{where}: the text in row {row:,} has {len(value):,} characters, over this server's limit "
                f"of {limit:,} (${ENV_VARS['max_text_chars']}); shorten it or ask the operator to raise it"
            )


__all__ = [
    "ENV_VARS",
    "Limits",
    "check_csv",
    "check_file",
    "check_json_rows",
    "check_json_text",
    "check_parquet",
    "check_shape",
    "check_texts",
    "count_lines",
    "current",
    "loads",
    "read_bytes",
    "read_json",
    "read_text",
]
