"""Plain words for the statistics: a one-line explanation of each term, shown on hover where it appears.

`gloss(text)` marks the first occurrence of every known term in one of our own captions with an
`<abbr title="…">`: the page keeps its compact wording and a reader who does not know "Newcombe" or "MDE"
hovers it. The text must be ours (or already escaped with `ui.widgets.esc`): it is rendered with
`unsafe_allow_html=True`, after HTML-escaping.

    >>> "abbr" in gloss("change +1.0 pts (paired, Newcombe)")
    True
"""

from __future__ import annotations

import html
import re

WILSON = "Wilson score interval: a 95% interval for a share that stays inside 0–100% and holds up on small n."
BH = (
    "Benjamini–Hochberg: a correction for testing many slices at once; among the slices it flags, the expected "
    "share of false alarms stays at the false discovery rate (5% by default)."
)
TERMS: dict[str, str] = {
    "Newcombe": "Newcombe's interval for a paired difference: both models were scored on the same rows, so the "
    "interval uses each row's pair of outcomes.",
    "Wilson": WILSON,
    "McNemar": "Exact McNemar test: looks only at the rows where the two models disagree and asks whether the "
    "candidate's wins and losses there could be a coin toss.",
    "MDE": "Minimum detectable effect: the smallest change these rows would detect 80% of the time (80% power). A "
    "slice whose MDE is larger than the margin cannot show a loss of that size: underpowered.",
    "minimum detectable effect": "The smallest change these rows would detect 80% of the time (80% power).",
    "underpowered": "Too few rows to detect a change of the margin's size: a pass there would mean nothing, so it "
    "never counts as one.",
    "Benjamini–Hochberg": BH,
    "Benjamini-Hochberg": BH,
    "BH": BH,
    "false discovery rate": "The expected share of flagged slices that are flagged by chance alone.",
    "FDR": "False discovery rate: the expected share of flagged slices that are flagged by chance alone.",
    "TV": "Total variation distance between two label mixes: half the sum of the differences of their shares; "
    "0 = the same mix, 1 = no label in common.",
    "total variation": "Half the sum of the differences of two mixes' shares: 0 = the same mix, 1 = no label in "
    "common.",
    "chi-square": "Chi-square test: could the slice's label mix differ this much from the overall mix by chance?",
    "⚠ labels": "The slice's gold-label mix alone (each label at its overall change) explains at least half of "
    "how the slice's change departs from the overall one: read it partly as a label effect, not the "
    "text property.",
    "ECE": "Expected calibration error: the gap between confidence and accuracy, averaged over confidence bins "
    "(0 = calibrated). Biased upward on small n.",
    "Brier": "Brier score: the mean squared gap between the confidence and being right (0 is best).",
    "bootstrap": "Resample the rows with replacement (1,000 times, seeded) and keep the middle 95% of the recomputed "
    "value.",
    "Student t": "Student t interval of a mean: mean ± t × its standard error, for scores such as F1 that lie "
    "between 0 and 1.",
    "pseudo-row": "One imaginary extra row changing by +1 or −1, added to the spread so a slice whose few rows all "
    "changed alike does not claim it can detect a change of 0.",
    "Welch": "Welch's t test: compares two means without assuming their spreads are equal.",
    "Agresti-Min": "Agresti–Min interval for a paired difference of two shares (adds a small pseudo-count to each "
    "cell, so it holds up on small n).",
    "Connor": "Connor (1987): the sample-size formula for a paired comparison of two shares, used for the MDE.",
    "paired": "Both models on the same rows: the interval uses each row's pair of outcomes, which is narrower than "
    "comparing two independent samples.",
    "INV": "Invariance test: the edit (a typo, capitals, an emoji) must not change the prediction.",
    "DIR": "Directional test: the edit (a negation) must move a clearly polar prediction away from its label.",
}
_ORDER = sorted(TERMS, key=len, reverse=True)  # "⚠ labels" before "labels", "Benjamini-Hochberg" before "BH"


def gloss(text: str, terms: dict[str, str] | None = None) -> str:
    """`text` HTML-escaped, the first occurrence of each known term wrapped in an `<abbr>` whose hover says
    what it means. For `st.caption` / `st.markdown` with `unsafe_allow_html=True`."""
    terms = TERMS if terms is None else terms
    out = html.escape(text, quote=False).replace("\\&lt;", "&lt;")  # an `esc`-escaped "<" is an entity now
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        pattern = re.escape(html.escape(term, quote=False))
        m = re.search(rf"(?<![\w-]){pattern}(?![\w-])", out)
        if m is None or any(m.start() < b and a < m.end() for a, b in taken):
            continue
        taken.append((m.start(), m.end()))
        found.append((m.start(), m.end(), term))
    for start, end, term in sorted(found, reverse=True):
        title = html.escape(terms[term], quote=True)
        out = (
            f'{out[:start]}<abbr title="{title}" style="text-decoration:underline dotted;cursor:help">'
            f"{out[start:end]}</abbr>{out[end:]}"
        )
    return out


def help_for(*terms: str) -> str:
    """The explanations of some terms, one per line: for a widget's or a column's `help`."""
    return "  \n".join(f"**{t}**: {TERMS[t]}" for t in terms)


__all__ = ["TERMS", "gloss", "help_for"]
