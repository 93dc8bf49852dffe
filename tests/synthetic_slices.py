"""Synthetic df_eval tables with a regression planted on a two-feature conjunction (or none), shared by
tests/test_discover.py and bench/bench_discovery.py so the test and the benchmark simulate the same thing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from evalcore.analyze.tables import build_df_eval

LABELS = ("negative", "neutral", "positive")
PLANTED_RULE = 'flag1 == true and group == "b"'  # about 10% of the rows
BASE_ACCURACY = 0.75
OUTSIDE = (0.10, 0.10)  # (regressed, improved) share of rows: 20% discordant, no change
INSIDE = (0.175, 0.025)  # -15 points inside the planted slice


def planted_table(n: int, seed: int, planted: bool = True) -> pd.DataFrame:
    """A df_eval of `n` rows: 8 boolean flags (10-50% prevalence), two categorical columns, a continuous
    and a count column, random confidences; the candidate loses 15 points on `PLANTED_RULE` when
    `planted`, and nowhere otherwise (the same 10% regressed / 10% improved on every row)."""
    rng = np.random.default_rng(seed)
    flags = {f"flag{i}": rng.random(n) < p for i, p in enumerate((0.4, 0.5, 0.3, 0.2, 0.45, 0.1, 0.35, 0.25), 1)}
    meta = pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "text": [f"row {i}" for i in range(n)],
            **flags,
            "group": rng.choice(["a", "b", "c", "d"], size=n),
            "source": rng.choice(["web", "app", "sms"], size=n, p=[0.5, 0.3, 0.2]),
            "score": rng.random(n).round(4),
            "count": rng.poisson(2.0, size=n),
        }
    )
    inside = meta["flag1"].to_numpy() & (meta["group"].to_numpy() == "b") if planted else np.zeros(n, dtype=bool)
    reg_p = np.where(inside, INSIDE[0], OUTSIDE[0])
    imp_p = np.where(inside, INSIDE[1], OUTSIDE[1])
    u = rng.random(n)
    regressed, improved = u < reg_p, (u >= reg_p) & (u < reg_p + imp_p)
    agree = ~regressed & ~improved
    both_right = agree & (rng.random(n) < (BASE_ACCURACY - reg_p) / (1 - reg_p - imp_p))
    gold = rng.integers(0, len(LABELS), size=n)
    wrong = (gold + rng.integers(1, len(LABELS), size=n)) % len(LABELS)
    base = np.where(regressed | both_right, gold, wrong)
    cand = np.where(improved | both_right, gold, np.where(regressed, wrong, base))
    meta["label"] = np.array(LABELS)[gold]
    lab = np.array(LABELS, dtype=object)
    models = [
        SimpleNamespace(model=name, pred=lab[p], conf=rng.uniform(0.34, 1.0, size=n))
        for name, p in (("base_model", base), ("cand_model", cand))
    ]
    return build_df_eval(meta, *models)
