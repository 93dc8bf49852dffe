"""`report --candidate A --candidate B ...`: k candidates against one baseline, as a leaderboard
(`evalcore.tasks.leaderboard`); each candidate goes through the same `analysis_from_args` as a two-model report."""

from __future__ import annotations

import argparse
import copy
import json
from typing import Callable


def cmd_leaderboard(args: argparse.Namespace, analysis_from_args: Callable) -> int:
    from evalcore.core.errors import ConfigError
    from evalcore.core.units import strict_json
    from evalcore.history_cli import record_verdict
    from evalcore.tasks.leaderboard import leaderboard

    if args.out or args.markdown or args.html:
        raise ConfigError("--out, --markdown and --html write one comparison: run `report` with one --candidate")
    if len(set(args.candidate)) != len(args.candidate):
        raise ConfigError("a candidate is given twice: give each --candidate once")
    analyses, config = [], None
    for spec in args.candidate:
        one = copy.copy(args)
        one.candidate = [spec]
        analysis, config = analysis_from_args(one)
        if analyses and analysis.slices.names() != analyses[0].slices.names():
            raise ConfigError("the candidates were judged on different slice sets; give --slices to fix one")
        analyses.append(analysis)
    board = leaderboard(analyses, config, alpha=args.alpha if args.alpha is not None else 0.05)
    if args.format == "json":
        print(json.dumps(strict_json(board.to_dict()), indent=2, allow_nan=False))
    elif args.format == "csv":
        print(board.cells.to_csv(index=False), end="")
    else:
        print("\n".join(board.lines()))
    for analysis, verdict in zip(analyses, board.verdicts):
        record_verdict(analysis, verdict, config, enabled=not args.no_history)
    verdict_exit = bool(args.verdict or args.gate or args.guardrail or args.require_gain)
    return board.exit_code if verdict_exit else 0
