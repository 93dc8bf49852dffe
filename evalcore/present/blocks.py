"""The blocks a report is made of (heading, paragraph, bullets, table, figure, raw), rendered to Markdown and
HTML by `evalcore.present.report`, and the small texts both report modules share. Both the report and the
generation report blocks (`evalcore.present.genreport`) build them, so they sit below both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from evalcore.core import units
from evalcore.stats.metrics import ALL_SLICE

if TYPE_CHECKING:
    from evalcore.stats.results import Analysis


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    """A paragraph. `markup`: our own `**bold**` and `` `code` `` (False for user-written text)."""

    text: str
    markup: bool = True


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    marked: frozenset[int] = frozenset()  # rows to highlight (flagged slices, failed gates)


@dataclass(frozen=True)
class Figure:
    name: str
    fig: Any  # plotly Figure


@dataclass(frozen=True)
class Raw:
    """Content rendered by its producer in both formats (highlighted explanations): trusted, escaped there."""

    markdown: str
    html: str


Block = Union[Heading, Para, Bullets, Table, Figure, Raw]


def verdict_label(status: dict[str, str], row: Any) -> str:
    """A slice's place in the verdict plus 'worse than the rest' when the table says so (tables of every page)."""
    missing = "not in the verdict (no rows)" if status else "slice gate off"
    flags = ["overall gates" if row.slice == ALL_SLICE else status.get(row.slice, missing)]
    if row.worse_than_rest:
        flags.append("worse than the rest")
    return ", ".join(flags)


def _cluster_note(analysis: Analysis) -> str:
    col = analysis.results.changes.attrs.get("cluster_col")
    return f" Rows come in clusters of `{col}`: intervals, tests and MDEs are cluster-robust." if col else ""


DETECTABLE = "detectable loss (verdict test, 80% power)"  # the column every per-slice table shows


def detectable_loss(gates: Any, metric: str | None, slices: Any) -> list[str]:
    """Per slice, the loss its deciding verdict test detects with 80% power (`Verdict.slice_mde`), '–' where no
    test decides the slice (the whole data: see the overall gates; too small; model-defined; gate off). Never the
    unadjusted McNemar MDE against zero: a slice's pass is only as strong as the test that grants it."""
    mde = gates.slice_mde(metric) if gates is not None else {}
    return [units.magnitude_pts(mde[s]) if s in mde else "–" for s in slices]


__all__ = [
    "DETECTABLE",
    "Block",
    "Bullets",
    "Figure",
    "Heading",
    "Para",
    "Raw",
    "Table",
    "detectable_loss",
    "verdict_label",
]
