"""User regular expressions run on RE2 (through pyarrow), never on Python's backtracking `re`.

RE2 matches in time linear in the text, so no pattern a user types (`(a|aa)+b` on "aaaa…c") can
stall the app; the price is that lookarounds and backreferences are refused, with RE2's message.
Rules (`matches`) and custom regex features share these two functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def re2_problem(pattern: str) -> str | None:
    """Why RE2 cannot run `pattern` (its own message), or None when it can."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return str(exc).replace("Invalid regular expression: ", "")
    return None


def regex_mask(values: pd.Series, pattern: str, *, ignore_case: bool) -> np.ndarray:
    """True where the value contains a match of `pattern` (re.search semantics); null is False."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())
    found = pc.match_substring_regex(arr, pattern=pattern, ignore_case=ignore_case)
    return found.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
