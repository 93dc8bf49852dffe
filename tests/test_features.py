"""Metadata features: fixed cases per feature, an independent per-row reference on the lab rows,
Python `re` and pyarrow (RE2) agreeing, user features, every error message, registry properties."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import emoji
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalcore.analyze import lexicons
from evalcore.analyze.features import (
    KINDS,
    LENGTH_BUCKETS,
    CustomFeature,
    Feature,
    as_texts,
    compute_features,
    get_feature,
    list_features,
    plain_text,
    trie_pattern,
)
from evalcore.core.errors import EvalcoreError, FeatureError

REQUIRED = {
    "has_negation",
    "has_hashtag",
    "has_mention",
    "has_url",
    "emoji_count",
    "emoji_density",
    "emoji_dense",
    "has_all_caps",
    "has_question",
    "has_exclamation",
    "has_strong_sentiment",
    "has_sarcasm_indicators",
    "has_contrast",
    "has_elongation",
    "word_count",
    "length_chars",
    "length_bucket",
}
FAMILY = "👨\u200d👩\u200d👧"  # one ZWJ sequence: three people, one emoji
DTYPES = {"bool": "bool", "int": "int64", "float": "float64", "category": "category"}


@pytest.fixture(scope="module")
def lab_texts(shared_data: Path) -> pd.Series:
    return pd.read_csv(shared_data / "lab" / "tweets.csv")["text"]


def value(name: str, text: str):
    return compute_features([text], [name])[name].iloc[0]


# --- fixed cases ------------------------------------------------------------------------------

CASES = [
    # (feature, text, expected)
    ("has_negation", "I do not like it", True),
    ("has_negation", "this isn’t fine", True),  # curly apostrophe
    ("has_negation", "we couldn't care less", True),  # any n't contraction
    ("has_negation", "NEVER again", True),
    ("has_negation", "nothing to see", True),
    ("has_negation", "notably good, knot, cannoli", False),
    ("has_negation", "No.", True),
    ("has_negation", "@not_a_user http://no.com/not", False),  # mentions and URLs are not words
    ("has_contrast", "good but slow", True),
    ("has_contrast", "Although late, fine", True),
    ("has_contrast", "fun tho", True),
    ("has_contrast", "on the other  hand, meh", True),  # double space inside a phrase
    ("has_contrast", "butter and thoughtful", False),
    ("has_strong_sentiment", "I love this", True),
    ("has_strong_sentiment", "what a HORRIBLE day", True),
    ("has_strong_sentiment", "#hate mondays", True),
    ("has_strong_sentiment", "it is okay I guess", False),
    ("has_strong_sentiment", "I won't go", False),  # "won" is strong; "won't" is not "won"
    ("has_strong_sentiment", "score 187 to 143", False),  # VADER's number slang is dropped
    ("has_sarcasm_indicators", "Yeah right, best day ever", True),
    ("has_sarcasm_indicators", "oh great, another Monday", True),
    ("has_sarcasm_indicators", "love waiting in line /s", True),
    ("has_sarcasm_indicators", "what a day #sarcasm", True),
    ("has_sarcasm_indicators", "thanks #not", True),
    ("has_sarcasm_indicators", "such a “great” idea", True),
    ("has_sarcasm_indicators", "sure... whatever", True),
    ("has_sarcasm_indicators", "meeting again 🙄", True),
    ("has_sarcasm_indicators", "that was a great idea, right", False),
    ("has_sarcasm_indicators", "#nothing here, just great", False),
    ("has_question", "why?", True),
    ("has_question", "see https://x.com/?q=1", False),  # ? inside a URL
    ("has_exclamation", "wow!", True),
    ("has_exclamation", "wow", False),
    ("has_repeated_punct", "really?!", True),
    ("has_repeated_punct", "no!!!", True),
    ("has_repeated_punct", "no! yes?", False),
    ("has_elongation", "soooo good", True),
    ("has_elongation", "Hmmm", True),
    ("has_elongation", "NOOOO", True),
    ("has_elongation", "good book", False),
    ("has_elongation", "the KKK and www and zzz", False),  # no other letter in the word
    ("has_all_caps", "this is SO good", True),
    ("has_all_caps", "DON'T", True),
    ("has_all_caps", "I am here, I said", False),
    ("has_all_caps", "@USER #USA https://t.co/ABCdef", False),
    ("has_all_caps", "Hello World", False),
    ("has_emoticon", "fun :) yes", True),
    ("has_emoticon", "<3", True),
    ("has_emoticon", "fun :/", True),
    ("has_emoticon", "at 10:30 ratio 8:3", False),
    ("has_emoticon", "see https://a.b/c", False),
    ("has_hashtag", "#mood", True),
    ("has_hashtag", "it's #1 at &#39;", False),
    ("has_hashtag", "see #2016election", True),
    ("has_hashtag", "Sirtehttps://t.co/E2aJFRljJx#Libya", True),  # glued to a link
    ("has_mention", "@user hi", True),
    ("has_mention", "mail me at bob@example.com", False),
    ("has_mention", "wow!@someone", True),
    ("has_url", "read https://t.co/abc", True),
    ("has_url", "Neo-Nazi.https://t.co/4fPk", True),  # TweetEval glues URLs to words
    ("has_url", "link: http", True),  # preprocessed datasets keep a bare 'http'
    ("has_url", "www.example.org", True),
    ("has_url", "the httpd server", False),
    ("has_number", "see you at 3pm", True),
    ("has_number", "@user42 https://t.co/a1b2 no digits here", False),  # handles and links are not numbers
    ("hashtag_count", "#a #b c#d #1", 2),
    ("hashtag_count", "no tags, &#39;", 0),
    ("mention_count", "@user @user hi @user", 3),
    ("mention_count", "@@@ and a@b", 0),
    ("emoji_count", "no emoji here", 0),
    ("emoji_count", "😂😂 ok 👍", 3),
    ("emoji_count", FAMILY, 1),
    ("emoji_count", "👍🏽", 1),  # skin tone modifier belongs to the emoji
    ("emoji_count", "🇺🇸🇬🇧", 2),  # two flags, four regional indicators
    ("emoji_count", "❤️ vs ❤", 2),  # with and without variation selector
    ("emoji_density", "a b c d 😂", 0.2),
    ("emoji_density", "😂😂😂", 3.0),
    ("emoji_density", "", 0.0),
    ("emoji_dense", "ok 😂😂", True),
    ("emoji_dense", "ok 😂", False),
    ("emoji_dense", FAMILY, False),
    ("word_count", "  two\u00a0words\n", 2),
    ("word_count", "", 0),
    ("length_chars", "héllo 😂", 7),
    ("length_chars", FAMILY, 5),  # code points, as Python's len
    ("length_bucket", "one two", "short"),
    ("length_bucket", " ".join(["w"] * 10), "short"),
    ("length_bucket", " ".join(["w"] * 11), "medium"),
    ("length_bucket", " ".join(["w"] * 24), "medium"),
    ("length_bucket", " ".join(["w"] * 25), "long"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_feature_on_fixed_text(name: str, text: str, expected) -> None:
    assert value(name, text) == expected


def test_every_feature_has_a_positive_and_a_negative_case() -> None:
    seen: dict[str, set] = {}
    for name, _, expected in CASES:
        seen.setdefault(name, set()).add(expected)
    for feature in list_features():
        assert len(seen.get(feature.name, ())) >= 2, f"{feature.name} needs two distinct expected values"


def test_empty_and_missing_texts_give_zeros_and_falses() -> None:
    out = compute_features(pd.Series(["", "   ", None, float("nan")], index=[7, 8, 9, 10]))
    assert list(out.index) == [7, 8, 9, 10]
    for feature in list_features():
        col = out[feature.name]
        if feature.kind == "bool":
            assert not col.any(), feature.name
        elif feature.kind in ("int", "float") and feature.name != "length_chars":
            assert (col == 0).all(), feature.name
    assert out["length_chars"].tolist() == [0, 3, 0, 0]
    assert (out["length_bucket"] == "short").all()


def test_length_bucket_is_an_ordered_category_usable_in_rules() -> None:
    col = compute_features(["a", " ".join(["w"] * 30)], ["length_bucket"])["length_bucket"]
    assert list(col.cat.categories) == list(LENGTH_BUCKETS) and col.cat.ordered
    assert (col == "short").tolist() == [True, False]
    assert (col == "long").tolist() == [False, True]


def test_length_chars_equals_the_lab_input_length(shared_data: Path) -> None:
    lab = pd.read_csv(shared_data / "lab" / "tweets.csv")
    assert (compute_features(lab["text"], ["length_chars"])["length_chars"] == lab["input_length"]).all()


# --- an independent per-row reference on the 500 lab rows ---------------------------------------

WORD_CHARS = "A-Za-z0-9_\u00c0-\u024f"


def ref_plain(text: str) -> str:
    text = re.sub(r"(?i)(?:https?:|www\.|pic\.twitter\.com/)[\w.~:/?=&%+-]*|@\w+", " ", text, flags=re.A)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text)


def ref_tokens(text: str) -> list[str]:
    """Lower-cased words of the plain text; apostrophes kept inside, trimmed at the ends."""
    words = re.findall(f"[{WORD_CHARS}']+", ref_plain(text).lower())
    return [w.strip("'") for w in words if w.strip("'")]


def ref_has_terms(text: str, terms) -> bool:
    tokens = ref_tokens(text)
    padded = f" {' '.join(tokens)} "
    spaced = ref_plain(text).lower().split()
    return any((f" {t} " in padded) if re.fullmatch(f"[{WORD_CHARS}' ]+", t) else (t in spaced) for t in terms)


def ref_negation(text: str) -> bool:
    return ref_has_terms(text, lexicons.negations()) or any(
        re.fullmatch(r"[a-z0-9_']*[a-z]n't", t) for t in ref_tokens(text)
    )


def ref_sarcasm(text: str) -> bool:
    plain = ref_plain(text).lower()
    return (
        ref_has_terms(text, lexicons.SARCASM_PHRASES)
        or any(f"#{tag}" in re.findall(r"#\w+", plain) for tag in lexicons.SARCASM_HASHTAGS)
        or any(tok == "/s" or tok.startswith("/s") and not tok[2:3].isalnum() for tok in plain.split())
        or "<sarcasm>" in plain
        or any(f"{q}{w}{r}" in plain for w in lexicons.SCARE_QUOTE_WORDS for q in "\"'" for r in "\"'")
        or any(re.search(rf"(?<![{WORD_CHARS}]){w} ?(\.\.|…)", plain) for w in lexicons.TRAILING_SARCASM_WORDS)
        or any(e in plain for e in lexicons.SARCASM_EMOJI)
    )


def ref_elongation(text: str) -> bool:
    plain = ref_plain(text).lower()
    pos = 0
    for ch, run in itertools.groupby(plain):
        n = len(list(run))
        if n >= 3 and "a" <= ch <= "z":
            neighbours = plain[pos - 1 : pos] + plain[pos + n : pos + n + 1]
            if any("a" <= c <= "z" for c in neighbours):
                return True
        pos += n
    return False


def ref_all_caps(text: str) -> bool:
    plain = ref_plain(text)
    for m in re.finditer(f"[{WORD_CHARS}']+", plain):
        if m.start() and plain[m.start() - 1] == "#":
            continue
        if re.fullmatch(r"[A-Z]{2,}(?:'[A-Z]+)?(?:'(?![A-Za-z]).*)?", m.group()):
            return True
    return False


def ref_marker_count(text: str, marker: str, exclude_before: str, first_ok) -> int:
    """Count `marker` characters whose left neighbour is not a word character (nor one of
    `exclude_before`) and whose continuation passes `first_ok`."""
    n = 0
    for i, ch in enumerate(text):
        if ch != marker:
            continue
        before = text[i - 1] if i else " "
        if re.fullmatch(f"[{WORD_CHARS}]", before) or before in exclude_before:
            continue
        n += bool(first_ok(text[i + 1 :]))
    return n


def ref_hashtags(text: str) -> int:
    return ref_marker_count(ref_plain(text), "#", "&", lambda rest: re.match("[0-9]*[A-Za-z_\u00c0-\u024f]", rest))


def ref_mentions(text: str) -> int:
    return ref_marker_count(text, "@", "@", lambda rest: re.match("[A-Za-z0-9_]", rest))


def ref_url(text: str) -> bool:
    low = text.lower()
    return (
        "http:" in low
        or "https:" in low
        or "pic.twitter.com/" in low
        or re.search(r"www\.[a-z0-9-]+\.", low) is not None
        or any(t in ("http", "https") for t in re.split(f"[^{WORD_CHARS}']+", low))
        or re.search(f"(?<![{WORD_CHARS}])t\\.co/", low) is not None
    )


def ref_emoticon(text: str) -> bool:
    faces = re.compile(r"[:;=][-'o^]?[)(\]\[DPpO/|*3]|[xX]-?[D)(]|<3+|</3|\^_*\^|-_+-")
    for token in ref_plain(text).split(" "):
        m = faces.match(token)
        if m and (m.end() == len(token) or not re.match("[A-Za-z0-9/]", token[m.end()])):
            return True
    return False


def ref_bucket(text: str) -> str:
    n = len(text.split())
    return "short" if n <= 10 else "long" if n >= 25 else "medium"


REFERENCE = {
    "has_negation": ref_negation,
    "has_contrast": lambda t: ref_has_terms(t, lexicons.CONTRAST_MARKERS),
    "has_strong_sentiment": lambda t: ref_has_terms(t, lexicons.strong_sentiment_terms()),
    "has_sarcasm_indicators": ref_sarcasm,
    "has_question": lambda t: "?" in ref_plain(t) or "¿" in ref_plain(t),
    "has_exclamation": lambda t: "!" in ref_plain(t) or "¡" in ref_plain(t),
    "has_repeated_punct": lambda t: re.search("[!?¡¿]{2}", ref_plain(t)) is not None,
    "has_elongation": ref_elongation,
    "has_all_caps": ref_all_caps,
    "has_emoticon": ref_emoticon,
    "has_hashtag": lambda t: ref_hashtags(t) > 0,
    "hashtag_count": ref_hashtags,
    "has_mention": lambda t: ref_mentions(t) > 0,
    "mention_count": ref_mentions,
    "has_url": ref_url,
    "has_number": lambda t: re.search("[0-9]", ref_plain(t)) is not None,
    "emoji_count": emoji.emoji_count,
    "emoji_density": lambda t: emoji.emoji_count(t) / max(len(t.split()), 1),
    "emoji_dense": lambda t: emoji.emoji_count(t) >= 2,
    "word_count": lambda t: len(t.split()),
    "length_chars": len,
    "length_bucket": ref_bucket,
}


def test_every_feature_has_a_reference() -> None:
    assert set(REFERENCE) == {f.name for f in list_features()}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_vectorised_equals_per_row_reference_on_lab_rows(name: str, lab_texts: pd.Series) -> None:
    got = compute_features(lab_texts, [name])[name]
    want = lab_texts.map(REFERENCE[name])
    diff = [(t, g, w) for t, g, w in zip(lab_texts, got, want) if g != pytest.approx(w)]
    assert not diff, f"{name}: {len(diff)} rows differ, first: {diff[:3]}"
    if get_feature(name).kind == "bool":
        assert 0 < got.sum() or name in ("has_sarcasm_indicators", "has_emoticon")  # fires on real data


def test_pyarrow_and_python_regex_engines_agree(lab_texts: pd.Series) -> None:
    """Built-in patterns are written for RE2 and `re` alike: the object-dtype (pure `re`) path
    gives the same columns as the pyarrow path on real tweets and on tricky unicode."""
    extra = ["ÀBC ÉTÉ soooo", "naïve façade but Ünïcode", "tab\tsep\u2003em-space", "x\u200dy", "ΑΒΓ ΔΕ"]
    texts = pd.concat([lab_texts, pd.Series(extra)], ignore_index=True)
    arrow = as_texts(texts)
    assert isinstance(arrow.array, pd.arrays.ArrowStringArray)
    python = pd.Series(arrow.tolist(), dtype=object)
    for feature in list_features():
        pd.testing.assert_series_equal(
            feature.fn(arrow).reset_index(drop=True),
            feature.fn(python).reset_index(drop=True).astype(feature.fn(arrow).dtype),
            check_names=False,
            obj=feature.name,
        )


# --- registry properties ----------------------------------------------------------------------


def test_registry_has_the_required_features_with_docs() -> None:
    features = list_features()
    names = [f.name for f in features]
    assert REQUIRED <= set(names) and len(names) >= 17 and len(set(names)) == len(names)
    for f in features:
        assert isinstance(f, Feature) and f.kind in KINDS
        assert f.description.strip() and "\n" not in f.description, f.name
        assert f.hypothesis.strip() and "\n" not in f.hypothesis, f.name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", f.name)
    with pytest.raises(Exception):
        features[0].name = "renamed"  # frozen


SNIPPETS = [
    "@user",
    "#tag",
    "!!",
    "?",
    "’",
    " ",
    ":)",
    "<3",
    "soooo",
    "SO",
    "😂",
    FAMILY,
    "🇺🇸",
    "👍🏽",
    "http://t.co/x",
    " not ",
    " BUT ",
    "don't",
    '"great"',
    "\u00a0",
    "\n",
]
TEXTS = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(SNIPPETS)), max_size=10).map("".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=1, max_size=6))
def test_every_feature_returns_its_kind_for_any_text(texts: list[str]) -> None:
    index = pd.Index([f"r{i}" for i in range(len(texts))])
    out = compute_features(pd.Series(texts, index=index))
    assert list(out.columns) == [f.name for f in list_features()]
    assert out.index.equals(index)
    for feature in list_features():
        col = out[feature.name]
        assert str(col.dtype) == DTYPES[feature.kind], feature.name
        assert col.notna().all(), feature.name
    assert (out["emoji_count"] >= 0).all() and (out["word_count"] >= 0).all()
    assert (out["emoji_dense"] == (out["emoji_count"] >= 2)).all()
    assert (out["has_mention"] == (out["mention_count"] > 0)).all()
    assert (out["has_hashtag"] == (out["hashtag_count"] > 0)).all()


def test_single_feature_calls_match_the_table() -> None:
    """The memo of shared intermediates inside compute_features changes nothing."""
    texts = pd.Series(["@user NOT #good 😂😂 https://t.co/x", "", "sooo :) yeah right…"], index=[3, 1, 2])
    table = compute_features(texts)
    for feature in list_features():
        pd.testing.assert_series_equal(feature.compute(texts), table[feature.name], obj=feature.name)


def test_compute_features_selects_and_orders_columns() -> None:
    out = compute_features(["a?", "b"], ["word_count", "has_question"])
    assert list(out.columns) == ["word_count", "has_question"]
    assert out["has_question"].tolist() == [True, False]
    dup = compute_features(pd.Series(["a?", "b 😂😂", ""], index=[4, 4, 0]), ["has_question", "emoji_dense"])
    assert list(dup.index) == [4, 4, 0] and dup["emoji_dense"].tolist() == [False, True, False]
    empty = compute_features([])
    assert len(empty) == 0 and len(empty.columns) == len(list_features())


def test_trie_pattern_matches_longest_term_first() -> None:
    rx = re.compile(trie_pattern(["ab", "abcd", "a", "b*", "x", ""]))
    assert rx.findall("abcd ab a b* x abc") == ["abcd", "ab", "a", "b*", "x", "ab"]
    keys = list(emoji.EMOJI_DATA)[:300]
    naive = re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))
    sample = "".join(keys) + " x " + FAMILY
    assert re.compile(trie_pattern(keys)).findall(sample) == naive.findall(sample)
    with pytest.raises(FeatureError, match="terms: got an empty list; give at least one non-empty term"):
        trie_pattern(["", ""])


def test_plain_text_blanks_urls_and_mentions() -> None:
    got = plain_text(as_texts(["@user see https://t.co/x it’s  “fine”"])).iloc[0]
    assert got == ' see it\'s "fine"'


def test_import_of_features_does_not_load_emoji_or_vader() -> None:
    import subprocess
    import sys

    code = "import sys, evalcore.analyze.features; print('vaderSentiment' in sys.modules, 'emoji' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


# --- user features ----------------------------------------------------------------------------


def test_keyword_feature_matches_whole_words_case_insensitively() -> None:
    feat = CustomFeature("mentions_food", "keywords", ["pizza", "ice cream", "c++"])
    texts = ["PIZZA time", "pizzas", "I love ice  cream", "coding in C++ today", "icecream", "@pizza"]
    assert feat.compute(texts).tolist() == [True, False, True, True, False, False]
    assert feat.pattern == ("pizza", "ice cream", "c++")
    curly = CustomFeature("refusal", "keywords", "don’t")
    assert curly.pattern == ("don't",)
    assert curly.compute(["I don’t", "I don't", "I do", "dont"]).tolist() == [True, True, False, False]
    sensitive = CustomFeature("lol_upper", "keywords", "LOL, OMG", case_sensitive=True)
    assert sensitive.pattern == ("LOL", "OMG")
    assert sensitive.compute(["LOL", "lol", "omg OMG"]).tolist() == [True, False, True]


def test_regex_feature_and_case_flag() -> None:
    feat = CustomFeature("has_year", "regex", r"\b(19|20)\d\d\b", description="A year")
    assert feat.compute(pd.Series(["in 1999", "in 3000", "2024!"], index=[5, 6, 7])).to_dict() == {
        5: True,
        6: False,
        7: True,
    }
    assert CustomFeature("cats", "regex", "cat").compute(["CAT"]).tolist() == [True]
    assert CustomFeature("cats", "regex", "cat", case_sensitive=True).compute(["CAT"]).tolist() == [False]


def test_custom_features_join_the_table_and_round_trip_json() -> None:
    feats = [
        CustomFeature("food", "keywords", ["pizza"], hypothesis="food talk is positive"),
        CustomFeature("year", "regex", r"\d{4}"),
    ]
    out = compute_features(["pizza 2020", "nope"], ["has_negation"], custom=feats)
    assert list(out.columns) == ["has_negation", "food", "year"]
    assert out["food"].tolist() == [True, False] and out["year"].tolist() == [True, False]
    for feat in feats:
        again = CustomFeature.from_dict(json.loads(json.dumps(feat.to_dict())))
        assert again == feat and again.regex.pattern == feat.regex.pattern
    shown = feats[1].as_feature()
    assert shown.kind == "bool" and shown.description and shown.hypothesis
    assert shown.compute(["1234"]).tolist() == [True]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "1st", "kind": "regex", "pattern": "x"}, "name '1st' is not allowed: use letters, digits and _"),
        ({"name": 7, "kind": "regex", "pattern": "x"}, "name 7 is not allowed"),
        ({"name": "has-dash", "kind": "regex", "pattern": "x"}, "name 'has-dash' is not allowed"),
        ({"name": "x" * 65, "kind": "regex", "pattern": "x"}, "at most 64 characters"),
        ({"name": "has_negation", "kind": "regex", "pattern": "x"}, "'has_negation' is taken by a built-in"),
        ({"name": "label", "kind": "regex", "pattern": "x"}, "'label' is reserved"),
        ({"name": "pred_gpt2", "kind": "regex", "pattern": "x"}, "'pred_gpt2' is reserved"),
        ({"name": "and", "kind": "regex", "pattern": "x"}, "'and' is reserved"),
        ({"name": "f", "kind": "glob", "pattern": "x"}, "kind 'glob' is not allowed; use 'keywords' or 'regex'"),
        ({"name": "f", "kind": "keywords", "pattern": [" ", ""]}, "has no non-empty keyword"),
        ({"name": "f", "kind": "keywords", "pattern": 5}, "keywords must be a list of strings, got 5"),
        ({"name": "f", "kind": "keywords", "pattern": [f"w{i}" for i in range(201)]}, "201 keywords; at most 200"),
        ({"name": "f", "kind": "keywords", "pattern": ["y" * 201]}, "longer than 200 characters"),
        ({"name": "f", "kind": "regex", "pattern": ""}, "regex must be a non-empty string"),
        ({"name": "f", "kind": "regex", "pattern": "a" * 201}, "regex is 201 characters; at most 200"),
        (
            {"name": "f", "kind": "regex", "pattern": "ab(c"},
            "is invalid at position 2: missing ), unterminated subpattern",
        ),
        ({"name": "f", "kind": "regex", "pattern": "x[a-"}, "is invalid at position 1: unterminated character set"),
        ({"name": "f", "kind": "regex", "pattern": "(a+)+$"}, "repeats a group that itself repeats"),
        ({"name": "f", "kind": "regex", "pattern": "(.*)*x"}, "exponential time"),
        ({"name": "f", "kind": "regex", "pattern": "(?:x|(y?))+z"}, "repeats a group that itself repeats"),
        ({"name": "f", "kind": "regex", "pattern": r"(\w+\s?){2,}!"}, "Remove the inner or the outer quantifier"),
        ({"name": "f", "kind": "regex", "pattern": "a*"}, "matches the empty string, so it is true on every row"),
        (
            {"name": "f", "kind": "regex", "pattern": "x", "case_sensitive": "yes"},
            "case_sensitive must be true or false",
        ),
        ({"name": "f", "kind": "regex", "pattern": "x", "hypothesis": 3}, "hypothesis must be a string"),
    ],
)
def test_custom_feature_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(FeatureError, match=re.escape(message)):
        CustomFeature(**kwargs)


@pytest.mark.parametrize("pattern", [r"(ab)+", r"\d{3}(-\d{3})+", r"(a|b)c+", r"x(y+)?z", r"(?:ha){2,}"])
def test_safe_repetitions_are_accepted(pattern: str) -> None:
    assert CustomFeature("f", "regex", pattern).regex.pattern == pattern


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ({"name": "f", "kind": "regex", "pattern": "x", "colour": "red"}, "unknown field(s) ['colour']"),
        ({"name": "f", "kind": "regex"}, "custom feature 'f': missing field(s) ['pattern']"),
        ({"name": "f", "kind": "regex", "pattern": "(a*)*"}, "repeats a group"),
    ],
)
def test_from_dict_validates(data, message: str) -> None:
    with pytest.raises(FeatureError, match=re.escape(message)):
        CustomFeature.from_dict(data)


def test_unknown_feature_name_suggests_the_nearest() -> None:
    expected = "unknown name 'has_negaton' (did you mean 'has_negation'?); known features: has_negation,"
    with pytest.raises(FeatureError, match=re.escape(expected)):
        get_feature("has_negaton")
    with pytest.raises(FeatureError, match="unknown name 'zzz'; known features: has_negation"):
        compute_features(["x"], ["zzz"])


def test_compute_features_input_errors() -> None:
    feat = CustomFeature("food", "keywords", ["pizza"])
    with pytest.raises(FeatureError, match="name 'food' appears twice"):
        compute_features(["x"], [], custom=[feat, feat])
    with pytest.raises(FeatureError, match="expected CustomFeature items, got dict"):
        compute_features(["x"], [], custom=[feat.to_dict()])  # type: ignore[list-item]
    with pytest.raises(FeatureError, match=re.escape("names: got one string 'has_url'; pass a list of feature")):
        compute_features(["x"], "has_url")
    with pytest.raises(FeatureError, match="got one string 'hello'; pass a list or Series"):
        compute_features("hello")
    with pytest.raises(FeatureError, match=re.escape("got a DataFrame; pass its text column (df['text'])")):
        compute_features(pd.DataFrame({"text": ["x"]}))
    assert issubclass(FeatureError, EvalcoreError)


def test_custom_regex_runs_on_re2() -> None:
    from evalcore.analyze.features import CustomFeature

    feature = CustomFeature("aab", "regex", "(a|aa)+b")
    assert feature.compute(["a" * 200 + "c", "xAAB"]).tolist() == [False, True]
    with pytest.raises(FeatureError, match="cannot run on RE2"):
        CustomFeature("back", "regex", r"(a)\1")
