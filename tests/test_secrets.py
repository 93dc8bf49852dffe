"""Secrets (issue 19, item 4): an LLM key echoed by its endpoint is redacted before the reply is cut, in any case
and spacing; credentials embedded in an endpoint URL are never printed (doctor, the Stress page, errors)."""

from __future__ import annotations

import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from apptest_helpers import open_page

from evalcore.core.errors import ConfigError
from evalcore.probe.llm import LLMConfig, chat, display_url

KEY = "sk-live-0123456789ABCDEFghijklmnop"
ENV = "EVALCORE_TEST_SECRET_KEY"
PASSWORD = "hunter2-pw"


class _Echo(BaseHTTPRequestHandler):
    """Answers 401 with a body that echoes the key it got, placed and spelt by the path's first segment."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        mode = self.path.split("/")[1]
        echo = {
            "atcut": key,
            "upper": key.upper(),
            "spaced": " ".join(key),
            "wrapped": key[:10] + "\n  " + key[10:],
            "lower": key.lower(),
        }[mode]
        # "atcut": the echo straddles the 300th character, where the shown part of an error body ends
        pad = "x" * (300 - len("Incorrect API key: ") - len(key) + 1) if mode == "atcut" else ""
        body = json.dumps({"error": f"{pad}Incorrect API key: {echo} (check it)"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def echo_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _visible(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.mark.parametrize("mode", ["atcut", "upper", "spaced", "wrapped", "lower"])
def test_an_echoed_key_is_redacted_before_the_reply_is_cut(echo_server, monkeypatch, mode) -> None:
    monkeypatch.setenv(ENV, KEY)
    config = LLMConfig(f"http://127.0.0.1:{echo_server.server_port}/{mode}/v1", "m", api_key_env=ENV)
    with pytest.raises(ConfigError, match="HTTP 401") as info:
        chat(config, "hi")
    text = _visible(info.value)
    compact = "".join(text.split()).lower()
    assert "[redacted]" in text
    for cut in (KEY, KEY[:-1], KEY[:20]):  # not the key, nor all but its last character, nor a long prefix
        assert "".join(cut.split()).lower() not in compact, (mode, cut)


def test_urls_are_shown_without_credentials() -> None:
    assert display_url(f"https://bob:{PASSWORD}@llm.example:8443/v1?api_key=abc&v=2") == (
        "https://***@llm.example:8443/v1?api_key=***&v=2"
    )
    assert display_url("https://llm.example/v1") == "https://llm.example/v1"
    config = LLMConfig(f"https://bob:{PASSWORD}@llm.example/v1", "m", api_key_env=ENV)
    assert PASSWORD not in repr(config) and PASSWORD not in config.display_url
    with pytest.raises(ConfigError) as info:
        LLMConfig(f"http://bob:{PASSWORD}@remote.example/v1", "m", api_key_env=ENV)  # a key over plain http
    assert PASSWORD not in str(info.value)


def test_connection_errors_show_no_credentials(monkeypatch) -> None:
    monkeypatch.setenv(ENV, KEY)
    config = LLMConfig(f"http://bob:{PASSWORD}@127.0.0.1:9/v1", "m", api_key_env=ENV, timeout=2)
    with pytest.raises(ConfigError) as info:
        chat(config, "hi")
    assert PASSWORD not in _visible(info.value) and KEY not in _visible(info.value)


def _endpoint_with_credentials(monkeypatch) -> None:
    monkeypatch.setenv(ENV, KEY)
    monkeypatch.setenv(
        "EVALCORE_LLM_ENDPOINTS",
        json.dumps(
            {
                "team": {
                    "base_url": f"https://bob:{PASSWORD}@llm.example/v1?token=tok-secret",
                    "model": "m",
                    "api_key_env": ENV,
                }
            }
        ),
    )


def test_doctor_prints_no_credentials(monkeypatch) -> None:
    from evalcore.serve.doctor import report_lines

    _endpoint_with_credentials(monkeypatch)
    text = "\n".join(report_lines())
    assert "team: m at https://***@llm.example/v1?token=***" in text
    assert PASSWORD not in text and "tok-secret" not in text and KEY not in text


def test_the_stress_page_prints_no_credentials(monkeypatch) -> None:
    _endpoint_with_credentials(monkeypatch)
    at = open_page("pages/stress.py")
    pick = at.selectbox(key="stress_llm_endpoint")
    shown = (
        " ".join(map(str, pick.options))
        + " ".join(c.value for c in at.caption)
        + " ".join(m.value for m in at.markdown)
    )
    assert "https://***@llm.example/v1" in shown
    assert PASSWORD not in shown and "tok-secret" not in shown and KEY not in shown
