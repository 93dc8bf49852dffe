"""Arrow's memory in a long-lived process: which allocator it uses, and handing freed pages back."""

from __future__ import annotations

import os
import sys

POOL_VAR = "ARROW_DEFAULT_MEMORY_POOL"  # Arrow's own variable: an operator's choice wins over ours


def use_system_allocator() -> None:
    """Arrow allocates with the C library's malloc instead of its bundled mimalloc, unless `$ARROW_DEFAULT_MEMORY_POOL`
    names one. Why: in a fresh process mimalloc's first large allocations are slow; reading a million-row Parquet
    file of tweets took 0.8 s cold against 0.35 s, and a cold Compare of those rows ran ~0.35 s faster with a
    ~110 MB lower peak (2 cores, pyarrow 26). Called once by the dashboard and the CLI at start."""
    if os.environ.get(POOL_VAR):
        return
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":  # once: a rerun of the app calls it again
        pa.set_memory_pool(pa.system_memory_pool())


def release_unused() -> None:
    """Hand the pages Arrow's allocator keeps after a large build (reading a file, a million-row table) back to the
    system: its pool keeps freed pages for reuse, ~150 MB after loading a million tweets, and a server's resident
    memory is what a host counts. Nothing when pyarrow was never imported."""
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()
