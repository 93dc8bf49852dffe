"""Perturbation tests in CheckList's vocabulary: generators, expectations, failure rates.

A perturbation is a pure function `text -> list[str] | None` (None: it does not apply to this
text). Random ones take a `seed` and draw from `random.Random(seed)`, so a run is reproducible.
Each `Generator` pairs a perturbation with the `Expectation` it tests:

- INV (invariance): the prediction must not change (typos, casing, "!!!", a neutral emoji...).
- DIR (direction): adding or removing a negation where it changes what the text says must not
  leave a *clearly* polar tweet (the model said positive or negative with confidence >=
  `clear_conf`) at the same polarity with confidence >= `high_conf`.

The negation edits come from `evalcore.probe.negate`: made only where its grammar rules know where "not"
goes (an auxiliary, a copula, a modal, a known verb after its subject), otherwise not made, and
counted as not applicable with the reason. An edit that is grammatical but leaves the text's
sentiment elsewhere ("I won't lie, this is awful" without "won't") is made, and its directional
check is not applicable either. `tests/fixtures/negation_judged.csv` holds every edit the rules
make on the lab's 500 tweets, each judged by hand; a test keeps the grammatical rate on it.

>>> add_negation("This movie is great")
['This movie is not great']
>>> remove_negation("I don't like it")
['I do like it']
>>> add_negation("lots of love for you") is None
True
>>> add_mention("nice day")
['@user nice day']
"""

from __future__ import annotations

import difflib
import html
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import emoji
import numpy as np
import pandas as pd

from evalcore.core.errors import ConfigError
from evalcore.probe import negate

if TYPE_CHECKING:
    from evalcore.predict.cache import PredictionCache
    from evalcore.predict.models import Predictor

Perturbation = Callable[..., "list[str] | None"]


@dataclass(frozen=True)
class Edit:
    """A perturbed text; `directional` False when a DIR expectation does not apply to it (`why`)."""

    text: str
    directional: bool = True
    why: str = ""


# --- negation (rules in evalcore.probe.negate) ----------------------------------------------------------


def has_negation(text: str) -> bool:
    """True when the text holds a negation (VADER's list, "n't" forms, no, never, nothing...)."""
    return bool(negate.negation_tokens(negate.tokens(text)))


def add_negation_edits(text: str) -> list[Edit] | str:
    """`add_negation` with the meaning check, or the reason it does not apply."""
    edit = negate.add_negation_edit(text)
    return edit if isinstance(edit, str) else [Edit(edit.text, edit.directional, edit.why)]


def remove_negation_edits(text: str) -> list[Edit] | str:
    """`remove_negation` with the meaning check, or the reason it does not apply."""
    edit = negate.remove_negation_edit(text)
    return edit if isinstance(edit, str) else [Edit(edit.text, edit.directional, edit.why)]


def add_negation(text: str) -> list[str] | None:
    """Negate the first statement verb group whose grammar is known ("is" -> "is not", "can" -> "cannot",
    "I love" -> "I don't love", "has lost" -> "has not lost"); None when none is (see `evalcore.probe.negate`)."""
    out = add_negation_edits(text)
    return None if isinstance(out, str) else [e.text for e in out]


def remove_negation(text: str) -> list[str] | None:
    """Remove the text's only negation where it follows an auxiliary, copula or modal ("isn't" -> "is",
    "don't" -> "do", "cannot" -> "can", "is not" -> "is"); None otherwise (see `evalcore.probe.negate`)."""
    out = remove_negation_edits(text)
    return None if isinstance(out, str) else [e.text for e in out]


# --- surface perturbations ------------------------------------------------------------------------
_PROTECTED_RE = re.compile(r"[@#]\w+|https?://\S+")  # mentions, hashtags, URLs keep their spelling
NEUTRAL_EMOJI = ("📷", "🌍", "📅", "🚗", "🔑", "✏️")  # VADER and people read these as neutral
NEUTRAL_HASHTAGS = ("#news", "#tbt", "#monday", "#update", "#thread")


def add_typos(text: str, n_typos: int = 1, seed: int | str = 0) -> list[str] | None:
    """Swap `n_typos` pairs of adjacent, different letters (never inside a mention, hashtag or URL)."""
    protected = {i for m in _PROTECTED_RE.finditer(text) for i in range(m.start(), m.end())}
    spots = [
        i
        for i in range(len(text) - 1)
        if text[i].isalpha()
        and text[i + 1].isalpha()
        and text[i] != text[i + 1]
        and i not in protected
        and i + 1 not in protected
    ]
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

    kind "INV": same predicted label. kind "DIR": when the edit changes what the text says
    (`directional`) and the original is clearly polar (predicted one of `polar_labels` with
    confidence >= `clear_conf`), the perturbed text must not get that same label with confidence
    >= `high_conf`; otherwise not applicable.
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

    def check(
        self, orig_pred: str, orig_conf: float, pert_pred: str, pert_conf: float, directional: bool = True
    ) -> Status:
        return self.judge(orig_pred, orig_conf, pert_pred, pert_conf, directional)[0]

    def judge(
        self, orig_pred: str, orig_conf: float, pert_pred: str, pert_conf: float, directional: bool = True
    ) -> tuple[Status, str]:
        """The status and, when not applicable, why."""
        if self.kind == "INV":
            return (Status.PASS if orig_pred == pert_pred else Status.FAIL), ""
        if not directional:
            return Status.NA, "the edit does not change the text's sentiment"
        polar = {p.lower() for p in self.polar_labels}
        if str(orig_pred).lower() not in polar:
            return Status.NA, "original predicted neither positive nor negative"
        if not orig_conf >= self.clear_conf:
            return Status.NA, (
                f"original confidence below {self.clear_conf:g}"
                if orig_conf == orig_conf
                else "the model gives no confidence"
            )
        stays = pert_pred == orig_pred and pert_conf >= self.high_conf
        return (Status.FAIL if stays else Status.PASS), ""


INV = Expectation("INV")
DIR = Expectation("DIR")


@dataclass(frozen=True)
class Generator:
    """A named perturbation with the expectation it tests. `seeded` generators take `seed=`.
    `edits`, when set, returns the edits with their meaning check, or the reason none is made."""

    name: str
    perturb: Perturbation
    expectation: Expectation
    description: str
    seeded: bool = False
    edits: Callable[[str], "list[Edit] | str"] | None = None
    skip_reason: str = "does not apply to this text"

    def apply(self, text: str, seed: int = 0) -> list[str] | None:
        """Perturb `text`; a seeded generator mixes the text into the seed so that each row gets
        its own draw, independent of row order."""
        if self.seeded:
            return self.perturb(text, seed=f"{seed}:{text}")
        return self.perturb(text)

    def edit(self, text: str, seed: int = 0) -> list[Edit] | str:
        """The edits of `text`, or why none is made."""
        if self.edits is not None:
            return self.edits(text)
        out = self.apply(text, seed)
        return [Edit(t) for t in out] if out else self.skip_reason


def default_generators(expectation_dir: Expectation = DIR) -> list[Generator]:
    """The built-in generators; `expectation_dir` sets the DIR thresholds of the negation tests."""
    return [
        Generator(
            "add_negation",
            add_negation,
            expectation_dir,
            'add "not" where the grammar is known (after an auxiliary, copula or modal; "don\'t" before a '
            "known verb after its subject), else skip the text; a clearly polar text must then not keep its "
            "polarity with high confidence, checked only where the edited clause carries the sentiment",
            edits=add_negation_edits,
        ),
        Generator(
            "remove_negation",
            remove_negation,
            expectation_dir,
            "remove a text's only negation where it follows an auxiliary, copula or modal, else skip the "
            "text; checked like add negation",
            edits=remove_negation_edits,
        ),
        Generator(
            "add_typos",
            add_typos,
            INV,
            "swap one pair of adjacent letters",
            seeded=True,
            skip_reason="no two adjacent letters outside mentions, hashtags and links",
        ),
        Generator("upper_case", upper_case, INV, "write the text in ALL CAPS", skip_reason="already in capitals"),
        Generator("lower_case", lower_case, INV, "write the text in lower case", skip_reason="already in lower case"),
        Generator(
            "strip_punctuation",
            strip_punctuation,
            INV,
            "drop the final punctuation",
            skip_reason="no final punctuation",
        ),
        Generator("add_exclamation", add_exclamation, INV, 'append "!!!"', skip_reason='already ends with "!!!"'),
        Generator("add_emoji", add_emoji, INV, "append a neutral emoji", seeded=True),
        Generator("remove_emoji", remove_emoji, INV, "remove every emoji", skip_reason="no emoji, or only emoji"),
        Generator("add_hashtag", add_hashtag, INV, "append a neutral hashtag", seeded=True),
        Generator("add_mention", add_mention, INV, 'prefix "@user"'),
    ]


GENERATOR_NAMES = tuple(g.name for g in default_generators())


def get_generators(names: Sequence[str] | None = None, expectation_dir: Expectation = DIR) -> list[Generator]:
    """Built-in generators by name (all when `names` is None), in the order given."""
    by_name = {g.name: g for g in default_generators(expectation_dir)}
    if names is None:
        return list(by_name.values())
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(f"generators: {unknown} unknown; allowed: {', '.join(by_name)}")
    return [by_name[n] for n in names]


# --- showing an edit ------------------------------------------------------------------------------
_PIECES = re.compile(r"\s+|\w+|[^\w\s]")


def edit_segments(original: str, perturbed: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts cut into (piece, changed) runs, word by word: what the edit removed from the original
    and what it wrote into the perturbed text.

    >>> edit_segments("It is good", "It is not good")[1]
    [('It is ', False), ('not', True), (' good', False)]
    """
    a, b = _PIECES.findall(original), _PIECES.findall(perturbed)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same = op == "equal"
        if i2 > i1:
            left.append(("".join(a[i1:i2]), not same))
        if j2 > j1:
            right.append(("".join(b[j1:j2]), not same))
    return _merge(left), _merge(right)


def _merge(runs: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Adjacent runs of one kind joined; spaces at the edges of a changed run count as unchanged, so only
    words are marked."""
    split: list[tuple[str, bool]] = []
    for text, changed in runs:
        core = text.strip()
        if changed and core and core != text:
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            split += [(lead, False), (core, True), (trail, False)]
        else:
            split.append((text, changed and bool(core)))
    out: list[tuple[str, bool]] = []
    for text, changed in split:
        if not text:
            continue
        if out and out[-1][1] == changed:
            out[-1] = (out[-1][0] + text, changed)
        else:
            out.append((text, changed))
    return out


REMOVED_STYLE = "background:#ffe3e3;text-decoration:line-through;border-radius:3px;padding:0 1px"
ADDED_STYLE = "background:#d3f9d8;font-weight:600;border-radius:3px;padding:0 1px"


def highlight_edit_html(original: str, perturbed: str) -> tuple[str, str]:
    """The original with the removed words struck through in red, the perturbed text with the written
    words in bold green: inline-styled, escaped HTML."""
    left, right = edit_segments(original, perturbed)

    def render(runs: list[tuple[str, bool]], style: str, tag: str) -> str:
        return "".join(
            f'<{tag} style="{style}">{html.escape(t)}</{tag}>' if changed else html.escape(t) for t, changed in runs
        )

    return render(left, REMOVED_STYLE, "del"), render(right, ADDED_STYLE, "ins")


def highlight_edit_markdown(original: str, perturbed: str) -> str:
    """ "original → perturbed" in Markdown: removed words ~~struck~~, written words **bold**; every
    character of the texts escaped, so a tweet cannot add markup (links, images) of its own."""
    from evalcore.core.safetext import md_escape

    left, right = edit_segments(original, perturbed)

    def render(runs: list[tuple[str, bool]], mark: str) -> str:
        return "".join(f"{mark}{md_escape(t)}{mark}" if changed else md_escape(t) for t, changed in runs)

    return f"{render(left, '~~')} → {render(right, '**')}"


STATUS_MARK = {"pass": "✓ pass", "fail": "✗ fail", "n/a": "n/a"}


def _outcome(row: Any) -> str:
    conf = "" if row.orig_conf != row.orig_conf else f" ({row.orig_conf:.2f} → {row.pert_conf:.2f})"
    why = f": {row.why}" if row.status == "n/a" and row.why else ""
    return f"{row.orig_pred} → {row.pert_pred}{conf}, {STATUS_MARK.get(row.status, row.status)}{why}"


def examples_html(shown: pd.DataFrame) -> str:
    """`PerturbResult.shown_examples` as an HTML table: the original with the removed words struck
    through, the perturbed text with the written words marked, and each model's outcome. Escaped."""
    if shown.empty:
        return ""
    models = list(dict.fromkeys(shown["model"]))
    head = "".join(f"<th>{html.escape(str(m))}</th>" for m in models)
    body = []
    for (orig, new), part in shown.groupby(["original", "perturbed"], sort=False):
        left, right = highlight_edit_html(orig, new)
        by_model = {r.model: r for r in part.itertuples()}
        cells = "".join(
            f"<td>{html.escape(_outcome(by_model[m]))}</td>" if m in by_model else "<td>–</td>" for m in models
        )
        body.append(f"<tr><td>{left}</td><td>{right}</td>{cells}</tr>")
    return (
        f'<table class="edits" style="width:100%;font-size:0.9em"><thead><tr><th>original</th><th>edited</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def examples_markdown(shown: pd.DataFrame) -> str:
    """`PerturbResult.shown_examples` as Markdown bullets: "original → edited" with the edit marked,
    then each model's outcome; every character of the texts escaped."""
    from evalcore.core.safetext import md_escape

    lines = []
    for (orig, new), part in shown.groupby(["original", "perturbed"], sort=False):
        outcomes = "; ".join(f"{md_escape(str(r.model))}: {md_escape(_outcome(r))}" for r in part.itertuples())
        lines.append(f"- {highlight_edit_markdown(orig, new)}  \n  {outcomes}")
    return "\n".join(lines)


# --- running the tests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PerturbResult:
    """`cases`: one row per (generator, original, perturbed, model) with its status; `summary`:
    failure rate per generator and model over applicable cases, and how many texts each generator
    skipped (not applicable: no edit it could make); `examples`: a few failures each."""

    cases: pd.DataFrame
    summary: pd.DataFrame
    examples: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"perturb_cases": self.cases, "perturb_summary": self.summary, "perturb_examples": self.examples}

    def shown_examples(self, generator: str, n: int = 5) -> pd.DataFrame:
        """Up to `n` edits of one test, one row per edit with every model's outcome; failures first,
        then passes, then not-applicable ones (the order a reader learns most from)."""
        part = self.cases[self.cases["generator"] == generator]
        if part.empty:
            return part
        rank = part["status"].map({Status.FAIL.value: 0, Status.PASS.value: 1}).fillna(2)
        first = part.assign(_rank=rank).sort_values("_rank", kind="stable")
        keep = list(dict.fromkeys(zip(first["original"], first["perturbed"])))[:n]
        index = pd.MultiIndex.from_frame(part[["original", "perturbed"]])
        chosen = part[index.isin(keep)]
        order = {pair: i for i, pair in enumerate(keep)}
        return (
            chosen.assign(_o=[order[p] for p in zip(chosen["original"], chosen["perturbed"])])
            .sort_values("_o", kind="stable")
            .drop(columns="_o")
            .reset_index(drop=True)
        )


CASE_COLUMNS = (
    "generator",
    "expectation",
    "original",
    "perturbed",
    "model",
    "orig_pred",
    "pert_pred",
    "orig_conf",
    "pert_conf",
    "status",
    "directional",
    "why",
)


@dataclass(frozen=True)
class Plan:
    """What the generators made of the texts: (generator, original, edit) triples, and per generator
    how many texts were visited and why the skipped ones got no edit."""

    pairs: list[tuple[Generator, str, Edit]]
    tried: dict[str, int]
    skipped: dict[str, Counter]


def plan_cases(
    texts: Sequence[str], generators: Sequence[Generator], seed: int = 0, max_cases_per_generator: int = 100
) -> Plan:
    """Edits of the texts, visited in a seeded shuffle (so a cap samples across the data instead of
    taking its first rows); duplicates are dropped; a text a generator cannot edit is counted, with
    the reason, as skipped."""
    if max_cases_per_generator < 1:
        raise ConfigError(f"max_cases_per_generator={max_cases_per_generator!r} must be >= 1")
    order = list(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))
    random.Random(seed).shuffle(order)
    pairs: list[tuple[Generator, str, Edit]] = []
    tried: dict[str, int] = {}
    skipped: dict[str, Counter] = {}
    for gen in generators:
        taken: set[tuple[str, str]] = set()
        why: Counter = Counter()
        visited = 0
        for text in order:
            if len(taken) >= max_cases_per_generator:
                break
            visited += 1
            made = gen.edit(text, seed)
            fresh = [] if isinstance(made, str) else [e for e in made if e.text != text]
            if not fresh:
                why[made if isinstance(made, str) else "the edit leaves the text unchanged"] += 1
            for e in fresh:
                if (text, e.text) not in taken and len(taken) < max_cases_per_generator:
                    taken.add((text, e.text))
                    pairs.append((gen, text, e))
        tried[gen.name], skipped[gen.name] = visited, why
    return Plan(pairs, tried, skipped)


def make_pairs(
    texts: Sequence[str], generators: Sequence[Generator], seed: int = 0, max_cases_per_generator: int = 100
) -> list[tuple[Generator, str, str]]:
    """(generator, original, perturbed) triples of `plan_cases`."""
    plan = plan_cases(texts, generators, seed, max_cases_per_generator)
    return [(g, orig, e.text) for g, orig, e in plan.pairs]


def run_perturbation_tests(
    texts: Sequence[str],
    predictors: Sequence[Predictor],
    generators: Sequence[Generator] | None = None,
    seed: int = 0,
    max_cases_per_generator: int = 100,
    cache: PredictionCache | None = None,
    n_examples: int = 3,
    progress: Any = None,
) -> PerturbResult:
    """Perturb `texts`, score originals and perturbed texts once per model (through the cache),
    and check each generator's expectation. Only live models can take part."""
    from evalcore.predict.scoring import score_texts
    from evalcore.probe.stress import require_live

    if not predictors:
        raise ConfigError("predictors: give at least one live model")
    predictors = list({p.name: p for p in predictors}.values())  # a model compared with itself once
    for predictor in predictors:
        require_live(predictor)
    generators = default_generators() if generators is None else list(generators)
    plan = plan_cases(texts, generators, seed, max_cases_per_generator)
    unique = list(dict.fromkeys(t for _, orig, e in plan.pairs for t in (orig, e.text)))
    rows: list[dict[str, Any]] = []
    for predictor in predictors:
        out = score_texts(unique, predictor, cache=cache, progress=progress) if unique else None
        pred = dict(zip(unique, np.asarray(out.pred, dtype=object))) if out is not None else {}
        conf = dict(zip(unique, np.asarray(out.conf, dtype=float))) if out is not None else {}
        for gen, orig, e in plan.pairs:
            new = e.text
            status, why = gen.expectation.judge(pred[orig], conf[orig], pred[new], conf[new], e.directional)
            if status is Status.NA and not e.directional and e.why:
                why = e.why
            rows.append(
                {
                    "generator": gen.name,
                    "expectation": gen.expectation.kind,
                    "original": orig,
                    "perturbed": new,
                    "model": predictor.name,
                    "orig_pred": pred[orig],
                    "pert_pred": pred[new],
                    "orig_conf": conf[orig],
                    "pert_conf": conf[new],
                    "status": status.value,
                    "directional": e.directional,
                    "why": why,
                }
            )
    cases = pd.DataFrame(rows, columns=list(CASE_COLUMNS))
    return PerturbResult(cases, _summarise(cases, generators, predictors, plan), _examples(cases, n_examples))


def _summarise(
    cases: pd.DataFrame, generators: Sequence[Generator], predictors: Sequence[Predictor], plan: Plan
) -> pd.DataFrame:
    """Every (generator, model) gets a row, even with no applicable case (rate NaN, not hidden), with
    the failure rate's 95% Wilson interval, and the texts the generator skipped with the main reasons."""
    from evalcore.stats.intervals import wilson_interval

    rows = []
    for gen in generators:
        skipped = plan.skipped.get(gen.name, Counter())
        reasons = "; ".join(f"{why} ({k:,})" for why, k in skipped.most_common(3))
        for predictor in predictors:
            part = cases[(cases["generator"] == gen.name) & (cases["model"] == predictor.name)]
            applicable = int((part["status"] != Status.NA.value).sum())
            fail = int((part["status"] == Status.FAIL.value).sum())
            lo, hi = wilson_interval(fail, applicable)
            rows.append(
                {
                    "generator": gen.name,
                    "expectation": gen.expectation.kind,
                    "model": predictor.name,
                    "n_texts": plan.tried.get(gen.name, 0),
                    "n_skipped": sum(skipped.values()),
                    "skipped_why": reasons,
                    "n_cases": len(part),
                    "n_applicable": applicable,
                    "n_fail": fail,
                    "failure_rate": fail / applicable if applicable else np.nan,
                    "failure_rate_lo": float(lo),
                    "failure_rate_hi": float(hi),
                }
            )
    return pd.DataFrame(rows)


def _examples(cases: pd.DataFrame, n: int) -> pd.DataFrame:
    fails = cases[cases["status"] == Status.FAIL.value]
    return fails.groupby(["generator", "model"], sort=False).head(n).reset_index(drop=True)
