"""`load_predictor(spec, labels, data=...)`: a model spec resolved to a predictor mapped onto the data's labels
(the one entry point). It sits above the predictor classes (`evalcore.predict.models`) and the demo model's
builder (`evalcore.predict.demo_model`, which scores through them), so neither imports the other back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from evalcore.core.errors import ModelError
from evalcore.predict.demo_model import build_demo_model, demo_model_dir
from evalcore.predict.models import (
    DEFAULT_MAX_LENGTH,
    SPEC_HELP,
    HFPredictor,
    ModelSpec,
    Predictor,
    ProgressFn,
    VaderPredictor,
    _from_columns,
    _from_file,
)

if TYPE_CHECKING:
    from evalcore.io.data import EvalData


def load_predictor(
    spec: str | ModelSpec,
    labels: Sequence[str],
    *,
    data: EvalData | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    progress: ProgressFn | None = None,
) -> Predictor:
    """Resolve a model spec to a predictor mapped onto `labels` (the one entry point).

    `data` is needed for precomputed models (its columns, or the rows a predictions file aligns
    with). `progress(step, total, message)` reports the demo model's build when it is missing.
    """
    spec = ModelSpec.parse(spec)
    labels = tuple(labels)
    if data is not None and tuple(data.labels) != labels:
        raise ModelError(f"labels {labels} differ from the data's labels {tuple(data.labels)}")
    if spec.kind == "vader":
        return VaderPredictor(labels, spec.threshold, spec=str(spec))
    if spec.kind == "demo":
        folder = demo_model_dir()
        if not (folder / "config.json").is_file():
            build_demo_model(progress=progress)
        return HFPredictor(folder, labels, max_length=max_length, name="demo", spec="demo")
    if spec.kind == "hf":
        return HFPredictor(
            spec.target,
            labels,
            revision=spec.revision,
            label_map=dict(spec.label_map) or None,
            max_length=max_length,
            name=spec.name,
            spec=str(spec),
        )
    if spec.kind == "file":
        return _from_file(spec, data)
    if data is None:
        raise ModelError(
            f"model spec {spec.target!r} is not a known model kind and no data was given "
            f"to look it up as a precomputed column; allowed: {SPEC_HELP}"
        )
    return _from_columns(spec, data)


__all__ = ["load_predictor"]
