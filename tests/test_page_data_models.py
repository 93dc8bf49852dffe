"""Data & models page, run for real under AppTest: demo data, model choice, cached scoring, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from apptest_helpers import errors, open_page, restart_server

from evalcore.core.units import pct
from evalcore.serve.workspace import workspace_path


def _status(at) -> dict[str, str]:
    table = at.dataframe[-1].value
    return dict(zip(table["model"], table["status"]))


def test_opens_on_the_demo_with_precomputed_models() -> None:
    at = open_page()
    assert at.title[0].value == "Data & models"
    assert [m.value for m in at.metric][:2] == ["500 rows", "3"]
    assert _status(at) == {"roberta": "500/500 rows precomputed (roberta)", "gpt2": "500/500 rows precomputed (gpt2)"}


def test_choosing_vader_scores_once_then_reads_the_cache_after_a_restart(evalcore_home: Path) -> None:
    at = open_page()
    at.selectbox(key="dm_candidate_choice").set_value("vader").run()
    at.button(key="dm_use_models").click().run()
    assert not errors(at)
    assert _status(at)["vader"] == "0/500 rows from cache"
    assert json.loads(workspace_path().read_text())["candidate"] == "vader"
    restart_server()
    at = open_page()  # a refresh after a restart: the choice and the predictions are still there
    assert at.selectbox(key="dm_candidate_choice").value == "vader"
    assert _status(at)["vader"] == "500/500 rows from cache"


def test_label_mapping_is_shown_and_same_model_twice_is_refused() -> None:
    at = open_page()
    mappings = [d.value for d in at.dataframe if "model label" in d.value.columns]
    assert mappings and list(mappings[0]["dataset label"]) == ["negative", "neutral", "positive"]
    at.selectbox(key="dm_candidate_choice").set_value("roberta").run()
    assert "Baseline and candidate are the same model" in errors(at)[0]


def test_unmappable_hf_model_and_bad_upload_show_messages(tmp_path: Path) -> None:
    at = open_page()
    at.selectbox(key="dm_candidate_choice").set_value("hf").run()
    at.text_input(key="dm_candidate_spec").set_value(f"hf:{tmp_path / 'no_model_here'}").run()
    assert errors(at) and "no_model_here" in errors(at)[0]
    assert not at.exception
    # A model that failed to load can never be saved as the workspace's choice.
    assert "dm_use_models" not in [b.key for b in at.button]


def test_tweeteval_source_switch_persists(evalcore_home: Path) -> None:
    at = open_page()
    at.radio(key="dm_source").set_value("tweeteval").run()
    at.number_input(key="dm_te_n").set_value(1000).run()
    at.button(key="dm_te_load").click().run()
    assert not errors(at)
    assert [m.value for m in at.metric][0] == "1,000 rows"
    saved = json.loads(workspace_path().read_text())["data"]
    assert saved == {"source": "tweeteval:test", "n_rows": 1000}
    # The lab's prediction columns do not exist in TweetEval: the shipped RoBERTa-RT predictions of
    # the paper become the baseline and VADER the candidate instead of an error.
    assert _status(at) == {"roberta_rt": "1000/1000 rows precomputed (roberta_rt)", "vader": "0/1000 rows from cache"}


# --- any task: folders, label maps, predictions files -------------------------------------------------


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_open_a_non_sentiment_folder_from_the_allowed_data_folders(tmp_path: Path, monkeypatch) -> None:
    from tests.task_folders import renamed_tweeteval

    folder = renamed_tweeteval(tmp_path / "roots" / "stance", n_rows=300)
    monkeypatch.setenv("EVALCORE_DATA_ROOTS", str(tmp_path / "roots"))
    at = open_page()
    at.radio(key="dm_source").set_value("folder").run()
    assert str(folder) in at.selectbox(key="dm_folder_pick").options
    at.selectbox(key="dm_folder_pick").set_value(str(folder)).run()
    at.button(key="dm_folder_load").click().run()
    assert not errors(at)
    assert [m.value for m in at.metric][:2] == ["300 rows", "3"]
    assert "labels from stance/mapping.txt: `0=none,1=against,2=favor`" in _captions(at)
    # the lab's roberta/gpt2 do not exist here and VADER / demo cannot apply: the folder's own columns
    assert _status(at) == {
        "roberta": "300/300 rows precomputed (roberta)",
        "majority": "300/300 rows precomputed (majority)",
    }
    assert [o for o in at.selectbox(key="dm_candidate_choice").options if "VADER" in o or "Demo" in o] == []
    # a path outside the allowed folders is refused, with the roots named
    at.selectbox(key="dm_folder_pick").set_value("(type a path)").run()
    at.text_input(key="dm_folder_path").set_value("/etc").run()
    assert any("/etc is outside the data folders this server allows" in e for e in errors(at))


def test_upload_a_folder_then_pick_a_predictions_file_plainly(tmp_path: Path) -> None:
    from tests.task_folders import renamed_tweeteval

    folder = renamed_tweeteval(tmp_path / "stance", n_rows=200)
    at = open_page()
    at.radio(key="dm_source").set_value("folder").run()
    at.radio(key="dm_folder_how").set_value("upload").run()
    files = [
        (name, (folder / name).read_bytes(), "text/plain")
        for name in ("mapping.txt", "test_text.txt", "test_labels.txt")
    ]
    at.file_uploader(key="dm_folder_files").set_value(files).run()
    at.button(key="dm_folder_load").click().run()
    assert not errors(at) and [m.value for m in at.metric][0] == "200 rows"
    assert at.selectbox(key="dm_baseline_choice").value is None  # nothing applies: nothing is auto-picked
    assert any("No model shipped with this data applies" in i.value for i in at.info)
    for role, name in (("baseline", "predictions_majority.txt"), ("candidate", "predictions_roberta.txt")):
        at.selectbox(key=f"dm_{role}_choice").set_value("file").run()
        at.file_uploader(key=f"dm_{role}_file_up").set_value((name, (folder / name).read_bytes(), "text/plain")).run()
    assert not errors(at)
    at.button(key="dm_use_models").click().run()
    status = _status(at)
    assert len(status) == 2 and all("200/200 rows precomputed" in v for v in status.values())
    accuracy = dict(zip(at.dataframe[-1].value["model"], at.dataframe[-1].value["accuracy"]))
    gold, roberta = (
        (folder / "test_labels.txt").read_text().split(),
        (folder / "predictions_roberta.txt").read_text().split(),
    )
    expected = sum(g == p for g, p in zip(gold, roberta)) / len(gold)
    assert [v for k, v in accuracy.items() if "roberta" in k] == [pct(expected)]


def test_integer_labels_need_the_label_map_of_the_mapping_step(shared_data: Path) -> None:
    raw = (shared_data / "sst2" / "dev.tsv").read_bytes()
    at = open_page()
    at.radio(key="dm_source").set_value("upload").run()
    at.file_uploader(key="dm_upload").set_value(("dev.tsv", raw, "text/tab-separated-values")).run()
    assert at.selectbox(key="dm_up_text").value == "sentence"
    at.button(key="dm_up_load").click().run()
    assert any("are integers (0, 1) and no label map says which label each one is" in e for e in errors(at))
    at.text_input(key="dm_up_label_map").set_value("0=negative,1=positive").run()
    at.button(key="dm_up_load").click().run()
    assert not errors(at)
    assert [m.value for m in at.metric][:2] == ["872 rows", "2"]
    saved = json.loads(workspace_path().read_text())
    assert saved["data"]["label_map"] == "0=negative,1=positive"
    assert (saved["baseline"], saved["candidate"]) == ("vader", "demo")  # binary sentiment: both apply
    mapping = next(d.value for d in at.dataframe if "model label" in d.value.columns)
    assert mapping.to_dict("records") == [
        {"model label": "negative", "dataset label": "negative", "how": "mapped"},
        {"model label": "positive", "dataset label": "positive", "how": "mapped"},
        {"model label": "neutral", "dataset label": "—", "how": "dropped: negative, positive renormalised"},
    ]
    # VADER's binary accuracy here equals scikit-learn's on the sign of VADER's compound score
    from sklearn.metrics import accuracy_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    frame = pd.read_csv(shared_data / "sst2" / "dev.tsv", sep="\t")
    analyzer = SentimentIntensityAnalyzer()
    pred = [int(analyzer.polarity_scores(t)["compound"] >= 0) for t in frame["sentence"]]
    table = at.dataframe[-1].value.set_index("model")
    assert table.loc["vader", "accuracy"] == pct(accuracy_score(frame["label"], pred)) == "63.1%"
    assert table.loc["demo", "status"] == "demo transformer not built yet: build it above"
