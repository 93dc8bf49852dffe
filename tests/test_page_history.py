"""History page under AppTest: three `report` runs on the lab file, then Compare (the same decision as one of
them: recorded once), then History: three decisions with their verdicts, a trend chart with intervals, two runs
compared; a damaged history file is a message, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from apptest_helpers import errors, open_page
from test_history import LAB, near_copy
from test_page_compare import _decode

from evalcore.cli import main
from evalcore.serve.history import HistoryStore, history_path


def _reports(tmp_path: Path) -> list[int]:
    codes = []
    for cand in ("gpt2", "vader", f"file:{near_copy(tmp_path)}"):
        codes.append(main(["report", "--data", LAB, "--baseline", "roberta", "--candidate", cand, "--verdict"]))
    return codes


def test_history_page_shows_three_decisions_a_trend_and_a_diff(evalcore_home: Path, tmp_path: Path, capsys) -> None:
    assert _reports(tmp_path) == [1, 1, 0]  # no-ship, no-ship, ship
    capsys.readouterr()
    # Compare on the demo workspace (lab, roberta -> gpt2, default gates and slices) is decision #1 again
    at = open_page("pages/compare.py")
    assert "🕘 In the history as decision #1 (see the History page)." in [c.value for c in at.caption]
    at.run()  # a rerun records nothing
    assert len(HistoryStore().decisions()) == 3 and HistoryStore().decisions()["times_seen"].max() == 2

    at.switch_page("pages/history.py")
    at.run()
    assert not at.exception and not errors(at)
    table = at.dataframe[0].value
    assert len(table) == 3
    assert dict(zip(table["candidate"], table["verdict"])) == {
        "gpt2": "no-ship",
        "vader": "no-ship",
        "roberta_v2": "ship",
    }
    assert "accuracy -30.0 pts [-35.6, -24.1]" in table["change [95%]"].tolist()
    assert set(table["who"]) != {""}
    # the trend: one point per decision, oldest first, with its interval, coloured by verdict
    at.selectbox(key="hist_slice").set_value("has_mention").run()
    fig = _decode(json.loads(at.get("plotly_chart")[0].proto.spec))
    assert fig.layout.title.text.startswith("accuracy change vs baseline on slice has_mention")
    points = {x: (y, t.name) for t in fig.data for x, y in zip(t.x, t.y)}
    assert list(fig.layout.xaxis.categoryarray) == [
        "#1 gpt2 (vs roberta)",
        "#2 vader (vs roberta)",
        "#3 roberta_v2 (vs roberta)",
    ]
    assert round(points["#1 gpt2 (vs roberta)"][0], 1) == -42.5  # report's figure for has_mention
    assert [points[x][1] for x in fig.layout.xaxis.categoryarray] == ["no-ship", "no-ship", "ship"]
    assert all(len(t.error_y.array) == len(t.x) and min(t.error_y.array) > 0 for t in fig.data)
    # the candidate's own score instead
    at.radio(key="hist_kind").set_value("candidate").run()
    fig = _decode(json.loads(at.get("plotly_chart")[0].proto.spec))
    assert fig.layout.title.text.startswith("accuracy candidate's score on slice has_mention")
    # two runs: #2 (vader) vs #3 (roberta_v2) by default (the two newest)
    diff = at.dataframe[1].value
    assert list(diff.columns[:4]) == ["slice", "n", "#2 change [95%]", "#3 change [95%]"]
    bullets = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert any("candidate: vader \\-\\> roberta\\_v2" in b or "candidate: vader -> roberta_v2" in b for b in bullets)
    assert any("moved on accuracy" in c.value for c in at.caption)
    # filter by model
    at.multiselect(key="hist_models").set_value(["vader"]).run()
    assert len(at.dataframe[0].value) == 1


def test_history_page_on_a_damaged_file_says_what_to_do(evalcore_home: Path) -> None:
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage" * 50)
    at = open_page()
    at.switch_page("pages/history.py")
    at.run()
    assert not at.exception
    assert any("is not a readable history database" in e and "move it aside" in e for e in errors(at))
    # Compare still shows its verdict; recording keeps the damaged file aside and starts a new history
    at.switch_page("pages/compare.py").run()
    assert not at.exception and errors(at)[0].startswith("**Verdict: NO-SHIP**")
    assert any("was damaged" in w.value and "a new history was started" in w.value for w in at.warning)
    kept = [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == b"garbage" * 50
    at.switch_page("pages/history.py").run()
    assert not errors(at) and len(at.dataframe[0].value) == 1


def test_history_page_empty(evalcore_home: Path) -> None:
    at = open_page()
    at.switch_page("pages/history.py")
    at.run()
    assert not at.exception and any("No decision recorded yet" in i.value for i in at.info)
