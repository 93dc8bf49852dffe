"""The bad-file families of issue 19, written into one folder: what a hostile or careless visitor sends.

Each file is small on disk (the largest, 100,000 columns, is under 1 MB); what makes it bad is what it
would cost once read: nesting that makes a parser recurse, integers of 5,001 digits, text that is bytes
or a dict, JSON of the wrong shape, 30M compressible Parquet rows, links to devices that never end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEEP = 100_000  # levels of nesting: far past Python's recursion limit
DIGITS = "9" * 5_001


def _nested(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def _parquet(path: Path, columns: dict[str, pa.Array]) -> None:
    pq.write_table(pa.table(columns), path)


def bomb(path: Path, rows: int = 30_000_000) -> Path:
    """A Parquet file of `rows` rows of one repeated tweet and label (~250 KB for 30M rows): 2 GB+ once in
    pandas. Written 1M rows at a time, so writing it costs little memory."""
    chunk = 1_000_000
    text = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(chunk, dtype=np.int32)), pa.array(["the same tweet again and again"])
    ).cast(pa.string())
    label = pa.DictionaryArray.from_arrays(pa.array(np.zeros(chunk, dtype=np.int32)), pa.array(["positive"])).cast(
        pa.string()
    )
    table = pa.table({"text": text, "label": label})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(rows // chunk):
            writer.write_table(table)
    return path


def wide_csv(path: Path, columns: int = 100_000) -> Path:
    """A CSV with `columns` columns and two rows (~890 KB)."""
    names = ["text", "label"] + [f"c{i}" for i in range(columns - 2)]
    row = ["hello", "positive"] + ["1"] * (columns - 2)
    path.write_text(",".join(names) + "\n" + ",".join(row) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    return path


def make(folder: Path) -> dict[str, Path]:
    """Every bad file, by name (see the module docstring); device links only where the OS allows them."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    def text(name: str, body: str) -> None:
        out[name] = folder / name
        out[name].write_text(body, encoding="utf-8")

    # nested JSON: as data (JSON lines, a JSON array, SQuAD-shaped), as a slices file, as predictions / answers
    text("nested.jsonl", '{"text": ' + _nested() + ', "label": "positive"}\n')
    text("nested.json", _nested())
    text("nested_squad.json", '{"data": ' + _nested() + "}")
    text("nested_slices.json", '{"version": 1, "slices": ' + _nested() + "}")
    text("nested_preds.jsonl", '{"pred": ' + _nested() + "}\n")
    text("nested_answers.json", '{"x": ' + _nested() + "}")
    # huge integers
    text("huge_int.jsonl", '{"text": "a tweet", "label": ' + DIGITS + "}\n")
    text("huge_int.csv", "text,label\na tweet," + DIGITS + "\nanother,positive\n")
    text("huge_id.jsonl", '{"id": ' + DIGITS + ', "text": "a tweet", "label": "positive"}\n')
    text("huge_int_preds.csv", "pred\n" + DIGITS + "\n")
    # wrong JSON shapes and values that are not texts
    text("numbers.json", "[1, 2, 3]")
    text("object.json", '{"a": 1}')
    text("string.json", '"just a string"')
    text("null.json", "null")
    text("numbers_preds.json", "[1, 2, 3]")
    text("dict_text.jsonl", '{"text": {"a": 1}, "label": "positive"}\n{"text": "fine", "label": "negative"}\n')
    text("list_text.jsonl", '{"text": ["a", "b"], "label": "positive"}\n{"text": "fine", "label": "negative"}\n')
    text("bad_squad.json", '{"data": [{"title": "t", "paragraphs": "not a list"}]}')
    text("squad_qas.json", '{"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": 5}]}]}')
    text("answers_numbers.json", json.dumps({"56be4db0acb8001400a502ec": 5}))
    text("gold_dict.jsonl", '{"question": "q?", "answer": {"a": 1}}\n')
    # bytes text in Parquet: not UTF-8, and UTF-8 (which reads)
    out["bytes_text.parquet"] = folder / "bytes_text.parquet"
    _parquet(
        out["bytes_text.parquet"],
        {"text": pa.array([b"\xff\xfe bad", b"ok"], pa.binary()), "label": pa.array(["positive", "negative"])},
    )
    out["bytes_utf8.parquet"] = folder / "bytes_utf8.parquet"
    _parquet(
        out["bytes_utf8.parquet"],
        {"text": pa.array(["café".encode(), b"fine"], pa.binary()), "label": pa.array(["positive", "negative"])},
    )
    out["list_text.parquet"] = folder / "list_text.parquet"
    _parquet(
        out["list_text.parquet"], {"text": pa.array([["a", "b"], ["c"]]), "label": pa.array(["positive", "negative"])}
    )
    # the decompression bomb and the wide CSV of issue 19
    out["bomb.parquet"] = bomb(folder / "bomb.parquet")
    out["wide.csv"] = wide_csv(folder / "wide.csv")
    # device links: a data file, a JSON file, a predictions file, a slices file, the files of a TweetEval
    # folder and of a Hugging Face folder
    if Path("/dev/zero").exists() and hasattr(os, "symlink"):
        for name, target in (
            ("zero.csv", "/dev/zero"),
            ("urandom.jsonl", "/dev/urandom"),
            ("zero.parquet", "/dev/zero"),
            ("preds_zero.txt", "/dev/zero"),
            ("slices_zero.json", "/dev/zero"),
            ("answers_urandom.json", "/dev/urandom"),
        ):
            out[name] = folder / name
            out[name].symlink_to(target)
        dev = folder / "devfolder"
        dev.mkdir()
        (dev / "mapping.txt").write_text("0\tnegative\n1\tpositive\n", encoding="utf-8")
        (dev / "test_text.txt").symlink_to("/dev/zero")
        (dev / "test_labels.txt").symlink_to("/dev/urandom")
        out["devfolder"] = dev
        hf = folder / "hf_folder"
        hf.mkdir()
        (hf / "data.csv").symlink_to("/dev/urandom")
        out["hf_folder"] = hf
    return out


__all__ = ["DEEP", "DIGITS", "bomb", "make", "wide_csv"]
