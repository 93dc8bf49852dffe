"""LLM-written stress cases from any OpenAI-compatible endpoint (optional).

Endpoints are the server operator's choice, never a visitor's: `configured_endpoints` reads them
from `$EVALCORE_LLM_ENDPOINTS` (JSON) or the `[llm.endpoints.<name>]` tables of
`.streamlit/secrets.toml` (passed in by the app), and a visitor may only pick one by name, so a key
can only travel to a host the operator wrote down (redirects are refused, so it never follows one).

The API key lives only in the environment variable the config names: it is read at call time,
put in the request header, and nowhere else — not in the config's dict or repr, not in error
messages (server replies that echo it are redacted). Without an endpoint, `build_prompt` gives a
prompt the user can paste into any chat tool and paste the reply back into the case list.
Transport is `urllib` from the standard library: one POST, no extra dependency.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from evalcore.core.errors import ConfigError, DataError
from evalcore.probe.stress import StressCase, parse_cases

MAX_EXAMPLES = 12  # enough to show the slice's style without flooding the prompt
# The key variable must look like an API key's, and never another service's secret.
_KEY_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(_API_KEY|_KEY|_TOKEN)")
_FORBIDDEN_KEY_PREFIXES = ("WANDB_", "HF_", "HUGGING", "AWS_", "GOOGLE_", "AZURE_", "GITHUB_", "GH_")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the Authorization header to another URL: refuse it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        raise urllib.error.HTTPError(
            display_url(req.full_url), code, f"redirect to {display_url(newurl)} refused", headers, fp
        )


_ERROR_BODY_CHARS = 300  # shown of an error body, after the key is redacted from all of what was read
_ERROR_READ_BYTES = 65_536  # read of an error body: enough to redact an echo anywhere in what is shown
_SECRET_QUERY = re.compile(r"(?i)key|token|secret|passw|pwd|sig|auth|cred|session|code")


def display_url(url: str) -> str:
    """A URL as it may be printed: credentials in it (`https://user:pass@host`) and the values of secret-looking
    query parameters (`?api_key=...`) replaced by `***`. Every place that shows an endpoint's URL (doctor, the
    Stress page, error messages) goes through here."""
    try:
        parts = urllib.parse.urlsplit(str(url))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port or bracket: show no part of it that could hold a secret
        return "<unreadable URL>"
    netloc = f"***@{host}{port}" if parts.username is not None or parts.password is not None else parts.netloc
    query = "&".join(
        f"{k}=***" if _SECRET_QUERY.search(k) else f"{k}={v}" if sep else k
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, "" if not parts.fragment else "***"))


@dataclass(frozen=True)
class LLMConfig:
    """Where to ask. `api_key_env` names the environment variable holding the key ("" for a local
    server that needs none); the key itself is never a field, so it can't leak through to_dict."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.7
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.base_url, str) or not re.match(r"https?://[^/\s]+", self.base_url):
            shown = display_url(self.base_url) if isinstance(self.base_url, str) else type(self.base_url).__name__
            raise ConfigError(f"LLM base_url={shown!r} must be an http(s) URL, e.g. https://api.openai.com/v1")
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError(f"LLM model={self.model!r} must name a model, e.g. gpt-4o-mini")
        if not isinstance(self.api_key_env, str) or (self.api_key_env and not _KEY_ENV.fullmatch(self.api_key_env)):
            raise ConfigError(
                f"LLM api_key_env={self.api_key_env!r} must name an API-key variable "
                "(letters, digits, _, ending in _API_KEY, _KEY or _TOKEN) or be empty for no key"
            )
        if self.api_key_env.upper().startswith(_FORBIDDEN_KEY_PREFIXES):
            raise ConfigError(
                f"LLM api_key_env={self.api_key_env!r}: keys of other services (W&B, Hugging "
                "Face, cloud providers) are never sent to an LLM endpoint"
            )
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        if self.api_key_env and self.base_url.startswith("http://") and host not in _LOCAL_HOSTS:
            raise ConfigError(
                f"LLM base_url={display_url(self.base_url)!r}: an API key is only sent over https "
                "(plain http is allowed for a local server on localhost)"
            )
        if not isinstance(self.temperature, (int, float)) or not 0.0 <= self.temperature <= 2.0:
            raise ConfigError(f"LLM temperature={self.temperature!r} must lie in [0, 2]")
        if not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise ConfigError(f"LLM timeout={self.timeout!r} must be a positive number of seconds")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        return (
            f"LLMConfig(base_url={self.display_url!r}, model={self.model!r}, api_key_env={self.api_key_env!r}, "
            f"temperature={self.temperature!r}, timeout={self.timeout!r})"
        )

    @property
    def display_url(self) -> str:
        """`base_url` as it may be printed (`display_url`: no credentials)."""
        return display_url(self.base_url)

    @classmethod
    def from_dict(cls, raw: Any) -> LLMConfig:
        if not isinstance(raw, dict):
            raise ConfigError(f"LLM config must be an object, got {type(raw).__name__}")
        allowed = {"base_url", "model", "api_key_env", "temperature", "timeout"}
        unknown = set(raw) - allowed
        if unknown:
            raise ConfigError(f"LLM config: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        return cls(**raw)

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def key_is_set(self) -> bool:
        """Whether the key variable is set (for the UI), without revealing the key."""
        return not self.api_key_env or bool(os.environ.get(self.api_key_env))


ENDPOINTS_ENV = "EVALCORE_LLM_ENDPOINTS"


def endpoints_from(raw: Any, where: str) -> dict[str, LLMConfig]:
    """`{name: {base_url, model[, api_key_env, temperature, timeout]}}` -> validated configs."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: LLM endpoints must be a table of name -> settings, got {type(raw).__name__}")
    out = {}
    for name, settings in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w .-]{0,39}", name):
            raise ConfigError(f"{where}: endpoint name {name!r:.40} must be 1-40 letters, digits, spaces, _ . -")
        try:
            out[name] = LLMConfig.from_dict(dict(settings) if isinstance(settings, Mapping) else settings)
        except ConfigError as exc:
            raise ConfigError(f"{where}: endpoint {name!r}: {exc}") from exc
    return out


def configured_endpoints(secrets: Mapping | None = None) -> tuple[dict[str, LLMConfig], list[str]]:
    """The endpoints the operator configured (environment first, then the app's secrets) and the
    problems found in that configuration (shown to the operator's users without any secret)."""
    found: dict[str, LLMConfig] = {}
    problems: list[str] = []
    raw_env = os.environ.get(ENDPOINTS_ENV, "").strip()
    if raw_env:
        try:
            found.update(endpoints_from(json.loads(raw_env), f"${ENDPOINTS_ENV}"))
        except ValueError as exc:
            problems.append(f"${ENDPOINTS_ENV} is not valid JSON or not valid settings ({exc})")
    if secrets is not None:
        try:
            llm = secrets.get("llm") if isinstance(secrets, Mapping) else None
            endpoints = llm.get("endpoints") if isinstance(llm, Mapping) else None
            for name, config in endpoints_from(endpoints, ".streamlit/secrets.toml [llm.endpoints]").items():
                found.setdefault(name, config)
        except ConfigError as exc:
            problems.append(str(exc))
    return found, problems


def build_prompt(slice_name: str, hypothesis: str, examples: Sequence[str], n: int, labels: Sequence[str]) -> str:
    """A self-contained prompt: the hypothesis, real examples from the slice, and the exact reply
    format `text<TAB>label` that `parse_cases` reads, so a reply pasted back in needs no editing."""
    if not isinstance(n, int) or not 1 <= n <= 200:
        raise ConfigError(f"number of cases n={n!r} must be an integer from 1 to 200")
    if not labels:
        raise ConfigError("labels must name at least one label")
    shown = [" ".join(str(e).split()) for e in examples if str(e).strip()][:MAX_EXAMPLES]
    lines = [
        "You write test cases for a text classifier of short social-media posts (tweets).",
        f"The classifier's labels are: {', '.join(labels)}.",
        "",
        f"Hypothesis to probe: {hypothesis.strip() or '(none given)'}",
        f"Target slice: {slice_name or '(none)'}",
    ]
    if shown:
        lines += ["", "Real examples from this slice:"] + [f"- {e}" for e in shown]
    lines += [
        "",
        f"Write {n} new, varied tweets that test the hypothesis, in the style of the examples, "
        "each with the label a careful human would give.",
        "Reply with exactly one case per line and nothing else: the tweet, one TAB character, "
        "then the label. No numbering, no quotes, no header, no blank lines. For example:",
        f"this is an example tweet\t{labels[0]}",
    ]
    return "\n".join(lines) + "\n"


def _redact(text: str, key: str | None) -> str:
    """`text` with every echo of the key replaced, in any case and with any whitespace (or JSON-escaped line break)
    between its characters (a server may upper-case or wrap what it echoes). Called on all of a reply before any
    of it is cut."""
    if not key:
        return text
    chars = [c for c in key if not c.isspace()]
    if not chars:
        return text
    gap = r"(?:\s|\\[nrt])*"  # whitespace, or its escape in a JSON body ("\n")
    return re.sub(gap.join(re.escape(c) for c in chars), "[redacted]", text, flags=re.IGNORECASE)


def _post(config: LLMConfig, body: dict[str, Any], key: str | None) -> dict[str, Any]:
    """One JSON POST; every failure becomes a ConfigError that names the endpoint, never the key."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        config.endpoint, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
    )
    where = f"LLM endpoint {display_url(config.endpoint)}"
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=config.timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        try:
            body = _redact(exc.read(_ERROR_READ_BYTES).decode("utf-8", "replace"), key)
            detail = _redact(body[:_ERROR_BODY_CHARS], key).strip()  # redacted whole first, then cut
        except (OSError, http.client.HTTPException):
            detail = ""
        key_hint = f"the key in ${config.api_key_env}" if config.api_key_env else "no key (api_key_env is empty)"
        hint = {
            401: f"{key_hint} was rejected",
            403: f"{key_hint} may not use model {config.model!r}",
            404: "no such path: base_url usually ends in /v1",
            429: "rate limit or quota reached; wait and retry",
        }.get(
            exc.code,
            "the server failed; retry later"
            if exc.code >= 500
            else "it redirects elsewhere; redirects are refused so the key never follows one: configure the final URL"
            if 300 <= exc.code < 400
            else "request refused",
        )
        raise ConfigError(f"{where} answered HTTP {exc.code} ({hint})" + (f": {detail}" if detail else "")) from exc
    except (TimeoutError, socket.timeout) as exc:
        raise ConfigError(f"{where} did not answer within timeout={config.timeout} s") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise ConfigError(f"{where} did not answer within timeout={config.timeout} s") from exc
        raise ConfigError(
            f"could not reach {where}: {_redact(str(reason), key)[:_ERROR_BODY_CHARS]}; check base_url "
            "and that the server is running"
        ) from exc
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        raise ConfigError(
            f"{where} closed the connection without a complete reply ({type(exc).__name__}); retry or check the server"
        ) from exc
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = _redact(_redact(payload[:_ERROR_READ_BYTES].decode("utf-8", "replace"), key)[:120], key)
        raise ConfigError(
            f"{where} did not reply with JSON (got {snippet!r}); is base_url an OpenAI-compatible API?"
        ) from exc


_FENCE_RE = re.compile(r"^\s*```")
_BULLET_RE = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*\u2022])\s+")


def clean_reply(text: str, labels: Sequence[str] = ()) -> str:
    """Undo what chat models and chat UIs do to a list despite the prompt: code fences, numbering,
    bullets, and a TAB turned into " | ", " - ", ", " or a run of spaces before a known label
    (copying from a chat window often loses the tab)."""
    tail = None
    if labels:
        names = "|".join(re.escape(str(lab)) for lab in labels)
        tail = re.compile(rf"^(.*\S)(?:\s*\|\s*|\s+-\s+|\s*,\s*|\s{{2,}})({names})\s*$", re.IGNORECASE)
    out = []
    for line in text.splitlines():
        if _FENCE_RE.match(line):
            continue
        line = _BULLET_RE.sub("", line)
        match = tail.match(line) if tail is not None and "\t" not in line else None
        out.append(f"{match.group(1)}\t{match.group(2)}" if match else line)
    return "\n".join(out)


def parse_reply(text: str, labels: Sequence[str]) -> list[StressCase]:
    """Cases from an LLM's reply (from the endpoint, or pasted back from a chat tool)."""
    return parse_cases(clean_reply(text, labels), labels, source="llm")


def _api_key(config: LLMConfig) -> str | None:
    """The endpoint's key, read from its variable at call time (None for a keyless local server)."""
    if not config.api_key_env:
        return None
    key = (os.environ.get(config.api_key_env) or "").strip()
    if not key:
        raise ConfigError(
            f"environment variable {config.api_key_env} is not set: export the API "
            "key there (it is read at call time and never stored), or copy the "
            "prompt into a chat tool instead"
        )
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        # checked here because http.client's own error would quote the header, key included
        raise ConfigError(
            f"the key in {config.api_key_env} holds spaces, line breaks or "
            "non-ASCII characters; set it to the key alone"
        )
    return key


def chat(config: LLMConfig, prompt: str, temperature: float | None = None, max_tokens: int | None = None) -> str:
    """One user message to the endpoint, its reply's text (the key redacted). Errors are ConfigErrors."""
    key = _api_key(config)
    body: dict[str, Any] = {
        "model": config.model,
        "temperature": config.temperature if temperature is None else temperature,
        "messages": [{"role": "user", "content": prompt}],
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    reply = _post(config, body, key)
    try:
        content = reply["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise TypeError(type(content).__name__)
    except (KeyError, IndexError, TypeError) as exc:
        raise ConfigError(
            f"LLM endpoint {display_url(config.endpoint)} replied without choices[0].message.content "
            f"(got keys {sorted(reply) if isinstance(reply, dict) else type(reply).__name__})"
        ) from exc
    return _redact(content, key)


def generate_cases(config: LLMConfig, prompt: str, labels: Sequence[str]) -> list[StressCase]:
    """Ask the endpoint for cases and parse its reply (source 'llm'). Errors are ConfigErrors."""
    content = chat(config, prompt)
    try:
        return parse_reply(content, labels)
    except DataError as exc:
        raise ConfigError(
            f"the LLM's reply could not be read as cases ({exc}); edit the prompt or paste the reply in by hand"
        ) from exc
