"""A million rows in the dashboard: load, Compare, then a slice edit, in headless Chromium.

Writes a 1,000,000-row Parquet file (TweetEval test tweets drawn with replacement, gold labels, and two
prediction columns with confidences: `baseline_model` about 72% right, `candidate_model` about 70%),
points a fresh workspace at it, starts `streamlit run app.py` and measures, in one run:

- the engine alone: load, predictions, features, df_eval, all metric tables;
- the first Compare render in the browser (load + features + metrics + charts);
- a slice edit on the Slices page (rule text, save), then Compare showing the new slice (metrics only:
  the data, predictions and features stay in memory);
- the Examples page (one page of 100 rows goes to the browser, not a million);
- the server's peak resident memory.

    python bench/bench_million.py                 # 1,000,000 rows
    python bench/bench_million.py --rows 200000   # quicker
"""
from __future__ import annotations

import argparse
import json
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
    pd.DataFrame({"id": np.arange(n).astype(str), "text": texts[idx], "label": LABELS[gold],
                  "baseline_model": base, "baseline_model_score": base_conf,
                  "candidate_model": cand, "candidate_model_score": cand_conf}).to_parquet(path)


def engine_times(path: Path) -> dict[str, float]:
    from evalcore.io.load import load_data
    from evalcore.predict.load import load_predictor
    from evalcore.tasks.pipeline import analyse, build_eval, eval_base
    from evalcore.predict.scoring import score
    from evalcore.analyze.slices import starter_slices

    out = {}
    t = time.perf_counter()
    data = load_data(str(path))
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    preds = [score(data, load_predictor(s, data.labels, data=data), None) for s in ("baseline_model", "candidate_model")]
    out["predictions"] = time.perf_counter() - t
    t = time.perf_counter()
    base = eval_base(data)
    out["features"] = time.perf_counter() - t
    t = time.perf_counter()
    df = build_eval(data, preds[0], preds[1], base=base)
    out["df_eval"] = time.perf_counter() - t
    t = time.perf_counter()
    analyse(df, starter_slices(), data.labels)
    out["all metric tables (10 slices)"] = time.perf_counter() - t
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="evalcore_million_"))
    data_dir = home / "data"
    data_dir.mkdir()
    path = data_dir / "million.parquet"
    t = time.perf_counter()
    write_parquet(path, args.rows)
    print(f"wrote {args.rows:,} rows to {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - t:.1f} s")
    for name, seconds in engine_times(path).items():
        print(f"  engine · {name:<30} {seconds:6.2f} s")

    (home / "work").mkdir(parents=True)
    (home / "work" / "workspace.json").write_text(json.dumps(
        {"data": {"source": str(path)}, "baseline": "baseline_model", "candidate": "candidate_model"}))
    with serve(home, EVALCORE_DATA_ROOTS=str(data_dir)) as (url, server):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            t = time.perf_counter()
            page.goto(f"{url}/compare")
            page.get_by_text("Verdict:").first.wait_for(timeout=600_000)
            _settle(page, 600)
            first = time.perf_counter() - t
            page.get_by_role("link", name="Slices").first.click()
            _settle(page)
            box = page.get_by_role("textbox", name="Rule text")
            box.fill("has_negation == true and word_count > 12")
            box.press("Control+Enter")
            _settle(page)
            page.get_by_role("button", name="Apply text").click()
            _settle(page)
            page.get_by_role("textbox", name="Slice name").fill("long_negations")
            page.get_by_role("textbox", name="Hypothesis").first.fill("Long negated tweets are hard")
            page.get_by_role("textbox", name="Hypothesis").first.press("Control+Enter")
            _settle(page)
            t = time.perf_counter()
            page.get_by_role("button", name="Save as a new slice").click()
            _settle(page)
            page.get_by_role("link", name="Compare").first.click()
            page.get_by_text("Verdict:").first.wait_for(timeout=600_000)
            _settle(page, 600)
            edit = time.perf_counter() - t
            found = "long_negations" in page.inner_text("body")
            t = time.perf_counter()
            page.get_by_role("link", name="Examples").first.click()
            _settle(page, 600)
            examples = time.perf_counter() - t
            shown = page.locator("[data-testid='stDataFrame']").first.inner_text()
            rss, peak = _rss_mb(server.pid)
            browser.close()
    print(f"dashboard · first Compare render (load, features, metrics, charts): {first:6.1f} s")
    print(f"dashboard · slice edit saved -> Compare with the new slice:        {edit:6.1f} s"
          f" ({'the new slice is shown' if found else 'THE NEW SLICE IS MISSING'})")
    print(f"dashboard · Examples page (one page of 100 rows):                 {examples:6.1f} s")
    print(f"server RSS {rss:,.0f} MB, peak {peak:,.0f} MB")
    return 0 if found and shown else 1


if __name__ == "__main__":
    raise SystemExit(main())
