"""Push an analysis to a Weights & Biases run: the lab's tables, the charts, a summary and the config.

Works without an account: with no API key the run is written offline under the evalcore home and
the result says which `wandb sync` command uploads it later. The mode is, in order: the `mode`
argument, `$WANDB_MODE`, else online only when an API key is available (`$WANDB_API_KEY` or a
netrc login for the W&B host), else offline. Online failures (no network, bad key) become a
`ConfigError` with a hint, bounded by `init_timeout`, and nothing of the analysis is touched.

The API key is never read into our own values: wandb reads it from the environment itself, our
messages are scrubbed of it, and nothing here writes it anywhere.
"""

from __future__ import annotations

import netrc
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pandas as pd

from evalcore.analyze.tables import ROLES, conf_col, pred_col, role_col, role_names
from evalcore.core.errors import ConfigError
from evalcore.core.paths import home
from evalcore.core.units import strict_json

if TYPE_CHECKING:
    from evalcore.decide.discover import Discovery
    from evalcore.decide.verdict import Verdict
    from evalcore.probe.explain_aggregate import RegressionExplanations
    from evalcore.probe.perturb import PerturbResult
    from evalcore.probe.stress import StressResult, StressSet
    from evalcore.stats.results import Analysis

MODES = ("online", "offline")
_MODE_ALIASES = {"online": "online", "run": "online", "offline": "offline", "dryrun": "offline"}
DEFAULT_HOST = "https://api.wandb.ai"
DEFAULT_INIT_TIMEOUT = 30.0
ARTIFACT_NAME = "evalcore-tables"


@dataclass(frozen=True)
class PushResult:
    """Where the run went. `url_or_path`: the run's URL online, its local folder offline;
    `tables`: (rows, columns) logged per table name; `warnings`: what was cut or skipped."""

    url_or_path: str
    mode: str
    sync_command: str | None
    run_id: str
    tables: dict[str, tuple[int, int]]
    run_dir: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tables"] = {k: list(v) for k, v in self.tables.items()}
        return out


# --- mode ----------------------------------------------------------------------------------------


def _netrc_login(host_url: str) -> bool:
    """Whether a netrc file holds a login for the W&B host (`wandb login` writes one)."""
    host = urlparse(host_url).hostname or host_url
    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    try:
        return netrc.netrc(path).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def has_api_key() -> bool:
    """An API key is available to wandb (env or netrc); the key itself is never read here."""
    return bool(os.environ.get("WANDB_API_KEY")) or _netrc_login(os.environ.get("WANDB_BASE_URL", DEFAULT_HOST))


def resolve_mode(mode: str | None = None) -> str:
    """`online` or `offline`: the argument, else `$WANDB_MODE`, else online only with an API key."""
    if mode is not None:
        if mode not in MODES:
            raise ConfigError(f"mode {mode!r} is not allowed; use one of {', '.join(MODES)} (or leave it unset)")
        return mode
    env = os.environ.get("WANDB_MODE", "").strip().lower()
    if env:
        if env not in _MODE_ALIASES:
            raise ConfigError(f"WANDB_MODE={env!r} cannot push a run; set it to online or offline, or pass mode=")
        return _MODE_ALIASES[env]
    return "online" if has_api_key() else "offline"


# --- tables --------------------------------------------------------------------------------------


def predictions_table(analysis: Analysis) -> pd.DataFrame:
    """One row per example, the task kind's (generation: the prompt, gold answers, both answers and every
    per-example score, `evalcore.present.genreport.predictions_table`)."""
    return analysis.kind.predictions_table(analysis)


def classification_predictions(analysis: Analysis) -> pd.DataFrame:
    """One row per example: id, text, label, both models' prediction and confidence, the flags."""
    df = analysis.df_eval
    names = role_names(df)
    cols = ["id", "text", "label"]
    for role in ROLES:
        cols += [pred_col(names[role]), conf_col(names[role]), role_col(role, "correct")]
    cols += ["regressed", "improved", "confident_regression"]
    return df[[c for c in cols if c in df.columns]].copy()


def slices_table(analysis: Analysis) -> pd.DataFrame:
    """The slice definitions: name, rule text, the hypothesis note, and the slice's size."""
    masks = analysis.results.masks
    roles = analysis.results.roles or {}
    return pd.DataFrame(
        {
            "name": [s.name for s in analysis.slices],
            "rule": [s.text for s in analysis.slices],
            "note": [s.note for s in analysis.slices],
            "n": [int(masks[s.name].sum()) if s.name in masks else 0 for s in analysis.slices],
            "role": [roles.get(s.name, s.role) for s in analysis.slices],
        },
        columns=["name", "rule", "note", "n", "role"],
    )


def push_tables(
    analysis: Analysis,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    gates: Verdict | None = None,
    stress_set: StressSet | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table the run gets, by its W&B name (the lab's names first)."""
    tables = {
        **analysis.tables(),
        "predictions_table": predictions_table(analysis),
        "calibration_metrics": analysis.results.calibration,
        "slices": slices_table(analysis),
    }
    if not analysis.kind.confidences:  # answers carry no confidence: no calibration table
        del tables["calibration_metrics"]
    if stress is not None:
        tables.update(stress.tables())
        if stress_set is not None:
            tables["stress_hypothesis"] = pd.DataFrame(
                {"hypothesis": [stress_set.hypothesis], "target_slice": [stress_set.target_slice or ""]}
            )
    if perturb is not None:
        tables.update(perturb.tables())
    tables["metric_changes"] = analysis.results.changes
    tables.update(analysis.kind.extra_tables(analysis))  # classification: per class
    if gates is not None:
        cols = ["name", "metric", "margin", "status", "observed", "lo", "hi", "n", "rows_needed", "reason", "next_step"]
        tables["gates"] = pd.DataFrame([{k: g.to_dict()[k] for k in cols} for g in gates.results], columns=cols)
        checks = [
            {
                "gate": g.name,
                **{k: v for k, v in c.to_dict().items() if k != "plan"},
                "plan": c.plan.text() if c.plan else None,
            }
            for g in gates.results
            for c in g.checks
        ]
        if checks:
            tables["gate_checks"] = pd.DataFrame(checks)
    return tables


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Python objects with None for missing values: wandb.Table refuses pd.NA and odd dtypes."""
    out = frame.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    return out.astype(object).where(out.notna(), None)


def discovery_tables(
    discovery: Discovery | None = None, explanations: RegressionExplanations | None = None
) -> dict[str, pd.DataFrame]:
    """Tables of the slice discovery and of the token explanations, by W&B name. An explanation that
    could not be made is logged as its reason (`explanation_status`), never as a bare empty table."""
    tables: dict[str, pd.DataFrame] = {}
    if discovery is not None:
        tables["discovered_slices"] = discovery.table()
        tables["discovery_settings"] = pd.DataFrame(
            [
                {
                    **{k: (",".join(v) if isinstance(v, tuple) else v) for k, v in asdict(discovery.settings).items()},
                    "n_rows": discovery.n_rows,
                    "n_search": discovery.n_search,
                    "n_confirm": discovery.n_confirm,
                    "n_tested": discovery.n_tested,
                    "search_seconds": discovery.search_seconds,
                    "method": discovery.method(),
                }
            ]
        )
    if explanations is not None:
        e = explanations
        tables["explanation_status"] = pd.DataFrame(
            [
                {
                    "slice": e.slice,
                    "rule": e.rule,
                    "baseline": e.baseline,
                    "candidate": e.candidate,
                    "n_regressed": e.n_regressed,
                    "n_explained": e.n_explained,
                    "explained": e.available,
                    "message": e.message(),
                }
            ]
        )
        if e.available:
            tables["explanation_tokens"] = e.tokens
            tables["explanation_word_classes"] = e.groups
            tables["explanation_rows"] = e.rows
    return tables


def discovery_figures(
    discovery: Discovery | None = None, explanations: RegressionExplanations | None = None
) -> dict[str, Any]:
    """Their charts (shared with the HTML report)."""
    from evalcore.present import charts

    figs: dict[str, Any] = {}
    if discovery is not None and discovery.candidates:
        figs["discovered_slices"] = charts.discovered_slices_chart(discovery)
    if explanations is not None and explanations.available and len(explanations.tokens):
        figs["token_pushes"] = charts.token_push_bars(explanations)
    return figs


def discovery_summary(
    discovery: Discovery | None = None, explanations: RegressionExplanations | None = None
) -> dict[str, Any]:
    """Run-summary keys of the discovery and the explanations."""
    out: dict[str, Any] = {}
    if discovery is not None:
        out.update(
            {
                "discovered_slices": [f.name for f in discovery.confirmed],
                "discovered_rules": [f.text for f in discovery.confirmed],
                "n_discovered_slices": len(discovery.confirmed),
                "discovery_seed": discovery.settings.seed,
            }
        )
    if explanations is not None:
        out.update({"explanations_status": explanations.message(), "explanations_slice": explanations.slice})
        if explanations.available and len(explanations.tokens):
            top = explanations.tokens.iloc[0]
            out.update(
                {
                    "explanations_top_token": str(top["token"]),
                    "explanations_top_token_candidate_share": float(top["candidate_share"]),
                }
            )
    return out


# --- summary and config --------------------------------------------------------------------------


def run_summary(analysis: Analysis, gates: Verdict | None = None, stress: StressResult | None = None) -> dict[str, Any]:
    """The run's headline numbers (what the W&B runs table shows as columns), in the task kind's metrics, then
    the verdict's and the stress cases'."""
    out = analysis.kind.run_summary(analysis)
    out.update(_verdict_summary(analysis, gates))
    if stress is not None:
        for row in stress.stress_summary.itertuples():
            if pd.notna(row.accuracy):
                out.update(
                    {
                        f"stress_accuracy/{row.model}": float(row.accuracy),
                        f"stress_accuracy_lo/{row.model}": float(row.accuracy_lo),
                        f"stress_accuracy_hi/{row.model}": float(row.accuracy_hi),
                        f"stress_accuracy_n/{row.model}": int(row.n_labelled),
                    }
                )
    return out


def classification_summary(analysis: Analysis) -> dict[str, Any]:
    """A classification comparison's headline numbers: both accuracies, the change, the rates, the other metrics."""
    o = analysis.results.overall
    out: dict[str, Any] = {"n": o["n"]}
    for role in ROLES:
        e = o[role]
        out.update(
            {
                f"{role}_model": e["model"],
                f"{role}_accuracy": e["value"],
                f"{role}_accuracy_lo": e["lo"],
                f"{role}_accuracy_hi": e["hi"],
                f"accuracy/{e['model']}": e["value"],
            }
        )
    d = o["delta"]
    out.update(
        {
            "delta": d["value"],
            "delta_lo": d["lo"],
            "delta_hi": d["hi"],
            "mcnemar_p": o["mcnemar_p"],
            "mde": o["mde"],
            "n_regressed": o["n_regressed"],
            "n_improved": o["n_improved"],
            "n_conf_known": o["n_conf_known"],
            "worse_than_rest_slices": list(analysis.results.flagged),
            "n_worse_than_rest": len(analysis.results.flagged),
        }
    )
    for rate in ("regression_rate", "improvement_rate", "confident_regression_rate"):
        e = o[rate]
        known = e["n"] > 0
        out.update(
            {
                rate: e["value"] if known else None,
                f"{rate}_lo": e["lo"] if known else None,
                f"{rate}_hi": e["hi"] if known else None,
                f"{rate}_n": e["n"],
            }
        )
    ch = analysis.results.changes
    for row in ch[(ch["slice"] == "all") & (ch["metric"] != "accuracy")].itertuples():
        out.update(
            {
                f"{row.metric}/baseline": row.baseline,
                f"{row.metric}/candidate": row.candidate,
                f"{row.metric}/delta": row.delta,
                f"{row.metric}/delta_lo": row.delta_lo,
                f"{row.metric}/delta_hi": row.delta_hi,
            }
        )
    return out


def _verdict_summary(analysis: Analysis, gates: Verdict | None) -> dict[str, Any]:
    """The verdict (`evalcore.decide.verdict.decide`, the same object the CLI and the pages show): decision, next step,
    margins, per-slice roles and statuses, and the counts."""
    if gates is None:
        return {}
    from evalcore.present.report import slice_margin

    margin = slice_margin(gates, analysis.task)
    return {
        "verdict": gates.decision,
        "recommendation": gates.decision,
        "verdict_reason": gates.next_step,
        "next_step": gates.next_step,
        "exit_code": gates.exit_code,
        "gates_passed": gates.passed,
        "gate_reasons": gates.reasons,
        "verdict_notes": list(gates.notes),
        "gate_margins": {r.name: r.margin for r in gates.results},
        "gate_status": {r.name: r.status for r in gates.results},
        "slice_margin": margin,
        "too_small_slices": gates.too_small(),
        "slice_status": gates.slice_status(),
        "verdict_counts": gates.counts(),
        "design_effect": gates.design_effect,
        "cluster_col": gates.cluster_col,
        "slice_mde": gates.slice_mde(),
    }  # the deciding test's detectable loss; unjudged slices absent


def run_config(analysis: Analysis, gates: Verdict | None = None) -> dict[str, Any]:
    """Data source, model specs and thresholds: what a reader needs to reproduce the run."""
    attrs = analysis.results.regression_metrics.attrs
    data = analysis.data
    cfg: dict[str, Any] = {
        "data": {
            "name": data.name,
            "source": data.source,
            "n_rows": len(data),
            "labels": list(data.labels),
            "task": analysis.task,
            "cluster_col": getattr(data, "cluster_col", None),
        },
        "conf_threshold": attrs.get("conf_threshold"),
        "alpha": attrs.get("alpha"),
        "min_n": attrs.get("min_n"),
        "slices": analysis.slices.names(),
    }
    for role, p in zip(ROLES, (analysis.baseline, analysis.candidate)):
        cfg[role] = {"model": p.model, "spec": p.spec, "precomputed": p.precomputed, "fingerprint": p.fingerprint}
    if gates is not None:
        cfg["gates"] = {r.name: r.margin for r in gates.results}
    return cfg


# --- the push ------------------------------------------------------------------------------------


def _scrub(text: str) -> str:
    """The message with the API key (if any) masked, in case a library echoed it."""
    key = os.environ.get("WANDB_API_KEY")
    return text.replace(key, "***") if key and len(key) >= 8 else text


def _settings(wandb: Any, init_timeout: float) -> Any:
    """Quiet, minimal runs: no console capture, no system metrics, no code, git or pip snapshot."""
    return wandb.Settings(
        init_timeout=init_timeout,
        console="off",
        silent=True,
        quiet=True,
        show_info=False,
        show_warnings=False,
        x_disable_stats=True,
        x_disable_meta=True,
        x_save_requirements=False,
        save_code=False,
        disable_git=True,
    )


def _stage_under_home() -> None:
    """wandb's data (artifact staging), cache and config folders default to the user's home; keep them
    under EVALCORE_HOME unless the operator set them, so one `rm -r` clears everything evalcore wrote."""
    for var, sub in (("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config")):
        if not os.environ.get(var):
            os.environ[var] = str(home() / "wandb" / sub)


def push_to_wandb(
    analysis: Analysis,
    *,
    project: str = "evalcore",
    entity: str | None = None,
    run_name: str | None = None,
    stress: StressResult | None = None,
    perturb: PerturbResult | None = None,
    gates: Verdict | None = None,
    mode: str | None = None,
    wandb_dir: str | Path | None = None,
    stress_set: StressSet | None = None,
    init_timeout: float = DEFAULT_INIT_TIMEOUT,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> PushResult:
    """Log the analysis to one W&B run and finish it (always, even when logging fails).

    Tables up to `wandb.Table.MAX_ROWS` rows are logged to the run; larger ones go into a run
    artifact (`evalcore-tables-<run id>`), up to `wandb.Table.MAX_ARTIFACT_ROWS` rows, beyond which
    a seeded random sample is logged and the result's warnings say so. The run folder lands under
    `wandb_dir` (else `$WANDB_DIR`, else `<EVALCORE_HOME>`), inside wandb's own `wandb/` subfolder.
    `gates=None` evaluates the default gates, so the run always carries a recommendation.
    `discovery` / `explanations` add the found slices and the token explanations (`discovery_tables`).
    """
    resolved = resolve_mode(mode)
    if not project or not isinstance(project, str):
        raise ConfigError(f"project {project!r} must be a non-empty W&B project name")
    if resolved == "online" and not has_api_key():
        raise ConfigError(
            "W&B online mode needs an API key: set WANDB_API_KEY or run `wandb login`; "
            "or push with mode offline and upload later with `wandb sync`"
        )
    _stage_under_home()
    import wandb

    from evalcore.decide.verdict import decide

    gates = gates if gates is not None else decide(analysis, stress=stress)
    root = Path(wandb_dir or os.environ.get("WANDB_DIR") or home() / "wandb").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    names = role_names(analysis.df_eval)
    settings = _settings(wandb, init_timeout)
    wandb.setup(settings=settings)  # the login step prints through the global settings, not init's
    try:
        run = wandb.init(
            project=project,
            entity=entity,
            name=run_name or f"{names['candidate']} vs {names['baseline']}",
            mode=resolved,
            dir=str(root),
            job_type="evaluation",
            reinit="create_new",
            config=run_config(analysis, gates),
            settings=settings,
        )
    except Exception as exc:  # wandb raises CommError, UsageError, AuthenticationError, TimeoutError...
        hint = (
            " Check the network and the API key, or push with mode offline and upload later with `wandb sync`."
            if resolved == "online"
            else ""
        )
        raise ConfigError(
            _scrub(f"could not start a W&B run ({resolved}, project {project!r}): {type(exc).__name__}: {exc}.{hint}")
        ) from exc
    run_id, run_dir = run.id, str(Path(run.settings.sync_dir))
    url = run.url if resolved == "online" else None
    failed = True
    try:
        logged, warnings = _log_everything(
            wandb, run, analysis, stress, perturb, gates, stress_set, discovery, explanations
        )
        failed = False
    except ConfigError:
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split())  # one line: wandb's type errors span several
        raise ConfigError(
            _scrub(
                f"W&B run {run_id} failed while logging ({type(exc).__name__}: {detail}); "
                "the run was closed and the analysis is unchanged"
            )
        ) from exc
    finally:
        run.finish(exit_code=1 if failed else 0)
        if wandb.run is None:  # no run of the caller's is open: shut the service down, which flushes
            wandb.teardown()  # the run log (finish returns before it is on disk), so `wandb sync` works now
    return PushResult(
        url_or_path=url or run_dir,
        mode=resolved,
        run_id=run_id,
        tables=logged,
        run_dir=run_dir,
        sync_command=None if resolved == "online" else f"wandb sync {shlex.quote(run_dir)}",
        warnings=warnings,
    )


def _log_everything(
    wandb: Any,
    run: Any,
    analysis: Analysis,
    stress: StressResult | None,
    perturb: PerturbResult | None,
    gates: Verdict | None,
    stress_set: StressSet | None,
    discovery: Discovery | None = None,
    explanations: RegressionExplanations | None = None,
) -> tuple[dict[str, tuple[int, int]], list[str]]:
    from evalcore.present.report import analysis_figures

    logged: dict[str, tuple[int, int]] = {}
    warnings: list[str] = []
    big: dict[str, Any] = {}
    tables = {**push_tables(analysis, stress, perturb, gates, stress_set), **discovery_tables(discovery, explanations)}
    for name, frame in tables.items():
        rows, cap = len(frame), wandb.Table.MAX_ARTIFACT_ROWS
        if rows > cap:  # a random sample keeps every model and slice represented, unlike the first rows
            warnings.append(
                f"table {name} has {rows} rows, more than W&B takes; a random sample of {cap} rows (seed 0) was logged"
            )
            frame, rows = frame.sample(n=cap, random_state=0).sort_index(), cap
        try:
            table = wandb.Table(dataframe=_plain(frame))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"table {name}: {exc}") from exc
        if rows > wandb.Table.MAX_ROWS:
            big[name] = table
        else:
            run.log({name: table}, commit=False)
        logged[name] = (rows, frame.shape[1])
    if big:
        artifact = wandb.Artifact(f"{ARTIFACT_NAME}-{run.id}", type="evaluation")
        for name, table in big.items():
            artifact.add(table, name)
        run.log_artifact(artifact)
        warnings.append(
            f"table(s) {', '.join(big)} exceed {wandb.Table.MAX_ROWS} rows and were logged in the "
            f"run's artifact {ARTIFACT_NAME}-{run.id}"
        )
    figures = {**analysis_figures(analysis), **discovery_figures(discovery, explanations)}
    run.log({f"charts/{name}": wandb.Plotly(fig) for name, fig in figures.items()}, commit=False)
    run.log({}, commit=True)
    summary = {**run_summary(analysis, gates, stress), **discovery_summary(discovery, explanations)}
    run.summary.update(strict_json(summary))
    return logged, warnings


def push_summary_lines(result: PushResult) -> list[str]:
    """What the CLI prints and the app shows after a push."""
    lines = []
    if result.mode == "online":
        lines.append(f"W&B run {result.run_id}: {result.url_or_path}")
    else:
        lines += [
            f"W&B run {result.run_id} written offline to {result.url_or_path}",
            f"upload it with: {result.sync_command}",
        ]
    lines.append("tables: " + ", ".join(f"{name} ({rows}x{cols})" for name, (rows, cols) in result.tables.items()))
    lines += [f"warning: {w}" for w in result.warnings]
    return lines


__all__ = [
    "MODES",
    "PushResult",
    "discovery_figures",
    "discovery_summary",
    "discovery_tables",
    "has_api_key",
    "predictions_table",
    "push_summary_lines",
    "push_tables",
    "push_to_wandb",
    "resolve_mode",
    "run_config",
    "run_summary",
    "slices_table",
]
