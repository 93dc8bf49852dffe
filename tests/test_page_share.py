"""Report & W&B page through the real app: gates saved and applied, the report downloads, an offline
push with the stress results of the session, and the no-key message."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_helpers import errors, open_page

from evalcore.decide.gates import GATES, gates_for

PAGE = "pages/share.py"


@pytest.fixture(autouse=True)
def offline_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Real W&B, offline, writing under a temp folder; no key anywhere."""
    root = tmp_path / "wandb_root"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(root))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for var in ("WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):  # nothing lands in the home folder
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    return root


def _verdict(at) -> str:
    return next(m.value for m in [*at.success, *at.error, *at.warning] if m.value.startswith("**"))


def test_gates_saved_and_applied() -> None:
    at = open_page(PAGE)
    assert errors(at) == [_verdict(at)]  # the no-ship verdict is the only error shown
    on = {name: at.toggle(key=f"share_gate_on_{name}").value for name in gates_for("classification")}
    assert on == {
        "accuracy": True,
        "macro_f1": True,
        "slice_accuracy": True,
        "accuracy_gain": False,
        "class_recall": False,
        "confident_regression_rate": False,
        "stress_accuracy": False,
    }
    assert at.number_input(key="share_gate_accuracy").value == pytest.approx(2.0)  # margins typed in points
    shown = {t.key for t in at.toggle}  # a classification analysis lists no generation gate
    assert not {f"share_gate_on_{name}" for name in GATES if GATES[name].task == "generation"} & shown
    # roberta -> gpt2 on the lab file loses 30 points: the three default gates fail
    assert _verdict(at).startswith("**NO-SHIP** · Look at slice has_mention: it loses 42.5 points")
    lines = [m.value for m in at.markdown if m.value.startswith(("✅", "❌", "❔"))]
    assert len(lines) == 3 and all(line.startswith("❌") for line in lines)
    assert "-30.0 pts [-35.6, -24.1]" in lines[0] and "(margin 2.0 points)" in lines[0]

    for name in ("accuracy", "macro_f1", "slice_accuracy"):
        at.toggle(key=f"share_gate_on_{name}").set_value(False).run()
    at.toggle(key="share_gate_on_confident_regression_rate").set_value(True).run()
    at.number_input(key="share_gate_confident_regression_rate").set_value(50.0).run()  # a rate limit, in %
    assert _verdict(at).startswith("**SHIP** · Every gate passes.")
    from evalcore.serve.workspace import load

    assert load("default").workspace.gates["confident_regression_rate"] == pytest.approx(0.5)  # saved as a share
    again = open_page(PAGE)  # saved in the workspace
    assert again.toggle(key="share_gate_on_slice_accuracy").value is False
    assert again.number_input(key="share_gate_confident_regression_rate").value == pytest.approx(50.0)
    assert _verdict(again).startswith("**SHIP**")
    compare = open_page("pages/compare.py")  # the Compare page reads the same gates
    assert any(s.value.startswith("**Verdict: SHIP**") for s in compare.success)


def test_report_download_and_preview() -> None:
    at = open_page(PAGE)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download Markdown report", "Download HTML report"]
    at.toggle(key="share_preview").set_value(True).run()
    preview = next(m.value for m in at.markdown if m.value.startswith("# evalcore report"))
    assert "Verdict: NO-SHIP" in preview and "has_negation" in preview


def test_offline_push_with_stress_results(offline_wandb: Path) -> None:
    at = open_page("pages/stress.py")
    at.text_area(key="stress_paste").set_value("what a lovely day\tpositive\nugh, mondays\tnegative\nok").run()
    at.button(key="stress_add_pasted").click().run()
    at.selectbox(key="stress_model_candidate").set_value("other…").run()
    at.text_input(key="stress_spec_candidate").set_value("vader:0.3").run()
    at.button(key="stress_score").click().run()
    assert not errors(at), errors(at)
    at.switch_page(PAGE).run()
    assert any("3 case(s) scored by vader and vader:0.3" in c.value for c in at.caption)

    at.text_input(key="share_wb_project").set_value("evalcore-test")
    at.text_input(key="share_wb_run").set_value("page test")
    at.button(key="FormSubmitter:share_wandb_form-Push to W&B").click().run()
    assert not at.exception, [e.value for e in at.exception]
    sync = at.code[0].value
    assert sync.startswith("wandb sync ")
    run_dir = Path(sync.removeprefix("wandb sync ").strip("'"))
    assert run_dir.is_dir() and run_dir.is_relative_to(offline_wandb) and run_dir.name.startswith("offline-run-")
    assert any(run_dir.glob("run-*.wandb"))
    tables = next(c.value for c in at.caption if c.value.startswith("tables:"))
    assert "stress_wide (3x" in tables and "df_eval (500x" in tables


def test_online_without_key_keeps_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(PAGE)
    at.number_input(key="share_gate_slice_accuracy").set_value(10.0).run()
    at.radio(key="share_wb_mode").set_value("online")
    at.button(key="FormSubmitter:share_wandb_form-Push to W&B").click().run()
    assert not at.exception
    assert any("needs an API key" in e and "wandb sync" in e for e in errors(at)), errors(at)
    assert not at.code  # no run, no sync command
    assert at.number_input(key="share_gate_slice_accuracy").value == pytest.approx(10.0)
    assert at.radio(key="share_wb_mode").value == "online"  # the form is kept (and saved)


def test_report_and_push_include_discovery_and_explanations(offline_wandb: Path) -> None:
    """Discovered slices (Slices page) and a slice's explanations in aggregate (Examples page) of this session
    go into the report and the W&B run, and the page says so."""
    from evalcore.serve.workspace import Workspace, save_workspace

    save_workspace(Workspace(baseline="vader", candidate="vader:0.3"))
    at = open_page(PAGE)
    assert any(c.value.startswith("No stress, perturbation, discovery or explanation results") for c in at.caption)
    at.switch_page("pages/slices.py").run()
    at.button(key="sl_disc_run").click().run()
    found = at.session_state["ec_discovery_result"]["result"]
    assert found.confirmed
    at.switch_page("pages/examples.py").run()
    # a discovered slice can be explained before it is saved
    discovered = found.confirmed[0].name
    assert any(
        o.startswith(f"{discovered} (") and o.endswith("· discovered, not saved")
        for o in at.selectbox(key="ex_agg_slice").options
    )
    at.selectbox(key="ex_agg_slice").set_value(discovered).run()
    at.button(key="ex_agg_run").click().run()
    assert not errors(at), errors(at)
    explained = at.session_state["ec_explain_result"]["result"]
    assert explained.slice == discovered and explained.available and explained.rule == found.confirmed[0].text

    at.switch_page(PAGE).run()
    included = next(c.value for c in at.caption if c.value.startswith("Included from this session"))
    assert (
        f"discovered slices ({len(found.confirmed)} confirmed of {len(found.candidates)} tested, seed 0, depth 2)"
        in included
    )
    assert f"token explanations of slice {discovered}'s regressed rows ({explained.n_explained:,} of" in included
    at.toggle(key="share_preview").set_value(True).run()
    preview = next(m.value for m in at.markdown if m.value.startswith("# evalcore report"))
    assert "## Discovered slices" in preview and found.confirmed[0].text.replace('"', "") in preview.replace('"', "")
    assert f"Why the candidate flips on {discovered}" in preview
    at.button(key="FormSubmitter:share_wandb_form-Push to W&B").click().run()
    assert not at.exception, [e.value for e in at.exception]
    tables = next(c.value for c in at.caption if c.value.startswith("tables:"))
    assert "discovered_slices (" in tables and "explanation_tokens (" in tables, tables
