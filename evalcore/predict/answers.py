"""A generation model's answers for the rows of generation data: the generation counterpart of a classifier's
predictions (`evalcore.predict.scoring.Predictions`, labels empty, confidences NaN), read from an answer column
of the data or a `file:` answers file, aligned by id (or prompt). Reading the table itself is the data layer's
(`evalcore.io.gendata`); turning a model spec into outputs is this layer's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from evalcore.core.errors import DataError, ModelError
from evalcore.io import limits
from evalcore.io.data import TABLE_SUFFIXES, text_values
from evalcore.io.gendata import (
    ANSWER_COLUMNS,
    CONTEXT_COL,
    CONTEXT_COLUMNS,
    GOLD_COL,
    PROMPT_COLUMNS,
    GenerationData,
    _examples,
    _guess,
    _read_table,
)
from evalcore.predict.models import ModelSpec
from evalcore.predict.scoring import Predictions


def load_answers(spec: str, data: GenerationData):
    """One model's answers for the rows of `data`, as `evalcore.predict.scoring.Predictions` (labels empty,
    confidences NaN): from a data column or a `file:` answers file, aligned by id (or prompt)."""
    parsed = ModelSpec.parse(spec)
    if parsed.kind == "file":
        name, answers, origin = parsed.name, _answers_from_file(Path(parsed.target).expanduser(), data), parsed.target
    elif parsed.kind == "precomputed":
        col = data.precomputed[parsed.target].pred_col if parsed.target in data.precomputed else parsed.target
        if col not in data.df.columns or col in ("id", "text", "label", CONTEXT_COL, GOLD_COL):
            have = ", ".join(data.precomputed) or "none"
            raise ModelError(
                f"model {parsed.target!r} is neither an answer column of {data.name} (its answer "
                f"columns: {have}) nor a `file:<answers file>`"
            )
        values = text_values(data.df[col], f"answer column {col!r} of {data.name}", ModelError)
        null = values.isna().to_numpy()
        if null.any():
            raise ModelError(
                f"answer column {col!r} of {data.name} is empty in {int(null.sum())} row(s) (ids "
                f"{_examples(data.df['id'][null])}); write an empty string for an empty answer"
            )
        name, answers, origin = parsed.target, [str(v) for v in values], f"{data.source} column {col}"
    else:
        raise ModelError(
            f"model spec {spec!r} is a classifier; generation data compares answers: give "
            "`file:<answers file>` or the name of an answer column of the data "
            f"({', '.join(data.precomputed) or 'none here'})"
        )
    pred = np.array(answers, dtype=object)
    digest = hashlib.sha256("\0".join(answers).encode("utf-8")).hexdigest()
    key = json.dumps({"kind": "answers", "source": origin, "values": digest})
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    n = len(pred)
    return Predictions(
        model=name,
        spec=str(parsed),
        labels=(),
        pred=pred,
        conf=np.full(n, np.nan, dtype=np.float32),
        probs=np.zeros((n, 0), dtype=np.float32),
        n_total=n,
        precomputed=True,
        ids=data.df["id"].astype(str).to_numpy(),
        fingerprint=fingerprint,
    )


def _answers_from_file(path: Path, data: GenerationData) -> list[str]:
    path = limits.check_file(path, "answers file", ModelError)  # (in the dashboard: inside the allowed folders)
    suffix = path.suffix.lower()
    try:
        text = limits.read_text(path, "answers file") if suffix == ".json" else ""
        if text.lstrip().startswith("{"):
            doc = limits.loads(text, path.name)
            if not isinstance(doc, dict) or not all(isinstance(v, str) or v is None for v in doc.values()):
                raise ModelError(
                    f"answers file {path.name} is a JSON object but not {{id: answer}} (a value is not a string)"
                )
            return _align(list(doc.items()), data, path.name, by_id=True)
        frame = _read_table(path) if suffix in TABLE_SUFFIXES else None
    except (DataError, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read answers file {path.name}: {exc}") from exc
    if frame is None:
        raise ModelError(
            f"answers file {path.name} has type {suffix!r}; allowed: .json ({{id: answer}} or an "
            "array of objects), .jsonl, .csv, .tsv, .parquet"
        )
    cols = [str(c) for c in frame.columns]
    answer = next((c for c in ANSWER_COLUMNS if c in cols), None)
    if answer is None:
        raise ModelError(
            f"answers file {path.name} has no answer column ({', '.join(ANSWER_COLUMNS)}); columns: {', '.join(cols)}"
        )
    if "id" in cols:
        return _align(list(zip(frame["id"].astype(str), frame[answer])), data, path.name, by_id=True)
    prompt = next((c for c in PROMPT_COLUMNS if c in cols and c != answer), None)
    if prompt is None:
        raise ModelError(
            f"answers file {path.name} has neither an `id` column nor a prompt column "
            f"({', '.join(PROMPT_COLUMNS)}) to align its answers with the data's rows"
        )
    context = _guess([c for c in cols if c not in (prompt, answer)], CONTEXT_COLUMNS, "context")
    keys = zip(
        frame[prompt].astype(str).str.strip(),
        frame[context].fillna("").astype(str).str.strip() if context else [""] * len(frame),
    )
    return _align(list(zip(keys, frame[answer])), data, path.name, by_id=False)


def _align(items: list[tuple[Any, Any]], data: GenerationData, where: str, *, by_id: bool) -> list[str]:
    """Answers in the data's row order; every problem refused with counts and examples."""
    what = "id" if by_id else "prompt (instruction + context)"
    counts: dict[Any, int] = {}
    for key, _ in items:
        counts[key] = counts.get(key, 0) + 1
    repeated = [k for k, c in counts.items() if c > 1]
    if repeated:
        raise ModelError(
            f"answers file {where} repeats {len(repeated)} {what}(s) (e.g. "
            f"{_examples(map(_show, repeated))}); each {what} must have one answer"
        )
    answers = dict(items)
    if by_id:
        wanted, known = data.df["id"].astype(str).tolist(), data.source_ids
    else:
        wanted = data.prompts
        if len(set(wanted)) != len(wanted):
            raise ModelError(
                f"answers file {where} has no ids, and {data.name} repeats a prompt, so its answers "
                "cannot be aligned by prompt: add an `id` column to both"
            )
        known = set(wanted)
    missing = [k for k in wanted if k not in answers]
    if missing:
        raise ModelError(
            f"answers file {where} has no answer for {len(missing):,} of the {len(wanted):,} rows of "
            f"{data.name} ({what}s e.g. {_examples(map(_show, missing))}); answer every row (an empty "
            "string for no answer)"
        )
    extra = [k for k in answers if k not in known]
    if extra:
        raise ModelError(
            f"answers file {where} has answers for {len(extra):,} {what}(s) that {data.name} does not "
            f"have (e.g. {_examples(map(_show, extra))}): is it the answers file of another dataset?"
        )
    out = text_values([answers[k] for k in wanted], f"answers file {where}", ModelError).tolist()
    null = [k for k, v in zip(wanted, out) if v is None or (isinstance(v, float) and np.isnan(v))]
    if null:
        raise ModelError(
            f"answers file {where} has a null answer for {len(null):,} row(s) ({what}s e.g. "
            f"{_examples(map(_show, null))}); write an empty string for an empty answer"
        )
    return [str(v) for v in out]


def _show(key: Any) -> str:
    return " / ".join(k for k in key if k) if isinstance(key, tuple) else str(key)


__all__ = ["load_answers"]
