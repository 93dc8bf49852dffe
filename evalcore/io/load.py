"""`load_data(source)`: the one entry point that reads any supported source into a validated `EvalData`.

It sits above both readers so they never import each other: classification sources are read by
`evalcore.io.data`, sources that hold gold answers (or `task="generation"`) by `evalcore.io.gendata`.
"""

from __future__ import annotations

from typing import Any

from evalcore.core.errors import DataError
from evalcore.io import gendata
from evalcore.io.data import DataSource, EvalData, _load_classification, with_clusters


def load_data(source: str | DataSource, **options: Any) -> EvalData:
    """Load any supported source into a validated `EvalData` (the one entry point).

    `task="generation"` (or a source that holds gold answers: SQuAD JSON, a prompt/gold table) goes to
    `evalcore.io.gendata`; `task="classification"` never does."""
    task = options.pop("task", None)
    cluster = options.pop("cluster_col", None)
    if gendata.claims(source, task, options):
        return with_clusters(gendata.load_generation(source, **options), cluster)
    for key, what in (("context_col", "a context column"), ("rouge_tokenizer", "a ROUGE-L tokenizer")):
        if options.pop(key, None) not in (None, "", "default"):
            raise DataError(
                f"{what} applies to generation data (a prompt, a context passage and gold answers); "
                "this data reads as classification: drop it, or pass task=generation (--task generation)"
            )
    return with_clusters(_load_classification(source, options), cluster)


__all__ = ["load_data"]
