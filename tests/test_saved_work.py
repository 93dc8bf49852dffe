"""Issue 18, "no lost work", under AppTest: the slice actions act on the slice shown and a delete can be
undone; drafts (a half-built slice, pasted cases) and scored results (stress, perturbations, discovery,
explanations) come back in a fresh session, which is what a browser refresh is."""

from __future__ import annotations

import json

from apptest_helpers import errors, open_page, restart_server

from evalcore.analyze.slices import SliceSet
from evalcore.serve import workspace as store
from evalcore.serve.workspace import Workspace, save_workspace, workspace_path

SLICES = "pages/slices.py"
STRESS = "pages/stress.py"
CASES = "I do not love this phone at all\tnegative\nnot bad, not bad at all\tpositive\nIt is great\tpositive"


def saved_names() -> list[str]:
    return [s["name"] for s in json.loads(workspace_path().read_text())["slices"]]


def test_delete_acts_on_the_slice_shown_and_undo_puts_it_back() -> None:
    at = open_page(SLICES)
    start = list(at.selectbox(key="sl_pick").options)
    # edit one slice (its hypothesis), save: the selector now shows the slice just saved
    at.selectbox(key="sl_pick").set_value("has_question").run()
    at.button(key="sl_edit").click().run()
    at.text_area(key="sl_note_w").set_value("questions read as sarcasm").run()
    at.button(key="sl_save").click().run()
    assert not errors(at), errors(at)
    assert at.selectbox(key="sl_pick").value == "has_question"
    # the sequence: delete one slice, save a new one, then Delete removes the slice *shown*
    at.selectbox(key="sl_pick").set_value("short_tweets").run()
    at.button(key="sl_delete").click().run()
    assert "short_tweets" not in saved_names()
    assert at.selectbox(key="sl_pick").value in saved_names()  # never a slice that is gone
    at.button(key="sl_new").click().run()
    at.text_area(key="sl_text_w").set_value("has_all_caps == true and has_question == true").run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value("shouted_questions").run()
    at.text_area(key="sl_note_w").set_value("shouting plus a question is often rhetorical").run()
    at.button(key="sl_save").click().run()
    assert at.selectbox(key="sl_pick").value == "shouted_questions"
    assert "Editing 'shouted_questions'" in [h.value for h in at.subheader]
    at.button(key="sl_undo_btn").click().run()  # the deleted slice comes back where it was
    names = saved_names()
    assert names == [n for n in start] + ["shouted_questions"], names
    shown = at.selectbox(key="sl_pick").value
    at.button(key="sl_delete").click().run()  # deletes exactly the slice the selector showed
    assert shown not in saved_names() and len(saved_names()) == len(names) - 1
    at.button(key="sl_undo_btn").click().run()
    final = SliceSet.from_json(json.loads(workspace_path().read_text())["slices"])
    assert final.names() == names and final["has_question"].note == "questions read as sarcasm"


def test_a_half_built_slice_survives_a_refresh() -> None:
    at = open_page(SLICES)
    at.text_area(key="sl_text_w").set_value('has_negation == true and text contains "lol"').run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value("negated_lols").run()
    at.text_area(key="sl_note_w").set_value("half written").run()
    again = open_page(SLICES)  # a refreshed browser: a new session
    assert not errors(again)
    assert again.text_input(key="sl_name_w").value == "negated_lols"
    assert again.text_area(key="sl_note_w").value == "half written"
    assert again.code[0].value == 'has_negation == true and text contains "lol"'  # the builder's rule
    assert "negated_lols" not in json.dumps(store.load().workspace.slices)  # a draft, not a saved slice


def _live_workspace() -> None:
    save_workspace(
        Workspace(
            baseline="vader", candidate="vader:0.3", stress={"models": {"baseline": "vader", "candidate": "vader:0.3"}}
        )
    )


def test_pasted_cases_and_scored_results_come_back_after_a_refresh() -> None:
    _live_workspace()
    at = open_page(STRESS)
    at.text_area(key="stress_paste").set_value(CASES).run()
    at.button(key="stress_add_pasted").click().run()
    at.button(key="stress_score").click().run()
    at.multiselect(key="stress_pt_generators").set_value(["add_typos", "upper_case"]).run()
    at.radio(key="stress_pt_source").set_value("cases").run()
    at.button(key="stress_pt_run").click().run()
    assert not errors(at), errors(at)
    at.text_area(key="stress_paste").set_value("typed, not added yet\tneutral").run()

    again = open_page(STRESS)  # by themselves, from the prediction cache: no click
    assert not errors(again), errors(again)
    assert again.text_area(key="stress_paste").value == "typed, not added yet\tneutral"
    captions = " ".join(c.value for c in again.caption)
    assert "Your last scoring, restored from the prediction cache" in captions
    assert "Restored from the prediction cache after the page was reloaded" in captions
    first = at.session_state["ec_stress_result"]["result"].stress_wide
    back = again.session_state["ec_stress_result"]["result"].stress_wide
    assert back.equals(first)
    assert again.session_state["ec_perturb_result"]["result"].summary.equals(
        at.session_state["ec_perturb_result"]["result"].summary
    )

    report = open_page("pages/share.py")  # a refresh straight onto Report & W&B includes them too
    included = " ".join(c.value for c in report.caption if c.value.startswith("Included from this session"))
    assert "stress results: 3 case(s)" in included and "perturbation tests on 3 stress cases" in included


def test_discovery_and_explanations_come_back_after_a_refresh() -> None:
    _live_workspace()
    at = open_page(SLICES)
    at.button(key="sl_disc_run").click().run()
    found = at.session_state["ec_discovery_result"]["result"]
    assert found.confirmed
    ex = open_page("pages/examples.py")
    ex.selectbox(key="ex_agg_slice").set_value("has_negation").run()
    ex.button(key="ex_agg_run").click().run()
    assert not errors(ex), errors(ex)

    again = open_page(SLICES)  # discovery reruns from its seed: the same slices
    entry = again.session_state["ec_discovery_result"]
    assert [f.text for f in entry["result"].confirmed] == [f.text for f in found.confirmed]
    assert any("repeated with its seed" in c.value for c in again.caption)
    ex2 = open_page("pages/examples.py")  # the server still holds the explanation: back by itself
    assert ex2.session_state["ec_explain_result"]["slice"] == "has_negation"
    assert ex2.selectbox(key="ex_agg_slice").value == "has_negation"

    restart_server()  # after a restart it takes one click (occlusion runs the models again)
    ex3 = open_page("pages/examples.py")
    assert "ec_explain_result" not in ex3.session_state
    assert any("not in this session since the page was reloaded" in i.value for i in ex3.info)
    ex3.button(key="ex_agg_restore").click().run()
    assert ex3.session_state["ec_explain_result"]["slice"] == "has_negation" and not errors(ex3)
