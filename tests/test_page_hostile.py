"""Every page under AppTest with hostile text in every field a visitor fills (issue 19, item 5): no Markdown body
the pages send (text, captions, messages, metric labels and values) holds an image, a link or HTML that the text
brought with it; code spans may hold it, since their content is shown literally. The browser test
(tests/test_browser_hostile.py) checks that nothing loads."""

from __future__ import annotations

import re

import pytest
from apptest_helpers import open_page
from test_safetext import HOST, HOSTILE

PAGES = [
    "pages/data_models.py",
    "pages/slices.py",
    "pages/compare.py",
    "pages/examples.py",
    "pages/stress.py",
    "pages/share.py",
]
ACTIVE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\[[^\]]*(?<!\\)\]\(|(?<!\\)<img|(?<!\\)\$[^$]+(?<!\\)\$")


def _bodies(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [str(m.label), str(m.value)]
    return out


def _hostile_home(evalcore_home) -> None:
    from evalcore.serve.workspace import Workspace, save_workspace

    uploads = evalcore_home / "work" / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    labels = ["negative", "positive"]
    lines = ["id,text,label,m1,m2"]
    for i in range(40):
        text = f"{HOSTILE} row {i}".replace('"', '""')
        lines.append(
            f'"![id{i}](http://{HOST}/{i}.png)","{text}",{labels[i % 2]},{labels[(i // 3) % 2]},{labels[(i // 2) % 2]}'
        )
    (uploads / "hostile.csv").write_text("\n".join(lines) + "\n")
    save_workspace(
        Workspace(
            data={"source": str(uploads / "hostile.csv"), "text_col": "text", "label_col": "label", "id_col": "id"},
            baseline="m1",
            candidate="m2",
            slices=[
                {
                    "name": "hostile_rule",
                    "rule": {"col": "text", "op": "contains", "value": f"`![r](http://{HOST}/rule.png)`"},
                    "note": HOSTILE,
                }
            ],
            custom_features=[
                {
                    "name": "hostile_feature",
                    "kind": "keywords",
                    "pattern": ["row"],
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
    )


@pytest.mark.parametrize("page", PAGES)
def test_no_page_turns_hostile_text_into_markup(page, evalcore_home) -> None:
    _hostile_home(evalcore_home)
    at = open_page(page)
    bodies = []
    if page == "pages/examples.py":  # the hostile slice's caption (rule and hypothesis), then a row's detail
        at.selectbox(key="ex_slice").set_value("hostile_rule").run()
        bodies += _bodies(at)
        at.selectbox(key="ex_slice").set_value("all").run()
        at.multiselect(key="ex_outcomes").set_value([]).run()
        at.selectbox(key="ex_detail").set_value(at.selectbox(key="ex_detail").options[0]).run()
    if page == "pages/stress.py":
        at.button(key="stress_score").click().run()
    assert not at.exception, [e.value for e in at.exception]
    bodies += _bodies(at)
    if page in ("pages/slices.py", "pages/examples.py"):  # where the text is shown in Markdown (a feature's
        assert any(HOST in b for b in bodies)  # description; a slice's hypothesis, a row's text and id)
    active = [b for b in bodies if ACTIVE.search(re.sub(r"(`+)(.+?)\1", "", b))]
    assert not active, active[:3]
