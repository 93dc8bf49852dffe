"""A million rows in the dashboard: load, Compare, then a slice edit, in headless Chromium.

Writes a 1,000,000-row Parquet file (TweetEval test tweets drawn with replacement, gold labels, and two
prediction columns with confidences: `baseline_model` about 72% right, `candidate_model` about 70%),
points a fresh workspace at it, starts the dashboard as `scripts/demo.sh` does (`python -m ui.launch`;
`EVALCORE_BENCH_PLAIN=1`: plain `streamlit run app.py`) and measures, in one run:

- the engine alone: load, predictions, features, df_eval, all metric tables;
- the first Compare render in the browser (load + features + metrics + charts);
- a slice edit on the Slices page (rule text, save), then Compare showing the new slice (metrics only:
  the data, predictions and features stay in memory);
- the Examples page (one page of 100 rows goes to the browser, not a million);
- the same data opened in a new browser session on the same server (one copy of the data and its tables per
  server, not per session), and after a server restart on the same evalcore home (the features are read back
  from the on-disk feature store, `evalcore.analyze.featurestore`);
- the server's resident and peak memory with one session and with three;
- the server's CPU seconds for the first Compare, the whole slice edit and the new session (steadier than
  wall-clock figures on a busy machine);
- each dashboard figure as a ratio of issue 21's (22.3 s, 4.9 s, 1.4 GB: 1M rows on a quiet machine), and the
  machine's load average at the start and the end (figures under load are not those of a quiet machine).

    python bench/bench_million.py                 # 1,000,000 rows
    python bench/bench_million.py --rows 200000   # quicker
    python bench/bench_million.py --sessions 3    # sessions open at once for the memory figure (default 3)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_multiuser import CHROMIUM, FLAGS, _rss_mb, _settle, serve  # noqa: E402

from evalcore.core.paths import shared_data_dir  # noqa: E402

LABELS = np.array(["negative", "neutral", "positive"], dtype=object)


def write_parquet(path: Path, n: int, seed: int = 0) -> None:
    folder = shared_data_dir() / "tweet_eval" / "sentiment"
    texts = np.array((folder / "test_text.txt").read_text(encoding="utf-8").splitlines(), dtype=object)
    gold_ids = np.array((folder / "test_labels.txt").read_text().split(), dtype=int)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(texts), n)
    gold = gold_ids[idx]

    def model(acc: float) -> tuple[np.ndarray, np.ndarray]:
        right = rng.random(n) < acc
        return LABELS[np.where(right, gold, (gold + rng.integers(1, 3, n)) % 3)], np.round(rng.uniform(0.34, 1, n), 3)

    base, base_conf = model(0.72)
    cand, cand_conf = model(0.70)
    pd.DataFrame(
        {
            "id": np.arange(n).astype(str),
            "text": texts[idx],
            "label": LABELS[gold],
            "baseline_model": base,
            "baseline_model_score": base_conf,
            "candidate_model": cand,
            "candidate_model_score": cand_conf,
        }
    ).to_parquet(path)


def engine_times(path: Path) -> dict[str, float]:
    from evalcore.analyze.slices import starter_slices
    from evalcore.io.load import load_data
    from evalcore.predict.load import load_predictor
    from evalcore.predict.scoring import score
    from evalcore.tasks.pipeline import analyse, build_eval, eval_base

    out = {}
    t = time.perf_counter()
    data = load_data(str(path))
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    preds = [
        score(data, load_predictor(s, data.labels, data=data), None) for s in ("baseline_model", "candidate_model")
    ]
    out["predictions"] = time.perf_counter() - t
    t = time.perf_counter()
    base = eval_base(data)
    out["features"] = time.perf_counter() - t
    t = time.perf_counter()
    eval_base(data)  # another session, process or server: read back from the feature store
    out["features again (feature store)"] = time.perf_counter() - t
    t = time.perf_counter()
    df = build_eval(data, preds[0], preds[1], base=base)
    out["df_eval"] = time.perf_counter() - t
    t = time.perf_counter()
    analyse(df, starter_slices(), data.labels)
    out["all metric tables (10 slices)"] = time.perf_counter() - t
    return out


TIMEOUT_S = float(os.environ.get("EVALCORE_BENCH_TIMEOUT_S", "600"))
ISSUE = {"first": 22.3, "edit": 4.9, "peak_mb": 1400}  # issue 21's figures, 1M rows on a quiet machine


def _cpu_s(pid: int) -> float:
    """The server's CPU seconds so far (user + system, /proc): under load a wall-clock figure grows with the
    other processes' work, this one much less, so before/after comparisons on a busy machine read it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


LAST = "Calibration"  # the Compare page's last section: its tabs (confusion matrices drawn, calibration shut)
IDLE = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''"
)


def _shown(page, timeout: float = TIMEOUT_S) -> None:
    """Compare is drawn to its end and its run is over: the verdict, the page's last element, then no run in
    progress (polled: no fixed pause; earlier figures added a 0.3 s pause before the last check)."""
    page.get_by_text("Verdict:").first.wait_for(timeout=timeout * 1000)
    page.get_by_role("tab", name=LAST).first.wait_for(timeout=timeout * 1000)
    page.wait_for_function(IDLE, timeout=timeout * 1000, polling=50)


def _compare(page, url: str) -> float:
    """Seconds from opening Compare to its verdict drawn, the page drawn to its end and its run over."""
    from bench_multiuser import _shoot

    t = time.perf_counter()
    page.goto(f"{url}/compare")
    try:
        _shown(page)
    except Exception:
        _shoot(page, f"bench_million_compare_{int(t)}")
        raise
    return time.perf_counter() - t


def _judged(page) -> int:
    """The verdict's count of slices (`N slices judged` + too small + model-defined) on the Compare page."""
    import re

    text = page.inner_text("body")
    return sum(int(m) for m in re.findall(r"(\d+) (?:slices judged|too small to judge|model-defined)", text))


def _edit(page, url: str, pid: int) -> tuple[float, float, bool]:
    """Save a new slice on the Slices page, then open Compare: (seconds from Save to Compare shown with it, the
    server's CPU seconds in that interval, whether Compare counts one slice more)."""
    before = _judged(page)
    page.get_by_role("link", name="Slices").first.click()
    _settle(page)
    box = page.get_by_role("textbox", name="Rule text")
    box.fill("has_negation == true and word_count > 12")
    box.press("Control+Enter")
    _settle(page)
    page.get_by_role("button", name="Apply text").click()
    _settle(page)
    name = page.get_by_role("textbox", name="Slice name")
    name.fill("long_negations")
    name.press("Enter")  # committed in its own rerun: under load a later rerun must not find it unsent
    _settle(page)
    page.get_by_role("textbox", name="Hypothesis").first.fill("Long negated tweets are hard")
    page.get_by_role("textbox", name="Hypothesis").first.press("Control+Enter")
    _settle(page)
    t, cpu = time.perf_counter(), _cpu_s(pid)
    page.get_by_role("button", name="Save as a new slice").click()
    page.get_by_text("Saved slice 'long_negations'").first.wait_for(timeout=TIMEOUT_S * 1000)  # saved, not lost
    page.get_by_role("link", name="Compare").first.click()  # at once, as a user who saw the message would
    page.wait_for_function(  # Compare counts the new slice ...
        "n => [...document.body.innerText.matchAll(/(\\d+) (?:slices judged|too small to judge|model-defined)/g)]"
        ".reduce((s, m) => s + Number(m[1]), 0) === n",
        arg=before + 1,
        timeout=TIMEOUT_S * 1000,
        polling=50,
    )
    _shown(page)  # ... and is drawn to its end, its run over
    edit = time.perf_counter() - t
    return edit, _cpu_s(pid) - cpu, _judged(page) == before + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=3, help="browser sessions open at once for the memory figure")
    args = parser.parse_args()
    from bench_multiuser import _shoot
    from playwright.sync_api import sync_playwright

    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    home = Path(tempfile.mkdtemp(prefix="evalcore_million_"))
    data_dir = home / "data"
    data_dir.mkdir()
    path = data_dir / "million.parquet"
    t = time.perf_counter()
    write_parquet(path, args.rows)
    print(
        f"wrote {args.rows:,} rows to {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - t:.1f} s"
    )
    engine_home = home / "engine_home"  # the engine's own figures must not fill the dashboard's feature store
    os.environ["EVALCORE_HOME"] = str(engine_home)
    for name, seconds in engine_times(path).items():
        print(f"  engine · {name:<30} {seconds:6.2f} s")

    (home / "work").mkdir(parents=True)
    (home / "work" / "workspace.json").write_text(
        json.dumps({"data": {"source": str(path)}, "baseline": "baseline_model", "candidate": "candidate_model"})
    )
    out: dict[str, float] = {}
    ok = True
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        with serve(home, EVALCORE_DATA_ROOTS=str(data_dir)) as (url, server):
            page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
            cpu = _cpu_s(server.pid)
            out["first"] = _compare(page, url)
            out["cpu_first"], cpu = _cpu_s(server.pid) - cpu, _cpu_s(server.pid)
            try:
                out["edit"], out["cpu_edit_interval"], found = _edit(page, url, server.pid)
            except Exception as exc:  # noqa: BLE001 (reported: the edit figure is missing, the rest goes on)
                print(f"the slice edit failed: {str(exc).splitlines()[0][:200]}")
                out["edit"], out["cpu_edit_interval"], found = float("nan"), float("nan"), False
            out["cpu_edit"] = _cpu_s(server.pid) - cpu  # the whole edit: Slices page, typing, save, Compare
            if not found:
                _shoot(page, "bench_million_edit")
                ok = False
            t = time.perf_counter()
            page.get_by_role("link", name="Examples").first.click()
            page.get_by_text("Showing rows").first.wait_for(timeout=TIMEOUT_S * 1000)  # the page of rows is there
            _settle(page, 600)
            out["examples"] = time.perf_counter() - t
            shown = page.locator("[data-testid='stDataFrame']").count() > 0
            if not shown:
                _shoot(page, "bench_million_examples")
                print("the Examples page shows no table (screenshot bench_million_examples.png)")
            ok = ok and shown
            out["rss_1"], out["peak_1"] = _rss_mb(server.pid)
            # a new session on the same server: the data, predictions, features and tables are the server's
            second = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
            cpu = _cpu_s(server.pid)
            out["new_session"] = _compare(second, url)
            out["cpu_new"] = _cpu_s(server.pid) - cpu
            for _ in range(args.sessions - 2):
                _compare(browser.new_context(viewport={"width": 1300, "height": 900}).new_page(), url)
            out["rss_n"], out["peak_n"] = _rss_mb(server.pid)
        # a restarted server on the same evalcore home: features are read back from the on-disk store
        with serve(home, EVALCORE_DATA_ROOTS=str(data_dir)) as (url, server):
            page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
            out["restart"] = _compare(page, url)
        browser.close()

    from evalcore.analyze import featurestore

    print(
        f"  engine · feature tables computed {featurestore.COMPUTED['features']}, read back from disk "
        f"{featurestore.READ['features']}"
    )

    def ratio(key: str, issue: str) -> str:
        return f"  ({out[key] / ISSUE[issue]:.2f}x the issue's {ISSUE[issue]:g})"

    scale = "" if args.rows == 1_000_000 else f" [issue figures are for 1,000,000 rows, this run {args.rows:,}]"
    print(
        f"dashboard · first Compare render (load, features, metrics, charts): {out['first']:6.1f} s"
        + ratio("first", "first")
        + scale
    )
    print(
        f"dashboard · slice edit saved -> Compare with the new slice:        {out['edit']:6.1f} s"
        + ratio("edit", "edit")
        + ("" if found else "  THE NEW SLICE IS MISSING")
    )
    print(f"dashboard · the same data in a new session (same server):          {out['new_session']:6.1f} s")
    print(f"dashboard · the same data after a server restart (features from disk): {out['restart']:6.1f} s")
    print(f"dashboard · Examples page (one page of 100 rows):                 {out['examples']:6.1f} s")
    print(
        f"server CPU · first Compare {out['cpu_first']:.1f} s, the whole slice edit (Slices page, typing, save, "
        f"Compare) {out['cpu_edit']:.1f} s, of which from Save to Compare shown {out['cpu_edit_interval']:.2f} s, "
        f"new session {out['cpu_new']:.1f} s"
    )
    print(
        f"server memory · 1 session: RSS {out['rss_1']:,.0f} MB, peak {out['peak_1']:,.0f} MB"
        + f"  ({out['peak_1'] / ISSUE['peak_mb']:.2f}x the issue's {ISSUE['peak_mb']:,} MB)"
    )
    print(f"server memory · {args.sessions} sessions: RSS {out['rss_n']:,.0f} MB, peak {out['peak_n']:,.0f} MB")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("all steps confirmed" if ok else "SOME STEP WAS NOT CONFIRMED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
