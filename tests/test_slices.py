"""evalcore.analyze.slices: slices, sets, JSON files, the starter set and masks over a table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalcore.analyze.rules import Schema, parse_rule
from evalcore.analyze.slices import (
    SLICES_VERSION,
    Slice,
    SliceSet,
    load_slices,
    masks,
    save_slices,
    starter_slices,
    validate_slices,
)
from evalcore.core.errors import RuleError

STARTER_NAMES = [
    "has_negation",
    "has_all_caps",
    "has_question",
    "has_strong_sentiment",
    "short_tweets",
    "long_tweets",
    "has_hashtag",
    "has_mention",
    "has_url",
    "emoji_dense",
]
BOOL_FEATURES = [
    "has_negation",
    "has_all_caps",
    "has_question",
    "has_strong_sentiment",
    "has_hashtag",
    "has_mention",
    "has_url",
    "emoji_dense",
]


@pytest.fixture
def features() -> pd.DataFrame:
    """A table with the columns the starter set reads (as evalcore.analyze.features names them)."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame({name: rng.random(40) < 0.4 for name in BOOL_FEATURES})
    df["length_bucket"] = rng.choice(["short", "medium", "long"], 40)
    return df


def test_slice_accepts_text_or_tree_and_checks_its_name():
    by_text = Slice("negated", "has_negation == true", "negation flips sentiment")
    assert by_text.rule == parse_rule("has_negation == true")
    assert Slice("negated", parse_rule("has_negation == true"), "negation flips sentiment") == by_text
    assert by_text.text == "has_negation == true"
    for bad in ["", "1st", "two words", "x" * 65, None]:
        with pytest.raises(RuleError, match="is not allowed; use 1-64 letters, digits, _ or -"):
            Slice(bad, "a == 1")  # type: ignore[arg-type]
    with pytest.raises(RuleError) as info:
        Slice("broken", "a >= ")
    assert str(info.value) == "slice 'broken': at 5: expected a value after '>=' but found end of text"
    assert info.value.position == 5
    with pytest.raises(RuleError, match="note must be a string"):
        Slice("ok", "a == 1", note=3)  # type: ignore[arg-type]


def test_slice_set_is_ordered_with_unique_names():
    a, b, d = Slice("a", "x == 1"), Slice("b", "x == 2"), Slice("d", "x == 3")
    s = SliceSet((a, b)).add(d)
    assert s.names() == ["a", "b", "d"] and len(s) == 3 and "b" in s and s["d"] == d
    assert s.remove("b").names() == ["a", "d"]
    assert s.rename("b", "bee").names() == ["a", "bee", "d"]
    assert s.rename("b", "bee")["bee"].rule == b.rule
    replaced = s.replace(Slice("b", "x == 20", "new"))
    assert replaced.names() == ["a", "b", "d"] and replaced["b"].text == "x == 20"
    assert s.names() == ["a", "b", "d"]  # edits return new sets
    with pytest.raises(RuleError, match="slice name 'a' is used twice; names must be unique"):
        s.add(Slice("a", "x == 9"))
    with pytest.raises(RuleError, match="no slice named 'zz'; slices: a, b, d"):
        s.remove("zz")
    with pytest.raises(RuleError, match="no slice named 'zz'"):
        s.replace(Slice("zz", "x == 1"))
    with pytest.raises(RuleError, match="cannot rename slice 'a' to 'd': a slice with that name exists"):
        s.rename("a", "d")
    with pytest.raises(RuleError, match="is not allowed"):
        s.rename("a", "bad name")
    with pytest.raises(RuleError, match="a slice set holds slices, got str"):
        SliceSet(("a == 1",))  # type: ignore[arg-type]


def test_save_and_load_round_trip(tmp_path: Path):
    path = save_slices(tmp_path / "sub" / "slices.json", starter_slices())
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == SLICES_VERSION
    assert doc["slices"][4] == {
        "name": "short_tweets",
        "rule": {"col": "length_bucket", "op": "==", "value": "short"},
        "note": starter_slices()["short_tweets"].note,
    }
    assert load_slices(path) == starter_slices()
    assert not list(path.parent.glob("*.tmp-*"))
    save_slices(path, [Slice("only", "a == 1")])  # any iterable of slices; overwrites
    assert load_slices(path).names() == ["only"]


def test_hand_written_files_may_use_the_text_form(tmp_path: Path):
    path = tmp_path / "slices.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "slices": [
                    {"name": "lol", "rule": 'text contains "lol" and not has_url == true'},
                    {
                        "name": "either",
                        "rule": {"or": [{"col": "a", "op": "is null"}, {"col": "b", "op": "<", "value": 2}]},
                        "note": "n",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    loaded = load_slices(path)
    assert loaded["lol"].text == 'text contains "lol" and not has_url == true'
    assert loaded["lol"].note == ""
    assert loaded["either"].text == "a is null or b < 2"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"version": 1,\n "slices": [\n  {"name": "a" "rule": "x == 1"}]}',
            "is not valid JSON: line 3, column 16: Expecting ',' delimiter",
        ),
        ("", "is not valid JSON: line 1, column 1: Expecting value"),
        ("[]", 'must hold an object {"version": 1, "slices": [...]}'),
        ('{"version": 2, "slices": []}', "has version 2; allowed: 1"),
        ('{"slices": []}', "has version None; allowed: 1"),
        ('{"version": 1, "slices": {}}', "slices must be a JSON list of slices, got dict"),
        ('{"version": 1, "slices": [3]}', "slice #1: must be a JSON object with name, rule and note, got int"),
        ('{"version": 1, "slices": [{"name": "a"}]}', "slice #1: missing key rule; allowed: name, rule, note"),
        (
            '{"version": 1, "slices": [{"name": "a", "rule": "x == 1", "hypothesis": ""}]}',
            "slice #1: unexpected key hypothesis; allowed: name, rule, note",
        ),
        ('{"version": 1, "slices": [{"name": "a b", "rule": "x == 1"}]}', "slice name 'a b' is not allowed"),
        (
            '{"version": 1, "slices": [{"name": "a", "rule": "x == 1"}, {"name": "b", "rule": "x =="}]}',
            "slice #2 'b': at 4: expected a value after '==' but found end of text",
        ),
        (
            '{"version": 1, "slices": [{"name": "a", "rule": {"and": [{"col": "x", "op": "in", "value": 1}]}}]}',
            "slice #1 'a': rule.and[0]: operator 'in' needs a non-empty list",
        ),
        (
            '{"version": 1, "slices": [{"name": "a", "rule": "x == 1"}, {"name": "a", "rule": "x == 2"}]}',
            "slice name 'a' is used twice",
        ),
    ],
)
def test_malformed_files_get_clear_errors(tmp_path: Path, content: str, message: str):
    path = tmp_path / "slices.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_slices(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_and_undecodable_files(tmp_path: Path):
    with pytest.raises(RuleError, match="does not exist"):
        load_slices(tmp_path / "nope.json")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"version": 1, "slices": ["\xe9"]}')
    with pytest.raises(RuleError, match="cannot be read"):
        load_slices(bad)


def test_starter_set_is_the_labs(features):
    starter = starter_slices()
    assert starter.names() == STARTER_NAMES
    assert all(len(s.note) > 20 for s in starter)  # every slice states its hypothesis
    assert starter["short_tweets"].text == 'length_bucket == "short"'
    assert starter["long_tweets"].text == 'length_bucket == "long"'
    assert starter["emoji_dense"].text == "emoji_dense == true"
    assert validate_slices(starter, Schema.from_frame(features)) == []


def test_masks_evaluate_a_whole_set(features):
    result = masks(starter_slices(), features)
    assert list(result) == STARTER_NAMES
    for name in BOOL_FEATURES:
        assert result[name].tolist() == features[name].tolist()
    assert result["short_tweets"].tolist() == (features["length_bucket"] == "short").tolist()
    assert not (result["short_tweets"] & result["long_tweets"]).any()


def test_masks_validate_every_slice_first(features):
    broken = starter_slices().add(Slice("typo", "has_negaton == true")).add(Slice("typed", "has_url < 2"))
    with pytest.raises(RuleError) as info:
        masks(broken.remove("has_url"), features.drop(columns=["has_url"]))
    message = str(info.value)
    assert message.startswith("2 problems in the slices:\n")
    assert (
        "- slice 'typo' in `has_negaton == true`: unknown column 'has_negaton' — did you mean "
        "'has_negation'? (also close: 'has_mention', 'has_question')" in message
    )
    assert "- slice 'typed' in `has_url < 2`: unknown column 'has_url'" in message
    with pytest.raises(RuleError, match="^slice 'typed' in `has_url < 2`: operator '<' does not apply"):
        masks(SliceSet((Slice("typed", "has_url < 2"),)), features)
    warnings = validate_slices([Slice("tiny", 'length_bucket == "tiny"')], Schema.from_frame(features))
    assert warnings == [
        'slice \'tiny\' in `length_bucket == "tiny"`: value "tiny" never occurs in column '
        '\'length_bucket\' (seen: "long", "medium", "short")'
    ]


# --- task-aware defaults ------------------------------------------------------------------------------


def test_sentiment_set_only_for_sentiment_labels():
    from evalcore.analyze.slices import generic_slices, task_slices

    assert task_slices(("negative", "neutral", "positive")).names() == STARTER_NAMES
    assert task_slices(("negative", "positive")).names() == STARTER_NAMES
    generic = task_slices(("none", "against", "favor"))
    assert generic == generic_slices() and "has_strong_sentiment" not in generic
    assert {
        "short_texts",
        "long_texts",
        "has_question",
        "has_hashtag",
        "has_mention",
        "has_url",
        "has_emoji",
        "has_negation",
        "has_all_caps",
        "has_elongation",
        "has_number",
    } <= set(generic.names())
    for s in generic:  # hypotheses for any task: no sentiment words
        assert not any(w in s.note.lower() for w in ("sentiment", "neutral", "positive", "negative")), s.note


def test_default_slices_leave_out_empty_ones_with_a_note(shared_data: Path):
    from evalcore.analyze.slices import default_slices
    from evalcore.io.load import load_data
    from evalcore.tasks.pipeline import eval_base

    data = load_data(str(shared_data / "sst2" / "dev.tsv"), text_col="sentence", label_map="0=negative,1=positive")
    kept, notes = default_slices(eval_base(data), data.labels)
    # SST-2 is lower-cased movie-review sentences: no capitals, hashtags, mentions, links or emoji
    assert set(STARTER_NAMES) - set(kept.names()) == {
        "has_all_caps",
        "has_hashtag",
        "has_mention",
        "has_url",
        "emoji_dense",
    }
    assert notes == [
        "default slices left out because no row of this data matches them: has_all_caps, "
        "has_hashtag, has_mention, has_url, emoji_dense"
    ]
    lab = load_data("lab")
    assert default_slices(eval_base(lab), lab.labels) == (starter_slices(), [])
