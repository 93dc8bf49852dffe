"""Incremental analysis: after one slice's edit, only that slice's rows are touched again.

`evalcore.tasks.pipeline.analyse` computes, for every slice, work that reads all n rows (its mask, its joint
confusion cells, its calibration bins and bootstrap) and then statistics over the per-slice counts that are
cheap (Benjamini-Hochberg across slices, intervals, power). The first kind depends on one slice only: its rule
and the table. `Parts` keeps that per-slice work in a caller's memo, keyed by the table's key and the
slice's canonical rule text, so editing one slice of twenty recomputes one mask, one row of cells and one
calibration row; the statistics across slices then run on counts as before.

Results are identical to `analyse` without a memo (tests compare the tables): calibration's bootstrap seed
depends on the slice's position (`seed + 1000 * role + position`, see `evalcore.stats.metrics.calibration_metrics`),
so its memo key carries the position too, and a single-slice call is made with the seed that gives the same
stream.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from evalcore.stats.metrics import ALL_SLICE as ALL  # the name of the whole-table row

Memo = Callable[[str, Callable[[], Any]], Any]


def dict_memo() -> Memo:
    """A plain unbounded memo (tests, notebooks); the dashboard passes its own bounded LRU."""
    store: dict[str, Any] = {}
    lock = threading.Lock()

    def get(key: str, make: Callable[[], Any]) -> Any:
        with lock:
            if key in store:
                return store[key]
        value = make()
        with lock:
            store[key] = value
        return value

    get.has = store.__contains__  # type: ignore[attr-defined]  # what `Parts.calibration` asks (as the dashboard's)
    return get


@dataclass
class Parts:
    """Per-slice work of one table (`table_key` names it: data, models, features, threshold), kept in `memo`.

    `computed` counts what was actually computed in this object's life, by kind (`mask`, `cells`,
    `calibration`, `calibration_rows`, `schema`, `per_class`, and once per table `codes` and `groups`: each
    row's confusion cell and calibration group, so a slice's cells and calibration are counts over its rows):
    what tests read to prove an edit recomputed one slice only."""

    table_key: str
    memo: Memo = field(default_factory=dict_memo)
    computed: dict[str, int] = field(default_factory=dict)

    def _key(self, kind: str, key: str) -> str:
        return f"{self.table_key}|{kind}|{key}"

    def _get(self, kind: str, key: str, make: Callable[[], Any]) -> Any:
        def counted() -> Any:
            self.computed[kind] = self.computed.get(kind, 0) + 1
            return make()

        return self.memo(self._key(kind, key), counted)

    def schema(self, df_eval: pd.DataFrame) -> Any:
        """The rule schema of the table (column types; reading every column once), once per table."""
        from evalcore.analyze.rules import Schema

        return self._get("schema", "", lambda: Schema.from_frame(df_eval))

    def masks(self, slices: Any, df_eval: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each slice's mask, by name, computed once per (table, rule text). The caller validated the slices."""
        from evalcore.analyze.rules import mask

        return {s.name: self._get("mask", s.text, partial(_bool_mask, mask, s.rule, df_eval)) for s in slices}

    def cells(
        self, df_eval: pd.DataFrame, masks: Mapping[str, np.ndarray], texts: Mapping[str, str], labels: Sequence[str]
    ) -> Any:
        """`evalcore.stats.comparisons.confusion_cells` assembled from one row per slice (`all` once per table)."""
        from evalcore.stats.comparisons import Cells, confusion_cells, joint_codes

        lab = list(labels)
        codes = self._get("codes", str(lab), lambda: joint_codes(df_eval, lab))
        whole = self._get("cells", f"{ALL}|{lab}", lambda: confusion_cells(df_eval, {}, lab, codes=codes))
        rows = [whole.counts[0]]
        for name, m in masks.items():
            one = self._get(
                "cells", f"{texts[name]}|{lab}", partial(confusion_cells, df_eval, {name: m}, lab, codes=codes)
            )
            rows.append(one.counts[1])
        return Cells([whole.slices[0], *masks], whole.labels, np.vstack(rows))

    def calibration(
        self, df_eval: pd.DataFrame, masks: Mapping[str, np.ndarray], texts: Mapping[str, str], *, min_n: int
    ) -> pd.DataFrame:
        """`evalcore.stats.metrics.calibration_metrics` assembled per slice, equal to the one call over all slices.

        A slice's row is its sums' table (`calibration_from_sums`, seeded by its position); the sums of every
        slice whose row is not kept are computed together, in one pass over the rows (`calibration_sums` costs
        about the same for one slice as for twenty)."""
        from evalcore.analyze.tables import role_names
        from evalcore.stats.metrics import ROLES, calibration_from_sums, calibration_groups, calibration_sums

        groups = self._get("groups", "", lambda: {role: calibration_groups(df_eval, role) for role in ROLES})
        names = role_names(df_eval)
        rows_of = [None, *masks.values()]  # row 0: every row of the table
        keys = [f"{ALL}|{min_n}"] + [f"{texts[name]}|{order}|{min_n}" for order, name in enumerate(masks, start=1)]
        has = getattr(self.memo, "has", None)  # a memo that tells what it holds lets the pass skip the kept rows
        todo = [row for row, key in enumerate(keys) if has is None or not has(self._key("calibration", key))]

        def mask_of(row: int) -> np.ndarray:
            return np.ones(len(df_eval), dtype=bool) if row == 0 else rows_of[row]

        batch: dict[int, np.ndarray] = {}

        def sums(row: int) -> np.ndarray:  # (2 roles, groups, 5) of row `row`
            if row not in batch:  # every row still to do, in one pass, and `row` (kept then dropped since: a race)
                rows = [r for r in todo if r not in batch and r != row] + [row]
                self.computed["calibration_rows"] = self.computed.get("calibration_rows", 0) + len(rows)
                matrix = np.stack([mask_of(r) for r in rows])
                both = np.stack([calibration_sums(df_eval, role, matrix, group=groups[role]) for role in ROLES], 1)
                batch.update(zip(rows, both))
            return batch[row]

        def table(row: int) -> pd.DataFrame:
            # in the one call over all slices this row sits at position `row`, its bootstrap seeded with
            # seed + 1000 * role + row; alone it sits at 0, so seed=row gives the same stream
            n = np.array([int(mask_of(row).sum())])
            return calibration_from_sums(names, ["_"], n, sums(row)[None], min_n=min_n, seed=row)

        whole = self._get("calibration", keys[0], lambda: table(0).assign(slice=ALL))
        parts = [whole.assign(_order=0)]
        for order, name in enumerate(masks, start=1):
            one = self._get("calibration", keys[order], partial(table, order))
            parts.append(one.assign(slice=name, _order=order))
        out = (
            pd.concat(parts, ignore_index=True)
            .sort_values("_order", kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
        out.attrs = whole.attrs
        return out

    def per_class(self, df_eval: pd.DataFrame, labels: Sequence[str], cells: Any) -> pd.DataFrame:
        """`evalcore.stats.comparisons.per_class_changes` (every row, no slice): once per table and labels."""
        from evalcore.stats.comparisons import per_class_changes

        return self._get("per_class", str(list(labels)), lambda: per_class_changes(df_eval, labels, cells=cells))


def _bool_mask(mask: Callable[..., Any], rule: Any, df_eval: pd.DataFrame) -> np.ndarray:
    return np.asarray(mask(rule, df_eval), dtype=bool)


__all__ = ["Parts", "dict_memo"]
