"""Token explanations: which words drove one model's prediction on one text.

Two methods, both returned as the same plain `Explanation` (tokens with character offsets and signed
scores), so a page or a report highlights any of them the same way (`highlight_html`,
`highlight_markdown`):

- **occlusion** (leave one out), for any live predictor: the score of a token is how much the model's
  evidence for the explained label drops when that token is deleted from the text. Every occluded
  variant of a text goes through one batched `predict` call with the original, so one tweet on
  MiniLM costs one forward pass of ~20 short texts (bench/bench_discovery.py times it). Deletion, not
  a mask token: it works for models without one (VADER) and never feeds a model a token it was not
  trained to see. Leave-one-out misses words that matter only together (two synonyms each redundant
  with the other) -- read a zero as "removing this word alone changes nothing".
- **lexicon** (VADER only, exact): VADER's score *is* a sum of per-word valences (its lexicon value after
  the negation, booster, ALL-CAPS and "but" rules) plus punctuation emphasis, normalised. The token
  scores are those valences, computed by VADER's own code, so they add up exactly to its total.
  A negator or booster gets no score of its own: its effect is inside the word it modifies (so
  "not good" shows "good" at -1.41, not "not").

Evidence, per model kind: a probability model explains the probability of the label; VADER explains
its compound score's margin to its decision threshold t (positive: c - t, negative: -c - t,
neutral: t - |c|), which is what decides its label. Scores are in those units (`Explanation.unit`).
Attention weights are not offered: attention shows where a layer looked, not what changed the
output, and explanations built on it disagree with occlusion and gradients (Jain & Wallace 2019).

Precomputed models (columns of the data, prediction files) cannot score the occluded texts, so they
cannot be explained: `ModelError` says so.
"""

from __future__ import annotations

import html
import math
import re
import string
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from evalcore.core.errors import ModelError

if TYPE_CHECKING:
    from evalcore.predict.models import Predictor

OCCLUSION, LEXICON, ANSWER = "occlusion", "lexicon", "answer occlusion"
METHODS = {
    OCCLUSION: "occlusion (leave one out): a token's score is the drop in the model's evidence for the label when "
    "the token is deleted from the text; all variants of a text scored in one batched call",
    ANSWER: "occlusion of the question for a live generation model: each question word is deleted in turn, the model "
    "answers again (greedily), and the word's score is the drop in that answer's score against the gold answers",
    LEXICON: "VADER lexicon contributions: each word's valence after VADER's negation, booster, ALL-CAPS and 'but' "
    "rules, computed by VADER's own code; the scores plus punctuation emphasis add up to its total",
}
UNITS = {
    "probability": "probability of the label",
    "vader_margin": "VADER compound minus its threshold, toward the label",
    "vader_valence": "VADER valence toward the label",
    "answer_score": "score of the answer against the gold answers",
}
# A token: a URL, a word (with inner apostrophes: don't, it's), or a run of other non-space characters
# (punctuation, emoji). @mentions and #hashtags keep their sign.
TOKEN = re.compile(r"(?:https?://|www\.)\S+|[@#]?\w+(?:['’]\w+)*|[^\w\s]+")


@dataclass(frozen=True)
class TokenScore:
    """One token of the text: `text[start:end] == token`; `score` > 0 pushes toward the explained label."""

    token: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Explanation:
    """Why `model` gives `label` to `text`, token by token (plain data: pages and reports render it)."""

    text: str
    model: str
    label: str  # the explained label
    predicted: str  # the model's label for the whole text
    value: float  # the model's evidence for `label` on the whole text, in `unit`
    tokens: tuple[TokenScore, ...]
    method: str  # OCCLUSION | LEXICON
    unit: str  # a key of UNITS
    unattributed: float | None = None  # lexicon: the part no token carries (punctuation emphasis)

    def top(self, k: int = 5, toward: bool = True) -> list[TokenScore]:
        """The `k` tokens pushing most toward (or, `toward=False`, away from) the label; zeros left out."""
        sign = 1 if toward else -1
        ranked = sorted((t for t in self.tokens if sign * t.score > 0), key=lambda t: -sign * t.score)
        return ranked[:k]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["tokens"] = [asdict(t) for t in self.tokens]
        return out


def tokenize(text: str) -> list[tuple[int, int]]:
    """Character spans of the tokens of `text` (see TOKEN)."""
    return [m.span() for m in TOKEN.finditer(text)]


def occluded(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The text with each span deleted in turn (one variant per span)."""
    return [text[:s] + text[e:] for s, e in spans]


# --- evidence per model kind ----------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """`score(texts)` -> (predicted label indexes (n,), evidence (n, k) over `labels`), in `unit`."""

    labels: tuple[str, ...]
    unit: str
    score: Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]


def not_explainable(predictor: Predictor) -> str:
    """Why a model cannot be explained, or '' when it can."""
    if getattr(predictor, "live", True):
        return ""
    return (
        f"{predictor.name} gives precomputed predictions (columns of the data or a predictions file): it cannot "
        "score the altered texts an explanation needs, so it cannot be explained; compare live models "
        "(vader, demo, hf:<model>) to see why predictions flip"
    )


def evidence(predictor: Predictor) -> Evidence:
    """How to read `predictor`'s evidence for each label (registry by model kind; see the module doc)."""
    from evalcore.predict.models import VaderPredictor

    reason = not_explainable(predictor)
    if reason:
        raise ModelError(reason)
    labels = tuple(predictor.labels)
    if isinstance(predictor, VaderPredictor):
        return Evidence(labels, "vader_margin", _vader_margin(predictor))

    def probs(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        batch = predictor.predict(list(texts))
        return np.asarray(batch.pred, dtype=np.int64), np.asarray(batch.probs, dtype=np.float64)

    return Evidence(labels, "probability", probs)


def explain_answer(
    answerer, question: str, golds: Sequence[str], context: str = "", *, metric: str = "f1"
) -> Explanation:
    """Which words of the question the answer's score depends on, for a live generation model (an
    `evalcore.probe.answerers` answerer): occlusion by the score of the answer. One answer per question word
    (plus the original), so it costs as many generations as the question has words; the context is kept
    whole (occluding a passage word by word would cost hundreds of generations and mostly measure noise)."""
    from evalcore.core.errors import ConfigError
    from evalcore.probe.answerers import answer_prompt
    from evalcore.stats.genmetrics import score_answers

    golds = [g.strip() for g in golds if str(g).strip()]
    if not str(question).strip() or not golds:
        raise ConfigError("an answer is explained against gold answers: give a question and at least one gold answer")
    spans = tokenize(question)
    prompts = [answer_prompt(q, context) for q in [question, *occluded(question, spans)]]
    answers = answerer.answer(prompts)
    scores = score_answers(answers, [golds] * len(answers))
    if metric not in scores.columns:
        raise ConfigError(f"metric {metric!r} is not an answer score; scores: {', '.join(map(str, scores.columns))}")
    values = scores[metric].to_numpy(dtype=float)
    tokens = tuple(TokenScore(question[a:b], a, b, float(values[0] - v)) for (a, b), v in zip(spans, values[1:]))
    return Explanation(
        text=question,
        model=answerer.name,
        label=f"the gold answer ({metric})",
        predicted=answers[0],
        value=float(values[0]),
        tokens=tokens,
        method=ANSWER,
        unit="answer_score",
    )


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader_columns(labels: Sequence[str]) -> tuple[int, int, int]:
    from evalcore.predict.models import SENTIMENT_LABELS, resolve_label

    cols = [resolve_label(s, tuple(labels)) for s in SENTIMENT_LABELS]
    if any(c is None for c in cols):
        raise ModelError(f"VADER explains negative/neutral/positive; the labels are {', '.join(labels)}")
    return tuple(int(c) for c in cols)  # type: ignore[return-value]


def _vader_margin(predictor) -> Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]:
    """VADER's evidence: its compound's margin to the threshold, per label, and its label (same rule as
    `VaderPredictor`: compound >= t positive, <= -t negative, else neutral)."""
    neg, neu, pos = _vader_columns(predictor.labels)
    t = float(predictor.threshold)
    k = len(predictor.labels)

    def score(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        c = np.array([_analyzer().polarity_scores(x)["compound"] for x in texts], dtype=np.float64)
        ev = np.full((len(c), k), np.nan)
        ev[:, pos], ev[:, neg], ev[:, neu] = c - t, -c - t, t - np.abs(c)
        pred = np.where(c >= t, pos, np.where(c <= -t, neg, neu))
        return pred.astype(np.int64), ev

    return score


# --- occlusion ------------------------------------------------------------------------------------


def _label_index(labels: Sequence[str], label: str | None, model: str) -> int | None:
    if label is None:
        return None
    if label not in labels:
        raise ModelError(f"cannot explain label {label!r} for {model}: its labels are {', '.join(labels)}")
    return list(labels).index(label)


def explain_many(
    predictor: Predictor,
    texts: Sequence[str],
    labels: Sequence[str | None] | None = None,
    *,
    batch_size: int | None = 256,
) -> list[Explanation]:
    """Occlusion explanations of several texts (each of its `labels[i]`, else of its predicted label).

    The original texts and all their occluded variants are scored together in batches of `batch_size`
    texts (None: one call for everything)."""
    ev = evidence(predictor)
    texts = [str(t) for t in texts]
    wanted = list(labels) if labels is not None else [None] * len(texts)
    if len(wanted) != len(texts):
        raise ModelError(f"{len(wanted)} labels for {len(texts)} texts; give one label (or None) per text")
    idx = [_label_index(ev.labels, lab, predictor.name) for lab in wanted]
    spans = [tokenize(t) for t in texts]
    batch = [v for t, s in zip(texts, spans) for v in (t, *occluded(t, s))]
    step = len(batch) if not batch_size else max(1, int(batch_size))
    preds, scores = [], []
    for start in range(0, len(batch), step):
        p, s = ev.score(batch[start : start + step])
        preds.append(p)
        scores.append(s)
    pred, score = (np.concatenate(preds), np.concatenate(scores)) if batch else (np.zeros(0, int), np.zeros((0, 0)))
    out, at = [], 0
    for text, sp, j in zip(texts, spans, idx):
        full_pred, full = int(pred[at]), score[at]
        j = full_pred if j is None else j
        drops = full[j] - score[at + 1 : at + 1 + len(sp), j]
        tokens = tuple(TokenScore(text[s:e], s, e, float(d)) for (s, e), d in zip(sp, drops))
        out.append(
            Explanation(
                text, predictor.name, ev.labels[j], ev.labels[full_pred], float(full[j]), tokens, OCCLUSION, ev.unit
            )
        )
        at += 1 + len(sp)
    return out


def explain(predictor: Predictor, text: str, label: str | None = None, *, method: str = "auto") -> Explanation:
    """Why `predictor` gives `label` (default: its own prediction) to `text`.

    `method`: "occlusion", "lexicon" (VADER only) or "auto" (lexicon for VADER, occlusion otherwise).
    All occluded variants go through one predict call."""
    from evalcore.predict.models import VaderPredictor

    if method not in ("auto", OCCLUSION, LEXICON):
        raise ModelError(f"explanation method {method!r} is not known; allowed: auto, {OCCLUSION}, {LEXICON}")
    is_vader = isinstance(predictor, VaderPredictor)
    if method == LEXICON and not is_vader:
        raise ModelError(f"the lexicon method explains VADER only; {predictor.name} is explained by occlusion")
    if method == LEXICON or (method == "auto" and is_vader):
        return vader_lexicon(text, label, labels=predictor.labels, threshold=predictor.threshold, model=predictor.name)
    return explain_many(predictor, [text], [label], batch_size=None)[0]


# --- VADER, exact ---------------------------------------------------------------------------------


def _vader_words(text: str) -> tuple[list[str], list[tuple[int, int]], str]:
    """VADER's words for `text` with each word's span in the *original* text (an emoji's description words
    all map to the emoji), and the text VADER scores. Mirrors `polarity_scores`' emoji step."""
    from vaderSentiment.vaderSentiment import SentiText

    emojis = _analyzer().emojis
    chars: list[str] = []
    origin: list[int] = []
    prev_space = True
    for i, ch in enumerate(text):
        if ch in emojis:
            if not prev_space:
                chars.append(" ")
                origin.append(i)
            desc = emojis[ch]
            chars.extend(desc)
            origin.extend([i] * len(desc))
            prev_space = False
        else:
            chars.append(ch)
            origin.append(i)
            prev_space = ch == " "
    expanded = "".join(chars)
    words = SentiText(expanded.strip()).words_and_emoticons
    chunks = [m.span() for m in re.finditer(r"\S+", expanded)]
    if len(chunks) != len(words):  # a whitespace character str.split and re disagree on: never seen
        raise ModelError("VADER split this text differently from evalcore's reading of it; cannot explain it exactly")
    spans = []
    for (s, e), word in zip(chunks, words):
        chunk = expanded[s:e]
        lead = 0 if word == chunk else len(chunk) - len(chunk.lstrip(string.punctuation))
        ws, we = s + lead, s + lead + len(word)
        spans.append((origin[ws], origin[we - 1] + 1))
    return words, spans, expanded.strip()


def vader_valences(text: str) -> tuple[list[str], list[tuple[int, int]], list[float], float]:
    """(words, their spans in `text`, VADER's valence of each word in context, punctuation emphasis):
    the same steps as `SentimentIntensityAnalyzer.polarity_scores`, stopped before the sum."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    an = _analyzer()
    words, spans, scored = _vader_words(text)
    senti = SentiText(scored)
    sentiments: list[float] = []
    for i, item in enumerate(words):  # polarity_scores' loop, verbatim in effect
        if item.lower() in BOOSTER_DICT or (
            i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of"
        ):
            sentiments.append(0)
            continue
        sentiments = an.sentiment_valence(0, senti, item, i, sentiments)
    sentiments = an._but_check(words, sentiments)
    return words, spans, [float(v) for v in sentiments], float(an._punctuation_emphasis(scored))


def vader_lexicon(
    text: str,
    label: str | None = None,
    *,
    labels: Sequence[str] = ("negative", "neutral", "positive"),
    threshold: float = 0.05,
    model: str = "vader",
) -> Explanation:
    """VADER's exact explanation: token scores are its word valences signed toward `label`.

    Toward positive a valence counts as is, toward negative negated, toward neutral against the
    direction of the total (a word that moves the total away from zero pushes away from neutral).
    So `sum(scores) + unattributed == value`, the total signed toward the label, and VADER's compound
    is `total / sqrt(total**2 + 15)` of the unsigned total.
    """
    neg, neu, pos = _vader_columns(labels)
    words, spans, valences, emphasis = vader_valences(text)
    raw = sum(valences)
    total = raw + (emphasis if raw > 0 else -emphasis if raw < 0 else 0.0)
    compound = round(total / math.sqrt(total * total + 15), 4) if valences else 0.0  # as VADER rounds it
    pred = pos if compound >= threshold else neg if compound <= -threshold else neu
    j = pred if label is None else _label_index(labels, label, model)
    direction = {pos: 1.0, neg: -1.0, neu: -float(np.sign(total))}[j]
    merged: dict[tuple[int, int], float] = {}
    for span, v in zip(spans, valences):  # the words of one emoji's description add up on the emoji
        merged[span] = merged.get(span, 0.0) + v
    tokens = tuple(TokenScore(text[s:e], s, e, direction * v + 0.0) for (s, e), v in merged.items())  # no -0.0
    return Explanation(
        text,
        model,
        labels[j],
        labels[pred],
        direction * total + 0.0,
        tokens,
        LEXICON,
        "vader_valence",
        unattributed=direction * (total - raw) + 0.0,
    )


# --- highlighting ---------------------------------------------------------------------------------

TOWARD, AWAY = (47, 158, 68), (224, 49, 49)  # green: pushes toward the label; red: away from it


def _scale(expl: Explanation, scale: float | None) -> float:
    if scale:
        return float(scale)
    top = max((abs(t.score) for t in expl.tokens), default=0.0)
    return top if top > 0 else 1.0


def highlight_html(expl: Explanation, scale: float | None = None) -> str:
    """The text as inline-styled HTML: each token shaded green (toward the label) or red (away), by |score|
    relative to `scale` (default: the largest |score| of this text); the score in a tooltip. Escaped."""
    s = _scale(expl, scale)
    out, at = [], 0
    for t in expl.tokens:
        out.append(html.escape(expl.text[at : t.start]))
        word = html.escape(expl.text[t.start : t.end])
        share = min(abs(t.score) / s, 1.0)
        if share < 0.02:
            out.append(word)
        else:
            r, g, b = TOWARD if t.score > 0 else AWAY
            out.append(
                f'<span style="background:rgba({r},{g},{b},{0.15 + 0.6 * share:.2f});border-radius:3px;'
                f'padding:0 1px" title="{t.score:+.3f} ({html.escape(UNITS[expl.unit])}: '
                f'{html.escape(expl.label)})">{word}</span>'
            )
        at = t.end
    out.append(html.escape(expl.text[at:]))
    return "".join(out)


def highlight_markdown(expl: Explanation, k: int = 3) -> str:
    """The text with its `k` strongest tokens each way marked: **toward** the label (+score) and
    ~~away~~ from it (-score). Markdown special characters of the text are escaped."""
    marked = {id(t): t for t in (*expl.top(k, True), *expl.top(k, False))}
    out, at = [], 0
    for t in expl.tokens:
        if id(t) not in marked:
            continue
        out.append(_md_escape(expl.text[at : t.start]))
        word = _md_escape(expl.text[t.start : t.end])
        out.append(f"**{word}** ({t.score:+.2f})" if t.score > 0 else f"~~{word}~~ ({t.score:+.2f})")
        at = t.end
    out.append(_md_escape(expl.text[at:]))
    return "".join(out)


def _md_escape(text: str) -> str:
    from evalcore.core.safetext import md_escape

    return md_escape(text)


__all__ = [
    "explain_answer",
    "Evidence",
    "Explanation",
    "LEXICON",
    "METHODS",
    "OCCLUSION",
    "TokenScore",
    "UNITS",
    "evidence",
    "explain",
    "explain_many",
    "highlight_html",
    "highlight_markdown",
    "not_explainable",
    "occluded",
    "tokenize",
    "vader_lexicon",
    "vader_valences",
]
