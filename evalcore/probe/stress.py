"""Stress tests: hand-written cases aimed at a weak slice, scored live by both models.

A stress set is a hypothesis ("models struggle when negation flips polarity"), the slice it
targets, and cases (text + optional expected label). Cases come typed, pasted, uploaded or
LLM-written (`evalcore.probe.llm`); all paths go through `parse_cases`, so one set of rules decides what
a valid case is. Scoring returns the lab's three tables: `stress_long`, `stress_wide`,
`stress_summary`.

>>> [c.label for c in parse_cases("great day\\tPositive\\nmeh", ["negative", "neutral", "positive"])]
['positive', None]
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalcore.analyze.tables import ROLES, conf_col, pred_col, role_col, score_col
from evalcore.core.errors import DataError, ModelError
from evalcore.core.paths import work_dir

if TYPE_CHECKING:
    from evalcore.predict.cache import PredictionCache
    from evalcore.predict.models import Predictor

SOURCES = ("typed", "pasted", "file", "llm", "perturbation")
STRESS_VERSION = 1
CASE_FILE_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl")


@dataclass(frozen=True)
class StressCase:
    """One probe: the text, the label a correct model must give (None: unknown), and its origin."""

    text: str
    label: str | None = None
    source: str = "typed"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise DataError(f"stress case: text={self.text!r} must be a non-empty string")
        if self.label is not None and not isinstance(self.label, str):
            raise DataError(f"stress case: label={self.label!r} must be a string or null")
        if self.source not in SOURCES:
            raise DataError(f"stress case: source={self.source!r} is not one of {', '.join(SOURCES)}")

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "source": self.source}

    @classmethod
    def from_dict(cls, raw: Any) -> StressCase:
        if not isinstance(raw, Mapping) or "text" not in raw:
            raise DataError(f"stress case must be an object with a 'text' key, got {raw!r:.80}")
        unknown = set(raw) - {"text", "label", "source"}
        if unknown:
            raise DataError(f"stress case: unknown keys {sorted(unknown)}; allowed: text, label, source")
        label = raw.get("label")
        if isinstance(label, str) and not label.strip():
            label = None  # an emptied label cell in the editor means "no expected label"
        return cls(raw["text"], label, raw.get("source", "typed"))


@dataclass(frozen=True)
class StressSet:
    """A hypothesis, the slice it targets (a slice name, or None) and its cases."""

    hypothesis: str = ""
    target_slice: str | None = None
    cases: list[StressCase] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STRESS_VERSION,
            "hypothesis": self.hypothesis,
            "target_slice": self.target_slice,
            "cases": [c.to_dict() for c in self.cases],
        }

    @classmethod
    def from_dict(cls, raw: Any, labels: Sequence[str] | None = None) -> StressSet:
        """Validate and build; with `labels`, every case label must be one of them (any case)."""
        if not isinstance(raw, Mapping):
            raise DataError(f"stress set must be a JSON object, got {type(raw).__name__}")
        if raw.get("version", STRESS_VERSION) != STRESS_VERSION:
            raise DataError(
                f"stress set: version={raw.get('version')!r} is not supported; "
                f"this evalcore reads version {STRESS_VERSION}"
            )
        hypothesis, target = raw.get("hypothesis", ""), raw.get("target_slice")
        if not isinstance(hypothesis, str):
            raise DataError(f"stress set: hypothesis={hypothesis!r} must be a string")
        if target is not None and not isinstance(target, str):
            raise DataError(f"stress set: target_slice={target!r} must be a slice name or null")
        raw_cases = raw.get("cases", [])
        if not isinstance(raw_cases, list):
            raise DataError("stress set: 'cases' must be a list of {text, label, source} objects")
        cases = []
        for i, item in enumerate(raw_cases, start=1):
            try:
                case = StressCase.from_dict(item)
                if labels is not None and case.label is not None:
                    case = StressCase(case.text, _match_label(case.label, labels), case.source)
            except DataError as exc:
                raise DataError(f"stress set, case {i}: {exc}") from exc
            cases.append(case)
        return cls(hypothesis, target, cases)

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (temp file + rename), like the workspace."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path, labels: Sequence[str] | None = None) -> StressSet:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise DataError(f"stress set file {path} does not exist") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"stress set file {path} is not valid UTF-8 JSON: {exc}") from exc
        return cls.from_dict(raw, labels)


def stress_dir() -> Path:
    """Default folder for saved stress sets, inside the user's work folder."""
    return work_dir() / "stress"


# --- parsing --------------------------------------------------------------------------------------
def _match_label(label: str, labels: Sequence[str]) -> str:
    """The dataset label equal to `label` ignoring case and surrounding spaces."""
    by_lower = {str(lab).lower(): str(lab) for lab in labels}
    found = by_lower.get(label.strip().lower())
    if found is None:
        raise DataError(f"label {label!r} is not one of the dataset labels: {', '.join(map(str, labels))}")
    return found


def _case(text: str, label: str | None, labels: Sequence[str], source: str, where: str) -> StressCase:
    text = text.strip()
    if not text:
        raise DataError(f"{where}: the text is empty; write the case before its label")
    try:
        lab = _match_label(label, labels) if label and label.strip() else None
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from exc
    return StressCase(text, lab, source)


def _is_csv_header(line: str) -> bool:
    cells = [c.strip().lower() for c in next(csv.reader([line]), [])]
    return "\t" not in line and "text" in cells and (len(cells) > 1 or line.strip().lower() == "text")


def parse_cases(raw: str, labels: Sequence[str], source: str = "pasted") -> list[StressCase]:
    """Cases from pasted text, in one of three forms (blank lines are skipped):

    - one case per line (no label);
    - `text<TAB>label` per line (a line without a tab is an unlabelled case; an optional
      `text<TAB>label` header line is skipped);
    - CSV whose first line is a header naming a `text` column (and optionally `label`); quoted
      fields may hold commas and line breaks.

    Labels match the dataset's labels ignoring case; an unknown one raises `DataError` naming the
    line, the label and the allowed labels.
    """
    lines = raw.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return []
    if _is_csv_header(lines[first]):
        return _parse_csv(raw, labels, source)
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            if number == first + 1 and text.strip().lower() == "text" and label.strip().lower() == "label":
                continue
        else:
            text, label = line, None
        cases.append(_case(text, label, labels, source, f"line {number}"))
    return cases


def _parse_csv(raw: str, labels: Sequence[str], source: str) -> list[StressCase]:
    reader = csv.reader(io.StringIO(raw))
    rows = ((reader.line_num, row) for row in reader if any(cell.strip() for cell in row))
    _, header = next(rows)
    columns = [cell.strip().lower() for cell in header]
    if "text" not in columns:
        raise DataError(f"CSV cases need a 'text' column; the header has {header}")
    i_text = columns.index("text")
    i_label = columns.index("label") if "label" in columns else None
    cases = []
    for number, row in rows:
        if any(cell.strip() for cell in row[len(header) :]):
            raise DataError(
                f"line {number}: {len(row)} cells but the header has {len(header)} "
                "column(s); put texts that hold commas in double quotes"
            )
        text = row[i_text] if i_text < len(row) else ""
        label = row[i_label] if i_label is not None and i_label < len(row) else None
        cases.append(_case(text, label, labels, source, f"line {number}"))
    return cases


def parse_case_bytes(data: bytes, filename: str, labels: Sequence[str], source: str = "file") -> list[StressCase]:
    """Cases from an uploaded file's bytes; the suffix of `filename` picks the format:
    .txt / .tsv (one per line or `text<TAB>label`), .csv (header with `text`[, `label`]),
    .jsonl (one `{"text": ..., "label": ...}` object per line)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in CASE_FILE_SUFFIXES:
        raise DataError(
            f"case file {filename!r}: suffix {suffix or '(none)'!r} is not supported; "
            f"use one of {', '.join(CASE_FILE_SUFFIXES)}"
        )
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"case file {filename!r} is not UTF-8 text (byte {exc.start})") from exc
    if suffix == ".jsonl":
        return _parse_jsonl(raw, labels, source, filename)
    if suffix == ".csv" and raw.strip() and not _is_csv_header(raw.lstrip().splitlines()[0]):
        raise DataError(
            f"case file {filename!r}: the first line must be a CSV header with a 'text' column (and optionally 'label')"
        )
    try:
        return parse_cases(raw, labels, source)
    except DataError as exc:
        raise DataError(f"case file {filename!r}, {exc}") from exc


def parse_case_file(path: str | Path, labels: Sequence[str], source: str = "file") -> list[StressCase]:
    """Cases from a .txt, .csv, .tsv or .jsonl file on disk (see `parse_case_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"case file {path} could not be read: {exc.strerror}") from exc
    return parse_case_bytes(data, path.name, labels, source)


def _parse_jsonl(raw: str, labels: Sequence[str], source: str, filename: str) -> list[StressCase]:
    cases = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"case file {filename!r}, line {number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise DataError(f"{where}: expected an object with a string 'text' (and optional 'label')")
        label = obj.get("label")
        if label is not None and not isinstance(label, str):
            raise DataError(f"{where}: label={label!r} must be a string or null")
        cases.append(_case(obj["text"], label, labels, source, where))
    return cases


# --- scoring --------------------------------------------------------------------------------------


def require_live(predictor: Predictor) -> None:
    """Refuse a model that cannot score new text, with the fix in the message."""
    if not getattr(predictor, "live", True):
        raise ModelError(
            f"{predictor.name} is a precomputed model: it cannot score new text; "
            "choose a live model (vader, demo, hf:...)"
        )


@dataclass(frozen=True)
class StressResult:
    """The three stress tables, as named in the lab (and pushed to W&B under these names)."""

    stress_long: pd.DataFrame
    stress_wide: pd.DataFrame
    stress_summary: pd.DataFrame
    conf_threshold: float

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"stress_long": self.stress_long, "stress_wide": self.stress_wide, "stress_summary": self.stress_summary}


def score_stress(
    cases: Sequence[StressCase],
    baseline: Predictor,
    candidate: Predictor,
    *,
    cache: PredictionCache | None = None,
    conf_threshold: float = 0.8,
    slice_accuracy: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StressResult:
    """Score every case with both models (through the prediction cache) and build the tables.

    `case_id` is the case's position in `cases` (0-based), so a table row points back into the
    editable list. `slice_accuracy` maps a model name (or a role, "baseline"/"candidate") to its
    accuracy on the targeted slice (see `slice_accuracy_of`), so the summary shows how much harder
    the cases are than the slice. A wrong prediction counts as high-confidence when its confidence
    is >= `conf_threshold`. Unlabelled cases count in agreement, never in accuracy.
    """
    from evalcore.predict.scoring import score_texts

    _check_inputs(cases, baseline, candidate, conf_threshold)
    names = {"baseline": baseline.name, "candidate": candidate.name}
    texts = pd.array([c.text for c in cases], dtype="string")
    labels = pd.array([c.label for c in cases], dtype="string")
    wide = pd.DataFrame(
        {
            "case_id": np.arange(len(cases)),
            "text": texts,
            "label": labels,
            "source": pd.array([c.source for c in cases], dtype="string"),
        }
    )
    frames, correct, kinds = [], {}, {}
    for role, predictor in zip(ROLES, (baseline, candidate)):
        out = score_texts(list(texts), predictor, cache=cache, progress=progress)
        pred = pd.array(np.asarray(out.pred, dtype=object), dtype="string")
        conf = np.asarray(out.conf, dtype=float)
        kinds[names[role]] = out.score_kind
        correct[role] = pd.array(pred == labels, dtype="boolean")  # NA where no label
        frames.append(
            pd.DataFrame(
                {
                    "case_id": wide["case_id"],
                    "text": texts,
                    "label": labels,
                    "model": names[role],
                    "role": role,
                    "pred": pred,
                    "conf": conf,
                    "correct": correct[role],
                }
            )
        )
        wide[pred_col(names[role])] = pred
        wide[conf_col(names[role])] = conf
        if out.score is not None:  # VADER's lexicon share: shown under its own name, never as a confidence
            wide[score_col(names[role])] = np.asarray(out.score, dtype=float)
    wide["agree"] = (wide[pred_col(names["baseline"])] == wide[pred_col(names["candidate"])]).astype(bool)
    for role in ROLES:
        wide[role_col(role, "correct")] = correct[role]
    stress_long = pd.concat(frames, ignore_index=True)
    summary = _summary(stress_long, wide, names, conf_threshold, slice_accuracy)
    summary["score_kind"] = summary["model"].map(kinds)
    return StressResult(stress_long, wide, summary, conf_threshold)


def _check_inputs(
    cases: Sequence[StressCase], baseline: Predictor, candidate: Predictor, conf_threshold: float
) -> None:
    if not 0.0 <= conf_threshold <= 1.0:
        raise DataError(f"conf_threshold={conf_threshold!r} must lie in [0, 1]")
    if not cases:
        raise DataError("no stress cases to score: add at least one case")
    for predictor in (baseline, candidate):
        require_live(predictor)
    if baseline.name == candidate.name:
        raise DataError(
            f"baseline and candidate are the same model {baseline.name!r}; choose two different live models"
        )
    allowed = list(baseline.labels)
    for i, case in enumerate(cases, start=1):
        if case.label is not None and case.label not in allowed:
            raise DataError(
                f"stress case {i}: label {case.label!r} is not one of the model labels: {', '.join(allowed)}"
            )


def slice_accuracy_of(df_eval: pd.DataFrame, mask: Any) -> dict[str, float]:
    """Accuracy of each model on the rows of `df_eval` where `mask` is true (a slice's mask from
    `evalcore.analyze.rules`), keyed by model name: the `slice_accuracy` argument of `score_stress`."""
    from evalcore.analyze.tables import role_names

    rows = df_eval[np.asarray(mask, dtype=bool)]
    names = role_names(df_eval)
    return {names[role]: float(rows[role_col(role, "correct")].mean()) if len(rows) else float("nan") for role in ROLES}


def _summary(
    stress_long: pd.DataFrame,
    wide: pd.DataFrame,
    names: dict[str, str],
    conf_threshold: float,
    slice_accuracy: Mapping[str, float] | None,
) -> pd.DataFrame:
    """Per model: accuracy over the labelled cases and the disagreement rate, each with its 95% Wilson
    interval and n; high-confidence wrong answers out of the labelled wrong ones."""
    from evalcore.stats.intervals import wilson_interval

    n_disagree = int((~wide["agree"]).sum())
    d_lo, d_hi = wilson_interval(n_disagree, len(wide))
    rows = []
    for role in ROLES:
        part = stress_long[stress_long["role"] == role]
        known = part["correct"].notna()
        wrong = known & ~part["correct"].fillna(True)
        k = int(part.loc[known, "correct"].astype(bool).sum())
        lo, hi = wilson_interval(k, int(known.sum()))
        row = {
            "model": names[role],
            "role": role,
            "n": len(part),
            "n_labelled": int(known.sum()),
            "n_correct": k,
            "accuracy": k / int(known.sum()) if known.any() else np.nan,
            "accuracy_lo": float(lo),
            "accuracy_hi": float(hi),
            "n_wrong": int(wrong.sum()),
            # unknown (NaN), never 0, for a model whose score is not a probability
            "high_conf_wrong": int((wrong & (part["conf"] >= conf_threshold)).sum())
            if part["conf"].notna().any()
            else np.nan,
            "n_disagree": n_disagree,
            "disagreement_rate": n_disagree / len(wide) if len(wide) else np.nan,
            "disagreement_lo": float(d_lo),
            "disagreement_hi": float(d_hi),
            "mean_conf": float(part["conf"].mean()),
        }
        if slice_accuracy is not None:
            acc = slice_accuracy.get(names[role], slice_accuracy.get(role))
            row["slice_accuracy"] = float(acc) if acc is not None else np.nan
            row["accuracy_vs_slice"] = row["accuracy"] - row["slice_accuracy"]
        rows.append(row)
    return pd.DataFrame(rows)
