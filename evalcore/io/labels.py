"""Label maps: the one place where a dataset's labels get their order, and integer ids their names.

Why this module exists: an integer label means nothing by itself. Reading `0/1` as positions in
a sorted list of names once made irony accuracy 0.267 instead of 0.733 and flipped the sign of a
comparison, silently. So an integer label, gold or predicted, is only ever read through a map
someone declared:

- `mapping.txt` of a TweetEval-format folder (`<id><TAB><name>` per line);
- a Hugging Face `ClassLabel` feature (id i is `names[i]`);
- the user's `--label-map 0=negative,1=positive` (the dashboard's column-mapping step has the
  same field).

`LabelMap` holds the declared ids and names in label order; `read_labels` is the one function
that turns raw values (names or ids) into label names, used by the data loaders for gold labels
and by `file:` predictions and prediction columns alike. Where no map declares ids, integers are
refused with a message that names the fix.

    >>> m = parse_label_map("1=positive, 0=negative")
    >>> m.names, m.text
    (('negative', 'positive'), '0=negative,1=positive')
    >>> read_labels(["0", "1"], m, where="demo")
    ['negative', 'positive']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from evalcore.core.errors import DataError, EvalcoreError

INT_RE = re.compile(r"[+-]?\d+")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
# Common spellings of the sentiment labels (model configs, datasets), mapped to one canonical name.
SYNONYMS = {
    "neg": "negative",
    "negative": "negative",
    "neu": "neutral",
    "neutral": "neutral",
    "pos": "positive",
    "positive": "positive",
}


@dataclass(frozen=True)
class LabelMap:
    """The dataset's labels in order (`names`), with their declared ids when there are any.

    `ids[i]` is the id of `names[i]`; `ids` is None when the labels were declared or read as
    names only, and then integers cannot be read. `source` says where the map was declared, for
    messages ("mapping.txt", "ClassLabel of column 'label'", "--label-map").
    """

    names: tuple[str, ...]
    ids: tuple[str, ...] | None = None
    source: str = ""

    @property
    def text(self) -> str:
        """Canonical `0=negative,1=positive` form (what `parse_label_map` reads); names alone when no ids."""
        if self.ids is None:
            return ",".join(self.names)
        return ",".join(f"{i}={n}" for i, n in zip(self.ids, self.names))

    def id_to_name(self) -> dict[str, str]:
        return dict(zip(self.ids, self.names)) if self.ids is not None else {}


def label_text(value: object) -> str:
    """A raw label as text: integral floats read from CSV (`1.0`) become `1`, spaces are stripped."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            return label_text(value.item())
        except (TypeError, ValueError):
            pass
    return str(value).strip()


def shown(text: object, limit: int = 60) -> str:
    """A value quoted in a message, cut to `limit` characters (a 5,000-digit "label" is not repeated whole)."""
    raw = str(text)
    return repr(raw if len(raw) <= limit else raw[:limit] + "…")


def is_int_text(text: str) -> bool:
    return bool(INT_RE.fullmatch(text))


def label_map_from_pairs(
    pairs: Iterable[tuple[object, object]], source: str, error: type[EvalcoreError] = DataError
) -> LabelMap:
    """A map from (id, name) pairs, refusing every ambiguity; ordered by id when all ids are integers
    (id i is then the i-th probability column, as in a ClassLabel), else as declared."""
    items = [(label_text(i), label_text(n)) for i, n in pairs]
    if not items:
        raise error(
            f"the label map from {source} is empty: it must name at least two labels, e.g. 0=negative,1=positive"
        )
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for i, n in items:
        if not i or not n:
            raise error(f"the label map from {source} has an empty id or name in {i}={n}")
        if i in ids:
            raise error(
                f"the label map from {source} is ambiguous: id {i!r} is given twice "
                f"({ids[i]!r} and {n!r}); each id needs exactly one name"
            )
        if n in names:
            raise error(
                f"the label map from {source} is ambiguous: label {n!r} is given to ids "
                f"{names[n]!r} and {i!r}; each label needs exactly one id"
            )
        ids[i], names[n] = n, i
    clash = next(((n, names[n], i) for i, n in items if n in ids and n != i), None)
    if clash:
        name, own, other = clash
        raise error(
            f"the label map from {source} is ambiguous: label name {name!r} (id {own!r}) is also "
            f"the id of {ids[name]!r}, so a value {name!r} could mean either; rename the label"
        )
    if len(items) < 2:
        raise error(
            f"the label map from {source} names one label ({items[0][1]!r}); a classification task needs at least two"
        )
    if all(is_int_text(i) for i, _ in items):
        items.sort(key=lambda p: int(p[0]))
    return LabelMap(names=tuple(n for _, n in items), ids=tuple(i for i, _ in items), source=source)


def parse_label_map(text: str, source: str = "--label-map") -> LabelMap:
    """Read `0=negative,1=positive` (commas or new lines between entries; `:` also separates)."""
    entries = [e.strip() for e in re.split(r"[,\n]", text or "") if e.strip()]
    pairs = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep:
            key, sep, value = entry.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise DataError(f"{source} entry {entry!r} must be <id>=<label name>, e.g. `0=negative,1=positive`")
        pairs.append((key.strip(), value.strip()))
    return label_map_from_pairs(pairs, source)


def names_only(names: Sequence[object], source: str) -> LabelMap:
    """Labels declared (or read) by name, with no ids: integers cannot be read through it."""
    out = tuple(label_text(n) for n in names)
    dup = next((n for n in out if out.count(n) > 1), None)
    if dup is not None:
        raise DataError(f"label {dup!r} is given twice in the labels from {source}")
    if not out:
        raise DataError(f"the labels from {source} are empty")
    return LabelMap(names=out, ids=None, source=source)


def same_map(a: LabelMap, b: LabelMap) -> bool:
    """Whether two declared maps send every id to the same name."""
    return a.id_to_name() == b.id_to_name() and set(a.names) == set(b.names)


def combine(declared: Sequence[LabelMap], names: Sequence[str] = ()) -> LabelMap | None:
    """The dataset's one label map from what was declared: id maps (mapping.txt, ClassLabel,
    --label-map) must agree with each other; a names list (`--labels`) must equal their names in
    order, or stands alone as a names-only map. None when nothing was declared."""
    maps = [m for m in declared if m is not None]
    for m in maps[1:]:
        if not same_map(maps[0], m):
            raise DataError(
                f"two label maps disagree: {maps[0].source} says {maps[0].text} but {m.source} "
                f"says {m.text}; give one of them"
            )
    base = maps[0] if maps else None
    if names:
        given = names_only(names, "--labels")
        if base is None:
            return given
        if given.names != base.names:
            raise DataError(
                f"--labels {given.text} disagrees with the label map of {base.source} "
                f"({base.text}), whose ids fix the order; drop --labels"
            )
    return base


def read_labels(
    values: Sequence[object],
    labels: LabelMap,
    *,
    where: str,
    error: type[EvalcoreError] = DataError,
    lenient: bool = False,
) -> list[str]:
    """Raw values (label names, or ids declared in `labels`) -> label names. The one reader.

    Integers are read only through declared ids; without them they are refused with the fix.
    A column may not mix ids and names. `lenient` (model predictions) also accepts a name's case
    variants and common synonyms (`POS` for `positive`); gold labels must be exact.
    """
    fast = _read_distinct(values, labels, where=where, error=error, lenient=lenient)
    if fast is None:
        return _read_rows(values, labels, where=where, error=error, lenient=lenient)
    codes, names = fast
    return np.asarray(names, dtype=object)[codes].tolist()


def read_label_codes(
    values: Sequence[object],
    labels: LabelMap,
    order: Sequence[str],
    *,
    where: str,
    error: type[EvalcoreError] = DataError,
    lenient: bool = False,
) -> np.ndarray:
    """`read_labels`, as each row's position in `order` (int64): the same reading and the same errors, without a
    million-string list when the column holds a handful of distinct values. A name `order` lacks is an error
    naming its row, never a silent -1."""
    import pandas as pd

    fast = _read_distinct(values, labels, where=where, error=error, lenient=lenient)
    if fast is None:  # the row-by-row reader (the distinct one was tried just above)
        names = _read_rows(values, labels, where=where, error=error, lenient=lenient)
        codes = pd.Index(list(order)).get_indexer(pd.Series(names, dtype=object))
    else:
        rows, distinct = fast
        codes = pd.Index(list(order)).get_indexer(pd.Series(distinct, dtype=object))[rows]
        names = None
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        name = names[row] if names is not None else distinct[rows[row]]
        raise error(f"{where}: label {name!r} at row {row + 1} is not one of {', '.join(order)}")
    return codes.astype(np.int64)


def _read_distinct(
    values: Sequence[object], labels: LabelMap, *, where: str, error: type[EvalcoreError], lenient: bool
) -> tuple[np.ndarray, list[str]] | None:
    """`read_labels` reading each distinct value once (a million rows hold a handful of labels: 0.3 s instead of
    ~10 s): (each row's index into the distinct values, their names). None, for the row-by-row reader, on short
    columns, on columns not all strings or all numbers (`True == 1` would merge two values that read
    differently), and whenever a value does not read, so the error names the first bad row exactly as before."""
    import pandas as pd

    if len(values) < 1000:
        return None
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if pd.api.types.infer_dtype(series, skipna=False) not in ("string", "integer", "floating", "mixed-integer-float"):
        return None
    codes, uniques = pd.factorize(series)
    if len(codes) and codes.min() < 0:  # a missing value: the row reader names its row
        return None
    try:
        names = _read_rows(list(uniques), labels, where=where, error=error, lenient=lenient)
    except EvalcoreError:
        return None
    return codes, names


def _read_rows(
    values: Sequence[object], labels: LabelMap, *, where: str, error: type[EvalcoreError], lenient: bool
) -> list[str]:
    id_map = labels.id_to_name()
    name_set = set(labels.names)
    out: list[str] = []
    first_id = first_name = None
    for row, raw in enumerate(values, start=1):
        text = label_text(raw)
        if text in id_map:
            out.append(id_map[text])
            first_id = first_id or (row, text)
            continue
        name = text if text in name_set else (_lenient_name(text, labels.names) if lenient else None)
        if name is not None:
            out.append(name)
            first_name = first_name or (row, text)
            continue
        if is_int_text(text):
            if labels.ids is None:
                raise error(_integers_without_map(text, row, where, labels))
            raise error(
                f"label id {shown(text)} at row {row} of {where} is not in the label map of "
                f"{labels.source} (ids {', '.join(labels.ids)})"
            )
        allowed = ", ".join(labels.names) + (f" (or their ids {', '.join(labels.ids)})" if labels.ids else "")
        raise error(f"unknown label {shown(text)} at row {row} of {where}; allowed labels: {allowed}")
    if first_id and first_name:
        raise error(
            f"{where} mixes label ids and names (id {shown(first_id[1])} in row {first_id[0]}, name "
            f"{shown(first_name[1])} in row {first_name[0]}); write one kind throughout"
        )
    return out


def infer_names(values: Sequence[object], *, where: str) -> LabelMap:
    """Label names read from gold values when nothing was declared: sentiment labels in
    negative/neutral/positive order, any other names sorted. Integers are refused: their meaning
    is never guessed."""
    try:  # each distinct value read once (by type too: True == 1 but they read "True" and "1")
        import pandas as pd

        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
            # a string column (a Parquet or Arrow read): one type, so the distinct values in order of
            # appearance are the same without walking a million Python objects
            texts = [label_text(v) for v in pd.unique(values)]
        else:
            texts = [label_text(v) for _, v in dict.fromkeys((type(v), v) for v in values)]
    except TypeError:  # an unhashable cell (a dict, a list): read every one
        texts = [label_text(v) for v in values]
    ints = sorted({t for t in texts if is_int_text(t)}, key=lambda t: (len(t.lstrip("+-")), t))
    if ints:
        listed = ", ".join(i if len(i) <= 20 else i[:20] + "…" for i in ints[:6]) + (", ..." if len(ints) > 6 else "")
        example = ",".join(f"{i}=<name>" for i in ints[:3] if len(i) <= 20) or "0=<name>,1=<name>"
        raise DataError(
            f"gold labels of {where} are integers ({listed}) and no label map says which label "
            f"each one is; evalcore never guesses. Declare it: --label-map {example} "
            "(in the dashboard: the label map of the column-mapping step)"
        )
    seen = set(texts)
    if seen <= set(SENTIMENT_LABELS):
        return LabelMap(
            tuple(x for x in SENTIMENT_LABELS if x in seen) if len(seen) < 3 else SENTIMENT_LABELS,
            None,
            "the data's label names",
        )
    return LabelMap(tuple(sorted(seen)), None, "the data's label names (sorted)")


def _integers_without_map(text: str, row: int, where: str, labels: LabelMap) -> str:
    return (
        f"{where} holds integer label {shown(text)} (row {row}) but the data's labels ({', '.join(labels.names)}, "
        f"from {labels.source}) come with no ids, so the integer cannot be read without guessing. "
        f"Declare which id is which label with --label-map <id>=<label>,... covering "
        f"{', '.join(labels.names)} (in the dashboard: the label map of the column-mapping step), "
        "or write label names instead of integers"
    )


# --- name matching (model labels and predictions) --------------------------------------------------


def canonical(label: object) -> str:
    """Lower-case name with sentiment synonyms folded (`POS` -> `positive`)."""
    low = str(label).strip().lower()
    return SYNONYMS.get(low, low)


def resolve_label(value: object, labels: Sequence[str]) -> int | None:
    """Index of `value` among `labels`: exact, then case-insensitive, then synonyms."""
    text = str(value).strip()
    labels = list(labels)
    if text in labels:
        return labels.index(text)
    low = text.lower()
    for i, lab in enumerate(labels):
        if lab.lower() == low:
            return i
    by_canon = {canonical(lab): i for i, lab in enumerate(labels)}
    return by_canon.get(canonical(text))


def _lenient_name(text: str, names: Sequence[str]) -> str | None:
    i = resolve_label(text, names)
    return None if i is None else names[i]


def is_sentiment(labels: Sequence[str]) -> bool:
    """Whether the labels are (a subset of) negative / neutral / positive with both poles present:
    the tasks the sentiment-specific slices, VADER and the demo model are made for."""
    canon = {canonical(lab) for lab in labels}
    return {"negative", "positive"} <= canon <= set(SENTIMENT_LABELS) and len(canon) == len(list(labels))
