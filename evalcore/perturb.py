"""Perturbation tests in CheckList's vocabulary: generators, expectations, failure rates.

A perturbation is a pure function `text -> list[str] | None` (None: it does not apply to this
text). Random ones take a `seed` and draw from `random.Random(seed)`, so a run is reproducible.
Each `Generator` pairs a perturbation with the `Expectation` it tests:

- INV (invariance): the prediction must not change (typos, casing, "!!!", a neutral emoji...).
- DIR (direction): flipping negation on a *clearly* polar tweet (the model said positive or
  negative with confidence >= `clear_conf`) must not leave the same polarity with confidence
  >= `high_conf`. On any other tweet the check is not applicable, because a neutral or hesitant
  original says nothing about where the negated text should land.

>>> add_negation("This movie is great")
['This movie is not great']
>>> remove_negation("I don't like it, it isn't good")
['I do like it, it is good']
>>> add_mention("nice day")
['@user nice day']
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import emoji
import numpy as np
import pandas as pd

from evalcore.errors import ConfigError

if TYPE_CHECKING:
    from evalcore.models import Predictor
    from evalcore.cache import PredictionCache

Perturbation = Callable[..., "list[str] | None"]

# --- negation rules -------------------------------------------------------------------------------
_APOS = "['\u2019]"  # straight or curly apostrophe, both common in tweets
_AUX = r"is|are|was|were|am|can|could|will|would|should|must|has|have|had|do|does|did"
_PRONOUN_BE = r"i['\u2019]m|it['\u2019]s|that['\u2019]s|he['\u2019]s|she['\u2019]s|there['\u2019]s|you['\u2019]re|we['\u2019]re|they['\u2019]re"
# Main verbs negated with do-support when no auxiliary is found: base form, 3rd person, past.
_VERBS = ("love", "like", "hate", "enjoy", "want", "need", "recommend", "trust", "care", "miss",
          "believe", "agree", "support", "feel")
_VERB_FORMS: dict[str, tuple[str, str]] = {}  # surface form -> (auxiliary, base verb)
for _v in _VERBS:
    _VERB_FORMS[_v] = ("don't", _v)
    _VERB_FORMS[_v + "s"] = ("doesn't", _v)
    _VERB_FORMS[(_v + "d") if _v.endswith("e") else (_v + "ed")] = ("didn't", _v)
_VERB_FORMS["felt"] = ("didn't", "feel")
del _VERB_FORMS["feeled"]

_ADD_AUX_RE = re.compile(rf"\b({_PRONOUN_BE}|{_AUX})\b(?!\s+not\b)", re.IGNORECASE)
_ADD_VERB_RE = re.compile(r"\b(" + "|".join(sorted(_VERB_FORMS, key=len, reverse=True)) + r")\b",
                          re.IGNORECASE)
# "n't" forms (with or without the apostrophe) -> the positive auxiliary.
_NT = {"isn": "is", "aren": "are", "wasn": "was", "weren": "were", "don": "do", "doesn": "does",
       "didn": "did", "can": "can", "couldn": "could", "won": "will", "wouldn": "would",
       "shouldn": "should", "mustn": "must", "hasn": "has", "haven": "have", "hadn": "had",
       "ain": "is"}
_NT_RE = re.compile(rf"\b({'|'.join(_NT)}){_APOS}t\b|\b(isnt|arent|wasnt|werent|dont|doesnt|didnt|"
                    r"cant|couldnt|wouldnt|shouldnt|havent|hasnt)\b", re.IGNORECASE)
_CANNOT_RE = re.compile(r"\bcannot\b", re.IGNORECASE)
_NOT_RE = re.compile(r"\bnot\s+", re.IGNORECASE)
_NEGATION_RE = re.compile(rf"{_NT_RE.pattern}|\bcannot\b|\bnot\b", re.IGNORECASE)


def _same_case(word: str, like: str) -> str:
    """`word` capitalised the way `like` is (UPPER, Title or lower), so edits keep the tweet's look."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def has_negation(text: str) -> bool:
    """True when the text holds a negation the rules below know how to remove."""
    return _NEGATION_RE.search(text) is not None


def add_negation(text: str) -> list[str] | None:
    """Negate the first auxiliary ("is" -> "is not") or, when the text has none, the first known
    verb ("love" -> "don't love", "loves" -> "doesn't love", "loved" -> "didn't love").
    Auxiliaries that open a sentence (questions, "Do it") are skipped.

    Not applicable to texts that already hold a negation: a double negation is no clean test.
    """
    if has_negation(text):
        return None
    auxes = list(_ADD_AUX_RE.finditer(text))
    for aux in auxes:
        bare = not re.search(_APOS, aux.group(0))  # "I'm" opens statements, "Do" questions
        if bare and re.search(r"(^|[.!?]\s)\s*$", text[:aux.start()]):
            continue  # sentence-initial: a question or an imperative ("Do you...?"), not a statement
        shout = aux.group(0).isupper() and len(aux.group(0)) > 1
        return [f"{text[:aux.end()]} {'NOT' if shout else 'not'}{text[aux.end():]}"]
    verb = None if auxes else _ADD_VERB_RE.search(text)
    if verb:
        word = verb.group(0)
        aux_word, base = _VERB_FORMS[word.lower()]
        upper = word.isupper() and len(word) > 1
        neg = f"{_same_case(aux_word, word)} {base.upper() if upper else base}"
        return [text[:verb.start()] + neg + text[verb.end():]]
    return None


def remove_negation(text: str) -> list[str] | None:
    """Drop every negation: "isn't" -> "is", "don't" -> "do", "cannot" -> "can", "not " -> "".

    "do"/"does"/"did" stay as emphatic auxiliaries ("I don't like" -> "I do like"), which keeps the
    sentence grammatical without conjugating verbs.
    """
    def positive_aux(match: re.Match[str]) -> str:
        word = match.group(0)
        stem = (match.group(1) or word[:-1]).lower()  # "don't" and "dont" -> "don"
        return _same_case(_NT.get(stem, stem), word)

    out = _NT_RE.sub(positive_aux, text)
    out = _CANNOT_RE.sub(lambda m: _same_case("can", m.group(0)), out)
    out = _NOT_RE.sub("", out)
    return None if out == text else [out]


# --- surface perturbations ------------------------------------------------------------------------
_PROTECTED_RE = re.compile(r"[@#]\w+|https?://\S+")  # mentions, hashtags, URLs keep their spelling
NEUTRAL_EMOJI = ("📷", "🌍", "📅", "🚗", "🔑", "✏️")  # VADER and people read these as neutral
NEUTRAL_HASHTAGS = ("#news", "#tbt", "#monday", "#update", "#thread")


def add_typos(text: str, n_typos: int = 1, seed: int | str = 0) -> list[str] | None:
    """Swap `n_typos` pairs of adjacent, different letters (never inside a mention, hashtag or URL)."""
    protected = {i for m in _PROTECTED_RE.finditer(text) for i in range(m.start(), m.end())}
    spots = [i for i in range(len(text) - 1)
             if text[i].isalpha() and text[i + 1].isalpha() and text[i] != text[i + 1]
             and i not in protected and i + 1 not in protected]
    if not spots:
        return None
    random.Random(seed).shuffle(spots)
    chosen: list[int] = []
    for i in spots:  # non-overlapping pairs, so n_typos swaps make n_typos visible typos
        if len(chosen) < n_typos and all(abs(i - j) > 1 for j in chosen):
            chosen.append(i)
    chars = list(text)
    for i in chosen:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return ["".join(chars)]


def change_casing(text: str, mode: str = "upper") -> list[str] | None:
    """The whole text in `mode` case ("upper" or "lower"); not applicable when nothing changes."""
    if mode not in ("upper", "lower"):
        raise ConfigError(f"change_casing: mode={mode!r} is not allowed; use 'upper' or 'lower'")
    out = text.upper() if mode == "upper" else text.lower()
    return None if out == text else [out]


def upper_case(text: str) -> list[str] | None:
    """ALL CAPS, the way a shouting tweet looks."""
    return change_casing(text, "upper")


def lower_case(text: str) -> list[str] | None:
    """all lower case, the way a hurried tweet looks."""
    return change_casing(text, "lower")


def strip_punctuation(text: str) -> list[str] | None:
    """Drop the final run of punctuation ("great!!" -> "great")."""
    out = re.sub(r"[.!?,;:\u2026]+\s*$", "", text.rstrip())
    return None if out == text.rstrip() or not out.strip() else [out]


def add_exclamation(text: str) -> list[str] | None:
    """End with "!!!" instead of "." or "!": emphasis, not a change of opinion."""
    base = text.rstrip()
    if base.endswith("!!!"):
        return None
    return [re.sub(r"[.!]+$", "", base) + "!!!"]


def add_emoji(text: str, seed: int | str = 0) -> list[str] | None:
    """Append one neutral emoji drawn from `NEUTRAL_EMOJI`."""
    return [f"{text.rstrip()} {random.Random(seed).choice(NEUTRAL_EMOJI)}"]


def remove_emoji(text: str) -> list[str] | None:
    """Remove every emoji (via the `emoji` package); a failure means the words alone did not carry
    the prediction. Not applicable without emoji or when nothing but emoji is left."""
    if emoji.emoji_count(text) == 0:
        return None
    out = re.sub(r"\s{2,}", " ", emoji.replace_emoji(text, "")).strip()
    return [out] if out else None


def add_hashtag(text: str, seed: int | str = 0) -> list[str] | None:
    """Append one neutral hashtag drawn from `NEUTRAL_HASHTAGS`."""
    return [f"{text.rstrip()} {random.Random(seed).choice(NEUTRAL_HASHTAGS)}"]


def add_mention(text: str, mention: str = "@user") -> list[str] | None:
    """Prefix a mention, as a reply does (TweetEval writes every handle as "@user")."""
    return [f"{mention} {text.lstrip()}"]


# --- expectations ---------------------------------------------------------------------------------
class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"


@dataclass(frozen=True)
class Expectation:
    """What must hold between the prediction on the original and on the perturbed text.

    kind "INV": same predicted label. kind "DIR": when the original is clearly polar (predicted
    one of `polar_labels` with confidence >= `clear_conf`), the perturbed text must not get that
    same label with confidence >= `high_conf`; otherwise not applicable.
    """

    kind: str = "INV"
    polar_labels: tuple[str, ...] = ("positive", "negative")
    clear_conf: float = 0.8
    high_conf: float = 0.8

    def __post_init__(self) -> None:
        if self.kind not in ("INV", "DIR"):
            raise ConfigError(f"Expectation: kind={self.kind!r} is not allowed; use 'INV' or 'DIR'")
        for name in ("clear_conf", "high_conf"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"Expectation: {name}={value!r} must lie in [0, 1]")

    def check(self, orig_pred: str, orig_conf: float, pert_pred: str, pert_conf: float) -> Status:
        if self.kind == "INV":
            return Status.PASS if orig_pred == pert_pred else Status.FAIL
        polar = {p.lower() for p in self.polar_labels}
        if str(orig_pred).lower() not in polar or not orig_conf >= self.clear_conf:
            return Status.NA
        stays = pert_pred == orig_pred and pert_conf >= self.high_conf
        return Status.FAIL if stays else Status.PASS


INV = Expectation("INV")
DIR = Expectation("DIR")


@dataclass(frozen=True)
class Generator:
    """A named perturbation with the expectation it tests. `seeded` generators take `seed=`."""

    name: str
    perturb: Perturbation
    expectation: Expectation
    description: str
    seeded: bool = False

    def apply(self, text: str, seed: int = 0) -> list[str] | None:
        """Perturb `text`; a seeded generator mixes the text into the seed so that each row gets
        its own draw, independent of row order."""
        if self.seeded:
            return self.perturb(text, seed=f"{seed}:{text}")
        return self.perturb(text)


def default_generators(expectation_dir: Expectation = DIR) -> list[Generator]:
    """The built-in generators; `expectation_dir` sets the DIR thresholds of the negation tests."""
    return [
        Generator("add_negation", add_negation, expectation_dir,
                  "negate the first auxiliary or known verb: a clearly polar tweet must not keep "
                  "its polarity with high confidence"),
        Generator("remove_negation", remove_negation, expectation_dir,
                  "drop every negation: a clearly polar tweet must not keep its polarity with "
                  "high confidence"),
        Generator("add_typos", add_typos, INV, "swap one pair of adjacent letters", seeded=True),
        Generator("upper_case", upper_case, INV, "write the tweet in ALL CAPS"),
        Generator("lower_case", lower_case, INV, "write the tweet in lower case"),
        Generator("strip_punctuation", strip_punctuation, INV, "drop the final punctuation"),
        Generator("add_exclamation", add_exclamation, INV, 'append "!!!"'),
        Generator("add_emoji", add_emoji, INV, "append a neutral emoji", seeded=True),
        Generator("remove_emoji", remove_emoji, INV, "remove every emoji"),
        Generator("add_hashtag", add_hashtag, INV, "append a neutral hashtag", seeded=True),
        Generator("add_mention", add_mention, INV, 'prefix "@user"'),
    ]


GENERATOR_NAMES = tuple(g.name for g in default_generators())


def get_generators(names: Sequence[str] | None = None,
                   expectation_dir: Expectation = DIR) -> list[Generator]:
    """Built-in generators by name (all when `names` is None), in the order given."""
    by_name = {g.name: g for g in default_generators(expectation_dir)}
    if names is None:
        return list(by_name.values())
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(f"generators: {unknown} unknown; allowed: {', '.join(by_name)}")
    return [by_name[n] for n in names]


# --- running the tests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PerturbResult:
    """`cases`: one row per (generator, original, perturbed, model) with its status; `summary`:
    failure rate per generator and model over applicable cases; `examples`: a few failures each."""

    cases: pd.DataFrame
    summary: pd.DataFrame
    examples: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"perturb_cases": self.cases, "perturb_summary": self.summary,
                "perturb_examples": self.examples}


CASE_COLUMNS = ("generator", "expectation", "original", "perturbed", "model", "orig_pred",
                "pert_pred", "orig_conf", "pert_conf", "status")


def make_pairs(texts: Sequence[str], generators: Sequence[Generator], seed: int = 0,
               max_cases_per_generator: int = 100) -> list[tuple[Generator, str, str]]:
    """(generator, original, perturbed) pairs. Texts are visited in a seeded shuffle, so a cap
    samples across the data instead of taking its first rows; duplicates are dropped."""
    if max_cases_per_generator < 1:
        raise ConfigError(f"max_cases_per_generator={max_cases_per_generator!r} must be >= 1")
    order = list(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))
    random.Random(seed).shuffle(order)
    pairs = []
    for gen in generators:
        taken: set[tuple[str, str]] = set()
        for text in order:
            for new in gen.apply(text, seed) or []:
                if new != text and (text, new) not in taken and len(taken) < max_cases_per_generator:
                    taken.add((text, new))
                    pairs.append((gen, text, new))
            if len(taken) >= max_cases_per_generator:
                break
    return pairs


def run_perturbation_tests(texts: Sequence[str], predictors: Sequence[Predictor],
                           generators: Sequence[Generator] | None = None, seed: int = 0,
                           max_cases_per_generator: int = 100,
                           cache: PredictionCache | None = None, n_examples: int = 3,
                           progress: Any = None) -> PerturbResult:
    """Perturb `texts`, score originals and perturbed texts once per model (through the cache),
    and check each generator's expectation. Only live models can take part."""
    from evalcore.scoring import score_texts
    from evalcore.stress import require_live

    if not predictors:
        raise ConfigError("predictors: give at least one live model")
    predictors = list({p.name: p for p in predictors}.values())  # a model compared with itself once
    for predictor in predictors:
        require_live(predictor)
    generators = default_generators() if generators is None else list(generators)
    pairs = make_pairs(texts, generators, seed, max_cases_per_generator)
    unique = list(dict.fromkeys(t for _, orig, new in pairs for t in (orig, new)))
    rows: list[dict[str, Any]] = []
    for predictor in predictors:
        out = score_texts(unique, predictor, cache=cache, progress=progress) if unique else None
        pred = dict(zip(unique, np.asarray(out.pred, dtype=object))) if out is not None else {}
        conf = dict(zip(unique, np.asarray(out.conf, dtype=float))) if out is not None else {}
        for gen, orig, new in pairs:
            status = gen.expectation.check(pred[orig], conf[orig], pred[new], conf[new])
            rows.append({"generator": gen.name, "expectation": gen.expectation.kind,
                         "original": orig, "perturbed": new, "model": predictor.name,
                         "orig_pred": pred[orig], "pert_pred": pred[new], "orig_conf": conf[orig],
                         "pert_conf": conf[new], "status": status.value})
    cases = pd.DataFrame(rows, columns=list(CASE_COLUMNS))
    return PerturbResult(cases, _summarise(cases, generators, predictors),
                         _examples(cases, n_examples))


def _summarise(cases: pd.DataFrame, generators: Sequence[Generator],
               predictors: Sequence[Predictor]) -> pd.DataFrame:
    """Every (generator, model) gets a row, even with no applicable case (rate NaN, not hidden), with
    the failure rate's 95% Wilson interval."""
    from evalcore.metrics import wilson_interval

    rows = []
    for gen in generators:
        for predictor in predictors:
            part = cases[(cases["generator"] == gen.name) & (cases["model"] == predictor.name)]
            applicable = int((part["status"] != Status.NA.value).sum())
            fail = int((part["status"] == Status.FAIL.value).sum())
            lo, hi = wilson_interval(fail, applicable)
            rows.append({"generator": gen.name, "expectation": gen.expectation.kind,
                         "model": predictor.name, "n_cases": len(part), "n_applicable": applicable,
                         "n_fail": fail, "failure_rate": fail / applicable if applicable else np.nan,
                         "failure_rate_lo": float(lo), "failure_rate_hi": float(hi)})
    return pd.DataFrame(rows)


def _examples(cases: pd.DataFrame, n: int) -> pd.DataFrame:
    fails = cases[cases["status"] == Status.FAIL.value]
    return fails.groupby(["generator", "model"], sort=False).head(n).reset_index(drop=True)
