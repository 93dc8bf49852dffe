"""Untrusted text rendered as text (issue 19, item 5): the escapes, the Markdown and HTML reports and the W&B
run, each with a hostile string in every field a visitor can fill. The pages are checked in the browser
(tests/test_browser_hostile.py) and under AppTest (tests/test_page_hostile.py)."""

from __future__ import annotations

import re

import pytest

from evalcore.core.safetext import (
    code,
    code_span,
    lit,
    md_escape,
    md_escape_line,
    plain,
    st_escape,
    to_html,
    to_markdown,
)

HOST = "evil.example"
HOSTILE = (
    f'![x](http://{HOST}/a.png) <img src="http://{HOST}/b.png"> [link](http://{HOST}/c) :red[red] $x^2$ **bold** `tick'
)
# Markdown that would load or link something: an image or link whose "](" is not escaped, a raw <img>
ACTIVE_MD = re.compile(r"(?<!\\)\]\(https?://|(?<!\\)<img")


def _without_code_spans(markdown: str) -> str:
    """Markdown with its code spans removed: what is inside one is shown literally, whatever it holds."""
    return re.sub(r"(`+)(.+?)\1", "", markdown)


def test_escapes_leave_no_markup_and_code_spans_hold_backticks() -> None:
    assert not ACTIVE_MD.search(md_escape(HOSTILE))
    assert not re.search(r"(?<!\\)[\[\]`*$<]", st_escape(HOSTILE))  # Streamlit: brackets, code, bold, LaTeX
    assert md_escape("69.8% [65.6%, 73.7%] -> has_mention") == "69.8% [65.6%, 73.7%] -> has_mention"  # readable
    assert md_escape_line("# not a heading") == "\\# not a heading" and md_escape_line("1. no list") == "1\\. no list"
    assert st_escape("a\nb", breaks=True) == "a  \nb"
    # a rule with backticks cannot close its code span: the fence is longer than any run inside
    span = code_span('text contains "`![r](http://evil.example/r.png)`"')
    assert span.startswith("`` ") and span.endswith(" ``") and span.count("``") == 2
    mixed = f"**Rule** {code('a ` b')} and {lit('**x** ![i](http://e/i.png)')}"
    assert to_markdown(mixed) == "**Rule** `` a ` b `` and \\*\\*x\\*\\* ![i\\](http://e/i.png)"
    assert to_html(mixed) == "<strong>Rule</strong> <code>a ` b</code> and **x** ![i](http://e/i.png)"
    assert plain(mixed) == "**Rule** a ` b and **x** ![i](http://e/i.png)"


@pytest.fixture(scope="module")
def hostile_analysis():
    """The lab comparison with a hostile hypothesis and a hostile rule value, and hostile stress cases."""
    from evalcore.analyze.slices import Slice, SliceSet
    from evalcore.io.load import load_data
    from evalcore.predict.cache import PredictionCache
    from evalcore.predict.load import load_predictor
    from evalcore.probe.perturb import get_generators, run_perturbation_tests
    from evalcore.probe.stress import StressCase, StressSet, score_stress
    from evalcore.tasks.pipeline import run_analysis

    data = load_data("lab")
    slices = SliceSet(
        (
            Slice("hostile_rule", f'text contains "`![r](http://{HOST}/rule.png)`"', HOSTILE),
            Slice("has_mention", "has_mention == true", HOSTILE),
        )
    )
    analysis = run_analysis(data, "roberta", "gpt2", slices=slices)
    vader, strict = load_predictor("vader", data.labels), load_predictor("vader:0.3", data.labels)
    stress_set = StressSet(HOSTILE, "has_mention", [StressCase(HOSTILE, "positive"), StressCase("I am happy")])
    stress = score_stress(stress_set.cases, vader, strict, cache=PredictionCache())
    perturb = run_perturbation_tests([HOSTILE + " It is great"], [vader], get_generators(["add_negation"]))
    return analysis, stress_set, stress, perturb


def test_markdown_report_shows_hostile_text_as_text(hostile_analysis) -> None:
    from evalcore.present.report import render_markdown

    analysis, stress_set, stress, perturb = hostile_analysis
    md = render_markdown(analysis, stress=stress, perturb=perturb, stress_set=stress_set, notes=HOSTILE)
    assert HOST in md  # the text is there...
    assert not ACTIVE_MD.search(_without_code_spans(md)), [  # ...and nothing in it is markup
        line for line in md.splitlines() if ACTIVE_MD.search(_without_code_spans(line))
    ][:5]
    assert f"\\`![r\\](http://{HOST}/rule.png)\\`" in md  # the rule's value, backticks and all, in a table cell
    assert "\\*\\*bold\\*\\*" in md and "\\$x^2\\$" in md


def test_html_report_shows_hostile_text_as_text(hostile_analysis) -> None:
    from evalcore.present.report import render_html

    analysis, stress_set, stress, perturb = hostile_analysis
    page = render_html(analysis, stress=stress, perturb=perturb, stress_set=stress_set, notes=HOSTILE, charts=False)
    assert not re.search(rf"<img[^>]+{re.escape(HOST)}", page) and not re.search(rf"<a[^>]+{re.escape(HOST)}", page)
    assert f"&lt;img src=&quot;http://{HOST}/b.png&quot;&gt;" in page or f'&lt;img src="http://{HOST}' in page


def test_wandb_run_keeps_hostile_text_out_of_chart_markup(tmp_path) -> None:
    """W&B renders Plotly labels with a few HTML tags (<a href>, <b>): a label name from the data is written
    with entities in every chart of the run; the tables keep the text itself (W&B shows table cells as text)."""
    import pandas as pd

    from evalcore.io.load import load_data
    from evalcore.present.wandb_push import push_to_wandb
    from evalcore.tasks.pipeline import run_analysis

    bad = f"neg <a href='http://{HOST}/x'>click</a>"
    labels = [bad, "pos"]
    rows = [
        {
            "text": f"text {i}",
            "label": labels[i % 2],
            "m1": labels[i % 2] if i % 4 else labels[1 - i % 2],
            "m2": labels[(i // 3) % 2],
        }
        for i in range(80)
    ]
    path = tmp_path / "hostile_labels.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    analysis = run_analysis(load_data(str(path), text_col="text", label_col="label"), "m1", "m2")
    push_to_wandb(analysis, mode="offline", wandb_dir=tmp_path / "runs")
    figures = [p.read_text() for p in (tmp_path / "runs").rglob("*.plotly.json")]
    assert figures, "the run carries its charts"
    blob = "".join(figures)
    assert "click" in blob and "<a href" not in blob and "&lt;a href" in blob
