"""A scripted HTTP server on 127.0.0.1 for answers no Service Layer should give (garbled 200s,
proxy pages, doubled cookies): each test says exactly what comes back. Everything SAP-shaped is
tested against the SAP sandbox; this only serves the broken answers a tap must survive."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes/str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


LOGIN_OK = Answer(body={"SessionId": "b1s-fake-session", "SessionTimeout": 30},
                  headers=[("Set-Cookie", "B1SESSION=b1s-fake-session;HttpOnly;"),
                           ("Set-Cookie", "ROUTEID=.node1; path=/b1s")])


@dataclass
class FakeSap:
    url: str
    requests: list[tuple[str, str, dict]]  # (method, path with query, headers)
    routes: dict[str, Callable[[str], Answer]]


def _handler(fake: dict) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fake["requests"].append((method, self.path, dict(self.headers)))
            route = next((fn for prefix, fn in fake["routes"].items()
                          if self.path.split("?")[0].endswith(prefix)), None)
            answer = route(self.path) if route else Answer(404, {"error": {"code": -1002}})
            raw = answer.body
            if not isinstance(raw, (bytes, str)):
                raw = json.dumps(raw)
            data = raw.encode() if isinstance(raw, str) else raw
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

    return Handler


@contextmanager
def fake_sap(routes: dict[str, Callable[[str], Answer]]) -> Iterator[FakeSap]:
    """Serve `routes` (path suffix -> answer) on 127.0.0.1; Login and Logout default to OK."""
    state: dict = {"requests": [], "routes": {"/Login": lambda _p: LOGIN_OK,
                                              "/Logout": lambda _p: Answer(204, b""),
                                              **routes}}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield FakeSap(f"http://127.0.0.1:{port}/b1s/v1", state["requests"], state["routes"])
    finally:
        server.shutdown()
        server.server_close()
