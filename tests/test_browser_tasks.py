"""Any task in the browser: a non-sentiment TweetEval-format folder (the shared sentiment data with
its labels renamed and their ids reordered) opened from the allowed data folders, read through its
mapping.txt, and followed to Compare. Screenshots land in `artifacts/screenshots/`."""

from __future__ import annotations

import pytest

from evalcore.core.units import pct
from tests.task_folders import ORDER, raw_ids, renamed_tweeteval
from tests.test_browser import SHOTS, _full_shot, _no_exception, _settle, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
N_ROWS = 2000


def test_open_a_renamed_task_folder_and_reach_compare(server, browser) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    folder = renamed_tweeteval(server["home"] / "work" / "uploads" / "stance_task", n_rows=N_ROWS)
    gold, roberta = raw_ids(folder, "test_labels.txt"), raw_ids(folder, "predictions_roberta.txt")
    accuracy = sum(g == p for g, p in zip(gold, roberta)) / len(gold)
    majority = gold.count("0") / len(gold)  # id 0 is `none` in this folder's mapping.txt

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _settle(page)
    page.get_by_text("TweetEval-format folder, any task").click()
    _settle(page)
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="TweetEval-format folders")
    if "stance_task" not in box.inner_text():
        box.click()
        page.get_by_role("option", name=str(folder)).click()
        _settle(page)
    page.get_by_role("button", name="Load folder").click()
    _settle(page)
    _no_exception(page)
    page.get_by_text(f"{N_ROWS:,} rows", exact=True).first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "0=none,1=against,2=favor" in body and "VADER" not in body
    _full_shot(page, SHOTS / "task_data_models.png")

    page.get_by_role("link", name="Slices").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text("Gold labels overall", exact=False).first.wait_for(timeout=60_000)
    _full_shot(page, SHOTS / "task_slices.png")
    text = page.inner_text("body")
    assert "default slices for this task's labels (none, against, favor)" in text
    assert "Saved slices (12)" in text  # the generic set, none of its slices empty on these 2,000 rows
    assert all(label in text.split("Gold labels overall")[1] for label in ORDER)

    page.get_by_role("link", name="Compare").first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_text(pct(accuracy), exact=True).first.wait_for(timeout=60_000)
    page.get_by_text(pct(majority), exact=True).first.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=60_000)
    _full_shot(page, SHOTS / "task_compare.png")
    assert "Traceback" not in page.inner_text("body")
    tab = page.get_by_role("tab", name="Per class")
    if tab.count():  # per-class results on Compare (issue 10, item 5): the task's own labels, in its order
        tab.first.click()
        _settle(page)
        _no_exception(page)
        _full_shot(page, SHOTS / "task_compare_per_class.png")
    page.close()
