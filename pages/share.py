"""Report & W&B: the ship / no-ship gates, the downloadable report, and the push to a W&B run.

Gate thresholds and the W&B form are saved in the workspace (`ws.gates`, `ws.wandb`). Stress and
perturbation results come from this session's Stress tests page, discovered slices from its Slices
page and a slice's explanations in aggregate from its Examples page (all derived, never saved).
The W&B API key is never read here: wandb takes it from the environment itself.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from evalcore.core import units
from evalcore.core.errors import EvalcoreError
from evalcore.decide.gates import GATES, NO_SHIP, PASS, SHIP, GateConfig, margin_text
from evalcore.present.report import render_html, render_markdown
from evalcore.present.wandb_push import PushResult, has_api_key, push_summary_lines, push_to_wandb, resolve_mode
from evalcore.serve.workspace import LIMITS
from ui import engine, saved_runs, state
from ui.widgets import error, esc, lit, md, shown_errors

PUSHED = "ec_push_result"
GATE_FLASH = "share_gate_flash"
MODES = {"auto": "auto (online with an API key, else offline)", "offline": "offline", "online": "online"}

state.require_app(__file__)
ws = state.workspace()
st.title("Report & W&B")

with shown_errors():
    comp, slices, res = engine.current_analysis(ws)
analysis = engine.as_analysis(comp, slices, res)
names = comp.df_eval.attrs

dkey = engine.data_key(ws.data)
# A refreshed browser gets the workspace's last results back (prediction cache, seeded discovery) before they are read.
pending = saved_runs.restore_all(ws, comp, slices, res)
# Results of this session's Stress tests page, when they were computed on the same data.
stress_entry = state.session_result(state.STRESS_RESULT, dkey)
stress = stress_entry["result"] if stress_entry else None
stress_set = stress_entry["set"] if stress_entry else None
perturb_entry = state.session_result(state.PERTURB_RESULT, dkey)
perturb = perturb_entry["result"] if perturb_entry else None
# This session's discovered slices (Slices page) and aggregate explanations (Examples page), when they were
# computed on the comparison now chosen (an explanation only when it explained something).
discovery_entry = state.comparison_result(state.DISCOVERY_RESULT, comp.key)
discovery = discovery_entry["result"] if discovery_entry else None
explain_entry = state.comparison_result(state.EXPLAIN_RESULT, comp.key)
explanations = explain_entry["result"] if explain_entry and explain_entry["result"].available else None
with st.container(border=True):
    st.markdown(
        md(
            f"**{lit(comp.data.name)}** · {len(comp.df_eval):,} rows · baseline **{lit(names['baseline'])}** vs "
            f"candidate **{lit(names['candidate'])}** · {len(slices)} slices"
        )
    )
    parts = []
    if stress is not None:
        m = stress_entry["models"]
        parts.append(
            f"stress results: {len(stress.stress_wide)} case(s) scored by {m['baseline']} and {m['candidate']}"
        )
    if perturb is not None:
        parts.append(f"perturbation tests on {perturb_entry['source']}")
    if discovery is not None:
        parts.append(
            f"discovered slices ({len(discovery.confirmed)} confirmed of {len(discovery.candidates)} tested, "
            f"seed {discovery.settings.seed}, depth {discovery.settings.depth})"
        )
    if explanations is not None:
        parts.append(
            f"token explanations of slice {explanations.slice}'s regressed rows "
            f"({explanations.n_explained:,} of {explanations.n_regressed:,} explained)"
        )
    if pending:
        st.caption("Not restored after the reload: " + "; ".join(pending) + ".")
    if parts:
        st.caption(esc("Included from this session: " + "; ".join(parts) + "."))
    else:
        st.caption(
            "No stress, perturbation, discovery or explanation results in this session: the report and the "
            "run hold the analysis only."
        )
    links = st.columns(3)
    links[0].page_link("pages/stress.py", label="Score stress cases or run perturbation tests", icon="🧪")
    links[1].page_link("pages/slices.py", label="Discover regression slices", icon="🔍")
    links[2].page_link("pages/examples.py", label="Explain a slice's regressions", icon="🔎")


# --- gates ------------------------------------------------------------------------------------------


def _init(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _save_gates() -> None:
    """on_change: the toggles and values (typed in points, or % for a rate) -> a validated GateConfig (shares)
    -> the workspace. A gate whose widgets were reset in this run (another session changed the gates: the
    keys are gone until the page draws them again) keeps its saved value; the one the user changed is read."""
    ss, values = st.session_state, {}
    for name, gate in config.gates().items():
        saved = config.values[name]
        on = ss.get(f"share_gate_on_{name}", saved is not None)
        value = ss.get(f"share_gate_{name}", 100 * float(saved if saved is not None else gate.suggested))
        values[name] = float(value) / 100 if on else None
    try:
        ws.gates = {**(ws.gates or {}), **GateConfig(values, config.task).to_dict()}  # keeps the other task's gates
    except EvalcoreError as exc:
        st.session_state[GATE_FLASH] = str(exc)
        return
    state.save()


config, gate_message = engine.gate_config(ws, analysis.task)
if gate_message:
    st.error(gate_message, icon="⚠️")
st.subheader("Ship / no-ship gates")
st.caption(
    "Margins are in points (2 = a 2-point loss of accuracy), limits of rates in %. An overall gate passes when "
    "its 95% interval rules out a loss beyond the margin, fails when the whole interval lies beyond it, and "
    "needs more data otherwise. A watched slice blocks only on evidence of harm; a guardrail (marked on the "
    "Slices page) must be verified; slices too small to judge or defined by a model's output never block."
)
with st.container(border=True):
    for name, gate in config.gates().items():  # the gates of the data's task only
        value = config.values[name]
        _init(f"share_gate_on_{name}", value is not None)
        _init(f"share_gate_{name}", round(100 * float(value if value is not None else gate.suggested), 2))
        c1, c2, c3 = st.columns([2, 1, 4], vertical_alignment="center")
        on = c1.toggle(name.replace("_", " "), key=f"share_gate_on_{name}", on_change=_save_gates)
        unit = "points" if gate.kind in ("margin", "gain") else "%"
        c2.number_input(
            f"{'margin' if gate.kind == 'margin' else 'limit'} ({unit})",
            100 * gate.lo,
            100 * gate.hi,
            step=0.5,
            format="%.1f",
            key=f"share_gate_{name}",
            on_change=_save_gates,
            disabled=not on,
            label_visibility="collapsed",
            help=f"in {unit}",
        )
        shown = float(st.session_state[f"share_gate_{name}"]) / 100
        c3.caption(f"{gate.description} ({margin_text(name, shown)})" if on else f"{gate.description} · off")
flash = st.session_state.pop(GATE_FLASH, None)
if flash:
    st.error(flash, icon="⚠️")

gates, _, _ = engine.current_verdict(ws, analysis)
verdict = f"**{gates.decision.upper()}** · {gates.next_step}"
{SHIP: st.success, NO_SHIP: st.error}.get(gates.decision, st.warning)(verdict, icon="⚖️")
for r in gates.results:
    observed = (
        ""
        if r.observed is None
        else (
            f" · {units.pts_ci(r.observed, r.lo, r.hi)}"
            if GATES[r.name].kind in ("margin", "gain")
            else f" · {units.pct_ci(r.observed, r.lo, r.hi)}"
        )
    )
    st.markdown(
        f"{'✅' if r.status == PASS else '❌' if r.status == 'fail' else '❔'} **{r.name}** "
        f"({margin_text(r.name, r.margin)}) · *{r.status}*{observed} — {r.reason}"
    )
for note in gates.notes:
    st.caption(f"ℹ️ {esc(note[0].upper() + note[1:])}.")

# --- report -----------------------------------------------------------------------------------------


def _save_notes() -> None:
    ws.notes = st.session_state.get("share_notes", ws.notes)
    state.save()


st.subheader("Report")
_init("share_notes", ws.notes)
notes = st.text_area(
    "Notes for the report (optional)",
    key="share_notes",
    height=90,
    on_change=_save_notes,
    max_chars=LIMITS["notes"],
    placeholder="What was tested, what the team decided, follow-ups…",
)
report_args = dict(
    analysis=analysis,
    gates=gates,
    stress=stress,
    perturb=perturb,
    notes=notes,
    stress_set=stress_set,
    discovery=discovery,
    explanations=explanations,
)
stem = f"evalcore_{names['candidate']}_vs_{names['baseline']}".replace(":", "_").replace("/", "_")
c1, c2, c3 = st.columns([1, 1, 2])
c1.download_button(
    "Download Markdown report",
    lambda: render_markdown(**report_args),
    f"{stem}.md",
    "text/markdown",
    key="share_download_md",
    on_click="ignore",
    icon="📄",
)
c2.download_button(
    "Download HTML report",
    lambda: render_html(**report_args),
    f"{stem}.html",
    "text/html",
    key="share_download_html",
    on_click="ignore",
    icon="🌐",
    help="One self-contained page with the charts (works offline)",
)
if c3.toggle("Preview the report", key="share_preview"):
    with st.container(border=True, height=520):
        st.markdown(render_markdown(**report_args))

# --- W&B --------------------------------------------------------------------------------------------

st.subheader("Weights & Biases")
try:
    effective = resolve_mode(None)
except EvalcoreError as exc:
    effective = None
    error(exc)
key_line = (
    "An API key is available to wandb (it is never shown here)."
    if has_api_key()
    else "No W&B API key found (`WANDB_API_KEY` or `wandb login`): auto mode writes the run offline, to "
    "upload later with `wandb sync`."
)
env_mode = os.environ.get("WANDB_MODE", "").strip()
st.caption(key_line + (f" `WANDB_MODE={env_mode}` is set: auto means {effective}." if env_mode and effective else ""))
saved = ws.wandb
_init("share_wb_project", saved.get("project", "evalcore"))
_init("share_wb_entity", saved.get("entity", ""))
_init("share_wb_run", saved.get("run_name", ""))
_init("share_wb_mode", saved.get("mode", "auto") if saved.get("mode", "auto") in MODES else "auto")
with st.form("share_wandb_form"):
    c1, c2, c3 = st.columns(3)
    c1.text_input("Project", key="share_wb_project")
    c2.text_input("Entity (team or user; empty: your default)", key="share_wb_entity")
    c3.text_input(
        "Run name (empty: candidate vs baseline)",
        key="share_wb_run",
        placeholder=f"{names['candidate']} vs {names['baseline']}",
    )
    st.radio("Mode", list(MODES), format_func=MODES.get, key="share_wb_mode", horizontal=True)
    pushed = st.form_submit_button("Push to W&B", type="primary")
if pushed:
    form = {
        field: st.session_state[key].strip()
        for field, key in (("project", "share_wb_project"), ("entity", "share_wb_entity"), ("run_name", "share_wb_run"))
    }
    form["mode"] = st.session_state["share_wb_mode"]
    ws.wandb = form
    state.save()
    st.session_state.pop(PUSHED, None)
    with shown_errors(stop=False), st.spinner("Logging tables, charts and the summary to W&B…"):
        result = push_to_wandb(
            analysis,
            project=form["project"],
            entity=form["entity"] or None,
            run_name=form["run_name"] or None,
            stress=stress,
            perturb=perturb,
            gates=gates,
            mode=None if form["mode"] == "auto" else form["mode"],
            stress_set=stress_set,
            discovery=discovery,
            explanations=explanations,
        )
        st.session_state[PUSHED] = result
        state.keep_run("push", result.to_dict())  # a refreshed page still says where the run went
done = st.session_state.get(PUSHED)
if done is None and (last := state.run_record("push")):
    try:
        done = PushResult(**{k: last[k] for k in PushResult.__dataclass_fields__ if k in last})
        st.caption("The last push from this workspace (before the page was reloaded):")
    except TypeError:
        done = None
if done is not None:
    if done.mode == "online":
        st.success(f"Run **{done.run_id}** is online: [{done.url_or_path}]({done.url_or_path})", icon="✅")
    else:
        st.success(f"Run **{done.run_id}** was written offline to `{done.url_or_path}`. Upload it with:", icon="✅")
        st.code(done.sync_command, language="bash")
    lines = push_summary_lines(done)
    st.caption(esc(next(line for line in lines if line.startswith("tables:"))))
    for w in done.warnings:
        st.warning(esc(w))
