"""Test data for "any task": a TweetEval-format folder built from the shared sentiment data with its
labels renamed and their ids reordered, so `mapping.txt` order, alphabetical order and the
original ids all differ. Reading it right end to end is what these folders test."""

from __future__ import annotations

from pathlib import Path

from evalcore.core.paths import shared_data_dir

# original sentiment id -> (new id, new name). mapping.txt lists the new ids out of order.
RENAMED = {"0": ("1", "against"), "1": ("0", "none"), "2": ("2", "favor")}
MAPPING_TXT = "2\tfavor\n0\tnone\n1\tagainst\n"  # id order: none, against, favor; alphabetical: against, favor, none
ORDER = ("none", "against", "favor")


def renamed_tweeteval(folder: Path, n_rows: int | None = None) -> Path:
    """Write `mapping.txt`, `test_text.txt`, `test_labels.txt` and two prediction files:
    `predictions_roberta.txt` (the paper's RoBERTa, ids renamed) and `predictions_majority.txt`
    (always the most frequent gold label, `none`: the simplest honest baseline)."""
    src = shared_data_dir() / "tweet_eval" / "sentiment"
    folder.mkdir(parents=True, exist_ok=True)

    def lines(name: str) -> list[str]:
        rows = (src / name).read_text(encoding="utf-8").split("\n")
        rows = rows[:-1] if rows and rows[-1] == "" else rows
        return rows[:n_rows] if n_rows else rows

    (folder / "mapping.txt").write_text(MAPPING_TXT, encoding="utf-8")
    (folder / "test_text.txt").write_text("\n".join(lines("test_text.txt")) + "\n", encoding="utf-8")
    gold = [RENAMED[v.strip()][0] for v in lines("test_labels.txt")]
    (folder / "test_labels.txt").write_text("\n".join(gold) + "\n", encoding="utf-8")
    preds = [RENAMED[v.strip()][0] for v in lines("predictions_roberta_rt.txt")]
    (folder / "predictions_roberta.txt").write_text("\n".join(preds) + "\n", encoding="utf-8")
    (folder / "predictions_majority.txt").write_text("0\n" * len(gold), encoding="utf-8")
    return folder


def raw_ids(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").split()
