"""Benchmark: all slice and regression metrics (with intervals) over 1,000,000 rows and 20 slice rules.

Compares evalcore.stats.metrics (slices stacked into one matrix, counts by code) with the straightforward
per-slice pandas loop of the lab notebook (boolean mask on df_long, groupby('model').apply, then
the regression rates on df_eval), computing the same numbers, and checks that both agree.

    python bench/bench_slices.py                 # 1,000,000 rows, prints times and the ratio
    python bench/bench_slices.py --rows 100000   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalcore.analyze.tables import build_df_eval, build_df_long  # noqa: E402
from evalcore.stats.intervals import mcnemar_exact, paired_difference_interval, wilson_interval
from evalcore.stats.metrics import calibration_metrics, regression_metrics, slice_metrics

LABELS = ["negative", "neutral", "positive"]
RULES = {
    "has_negation": "has_negation == true",
    "has_hashtag": "has_hashtag == true",
    "has_mention": "has_mention == true",
    "has_url": "has_url == true",
    "has_question": "has_question == true",
    "has_exclamation": "has_exclamation == true",
    "has_all_caps": "has_all_caps == true",
    "has_strong_sentiment": "has_strong_sentiment == true",
    "has_contrast": "has_contrast == true",
    "emoji_dense": "emoji_dense == true",
    "short_tweets": 'length_bucket == "short"',
    "long_tweets": 'length_bucket == "long"',
    "not_long": 'length_bucket in ["short", "medium"]',
    "many_emoji": "emoji_count >= 2",
    "wordy": "word_count > 25",
    "negated_contrast": "has_negation == true and has_contrast == true",
    "question_or_shout": "has_question == true or has_all_caps == true",
    "no_url_gold_neutral": 'not has_url == true and label == "neutral"',
    "says_lol": 'text contains "lol"',
    "candidate_sure": "conf_candidate_model >= 0.9",
}


@dataclass
class Preds:
    model: str
    pred: np.ndarray
    conf: np.ndarray


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, Preds, Preds]:
    """Tweets-like rows: 3 labels, boolean / count features, a length bucket, two models whose
    accuracy depends on the features (the candidate is weaker on negation and contrast)."""
    rng = np.random.default_rng(seed)
    words = np.array(["good", "bad", "lol", "not", "but", "meh", "love", "hate", "today", "game", "#win", "@user"])
    pool = np.array([" ".join(rng.choice(words, rng.integers(3, 30))) for _ in range(2000)])
    text = pool[rng.integers(0, len(pool), n)]
    word_count = rng.poisson(14, n) + 1
    length_chars = word_count * 6 + rng.integers(0, 20, n)
    df = pd.DataFrame(
        {
            "id": np.char.add("r", np.arange(n).astype(str)),
            "text": text,
            "label": np.array(LABELS)[rng.choice(3, n, p=[0.3, 0.45, 0.25])],
            "has_negation": rng.random(n) < 0.18,
            "has_hashtag": rng.random(n) < 0.25,
            "has_mention": rng.random(n) < 0.4,
            "has_url": rng.random(n) < 0.15,
            "has_question": rng.random(n) < 0.12,
            "has_exclamation": rng.random(n) < 0.2,
            "has_all_caps": rng.random(n) < 0.08,
            "has_strong_sentiment": rng.random(n) < 0.3,
            "has_contrast": rng.random(n) < 0.1,
            "emoji_count": rng.poisson(0.6, n),
            "word_count": word_count,
            "length_chars": length_chars,
        }
    )
    df["emoji_dense"] = df["emoji_count"] / df["word_count"] > 0.1
    df["length_bucket"] = pd.cut(df["length_chars"], [0, 60, 120, np.inf], labels=["short", "medium", "long"]).astype(
        "str"
    )
    gold = df["label"].map({k: i for i, k in enumerate(LABELS)}).to_numpy()
    neg, contrast = df["has_negation"].to_numpy(), df["has_contrast"].to_numpy()
    base_ok = rng.random(n) < 0.72
    cand_ok = np.where(rng.random(n) < 0.8, base_ok, rng.random(n) < 0.72)
    cand_ok &= ~((neg | contrast) & (rng.random(n) < 0.15))

    def preds(ok: np.ndarray) -> np.ndarray:
        return np.array(LABELS)[np.where(ok, gold, (gold + 1 + rng.integers(0, 2, n)) % 3)]

    return (
        df,
        Preds("baseline_model", preds(base_ok), rng.beta(5, 2, n)),
        Preds("candidate_model", preds(cand_ok), rng.beta(6, 2, n)),
    )


def rule_masks(df_eval: pd.DataFrame) -> dict[str, np.ndarray]:
    """The 20 rules through evalcore.analyze.rules: parse, validate against the table's schema, evaluate."""
    from evalcore.analyze.rules import Schema, evaluate, parse_rule

    schema = Schema.from_frame(df_eval)
    return {name: np.asarray(evaluate(parse_rule(text), df_eval, schema), dtype=bool) for name, text in RULES.items()}


def ours(df_eval: pd.DataFrame, masks: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return slice_metrics(df_eval, masks, labels=LABELS), regression_metrics(df_eval, masks)


def pandas_loop(df_long: pd.DataFrame, df_eval: pd.DataFrame, masks: dict[str, np.ndarray]):
    """The lab notebook's way, computing the same outputs: per slice, filter df_long and
    groupby('model').apply the metrics (per-label counts with pandas comparisons), then the
    regression rates and the paired test on the filtered df_eval; BH at the end.

    (Calling sklearn's precision_recall_fscore_support inside the apply gives the same numbers
    but is ~10x slower still on string labels, so the loop uses pandas comparisons.)"""
    from scipy.stats import false_discovery_control

    def per_model(g: pd.DataFrame) -> pd.Series:
        n = len(g)
        lo, hi = wilson_interval(g["correct"].sum(), n)
        out = {"n": n, "accuracy": g["correct"].mean(), "acc_lo": float(lo), "acc_hi": float(hi)}
        f1s = []
        for k in LABELS:
            is_gold, is_pred = g["label"] == k, g["pred"] == k
            tp, gold, pred = int((is_gold & is_pred).sum()), int(is_gold.sum()), int(is_pred.sum())
            out[f"precision_{k}"] = tp / pred if pred else np.nan
            out[f"recall_{k}"] = tp / gold if gold else np.nan
            if gold + pred:
                f1s.append(2 * tp / (gold + pred))
        out["macro_f1"] = float(np.mean(f1s)) if f1s else np.nan
        return pd.Series(out)

    slice_rows, reg_rows = [], []
    for name, mask in {"all": np.ones(len(df_eval), bool), **masks}.items():
        sub = df_long[np.tile(mask, 2)]
        per = sub.groupby("model", sort=False)[["label", "pred", "correct"]].apply(per_model).reset_index()
        per.insert(0, "slice", name)
        slice_rows.append(per)
        ev = df_eval[mask]
        both, improved = int(ev["both_correct"].sum()), int(ev["improved"].sum())
        regressed, neither = int(ev["regressed"].sum()), int(ev["both_wrong"].sum())
        lo, hi = paired_difference_interval(both, improved, regressed, neither)
        reg_rows.append(
            {
                "slice": name,
                "n": len(ev),
                "baseline_accuracy": ev["baseline_correct"].mean(),
                "candidate_accuracy": ev["candidate_correct"].mean(),
                "delta": ev["candidate_correct"].mean() - ev["baseline_correct"].mean(),
                "delta_lo": float(lo),
                "delta_hi": float(hi),
                "regression_rate": ev["regressed"].mean(),
                "improvement_rate": ev["improved"].mean(),
                "confident_regression_rate": ev["confident_regression"].mean(),
                "mcnemar_p": float(mcnemar_exact(improved, regressed)),
            }
        )
    reg = pd.DataFrame(reg_rows)
    reg["p_adjusted"] = np.r_[reg["mcnemar_p"].iloc[:1], false_discovery_control(reg["mcnemar_p"].iloc[1:])]
    return pd.concat(slice_rows, ignore_index=True), reg


def timed(fn, *args, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return result, times


def max_difference(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> float:
    a, b = a.set_index(keys), b.set_index(keys)
    cols = [c for c in b.columns if c in a.columns and pd.api.types.is_numeric_dtype(b[c])]
    diff = (a.loc[b.index, cols].astype(float) - b[cols].astype(float)).abs().to_numpy()
    return float(np.nanmax(diff))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5, help="runs of our code (the pandas loop runs once)")
    parser.add_argument("--skip-pandas", action="store_true", help="time only evalcore")
    args = parser.parse_args()

    start = time.perf_counter()
    import scipy.stats  # noqa: F401  one-off import, reported on its own
    import sklearn.metrics  # noqa: F401

    t_import = time.perf_counter() - start

    base, baseline, candidate = synthetic(args.rows, args.seed)
    df_eval, t_build = timed(build_df_eval, base, baseline, candidate)
    masks, t_rules = timed(rule_masks, df_eval, repeat=max(1, args.repeat // 2))
    (sm, rm), t_ours = timed(ours, df_eval, masks, repeat=args.repeat)
    n_slices = len(masks)
    print(f"rows: {args.rows:,}  slices: {n_slices} rules (+ all)  models: 2  labels: {len(LABELS)}")
    print(f"import scipy.stats + sklearn.metrics (one-off): {t_import:6.2f} s")
    print(f"build_df_eval:                                  {t_build[0]:6.2f} s")
    print(f"rule evaluation (parse + validate + mask, 20):  {min(t_rules):6.2f} s   (best of {len(t_rules)})")
    print(
        f"evalcore slice + regression metrics:            {min(t_ours):6.3f} s   "
        f"(best of {len(t_ours)}; median {statistics.median(t_ours):.3f} s; first {t_ours[0]:.3f} s)"
    )
    _, t_cal = timed(calibration_metrics, df_eval, masks)
    print(f"calibration metrics (ECE, Brier; not in target):{t_cal[0]:6.2f} s")
    if args.skip_pandas:
        return
    df_long, t_long = timed(build_df_long, df_eval)
    print(f"build_df_long (input of the pandas loop):       {t_long[0]:6.2f} s")
    (ps, pr), t_pandas = timed(pandas_loop, df_long, df_eval, masks)
    print(f"pandas per-slice loop (same outputs):           {t_pandas[0]:6.2f} s")
    print(
        f"ratio pandas / evalcore:                        {t_pandas[0] / min(t_ours):6.1f}x  "
        f"(target >= 10x, evalcore < 2 s)"
    )
    d_slice = max_difference(sm, ps, ["slice", "model"])
    d_reg = max_difference(rm, pr, ["slice"])
    print(f"max |difference| slice metrics: {d_slice:.2e}   regression metrics: {d_reg:.2e}")
    if max(d_slice, d_reg) > 1e-9:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
