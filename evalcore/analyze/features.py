"""Metadata features: hypothesis-driven columns computed from the text alone.

Each feature states the hypothesis it tests, so a slice built on it reads as a question ("does
the candidate break on negation?"). Users add boolean features without code (`CustomFeature`:
a keyword list or a regular expression), saved as JSON.

Speed: every built-in pattern is written in the regex subset that Python's `re` and RE2 read
alike (no \\w, \\b, \\s, look-arounds or back-references, explicit character classes instead), so
pandas runs it in pyarrow's C++ kernels on its `str` dtype: all features on 100k tweets take
about 2 s on two busy cores, against ~70 s for the same patterns run row by row with `re`
(bench/bench_features.py). Word lists compile into one trie-shaped pattern (`trie_pattern`),
which keeps the 5,000 emoji of `emoji.EMOJI_DATA` a small automaton.

    >>> compute_features(["NOT sure about this... 😂😂", "@user great"], ["has_negation", "emoji_count"])
       has_negation  emoji_count
    0          True            2
    1         False            0
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from evalcore.analyze import lexicons
from evalcore.analyze.tables import CORE_COLUMNS, FLAG_COLUMNS, LONG_COLUMNS, ROLE_FIELDS, ROLES, role_col
from evalcore.analyze.textsearch import re2_problem, regex_mask
from evalcore.core.errors import FeatureError

Kind = Literal["bool", "int", "float", "category"]
KINDS: tuple[str, ...] = ("bool", "int", "float", "category")

LENGTH_BUCKETS: tuple[str, ...] = ("short", "medium", "long")
SHORT_MAX_WORDS = 10  # length_bucket "short": word_count <= 10
LONG_MIN_WORDS = 25  # length_bucket "long": word_count >= 25
EMOJI_DENSE_MIN = 2  # emoji_dense: at least two emoji

# Limits on user-defined features: keep patterns readable and their cost bounded.
MAX_PATTERN_CHARS = 200
MAX_KEYWORDS = 200
MAX_NAME_CHARS = 64

# Columns of the evaluation tables (and words of the rule language) a feature must not shadow.
# The table columns come from evalcore.analyze.tables, the one place that names them.
RESERVED_NAMES = frozenset(
    {
        *CORE_COLUMNS,
        *LONG_COLUMNS,
        *FLAG_COLUMNS,
        "probs",
        *(role_col(role, field) for role in ROLES for field in ROLE_FIELDS),
        "and",
        "or",
        "not",
        "in",
        "contains",
        "matches",
        "is",
        "null",
        "true",
        "false",
    }
)
RESERVED_PREFIXES: tuple[str, ...] = ("pred_", "conf_", "correct_", "probs_", "prob_")

# --- regex building blocks (RE2-compatible, see the module docstring) -----------------------------

# Python's str.split() whitespace, so that word_count == len(text.split()).
_SPACE_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_WORD_CHARS = "A-Za-z0-9_\u00c0-\u024f"  # ASCII word characters and accented Latin letters


def _char_class(chars: str, negate: bool = False) -> str:
    body = "".join(re.escape(c) if c in "\\]^-[" else c for c in chars)
    return f"[{'^' if negate else ''}{body}]"


_SPACE = _char_class(_SPACE_CHARS)
_NON_SPACE = _char_class(_SPACE_CHARS, negate=True)
_BEFORE = f"(?:^|[^{_WORD_CHARS}])"  # a word starts here (consumes one character)
# A word ends here; an apostrophe ends it only when no letter follows ("won't" is not "won").
_AFTER = f"(?:[^{_WORD_CHARS}']|'(?:[^A-Za-z]|$)|$)"


def trie_pattern(terms: Iterable[str]) -> str:
    """One regex matching any of `terms`, longest first, shaped as a trie.

    Equivalent to `"|".join(sorted(map(re.escape, terms), key=len, reverse=True))`, but sibling
    characters with identical continuations share a character class, so 5,000 emoji become a few
    hundred branches and regex engines test one class per position instead of every term.
    """
    trie: dict[str, dict] = {}
    for term in terms:
        if not term:
            continue  # an empty term would make the whole pattern match the empty string
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}  # end-of-term marker

    def build(node: dict[str, dict]) -> str:
        by_tail: dict[str, list[str]] = defaultdict(list)
        for ch, child in node.items():
            if ch:
                by_tail[build(child)].append(ch)
        if not by_tail:
            return ""
        branches = []
        for tail, chars in by_tail.items():
            head = re.escape(chars[0]) if len(chars) == 1 else _char_class("".join(sorted(chars)))
            branches.append(head + tail)
        body = "|".join(branches)
        if "" in node:  # a term may end here: the longer continuation is tried first (greedy)
            return f"(?:{body})?"
        return body if len(branches) == 1 else f"(?:{body})"

    pattern = build(trie)
    if not pattern:
        raise FeatureError("terms: got an empty list; give at least one non-empty term")
    return pattern


def words_pattern(terms: Iterable[str], case_sensitive: bool = False) -> str:
    """Whole-word match of any term; spaces inside a term match one space of normalised text."""
    flags = "" if case_sensitive else "(?i)"
    return flags + _words(terms)


def _words(terms: Iterable[str]) -> str:
    return f"{_BEFORE}(?:{trie_pattern(terms)}){_AFTER}"


# Placeholders datasets put where a link was: OffensEval's `URL`, `HTTPURL` (TweetEval / BERTweet), `{{URL}}`
# (TweetNLP); upper case only, so the word "url" in a sentence is not a link.
_URL_PLACEHOLDER = f"{_BEFORE}(?:HTTPURL|URL){_AFTER}|\\{{\\{{URL\\}}\\}}"
_URL_FIND = (
    f"(?i:https?:|www\\.[a-z0-9-]+\\.|pic\\.twitter\\.com/|{_BEFORE}https?{_AFTER}|{_BEFORE}t\\.co/)|{_URL_PLACEHOLDER}"
)
# URLs and @handles: blanked in `plain_text`. A URL stops at #, @ and non-ASCII: TweetEval glues
# hashtags to links ("https://t.co/E2aJFRljJx#Libya").
_URL_STRIP = f"(?i:(?:https?:|www\\.|pic\\.twitter\\.com/)[A-Za-z0-9._~:/?=&%+-]*)|@[A-Za-z0-9_]+|{_URL_PLACEHOLDER}"
_MENTION = f"(?:^|[^{_WORD_CHARS}@])@[A-Za-z0-9_]"
_HASHTAG = f"(?:^|[^{_WORD_CHARS}&])#[0-9]*[A-Za-z_\u00c0-\u024f]"
_ALL_CAPS = f"(?:^|[^{_WORD_CHARS}#'])[A-Z]{{2,}}(?:'[A-Z]+)?{_AFTER}"
# A letter three times in a row inside a word with another letter: "sooo", "hmmm", not "KKK", "www".
_ELONGATION = "(?i)" + "|".join(
    f"{other}{c * 3}|{c * 3}{other}"
    for c in "abcdefghijklmnopqrstuvwxyz"
    for other in [_char_class("".join(x for x in "abcdefghijklmnopqrstuvwxyz" if x != c))]
)
_REPEATED_PUNCT = "[!?¡¿]{2,}"
_EMOTICON = "(?:^| )(?:[:;=][-'o^]?[)(\\]\\[DPpO/|*3]|[xX]-?[D)(]|<3+|</3|\\^_*\\^|-_+-)(?:[^A-Za-z0-9/]|$)"


@lru_cache(maxsize=1)
def emoji_pattern() -> str:
    """Pattern of every emoji in `emoji.EMOJI_DATA` (ZWJ sequences, flags, skin tones as one)."""
    import emoji

    return trie_pattern(emoji.EMOJI_DATA)


@lru_cache(maxsize=1)
def _negation_pattern() -> str:
    # "n't" glued ("doesn't") or split off by a tokenizer ("does n't", "ca n't", "wo n't": SST, PTB)
    return f"(?i){_words(lexicons.negations())}|(?:[a-z]|^| )n't{_AFTER}"


@lru_cache(maxsize=1)
def _strong_pattern() -> str:
    return words_pattern(lexicons.strong_sentiment_terms())


@lru_cache(maxsize=1)
def _sarcasm_pattern() -> str:
    parts = [
        _words(lexicons.SARCASM_PHRASES),
        f"#(?:{trie_pattern(lexicons.SARCASM_HASHTAGS)}){_AFTER}",
        f"(?:^| )/s{_AFTER}",
        "</?sarcasm>",
        f"[\"'](?:{trie_pattern(lexicons.SCARE_QUOTE_WORDS)})[\"']",
        f"{_BEFORE}(?:{trie_pattern(lexicons.TRAILING_SARCASM_WORDS)}) ?(?:\\.\\.|…)",
        trie_pattern(lexicons.SARCASM_EMOJI),
    ]
    return "(?i)(?:" + "|".join(parts) + ")"


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """A named column computed from text. `fn` takes texts as a pandas `str` Series (see
    `as_texts`) and returns a Series of the declared `kind` with the same index."""

    name: str
    description: str
    hypothesis: str
    kind: Kind
    fn: Callable[[pd.Series], pd.Series] = field(repr=False, compare=False)

    def compute(self, texts: pd.Series | Sequence[str]) -> pd.Series:
        """This feature alone, on any list or Series of texts (normalised by `as_texts`)."""
        return self.fn(as_texts(texts)).rename(self.name)


_REGISTRY: dict[str, Feature] = {}


def _register(name: str, kind: Kind, description: str, hypothesis: str):
    def wrap(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
        _REGISTRY[name] = Feature(name, description, hypothesis, kind, fn)
        return fn

    return wrap


def as_texts(texts: pd.Series | Sequence[str] | Iterable[str]) -> pd.Series:
    """Texts as a pandas `str` Series (pyarrow-backed), missing values as "", index kept."""
    if isinstance(texts, str):
        raise FeatureError(f"texts: got one string {texts[:40]!r}; pass a list or Series of strings")
    if isinstance(texts, pd.DataFrame):
        raise FeatureError("texts: got a DataFrame; pass its text column (df['text'])")
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    return series.astype("str").fillna("")


# Intermediates several features share (plain text, word and emoji counts), computed once per
# input inside `compute_features`: {(function, id(texts)): (texts, result)}.
_MEMO: ContextVar[dict | None] = ContextVar("evalcore_features_memo", default=None)


def _shared(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """Memoise `fn` per input Series while `compute_features` runs; a plain call otherwise."""

    @functools.wraps(fn)
    def wrapper(texts: pd.Series) -> pd.Series:
        memo = _MEMO.get()
        if memo is None:
            return fn(texts)
        key = (fn, id(texts))
        if key not in memo or memo[key][0] is not texts:
            memo[key] = (texts, fn(texts))
        return memo[key][1]

    return wrapper


@_shared
def plain_text(texts: pd.Series) -> pd.Series:
    """Text for word-level cues: URLs and @mentions blanked (their letters are not words), curly
    quotes straightened, whitespace runs made one space (so phrases match across double spaces)."""
    return (
        texts.str.replace(_URL_STRIP, " ", regex=True)
        .str.replace("[’‘]", "'", regex=True)
        .str.replace("[“”]", '"', regex=True)
        .str.replace(f"{_SPACE}+", " ", regex=True)
    )


def _has(pattern: str | Callable[[], str], plain: bool = True) -> Callable[[pd.Series], pd.Series]:
    """A boolean feature: does the (plain) text match `pattern` (a string, or a lazy builder)?"""

    def fn(texts: pd.Series) -> pd.Series:
        source = plain_text(texts) if plain else texts
        rx = pattern() if callable(pattern) else pattern
        return source.str.contains(rx, regex=True).astype(bool)

    return fn


def _count(pattern: str | Callable[[], str], plain: bool = False) -> Callable[[pd.Series], pd.Series]:
    """An int feature: how many times `pattern` occurs (non-overlapping)."""

    def fn(texts: pd.Series) -> pd.Series:
        source = plain_text(texts) if plain else texts
        rx = pattern() if callable(pattern) else pattern
        return source.str.count(rx).astype("int64")

    return fn


_register(
    "has_negation",
    "bool",
    "A negator: not, no, never, nothing, without, any n't contraction, also split off (\"does n't\") (VADER's "
    "list + extras).",
    "Negation flips polarity; models that lean on positive or negative words miss the flip.",
)(_has(_negation_pattern))
_register(
    "has_contrast",
    "bool",
    "A contrast marker: but, however, though/tho, although, yet, despite, whereas...",
    "Contrast puts two sentiments in one tweet; the clause after the marker usually wins.",
)(_has(lambda: words_pattern(lexicons.CONTRAST_MARKERS)))
_register(
    "has_strong_sentiment",
    "bool",
    f"A VADER lexicon word or emoticon with |valence| >= {lexicons.STRONG_VALENCE} (love, hate, awful...).",
    "Strong words make easy cases; a candidate that regresses here has a basic failure.",
)(_has(_strong_pattern))
_register(
    "has_sarcasm_indicators",
    "bool",
    'A sarcasm cue: "yeah right", "oh great", /s, #sarcasm, #not, scare-quoted "great", "sure...", 🙄.',
    "Sarcasm says the opposite of its words; lexical models read it literally.",
)(_has(_sarcasm_pattern))
_register(
    "has_question",
    "bool",
    "A question mark outside URLs.",
    "Questions often carry no stance of their own; models may over-assign sentiment.",
)(_has("[?¿]"))
_register(
    "has_exclamation",
    "bool",
    "An exclamation mark.",
    "Exclamations intensify the surrounding sentiment, or mark neutral news as emotional.",
)(_has("[!¡]"))
_register(
    "has_repeated_punct",
    "bool",
    'Two or more ! or ? in a row ("!!", "?!", "???").',
    "Repeated punctuation signals emphasis or disbelief that tokenizers may split oddly.",
)(_has(_REPEATED_PUNCT))
_register(
    "has_elongation",
    "bool",
    'A letter repeated three or more times ("soooo", "nooo", "hmmm"), URLs and mentions aside.',
    "Elongated words are out of vocabulary for many tokenizers but carry strong emphasis.",
)(_has(_ELONGATION))
_register(
    "has_all_caps",
    "bool",
    'A word of two or more letters written fully in capitals ("NEVER", "OMG"), not @user or URLs.',
    "All caps shouts: it intensifies sentiment, but uncased or lower-casing models lose it.",
)(_has(_ALL_CAPS))
_register(
    "has_emoticon",
    "bool",
    "An ASCII emoticon such as :) :( :D ;) :P <3 xD :/",
    "Emoticons carry sentiment in punctuation that word-level models may drop.",
)(_has(_EMOTICON))
_register(
    "has_number",
    "bool",
    "A digit outside URLs and @handles (3, 2019, 4.5, 10k).",
    "Numbers (dates, counts, scores) must be read exactly, and tokenizers cut them unpredictably.",
)(_has("[0-9]"))
_register(
    "has_hashtag",
    "bool",
    "A hashtag (#word; not #1 or HTML entities like &#39;).",
    "Hashtags pack topics and sentiment into joined words the tokenizer may split badly.",
)(_has(_HASHTAG))
_register(
    "hashtag_count",
    "int",
    "Number of hashtags.",
    "Hashtag-heavy tweets are topical and low on sentence structure.",
)(_count(_HASHTAG, plain=True))
_register(
    "has_mention",
    "bool",
    "An @mention (TweetEval writes every mention as @user; e-mail addresses do not count).",
    "Replies and mentions are conversational: sentiment may be about someone out of view.",
)(_has(_MENTION, plain=False))
_register(
    "mention_count",
    "int",
    "Number of @mentions.",
    "Long chains of @user make a tweet mostly noise to the model.",
)(_count(_MENTION))
_register(
    "has_url",
    "bool",
    "A link (http:, https:, www., pic.twitter.com/, t.co/) or a placeholder for one: a bare 'http', URL "
    "(OffensEval), HTTPURL, {{URL}}.",
    "Tweets with links are often headlines: neutral text about emotional topics.",
)(_has(_URL_FIND, plain=False))
_register(
    "emoji_count",
    "int",
    "Number of emoji (emoji package's list); a ZWJ sequence, flag or skin-toned emoji counts once.",
    "Emoji carry sentiment that text-only pre-training may not have seen.",
)(_shared(_count(emoji_pattern)))


@_register(
    "emoji_density",
    "float",
    "Emoji per whitespace-separated word (emoji_count / max(word_count, 1)); above 1 when emoji are glued.",
    "When emoji outweigh words, the sentiment lives in the emoji.",
)
def _emoji_density(texts: pd.Series) -> pd.Series:
    words = _REGISTRY["word_count"].fn(texts).clip(lower=1)
    return (_REGISTRY["emoji_count"].fn(texts) / words).astype("float64")


@_register(
    "emoji_dense",
    "bool",
    f"At least {EMOJI_DENSE_MIN} emoji.",
    "Emoji-dense tweets express sentiment mostly through emoji.",
)
def _emoji_dense(texts: pd.Series) -> pd.Series:
    return _REGISTRY["emoji_count"].fn(texts) >= EMOJI_DENSE_MIN


_register(
    "word_count",
    "int",
    "Whitespace-separated tokens (len(text.split())).",
    "Accuracy changes with length: short tweets lack context, long ones mix sentiments.",
)(_shared(_count(f"{_NON_SPACE}+")))


@_register(
    "length_chars",
    "int",
    "Length in characters (Unicode code points), as the lab's input_length.",
    "Very short or truncated inputs give the model little to go on.",
)
def _length_chars(texts: pd.Series) -> pd.Series:
    return texts.str.len().astype("int64")


@_register(
    "length_bucket",
    "category",
    f'"short" (<= {SHORT_MAX_WORDS} words), "medium", or "long" (>= {LONG_MIN_WORDS} words).',
    "Groups tweets by length so a slice can ask whether short or long ones regress.",
)
def _length_bucket(texts: pd.Series) -> pd.Series:
    words = _REGISTRY["word_count"].fn(texts).to_numpy()
    codes = np.where(words <= SHORT_MAX_WORDS, 0, np.where(words >= LONG_MIN_WORDS, 2, 1))
    dtype = pd.CategoricalDtype(list(LENGTH_BUCKETS), ordered=True)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=texts.index)


def list_features() -> list[Feature]:
    """Every built-in feature, in display order."""
    return list(_REGISTRY.values())


def get_feature(name: str) -> Feature:
    """The built-in feature called `name`; unknown names get the nearest one as a suggestion."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise FeatureError(f"feature: unknown name {name!r}{_suggest(name, _REGISTRY)}") from None


def _suggest(name: Any, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; known features: {', '.join(known)}"


# --- user-defined features --------------------------------------------------------------------

CustomKind = Literal["keywords", "regex"]
_STRAIGHT_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class CustomFeature:
    """A boolean feature defined without code: any of `pattern`'s keywords (whole words), or a
    match of the regular expression `pattern`. Validated on construction, so a saved feature
    that loads is a feature that runs.

    Keywords given as one string are split on commas and new lines ("lol, lmao"). They are
    matched like the built-in word cues, on `plain_text` (so not inside URLs or @handles); a
    regex sees the raw text.
    """

    name: str
    kind: CustomKind
    pattern: str | tuple[str, ...]
    description: str = ""
    hypothesis: str = ""
    case_sensitive: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.kind == "keywords":
            words = _clean_keywords(self.name, self.pattern)
            object.__setattr__(self, "pattern", words)
            source = words_pattern(words, case_sensitive=True)
        elif self.kind == "regex":
            source = _check_regex(self.name, self.pattern)
        else:
            raise FeatureError(
                f"custom feature {self.name!r}: kind {self.kind!r} is not allowed; use 'keywords' or 'regex'"
            )
        for attr in ("description", "hypothesis"):
            if not isinstance(getattr(self, attr), str):
                raise FeatureError(f"custom feature {self.name!r}: {attr} must be a string")
        if not isinstance(self.case_sensitive, bool):
            raise FeatureError(f"custom feature {self.name!r}: case_sensitive must be true or false")
        object.__setattr__(self, "regex", re.compile(source, 0 if self.case_sensitive else re.IGNORECASE))

    def compute(self, texts: pd.Series | Sequence[str]) -> pd.Series:
        """Boolean column: does each text match? Keywords are matched on `plain_text`."""
        series = as_texts(texts)
        if self.kind == "keywords":
            series = plain_text(series)
        found = regex_mask(series, self.regex.pattern, ignore_case=not self.case_sensitive)  # RE2: linear time
        return pd.Series(found, index=series.index, name=self.name)

    def as_feature(self) -> Feature:
        """The same feature in the registry's shape, for listing next to the built-ins."""
        shown = ", ".join(self.pattern) if isinstance(self.pattern, tuple) else self.pattern
        return Feature(
            self.name,
            self.description or f"User {self.kind}: {shown}",
            self.hypothesis or "User-defined slice of interest.",
            "bool",
            self.compute,
        )

    def to_dict(self) -> dict[str, Any]:
        pattern = list(self.pattern) if isinstance(self.pattern, tuple) else self.pattern
        return {
            "name": self.name,
            "kind": self.kind,
            "pattern": pattern,
            "description": self.description,
            "hypothesis": self.hypothesis,
            "case_sensitive": self.case_sensitive,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CustomFeature:
        """Load a feature saved by `to_dict`, validating every field."""
        if not isinstance(data, dict):
            raise FeatureError(f"custom feature: expected a JSON object, got {type(data).__name__}")
        allowed = {"name", "kind", "pattern", "description", "hypothesis", "case_sensitive"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise FeatureError(f"custom feature: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
        missing = [k for k in ("name", "kind", "pattern") if k not in data]
        if missing:
            raise FeatureError(f"custom feature {data.get('name', '?')!r}: missing field(s) {missing}")
        return cls(**data)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > MAX_NAME_CHARS:
        raise FeatureError(
            f"custom feature name {name!r} is not allowed: use letters, digits and _ "
            f"(not starting with a digit), at most {MAX_NAME_CHARS} characters"
        )
    if name in _REGISTRY:
        raise FeatureError(f"custom feature name {name!r} is taken by a built-in feature; choose another")
    if name.lower() in RESERVED_NAMES or name.lower().startswith(RESERVED_PREFIXES):
        raise FeatureError(
            f"custom feature name {name!r} is reserved for table columns or rule words "
            f"({', '.join(sorted(RESERVED_NAMES))}, {'*, '.join(RESERVED_PREFIXES)}*); choose another"
        )


def _clean_keywords(name: str, pattern: Any) -> tuple[str, ...]:
    raw = re.split(r"[,\n]", pattern) if isinstance(pattern, str) else pattern
    if not isinstance(raw, (list, tuple)) or not all(isinstance(w, str) for w in raw):
        raise FeatureError(f"custom feature {name!r}: keywords must be a list of strings, got {pattern!r}")
    # Normalised as `plain_text` normalises the texts: one space inside, straight quotes.
    words = tuple(dict.fromkeys(" ".join(w.split()).translate(_STRAIGHT_QUOTES) for w in raw if w.strip()))
    if not words:
        raise FeatureError(f"custom feature {name!r}: keywords {pattern!r} has no non-empty keyword")
    if len(words) > MAX_KEYWORDS:
        raise FeatureError(f"custom feature {name!r}: {len(words)} keywords; at most {MAX_KEYWORDS} allowed")
    too_long = [w for w in words if len(w) > MAX_PATTERN_CHARS]
    if too_long:
        raise FeatureError(
            f"custom feature {name!r}: keyword {too_long[0][:40]!r}... is longer than {MAX_PATTERN_CHARS} characters"
        )
    return words


def _check_regex(name: str, pattern: Any) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise FeatureError(f"custom feature {name!r}: regex must be a non-empty string, got {pattern!r}")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise FeatureError(
            f"custom feature {name!r}: regex is {len(pattern)} characters; at most {MAX_PATTERN_CHARS} allowed"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise FeatureError(
            f"custom feature {name!r}: regex {pattern!r} is invalid at position {err.pos}: {err.msg}"
        ) from err
    problem = re2_problem(pattern)
    if problem:
        raise FeatureError(
            f"custom feature {name!r}: regex {pattern!r} cannot run on RE2 ({problem}); "
            "patterns run on RE2 so matching takes linear time: no lookarounds or backreferences"
        )
    nested = _nested_quantifier(pattern)
    if nested:
        raise FeatureError(
            f"custom feature {name!r}: regex {pattern!r} repeats a group that itself repeats ({nested}); "
            "this can take exponential time on some texts. Remove the inner or the outer quantifier"
        )
    if compiled.search("") is not None:
        raise FeatureError(
            f"custom feature {name!r}: regex {pattern!r} matches the empty string, so it is true on every row"
        )
    return pattern


def _nested_quantifier(pattern: str) -> str | None:
    """The first variable-length repeat inside another repeat (`(a+)+`, `(.*)*`, `(x?)+`), if any.

    Uses the parser of Python's own `re` (as pandas does), so the check sees exactly what runs.
    """
    from re import _parser  # type: ignore[attr-defined]

    repeats = (_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT)

    def walk(items: Any, outer: bool) -> str | None:
        for op, arg in items:
            if op in repeats:
                lo, hi, sub = arg
                if outer and lo != hi:
                    return f"a quantifier {{{lo},{'' if hi == _parser.MAXREPEAT else hi}}} inside a repeated group"
                found = walk(sub, outer or hi > 1)
            elif op == _parser.SUBPATTERN:
                found = walk(arg[3], outer)
            elif op == _parser.BRANCH:
                found = next((f for b in arg[1] if (f := walk(b, outer))), None)
            elif op in (_parser.ATOMIC_GROUP, _parser.ASSERT, _parser.ASSERT_NOT):
                found = walk(arg if op == _parser.ATOMIC_GROUP else arg[1], outer)
            else:
                found = None
            if found:
                return found
        return None

    return walk(_parser.parse(pattern), False)


# --- computing a table ------------------------------------------------------------------------


def compute_features(
    texts: pd.Series | Sequence[str],
    names: Iterable[str] | None = None,
    custom: Sequence[CustomFeature] = (),
) -> pd.DataFrame:
    """One column per feature (built-ins `names`, all when None, then `custom`), index of `texts`."""
    series = as_texts(texts)
    if isinstance(names, str):
        raise FeatureError(f"names: got one string {names!r}; pass a list of feature names, e.g. [{names!r}]")
    chosen = list(_REGISTRY) if names is None else list(names)
    features = [get_feature(n) for n in chosen]
    seen = set(chosen)
    for item in custom:
        if not isinstance(item, CustomFeature):
            raise FeatureError(f"custom: expected CustomFeature items, got {type(item).__name__}")
        if item.name in seen:
            raise FeatureError(f"custom: feature name {item.name!r} appears twice; names must be unique")
        seen.add(item.name)
    token = _MEMO.set({})
    try:
        columns = {f.name: f.fn(series) for f in features}
        columns.update({c.name: c.compute(series) for c in custom})
    finally:
        _MEMO.reset(token)
    return pd.DataFrame(columns, index=series.index)


# === Generation features (task "generation") ========================================================
# Kept apart from the text features above: these read a generation table's columns (the question or
# instruction in `text`, `context`, the gold answers as a JSON array in `gold_answers`), so each takes
# the whole frame. `verbose` depends on a model's answer: df_eval carries it per role
# (`baseline_verbose`, `candidate_verbose`, see evalcore.stats.gentables); the registry describes it for the
# rule builder like the others.

SHORT_ANSWER_MAX_TOKENS = 15  # short_answer: the shortest gold answer has at most 15 whitespace tokens
LONG_CONTEXT_MIN_TOKENS = 150  # the starter slice long_context (SQuAD dev: upper quartile ~146 words)
VERBOSE_RATIO = 2.0  # verbose: answer >= 2x the shortest gold's tokens ...
VERBOSE_MIN_EXTRA = 3  # ... and at least 3 tokens longer
QUESTION_WORDS: tuple[str, ...] = (
    "who",
    "what",
    "when",
    "where",
    "why",
    "which",
    "how many",
    "how much",
    "how",
    "other",
)
ANSWER_TYPES: tuple[str, ...] = ("date", "number", "name", "other")
_QUESTION_WORD = r"(?i)\b(how many|how much|who|whom|whose|what|when|where|why|which|how)\b"
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DATE = (
    rf"(?i)\b(?:{'|'.join(_MONTHS)})\b|\b(?:1[0-9]{{3}}|20[0-9]{{2}})(?:s|'s)?\b(?![.,]?[0-9])"
    r"|\b[0-9]{1,2}(?:st|nd|rd|th) century\b|\b[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}\b"
)
_NUMBER_WORDS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "billion",
    "trillion",
    "dozen",
    "half",
)
_NUMBER = (
    r"(?i)^(?:about |around |approximately |over |nearly |more than |less than )?[$€£¥]?"
    rf"(?:[0-9][0-9,.]*|(?:{'|'.join(_NUMBER_WORDS)})\b)"
)
_NAME_CONNECTORS = ("of", "the", "and", "de", "du", "la", "le", "von", "van", "der", "for", "in", "on", "&")


@dataclass(frozen=True)
class GenerationFeature:
    """A column of generation data: `source` says what it reads (question, context, gold, answer);
    `fn(frame)` returns a Series of the declared `kind` aligned with the frame (None: per model,
    computed with the answers in df_eval)."""

    name: str
    description: str
    hypothesis: str
    kind: Kind
    source: str
    fn: Callable[[pd.DataFrame], pd.Series] | None = field(default=None, repr=False, compare=False)


_GENERATION_REGISTRY: dict[str, GenerationFeature] = {}


def _generation(name: str, kind: Kind, source: str, description: str, hypothesis: str):
    def wrap(fn):
        _GENERATION_REGISTRY[name] = GenerationFeature(name, description, hypothesis, kind, source, fn)
        return fn

    return wrap


@_shared
def gold_lists(frame: pd.DataFrame) -> list[list[str]]:
    """The gold answers of each row of a generation frame (`gold_answers` is a JSON array text)."""
    import json

    return [json.loads(v) for v in frame["gold_answers"]]


def _whitespace_tokens(texts: pd.Series) -> pd.Series:
    """len(text.split()) per row, counted in pyarrow's kernels (the same whitespace as word_count)."""
    return as_texts(texts).str.count(f"{_NON_SPACE}+").astype("int64")


@_generation(
    "gold_tokens",
    "int",
    "gold",
    "Whitespace tokens of the shortest gold answer.",
    "Long answers are harder to reproduce exactly: EM falls faster than F1 as the gold grows.",
)
@_shared
def _gold_tokens(frame: pd.DataFrame) -> pd.Series:
    return pd.Series([min(len(g.split()) for g in gs) for gs in gold_lists(frame)], index=frame.index, dtype="int64")


@_generation(
    "short_answer",
    "bool",
    "gold",
    f"The shortest gold answer has at most {SHORT_ANSWER_MAX_TOKENS} whitespace tokens.",
    "Short-answer questions are the factoid core; fine-tuning for them should help most there.",
)
def _short_answer(frame: pd.DataFrame) -> pd.Series:
    return _gold_tokens(frame) <= SHORT_ANSWER_MAX_TOKENS


@_generation(
    "question_word",
    "category",
    "question",
    "First question word of the question: " + ", ".join(QUESTION_WORDS[:-1]) + " (whom/whose count as who), "
    "else other.",
    "Why and how questions need explanations; who / when / how many need one entity or number.",
)
def _question_word(frame: pd.DataFrame) -> pd.Series:
    found = frame["text"].astype(str).astype(object).str.extract(_QUESTION_WORD, expand=False).str.lower()
    found = found.replace({"whom": "who", "whose": "who"}).fillna("other")
    return pd.Series(pd.Categorical(found, categories=list(QUESTION_WORDS)), index=frame.index)


@_generation(
    "answer_type",
    "category",
    "gold",
    "Type of the first gold answer: date (a month, a year 1000-2099, a decade, a century, d/m/y), number "
    "(starts with a digit, a currency sign or a number word), name (1-6 capitalised words, connectors such "
    "as 'of' allowed), else other; first match in that order.",
    "Numbers and dates are matched exactly or not at all; names vary in form (titles, initials).",
)
def _answer_type(frame: pd.DataFrame) -> pd.Series:
    gold = pd.Series([gs[0].strip() for gs in gold_lists(frame)], index=frame.index, dtype=object)
    date = gold.str.contains(_DATE, regex=True)
    number = gold.str.contains(_NUMBER, regex=True)
    words = gold.str.split()
    name = words.map(
        lambda ws: (
            1 <= len(ws) <= 6
            and ws[0][:1].isupper()
            and all(w[:1].isupper() or w.lower() in _NAME_CONNECTORS for w in ws)
        )
    )
    codes = np.select([date, number, name.astype(bool)], [0, 1, 2], default=3)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(ANSWER_TYPES)), index=frame.index)


@_generation(
    "context_tokens",
    "int",
    "context",
    "Whitespace tokens of the context passage (0 without one).",
    "Long passages hold more distractors: extractive answers drift to the wrong span.",
)
def _context_tokens(frame: pd.DataFrame) -> pd.Series:
    if "context" not in frame:
        return pd.Series(0, index=frame.index, dtype="int64")
    codes, unique = pd.factorize(frame["context"].fillna("").astype(str))  # passages repeat across questions
    counts = _whitespace_tokens(pd.Series(unique, dtype=object)).to_numpy()
    return pd.Series(counts[codes], index=frame.index, dtype="int64")


@_generation(
    "has_context",
    "bool",
    "context",
    "The prompt comes with a context passage.",
    "Closed-book prompts test memory, prompts with a passage test reading.",
)
def _has_context(frame: pd.DataFrame) -> pd.Series:
    if "context" not in frame:
        return pd.Series(False, index=frame.index)
    return as_texts(frame["context"]).str.contains(_NON_SPACE, regex=True).astype(bool)


_GENERATION_REGISTRY["verbose"] = GenerationFeature(
    "verbose",
    f"Per model (`baseline_verbose`, `candidate_verbose`): the answer has at least {VERBOSE_RATIO:g}x the "
    f"tokens of the shortest gold answer and at least {VERBOSE_MIN_EXTRA} tokens more.",
    "Verbose answers lose EM and "
    "F1 precision although they may contain the answer: relaxed match and ROUGE-L tell them apart.",
    "bool",
    "answer",
)


def verbose_answers(answer_tokens: np.ndarray, gold_tokens: np.ndarray) -> np.ndarray:
    """The `verbose` feature for one model's answers (token counts of answers and shortest golds)."""
    a, g = np.asarray(answer_tokens), np.asarray(gold_tokens)
    return (a >= VERBOSE_RATIO * g) & (a - g >= VERBOSE_MIN_EXTRA)


def list_generation_features() -> list[GenerationFeature]:
    """Every generation feature, in display order (the per-model `verbose` last)."""
    return list(_GENERATION_REGISTRY.values())


def compute_generation_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The data's generation features (all but the per-model ones), one column each, index of `frame`."""
    missing = [c for c in ("text", "gold_answers") if c not in frame.columns]
    if missing:
        raise FeatureError(f"generation features need column(s) {', '.join(missing)} of a generation table")
    token = _MEMO.set({})  # the gold lists and gold lengths are read once for every feature
    try:
        return pd.DataFrame(
            {f.name: f.fn(frame) for f in _GENERATION_REGISTRY.values() if f.fn is not None}, index=frame.index
        )
    finally:
        _MEMO.reset(token)
