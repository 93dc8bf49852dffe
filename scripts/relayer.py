"""Move evalcore's flat modules into layer packages and rewrite every reference (issue 20, item 4).

    python scripts/relayer.py --move      # git mv the modules of MOVES, then rewrite references
    python scripts/relayer.py             # rewrite references only (after a merge brought old paths back)

The rewrite is idempotent: run it after merging a branch written against the flat layout, and every
`evalcore.X` / `from evalcore import X` / `evalcore/X.py` naming an old module, and every
`from evalcore.X import name` naming a name that later moved to another module (NAMES), is pointed at
its new home. A flat module the map does not know is reported: place it in MOVES and run `--move`.

The layers, bottom to top (`.importlinter` checks the direction):
core -> io -> predict -> analyze -> stats -> probe -> decide -> present -> tasks -> api -> serve -> cli.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS: dict[str, str] = {  # package -> its docstring (the layer's one line)
    "core": "Bottom layer: errors, paths, units, safe text, the task-kind protocol, Arrow's memory. "
    "Imports nothing of evalcore above.",
    "io": "Data in: sources read into `EvalData` (classification and generation), label maps, limits, allowed folders.",
    "predict": "Models and their outputs: model specs, predictors, the prediction cache, scoring (local and Ray), "
    "the demo model, answers files of generation models.",
    "analyze": "Per-example tables: metadata features, lexicons, slice rules and slice sets, df_eval / df_long.",
    "stats": "Statistics over df_eval: intervals and tests, paired changes (clusters too), slice metric tables, "
    "the compared-metrics registry, generation scores, the result records of an analysis.",
    "probe": "Probing the models: stress cases, perturbations, negation edits, token explanations, "
    "LLM-written cases and live answerers.",
    "decide": "The decision: gates, the one verdict, findings sentences, label mix, slice discovery.",
    "present": "Showing it: charts, the Markdown / HTML report, the generation report blocks, the W&B push.",
    "tasks": "Task kinds as objects (one module per kind, one protocol) and the pipeline that asks them.",
    "serve": "Serving concerns beside the analysis: saved workspaces, uploads and allowed folders, doctor.",
}

# old module (under evalcore/) -> layer package
MOVES: dict[str, str] = {
    "errors": "core",
    "paths": "core",
    "units": "core",
    "safetext": "core",
    "data": "io",
    "gendata": "io",
    "labels": "io",
    "limits": "io",
    "models": "predict",
    "cache": "predict",
    "scoring": "predict",
    "demo_model": "predict",
    "ray_scoring": "predict",
    "features": "analyze",
    "lexicons": "analyze",
    "textsearch": "analyze",
    "rules": "analyze",
    "slices": "analyze",
    "tables": "analyze",
    "metrics": "stats",
    "paired": "stats",
    "genmetrics": "stats",
    "comparisons": "stats",
    "gentables": "stats",
    "stress": "probe",
    "perturb": "probe",
    "negate": "probe",
    "explain": "probe",
    "explain_aggregate": "probe",
    "llm": "probe",
    "answerers": "probe",
    "gates": "decide",
    "verdict": "decide",
    "findings": "decide",
    "label_mix": "decide",
    "discover": "decide",
    "charts": "present",
    "report": "present",
    "genreport": "present",
    "wandb_push": "present",
    "pipeline": "tasks",
    "workspace": "serve",
    "doctor": "serve",
    "roots": "serve",
    # modules other branches add (issue 22): placed by their imports
    "history": "serve",  # the decision-history store (reads verdicts and charts; nothing below reads it)
    "access": "serve",  # sign-in: who owns and shares a workspace
    "leaderboard": "tasks",  # k candidates, each through the pipeline's run_analysis, then the verdict
    # issue 21's modules
    "featurestore": "analyze",  # features cached on disk by the rows' content
    "incremental": "stats",  # per-slice parts of the metric tables kept between slice edits
}
# stay at the package's top: the CLI (and its command modules), the public API, the package files
TOP = {"cli", "__main__", "__init__", "api", "history_cli", "leaderboard_cli"}

# Names that left their module when a cycle was broken: (new dotted module of the old file, name) -> new module.
NAMES: dict[tuple[str, str], str] = {
    # the result records sit below the decision and the reports that read them
    **{("evalcore.tasks.pipeline", n): "evalcore.stats.results" for n in ("Analysis", "SliceResults")},
    # the allowed folders and the loaders' gate belong to the data layer; uploads stay with the server
    **{
        ("evalcore.serve.roots", n): "evalcore.io.allowed"
        for n in ("ENV_VAR", "uploads_dir", "allowed_roots", "check_allowed", "gated", "guard", "_local")
    },
    # a generation model's answers are model outputs (they need model specs and Predictions)
    ("evalcore.io.gendata", "load_answers"): "evalcore.predict.answers",
    # the one data entry point sits above both readers (classification and generation)
    ("evalcore.io.data", "load_data"): "evalcore.io.load",
    # a model spec resolved to a predictor sits above the predictors and the demo model's builder
    ("evalcore.predict.models", "load_predictor"): "evalcore.predict.load",
    # stats, bottom to top: intervals -> paired (clusters too) -> metrics -> comparisons
    **{
        ("evalcore.stats.metrics", n): "evalcore.stats.intervals"
        for n in ("wilson_interval", "paired_difference_interval", "mcnemar_exact", "group_counts")
    },
    **{("evalcore.stats.comparisons", n): "evalcore.stats.paired" for n in ("cluster_of", "CLUSTER_METHODS")},
    # the slice gate by role is a gate (gates and verdict imported each other); the verdict wraps the gates
    **{
        ("evalcore.decide.verdict", n): "evalcore.decide.gates"
        for n in ("slice_gate", "harm_mde", "guardrail_interval", "guardrail_mde", "MIN_JUDGED_CLUSTERS")
    },
    ("evalcore.decide.gates", "evaluate_gates"): "evalcore.decide.verdict",
    # report blocks sit below the report and the generation report blocks (they imported each other)
    **{
        ("evalcore.present.report", n): "evalcore.present.blocks"
        for n in ("Heading", "Para", "Bullets", "Table", "Figure", "Raw", "Block", "verdict_label", "_cluster_note")
    },
}


def new_module(old: str) -> str:
    """`evalcore.data` -> `evalcore.io.data` (dotted, old flat name without the prefix)."""
    head, _, rest = old.partition(".")
    return f"evalcore.{MOVES[head]}.{old}" if head in MOVES else f"evalcore.{old}"


def _sub_modules(text: str) -> str:
    names = "|".join(sorted(MOVES, key=len, reverse=True))
    # dotted references: evalcore.data, evalcore.rules.schema (never evalcore.io.data: the layer is in between)
    # (not a call: `evalcore.discover(...)` and `evalcore.explain(...)` are the public API's functions)
    text = re.sub(rf"\bevalcore\.({names})\b(?![\w(-])", lambda m: f"evalcore.{MOVES[m[1]]}.{m[1]}", text)
    # the same in a regular expression: evalcore\.errors\. (Ray passes our exceptions back as text)
    text = re.sub(rf"\bevalcore\\\.({names})\b", lambda m: f"evalcore\\.{MOVES[m[1]]}\\.{m[1]}", text)
    # paths: evalcore/data.py, evalcore/rules/
    text = re.sub(rf"(?<![\w/])evalcore/({names})(\.py\b|/)", lambda m: f"evalcore/{MOVES[m[1]]}/{m[1]}{m[2]}", text)

    # from evalcore import a, b as c   (one line; modules grouped by their new package)
    def from_top(m: re.Match) -> str:
        indent, items, tail = m[1], m[2], m[3] or ""
        groups: dict[str, list[str]] = {}
        for item in (i.strip() for i in items.split(",")):
            name = item.split()[0]
            pkg = f"evalcore.{MOVES[name]}" if name in MOVES else "evalcore"
            groups.setdefault(pkg, []).append(item)
        if list(groups) == ["evalcore"]:
            return m[0]
        lines = [f"{indent}from {pkg} import {', '.join(items)}" for pkg, items in groups.items()]
        lines[0] += tail
        return "\n".join(lines)

    return re.sub(r"^([ \t]*)from evalcore import ([\w ,]+?)([ \t]*#[^\n]*)?$", from_top, text, flags=re.M)


_FROM = re.compile(r"^([ \t]*)from (evalcore(?:\.\w+)+) import (\([^)]*\)|[^\n#]*?)([ \t]*#[^\n]*)?$", re.M)


def _sub_names(text: str) -> str:
    """`from evalcore.io.data import EvalData, load_data` -> one import per module the names now live in."""
    if not NAMES:
        return text
    moved_from = {mod for mod, _ in NAMES}

    def split(m: re.Match) -> str:
        indent, mod, items, tail = m[1], m[2], m[3], m[4] or ""
        if mod not in moved_from:
            return m[0]
        body = items.strip().strip("()")
        body = re.sub(r"#[^\n]*", "", body)
        parts = [p.strip() for p in body.replace("\n", " ").split(",") if p.strip()]
        groups: dict[str, list[str]] = {}
        for p in parts:
            groups.setdefault(NAMES.get((mod, p.split()[0]), mod), []).append(p)
        if list(groups) == [mod]:
            return m[0]
        lines = []
        for target, names in groups.items():
            line = f"{indent}from {target} import {', '.join(names)}"
            if len(line) > 118:
                line = f"{indent}from {target} import ({', '.join(names)})"
            lines.append(line)
        lines[0] += tail
        return "\n".join(lines)

    text = _FROM.sub(split, text)
    # dotted attribute references: evalcore.stats.metrics.wilson_interval -> its new module
    for (mod, name), target in NAMES.items():
        text = re.sub(rf"\b{re.escape(mod)}\.{name}\b", f"{target}.{name}", text)
    return text


def rewrite(text: str) -> str:
    return _sub_names(_sub_modules(text))


def files() -> list[Path]:
    out = [ROOT / "app.py", ROOT / "README.md"]
    for folder in ("evalcore", "ui", "pages", "tests", "bench", "scripts", "examples"):
        base = ROOT / folder
        if base.is_dir():
            out += [
                p
                for p in base.rglob("*")
                if p.suffix in (".py", ".sh", ".md", ".ipynb", ".toml", ".cfg")
                and p.is_file()
                and "__pycache__" not in p.parts
                and p.name != "relayer.py"
            ]
    for extra in ("pyproject.toml", ".importlinter", ".ci/run"):
        if (ROOT / extra).is_file():
            out.append(ROOT / extra)
    return out


def move() -> None:
    src = ROOT / "evalcore"
    for pkg, doc in LAYERS.items():
        (src / pkg).mkdir(exist_ok=True)
        init = src / pkg / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{doc}"""\n')
            subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    for name, pkg in MOVES.items():
        old = src / name if (src / name).is_dir() else src / f"{name}.py"
        if old.exists():
            subprocess.run(
                ["git", "mv", str(old.relative_to(ROOT)), str((src / pkg / old.name).relative_to(ROOT))],
                cwd=ROOT,
                check=True,
            )


def unplaced() -> list[str]:
    """Flat modules left at evalcore's top that no layer claims."""
    src = ROOT / "evalcore"
    return sorted(p.stem for p in src.glob("*.py") if p.stem not in TOP and p.stem not in MOVES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--move", action="store_true", help="git mv the modules first")
    args = ap.parse_args(argv)
    if args.move:
        move()
    changed = 0
    for path in files():
        text = path.read_text()
        new = rewrite(text)
        if new != text:
            path.write_text(new)
            changed += 1
    print(f"rewrote {changed} file(s)")
    left = unplaced()
    if left:
        print("flat modules no layer claims (add them to MOVES): " + ", ".join(left), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
