"""Start the dashboard: `python -m ui.launch [streamlit run options]` (what `scripts/demo.sh` runs).

`streamlit run app.py` imports nothing of the app before the first visitor's first page, which then imports the
engine, pandas, pyarrow, scipy and plotly (~1.3 s of CPU on 2 cores, issue 21) before it reads any data. This
launcher imports them first and then starts the same server on the same `app.py` with the same options: the
port opens once the server is ready, and the first visitor waits for their own data only. `streamlit run
app.py` still works (each first page then pays the imports)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path
from typing import Sequence

APP = Path(__file__).resolve().parents[1] / "app.py"


def preload() -> tuple[float, list[str]]:
    """Import every module of `evalcore` and `ui` (their heavy libraries are imported inside functions, so this
    costs what a first Compare would) and the libraries the pages import lazily (`ui.engine.WARM_MODULES`), and
    build plotly's first figure.
    Returns (seconds, the modules that failed to import: the page that needs one will say why)."""
    from evalcore.core import memory

    start = time.perf_counter()
    memory.use_system_allocator()
    import evalcore
    import ui
    from ui.engine import WARM_MODULES

    names = [
        m.name
        for pkg in (evalcore, ui)
        for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
        if not m.name.endswith("__main__") and m.name != "ui.launch"
    ]
    failed = []
    for name in [*names, *WARM_MODULES]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 (an optional dependency missing: never a reason not to start)
            failed.append(name)
    try:
        from evalcore.present import charts

        charts.warm()  # plotly's first figure builds its validators
    except Exception:  # noqa: BLE001
        failed.append("evalcore.present.charts.warm")
    _skip_repl_check()
    return time.perf_counter() - start, failed


def _skip_repl_check() -> None:
    """Streamlit checks once per process, at the first element any page draws, whether it runs in a Python REPL
    to print a "use streamlit run" warning: `inspect.stack()` over the first visitor's script thread, reading
    the source of every frame (~0.2 s of that visitor's first page, measured with py-spy). This process is
    `streamlit run` by construction: the check is marked done (a no-op if Streamlit renames its flag)."""
    import streamlit.delta_generator as dg

    if hasattr(dg, "_use_warning_has_been_displayed"):
        dg._use_warning_has_been_displayed = True


def main(argv: Sequence[str] | None = None) -> int:
    seconds, failed = preload()
    note = f" (not imported: {', '.join(failed)})" if failed else ""
    print(f"evalcore: engine and pages imported in {seconds:.1f} s{note}; starting the dashboard", file=sys.stderr)
    from streamlit.web import cli

    args = list(sys.argv[1:] if argv is None else argv)
    return cli.main(["run", str(APP), *args], prog_name="streamlit")


if __name__ == "__main__":
    raise SystemExit(main())
