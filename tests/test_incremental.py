"""Incremental analysis (issue 21, item 2): an edit of one slice recomputes that slice's row-level work only,
and the tables equal a full `analyse`."""

from __future__ import annotations

import pandas.testing as pdt
import pytest

from evalcore.analyze.slices import Slice, starter_slices
from evalcore.io.load import load_data
from evalcore.stats.incremental import Parts, dict_memo
from evalcore.tasks.pipeline import analyse, build_eval, model_outputs


@pytest.fixture(scope="module")
def lab():
    data = load_data("lab")
    preds = [model_outputs(data, spec)[0] for spec in data.default_models]
    return data, build_eval(data, *preds)


def _same(a, b) -> None:
    for name in ("slice_metrics", "regression_metrics", "calibration", "changes", "per_class"):
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
        assert getattr(a, name).attrs == getattr(b, name).attrs, name
    assert a.overall == b.overall or str(a.overall) == str(b.overall)
    assert list(a.masks) == list(b.masks) and all((a.masks[k] == b.masks[k]).all() for k in a.masks)
    assert a.roles == b.roles and a.warnings == b.warnings


def test_an_edit_of_one_slice_recomputes_only_that_slice(lab) -> None:
    data, df = lab
    parts = Parts("lab-table")
    slices = starter_slices()
    _same(analyse(df, slices, data.labels, parts=parts), analyse(df, slices, data.labels))
    n = len(slices)
    once = {"schema": 1, "codes": 1, "groups": 1, "per_class": 1}  # per table
    # calibration's row-level sums: every row once, in one pass
    assert parts.computed == {**once, "mask": n, "cells": n + 1, "calibration": n + 1, "calibration_rows": n + 1}

    edited = slices.replace(Slice("has_question", "has_question == true and word_count > 12", "edited"))
    _same(analyse(df, edited, data.labels, parts=parts), analyse(df, edited, data.labels))
    assert parts.computed == {
        **once,
        "mask": n + 1,
        "cells": n + 2,
        "calibration": n + 2,
        "calibration_rows": n + 2,
    }  # the edited slice's sums only

    added = edited.add(Slice("long_negations", "has_negation == true and word_count > 12"))
    _same(analyse(df, added, data.labels, parts=parts), analyse(df, added, data.labels))
    assert parts.computed["mask"] == n + 2 and parts.computed["cells"] == n + 3

    # the same rule moved to another position: mask and cells are reused, calibration's seed follows the position
    moved = added.remove("has_negation")
    _same(analyse(df, moved, data.labels, parts=parts), analyse(df, moved, data.labels))
    assert parts.computed["mask"] == n + 2 and parts.computed["cells"] == n + 3


def test_another_table_key_never_reads_this_ones_parts(lab) -> None:
    data, df = lab
    memo_store: dict = {}

    def memo(key, make):
        if key not in memo_store:
            memo_store[key] = make()
        return memo_store[key]

    analyse(df, starter_slices(), data.labels, parts=Parts("one", memo))
    other = Parts("two", memo)
    analyse(df, starter_slices(), data.labels, parts=other)
    assert other.computed["mask"] == len(starter_slices())


def test_the_dashboard_engine_recomputes_only_the_edited_slice(lab) -> None:
    """ui.engine.get_results after a slice edit: the process-wide memo gains that slice's mask and cells (2
    entries), and its calibration row (1) when the calibration table is read; the results equal a full analyse."""
    from ui import engine

    data, df = lab
    comp = engine.Comparison(data=data, baseline=None, candidate=None, df_eval=df, key="lab-engine-test")
    parts = engine._memos()["parts"]
    before = len(parts.items)
    slices = starter_slices()
    first_results = engine.get_results(comp, slices, 0.8)
    first = len(parts.items) - before
    # per slice its mask and cells; per table the cells, schema, per-class and codes: no calibration yet
    assert first == 2 * len(slices) + 4
    overall = first_results.overall_calibration()  # what the findings read: the whole data's rows (+ groups)
    assert len(parts.items) - before == first + 2
    full = first_results.calibration  # every slice's row, in one pass (the whole data's is kept)
    assert len(parts.items) - before == first + 2 + len(slices)
    pdt.assert_frame_equal(overall.reset_index(drop=True), full[full["slice"] == "all"].reset_index(drop=True))
    first += 2 + len(slices)
    edited = slices.replace(Slice("has_url", "has_url == true and word_count > 12"))
    out = engine.get_results(comp, edited, 0.8)
    assert len(parts.items) - before == first + 2
    out.calibration
    assert len(parts.items) - before == first + 3
    _same(out, analyse(df, edited, data.labels))
    assert engine.slice_mask(comp, edited["has_url"]) is out.masks["has_url"]  # the Slices page reads the same mask


def test_a_row_the_memo_dropped_after_it_was_listed_as_kept_is_computed(lab) -> None:
    """Between listing the kept calibration rows and reading them, a bounded memo may drop one (another session
    filled it): that row is then summed on its own, and the tables are still those of a full `analyse`."""
    data, df = lab
    memo = dict_memo()
    memo.has = lambda key: "|calibration|all|" in key  # the whole table's row: kept, it says; it is not there
    parts = Parts("lab-table", memo)
    slices = starter_slices()
    _same(analyse(df, slices, data.labels, parts=parts), analyse(df, slices, data.labels))
    assert parts.computed["calibration_rows"] == len(slices) + 1  # the slices' rows in one pass, then `all` alone


def test_a_saved_slice_set_is_analysed_ahead_for_compare(lab) -> None:
    """ui.engine.prefetch_analysis (the Slices page, on save) leaves in the memo the very tables Compare then
    reads for that slice set and the workspace's settings, with the findings' gold-label mix."""
    from types import SimpleNamespace

    from ui import engine

    data, df = lab
    comp = engine.Comparison(data=data, baseline=None, candidate=None, df_eval=df, key="lab-prefetch-test")
    slices = starter_slices().add(Slice("long_urls", "has_url == true and word_count > 12"))
    ws = SimpleNamespace(slices=slices.to_json(), conf_threshold=0.8, min_n=30, alpha=0.05)
    engine.prefetch_analysis(ws, comp, slices).join()
    results = engine.get_results(comp, slices, 0.8, 30, 0.05, [])
    assert any(key[0] == "label_mix" for key in results.derived)  # computed by the thread, with the results
    _same(results, analyse(df, slices, data.labels))
    assert engine.prefetch_analysis(SimpleNamespace(**{**vars(ws), "slices": None}), comp, slices) is None
