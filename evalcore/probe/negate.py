"""Add or remove one negation where the grammar is known, or say why not.

The perturbation tests' negation edits used to be regular-expression substitutions, and on real
tweets they wrote "lots of don't love…", "have not nothing to do" and "are not you celebrating":
the failure rates they produced measured the generator, not the model. These rules edit a text
only where a small grammar of English verb groups tells where "not" goes:

- a **copula or auxiliary** ("is", "are", "was", "were", "am", "I'm", "it's", "they're"...) followed by
  a word: "is great" -> "is not great";
- a **modal** ("can", "could", "will", "would", "should", "must", "might") followed by a verb or an
  adverb, never in an inverted question ("Can I…", "could the US…"): "will be" -> "will not be",
  "can" -> "cannot";
- **perfect "have"** followed by a past participle ("has lost" -> "has not lost"), and **main-verb
  "have"** with do-support ("I had a…" -> "I didn't have a…");
- a short list of **main verbs after a subject pronoun**, with do-support and agreement checked
  ("I love" -> "I don't love", "she loves" -> "she doesn't love", "we loved" -> "we didn't love").

A negation is removed only when it is the text's only negation (anything VADER's negation list or
`lexicons.EXTRA_NEGATIONS` knows), sits right after an auxiliary, copula or modal ("isn't",
"won't", "cannot", "is not", "I'm not"...), and no negative-polarity item ("even", "any", "ever",
"yet", "in months"...) depends on it: "hasn't even decided" -> "has even decided" is not English.

Questions (a sentence ending in "?") and texts that already hold a negation are left alone. Every
refusal carries its reason, so a test can count what was skipped as "not applicable".

**Does the edit change the meaning?** A directional test (the prediction should move) is only fair
when the edited clause carries the text's sentiment and nothing else does: removing "won't" from
"I won't lie, this is awful" leaves an awful text. `NegationEdit.directional` is True when the
words the negation governs hold a sentiment word (a VADER lexicon entry with |valence| >= 1, or a
sentiment emoji) and the rest of the text holds none; otherwise the edit is still made (it is
grammatical) but a directional expectation does not apply to it. The lexicon is VADER's, one of the
models these tests may compare: it decides only where the test applies, never a model's outcome.

    >>> add_negation_edit("This movie is great").text
    'This movie is not great'
    >>> add_negation_edit("lots of love for you")
    'no auxiliary, copula, modal or known verb after a subject'
    >>> edit = remove_negation_edit("It won't help, the whole plan is awful")
    >>> edit.text, edit.directional, edit.why
    ('It will help, the whole plan is awful', False, 'other sentiment in the text outside the edited clause')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# --- words ------------------------------------------------------------------------------------------
_COPULA = {"is", "are", "was", "were"}
_MODALS = {
    "can": "cannot",
    "could": "could not",
    "will": "will not",
    "would": "would not",
    "should": "should not",
    "must": "must not",
    "might": "might not",
}
_HAVE = {"have", "has", "had"}
_HAVE_DO = {"have": ("don't", "have"), "has": ("doesn't", "have"), "had": ("didn't", "have")}
# "'s" is "is" only after these; after a noun it may be a possessive ("Trump's base").
_PRONOUN_BE = {
    "i'm": "am",
    "it's": "is",
    "that's": "is",
    "he's": "is",
    "she's": "is",
    "there's": "is",
    "you're": "are",
    "we're": "are",
    "they're": "are",
    "im": "am",
    "thats": "is",
    "youre": "are",
    "theyre": "are",
}  # tweets drop the apostrophe
_PRONOUN_HAVE = {"i've", "you've", "we've", "they've"}
_SUBJECTS_PLURAL = {"i", "you", "we", "they", "u"}
_SUBJECTS_SINGULAR = {"he", "she", "it"}
_DEMONSTRATIVES = {"this", "that", "these", "those"}  # determiners that are also subjects ("this is…")
_DETERMINERS = {
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "my",
    "your",
    "his",
    "her",
    "its",
    "our",
    "their",
    "some",
    "any",
    "every",
    "each",
    "no",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "from",
    "and",
    "or",
    "but",
    "as",
    "than",
}
# Words after which a verb group is inverted (a question or a conditional), never a statement.
_INVERTING = {
    "i",
    "you",
    "he",
    "she",
    "it",
    "we",
    "they",
    "there",
    "this",
    "that",
    "these",
    "those",
    "the",
    "a",
    "an",
    "my",
    "your",
    "his",
    "her",
    "our",
    "their",
    "u",
    "ya",
    "y'all",
}
_WH = {"what", "who", "whom", "whose", "where", "when", "why", "how", "which"}
# Adverbs that go before "not" ("is also not", "I'm still not"); others make the edit unclear.
_ADVERB_BEFORE_NOT = {
    "also",
    "still",
    "probably",
    "definitely",
    "certainly",
    "clearly",
    "obviously",
    "actually",
    "surely",
    "apparently",
}
_ADVERB_UNCLEAR = {
    "always",
    "ever",
    "just",
    "only",
    "even",
    "often",
    "usually",
    "sometimes",
    "never",
    "already",
    "all",
    "both",
    "either",
    "neither",
    "too",
    "once",
    "literally",
    "simply",
    "merely",
    "now",
    "then",
}
# "-ly" adverbs after which "not" still reads well ("is not really good"); other ones ("would absolutely
# take", "is slowly turning") leave no clear place for it.
_LY_OK = {
    "really",
    "likely",
    "totally",
    "completely",
    "fully",
    "entirely",
    "exactly",
    "necessarily",
    "particularly",
    "nearly",
    "fairly",
}
_IRREGULAR_PARTICIPLES = {
    "been",
    "done",
    "gone",
    "seen",
    "had",
    "made",
    "said",
    "got",
    "gotten",
    "taken",
    "given",
    "known",
    "shown",
    "come",
    "become",
    "begun",
    "broken",
    "chosen",
    "driven",
    "eaten",
    "fallen",
    "felt",
    "found",
    "forgotten",
    "heard",
    "held",
    "kept",
    "left",
    "lost",
    "meant",
    "met",
    "paid",
    "put",
    "read",
    "run",
    "sent",
    "set",
    "spent",
    "spoken",
    "stood",
    "told",
    "thought",
    "understood",
    "won",
    "written",
    "brought",
    "bought",
    "caught",
    "taught",
    "fought",
    "sold",
    "built",
    "led",
    "let",
    "hit",
    "hurt",
    "cut",
    "quit",
    "grown",
    "thrown",
    "worn",
    "woken",
    "beaten",
    "bitten",
    "blown",
    "drawn",
    "drunk",
    "flown",
    "forgiven",
    "frozen",
    "hidden",
    "ridden",
    "risen",
    "shaken",
    "slept",
    "stolen",
    "sung",
    "swum",
    "torn",
    "sworn",
    "struck",
    "stuck",
    "won",
    "wound",
    "seen",
}
# Main verbs negated with do-support after a subject pronoun: base -> (3rd person -s, past).
_VERBS: dict[str, tuple[str, str]] = {
    "love": ("loves", "loved"),
    "like": ("likes", "liked"),
    "hate": ("hates", "hated"),
    "enjoy": ("enjoys", "enjoyed"),
    "want": ("wants", "wanted"),
    "need": ("needs", "needed"),
    "recommend": ("recommends", "recommended"),
    "trust": ("trusts", "trusted"),
    "care": ("cares", "cared"),
    "miss": ("misses", "missed"),
    "believe": ("believes", "believed"),
    "agree": ("agrees", "agreed"),
    "support": ("supports", "supported"),
    "feel": ("feels", "felt"),
    "think": ("thinks", "thought"),
    "know": ("knows", "knew"),
    "understand": ("understands", "understood"),
    "mind": ("minds", "minded"),
    "appreciate": ("appreciates", "appreciated"),
    "expect": ("expects", "expected"),
    "deserve": ("deserves", "deserved"),
    "remember": ("remembers", "remembered"),
    "see": ("sees", "saw"),
    "mean": ("means", "meant"),
    "adore": ("adores", "adored"),
    "respect": ("respects", "respected"),
    "blame": ("blames", "blamed"),
    "regret": ("regrets", "regretted"),
    "get": ("gets", "got"),
    "buy": ("buys", "bought"),
    "watch": ("watches", "watched"),
    "play": ("plays", "played"),
    "work": ("works", "worked"),
    "look": ("looks", "looked"),
    "sound": ("sounds", "sounded"),
}
_VERB_FORM: dict[str, tuple[str, str]] = {}  # surface form -> (tense: base / third / past, base)
for _base, (_third, _past) in _VERBS.items():
    _VERB_FORM[_base] = ("base", _base)
    _VERB_FORM[_third] = ("third", _base)
    _VERB_FORM.setdefault(_past, ("past", _base))
# Auxiliary "do" is negated only before a verb of this list ("I do like" -> "I do not like").
_DO = {"do", "does", "did"}
# Fixed phrases that say something else without their negation ("can't wait" is eagerness).
_IDIOMS_KEEP = (
    "can't wait",
    "cant wait",
    "cannot wait",
    "can't even",
    "cant even",
    "can't help",
    "cant help",
    "can't believe",
    "cant believe",
    "won't lie",
    "wont lie",
    "not gonna lie",
    "can't stand",
    "cant stand",
)

_IDIOMS_ADD = (
    "as we know it",
    "as you know",
    "as i said",
    "like i said",
    "as i say",
    "if you will",
    "thank you",
    "i mean",
    "you know",
    "i guess",
    "i think so",
    "i'm sure",
    "that's it",
    "here we go",
    "there you go",
)
_TOKEN_RE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|[A-Za-z]+(?:['\u2019][A-Za-z]+)*|\d+(?:[.,:]\d+)*|\S")
_CLAUSE_WORDS = {
    "but",
    "and",
    "because",
    "so",
    "although",
    "though",
    "tho",
    "while",
    "whereas",
    "yet",
    "or",
    "cause",
    "'cause",
    "bc",
    "if",
    "when",
    "unless",
}


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower().replace("\u2019", "'")

    @property
    def word(self) -> bool:
        return self.text[:1].isalpha()

    @property
    def tag(self) -> bool:  # a hashtag, mention or URL: carried along, never a verb
        return self.text[:1] in "@#" or self.low.startswith(("http", "www."))


@dataclass(frozen=True)
class NegationEdit:
    """One edit: the new text, the changed span in the original (`start`, `end`) and in the new text
    (`new_start`, `new_end`), and whether a directional expectation applies (`why` says why not)."""

    text: str
    start: int
    end: int
    new_start: int
    new_end: int
    directional: bool
    why: str = ""


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def sentences(toks: list[Token]) -> list[list[Token]]:
    """Tokens grouped by sentence (split after ., ! or ? runs, and at line breaks... approximated by
    sentence-final punctuation)."""
    out, cur = [], []
    for i, t in enumerate(toks):
        cur.append(t)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.text in ".!?…" and (nxt is None or nxt.text not in ".!?…"):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def is_question(sentence: list[Token]) -> bool:
    """A sentence whose final punctuation holds a "?" ("why?", "really?!"), trailing hashtags, mentions,
    links and emoji aside."""
    ending = False
    for t in reversed(sentence):
        if t.text in ".!?…":
            ending = True
            if t.text == "?":
                return True
            continue
        if t.tag or not (t.word or t.text.isdigit()):
            if ending:
                return False
            continue
        return False
    return False


@lru_cache(maxsize=1)
def _negation_words() -> frozenset[str]:
    from evalcore.analyze.lexicons import negations

    return frozenset(w.replace("\u2019", "'") for w in negations())


def negation_tokens(toks: list[Token]) -> list[int]:
    """Indices of every negation in the text: the lexicon's words and any "n't" form."""
    words = _negation_words()
    return [i for i, t in enumerate(toks) if t.word and (t.low in words or t.low.endswith("n't"))]


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


@lru_cache(maxsize=1)
def _emoji_valence() -> dict[str, float]:
    """Sentiment emoji: VADER's emoji descriptions scored with its lexicon."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lex = _lexicon()
    out = {}
    for char, words in SentimentIntensityAnalyzer().emojis.items():
        score = max((lex.get(w, 0.0) for w in words.split()), key=abs, default=0.0)
        if abs(score) >= 1.0:
            out[char.replace("\ufe0f", "")] = score
    return out


def has_sentiment(text: str) -> bool:
    """A VADER lexicon word with |valence| >= 1 (hashtags read as their word) or a sentiment emoji."""
    lex = _lexicon()
    for t in tokens(text):
        low = t.low.lstrip("#")
        if t.text[:1] == "@" or low.startswith(("http", "www.")):
            continue
        if abs(lex.get(low, 0.0)) >= 1.0:
            return True
    plain = text.replace("\ufe0f", "")
    return any(e in plain for e in _emoji_valence())


def _case_like(word: str, like: str) -> str:
    """`word` written in the case of `like` (UPPER, Title or lower)."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _apostrophe(text: str) -> str:
    return "\u2019" if "\u2019" in text and "'" not in text else "'"


def _scope_end(toks: list[Token], i: int) -> int:
    """Index after the last token of the clause that starts at token `i` (the words a negation governs):
    it ends at punctuation, an emoji, a conjunction or a block of hashtags and mentions ("… #tpp #cnn")."""
    j = i
    while j < len(toks):
        t = toks[j]
        if not (t.word or t.tag or t.text[:1].isdigit() or t.text in "&$%") or (j > i and t.low in _CLAUSE_WORDS):
            break
        if j > i and t.tag and j + 1 < len(toks) and toks[j + 1].tag:
            break
        j += 1
    return j


def _directional(text: str, toks: list[Token], first: int) -> tuple[bool, str]:
    """Whether the words the negation governs (from token `first` to the end of its clause) carry the
    text's sentiment alone."""
    last = _scope_end(toks, first)
    if last <= first:
        return False, "the negation governs no words"
    start, end = toks[first].start, toks[last - 1].end
    if not has_sentiment(text[start:end]):
        return False, "no sentiment word in the clause the negation governs"
    if has_sentiment(text[:start] + " " + text[end:]):
        return False, "other sentiment in the text outside the edited clause"
    return True, ""


def _opens(sentence: list[Token], tok: Token) -> bool:
    """Whether `tok` opens its sentence (a leading "RT", mentions, links and symbols aside; a hashtag
    counts as a word: "#Hatchimals are…")."""
    for t in sentence:
        if t is tok:
            return True
        if (t.tag and t.text[:1] != "#") or t.low == "rt" or not (t.word or t.text[:1] == "#"):
            continue
        return False
    return False


def _participle(low: str) -> bool:
    return low in _IRREGULAR_PARTICIPLES or (low.endswith("ed") and len(low) > 3)


def _not_word(tok: Token, nxt: Token | None) -> str:
    """ "not" in the case of the verb group: NOT after a shouted word, Not in a Title-Case headline."""
    if tok.text.isupper() and len(tok.text) > 1:
        return "NOT"
    if tok.text.istitle() and nxt is not None and nxt.text[:1].isupper() and len(tok.text) > 1:
        return "Not"
    return "not"


def _edit(text: str, sent: list[Token], k: int, new: str, start: int, end: int, scope: int) -> NegationEdit | None:
    """Replace text[start:end] by `new`; the negation governs the clause from token `scope` on. None when
    that clause ends in "too" (= also), which a negation turns into "either"."""
    clause = sent[scope : _scope_end(sent, scope)]
    if clause and clause[-1].low == "too":
        return None
    out = text[:start] + new + text[end:]
    ok, why = _directional(text, sent, scope)
    return NegationEdit(out, start, end, start, start + len(new), ok, why)


def add_negation_edit(text: str) -> NegationEdit | str:
    """Negate the first statement verb group whose grammar the rules know; else the reason why not."""
    toks = tokens(text)
    if negation_tokens(toks):
        return "already holds a negation"
    lowered = text.lower().replace("\u2019", "'")
    if any(idiom in lowered for idiom in _IDIOMS_ADD):
        return 'an idiom ("as we know it", "like I said"): negated, it says nothing'
    groups = sentences(toks)
    statements = [s for s in groups if not is_question(s)]
    for sentence in statements:
        for k in range(len(sentence)):
            edit = _negate_at(text, sentence, k)
            if edit is not None:
                return edit
    if groups and not statements:
        return "a question"
    return "no auxiliary, copula, modal or known verb after a subject"


_SUBJECTS = _SUBJECTS_PLURAL | _SUBJECTS_SINGULAR
_NOT_PLACE = {"a", "an", "the", "my", "your", "his", "her", "our", "their", "this", "that", "these", "those"}


def _negate_at(text: str, sent: list[Token], k: int) -> NegationEdit | None:
    """The negation of the verb group at token k of a statement, when the rules know its grammar."""
    tok = sent[k]
    if not tok.word:
        return None
    low = tok.low
    prev = next((t for t in reversed(sent[:k]) if not t.tag), None)
    nxt = sent[k + 1] if k + 1 < len(sent) else None
    if nxt is None or not (nxt.word or nxt.text[:1] == "#" or nxt.text[:1].isdigit()):
        return None  # nothing after the verb group ("…than it is!"): no clear place for "not"
    nlow = nxt.low
    if nlow in _ADVERB_UNCLEAR or nlow in _WH or (nlow.endswith("ly") and nlow not in _LY_OK):
        return None
    with_subject = low in _PRONOUN_BE or low in _PRONOUN_HAVE  # "I'm", "it's", "I've" hold their subject
    if (_opens(sent, tok) and not with_subject) or (prev is not None and prev.low in _WH and _opens(sent, prev)):
        return None  # "Is it…", "Can I…", "What is…": a question or a command
    before_not = nlow in _ADVERB_BEFORE_NOT  # "is also not", "has still not"
    anchor = nxt if before_not else tok
    scope = sent.index(anchor) + 1
    word = _not_word(tok, nxt)
    if low in _PRONOUN_BE or low in _COPULA or (low == "am" and prev is not None and prev.low == "i"):
        subject = sent[k - 1] if k > 0 else None  # a hashtag or mention may be the subject ("#Hatchimals are")
        if low not in _PRONOUN_BE and (
            subject is None
            or subject.low in _DETERMINERS - _DEMONSTRATIVES
            or not (subject.word or subject.tag or subject.text[:1].isdigit())
        ):
            return None  # "the is…", "… is": no subject
        if nlow in _INVERTING - _NOT_PLACE or " ".join(t.low for t in sent[k + 1 : k + 3]) in (
            "so many",
            "so much",
            "by far",
        ):
            return None  # "are you…" (a question); "the thing is so many people…", "is by far": no place for "not"
        return _edit(text, sent, k, f" {word}", anchor.end, anchor.end, scope)
    if low in _MODALS:
        if prev is None or prev.low in _DETERMINERS or nlow in _INVERTING or not nxt.word:
            return None  # "a can of", "could the US…" (inverted), "will #…"
        if low == "can" and not before_not:  # "can" -> "cannot"
            return _edit(text, sent, k, _case_like("cannot", tok.text), tok.start, tok.end, k + 1)
        return _edit(text, sent, k, f" {word}", anchor.end, anchor.end, scope)
    if low in _HAVE or low in _PRONOUN_HAVE:
        if prev is None or prev.low in _DETERMINERS | {"to"} or prev.low in _MODALS:
            return None  # "to have", "will have" (the modal is negated instead)
        target = sent[k + 2] if before_not and k + 2 < len(sent) else nxt
        if _participle(target.low) and not (target.low == "got" and "to" in (t.low for t in sent[k + 2 : k + 4])):
            if low in _PRONOUN_HAVE:  # "I've been" -> "I have not been"
                shout = tok.text.isupper()
                new = f"{tok.text[:-3]} {'HAVE' if shout else 'have'} {word}"
                return _edit(text, sent, k, new, tok.start, tok.end, k + 1)
            return _edit(text, sent, k, f" {word}", anchor.end, anchor.end, scope)
        if low in _HAVE_DO and prev.low in _SUBJECTS and (nlow in _HAVE_OBJECTS or nxt.text[:1] == "#"):
            aux, base = _HAVE_DO[low]
            return _do_support(text, sent, k, aux, base)
        return None
    if low in _DO:
        if prev is None or prev.low not in _SUBJECTS or _VERB_FORM.get(nlow, ("", ""))[0] != "base":
            return None  # "does away with", "do your job": the main verb "do"
        return _edit(text, sent, k, f" {word}", tok.end, tok.end, k + 1)
    if low in _VERB_FORM and prev is not None:
        tense, base = _VERB_FORM[low]
        adverb = prev if prev.low == "really" else None  # "I really love" -> "I don't really love"
        subject = prev
        if adverb is not None:
            i = sent.index(prev)
            subject = next((t for t in reversed(sent[:i]) if not t.tag), None)
        if subject is None or subject.low not in _SUBJECTS:
            return None  # "lots of love", "looks like": not a verb after its subject
        i = sent.index(subject)
        before = next((t for t in reversed(sent[:i]) if not t.tag), None)
        if before is not None and (before.low in _MODALS or before.low in _COPULA or before.low in _DO):
            return None  # "do you love…": inverted
        if (tense == "base" and subject.low not in _SUBJECTS_PLURAL) or (
            tense == "third" and subject.low not in _SUBJECTS_SINGULAR
        ):
            return None  # agreement the rules cannot vouch for
        aux = {"base": "don't", "third": "doesn't", "past": "didn't"}[tense]
        return _do_support(text, sent, k, aux, base, adverb)
    return None


# Objects after which "have" is the main verb ("I had a…", "she has the arms"), negated with do-support.
_HAVE_OBJECTS = {
    "a",
    "an",
    "the",
    "to",
    "some",
    "many",
    "much",
    "more",
    "enough",
    "it",
    "them",
    "this",
    "that",
    "my",
    "your",
    "his",
    "her",
    "our",
    "their",
    "fun",
    "time",
    "money",
}


def _do_support(text: str, sent: list[Token], k: int, aux: str, base: str, adverb: Token | None = None) -> NegationEdit:
    """ "I had a…" -> "I didn't have a…"; "she loves" -> "she doesn't love"; `adverb` sits between
    ("I really love" -> "I don't really love")."""
    tok = sent[k]
    aux = aux.replace("'", _apostrophe(text))
    lead = adverb or tok
    if tok.text.isupper() and len(tok.text) > 1:
        aux, base = aux.upper(), base.upper()
    elif tok.text[:1].isupper():  # "Need To Know" -> "Don't Need To Know"
        aux, base = _case_like(aux, lead.text), _case_like(base, tok.text)
    new = f"{aux} {adverb.text} {base}" if adverb is not None else f"{aux} {base}"
    return _edit(text, sent, k, new, lead.start, tok.end, k)  # the verb itself is governed ("love")


# The positive of a "n't" form, by what precedes "n't" ("ca" of "can't", "wo" of "won't").
_NT_POSITIVE = {
    "is": "is",
    "are": "are",
    "was": "was",
    "were": "were",
    "do": "do",
    "does": "does",
    "did": "did",
    "ca": "can",
    "can": "can",
    "could": "could",
    "wo": "will",
    "would": "would",
    "should": "should",
    "must": "must",
    "has": "has",
    "have": "have",
    "had": "had",
    "might": "might",
}
_NPI_CLAUSE = {"any", "anything", "anyone", "anybody", "anywhere", "anymore", "ever", "yet", "either", "much"}
_COMMAND_OPENERS = {"just", "please", "pls", "plz", "so", "and", "but", "now", "seriously", "oh", "ok", "okay"}
_NPI_NEXT = {"even", "only", "just", "that", "necessarily", "exactly", "quite", "until", "till", "to"}


def remove_negation_edit(text: str) -> NegationEdit | str:
    """Remove the text's only negation when it follows an auxiliary, copula or modal; else why not."""
    toks = tokens(text)
    negs = negation_tokens(toks)
    if not negs:
        return "no negation"
    if len(negs) > 1:
        return "more than one negation: removing one leaves the text negative"
    tok = toks[negs[0]]
    sent = next(s for s in sentences(toks) if tok in s)
    if is_question(sent):
        return "a question"
    lowered = text.lower().replace("\u2019", "'")
    if any(idiom in lowered for idiom in _IDIOMS_KEEP):
        return 'an idiom ("can\'t wait", "won\'t lie"): without its negation it says something else'
    k = sent.index(tok)
    nxt = sent[k + 1] if k + 1 < len(sent) else None
    if nxt is None or not nxt.word:
        return "nothing after the negation"
    low = tok.low
    if low != "cannot" and low != "not" and not (low.endswith("n't") or low.endswith("nt")):
        return "a negation the rules do not know how to remove (no, never, nothing, without…)"
    clause = [t.low for t in sent[k + 1 : _scope_end(sent, k + 1)]]
    if (
        nxt.low in _NPI_NEXT
        or any(w in _NPI_CLAUSE for w in clause)
        or re.search(r"\bin (months|years|weeks|days|ages|forever|a while|a long time)\b", " ".join(clause))
    ):
        return "a word that needs the negation depends on it (even, any, ever, yet, much…)"
    if low == "cannot":
        return _kept(_edit(text, sent, k, _case_like("can", tok.text), tok.start, tok.end, k + 1))
    if low != "not" and (low.endswith("n't") or low.endswith("nt")):
        stem = low[:-3] if low.endswith("n't") else low[:-2]
        if stem in ("ai", "ain"):
            return '"ain\'t": its positive form depends on the subject'
        if stem not in _NT_POSITIVE:
            return "a negation the rules do not know how to remove"
        positive = _NT_POSITIVE[stem]
        prev = next((t for t in reversed(sent[:k]) if not t.tag), None)
        command = _opens(sent, tok) or (prev is not None and prev.low in _COMMAND_OPENERS and _opens(sent, prev))
        if command:
            if positive == "do":  # "Don't forget to…" -> "Forget to…" ("Didn't take long" has lost its subject)
                new = _case_like(nxt.text, tok.text) if not nxt.text.isupper() else nxt.text
                return _kept(_edit(text, sent, k, new, tok.start, nxt.end, k + 1))
            return "opens its sentence: a question or a command"
        return _kept(_edit(text, sent, k, _case_like(positive, tok.text), tok.start, tok.end, k + 1))
    if low == "not":
        prev = next((t for t in reversed(sent[:k]) if not t.tag), None)
        aux = prev is not None and (
            prev.low in _COPULA | set(_MODALS) | _HAVE | _DO | {"am"}
            or prev.low in _PRONOUN_BE
            or prev.low in _PRONOUN_HAVE
        )
        if not aux or (_opens(sent, prev) and prev.low not in _PRONOUN_BE and prev.low not in _PRONOUN_HAVE):
            return '"not" does not follow an auxiliary, copula or modal'
        return _kept(_edit(text, sent, k, "", prev.end, tok.end, k + 1))  # "is not good" -> "is good"
    return "a negation the rules do not know how to remove"


def _kept(edit: NegationEdit | None) -> NegationEdit | str:
    return edit if edit is not None else '"too" (also) ends the clause: without the negation it reads "either"'


__all__ = [
    "NegationEdit",
    "add_negation_edit",
    "has_sentiment",
    "is_question",
    "remove_negation_edit",
    "sentences",
    "tokens",
]
