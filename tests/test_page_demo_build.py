"""First run from an empty EVALCORE_HOME on the Data & models page, for real under AppTest: the
demo transformer is built from the page (the full build, about a minute), then no stale "not built
yet" / "Building…" message remains and its lab predictions are already in the cache."""

from __future__ import annotations

from pathlib import Path

from apptest_helpers import errors, open_page


def _messages(at) -> str:
    return " ".join(str(e.value) for kind in (at.warning, at.info, at.success) for e in kind)


def test_demo_is_built_from_the_page_and_leaves_no_stale_banner(evalcore_home: Path) -> None:
    at = open_page(timeout=900)
    at.selectbox(key="dm_candidate_choice").set_value("demo").run()
    assert "The demo transformer is not built yet" in _messages(at)
    assert "under a minute" in _messages(at)
    at.button(key="dm_build_candidate").click().run()
    assert not errors(at) and not at.exception
    text = _messages(at)
    assert "not built yet" not in text and "Building the demo transformer" not in text
    assert (evalcore_home / "models" / "demo-minilm-tweeteval" / "README.md").is_file()
    mappings = [d.value for d in at.dataframe if "model label" in d.value.columns]
    assert len(mappings) == 2  # both models loaded and show their label mapping
    at.button(key="dm_use_models").click().run()
    table = at.dataframe[-1].value
    status = dict(zip(table["model"], table["status"]))
    assert status["demo"] == "500/500 rows from cache"  # the build's check on the lab rows filled it
