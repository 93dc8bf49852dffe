"""Slices page, run for real under AppTest on the demo data: build a slice through the widgets, check
its live count against pandas, save it and find it again after a refresh; the text form, custom
features and import errors."""

from __future__ import annotations

import json
import re

import pytest
from apptest_helpers import errors, open_page

from evalcore.analyze.rules import Op, format_rule, parse_rule
from evalcore.analyze.slices import Slice, SliceSet, save_slices
from evalcore.io.load import load_data
from evalcore.serve.workspace import workspace_path
from evalcore.tasks.pipeline import feature_frame
from ui.rule_builder import draft_to_rule, rule_to_draft

PAGE = "pages/slices.py"


@pytest.fixture(scope="module")
def lab():
    """The lab rows with every built-in feature, for counts computed with plain pandas."""
    return feature_frame(load_data("lab"))


def open_slices():
    return open_page(PAGE)


def node_ids(at) -> list[str]:
    """Ids of the builder's condition rows, top to bottom."""
    return [m.group(1) for s in at.selectbox if (m := re.fullmatch(r"rb_(n\d+)_col", s.key or ""))]


def group_ids(at) -> list[str]:
    return [m.group(1) for r in at.radio if (m := re.fullmatch(r"rb_(n\d+)_join", r.key or ""))]


def set_condition(at, nid: str, col: str, op: str, value=None, widget: str = "") -> None:
    """Pick column, operator and value of one condition row, as a user would, one rerun each."""
    at.selectbox(key=f"rb_{nid}_col").set_value(col).run()
    at.selectbox(key=f"rb_{nid}_op_{col}").set_value(op).run()
    if widget:
        getattr(at, widget)(key=f"rb_{nid}_v_{col}_{Op(op).name}").set_value(value).run()


def live(at) -> tuple[int, str]:
    """(matching rows, canonical rule text) shown by the page."""
    count = next(m.value for m in at.metric if m.label == "Matching rows")
    return int(count.replace(",", "")), at.code[0].value


def frame(at, column: str):
    """The first table on the page with `column` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def saved() -> SliceSet:
    return SliceSet.from_json(json.loads(workspace_path().read_text())["slices"])


@pytest.mark.parametrize(
    "text",
    [
        "a == 1",
        "not a == 1",
        "not not a == 1",
        'not (a == 1 and b != "x")',
        "not (a == 1 or b in [1, 2]) or c is null",
        'a >= 1 and (b contains "x" or not (c == true and d matches "^x")) and e not in ["p", "q"]',
    ],
)
def test_draft_round_trip(text: str) -> None:
    ids = (f"n{i}" for i in range(1000))
    draft = rule_to_draft(parse_rule(text), ids)
    assert draft["kind"] == "group"
    assert format_rule(draft_to_rule(draft)) == format_rule(parse_rule(text))
    assert draft_to_rule(rule_to_draft(None, ids)) is None


def test_build_count_save_and_find_after_refresh(lab) -> None:
    at = open_slices()
    assert at.selectbox(key="sl_pick").options[:2] == ["has_negation", "has_all_caps"]  # starter set
    root = group_ids(at)[0]
    first = node_ids(at)[0]
    picker = at.selectbox(key=f"rb_{first}_col").options
    assert {"metadata · has_negation", "label · label", "model · candidate_correct"} <= set(picker)
    assert picker.index("metadata · word_count") < picker.index("label · label") < picker.index("model · regressed")
    set_condition(at, first, "emoji_count", ">=", 1, "number_input")
    assert live(at) == (int((lab.emoji_count >= 1).sum()), "emoji_count >= 1")

    at.button(key=f"rb_{root}_addc").click().run()
    second = node_ids(at)[1]
    set_condition(at, second, "length_bucket", "in", ["short"], "multiselect")
    assert live(at)[0] == int(((lab.emoji_count >= 1) & (lab.length_bucket == "short")).sum())

    at.radio(key=f"rb_{root}_join").set_value("or").run()
    at.button(key=f"rb_{root}_addg").click().run()  # a nested AND group inside the OR
    sub = group_ids(at)[1]
    (third,) = [n for n in node_ids(at) if n not in (first, second)]
    set_condition(at, third, "label", "!=", "neutral", "selectbox")
    at.button(key=f"rb_{sub}_addc").click().run()
    fourth = node_ids(at)[3]
    set_condition(at, fourth, "has_question", "==", True, "checkbox")
    at.checkbox(key=f"rb_{root}_not").check().run()

    expected = ~(
        (lab.emoji_count >= 1) | (lab.length_bucket == "short") | ((lab.label != "neutral") & lab.has_question)
    )
    text = 'not (emoji_count >= 1 or length_bucket in ["short"] or label != "neutral" and has_question == true)'
    assert live(at) == (int(expected.sum()), text)
    assert at.text_area(key="sl_text_w").value == text  # the text form follows the builder
    assert len(frame(at, "baseline_pred")) == min(int(expected.sum()), 200)

    at.switch_page("pages/data_models.py").run()  # the page's widgets vanish; the draft must not
    at.switch_page(PAGE).run()
    assert live(at) == (int(expected.sum()), text)
    assert at.checkbox(key=f"rb_{root}_not").value and at.radio(key=f"rb_{sub}_join").value == "and"

    at.text_input(key="sl_name_w").set_value("plain_long_tweets").run()
    at.button(key="sl_save").click().run()
    assert "hypothesis" in errors(at)[0]  # a slice needs its hypothesis note
    at.text_area(key="sl_note_w").set_value("Plain long tweets carry mixed sentiment.").run()
    at.button(key="sl_save").click().run()
    assert not errors(at), errors(at)
    assert "Saved slice 'plain_long_tweets'" in at.success[0].value
    on_disk = saved()
    assert on_disk.names()[-1] == "plain_long_tweets" and len(on_disk) == 11
    assert format_rule(on_disk["plain_long_tweets"].rule) == text
    assert on_disk["plain_long_tweets"].note == "Plain long tweets carry mixed sentiment."

    at = open_slices()  # a browser refresh: a new session reads the saved workspace
    assert "plain_long_tweets" in at.selectbox(key="sl_pick").options
    table = frame(at, "hypothesis").set_index("name")
    assert table.loc["plain_long_tweets", "rows"] == int(expected.sum())
    assert not at.exception


def test_edit_duplicate_delete_and_unique_names(lab) -> None:
    at = open_slices()
    at.selectbox(key="sl_pick").set_value("short_tweets").run()
    at.button(key="sl_edit").click().run()
    assert at.text_input(key="sl_name_w").value == "short_tweets"
    nid = node_ids(at)[0]
    at.selectbox(key=f"rb_{nid}_v_length_bucket_EQ").set_value("long").run()
    at.button(key="sl_save").click().run()
    assert saved()["short_tweets"].text == 'length_bucket == "long"'
    assert saved().names().index("short_tweets") == 4  # replaced in place
    at.button(key="sl_duplicate").click().run()
    assert saved().names()[5] == "short_tweets_copy"
    assert at.text_input(key="sl_name_w").value == "short_tweets_copy"
    at.selectbox(key="sl_pick").set_value("has_url").run()
    at.button(key="sl_delete").click().run()
    assert "has_url" not in saved()
    at.button(key="sl_new").click().run()
    blank = node_ids(at)[0]  # a new slice starts with a blank condition, not a copy of another one
    assert at.selectbox(key=f"rb_{blank}_col").value is None
    at.button(key="sl_save").click().run()
    assert "not finished" in errors(at)[0]
    set_condition(at, blank, "has_question", "==", True, "checkbox")
    at.text_input(key="sl_name_w").set_value("has_negation").run()
    at.text_area(key="sl_note_w").set_value("a second one").run()
    at.button(key="sl_save").click().run()
    assert "exists already" in errors(at)[0]
    assert not at.exception


def test_text_form_round_trip_and_errors(lab) -> None:
    at = open_slices()
    rule = 'has_negation == true and (emoji_count >= 2 or text contains "lol")'
    at.text_area(key="sl_text_w").set_value(rule).run()
    at.button(key="sl_apply_text").click().run()
    assert not errors(at), errors(at)
    expected = lab.has_negation & ((lab.emoji_count >= 2) | lab.text.str.lower().str.contains("lol", regex=False))
    assert live(at) == (int(expected.sum()), rule)
    assert [r.value for r in at.radio if (r.key or "").startswith("rb_")] == ["and", "or"]
    assert [at.selectbox(key=f"rb_{n}_col").value for n in node_ids(at)] == ["has_negation", "emoji_count", "text"]
    assert at.text_input(key=f"rb_{node_ids(at)[2]}_v_text_CONTAINS").value == "lol"

    at.button(key=f"rb_{node_ids(at)[1]}_del").click().run()  # widgets are keyed by node, not position
    assert live(at)[1] == 'has_negation == true and text contains "lol"'
    assert at.text_input(key=f"rb_{node_ids(at)[1]}_v_text_CONTAINS").value == "lol"

    at.text_area(key="sl_text_w").set_value("has_negation == tru").run()
    at.button(key="sl_apply_text").click().run()
    assert "at 16: expected a value after '=='" in errors(at)[0]
    assert live(at)[1] == 'has_negation == true and text contains "lol"'  # the builder keeps its rule
    at.text_area(key="sl_text_w").set_value("emoji_cont >= 2").run()
    at.button(key="sl_apply_text").click().run()
    assert "unknown column 'emoji_cont' — did you mean 'emoji_count'?" in errors(at)[0]
    assert not at.exception


def test_custom_features_bad_regex_then_keywords(lab) -> None:
    at = open_slices()
    at.text_input(key="cf_name").set_value("has_laugh").run()
    at.radio(key="cf_kind").set_value("regex").run()
    at.text_area(key="cf_pattern").set_value("(ha+").run()
    at.button(key="cf_add").click().run()
    assert "has_laugh" in errors(at)[0] and "(ha+" in errors(at)[0]
    assert not workspace_path().exists() or not json.loads(workspace_path().read_text())["custom_features"]

    at.radio(key="cf_kind").set_value("keywords").run()
    at.text_area(key="cf_pattern").set_value("lol, lmao").run()
    at.button(key="cf_add").click().run()
    assert not errors(at), errors(at)
    assert [f["name"] for f in json.loads(workspace_path().read_text())["custom_features"]] == ["has_laugh"]
    nid = node_ids(at)[0]
    assert "metadata · has_laugh" in at.selectbox(key=f"rb_{nid}_col").options
    set_condition(at, nid, "has_laugh", "==")
    words = lab.text.str.contains(r"(?i)\b(?:lol|lmao)\b", regex=True)
    assert live(at)[0] == int(words.sum())

    at.text_input(key="sl_name_w").set_value("laughs").run()
    at.text_area(key="sl_note_w").set_value("Laughter marks jokes and sarcasm.").run()
    at.button(key="sl_save").click().run()
    at.button(key="cf_del_has_laugh").click().run()  # a feature a saved slice uses stays
    assert "used by slice(s) laughs" in errors(at)[0]
    assert json.loads(workspace_path().read_text())["custom_features"][0]["name"] == "has_laugh"
    assert not at.exception


def test_import_errors_and_replace(lab, tmp_path) -> None:
    at = open_slices()
    at.file_uploader(key="io_file").set_value(("mine.json", b'{"version": 1, "slices": [', "application/json")).run()
    at.button(key="io_import").click().run()
    assert "slices file 'mine.json' is not valid JSON: line 1" in errors(at)[0]

    bad_col = {"version": 1, "slices": [{"name": "x", "rule": "nope == 1", "note": ""}]}
    at.file_uploader(key="io_file").set_value(("cols.json", json.dumps(bad_col).encode(), "application/json")).run()
    at.button(key="io_import").click().run()
    assert "unknown column 'nope'" in errors(at)[0]

    good = save_slices(tmp_path / "good.json", [Slice("questions", "has_question == true", "q")])
    at.file_uploader(key="io_file").set_value(("good.json", good.read_bytes(), "application/json")).run()
    at.radio(key="io_mode").set_value("replace").run()
    at.button(key="io_import").click().run()
    assert not errors(at), errors(at)
    assert saved().names() == ["questions"]
    assert frame(at, "hypothesis")["rows"].tolist() == [int(lab.has_question.sum())]
    assert not at.exception


def test_a_non_sentiment_task_gets_generic_slices_with_their_label_mix(tmp_path, monkeypatch) -> None:
    from evalcore.analyze.slices import generic_slices, masks
    from evalcore.decide.label_mix import label_mix, mix_text
    from evalcore.serve.workspace import Workspace, save_workspace
    from evalcore.tasks.pipeline import eval_base
    from tests.task_folders import renamed_tweeteval

    folder = renamed_tweeteval(tmp_path / "stance", n_rows=400)
    monkeypatch.setenv("EVALCORE_DATA_ROOTS", str(tmp_path))  # the operator allows the folder
    save_workspace(Workspace(data={"source": str(folder), "split": "test"}, baseline="majority", candidate="roberta"))
    at = open_slices()
    assert not errors(at)
    table = frame(at, "labels")
    assert "has_strong_sentiment" not in set(table["name"])
    data = load_data(str(folder))
    base = eval_base(data)
    expected = [s for s in generic_slices() if masks([s], base)[s.name].any()]
    assert list(table["name"]) == [s.name for s in expected]
    mix = label_mix(base, masks(expected, base), data.labels)
    assert list(table["labels"]) == [mix_text(mix.shares.loc[s.name]) for s in expected]
    assert f"Gold labels overall: **{mix_text(mix.shares.loc['all'])}**" in "\n".join(c.value for c in at.caption)
    left_out = [s.name for s in generic_slices() if s.name not in set(table["name"])]
    if left_out:
        assert any("left out because no row of this data matches them" in c.value for c in at.caption)


def test_guardrail_box_marks_a_slice_and_refuses_a_model_defined_one() -> None:
    """The save form's Guardrail box sets the slice's role (saved, read by Compare's verdict); a rule on a model's
    output cannot be a guardrail: refused with the fix, nothing saved."""
    at = open_slices()
    at.text_area(key="sl_text_w").set_value("regressed == true").run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value("broken").run()
    at.text_area(key="sl_note_w").set_value("rows the candidate breaks").run()
    at.checkbox(key="rb_guardrail_w").check().run()
    at.button(key="sl_save").click().run()
    assert any("reads model output (regressed), so it cannot be a guardrail" in e for e in errors(at)), errors(at)
    saved = json.loads(workspace_path().read_text()) if workspace_path().is_file() else {}
    assert "broken" not in [s["name"] for s in saved.get("slices") or []]
    at.text_area(key="sl_text_w").set_value("has_negation == true and has_question == true").run()
    at.button(key="sl_apply_text").click().run()
    at.text_input(key="sl_name_w").set_value("negated_questions").run()
    at.button(key="sl_save").click().run()
    assert not errors(at), errors(at)
    saved = {s["name"]: s for s in json.loads(workspace_path().read_text())["slices"]}
    assert saved["negated_questions"]["role"] == "guardrail"
    compare = open_page("pages/compare.py")
    assert "guardrails verified:" in " ".join(c.value for c in compare.caption)
