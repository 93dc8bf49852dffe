"""Regression-slice discovery: the slices nobody wrote, where the candidate loses more than elsewhere.

An engineer only finds the regressions they thought to write a rule for. This module searches
conjunctions of *items* -- one value of a boolean or categorical column, one quantile bin of a numeric
column (metadata features, the gold label, both models' confidences) -- for slices where the
candidate's paired change is below the change on the rest of the rows.

Why this shape:

- **Two halves.** The rows are split at random (seeded, stated) into a search half and a
  confirmation half. Every conjunction is scored on the search half with the decision layer's
  worse-than-the-rest statistic (`paired.vs_rest`); at most `max_candidates` of the best (search
  p below `screen_p`, the slice's own change below zero) are then tested *once* on the other half
  with `paired.binary_changes`, Benjamini-Hochberg over those candidates. A slice is **confirmed**
  when it is worse than the rest on the confirmation half. Choosing on one half and testing on the
  other keeps the error rate of the confirmation at `alpha` however many conjunctions were searched
  (bench/bench_discovery.py measures it). Figures on all rows are given too, but they include the
  rows that chose the slice and so overstate its effect; the confirmation half's are the honest ones.
- **Rules, not ids.** Every item is a rule of the project's rule language (`has_negation == true`,
  `word_count >= 12 and word_count < 20`), and its column of the search matrix is that rule's mask,
  so a finding prints as canonical rule text, saves as a slice (`Discovery.slice_set`) and selects
  exactly the rows that were tested.
- **Vectorised counts, own search.** With the items as a boolean matrix X (rows x items), the
  counts of every pair are three matrix products (Xᵀ X, Xᵀ diag(improved) X, Xᵀ diag(regressed) X);
  depth 3 extends the `beam` best pairs the same way. SliceLine (`sliceline` on PyPI) was tried
  first and does not fit: its score is the error ratio of *one* model with a size penalty, so a paired
  change (improvements offset regressions) has to be squeezed into a non-negative error vector, which
  flattens the ratio its score depends on (the planted slice scored below zero); and without numba it took
  2.5-4.7 s at depth 2 on 50,000 rows and ran out of memory at depth 3.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze.rules import ColumnType, Condition, Op, Rule, all_of, format_rule
from evalcore.analyze.rules import mask as rule_mask
from evalcore.analyze.rules.schema import column_type
from evalcore.analyze.slices import Slice, SliceSet
from evalcore.analyze.tables import CORE_COLUMNS, ROLES, metadata_columns, role_col, role_names
from evalcore.core import units
from evalcore.core.errors import ConfigError, DataError
from evalcore.stats.paired import CHANGE_COLUMNS, binary_changes, vs_rest

METHOD = (
    "rows split at random into a search half and a confirmation half (seed {seed}); conjunctions of up to "
    "{depth} items (a value of a boolean or categorical column, a quantile bin of a numeric one) scored on "
    "the search half by the slice-vs-rest Wald z; at most {max_candidates} candidates with search p < "
    "{screen_p:g} and a negative change tested once on the confirmation half (paired change, Newcombe "
    "interval, slice minus the rest's change with Agresti-Min variances), Benjamini-Hochberg at {alpha:g} "
    "over the candidates; confirmed = worse than the rest on the confirmation half"
)
NEAR_DUPLICATE = 0.8  # Jaccard overlap above which two candidate slices count as one finding
SCAN_FACTOR = 50  # ranked conjunctions scanned per candidate slot when choosing
SMALL_HALF = 1000  # a confirmation half below this confirms only large regressions: say so
ALL = "all"


@dataclass(frozen=True)
class DiscoverySettings:
    """What a discovery run searched, so that it can be repeated (every field is stated in outputs)."""

    depth: int = 2
    bins: int = 4
    min_support: int = 30
    max_candidates: int = 10
    alpha: float = 0.05
    screen_p: float = 0.05
    seed: int = 0
    beam: int = 200
    features: tuple[str, ...] | None = None
    # the models' confidences are searched only when asked: a slice chosen on a model's own output is
    # model-defined (biased by construction), shown but never gating the verdict
    include_model_outputs: bool = False

    def __post_init__(self) -> None:
        checks = [
            ("depth", self.depth, isinstance(self.depth, int) and 1 <= self.depth <= 3, "1, 2 or 3"),
            ("bins", self.bins, isinstance(self.bins, int) and 2 <= self.bins <= 10, "an integer from 2 to 10"),
            (
                "min_support",
                self.min_support,
                isinstance(self.min_support, int) and self.min_support >= 5,
                "an integer >= 5 (rows of the search half)",
            ),
            (
                "max_candidates",
                self.max_candidates,
                isinstance(self.max_candidates, int) and 1 <= self.max_candidates <= 100,
                "an integer from 1 to 100",
            ),
            ("alpha", self.alpha, isinstance(self.alpha, (int, float)) and 0 < self.alpha < 1, "a share in (0, 1)"),
            (
                "screen_p",
                self.screen_p,
                isinstance(self.screen_p, (int, float)) and 0 < self.screen_p <= 1,
                "a p-value in (0, 1]",
            ),
            ("seed", self.seed, isinstance(self.seed, int) and self.seed >= 0, "an integer >= 0"),
            ("beam", self.beam, isinstance(self.beam, int) and self.beam >= 1, "an integer >= 1"),
        ]
        for name, value, ok, allowed in checks:
            if not ok or isinstance(value, bool):
                raise ConfigError(f"discovery setting {name}={value!r} is not allowed; use {allowed}")
        if self.features is not None:
            object.__setattr__(self, "features", tuple(str(f) for f in self.features))

    def method(self) -> str:
        return METHOD.format(**asdict(self))


# --- items ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One searchable condition: a feature's value or bin, as a rule."""

    feature: str
    rule: Rule
    tag: str  # short form used in generated slice names, e.g. `word_count_ge_12`


@dataclass(frozen=True)
class ItemSpace:
    items: tuple[Item, ...]
    matrix: np.ndarray  # (n, m) bool: column j = rows where items[j] holds (its rule's mask)
    feature_of: np.ndarray  # (m,) feature index of each item
    features: pd.DataFrame  # feature, kind, items
    skipped: dict[str, str]


def default_columns(df_eval: pd.DataFrame, include_model_outputs: bool = False) -> list[str]:
    """Metadata features and the gold label (and, when asked, both models' confidences by role): what a
    slice may be built on. Correctness and the comparison flags are the outcome, so never features."""
    outputs = [role_col(r, "conf") for r in ROLES] if include_model_outputs else []
    return [*metadata_columns(df_eval), "label", *outputs]


def _tag(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "x"


def _number(x: float, integer: bool) -> int | float:
    """A cut point as it will be printed: an integer for integer columns, else 3 significant digits."""
    if integer:
        return int(math.ceil(x))
    return float(f"{x:.3g}")


def _num_tag(v: int | float, share: bool = False) -> str:
    """A cut point in a slice name: `12`, `minus3`, `2point5`, or for a share (a confidence) `63pct`,
    so "candidate_conf_ge_63pct" reads as "candidate confidence at least 63%"."""
    if share and 0 <= v <= 1:
        return _tag(f"{v * 100:.3g}".replace(".", "point") + "pct")
    return _tag(f"{v:g}".replace("-", "minus").replace(".", "point"))


def numeric_items(col: str, values: np.ndarray, bins: int) -> list[Item]:
    """Few distinct values: one item each (`col == v`); else quantile bins with readable cut points
    (`col < a`, `col >= a and col < b`, `col >= b`). Cut points come from every row's feature values,
    never from an outcome, so they can be chosen before the halves are split."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return []
    distinct = np.unique(finite)
    integer = bool(np.all(distinct == np.round(distinct)))
    share = not integer and 0 <= distinct[0] and distinct[-1] <= 1  # a confidence or a rate: named in percent
    if len(distinct) <= bins:
        return [
            Item(col, Condition(col, Op.EQ, _number(v, integer)), f"{col}_{_num_tag(_number(v, integer), share)}")
            for v in distinct
        ]
    qs = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    cuts = sorted({_number(q, integer) for q in qs})
    cuts = [c for c in cuts if distinct[0] < c <= distinct[-1]]
    if not cuts:
        return []
    items = [Item(col, Condition(col, Op.LT, cuts[0]), f"{col}_lt_{_num_tag(cuts[0], share)}")]
    for lo, hi in zip(cuts, cuts[1:]):
        items.append(
            Item(
                col,
                all_of(Condition(col, Op.GE, lo), Condition(col, Op.LT, hi)),
                f"{col}_{_num_tag(lo, share)}_to_{_num_tag(hi, share)}",
            )
        )
    items.append(Item(col, Condition(col, Op.GE, cuts[-1]), f"{col}_ge_{_num_tag(cuts[-1], share)}"))
    return items


def column_items(series: pd.Series, bins: int) -> tuple[list[Item], str, str | None]:
    """(items, kind, reason skipped or None) of one column."""
    col = str(series.name)
    info = column_type(series)
    if info.type is ColumnType.BOOL:
        items = [Item(col, Condition(col, Op.EQ, v), col if v else f"not_{col}") for v in (True, False)]
    elif info.type is ColumnType.CATEGORY:
        items = [Item(col, Condition(col, Op.EQ, v), f"{col}_{_tag(v)}") for v in info.values]
    elif info.type is ColumnType.NUMBER:
        items = numeric_items(col, series.to_numpy(dtype=float, na_value=np.nan), bins)
    else:
        return [], "text", f"free text ({series.nunique():,} distinct values): not a slice feature"
    if series.isna().any():
        items.append(Item(col, Condition(col, Op.IS_NULL), f"{col}_missing"))
    return items, info.type.value, None


def item_space(df: pd.DataFrame, columns: Sequence[str], bins: int) -> ItemSpace:
    """Items of every column, and the boolean matrix of their rule masks over `df`'s rows."""
    n = len(df)
    items: list[Item] = []
    feature_of: list[int] = []
    masks: list[np.ndarray] = []
    rows, skipped = [], {}
    for col in columns:
        if col not in df.columns:
            raise ConfigError(
                f"discovery feature {col!r} is not a column of the table; "
                f"columns: {', '.join(map(str, df.columns[:30]))}"
            )
        found, kind, reason = column_items(df[col], bins)
        if reason:
            skipped[col] = reason
            continue
        kept = []
        for item in found:
            m = rule_mask(item.rule, df)
            if 0 < m.sum() < n:  # an item that holds on no row or on every row selects nothing new
                kept.append((item, m))
        if len(kept) < 1:
            skipped[col] = "one value on every row"
            continue
        f = len(rows)
        rows.append({"feature": col, "kind": kind, "items": len(kept)})
        for item, m in kept:
            items.append(item)
            feature_of.append(f)
            masks.append(m)
    matrix = np.column_stack(masks) if masks else np.zeros((n, 0), dtype=bool)
    return ItemSpace(
        tuple(items),
        matrix,
        np.asarray(feature_of, dtype=np.int64),
        pd.DataFrame(rows, columns=["feature", "kind", "items"]),
        skipped,
    )


# --- search -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """Conjunctions (item index tuples) with their search-half counts and statistic."""

    combos: list[tuple[int, ...]]
    n: np.ndarray
    improved: np.ndarray
    regressed: np.ndarray


def _counts(xt: np.ndarray, b: np.ndarray, c: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, ...]:
    """(rows, improved, regressed) counts of every conjunction of a row of `vt` with a row of `xt`
    (both items x rows, C-ordered: one BLAS product each)."""
    return vt @ xt.T, (vt * b) @ xt.T, (vt * c) @ xt.T


def search(
    space: ItemSpace, rows: np.ndarray, improved: np.ndarray, regressed: np.ndarray, settings: DiscoverySettings
) -> Scored:
    """Counts of every conjunction of up to `depth` items of different features on `rows`.

    Depth 1 and 2 are exhaustive; depth 3 extends the `beam` pairs with the smallest search p. BLAS
    runs on one thread: these products are small, and on a busy machine more threads only contend."""
    from threadpoolctl import threadpool_limits

    dtype = np.float32 if len(rows) < 2**24 else np.float64  # float32 counts are exact below 2**24
    xt = np.ascontiguousarray(space.matrix[rows].T, dtype=dtype)
    b, c = improved[rows].astype(dtype), regressed[rows].astype(dtype)
    m = xt.shape[0]
    combos: list[tuple[int, ...]] = [(i,) for i in range(m)]
    parts = [[xt.sum(axis=1)], [xt @ b], [xt @ c]]
    with threadpool_limits(1):
        if settings.depth >= 2 and m > 1:
            n2, b2, c2 = _counts(xt, b, c, xt)
            i, j = np.triu_indices(m, 1)
            keep = space.feature_of[i] != space.feature_of[j]
            i, j = i[keep], j[keep]
            combos += list(zip(i.tolist(), j.tolist()))
            for part, counts in zip(parts, (n2, b2, c2)):
                part.append(counts[i, j])
            if settings.depth >= 3 and len(i):
                p = _search_p(n2[i, j], b2[i, j], c2[i, j], b.sum(), c.sum(), len(rows), settings.min_support)
                top = np.argsort(p, kind="stable")[: settings.beam]
                top = top[np.isfinite(p[top])]
                if len(top):
                    triples = _extend(space, i[top], j[top], combos)
                    vt = xt[i[top]] * xt[j[top]]
                    for part, counts in zip(parts, _counts(xt, b, c, vt)):
                        part.append(counts[triples[:, 0], triples[:, 1]])
    return Scored(combos, *(np.concatenate(p).astype(np.float64) for p in parts))


def _extend(space: ItemSpace, first: np.ndarray, second: np.ndarray, combos: list[tuple[int, ...]]) -> np.ndarray:
    """Triples from pairs (first[r], second[r]) and an item k of a third feature, each triple once;
    appends them to `combos` and returns their (pair row r, item k) positions."""
    seen: set[tuple[int, ...]] = set()
    out = []
    f = space.feature_of
    for r, (a, b) in enumerate(zip(first.tolist(), second.tolist())):
        for k in np.flatnonzero((f != f[a]) & (f != f[b])).tolist():
            combo = tuple(sorted((a, b, k)))
            if combo not in seen:
                seen.add(combo)
                combos.append(combo)
                out.append((r, k))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _search_p(n, b, c, b_all, c_all, n_all, min_support: int) -> np.ndarray:
    """The slice-vs-rest p of each conjunction, NaN where it is no candidate: too few rows inside or
    outside, a change not below zero, or not below the rest's change."""
    stats = vs_rest(b, c, n, float(b_all), float(c_all), float(n_all))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n >= min_support) & (n_all - n >= min_support) & ((b - c) / n < 0) & (stats["vs_rest"] < 0)
    return np.where(ok, stats["vs_rest_p"], np.nan)


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundSlice:
    """A candidate slice: its rule, and the paired comparison on the search half, on the confirmation
    half (the honest test: `confirmed`) and on all rows (optimistic: includes the rows that chose it)."""

    name: str
    rule: Rule
    search: dict[str, Any]  # n, delta, vs_rest, p on the search half
    confirm: dict[str, Any]  # one row of CHANGE_COLUMNS on the confirmation half (BH over the candidates)
    overall: dict[str, Any]  # the same on all rows
    confirmed: bool
    related: str = ""  # overlap with a stronger confirmed slice, in words

    @property
    def text(self) -> str:
        """The rule's canonical text (`evalcore.analyze.rules.format_rule`)."""
        return format_rule(self.rule)

    def note(self, settings: DiscoverySettings) -> str:
        """The slice's hypothesis note when saved: how it was found and its confirmation figures."""
        c = self.confirm
        return (
            f"Found by evalcore discover (seed {settings.seed}, depth {settings.depth}); on the confirmation "
            f"half (n={int(c['n']):,}) the change is {units.pts_ci(c['delta'], c['delta_lo'], c['delta_hi'])} "
            f"and {units.pts_ci(c['vs_rest'], c['vs_rest_lo'], c['vs_rest_hi'])} against the rest "
            f"(BH p {units.p_value(c['vs_rest_p_adjusted'])})."
        )

    def to_slice(self, settings: DiscoverySettings) -> Slice:
        return Slice(self.name, self.rule, self.note(settings))

    def to_dict(self) -> dict[str, Any]:
        return units.strict_json(
            {
                "name": self.name,
                "rule": self.text,
                "confirmed": self.confirmed,
                "search": self.search,
                "confirmation": self.confirm,
                "all_rows": self.overall,
                "related": self.related,
            }
        )


@dataclass
class Discovery:
    """Everything one discovery run found and how (see the module docstring)."""

    settings: DiscoverySettings
    baseline: str
    candidate: str
    n_rows: int
    n_search: int
    n_confirm: int
    n_items: int
    n_tested: int  # conjunctions scored on the search half
    features: pd.DataFrame
    skipped: dict[str, str]
    candidates: list[FoundSlice]
    search_seconds: float
    total_seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> list[FoundSlice]:
        return [c for c in self.candidates if c.confirmed]

    def slice_set(self, only_confirmed: bool = True) -> SliceSet:
        """The found slices in the slice file format (`evalcore.analyze.slices.save_slices`)."""
        chosen = self.confirmed if only_confirmed else self.candidates
        return SliceSet(tuple(c.to_slice(self.settings) for c in chosen))

    def method(self) -> str:
        return self.settings.method()

    def table(self, only_confirmed: bool = False) -> pd.DataFrame:
        """One row per candidate with the figures of both halves (plain shares: machine-readable)."""
        rows = []
        for rank, c in enumerate(self.confirmed if only_confirmed else self.candidates, start=1):
            row = {
                "rank": rank,
                "name": c.name,
                "rule": c.text,
                "confirmed": c.confirmed,
                "search_n": c.search["n"],
                "search_delta": c.search["delta"],
                "search_vs_rest": c.search["vs_rest"],
                "search_p": c.search["p"],
            }
            row.update({f"confirm_{k}": c.confirm[k] for k in CHANGE_COLUMNS if k != "slice"})
            row.update(
                {
                    f"all_{k}": c.overall[k]
                    for k in CHANGE_COLUMNS
                    if k not in ("slice", "p_adjusted", "vs_rest_p_adjusted", "worse_than_rest")
                }
            )
            row["related"] = c.related
            rows.append(row)
        return pd.DataFrame(rows)

    def summary_lines(self) -> list[str]:
        """What was searched, in words: the lines the CLI prints above the table."""
        s = self.settings
        feats = ", ".join(self.features["feature"]) or "none"
        lines = [
            f"searched {self.n_tested:,} conjunctions of up to {s.depth} of {self.n_items} items from "
            f"{len(self.features)} features ({feats}) on a random half of {self.n_search:,} rows (seed {s.seed}) "
            f"in {self.search_seconds:.2f} s",
            f"tested {len(self.candidates)} candidates on the other {self.n_confirm:,} rows (Benjamini-Hochberg "
            f"at {s.alpha:g}): {len(self.confirmed)} confirmed worse than the rest",
        ]
        if self.skipped:
            lines.append("not searched: " + "; ".join(f"{k} ({v})" for k, v in self.skipped.items()))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON form: settings, sizes, every candidate, and the confirmed slices in the slice file
        format under `slices` (what `--out` writes on its own)."""
        return units.strict_json(
            {
                "settings": asdict(self.settings),
                "method": self.method(),
                "baseline": self.baseline,
                "candidate": self.candidate,
                "n_rows": self.n_rows,
                "n_search": self.n_search,
                "n_confirm": self.n_confirm,
                "n_items": self.n_items,
                "n_tested": self.n_tested,
                "features": self.features.to_dict(orient="records"),
                "skipped": self.skipped,
                "search_seconds": self.search_seconds,
                "total_seconds": self.total_seconds,
                "candidates": [c.to_dict() for c in self.candidates],
                "confirmed": [c.name for c in self.confirmed],
                "slices": self.slice_set().to_json(),
                "warnings": self.warnings,
            }
        )


# --- the run ----------------------------------------------------------------------------------------


def split_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indexes of the search half and the confirmation half (sorted), from a seeded permutation."""
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])


def _changes(names: list[str], masks: np.ndarray, b_ok: np.ndarray, c_ok: np.ndarray, alpha: float) -> pd.DataFrame:
    """`paired.binary_changes` for `all` + the given (K, n) masks."""
    full = np.vstack([np.ones((1, masks.shape[1]), dtype=bool), masks]).astype(np.int64)
    cells = [(b_ok & c_ok), (~b_ok & c_ok), (b_ok & ~c_ok), (~b_ok & ~c_ok)]
    both, improved, regressed, neither = (full @ cell.astype(np.int64) for cell in cells)
    return binary_changes([ALL, *names], both, improved, regressed, neither, alpha=alpha)


def slice_name(items: Sequence[Item], taken: set[str]) -> str:
    """A readable, unique slice name from the items' tags (at most 64 characters)."""
    base = "__".join(item.tag for item in items)
    if not re.match(r"[A-Za-z_]", base):
        base = f"s_{base}"
    base = base[:60]
    name, k = base, 2
    while name in taken:
        name = f"{base}_{k}"
        k += 1
    taken.add(name)
    return name


def _related(found: list[FoundSlice], masks: dict[str, np.ndarray]) -> list[FoundSlice]:
    """Note, for each confirmed slice, the strongest earlier confirmed slice sharing most of its rows,
    so a reader sees that `has_negation` was confirmed partly through `has_negation and short`."""
    out, earlier = [], []
    for f in found:
        note = ""
        if f.confirmed:
            mine = masks[f.name]
            for other in earlier:
                theirs = masks[other]
                both = int((mine & theirs).sum())
                in_them, of_them = both / max(int(mine.sum()), 1), both / max(int(theirs.sum()), 1)
                if max(in_them, of_them) >= 0.5:
                    note = (
                        f"{in_them:.0%} of its rows are in {other}"
                        if in_them >= of_them
                        else f"holds {of_them:.0%} of {other}'s rows"
                    )
                    break
            earlier.append(f.name)
        out.append(FoundSlice(f.name, f.rule, f.search, f.confirm, f.overall, f.confirmed, note))
    return out


def discover_slices(df_eval: pd.DataFrame, settings: DiscoverySettings | None = None, **options) -> Discovery:
    """Search one seeded half of `df_eval` for slices worse than the rest, confirm on the other half.

    `options` are `DiscoverySettings` fields (e.g. `depth=3, seed=1`). Needs a df_eval built by
    `evalcore.analyze.tables.build_df_eval` (both roles' correctness); no model runs here.
    """
    started = time.perf_counter()
    if settings is not None and options:
        raise ConfigError("give either settings= or keyword options, not both")
    settings = settings if settings is not None else DiscoverySettings(**options)
    names = role_names(df_eval)
    n = len(df_eval)
    if n < 4 * settings.min_support:
        raise DataError(
            f"discovery needs at least {4 * settings.min_support} rows (4 x min_support "
            f"{settings.min_support}: a slice and its rest in each half); this table has {n}"
        )
    b_ok = df_eval[role_col("baseline", "correct")].to_numpy(dtype=bool)
    c_ok = df_eval[role_col("candidate", "correct")].to_numpy(dtype=bool)
    improved, regressed = ~b_ok & c_ok, b_ok & ~c_ok
    columns = (
        list(settings.features)
        if settings.features is not None
        else default_columns(df_eval, settings.include_model_outputs)
    )
    bad = [
        c
        for c in columns
        if c in (*CORE_COLUMNS[:2], "regressed", "improved", "both_wrong", "both_correct", "confident_regression")
        or c.endswith("_correct")
        or c.startswith("correct_")
    ]
    if bad:
        raise ConfigError(
            f"discovery feature(s) {', '.join(bad)} are ids, text or the outcome itself; "
            "slices are searched on metadata, the label and confidences"
        )
    space = item_space(df_eval, columns, settings.bins)
    if not space.items:
        raise DataError(
            "no column can be searched: every feature is free text or constant "
            f"({'; '.join(f'{k}: {v}' for k, v in space.skipped.items()) or 'no features'})"
        )
    search_rows, confirm_rows = split_halves(n, settings.seed)
    scored = search(space, search_rows, improved, regressed, settings)
    p = _search_p(
        scored.n,
        scored.improved,
        scored.regressed,
        improved[search_rows].sum(),
        regressed[search_rows].sum(),
        len(search_rows),
        settings.min_support,
    )
    search_seconds = time.perf_counter() - started
    chosen = _choose(scored, p, space, settings)
    taken: set[str] = set()
    found_names = [slice_name([space.items[i] for i in scored.combos[at]], taken) for at, _ in chosen]
    masks = np.array([m for _, m in chosen]).reshape(len(chosen), n)
    conf = _changes(found_names, masks[:, confirm_rows], b_ok[confirm_rows], c_ok[confirm_rows], settings.alpha)
    every = _changes(found_names, masks, b_ok, c_ok, settings.alpha)
    conf_rows = conf[CHANGE_COLUMNS].to_dict(orient="records")
    all_rows = every[CHANGE_COLUMNS].to_dict(orient="records")
    found = []
    stats = vs_rest(
        scored.improved,
        scored.regressed,
        scored.n,
        improved[search_rows].sum(),
        regressed[search_rows].sum(),
        len(search_rows),
    )
    for k, ((at, _), name) in enumerate(zip(chosen, found_names)):
        rule = all_of(*(space.items[i].rule for i in scored.combos[at]))
        delta = (scored.improved[at] - scored.regressed[at]) / scored.n[at]
        search_stats = {
            "n": int(scored.n[at]),
            "delta": float(delta),
            "vs_rest": float(stats["vs_rest"][at]),
            "p": float(p[at]),
        }
        c_row, a_row = conf_rows[k + 1], all_rows[k + 1]
        found.append(FoundSlice(name, rule, search_stats, c_row, a_row, bool(c_row["worse_than_rest"])))
    order = sorted(
        range(len(found)),
        key=lambda k: (not found[k].confirmed, np.nan_to_num(found[k].confirm["vs_rest_p"], nan=2.0), k),
    )
    found = _related([found[k] for k in order], dict(zip(found_names, masks)))
    warnings = []
    if len(confirm_rows) < SMALL_HALF:
        warnings.append(
            f"the confirmation half has only {len(confirm_rows):,} rows: only large regressions on "
            "large slices can be confirmed; an unconfirmed candidate is not shown to be fine"
        )
    return Discovery(
        settings=settings,
        baseline=names["baseline"],
        candidate=names["candidate"],
        n_rows=n,
        n_search=len(search_rows),
        n_confirm=len(confirm_rows),
        n_items=len(space.items),
        n_tested=len(scored.combos),
        features=space.features,
        skipped=space.skipped,
        candidates=found,
        search_seconds=search_seconds,
        total_seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _choose(
    scored: Scored, p: np.ndarray, space: ItemSpace, settings: DiscoverySettings
) -> list[tuple[int, np.ndarray]]:
    """The best `max_candidates` conjunctions by search p (below `screen_p`): (index into `scored`, mask
    on all rows). Near-duplicates (Jaccard >= NEAR_DUPLICATE on all rows) are tested once, in their
    simplest form: ten spellings of `label == "negative"` would spend the confirmation's tests on one
    finding. Only the search half's outcomes and the features decide, so the confirmation stays fair."""
    ok = np.flatnonzero(np.isfinite(p) & (p < settings.screen_p))
    sizes = np.array([len(scored.combos[i]) for i in ok])
    order = ok[np.lexsort((ok, sizes, p[ok]))][: settings.max_candidates * SCAN_FACTOR]
    packed = np.packbits(space.matrix, axis=0)  # (ceil(n/8), m): a conjunction's mask is an AND of columns
    chosen: list[tuple[int, np.ndarray]] = []
    for i in order:
        combo = scored.combos[i]
        bits = np.bitwise_and.reduce(packed[:, list(combo)], axis=1)
        size = int(np.bitwise_count(bits).sum())
        clashes = []
        for k, (j, other) in enumerate(chosen):
            both = int(np.bitwise_count(bits & other).sum())
            union = size + int(np.bitwise_count(other).sum()) - both
            if union and both / union >= NEAR_DUPLICATE:
                clashes.append(k)
        if not clashes:
            if len(chosen) < settings.max_candidates:
                chosen.append((int(i), bits))
        elif all(len(combo) < len(scored.combos[chosen[k][0]]) for k in clashes):
            # the simpler spelling of the same rows takes the first one's place; the others go
            chosen[clashes[0]] = (int(i), bits)
            chosen = [c for k, c in enumerate(chosen) if k not in clashes[1:]]
    n = space.matrix.shape[0]
    return [(i, np.unpackbits(bits, count=n).astype(bool)) for i, bits in chosen]


def discovery_text(discovery: Discovery) -> list[str]:
    """The CLI's readable output: what was searched, then one row per tested candidate, in the units of
    every page (the confirmation half's figures; all rows' change last, optimistic)."""
    out = [
        f"discovery: {discovery.candidate} (candidate) vs {discovery.baseline} (baseline), {discovery.n_rows:,} rows",
        *discovery.summary_lines(),
    ]
    if discovery.candidates:
        table = pd.DataFrame(
            {
                "slice": [f.name for f in discovery.candidates],
                "result": ["CONFIRMED" if f.confirmed else "-" for f in discovery.candidates],
                "n": [f"{int(f.confirm['n']):,}" for f in discovery.candidates],
                "change [95%]": [
                    units.pts_ci(f.confirm["delta"], f.confirm["delta_lo"], f.confirm["delta_hi"])
                    for f in discovery.candidates
                ],
                "vs rest [95%]": [
                    units.pts_ci(f.confirm["vs_rest"], f.confirm["vs_rest_lo"], f.confirm["vs_rest_hi"])
                    for f in discovery.candidates
                ],
                "BH p": [units.p_value(f.confirm["vs_rest_p_adjusted"]) for f in discovery.candidates],
                "MDE": [units.magnitude_pts(f.confirm["mde"]) for f in discovery.candidates],
                "all rows": [units.pts(f.overall["delta"]) for f in discovery.candidates],
            }
        )
        out += [
            "",
            "candidates on the confirmation half (change = candidate - baseline accuracy; vs rest = change "
            "minus the other rows' change; 'all rows' includes the search half, so it is optimistic):",
            table.to_string(index=False),
            "",
            "rules:",
        ]
        out += [f"  {f.name}: {f.text}" + (f"  ({f.related})" if f.related else "") for f in discovery.candidates]
    else:
        out.append("no conjunction was worse than the rest on the search half: nothing to confirm")
    out += [f"warning: {w}" for w in discovery.warnings]
    return out


__all__ = [
    "DiscoverySettings",
    "Discovery",
    "FoundSlice",
    "Item",
    "ItemSpace",
    "default_columns",
    "discover_slices",
    "discovery_text",
    "item_space",
    "search",
    "slice_name",
    "split_halves",
]
