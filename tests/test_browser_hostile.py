"""Text a visitor wrote is shown as text on every page (issue 19, item 5), in headless Chromium.

One workspace holds a hostile string everywhere a visitor can put one: the rows' text and ids of the data
file, a slice's hypothesis and rule (a backtick that would close its code span, then a Markdown image), a
custom feature's description and hypothesis, a stress case, the stress hypothesis and the report notes. Every
page is opened (a row's detail too, and the stress case scored); no request may leave for the hostile host and
no `<img>` may point at it. The string is also read on the page, as the text it is.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.test_browser import SHOTS, _full_shot, _no_exception, _settle, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

HOST = "evil.example"
HOSTILE = (
    f'![x](http://{HOST}/a.png) <img src="http://{HOST}/b.png"> [link](http://{HOST}/c) '
    ":material/warning: :red[red] $x^2$ **bold** `tick"
)
PAGES = ["", "slices", "compare", "examples", "stress", "share"]


def _hostile_workspace(home) -> None:
    from evalcore.serve.workspace import Workspace

    uploads = home / "work" / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    labels = ["negative", "positive"]
    with open(uploads / "hostile.csv", "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=["id", "text", "label", "m1", "m2"])
        out.writeheader()
        for i in range(60):
            out.writerow(
                {
                    "id": f"![id{i}](http://{HOST}/id{i}.png)",
                    "text": f"{HOSTILE} row {i} " + ("I love it" if i % 3 else "I hate it, it is awful"),
                    "label": labels[i % 2],
                    "m1": labels[i % 2] if i % 5 else labels[1 - i % 2],
                    "m2": labels[(i // 2) % 2],
                }
            )
    rule_value = f"`![r](http://{HOST}/rule.png)`"
    ws = Workspace(
        data={"source": str(uploads / "hostile.csv"), "text_col": "text", "label_col": "label", "id_col": "id"},
        baseline="m1",
        candidate="m2",
        slices=[
            {"name": "hostile_rule", "rule": {"col": "text", "op": "contains", "value": rule_value}, "note": HOSTILE},
            {"name": "hate_rows", "rule": {"col": "text", "op": "contains", "value": "hate"}, "note": HOSTILE},
        ],
        custom_features=[
            {
                "name": "hostile_feature",
                "kind": "keywords",
                "pattern": ["love"],
                "description": HOSTILE,
                "hypothesis": HOSTILE,
            }
        ],
        stress={
            "hypothesis": HOSTILE,
            "cases": [{"text": HOSTILE, "label": "positive", "source": "typed"}],
            "models": {"baseline": "vader", "candidate": "vader:0.3"},
        },
        notes=HOSTILE,
    )
    path = home / "work" / "workspaces" / "hostile.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ws.to_dict()))


def test_hostile_text_loads_nothing_and_reads_as_text_on_every_page(server, browser) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    _hostile_workspace(server["home"])
    requested: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", lambda r: requested.append(r.url) if HOST in r.url else None)
    seen = {}
    for slug in PAGES:
        page.goto(f"{server['url']}/{slug}?ws=hostile")
        _settle(page)
        _no_exception(page)
        if slug == "examples":  # the slice with the hostile hypothesis, then a row's detail
            page.locator("[data-testid='stSelectbox']").filter(has_text="Slice").first.click()
            page.get_by_role("option", name=re.compile("^hate_rows")).click()
            _settle(page)
            page.locator("[data-testid='stSelectbox']").filter(has_text="Row detail").click()
            page.get_by_role("option").nth(1).click()
            _settle(page)
            _no_exception(page)
        if slug == "slices":  # the custom feature's description and hypothesis are on their tab
            page.get_by_role("tab", name=re.compile("Custom features")).click()
            page.get_by_text("Your features (1)").wait_for(timeout=60_000)
        if slug == "stress":
            page.get_by_role("button", name=re.compile("^Score 1 case")).click()
            _settle(page)
            _no_exception(page)
        html = page.content()
        assert not re.search(rf"<img[^>]+src=\"https?://{re.escape(HOST)}", html), slug
        seen[slug] = page.inner_text("[data-testid='stMain']")
        _full_shot(page, SHOTS / f"hostile_{slug or 'home'}.png")
    assert requested == [], requested
    # read as written: the Markdown image of a hypothesis, a row's text and id, a stress case
    assert f"![x](http://{HOST}/a.png)" in seen["examples"]  # the row's text in its detail
    assert re.search(rf"!\[id\d+\]\(http://{re.escape(HOST)}/id\d+\.png\)", seen["examples"])  # its id
    assert f"hypothesis: {HOSTILE[:30]}" in seen["examples"]  # the slice's hypothesis in the caption
    assert f"![x](http://{HOST}/a.png)" in seen["slices"]  # the custom feature's description
    assert "$x^2$ **bold**" in seen["slices"]  # no LaTeX, no bold: the characters themselves
    assert ":material/warning: :red[red]" in seen["examples"]  # no icon, no colour
    page.close()
