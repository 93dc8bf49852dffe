"""`python -m evalcore history`, and the one call `report` and `push` make to record their verdict.

Kept apart from `evalcore/cli.py` so the command line stays a list of thin commands; the store itself is
`evalcore.serve.history`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def record_verdict(analysis, verdict, gate_config, *, enabled: bool = True) -> None:
    """Record a verdict the CLI printed (who: the OS user); one line on stderr says where, or why not. A
    history problem never changes the report's output or exit status."""
    if not enabled:
        return
    from evalcore.serve.history import HistoryStore, cli_user, decision_record

    try:
        record = decision_record(analysis, verdict, gate_config, user=cli_user(), origin="cli")
    except Exception as exc:  # a figure the history cannot read must not cost the user the report
        print(f"warning: not recorded in the history ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    done = HistoryStore().record(record)
    prefix = "" if done.id is not None and not done.warning else "warning: "
    print(f"{prefix}{done.message()} (`python -m evalcore history` lists them)", file=sys.stderr)


def add_history_parser(sub) -> None:
    p = sub.add_parser(
        "history",
        help="list, compare and export the recorded decisions (every verdict `report` "
        "printed and the dashboard's Compare page showed)",
        description="The decisions recorded under $EVALCORE_HOME/history: when, who, data fingerprint, "
        "both models, gates, verdict and the per-slice figures. Filter by data and model, "
        "show one decision's figures, compare two runs on the same data, export CSV or JSON.",
    )
    p.add_argument(
        "--data", default=None, metavar="FP|NAME", help="only decisions on this data (fingerprint prefix or data name)"
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="only decisions with this model as baseline or candidate (name or spec)",
    )
    p.add_argument("--user", default=None, help="only decisions recorded by this user")
    p.add_argument("--show", type=int, default=None, metavar="ID", help="one decision with its per-slice figures")
    p.add_argument(
        "--compare",
        type=int,
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help="two decisions on the same data: what changed and which slices moved",
    )
    p.add_argument(
        "--metric",
        default=None,
        help="with --show / --compare: the compared metric (default: the headline one, accuracy or F1)",
    )
    p.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default); csv: one row per decision, slice and metric; json: decisions with their figures nested",
    )
    p.add_argument("--out", default=None, metavar="FILE", help="write the csv / json export into FILE")
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    from evalcore.serve.history import HistoryStore, compare_runs

    store = HistoryStore()
    if args.compare:
        print("\n".join(compare_runs(store, *args.compare, metric=args.metric).lines()))
        return 0
    if args.show is not None:
        print("\n".join(_show(store.get(args.show), args.metric)))
        return 0
    rows = store.decisions(data=args.data, model=args.model, user=args.user)
    if args.format != "table":
        text = store.export(rows, args.format)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out} ({len(rows)} decision{'s' if len(rows) != 1 else ''})", file=sys.stderr)
        else:
            print(text, end="" if text.endswith("\n") else "\n")
        return 0
    if rows.empty:
        where = " matching these filters" if (args.data or args.model or args.user) else ""
        print(f"no decisions recorded{where} in {store.path} (run `python -m evalcore report ...`)")
        return 0
    print("\n".join(_table(rows)))
    return 0


def _table(rows) -> list[str]:
    import pandas as pd

    from evalcore.core import units

    t = pd.DataFrame(
        {
            "id": rows["id"].map(lambda i: f"#{i}"),
            "when (UTC)": rows["created_at"].str.replace("T", " ").str[:16],
            "who": rows["user"] + rows["workspace"].map(lambda w: f" ({w})" if isinstance(w, str) and w else ""),
            "data": rows["data_name"].str.slice(0, 28) + " " + rows["data_fingerprint"].str[:8],
            "baseline -> candidate": rows["baseline"] + " -> " + rows["candidate"],
            "verdict": rows["decision"],
            "change [95%]": [
                f"{m} {units.pts_ci(d, lo, hi)}"
                for m, d, lo, hi in zip(rows["headline_metric"], rows["delta"], rows["delta_lo"], rows["delta_hi"])
            ],
            "seen": rows["times_seen"].map(lambda n: f"{n}x"),
        }
    )
    return [
        f"{len(rows)} decision{'s' if len(rows) != 1 else ''}, newest first (change = candidate - baseline, "
        "paired 95% interval):",
        t.to_string(index=False),
    ]


def _show(d: dict, metric: str | None) -> list[str]:
    import pandas as pd

    from evalcore.core import units

    metric = metric or d["headline_metric"]
    f = d["figures"]
    f = f[f["metric"] == metric]
    out = [
        f"decision #{d['id']}: {d['decision']} ({d['created_at']}, {d['user']}, {d['origin']}"
        + (f", workspace {d['workspace']}" if d["workspace"] else "")
        + ")",
        f"  data: {d['data_name']} ({d['n_rows']:,} rows, fingerprint {d['data_fingerprint'][:16]})",
        f"  baseline: {d['baseline']} ({d['baseline_spec']}, {d['baseline_fingerprint'][:12]}); candidate: "
        f"{d['candidate']} ({d['candidate_spec']}, {d['candidate_fingerprint'][:12]})",
        f"  gates: {d['gates']}",
        f"  next step: {d['next_step']}",
    ]
    t = pd.DataFrame(
        {
            "slice": f["slice"],
            "n": f["n"].map("{:,}".format),
            "baseline": [
                units.pct_ci(a, b, c) if pd.notna(b) else units.pct(a)
                for a, b, c in zip(f["baseline"], f["baseline_lo"], f["baseline_hi"])
            ],
            "candidate": [
                units.pct_ci(a, b, c) if pd.notna(b) else units.pct(a)
                for a, b, c in zip(f["candidate"], f["candidate_lo"], f["candidate_hi"])
            ],
            "change [95%]": [units.pts_ci(a, b, c) for a, b, c in zip(f["delta"], f["delta_lo"], f["delta_hi"])],
            "in the verdict": f["status"],
        }
    )
    return out + ["", f"per slice ({metric}):", t.to_string(index=False)]
