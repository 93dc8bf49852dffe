"""Data & models page, run for real under AppTest: demo data, model choice, cached scoring, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from apptest_helpers import errors, open_page, restart_server
from evalcore.workspace import workspace_path


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
