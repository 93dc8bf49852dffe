"""The feature store: features computed once per data and read back from disk (issue 21, item 1).

Reads are proven by counting computations (`featurestore.COMPUTED` / `READ`), never by timing."""

from __future__ import annotations

import os
import threading

import pandas as pd
import pandas.testing as pdt
import pytest

from evalcore.analyze import featurestore
from evalcore.analyze.features import CustomFeature, compute_features

TEXTS = [
    "NOT sure about this... 😂😂",
    "@user great #win http://t.co/x",
    "soooo good!!",
    "I can't even",
    "WHY would you",
    "meh",
    "",
    "short",
]


def _stored(pattern: str):
    """The store's files, after this process's pending writes (tables are written on a side thread)."""
    featurestore.flush()
    return featurestore.store_dir().glob(pattern)


def _texts(n: int = 400) -> pd.Series:
    return pd.Series([f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(n)], dtype=object)


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(featurestore, "COMPUTED", featurestore.Counter())
    monkeypatch.setattr(featurestore, "READ", featurestore.Counter())
    return featurestore


def test_second_load_reads_the_disk_and_equals_a_fresh_computation(counts) -> None:
    texts = _texts()
    first = featurestore.text_features(texts, store=True)
    assert counts.COMPUTED["features"] == 1 and counts.READ["features"] == 0
    files = list(_stored("*.parquet"))
    assert len(files) == 1 and files[0].parent == featurestore.store_dir()
    again = featurestore.text_features(texts.copy(), store=True)  # a new session: another object, same rows
    assert counts.COMPUTED["features"] == 1 and counts.READ["features"] == 1
    expected = compute_features(texts)
    pdt.assert_frame_equal(again, expected)
    pdt.assert_frame_equal(first, expected)
    assert not list(_stored(".*tmp*"))  # no temp file left behind


def test_other_rows_or_custom_features_are_other_tables(counts) -> None:
    texts = _texts()
    featurestore.text_features(texts, store=True)
    changed = texts.copy()
    changed.iloc[7] = "a different text"
    out = featurestore.text_features(changed, store=True)
    custom = [CustomFeature.from_dict({"name": "says_great", "kind": "keywords", "pattern": ["great"]})]
    with_custom = featurestore.text_features(texts, custom, store=True)
    assert counts.COMPUTED["features"] == 3 and counts.READ["features"] == 0
    pdt.assert_frame_equal(out, compute_features(changed))
    assert with_custom["says_great"].sum() == sum("great" in t for t in texts)
    assert featurestore.texts_fingerprint(texts) != featurestore.texts_fingerprint(texts.iloc[::-1])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_rows"])
def test_a_corrupt_file_is_recomputed_never_trusted(counts, damage: str) -> None:
    texts = _texts()
    featurestore.text_features(texts, store=True)
    (path,) = _stored("*.parquet")
    if damage == "garbage":
        path.write_bytes(b"not parquet at all" * 50)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # a sound Parquet file of another table under this name: wrong rows, wrong key
        compute_features(texts.iloc[:10]).to_parquet(path)
    out = featurestore.text_features(texts, store=True)
    assert counts.COMPUTED["features"] == 2 and counts.READ["features"] == 0
    pdt.assert_frame_equal(out, compute_features(texts))
    featurestore.text_features(texts, store=True)  # the recomputed table replaced the bad file
    assert counts.READ["features"] == 1


def test_concurrent_writers_leave_one_sound_table(counts) -> None:
    texts = _texts()
    outs: list[pd.DataFrame] = []
    threads = [
        threading.Thread(target=lambda: outs.append(featurestore.text_features(texts, store=True))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outs) == 3
    assert len(list(_stored("*.parquet"))) == 1
    assert not list(_stored(".*tmp*"))
    pdt.assert_frame_equal(featurestore.text_features(texts, store=True), compute_features(texts))


def test_small_data_skips_the_store_and_the_cap_prunes_least_recent(counts, monkeypatch) -> None:
    featurestore.text_features(_texts(50))
    assert not featurestore.store_dir().exists()  # under EVALCORE_FEATURES_MIN_ROWS: computed, not stored
    monkeypatch.setenv(featurestore.MIN_ROWS_VAR, "10")
    old, new = _texts(300), _texts(301)
    featurestore.text_features(old)
    (old_path,) = _stored("*.parquet")
    os.utime(old_path, (1, 1))
    featurestore.text_features(new)
    size = max(f.stat().st_size for f in _stored("*.parquet"))
    removed = featurestore.prune(cap=size + 1)
    assert removed == [old_path]
    assert featurestore.stats()["tables"] == 1


def test_the_pipeline_reads_features_through_the_store(counts, monkeypatch, shared_data) -> None:
    from evalcore.io.load import load_data
    from evalcore.tasks.pipeline import eval_base

    monkeypatch.setenv(featurestore.MIN_ROWS_VAR, "1")
    data = load_data("lab")
    first = eval_base(data)
    second = eval_base(load_data("lab"))
    assert counts.COMPUTED["features"] == 1 and counts.READ["features"] == 1
    pdt.assert_frame_equal(first, second)


def test_doctor_counts_the_store_apart_and_cache_clear_empties_it(counts, evalcore_home, capsys) -> None:
    from evalcore.cli import main
    from evalcore.serve.doctor import disk_use, report_lines

    featurestore.text_features(_texts(), store=True)
    size = featurestore.stats()["bytes"]
    use = disk_use(evalcore_home)
    assert use["feature store"] == (size, 1) and use["prediction cache"][0] >= 0
    assert any(line.strip().startswith("feature store") and featurestore.CAP_VAR in line for line in report_lines())
    assert main(["cache", "stats"]) == 0 and "feature store:" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0 and "removed 1 stored feature tables" in capsys.readouterr().out
    assert featurestore.stats()["tables"] == 0


def test_labels_of_a_long_column_read_per_distinct_value_as_row_by_row() -> None:
    """The per-distinct-value reader (a million rows, a handful of labels) gives the row reader's names and,
    on a bad value, its exact error naming the first bad row."""
    from evalcore.core.errors import DataError
    from evalcore.io.labels import LabelMap, _read_rows, read_labels

    m = LabelMap(names=("negative", "neutral", "positive"), ids=("0", "1", "2"), source="test")
    for values in (["0", "2", "1"] * 700, [0, 2, 1.0] * 700, ["POS", "neg", "neutral"] * 700):
        assert read_labels(values, m, where="w", lenient=True) == _read_rows(
            values, m, where="w", error=DataError, lenient=True
        )
    bad = ["0"] * 1500 + ["7"] + ["negative"] * 10
    with pytest.raises(DataError, match="label id '7' at row 1501"):
        read_labels(bad, m, where="w")
    mixed = ["0"] * 1500 + ["negative"]
    with pytest.raises(DataError, match="mixes label ids and names"):
        read_labels(mixed, m, where="w")
    assert (
        read_labels([True, 1] * 600, LabelMap(names=("1", "True"), ids=None, source="t"), where="w")
        == ["True", "1"] * 600
    )


def test_repeated_texts_are_computed_once_and_spread_back() -> None:
    texts = pd.Series([TEXTS[i % len(TEXTS)] for i in range(100)], dtype=object, index=range(5, 105))
    custom = [CustomFeature.from_dict({"name": "says_great", "kind": "keywords", "pattern": ["great"]})]
    pdt.assert_frame_equal(featurestore.distinct_features(texts, custom), compute_features(texts, custom=custom))
    varied = _texts(50)  # all distinct: the plain computation
    pdt.assert_frame_equal(featurestore.distinct_features(varied), compute_features(varied))


def test_label_names_of_unhashable_cells_are_read_not_a_traceback() -> None:
    """infer_names reads each distinct value once, and still reads a column of dicts or lists (a JSON upload's
    nested field mapped as the label) instead of failing on hashing them."""
    from evalcore.io.labels import infer_names

    names = infer_names([{"a": 1}, ["x"], {"a": 1}], where="w").names
    assert set(names) == {"{'a': 1}", "['x']"}


def test_the_fingerprint_from_the_factorized_texts_is_the_same() -> None:
    """text_features hashes each distinct text once (from the factorization it needs anyway): the same key."""
    import pandas as pd

    texts = pd.Series(["a b", "c", "a b", "é 😀", "c"] * 50, dtype="str")
    assert featurestore.texts_fingerprint(texts, pd.factorize(texts)) == featurestore.texts_fingerprint(texts)
    objects = pd.Series(list(texts), dtype=object)
    assert featurestore.texts_fingerprint(objects, pd.factorize(objects)) == featurestore.texts_fingerprint(texts)
