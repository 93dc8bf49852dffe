"""Compare's leaderboard: more candidates against the same baseline, data and slices (`evalcore.tasks.leaderboard`).

The extra candidates are this session's choice (widget keys `lb_*`); each is scored and analysed through the
same cached engine calls as the main comparison, so a candidate already scored costs nothing, and each one's
two-model decision goes into the history like the main verdict.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from evalcore.core import units
from evalcore.core.errors import EvalcoreError
from evalcore.tasks.kinds import kind_of
from evalcore.tasks.leaderboard import leaderboard, overall_chart, slice_heatmap
from ui import engine, history_view, state
from ui.widgets import error, esc, scoring_progress


def _options(ws, data) -> list[str]:
    """Models that apply to this data without typing a spec: its prediction / answer columns, VADER and the
    demo on sentiment labels, and the workspace's candidate."""
    from evalcore.io.labels import is_sentiment

    live = kind_of(data).scored  # VADER and the demo are classifiers that run on the texts (not answer files)
    pool = [*data.precomputed, *(("vader", "demo") if live and is_sentiment(data.labels) else ()), ws.candidate]
    return [m for m in dict.fromkeys(pool) if m and m != ws.baseline]


def section(ws, comp, slices) -> None:
    """An expander on Compare: pick 2+ candidates, get the leaderboard, its charts and each verdict."""
    with st.expander("More candidates: a leaderboard against this baseline (k candidates at once)"):
        options = _options(ws, comp.data)
        if "lb_candidates" not in st.session_state:
            st.session_state["lb_candidates"] = [ws.candidate] if ws.candidate in options else []
        picked = st.multiselect(
            "Candidates",
            options,
            key="lb_candidates",
            help="Each is compared with the baseline exactly as on this page; the leaderboard "
            "then corrects for reading k candidates at once",
        )
        typed = st.text_input("Other model specs, comma-separated (`file:...`, `hf:...`)", key="lb_specs")
        specs = list(dict.fromkeys([*picked, *[t.strip() for t in typed.split(",") if t.strip()]]))
        specs = [s for s in specs if s != ws.baseline]
        if len(specs) < 2:
            st.caption("🏁 Pick two or more candidates to rank them against the baseline.")
            return
        config = engine.gate_config(ws, comp.data.task)[0]
        analyses = []
        try:
            for spec in specs:
                one = dataclasses.replace(ws, candidate=spec)
                c = engine.get_comparison(one, progress=scoring_progress)
                res = engine.get_results(c, slices, ws.conf_threshold, int(ws.min_n), float(ws.alpha))
                analyses.append(engine.as_analysis(c, slices, res))
            board = leaderboard(analyses, config, alpha=float(ws.alpha))
        except EvalcoreError as exc:
            error(exc)
            return
        st.caption(esc(board.method()))
        s = board.summary
        st.dataframe(
            pd.DataFrame(
                {
                    "candidate": s["candidate"],
                    "overall change [95%]": [
                        units.pts_ci(d, lo, hi) for d, lo, hi in zip(s["delta"], s["delta_lo"], s["delta_hi"])
                    ],
                    "Holm p": s["p_holm"].map(units.p_value),
                    "slices significant (BH)": s["slices_significant"],
                    "slices harmed (BH)": s["slices_harmed"],
                    "own verdict": s["own verdict"],
                    "leaderboard verdict": s["leaderboard verdict"],
                    "why": s["why"],
                }
            ),
            hide_index=True,
            width="stretch",
            key="lb_summary",
        )
        st.plotly_chart(overall_chart(board), width="stretch", key="lb_overall")
        st.plotly_chart(slice_heatmap(board), width="stretch", key="lb_heatmap")
        st.dataframe(board.matrix(), width="stretch", key="lb_matrix")
        for a, v in zip(analyses, board.verdicts):  # each two-model decision, once (ui/history_view)
            history_view.record(a, v, config, workspace=state.name(), data_key=engine.data_key(ws.data))
