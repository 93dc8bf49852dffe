"""Word lists behind the metadata features, kept apart so a reviewer can read them in one place.

Lists come from well-kept sources where one exists (VADER's negations and valence lexicon); the
others are short, hand-curated cue lists for tweets. Entries are lower-case; the feature code
matches them case-insensitively with word boundaries and treats ' and ’ alike.
"""

from __future__ import annotations

from functools import lru_cache

# Added to VADER's NEGATE list: common negators it lacks, and Twitter spellings.
EXTRA_NEGATIONS: tuple[str, ...] = ("no", "nobody", "noone", "nah", "nope", "neva", "aint")

# Discourse markers that introduce a contrast: the clause after them often carries the sentiment.
CONTRAST_MARKERS: tuple[str, ...] = (
    "but",
    "however",
    "though",
    "tho",
    "although",
    "altho",
    "even though",
    "yet",
    "nevertheless",
    "nonetheless",
    "whereas",
    "despite",
    "in spite of",
    "even so",
    "on the other hand",
    "then again",
    "except",
)

# Phrases that, on Twitter, usually mark an ironic reading of what surrounds them.
SARCASM_PHRASES: tuple[str, ...] = (
    "yeah right",
    "yeah, right",
    "yea right",
    "oh great",
    "oh, great",
    "oh joy",
    "oh, joy",
    "oh wonderful",
    "oh sure",
    "oh, sure",
    "just what i needed",
    "just what we needed",
    "thanks a lot",
    "thanks for nothing",
    "big surprise",
    "what a surprise",
    "how original",
    "said no one ever",
    "said nobody ever",
    "who would have thought",
    "who would've thought",
    "because that makes sense",
    "eye roll",
    "eyeroll",
    "rolls eyes",
)
SARCASM_HASHTAGS: tuple[str, ...] = ("sarcasm", "sarcastic", "not", "irony", "yeahright", "eyeroll")
# Words that are sarcastic when put in scare quotes: "great", 'genius'.
SCARE_QUOTE_WORDS: tuple[str, ...] = (
    "great",
    "nice",
    "smart",
    "genius",
    "brilliant",
    "fun",
    "awesome",
    "perfect",
    "wonderful",
    "lovely",
    "best",
    "amazing",
    "helpful",
    "friend",
    "friends",
    "news",
    "expert",
    "experts",
    "journalism",
    "journalist",
    "journalists",
    "fair",
    "tolerant",
    "peaceful",
    "love",
    "honest",
)
# Words that turn sarcastic when trailed off with an ellipsis: "sure...", "right…".
TRAILING_SARCASM_WORDS: tuple[str, ...] = ("sure", "right", "great", "okay", "ok", "fine", "riiight")
SARCASM_EMOJI: tuple[str, ...] = ("🙄", "😏", "🙃", "😒")

# Valence at or above which a VADER lexicon entry counts as strong (VADER's scale is -4..4).
STRONG_VALENCE = 2.5


def negations() -> tuple[str, ...]:
    """VADER's negation list plus `EXTRA_NEGATIONS` (VADER's "despite" is a contrast, not a negation)."""
    from vaderSentiment.vaderSentiment import NEGATE

    words = {w.lower() for w in NEGATE} | set(EXTRA_NEGATIONS)
    return tuple(sorted(words - {"despite"}))


@lru_cache(maxsize=4)
def strong_sentiment_terms(threshold: float = STRONG_VALENCE) -> tuple[str, ...]:
    """Entries of VADER's lexicon with |valence| >= threshold, loaded once.

    Pure numbers ("143", "187" are slang codes in VADER) are dropped: in tweets they are mostly
    scores, dates and counts. Emoticons (":@", "</3") are kept.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = SentimentIntensityAnalyzer().lexicon
    return tuple(sorted(t for t, v in lexicon.items() if abs(v) >= threshold and not t.isdigit()))
