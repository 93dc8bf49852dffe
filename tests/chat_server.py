"""A reply in the OpenAI chat-completions shape, for the tests' real local HTTP endpoints."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


def send_chat_reply(handler: BaseHTTPRequestHandler, content: str) -> None:
    """Answer the request `handler` is serving with one assistant message holding `content`."""
    body = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
