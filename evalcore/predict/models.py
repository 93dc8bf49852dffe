"""Predictors: one interface from a list of texts to dataset labels, confidences and probabilities.

A model spec string is the same everywhere (CLI, app, config), parsed by `ModelSpec.parse`:

- `vader` or `vader:<threshold>`: VADER, rule based (see `VaderPredictor` for the thresholds);
- `demo`: the demo transformer built by `evalcore.predict.demo_model` (built first when missing);
- `hf:<hub id or local dir>[@revision][#MODEL_LABEL=dataset_label,...]`: a Hugging Face
  text-classification model, with an optional explicit label map;
- `file:<path>`: predictions in a file, aligned by row or by an `id` column (`.txt` one label per
  line, or `.csv` / `.jsonl` with columns `pred[,conf][,id]`);
- a bare name: a precomputed prediction column of the data (`roberta`, `gpt2` in the lab file).

`load_predictor(spec, labels, data=...)` (`evalcore.predict.load`) is the one entry point. Every model is mapped onto the
dataset's labels *before* it scores anything: a model whose labels cannot be mapped is refused.
A model with labels the task lacks is *projected* onto the shared ones, visibly: a 3-class
sentiment model on binary data chooses between negative and positive (its probabilities
renormalised over them), VADER uses its binary rule; `projection_rows` lists what went where and
`unreachable_warning` names any gold label no model output can reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from evalcore.core.errors import ModelError
from evalcore.io.labels import (  # noqa: F401 (re-exported)
    SENTIMENT_LABELS,
    SYNONYMS,
    read_label_codes,
    read_labels,
    resolve_label,
)

if TYPE_CHECKING:
    import pandas as pd

    from evalcore.io.data import EvalData

SCHEMA_VERSION = 1  # bump when a predictor's outputs change for the same model: keys the cache
DEFAULT_MAX_LENGTH = 128
VADER_THRESHOLD = 0.05
DROP = "-"  # in an explicit label map, `MODEL_LABEL=-` drops that model label (see map_model_labels)
PREFIXED_KINDS = ("vader", "hf", "file")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_GENERIC_RE = re.compile(r"^label_?(\d+)$", re.IGNORECASE)
SPEC_HELP = (
    "`vader[:threshold]`, `demo`, `hf:<hub id or local dir>[@revision][#LABEL_0=neg,...]`, "
    "`file:<predictions file>`, or the name of a precomputed prediction column of the data"
)
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PredictionBatch:
    """Outputs for a batch: `pred` indexes into the predictor's `labels`; `probs` rows sum to 1
    (NaN rows when the source gives no probabilities); `conf` is the probability of `pred`."""

    pred: np.ndarray  # (n,) int
    probs: np.ndarray  # (n, k) float32
    conf: np.ndarray  # (n,) float32


class Predictor(ABC):
    """A model mapped onto a dataset's label set.

    `labels` are the dataset's labels, in the order of the probability columns.
    `fingerprint` changes whenever any output could change (kind, id/path, revision or weight hash,
    label mapping, max length); it keys the prediction cache.
    `live` is False for precomputed predictions, which cannot score new text.
    """

    name: str
    spec: str
    labels: tuple[str, ...]
    fingerprint: str
    live: bool = True
    label_mapping: dict[str, str]  # model label -> dataset label, for display
    notes: tuple[str, ...] = ()  # how the mapping was decided (e.g. generic names by position)
    dropped: tuple[str, ...] = ()  # model labels the task lacks: their probability is renormalised away
    # What the top-label score is: "probability" (a classifier's softmax, a shipped confidence), or
    # something else (VADER's lexicon share). Only probabilities feed confidence-based metrics.
    score_kind: str = "probability"

    @property
    def unreachable(self) -> tuple[str, ...]:
        """Dataset labels no model output maps to: this model can never predict them."""
        reached = set(self.label_mapping.values())
        return tuple(lab for lab in self.labels if lab not in reached)

    @abstractmethod
    def predict(self, texts: Sequence[str]) -> PredictionBatch:
        """Score a batch of texts; no caching here (see `evalcore.predict.scoring`)."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, k) probabilities over `labels`: the one call stress tests need."""
        return self.predict(texts).probs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, labels={self.labels})"


# ----- spec strings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec; `str(spec)` gives the canonical text and `parse(str(s)) == s`.

    >>> s = ModelSpec.parse("hf:cardiffnlp/twitter-roberta-base-sentiment@main#LABEL_0=negative")
    >>> (s.kind, s.target, s.revision, s.label_map)
    ('hf', 'cardiffnlp/twitter-roberta-base-sentiment', 'main', (('LABEL_0', 'negative'),))
    >>> str(ModelSpec.parse(" vader:0.1 "))
    'vader:0.1'
    """

    kind: str  # "vader" | "demo" | "hf" | "file" | "precomputed"
    target: str = ""  # hub id / directory / file path / column name
    revision: str | None = None
    threshold: float | None = None
    label_map: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | ModelSpec) -> ModelSpec:
        if isinstance(text, ModelSpec):
            return text
        raw = (text or "").strip() if isinstance(text, str) else ""
        if not raw:
            raise ModelError(f"model spec is empty; allowed: {SPEC_HELP}")
        prefix, sep, rest = raw.partition(":")
        if raw == "demo":
            return cls("demo")
        if prefix == "vader":
            return cls("vader", threshold=_parse_threshold(rest) if sep else None)
        if sep and prefix == "hf":
            return _parse_hf(rest, raw)
        if sep and prefix == "file":
            if not rest.strip():
                raise ModelError(f"model spec {raw!r} names no file; write `file:<path>`")
            return cls("file", target=rest.strip())
        if not sep and _NAME_RE.match(raw):
            return cls("precomputed", target=raw)
        raise ModelError(f"model spec {raw!r} is not understood; allowed: {SPEC_HELP}")

    def __str__(self) -> str:
        if self.kind == "demo":
            return "demo"
        if self.kind == "vader":
            return "vader" if self.threshold is None else f"vader:{self.threshold:g}"
        if self.kind == "hf":
            text = f"hf:{self.target}" + (f"@{self.revision}" if self.revision else "")
            if self.label_map:
                text += "#" + ",".join(f"{k}={v}" for k, v in self.label_map)
            return text
        if self.kind == "file":
            return f"file:{self.target}"
        return self.target

    @property
    def live(self) -> bool:
        """Whether the model can score new text: precomputed columns and prediction files cannot,
        they exist only for their dataset's rows."""
        return self.kind not in ("precomputed", "file")

    @property
    def name(self) -> str:
        """Short display name: `vader`, `demo`, the last part of a hub id or path, a column name; never a
        content hash (an upload's `<12 hex>_` prefix, a hub cache's `snapshots/<commit>` folder) or a
        server path: those are in `str(spec)`, which pages show on hover."""
        if self.kind in ("vader", "demo"):
            return self.kind
        if self.kind in ("hf", "file"):
            path = Path(self.target.rstrip("/\\"))
            if self.kind == "hf" and path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
                return path.parent.parent.name.split("--")[-1]  # <cache>/models--org--name/snapshots/<commit>
            short = path.stem if self.kind == "file" else path.name
            return _UPLOAD_HASH.sub("", short) or short
        return self.target


# An uploaded file is stored as `<first 12 hex digits of its sha256>_<its name>` (evalcore.serve.roots.store_file).
_UPLOAD_HASH = re.compile(r"^[0-9a-f]{12}_(?=.)")


def display_name(spec: str) -> str:
    """The short name of a model spec for people (`file:/srv/uploads/9d41499e9193_irony.txt` -> `irony`);
    the spec itself when it does not parse. `vader:0.3` keeps its threshold."""
    try:
        parsed = ModelSpec.parse(spec)
    except ModelError:
        return str(spec)
    return str(parsed) if parsed.kind == "vader" else parsed.name


def _parse_threshold(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < 1.0:
        raise ModelError(
            f"VADER threshold {raw!r} in spec `vader:{raw}` must be a number in [0, 1) "
            f"(compound >= t is positive, <= -t negative); default {VADER_THRESHOLD}"
        )
    return value


def _parse_hf(rest: str, raw: str) -> ModelSpec:
    body, _, mapping = rest.partition("#")
    target, revision = body.strip(), None
    head, at, tail = target.rpartition("@")
    if at and head and "/" not in tail and "\\" not in tail:
        target, revision = head, tail.strip() or None
    if not target:
        raise ModelError(f"model spec {raw!r} names no model; write `hf:<hub id or local dir>`")
    pairs = []
    for item in filter(None, (p.strip() for p in mapping.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ModelError(
                f"label map entry {item!r} in spec {raw!r} must be MODEL_LABEL=dataset_label, "
                f"e.g. `hf:<id>#LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive`"
            )
        pairs.append((key.strip(), value.strip()))
    return ModelSpec("hf", target=target, revision=revision, label_map=tuple(pairs))


# ----- label mapping ----------------------------------------------------------------------------


def map_model_labels(
    model_labels: Sequence[str], labels: Sequence[str], explicit: Mapping[str, str] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map a model's labels (in output order) onto the dataset's: (index per model label, notes).

    Names match case-insensitively with common synonyms (pos/neg/neu). Generic names `LABEL_i` are
    mapped by position only when the model has exactly as many labels as the dataset, and a note
    says so. Several model labels may map to one dataset label (their probabilities add up); a
    dataset label no model label maps to gets probability 0 (see `Predictor.unreachable`).

    Projection: model labels the task lacks (index -1) are dropped when the others reach at least
    two dataset labels by name, so a negative/neutral/positive model on binary data chooses between
    negative and positive; a note says so, and callers renormalise the remaining probabilities.
    An explicit map drops a label with `MODEL_LABEL=-`. Anything else unmapped raises `ModelError`.
    """
    labels = tuple(labels)
    hint = (
        "pass an explicit map: `hf:<id>#"
        + ",".join(f"{m}=<dataset label>" for m in model_labels)
        + "` (`=-` drops a label)"
    )
    if explicit:
        index = _explicit_map(model_labels, labels, explicit, hint)
        return index, ("explicit label map",) + _drop_note(model_labels, index, labels)
    index = [resolve_label(m, labels) for m in model_labels]
    if all(i is not None for i in index):
        return np.array(index, dtype=np.int64), ()
    if len({i for i in index if i is not None}) >= 2:
        projected = np.array([-1 if i is None else i for i in index], dtype=np.int64)
        return projected, _drop_note(model_labels, projected, labels)
    generic = [_GENERIC_RE.match(str(m)) for m in model_labels]
    if all(generic):
        positions = [int(g.group(1)) for g in generic]
        if len(model_labels) == len(labels) and sorted(positions) == list(range(len(labels))):
            note = (
                f"generic model labels {', '.join(model_labels)} mapped by position onto "
                f"{', '.join(labels[p] for p in positions)}; {hint} if that is wrong"
            )
            return np.array(positions, dtype=np.int64), (note,)
        raise ModelError(
            f"model labels {', '.join(model_labels)} are generic and their number "
            f"({len(model_labels)}) differs from the dataset's ({len(labels)}: {', '.join(labels)}), "
            f"so they cannot be mapped by position; {hint}"
        )
    bad = [m for m, i in zip(model_labels, index) if i is None]
    raise ModelError(
        f"model labels {', '.join(map(repr, bad))} cannot be mapped onto the dataset labels "
        f"({', '.join(labels)}); model labels are {', '.join(map(str, model_labels))}; {hint}"
    )


def _explicit_map(
    model_labels: Sequence[str], labels: tuple[str, ...], explicit: Mapping[str, str], hint: str
) -> np.ndarray:
    unknown_keys = [k for k in explicit if k not in model_labels]
    if unknown_keys:
        raise ModelError(
            f"label map names {', '.join(map(repr, unknown_keys))}, which the model does "
            f"not have; model labels are {', '.join(model_labels)}"
        )
    missing = [m for m in model_labels if m not in explicit]
    if missing:
        raise ModelError(
            f"label map leaves model labels {', '.join(map(repr, missing))} unmapped; map every model label ({hint})"
        )
    index = []
    for m in model_labels:
        if explicit[m].strip() == DROP:
            index.append(-1)
            continue
        i = resolve_label(explicit[m], labels)
        if i is None:
            raise ModelError(
                f"label map sends {m!r} to {explicit[m]!r}, which is not a dataset label; "
                f"dataset labels are {', '.join(labels)}"
            )
        index.append(i)
    if len({i for i in index if i >= 0}) < 2:
        raise ModelError(
            f"label map reaches fewer than two dataset labels ({', '.join(labels)}); a model "
            f"must be able to choose between at least two"
        )
    return np.array(index, dtype=np.int64)


def _drop_note(model_labels: Sequence[str], index: np.ndarray, labels: Sequence[str]) -> tuple[str, ...]:
    dropped = [m for m, i in zip(model_labels, index) if i < 0]
    if not dropped:
        return ()
    kept = sorted({labels[i] for i in index if i >= 0}, key=list(labels).index)
    return (
        f"projected onto the task's labels: model label{'s' if len(dropped) > 1 else ''} "
        f"{', '.join(dropped)} dropped, the probabilities of {', '.join(kept)} renormalised to sum to 1",
    )


def projection_matrix(index: np.ndarray, k: int) -> np.ndarray:
    """(model labels, dataset labels) 0/1 matrix: `probs @ P` adds up model labels sharing a
    dataset label; a dropped model label (index -1) has a zero row."""
    proj = np.zeros((len(index), k), dtype=np.float32)
    kept = np.flatnonzero(index >= 0)
    proj[kept, index[kept]] = 1.0
    return proj


def project(probs: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Model probabilities onto dataset labels, renormalised when some model labels were dropped
    (a row with no mass left on kept labels, which softmax never gives, becomes uniform)."""
    out = np.asarray(probs, dtype=np.float32) @ proj
    if proj.sum() < proj.shape[0]:  # some labels dropped
        total = out.sum(axis=1, keepdims=True)
        out = np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / proj.shape[1]).astype(np.float32)
    return out


def projection_rows(predictor: Predictor) -> list[dict[str, str]]:
    """What the Data & models page shows: each model label and where it goes, then each dataset
    label no output reaches (`model label` empty)."""
    rows = [{"model label": m, "dataset label": d, "how": "mapped"} for m, d in predictor.label_mapping.items()]
    kept = ", ".join(lab for lab in predictor.labels if lab not in predictor.unreachable)
    rows += [
        {"model label": m, "dataset label": "—", "how": f"dropped: {kept} renormalised"} for m in predictor.dropped
    ]
    rows += [
        {"model label": "—", "dataset label": d, "how": "never predicted (no model label maps here)"}
        for d in predictor.unreachable
    ]
    return rows


def unreachable_warning(predictor: Predictor, gold: Sequence[str] | None = None) -> str | None:
    """A warning naming the gold labels this model can never predict (with their row counts when
    `gold` is given), or None. Every row of such a label counts as an error of the model."""
    missing = predictor.unreachable
    if not missing:
        return None
    counts = Counter(map(str, gold)) if gold is not None else None
    named = ", ".join(
        f"{lab!r}" + (f" ({counts.get(lab, 0):,} gold rows)" if counts is not None else "") for lab in missing
    )
    return (
        f"model {predictor.name} can never predict {named}: no model label maps to "
        f"{'it' if len(missing) == 1 else 'them'}, so every such row counts as its error; "
        "check the label map if that is not intended"
    )


def _batch(probs: np.ndarray, pred: np.ndarray | None = None) -> PredictionBatch:
    """Batch from (n, k) probabilities; `pred` defaults to their argmax, `conf` is prob of pred."""
    probs = np.asarray(probs, dtype=np.float32)
    if pred is None:
        pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    conf = probs[np.arange(len(pred)), pred] if len(pred) else np.zeros(0, dtype=np.float32)
    return PredictionBatch(pred=pred, probs=probs, conf=conf.astype(np.float32))


def _fingerprint(**parts: object) -> str:
    payload = json.dumps({"schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ----- Hugging Face -----------------------------------------------------------------------------

_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_SKIP = {"README.md", ".gitattributes"}


def dir_hash(folder: Path) -> str:
    """sha256 over the files of a model directory (not its README); per-file hashes are memoised
    by (path, mtime, size) so reloading an unchanged 90 MB model costs no re-read."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and p.name not in _HASH_SKIP):
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        if key not in _FILE_HASHES:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            _FILE_HASHES[key] = h.hexdigest()
        digest.update(f"{path.name}\0{_FILE_HASHES[key]}\n".encode())
    return digest.hexdigest()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class HFConfig:
    """What scoring needs before any weight loads: the model's labels in output order and, for a
    hub model, the commit its files come from (the cache key)."""

    model_labels: tuple[str, ...]
    commit_hash: str | None = None


def read_hf_config(source: str, revision: str | None = None, *, local: bool) -> HFConfig:
    """Read `config.json` as plain JSON (no torch, no transformers: ~1 ms instead of ~2 s), from a
    local directory or the hub (its local cache when offline). Labels follow transformers' rule:
    `id2label` when present, else `num_labels` (default 2) generic `LABEL_i` names."""
    try:
        if local:
            path, commit = Path(source) / "config.json", None
        else:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(source, "config.json", revision=revision, local_files_only=_offline()))
            commit = path.parent.name if path.parent.parent.name == "snapshots" else revision
        raw = json.loads(path.read_text(encoding="utf-8"))
        id2label = {int(k): str(v) for k, v in (raw.get("id2label") or {}).items()}
        n = len(id2label) if id2label else int(raw.get("num_labels", 2))
    except Exception as exc:  # hub errors, missing file, bad JSON: one readable message
        raise _load_error(source, local, exc) from exc
    return HFConfig(tuple(id2label.get(i, f"LABEL_{i}") for i in range(n)), commit)


def _load_error(source: str, local: bool, exc: BaseException) -> ModelError:
    where = "the local directory" if local else "the hub (offline: HF_HUB_OFFLINE is set)" if _offline() else "the hub"
    return ModelError(
        f"cannot load Hugging Face model {source!r} from {where}: "
        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. "
        f"Give a local model directory or a reachable hub id"
    )


class HFPredictor(Predictor):
    """A Hugging Face sequence-classification model, from a hub id or a local directory.

    Softmax over the logits, mapped onto the dataset labels with `map_model_labels`; texts are
    truncated to `max_length` tokens (part of the fingerprint); batches are padded to their longest
    text only, so length-sorted batches (see `evalcore.predict.scoring`) waste no compute on padding.
    """

    def __init__(
        self,
        source: str | Path,
        labels: Sequence[str],
        *,
        revision: str | None = None,
        label_map: Mapping[str, str] | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        name: str | None = None,
        spec: str | None = None,
    ):
        if not isinstance(max_length, int) or max_length < 1:
            raise ModelError(f"max_length must be a positive number of tokens, got {max_length!r}")
        self.labels = tuple(labels)
        self.max_length = max_length
        self.revision = revision
        local = Path(str(source)).expanduser()
        self.local = local.is_dir()
        raw = str(source)
        if not self.local and (raw.startswith((".", "/", "~")) or raw.count("/") > 1 or "\\" in raw):
            raise ModelError(
                f"model directory {str(source)!r} not found; give an existing local "
                f"directory or a hub id such as `cardiffnlp/twitter-roberta-base-sentiment`"
            )
        self.source = str(local.resolve()) if self.local else str(source)
        self.config = read_hf_config(self.source, revision, local=self.local)  # no weights: see predict
        self._loaded: tuple | None = None
        self._load_lock = threading.Lock()
        model_labels = list(self.config.model_labels)
        self.model_labels = tuple(model_labels)
        self._index, self.notes = map_model_labels(model_labels, self.labels, label_map)
        self.label_mapping = {m: self.labels[i] for m, i in zip(model_labels, self._index) if i >= 0}
        self.dropped = tuple(m for m, i in zip(model_labels, self._index) if i < 0)
        self._projection = projection_matrix(self._index, len(self.labels))
        self.name = name or Path(self.source).name
        self.spec = spec or str(
            ModelSpec("hf", target=str(source), revision=revision, label_map=tuple((label_map or {}).items()))
        )
        # Content, not place: a local directory is keyed by its files' hash alone (a copy of the
        # same model shares its cache); a hub model by its id and the resolved commit.
        weights = dir_hash(local) if self.local else self.config.commit_hash
        self.fingerprint = _fingerprint(
            kind="hf",
            source=None if self.local else self.source,
            revision=revision,
            weights=weights,
            mapping=sorted(self.label_mapping.items()),
            max_length=max_length,
            labels=self.labels,
        )  # order: columns of probs

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory (they load on the first `predict`, never before)."""
        return self._loaded is not None

    @property
    def tokenizer(self):
        return self._load()[0]

    @property
    def model(self):
        return self._load()[1]

    def _load(self):
        """Tokenizer and weights, loaded once (thread-safe) at the first call that needs them:
        a run whose texts are all in the prediction cache never pays for torch or the weights."""
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._load_weights()
            return self._loaded

    def _load_weights(self):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        # the commit the fingerprint was computed from, so the weights match the cache key
        kwargs = {"revision": self.config.commit_hash or self.revision, "local_files_only": self.local or _offline()}
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.source, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(self.source, **kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise _load_error(self.source, self.local, exc) from exc
        id2label = model.config.id2label or {}
        loaded = tuple(str(id2label.get(i, f"LABEL_{i}")) for i in range(model.config.num_labels))
        if loaded != self.model_labels:  # config.json read by hand must agree with transformers
            raise ModelError(
                f"model {self.source!r} loaded with labels {', '.join(loaded)} but its "
                f"config.json names {', '.join(self.model_labels)}; check its config"
            )
        model.train(False)  # inference mode for dropout / norm layers (same as Module.eval)
        return tokenizer, model

    def predict(self, texts: Sequence[str]) -> PredictionBatch:
        if not len(texts):
            return _batch(np.zeros((0, len(self.labels)), dtype=np.float32))
        import torch

        enc = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
        )
        with torch.inference_mode():
            logits = self.model(**enc).logits
            probs = torch.softmax(logits.float(), dim=-1).numpy()
        return _batch(project(probs, self._projection))


# ----- VADER ------------------------------------------------------------------------------------


class VaderPredictor(Predictor):
    """VADER (Hutto & Gilbert 2014), a lexicon and rules model: no training, fast, English only.

    Three-class rule (the data has negative, neutral and positive): compound >= `threshold` is
    positive, compound <= -`threshold` negative, else neutral (VADER's authors recommend 0.05).
    probs: VADER's own `neg`/`neu`/`pos` proportions (the shares of the text that read negative,
    neutral, positive), renormalised to sum to 1; a text with no scorable words gets neutral 1.
    These proportions are not calibrated probabilities and pred need not be their argmax (neutral
    dominates most tweets), so conf = prob of pred is often low: read it as a weak signal.

    Binary rule (the data has negative and positive, no neutral): the sign of compound,
    compound >= 0 positive (a text with no sentiment words, compound 0, goes to positive), else
    negative; the threshold plays no part. probs: positive (1 + compound) / 2, negative the rest,
    so pred is their argmax and conf grows with |compound|. Any other dataset label is one VADER
    can never predict (`unreachable`).
    """

    score_kind = "lexicon share"  # not a probability: never a confidence (confident regressions, ECE, DIR tests)

    def __init__(self, labels: Sequence[str], threshold: float | None = None, *, spec: str | None = None):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.labels = tuple(labels)
        cols = [resolve_label(s, self.labels) for s in SENTIMENT_LABELS]
        if cols[0] is None or cols[2] is None:
            raise ModelError(
                f"VADER predicts negative/neutral/positive but the dataset labels are "
                f"{', '.join(self.labels)}; use VADER only on sentiment data (it needs at least "
                "negative and positive)"
            )
        self.binary = cols[1] is None
        used = [(s, c) for s, c in zip(SENTIMENT_LABELS, cols) if c is not None]
        self._cols = np.array([c for _, c in used], dtype=np.int64)
        self.threshold = VADER_THRESHOLD if threshold is None else float(threshold)
        self.spec = spec or str(ModelSpec("vader", threshold=threshold))
        # Named after its spec: `vader` and `vader:0.3` are two models and must not share table columns.
        self.name = str(ModelSpec("vader", threshold=threshold))
        self.label_mapping = {s: self.labels[c] for s, c in used}
        if self.binary:
            self.dropped = ("neutral",)
            self.notes = (
                "binary rule: compound >= 0 is positive, < 0 negative (VADER's neutral band is "
                "not used on data without a neutral label)",
            )
        self._analyzer = SentimentIntensityAnalyzer()
        self.fingerprint = _fingerprint(
            kind="vader",
            version=_version("vaderSentiment"),
            threshold=self.threshold,
            columns=self._cols.tolist(),
            **({"rule": "binary-sign", "k": len(self.labels)} if self.binary else {}),
        )

    def predict(self, texts: Sequence[str]) -> PredictionBatch:
        n, k = len(texts), len(self.labels)
        probs = np.zeros((n, k), dtype=np.float32)
        pred = np.empty(n, dtype=np.int64)
        if self.binary:
            neg, pos = self._cols
            for row, text in enumerate(texts):
                c = self._analyzer.polarity_scores(text)["compound"]
                probs[row, pos], probs[row, neg] = (1.0 + c) / 2.0, (1.0 - c) / 2.0
                pred[row] = pos if c >= 0 else neg
            return _batch(probs, pred)
        neg, neu, pos = self._cols
        for row, text in enumerate(texts):
            s = self._analyzer.polarity_scores(text)
            shares = np.array([s["neg"], s["neu"], s["pos"]], dtype=np.float32)
            total = shares.sum()
            probs[row, self._cols] = shares / total if total > 0 else (0.0, 1.0, 0.0)
            c = s["compound"]
            pred[row] = pos if c >= self.threshold else neg if c <= -self.threshold else neu
        return _batch(probs, pred)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


# ----- precomputed ------------------------------------------------------------------------------


class PrecomputedPredictor(Predictor):
    """Predictions made elsewhere: data columns or a predictions file, keyed by row id.

    probs: when only a confidence is known, conf goes on the predicted label and (1 - conf) is
    spread evenly over the others — an approximation that keeps pred == argmax when conf > 1/k;
    without a confidence, conf and probs are NaN.
    """

    live = False

    def __init__(
        self,
        name: str,
        spec: str,
        labels: Sequence[str],
        ids: Sequence[str],
        pred: np.ndarray,
        conf: np.ndarray,
        source: str,
    ):
        self.name, self.spec, self.labels = name, spec, tuple(labels)
        self.source = source
        self.label_mapping = {lab: lab for lab in self.labels}
        import pandas as pd

        series = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
        self._id_values = series.astype("str").reset_index(drop=True)  # Arrow strings: the data's column, shared
        self._lookup: tuple[pd.Index, np.ndarray | None] | None = None  # built on the first read by id
        self._pred = np.asarray(pred, dtype=np.int64)
        self._conf = np.asarray(conf, dtype=np.float32)
        digest = hashlib.sha256(self._pred.tobytes() + self._conf.tobytes()).hexdigest()
        self.fingerprint = _fingerprint(kind="precomputed", source=source, values=digest)

    def predict(self, texts: Sequence[str]) -> PredictionBatch:
        raise ModelError(
            f"precomputed model {self.name} cannot score new text; its predictions "
            f"exist only for the rows of {self.source}"
        )

    def _by_id(self) -> tuple[Any, np.ndarray | None]:
        """The ids in a pandas Index (a hash table over Arrow strings, not a dict of a million Python strings)
        and, where an id repeats, the position of its last row (a repeated id reads its last row, as a dict
        would). Built only when rows are read by id: for the data the predictions came from (a prediction
        column), the rows are the same rows in the same order, and a million ids' hash table (~140 MB) is
        never made."""
        if self._lookup is None:
            import pandas as pd

            index = pd.Index(self._id_values)
            last = ~index.duplicated(keep="last")
            self._lookup = (index, None) if last.all() else (index[last], np.flatnonzero(last))
        return self._lookup

    def predict_rows(self, data: EvalData) -> PredictionBatch:
        """Predictions for the rows of `data`, matched by id; when `data` has these very ids in this order (the
        data the prediction columns came from), row i reads row i without hashing a single id."""
        ids = data.df["id"].astype(str).reset_index(drop=True)
        if ids.equals(self._id_values):
            rows = np.arange(len(ids))
        else:
            index, pos = self._by_id()
            rows = index.get_indexer(ids)
            missing = np.flatnonzero(rows < 0)
            if len(missing):
                raise ModelError(
                    f"precomputed model {self.name} has no prediction for row id "
                    f"{ids.iloc[missing[0]]!r} ({len(missing)} rows missing); it covers the rows of "
                    f"{self.source}"
                )
            rows = rows if pos is None else pos[rows]
        pred, conf = self._pred[rows], self._conf[rows]
        return PredictionBatch(pred=pred, probs=probs_from_conf(pred, conf, len(self.labels)), conf=conf)


def probs_from_conf(pred: np.ndarray, conf: np.ndarray, k: int) -> np.ndarray:
    """Approximate probabilities: `conf` on pred, `(1 - conf) / (k - 1)` on each other label."""
    conf = np.asarray(conf, dtype=np.float32)
    rest = (1.0 - conf) / max(k - 1, 1)
    probs = np.repeat(rest[:, None], k, axis=1).astype(np.float32)
    probs[np.arange(len(pred)), pred] = conf
    return probs


def _label_indexes(values: Sequence[object], data: EvalData, where: str) -> np.ndarray:
    """Predicted labels -> indexes into `data.labels`, read through the data's declared label map
    (`evalcore.io.labels.read_label_codes`): names (any case, common synonyms) or declared ids; integers
    without declared ids are refused, never read as positions."""
    return read_label_codes(values, data.declared_labels, data.labels, where=where, error=ModelError, lenient=True)


def _from_columns(spec: ModelSpec, data: EvalData) -> PrecomputedPredictor:
    info = data.precomputed.get(spec.target)
    if info is None and spec.target in data.df.columns and spec.target not in ("id", "text", "label"):
        info = _named_column(spec.target, data)  # named on purpose: read it, or say why it does not read
    if info is None:
        have = ", ".join(data.precomputed) or "none"
        raise ModelError(
            f"model {spec.target!r} is not a known spec nor a precomputed prediction "
            f"column of {data.name} (its precomputed columns: {have}); allowed: {SPEC_HELP}"
        )
    df = data.df
    pred = _label_indexes(df[info.pred_col], data, f"column {info.pred_col!r}")
    conf = (
        confidences(df[info.conf_col], f"column {info.conf_col!r} of {data.name}")
        if info.conf_col
        else np.full(len(df), np.nan, dtype=np.float32)
    )
    return PrecomputedPredictor(
        spec.target, str(spec), data.labels, df["id"], pred, conf, source=f"{data.source} column {info.pred_col}"
    )


def _named_column(col: str, data: EvalData):
    """A data column named as a model though not detected as one: its values are read through the data's
    label map, so the error says which value does not read and how to declare it."""
    from evalcore.io.data import CONF_SUFFIXES, PrecomputedModel

    _label_indexes(data.df[col].tolist(), data, f"column {col!r} of {data.name}")
    conf = next((col + s for s in CONF_SUFFIXES if col + s in data.df.columns), None)
    return PrecomputedModel(pred_col=col, conf_col=conf)


def _read_predictions_file(path: Path) -> pd.DataFrame:
    import io

    import pandas as pd

    from evalcore.io import limits

    suffix = path.suffix.lower()
    try:
        if suffix == ".txt":
            lines = limits.read_text(path, "predictions file", ModelError).splitlines()
            while lines and not lines[-1].strip():
                lines.pop()
            limits.check_shape(path.name, len(lines), 1, error=ModelError)
            return pd.DataFrame({"pred": lines})
        if suffix == ".csv":
            limits.check_csv(path, ",", path.name, ModelError)
            return pd.read_csv(path, dtype={"pred": str, "id": str}, keep_default_na=False)
        if suffix in (".jsonl", ".json"):
            text = limits.read_text(path, "predictions file", ModelError)
            limits.check_json_text(text, path.name, ModelError)
            frame = pd.read_json(io.StringIO(text), lines=suffix == ".jsonl", dtype={"pred": str, "id": str})
            if not isinstance(frame, pd.DataFrame) or (
                len(frame.columns) and not all(isinstance(c, str) for c in frame.columns)
            ):
                raise ModelError(
                    f"predictions file {path.name} must hold JSON objects with a `pred` field (and "
                    "optional `conf`, `id`), one per line in .jsonl or as an array in .json"
                )
            limits.check_shape(path.name, len(frame), len(frame.columns), error=ModelError)
            return frame
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"cannot read predictions file {path.name}: {str(exc)[:200]}") from exc
    raise ModelError(
        f"predictions file {path.name} has type {suffix!r}; allowed: .txt (one label per "
        f"line), .csv or .jsonl (columns pred[,conf][,id])"
    )


def confidences(values: pd.Series, where: str) -> np.ndarray:
    """Confidences as float32: a blank cell is unknown (NaN), text or a value outside [0, 1] is an error
    naming the first bad row."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")  # a float column: no round trip through text (a million rows)
        blank = numbers.isna()
        bad = ~blank & ((numbers < 0) | (numbers > 1))
    else:
        text = values.astype("string").str.strip()
        blank = text.isna() | (text == "")
        numbers = pd.to_numeric(text.mask(blank), errors="coerce")
        bad = ~blank & (numbers.isna() | (numbers < 0) | (numbers > 1))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ModelError(
            f"{where} must hold probabilities in [0, 1] (blank when unknown); row {row + 1} holds "
            f"{str(values.iloc[row])[:30]!r}"
        )
    return numbers.to_numpy(dtype=np.float32, na_value=np.nan)


def _from_file(spec: ModelSpec, data: EvalData | None) -> PrecomputedPredictor:
    from evalcore.io import limits

    path = Path(spec.target).expanduser()
    if not (path.exists() or path.is_symlink()):
        raise ModelError(f"predictions file not found: {path} (from spec {str(spec)!r})")
    path = limits.check_file(path, "predictions file", ModelError)  # (in the dashboard: the allowed folders only)
    if data is None:
        raise ModelError(f"predictions file {path.name} needs the data it was made for: pass data=")
    df = _read_predictions_file(path)
    if "pred" not in df.columns:
        raise ModelError(
            f"predictions file {path.name} has columns {', '.join(map(str, df.columns))}; "
            f"it needs a `pred` column (and optional `conf`, `id`)"
        )
    ids = data.df["id"].astype(str).tolist()
    if "id" in df.columns:
        ids = df["id"].astype(str).tolist()
        dup = next((i for i, n in Counter(ids).items() if n > 1), None)
        missing = set(data.df["id"].astype(str)) - set(ids)
        if dup is not None or missing:
            problem = (
                f"repeats id {dup!r}"
                if dup is not None
                else f"has no row for id {sorted(missing)[0]!r} ({len(missing)} ids of {data.name} missing)"
            )
            raise ModelError(
                f"predictions file {path.name} {problem}; its `id` column must name every row of the data once"
            )
    elif len(df) != len(data):
        raise ModelError(
            f"predictions file {path.name} has {len(df)} rows but {data.name} has "
            f"{len(data)}; without an `id` column they must align row by row"
        )
    pred = _label_indexes(df["pred"].tolist(), data, f"predictions file {path.name}")
    conf = (
        confidences(df["conf"], f"column `conf` of {path.name}")
        if "conf" in df.columns
        else np.full(len(df), np.nan, dtype=np.float32)
    )
    return PrecomputedPredictor(spec.name, str(spec), data.labels, ids, pred, conf, source=str(path))


# ----- entry point ------------------------------------------------------------------------------
