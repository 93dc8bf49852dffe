"""The generation flow in the browser, as a user walks it: load the SQuAD demo on Data & models, open the
"short_answers" slice on Slices, pick a metric on Compare, read highlighted answers on Examples.
Screenshots land in `artifacts/screenshots/gen_*.png` for a human to look at."""

from __future__ import annotations

import re

import pytest

from tests.test_browser import SHOTS, _full_shot, _no_exception, _settle, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _pick(page, box_label: str, option: str | re.Pattern) -> None:
    """Choose an option of the selectbox whose label contains `box_label`, typing to filter a long list."""
    page.locator("[data-testid='stSelectbox']").filter(has_text=box_label).first.click()
    if isinstance(option, str):
        page.keyboard.type(option)
    page.get_by_role(
        "option", name=option if isinstance(option, re.Pattern) else re.compile(re.escape(option))
    ).first.click()
    _settle(page)
    _no_exception(page)


def test_squad_short_answers_compare_and_examples(server, browser) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _settle(page)
    page.get_by_text("Demo: SQuAD v1.1 dev").click()
    _settle(page)
    page.get_by_role("button", name="Use SQuAD").click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("10,570 rows", exact=True).first.wait_for(timeout=60_000)
    # Match-LSTM's published F1, in the scores table (a canvas grid: its cells are hidden DOM nodes)
    page.wait_for_function("() => document.body.innerHTML.includes('76.8% [')", timeout=60_000)
    body = page.inner_text("body")
    assert "match_lstm" in body and "bert_ensemble" in body and "VADER" not in body
    # the short names on the page, each answers file's path on hover (issue 18: no server paths in names)
    main = page.inner_html("[data-testid='stMain']")
    assert re.search(r'title="file:[^"]*match_lstm\.json"', main) and "/squad/predictions/match_lstm.json ·" not in body
    _full_shot(page, SHOTS / "gen_data_models.png")

    page.get_by_role("link", name="Slices").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("default slices for generation data").first.wait_for(timeout=60_000)
    _pick(page, "Slice", "short_answers")
    page.get_by_role("button", name="Edit").click()
    _settle(page)
    page.get_by_text("Editing 'short_answers'").wait_for(timeout=60_000)
    page.get_by_text("Matching rows").first.wait_for(timeout=30_000)
    text = page.inner_text("body")
    assert "10,554" in text and "Baseline F1 here" in text and "short_answer == true" in text, text[:3000]
    _full_shot(page, SHOTS / "gen_slices.png")

    page.get_by_role("link", name="Compare").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("92.2%", exact=True).first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    assert "Verdict: SHIP" in text and "Every gate passes" in text, text[:3000]
    page.get_by_text("exact match", exact=True).first.click()  # the metric picker
    _settle(page)
    page.get_by_text("86.2%", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("67.6%", exact=True).first.wait_for(timeout=60_000)
    assert "Rows where exact match lost" in page.inner_text("body")
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=60_000)
    _full_shot(page, SHOTS / "gen_compare.png")
    page.get_by_role("tab", name="Table").click()
    page.wait_for_timeout(800)
    _full_shot(page, SHOTS / "gen_compare_table.png")

    page.get_by_role("link", name="Examples").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("Showing rows 1–100 of", exact=False).first.wait_for(timeout=60_000)
    assert "Regressed (exact match lost)" in page.inner_text("body")  # the metric picked on Compare
    _pick(page, "Slice", "short_answers")
    page.get_by_text("slice rule", exact=False).first.wait_for(timeout=60_000)
    _pick(page, "Row detail", re.compile(".+"))
    page.get_by_text("Gold answer(s):", exact=False).first.wait_for(timeout=60_000)
    html = page.inner_html("[data-testid='stMain']")
    assert "<mark" in html and "shared with a gold answer" in html, html[-3000:]
    _full_shot(page, SHOTS / "gen_examples.png")

    page.get_by_role("link", name="Stress tests").first.click()  # live answers: SmolLM2 from the wheel
    _settle(page)
    _no_exception(page)
    page.get_by_role("button", name="Take a random row of the data").click()
    _settle(page)
    page.get_by_role("button", name="Answer with both").click()
    _settle(page, timeout=240)
    _no_exception(page)
    page.get_by_text("One prompt is an example, not evidence", exact=False).first.wait_for(timeout=120_000)
    assert "baseline: SmolLM2-135M-Instruct" in page.inner_text("body")
    _full_shot(page, SHOTS / "gen_stress.png")
    # which question words the answer's score depends on (occlusion by the score of the answer)
    page.get_by_role("button", name=re.compile("^Explain the answers")).click()
    page.get_by_text("deleting the word lowers the answer's F1", exact=False).first.wait_for(timeout=300_000)
    _settle(page, timeout=120)
    _no_exception(page)
    _full_shot(page, SHOTS / "gen_stress_explained.png")
    page.close()
