"""LLM-written cases against a real local HTTP server speaking the OpenAI chat-completions shape."""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evalcore.core.errors import ConfigError
from evalcore.probe.llm import LLMConfig, build_prompt, clean_reply, generate_cases, parse_reply
from evalcore.probe.stress import parse_cases

LABELS = ["negative", "neutral", "positive"]
KEY = "sk-test-SECRET-0123456789abcdef"
ENV = "EVALCORE_TEST_LLM_KEY"
REPLY = "1. I don't love this at all\tnegative\n2. not bad, not bad at all\tPositive\n```\n"


class _Handler(BaseHTTPRequestHandler):
    """Behaviour chosen by the first path segment: /ok, /e500, /garbage, /close, /slow, /echo401."""

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the client gave up first (the timeout test)
            pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length))
        self.server.requests.append((self.path, dict(self.headers), request))  # type: ignore[attr-defined]
        mode = self.path.split("/")[1]
        if not self.path.endswith("/v1/chat/completions"):
            return self._send(404, b'{"error": "not found"}')
        if mode == "echo401" or self.headers.get("Authorization") != f"Bearer {KEY}":
            auth = self.headers.get("Authorization", "")
            return self._send(401, json.dumps({"error": f"Incorrect API key provided: {auth}"}).encode())
        if mode == "e500":
            return self._send(500, b'{"error": "boom"}')
        if mode == "garbage":
            return self._send(200, b"<html>not json</html>", "text/html")
        if mode == "nochoices":
            return self._send(200, b'{"object": "error"}')
        if mode == "close":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if mode == "slow":
            time.sleep(1.5)
        content = REPLY if mode != "badlabel" else "fine\tmixed\n"
        body = {
            "id": "x",
            "object": "chat.completion",
            "model": request["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        }
        return self._send(200, json.dumps(body).encode())


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.requests = []  # type: ignore[attr-defined]
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _config(server, mode: str, **kw) -> LLMConfig:
    host, port = server.server_address[:2]
    suffix = "" if mode == "nov1" else "/v1"  # "nov1": a base_url missing its /v1
    return LLMConfig(base_url=f"http://{host}:{port}/{mode}{suffix}", model="tiny-test", api_key_env=ENV, **kw)


def _no_key_anywhere(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.__cause__)
    assert KEY not in text


def test_generate_cases_sends_key_and_parses_reply(server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    config = _config(server, "ok", temperature=0.2)
    cases = generate_cases(config, "write cases", LABELS)
    assert [(c.text, c.label, c.source) for c in cases] == [
        ("I don't love this at all", "negative", "llm"),
        ("not bad, not bad at all", "positive", "llm"),
    ]
    path, headers, body = server.requests[-1]
    assert path == "/ok/v1/chat/completions"
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body == {"model": "tiny-test", "temperature": 0.2, "messages": [{"role": "user", "content": "write cases"}]}


def test_key_never_in_config_dict_or_repr(monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    config = LLMConfig("https://api.example.com/v1", "m", api_key_env=ENV)
    assert KEY not in repr(config) and KEY not in json.dumps(config.to_dict())
    assert LLMConfig.from_dict(config.to_dict()) == config
    assert config.key_is_set()


@pytest.mark.parametrize(
    "mode, fragment",
    [
        ("e500", "HTTP 500"),
        ("garbage", "did not reply with JSON"),
        ("nochoices", "without choices"),
        ("close", "closed the connection"),
        ("badlabel", "label 'mixed' is not one of"),
        ("nov1", r"HTTP 404 \(no such path: base_url usually ends in /v1\)"),
    ],
)
def test_endpoint_errors_are_config_errors_without_key(server, monkeypatch, mode, fragment):
    monkeypatch.setenv(ENV, KEY)
    with pytest.raises(ConfigError, match=fragment) as info:
        generate_cases(_config(server, mode), "p", LABELS)
    _no_key_anywhere(info.value)


def test_wrong_key_401_and_echoed_key_is_redacted(server, monkeypatch):
    monkeypatch.setenv(ENV, "sk-wrong-key")
    with pytest.raises(ConfigError, match=rf"HTTP 401 \(the key in \${ENV} was rejected\)"):
        generate_cases(_config(server, "ok"), "p", LABELS)
    monkeypatch.setenv(ENV, KEY)  # the server echoes the key it got: we must not repeat it
    with pytest.raises(ConfigError, match=r"\[redacted\]") as info:
        generate_cases(_config(server, "echo401"), "p", LABELS)
    _no_key_anywhere(info.value)


def test_timeout(server, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    with pytest.raises(ConfigError, match="did not answer within timeout=0.3 s") as info:
        generate_cases(_config(server, "slow", timeout=0.3), "p", LABELS)
    _no_key_anywhere(info.value)


def test_connection_refused(monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(f"http://127.0.0.1:{port}/v1", "m", api_key_env=ENV, timeout=2)
    with pytest.raises(ConfigError, match="could not reach LLM endpoint") as info:
        generate_cases(config, "p", LABELS)
    _no_key_anywhere(info.value)


def test_key_with_a_line_break_is_refused_without_quoting_it(server, monkeypatch):
    monkeypatch.setenv(ENV, KEY + "\nX-Injected: 1")
    with pytest.raises(ConfigError, match=f"the key in {ENV} holds spaces, line breaks") as info:
        generate_cases(_config(server, "ok"), "p", LABELS)
    _no_key_anywhere(info.value)
    monkeypatch.setenv(ENV, f"  {KEY}\n")  # a trailing newline from `cat keyfile` is forgiven
    assert len(generate_cases(_config(server, "ok"), "p", LABELS)) == 2


def test_missing_key(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    config = LLMConfig("http://127.0.0.1:9/v1", "m", api_key_env=ENV)
    assert not config.key_is_set()
    with pytest.raises(ConfigError, match=f"environment variable {ENV} is not set"):
        generate_cases(config, "p", LABELS)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"base_url": "ftp://x"}, "base_url='ftp://x' must be an http"),
        ({"model": " "}, "model=' ' must name a model"),
        ({"api_key_env": "sk-abc"}, "api_key_env='sk-abc' must name an API-key variable"),
        ({"api_key_env": "HOME"}, "api_key_env='HOME' must name an API-key variable"),
        ({"api_key_env": "WANDB_API_KEY"}, "keys of other services"),
        ({"base_url": "http://llm.example.com/v1"}, "only sent over https"),
        ({"temperature": 3}, "temperature=3 must lie in"),
        ({"timeout": 0}, "timeout=0 must be a positive"),
    ],
)
def test_config_validation(kwargs, fragment):
    base = {"base_url": "http://localhost:8000/v1", "model": "m"}
    with pytest.raises(ConfigError, match=fragment):
        LLMConfig(**(base | kwargs))


def test_prompt_holds_examples_format_and_round_trips_through_parse_cases():
    examples = ["I don't hate it", "  not   my day  "] + [f"ex {i}" for i in range(20)]
    prompt = build_prompt("has_negation", "negation flips polarity", examples, 7, LABELS)
    assert "Hypothesis to probe: negation flips polarity" in prompt
    assert "Target slice: has_negation" in prompt
    assert "- I don't hate it\n- not my day\n" in prompt
    assert "- ex 9\n" in prompt and "- ex 10\n" not in prompt  # at most 12 examples
    assert "Write 7 new" in prompt and "negative, neutral, positive" in prompt
    sample = prompt.rstrip("\n").splitlines()[-1]  # the format line a reply must copy
    assert parse_cases(sample, LABELS)[0].label == "negative"
    with pytest.raises(ConfigError, match="n=0"):
        build_prompt("s", "h", [], 0, LABELS)


def test_clean_reply_drops_fences_and_numbering():
    assert clean_reply("```\n1. a\tpositive\n- b\tneutral\n* c\n```") == "a\tpositive\nb\tneutral\nc"


def test_reply_pasted_from_a_chat_window_without_tabs():
    reply = (
        "so not happy with this | Negative\nmeh, it is a day - neutral\nwhat a game, positive\n"
        "spaces instead of a tab    positive\nI feel positive about it\n"
    )
    assert [(c.text, c.label, c.source) for c in parse_reply(reply, LABELS)] == [
        ("so not happy with this", "negative", "llm"),
        ("meh, it is a day", "neutral", "llm"),
        ("what a game", "positive", "llm"),
        ("spaces instead of a tab", "positive", "llm"),
        ("I feel positive about it", None, "llm"),
    ]


# --- endpoints are the operator's choice ----------------------------------------------------------


def test_endpoints_come_from_the_environment_then_the_secrets(monkeypatch):
    from evalcore.probe.llm import configured_endpoints

    monkeypatch.setenv(
        "EVALCORE_LLM_ENDPOINTS", json.dumps({"team": {"base_url": "https://llm.example/v1", "model": "m1"}})
    )
    secrets = {
        "llm": {
            "endpoints": {
                "team": {"base_url": "https://other.example/v1", "model": "x"},
                "local": {"base_url": "http://localhost:8000/v1", "model": "tiny", "api_key_env": ""},
            }
        }
    }
    found, problems = configured_endpoints(secrets)
    assert problems == [] and set(found) == {"team", "local"}
    assert found["team"].base_url == "https://llm.example/v1"  # the environment wins
    monkeypatch.setenv("EVALCORE_LLM_ENDPOINTS", "{not json")
    found, problems = configured_endpoints({"llm": {"endpoints": {"bad": {"base_url": "ftp://x", "model": "m"}}}})
    assert found == {} and len(problems) == 2 and "must be an http(s) URL" in problems[1]


def test_a_redirect_never_carries_the_key_to_an_unconfigured_host(monkeypatch):
    """The configured endpoint answers with a redirect to another host: the request is refused, and the
    other host never sees the Authorization header."""
    seen = []

    class Other(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()

    other = ThreadingHTTPServer(("127.0.0.1", 0), Other)

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{other.server_port}/v1/chat/completions")
            self.end_headers()

    first = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for srv in (other, first):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("EVALCORE_TEST_API_KEY", "sk-secret-abcdef123456")
    try:
        config = LLMConfig(f"http://127.0.0.1:{first.server_port}/v1", "m", "EVALCORE_TEST_API_KEY")
        with pytest.raises(ConfigError) as info:
            generate_cases(config, "p", LABELS)
        assert "redirect" in str(info.value) and "sk-secret" not in str(info.value)
    finally:
        for srv in (other, first):
            srv.shutdown()
            srv.server_close()
    assert seen == []
