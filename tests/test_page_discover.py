"""The Slices page's discovery tab through the real app on the lab file: the run matches
`discover_slices` called directly, confirmation-half figures come first, one click saves a slice into the
workspace (renamed on a name clash, not twice for a rule already saved), Compare shows it, and bad
settings get a message."""

from __future__ import annotations

import json

import pytest
from apptest_helpers import errors, open_page, show

from evalcore.analyze.slices import Slice, SliceSet
from evalcore.core import units
from evalcore.decide.discover import DiscoverySettings, discover_slices
from evalcore.io.load import load_data
from evalcore.serve.workspace import Workspace, save_workspace, workspace_path
from evalcore.tasks.pipeline import run_analysis
from ui import state

PAGE = "pages/slices.py"


@pytest.fixture(scope="module")
def lab_eval():
    return run_analysis(load_data("lab"), "roberta", "gpt2").df_eval


def _saved() -> SliceSet:
    return SliceSet.from_json(json.loads(workspace_path().read_text())["slices"])


def _table(at):
    return next(d.value for d in at.dataframe if "change minus the rest's [95%]" in d.value.columns)


def _flash(at) -> str:
    return " ".join(s.value for s in at.success)


def test_discover_save_one_and_all_then_compare_shows_them(lab_eval) -> None:
    expected = discover_slices(lab_eval, DiscoverySettings())
    confirmed = [f.name for f in expected.confirmed]
    assert len(confirmed) >= 3 and confirmed[0] == "has_mention__label_negative"
    # The user's set: a slice named like the first finding but with another rule (a name clash), and the
    # third finding's rule under another name (already saved).
    third = expected.confirmed[2]
    save_workspace(
        Workspace(
            slices=SliceSet(
                (
                    Slice("has_mention__label_negative", "has_url == true", "mine"),
                    Slice("negatives", third.text, "mine too"),
                )
            ).to_json()
        )
    )

    at = open_page(PAGE)
    assert "No discovery run" in " ".join(c.value for c in at.caption)
    at.button(key="sl_disc_run").click().run()
    assert not at.exception and not errors(at), errors(at)
    table = _table(at)
    assert list(table.columns[:5]) == [
        "slice",
        "result",
        "n (confirmation half)",
        "change [95%]",
        "change minus the rest's [95%]",
    ]  # the fair figures first
    assert table["slice"].tolist() == [f.name for f in expected.candidates]
    first = expected.candidates[0]
    row = table.iloc[0]
    assert row["change [95%]"] == units.pts_ci(
        first.confirm["delta"], first.confirm["delta_lo"], first.confirm["delta_hi"]
    )
    assert row["MDE (80% power)"] == units.magnitude_pts(first.confirm["mde"])
    assert row["change on all rows [95%] (optimistic)"] == units.pts_ci(
        first.overall["delta"], first.overall["delta_lo"], first.overall["delta_hi"]
    )
    assert row["rule"] == first.text
    text = " ".join(m.value for m in at.markdown)
    assert f"**{len(confirmed)} confirmed** worse than the rest" in text and "(seed 0, depth 2)" in text
    assert "Rows split at random into a search half and a confirmation half (seed 0)" in text  # the method
    assert at.button(key="sl_disc_save_2").disabled  # its rule is saved already (as 'negatives')

    at.button(key="sl_disc_save_0").click().run()
    s = _saved()
    renamed = s["has_mention__label_negative_2"]
    assert renamed.text == first.text and s["has_mention__label_negative"].text == "has_url == true"
    assert renamed.note == first.note(expected.settings) and renamed.note.startswith(
        "Found by evalcore discover (seed 0, depth 2); on the confirmation half (n=41)"
    )
    assert "renamed" in _flash(at) and at.button(key="sl_disc_save_0").disabled

    todo = len(confirmed) - 2
    assert at.button(key="sl_disc_save_all").label == f"Save all {todo} unsaved confirmed slice(s)"
    at.button(key="sl_disc_save_all").click().run()
    s = _saved()
    assert len(s) == 2 + 1 + todo
    assert {f.text for f in expected.confirmed} <= {x.text for x in s}
    assert [x.text for x in s].count(third.text) == 1  # not saved twice
    assert at.button(key="sl_disc_save_all").disabled

    at.switch_page("pages/compare.py").run()
    assert not at.exception
    shown = " ".join(d.value.to_string() for d in show(at, cmp_view="Table").dataframe)  # the slice table's tab
    assert "has_mention__label_negative_2" in shown and confirmed[1] in shown


def test_settings_seed_features_cache_and_messages(lab_eval) -> None:
    at = open_page(PAGE)
    at.number_input(key="sl_disc_seed").set_value(3).run()
    at.radio(key="sl_disc_depth").set_value(1).run()
    at.multiselect(key="sl_disc_features").set_value(["label", "has_mention", "word_count"]).run()
    at.button(key="sl_disc_run").click().run()
    assert not at.exception and not errors(at), errors(at)
    expected = discover_slices(lab_eval, seed=3, depth=1, features=("label", "has_mention", "word_count"))
    assert _table(at)["slice"].tolist() == [f.name for f in expected.candidates]
    assert "(seed 3, depth 1)" in " ".join(m.value for m in at.markdown)
    first = at.session_state[state.DISCOVERY_RESULT]["result"]
    at.button(key="sl_disc_run").click().run()  # the same settings on the same df_eval: from the memo
    assert at.session_state[state.DISCOVERY_RESULT]["result"] is first

    at.switch_page("pages/compare.py").run()  # the widgets are dropped with the page...
    at.switch_page(PAGE).run()
    assert at.number_input(key="sl_disc_seed").value == 3  # ...and come back with their values
    assert at.multiselect(key="sl_disc_features").value == ["label", "has_mention", "word_count"]
    assert _table(at)["slice"].tolist() == [f.name for f in expected.candidates]  # the session keeps the result

    at.number_input(key="sl_disc_seed").set_value(4).run()
    assert "The settings changed since this run" in " ".join(c.value for c in at.caption)
    at.number_input(key="sl_disc_min_support").set_value(200).run()
    at.button(key="sl_disc_run").click().run()
    assert not at.exception
    assert any("discovery needs at least 800 rows" in e for e in errors(at)), errors(at)
    at.multiselect(key="sl_disc_features").set_value([]).run()
    assert at.button(key="sl_disc_run").disabled
    assert any("Choose at least one feature" in i.value for i in at.info)


def test_other_data_keeps_the_features_it_has(shared_data) -> None:
    at = open_page(PAGE)
    at.multiselect(key="sl_disc_features").set_value(["input_length", "has_question"]).run()  # input_length: lab only
    sst2 = {
        "source": str(shared_data / "sst2" / "dev.tsv"),
        "text_col": "sentence",
        "label_map": "0=negative,1=positive",
    }
    save_workspace(Workspace(data=sst2, baseline="vader", candidate="vader:0.3"))  # another session switches data
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert at.multiselect(key="sl_disc_features").value == ["has_question"]
    at.button(key="sl_disc_run").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert "on 436 rows, tested on the other 436" in " ".join(m.value for m in at.markdown)
