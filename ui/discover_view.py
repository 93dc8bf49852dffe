"""The Slices page's "Discover regression slices" tab: settings, a run (memoised in `ui.engine`), the
found slices with their confirmation-half figures first, and one-click saving into the user's set.

The run is `evalcore.decide.discover.discover_slices`: searched on one seeded random half of the rows,
confirmed on the other. Its result stays in this session (`state.DISCOVERY_RESULT`), for the
comparison it was computed on, so the Examples page can explain a found slice and the Report & W&B
page can include it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from evalcore.analyze.slices import Slice, SliceSet
from evalcore.core import units
from evalcore.core.errors import EvalcoreError
from evalcore.decide.discover import Discovery, DiscoverySettings, FoundSlice, default_columns
from ui import engine, saved_runs, state
from ui.glossary import gloss
from ui.widgets import error, esc, shown_errors

ss = st.session_state
SETTINGS = "sl_disc_settings"  # the last settings, so the widgets keep them across a page switch
DEFAULTS = DiscoverySettings()
TABLE_COLUMNS = [
    "slice",
    "result",
    "n (confirmation half)",
    "change [95%]",
    "change minus the rest's [95%]",
    "BH p (vs rest)",
    "MDE (80% power)",
    "n (all rows)",
    "change on all rows [95%] (optimistic)",
    "rule",
    "overlap",
]


def free_name(name: str, taken: SliceSet) -> str:
    """`name`, or `name_2`, `name_3`... when the user's set has a slice of that name (≤ 64 characters)."""
    if name not in taken:
        return name
    base, k = name[:58], 2
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"


def saved_as(found: FoundSlice, current: SliceSet) -> str | None:
    """The name under which the user's set already holds this rule (canonical text), if it does."""
    return next((s.name for s in current if s.text == found.text), None)


def save_found(comparison_key: str, names: list[str], flash_key: str) -> None:
    """Button callback: add the named confirmed slices to the user's set, their hypothesis filled from the
    finding; a clashing name gets a suffix; a rule already saved is not added twice."""
    entry = state.comparison_result(state.DISCOVERY_RESULT, comparison_key)
    if entry is None:
        ss[flash_key] = "The discovery ran on other data or models: run it again before saving."
        return
    discovery: Discovery = entry["result"]
    current = state.slices()
    added, kept = [], []
    for found in discovery.confirmed:
        if found.name not in names:
            continue
        already = saved_as(found, current)
        if already:
            kept.append(f"'{found.name}' is already saved as '{already}'")
            continue
        name = free_name(found.name, current)
        current = current.add(Slice(name, found.rule, found.note(discovery.settings)))
        added.append(name if name == found.name else f"{name} (renamed: the set has a slice named {found.name})")
    if added:
        state.set_slices(current)
    parts = (
        [f"Saved {len(added)} discovered slice(s): " + ", ".join(added) + ". Compare and Examples show them now."]
        if added
        else []
    ) + kept
    ss[flash_key] = " ".join(parts) or "Nothing to save."


def _settings_widgets(df: pd.DataFrame, alpha: float) -> DiscoverySettings | None:
    """The form (seeded from this session's last settings); None with a message when they are not valid."""
    last = ss.get(SETTINGS) or {}
    if "sl_disc_outputs" not in ss:
        ss["sl_disc_outputs"] = bool(last.get("include_model_outputs", False))
    options = default_columns(df, bool(ss["sl_disc_outputs"]))
    if "sl_disc_features" in ss and not set(ss["sl_disc_features"]) <= set(options):  # other data: other columns
        ss["sl_disc_features"] = [f for f in ss["sl_disc_features"] if f in options] or options
    for key, value in (
        ("sl_disc_depth", last.get("depth", DEFAULTS.depth)),
        ("sl_disc_seed", last.get("seed", DEFAULTS.seed)),
        ("sl_disc_features", [f for f in last.get("features") or () if f in options] or options),
        ("sl_disc_bins", last.get("bins", DEFAULTS.bins)),
        ("sl_disc_min_support", last.get("min_support", DEFAULTS.min_support)),
        ("sl_disc_max_candidates", last.get("max_candidates", DEFAULTS.max_candidates)),
    ):
        if key not in ss:
            ss[key] = value
    c1, c2, c3 = st.columns([1.2, 1, 4])
    c1.radio(
        "Conditions per rule (depth)",
        [1, 2, 3],
        key="sl_disc_depth",
        horizontal=True,
        help="At most this many conditions joined by `and`. Depth 3 extends the best pairs only.",
    )
    c2.number_input(
        "Seed",
        0,
        2**31 - 1,
        step=1,
        key="sl_disc_seed",
        help="Chooses the random search / confirmation halves: the same seed repeats the run.",
    )
    c3.multiselect(
        "Features searched",
        options,
        key="sl_disc_features",
        help="Metadata features and the gold label (numeric ones in quantile bins). Free-text columns are skipped.",
    )
    c3.checkbox(
        "Also search both models' confidences",
        key="sl_disc_outputs",
        on_change=lambda: ss.pop("sl_disc_features", None),  # every feature of the new list
        help="A slice found on a model's own output is model-defined: biased by construction, it is shown "
        "but never gates the verdict.",
    )
    with st.expander("More settings"):
        a1, a2, a3 = st.columns(3)
        a1.number_input("Quantile bins of a numeric feature", 2, 10, key="sl_disc_bins")
        a2.number_input("Smallest slice (rows of the search half)", 5, 100_000, key="sl_disc_min_support")
        a3.number_input(
            "Candidates tested on the confirmation half",
            1,
            100,
            key="sl_disc_max_candidates",
            help="More candidates: more chances, and a stricter Benjamini-Hochberg correction.",
        )
        st.caption(
            f"False discovery rate {alpha:g} (Benjamini-Hochberg over the candidates): the Compare page's setting."
        )
    features = list(ss["sl_disc_features"])
    if not features:
        st.info("Choose at least one feature to search.")
        return None
    values = {
        "depth": int(ss["sl_disc_depth"]),
        "seed": int(ss["sl_disc_seed"]),
        "bins": int(ss["sl_disc_bins"]),
        "min_support": int(ss["sl_disc_min_support"]),
        "max_candidates": int(ss["sl_disc_max_candidates"]),
        "alpha": float(alpha),
        "features": None if set(features) == set(options) else features,
        "include_model_outputs": bool(ss["sl_disc_outputs"]),
    }
    ss[SETTINGS] = values
    try:
        return DiscoverySettings(**values)
    except EvalcoreError as exc:
        error(exc)
        return None


def results_table(discovery: Discovery) -> pd.DataFrame:
    """One row per tested candidate: the confirmation half's figures first, all rows' last (optimistic)."""
    rows = []
    for f in discovery.candidates:
        c, a = f.confirm, f.overall
        rows.append(
            [
                f.name,
                "⚠ confirmed" if f.confirmed else "not confirmed",
                f"{int(c['n']):,}",
                units.pts_ci(c["delta"], c["delta_lo"], c["delta_hi"]),
                units.pts_ci(c["vs_rest"], c["vs_rest_lo"], c["vs_rest_hi"]),
                units.p_value(c["vs_rest_p_adjusted"]),
                units.magnitude_pts(c["mde"]),
                f"{int(a['n']):,}",
                units.pts_ci(a["delta"], a["delta_lo"], a["delta_hi"]),
                f.text,
                f.related or "",
            ]
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _found_list(discovery: Discovery, comparison_key: str, flash_key: str) -> None:
    """Each confirmed slice with its rule, hypothesis note and a save button; then "save all"."""
    current = state.slices()
    todo = [f.name for f in discovery.confirmed if not saved_as(f, current)]
    st.markdown(
        f"**Confirmed slices ({len(discovery.confirmed)})** · save one to use it on Compare, Examples and "
        "Stress tests; its hypothesis note is filled from the finding."
    )
    for i, f in enumerate(discovery.confirmed):
        with st.container(border=True):
            left, right = st.columns([5, 1], vertical_alignment="center")
            c = f.confirm
            left.markdown(
                f"**{f.name}** · n={int(c['n']):,} on the confirmation half · change "
                f"{units.pts_ci(c['delta'], c['delta_lo'], c['delta_hi'])}, "
                f"{units.pts_ci(c['vs_rest'], c['vs_rest_lo'], c['vs_rest_hi'])} against the rest"
            )
            left.code(f.text, language=None, wrap_lines=True)
            if f.related:
                left.caption(esc(f"Overlap: {f.related}."))
            already = saved_as(f, current)
            right.button(
                "Saved" if already else "Save as a slice",
                key=f"sl_disc_save_{i}",
                width="stretch",
                icon=":material/check:" if already else ":material/bookmark_add:",
                disabled=bool(already),
                on_click=save_found,
                args=(comparison_key, [f.name], flash_key),
                help=f"Saved as '{already}'" if already else "Add it to your slice set",
            )
    st.button(
        f"Save all {len(todo)} unsaved confirmed slice(s)",
        key="sl_disc_save_all",
        disabled=not todo,
        on_click=save_found,
        args=(comparison_key, todo, flash_key),
        icon=":material/library_add:",
    )


def render(comp: Any, alpha: float, flash_key: str) -> None:
    """The whole tab: what discovery does, the settings, the run button and this session's result."""
    from evalcore.present import charts

    st.subheader("Discover regression slices")
    st.caption(
        "Searches conjunctions of features for slices where the candidate loses more than on the rest of "
        "the rows. The rows are split at random: slices are chosen on one half and tested once on the "
        "other, so a confirmed slice is not an artefact of searching many."
    )
    record = state.run_record("discovery")
    if SETTINGS not in ss and record and record.get("comparison_key") == comp.key:
        ss[SETTINGS] = record.get("settings")  # a refreshed browser: the widgets show the last run's settings
    settings = _settings_widgets(comp.df_eval, alpha)
    run = st.button(
        "Run discovery", key="sl_disc_run", type="primary", disabled=settings is None, icon=":material/travel_explore:"
    )
    if run and settings is not None:
        with shown_errors(stop=False), st.spinner("Searching and confirming…"):
            found = engine.get_discovery(comp, settings)
            ss[state.DISCOVERY_RESULT] = {"result": found, "comparison_key": comp.key, "settings": settings}
            saved_runs.record_discovery(comp.key, settings)
    entry = saved_runs.restore_discovery(comp)  # this session's run, or the workspace's last one rerun (seeded)
    if entry is None:
        st.caption("No discovery run on this data and these models in this session yet.")
        return
    discovery: Discovery = entry["result"]
    if settings is not None and entry["settings"] != settings:
        st.caption("The settings changed since this run: press Run discovery to update it.")
    if saved_runs.restored("discovery"):
        st.caption("Your last discovery run, repeated with its seed after the page was reloaded.")
    s = discovery.settings
    st.markdown(
        f"**{len(discovery.confirmed)} confirmed** worse than the rest, of {len(discovery.candidates)} "
        f"candidates tested · searched {discovery.n_tested:,} rules on {discovery.n_search:,} rows, tested on "
        f"the other {discovery.n_confirm:,} (seed {s.seed}, depth {s.depth})"
    )
    with st.expander("Method (how to repeat this run)"):
        method = discovery.method()
        st.markdown(esc(f"{method[:1].upper()}{method[1:]}."))  # names labels and columns of the data
        for line in discovery.summary_lines():
            st.caption(esc(line))
    for w in discovery.warnings:
        st.warning(esc(w[:1].upper() + w[1:] + "."), icon="⚠️")
    if not discovery.candidates:
        st.info("No rule was worse than the rest on the search half: nothing to confirm.")
        return
    st.plotly_chart(charts.discovered_slices_chart(discovery), width="stretch", key="sl_disc_chart")
    st.caption(
        gloss(
            "Changes are candidate − baseline accuracy, paired, with 95% intervals. The confirmation half's "
            "figures are the fair test; the figures on all rows include the half that chose the slice and "
            "overstate its effect (optimistic). MDE: the change the confirmation half could detect with 80% "
            "power. BH p: the comparison with the rest after Benjamini-Hochberg over the candidates."
        ),
        unsafe_allow_html=True,
    )
    st.dataframe(
        results_table(discovery),
        hide_index=True,
        width="stretch",
        key="sl_disc_table",
        column_config={"rule": st.column_config.TextColumn("rule", width="large")},
    )
    if discovery.confirmed:
        _found_list(discovery, comp.key, flash_key)
