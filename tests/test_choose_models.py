"""Which models the app picks for a dataset: never one that cannot apply to its labels."""

from __future__ import annotations

from pathlib import Path

from evalcore.io.load import load_data
from evalcore.tasks.pipeline import choose_models, model_applies, run_analysis
from tests.task_folders import renamed_tweeteval


def test_models_apply_by_labels(tmp_path: Path, shared_data: Path) -> None:
    stance = load_data(str(renamed_tweeteval(tmp_path / "stance", n_rows=300)))
    sst2 = load_data(str(shared_data / "sst2" / "dev.tsv"), text_col="sentence", label_map="0=negative,1=positive")
    for spec in ("vader", "vader:0.3", "demo"):
        assert model_applies(spec, sst2) and not model_applies(spec, stance)
    assert model_applies("roberta", stance) and not model_applies("roberta", sst2)
    assert model_applies(f"file:{tmp_path / 'stance' / 'predictions_majority.txt'}", stance)
    assert not model_applies(f"file:{tmp_path / 'stance' / 'predictions_majority.txt'}", sst2)  # 300 rows, not 872
    assert not model_applies("", stance) and not model_applies("not a spec!", stance)


def test_choice_on_a_switch_of_data(tmp_path: Path, shared_data: Path) -> None:
    stance = load_data(str(renamed_tweeteval(tmp_path / "stance", n_rows=300)))
    assert choose_models(stance, "roberta", "gpt2") == ("roberta", "majority")  # kept, then its own columns, no VADER
    assert choose_models(stance, "vader", "roberta") == ("majority", "roberta")  # the candidate kept
    assert choose_models(load_data("lab"), "majority", "roberta") == ("roberta", "gpt2")  # the lab's defaults
    sst2 = load_data(str(shared_data / "sst2" / "dev.tsv"), text_col="sentence", label_map="0=negative,1=positive")
    assert choose_models(sst2, "roberta", "gpt2") == ("vader", "demo")
    assert choose_models(sst2, "demo", "vader") == ("demo", "vader")
    csv = tmp_path / "hate.csv"
    csv.write_text("text,label\nyou are great,not_hate\nugh,hate\n")
    assert choose_models(load_data(str(csv)), "vader", "demo") == ("", "")  # nothing applies: the user picks


def test_report_warns_when_a_gold_label_is_unreachable(tmp_path: Path) -> None:
    """VADER on sentiment data with a fourth label: every `mixed` row is its error, and it says so."""
    csv = tmp_path / "four.csv"
    rows = ["great day,positive", "awful day,negative", "a day,neutral", "good and bad,mixed", "so so,mixed"]
    csv.write_text("text,label\n" + "\n".join(rows) + "\n")
    data = load_data(str(csv))
    analysis = run_analysis(data, "vader", "vader:0.5")
    assert any("model vader can never predict 'mixed' (2 gold rows)" in w for w in analysis.results.warnings)
    assert analysis.slices.names() == ["short_texts"]  # generic set, empty slices left out ...
    assert any(w.startswith("default slices left out") for w in analysis.results.warnings)  # ... with a note
