"""Text a visitor wrote, shown as text: never as Markdown or HTML of its own.

A slice hypothesis, a rule's quoted value, a row's text or id, a custom feature's description or a
stress case is untrusted: rendered as Markdown it could load a remote image in another visitor's
browser (`![x](https://…)`), break out of a code span with a backtick, or fake a heading. Every
place that writes such text into Markdown (Streamlit's `st.markdown` / captions / labels, the
Markdown report) or HTML (the HTML report) goes through this module.

- `md_escape` (the Markdown report) / `st_escape` (Streamlit): backslash-escape what could turn text
  into markup (CommonMark renders a backslashed punctuation character as itself): images and links,
  raw HTML, code, emphasis, LaTeX and Streamlit's `:red[…]` directives, and block starts at a line's
  start; other punctuation is left alone so sentences and intervals read as written.
- `code_span`: a Markdown code span that holds any text, backticks included (its fence is longer
  than any run of backticks inside).
- `lit` / `code` mark user text inside our own markup (`**bold**`, `` `code` ``); `to_markdown`,
  `to_html` and `plain` render such mixed strings, escaping only the marked parts' content.

    >>> md_escape("![x](https://e.vil/a.png) 69.8% [65.6%, 73.7%]")
    '![x\\\\](https://e.vil/a.png) 69.8% [65.6%, 73.7%]'
    >>> st_escape("![x](https://e.vil/a.png) has_mention: -30.0 pts")
    '!\\\\[x\\\\](https://e.vil/a.png) has_mention: -30.0 pts'
    >>> code_span("a `b` c")
    '`` a `b` c ``'
    >>> to_markdown(f"Rule: {code('x == `y`')}; note: {lit('**hi**')}")
    'Rule: `` x == `y` ``; note: \\\\*\\\\*hi\\\\*\\\\*'
    >>> to_html(f"**Rule** {code('<b>')}")
    '<strong>Rule</strong> <code>&lt;b&gt;</code>'
"""

from __future__ import annotations

import html
import re

_LIT_OPEN, _LIT_CLOSE, _CODE_OPEN, _CODE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_SENTINELS = re.compile("[\ue000-\ue003]")
_MARKED = re.compile("\ue000(.*?)\ue001|\ue002(.*?)\ue003", re.S)
# What can turn text into markup. Images and links need "](" (Markdown) or "[" (Streamlit, which also
# reads `:red[…]` directives); raw HTML needs "<"; a code span "`"; emphasis "*" or "~"; LaTeX "$"; a table
# cell "|"; an entity "&". Other punctuation ("-", ".", "_" inside words, "(") only matters at a line's start
# (md_escape_line), so sentences and intervals ("69.8% [65.6%, 73.7%]") keep reading as they are written.
_MD_SPECIAL = re.compile(r"([\\`*<|~$&])")
_ST_SPECIAL = re.compile(r"([\\`*<~$\[\]])")
# Streamlit's own directives start with ":" — `:material/icon:`, `:smile:`, `:red[…]`: that colon becomes the
# entity "&#58;" (Streamlit reads icons before backslash escapes), a colon in a sentence ("labels: a") stays.
_ST_DIRECTIVE = re.compile(r":(?=[\w+\-/]+(?::|\\\[))")  # after _ST_SPECIAL: "[" is "\[" by then


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", _SENTINELS.sub("", str(text)))


def _lines(text: str) -> list[str]:
    return _SENTINELS.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n").split("\n")


def md_escape(text: str) -> str:
    """`text` as literal Markdown (CommonMark / GitHub): every character that could start emphasis, code,
    an image, raw HTML, an autolink, a table cell or LaTeX is backslash-escaped, and "](" / "][" (a link
    or a reference) too; brackets elsewhere ("69.8% [65.6%, 73.7%]") stay as they are, so the file reads
    well as plain text. Line breaks become spaces."""
    return re.sub(r"\](?=[(\[:])", r"\\]", _MD_SPECIAL.sub(r"\\\1", _one_line(text)))


def md_escape_line(text: str) -> str:
    """`md_escape` for text that starts a line, where "# ", "- ", "1. " or "> " would start a block."""
    return _line_start(re.sub(r"^(\s*)\[", r"\1\\[", md_escape(text)))


def st_escape(text: str, breaks: bool = False) -> str:
    """Text for Streamlit's Markdown (captions, labels, messages, metrics), which renders `![x](url)`
    images, `[x](url)` links, `:red[…]` directives and `$…$` LaTeX: brackets, backticks, emphasis marks and
    "$" are escaped, and whatever would start a block at a line's start. `breaks`: keep line breaks (as
    Markdown hard breaks), else they become spaces."""
    lines = _lines(text) if breaks else [_one_line(text)]
    return "  \n".join(_line_start(_ST_DIRECTIVE.sub("&#58;", _ST_SPECIAL.sub(r"\\\1", line))) for line in lines)


def _line_start(line: str) -> str:
    out = re.sub(r"^(\s*)([#+\-=>])", r"\1\\\2", line)
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", out)


def code_span(text: str) -> str:
    """A Markdown code span showing `text` literally, whatever backticks it holds."""
    body = _one_line(text)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or longest else ""
    return f"{fence}{pad}{body}{pad}{fence}" if body else "` `"


def lit(text: object) -> str:
    """Mark untrusted `text` inside our own markup: rendered literally in every format."""
    return f"{_LIT_OPEN}{_SENTINELS.sub('', str(text))}{_LIT_CLOSE}"


def code(text: object) -> str:
    """Mark untrusted `text` to be shown as code in every format."""
    return f"{_CODE_OPEN}{_SENTINELS.sub('', str(text))}{_CODE_CLOSE}"


def to_markdown(markup: str, escape=md_escape) -> str:
    """Our markup as is; marked parts escaped (`escape`: `md_escape`, or `st_escape` for Streamlit)."""

    def one(m: re.Match[str]) -> str:
        return escape(m.group(1)) if m.group(1) is not None else code_span(m.group(2))

    return _MARKED.sub(one, markup)


def to_streamlit(markup: str) -> str:
    """`to_markdown` for Streamlit's Markdown."""
    return to_markdown(markup, st_escape)


def to_html(markup: str) -> str:
    """HTML of our markup (`**bold**`, `` `code` ``) with every text escaped; marked parts never
    become markup."""
    out, at = [], 0
    for m in _MARKED.finditer(markup):
        out.append(_own_html(markup[at : m.start()]))
        out.append(html.escape(m.group(1)) if m.group(1) is not None else f"<code>{html.escape(m.group(2))}</code>")
        at = m.end()
    out.append(_own_html(markup[at:]))
    return "".join(out)


def _own_html(text: str) -> str:
    out = html.escape(_SENTINELS.sub("", text))
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def plain(markup: str) -> str:
    """The text without our markers (for the terminal and W&B summaries)."""
    return _SENTINELS.sub("", markup)


def plotly_text(text: object) -> str:
    """Text for a Plotly label or hover: Plotly reads a few HTML tags (`<a href>`, `<b>`, `<br>`) in
    its strings, so "<", ">" and "&" are written as entities."""
    return html.escape(str(text), quote=False)


__all__ = [
    "code",
    "code_span",
    "lit",
    "md_escape",
    "md_escape_line",
    "plain",
    "plotly_text",
    "st_escape",
    "to_html",
    "to_markdown",
    "to_streamlit",
]
