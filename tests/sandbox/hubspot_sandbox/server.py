"""The HTTP layer: keep-alive HTTP/1.1 on 127.0.0.1, token check, limits, faults, request log."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import errors
from .errors import ApiError
from .routes import Call

if TYPE_CHECKING:
    from .sandbox import HubSpotSandbox


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it (never its headers: they hold the token)."""

    method: str
    path: str
    status: int  # 0 when the connection was dropped without an answer
    ts: float
    body: Any
    query: dict[str, list[str]]


_REASONS = {207: "Multi-Status", 429: "Too Many Requests"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    sandbox: HubSpotSandbox

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def close_connections(self) -> None:
        """Cut every kept-alive connection, as a server going down would."""
        with self.sockets_lock:
            sockets, self.open_sockets = self.open_sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a killed pipeline, a timeout) is normal here: stay quiet."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        """No Nagle delay: headers and body go out in separate writes on a kept-alive socket."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr line."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        sb = self.server.sandbox
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        raw = self._read_body()
        started = time.time()
        body: Any = None
        status = 0
        logged = False

        def log(code: int) -> None:
            """Log before answering, so a client that counts right after its call sees it."""
            nonlocal logged
            if not logged:
                logged = True
                sb._log(RequestRecord(method, path, code, started, body, query))

        try:
            fault = sb._faults.pick(method, path)
            if fault is not None and fault.kind == "drop":
                log(0)  # logged before the close: the client's next call may land first otherwise
                self._drop()
                return
            if fault is not None and fault.kind == "html200":  # a proxy's page, not HubSpot
                log(200)
                self._send_raw(200, b"<html><body>Service notice</body></html>", "text/html")
                return
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    body = raw.decode("utf-8", "replace")
                    raise errors.validation(f"Invalid input JSON on line 1, column "
                                            f"{getattr(exc, 'colno', 1)}: {exc}") from None
            status, payload, headers = self._answer(sb, method, path, query, body, fault)
            if fault is not None and fault.kind == "timeout" and sb._stopping.wait(fault.delay):
                log(status)
                self._drop()  # the write is applied; its answer comes `delay` s late, or never
                return
            log(status)
            self._send(status, payload, headers)
        except ApiError as err:
            status = err.status
            log(status)
            self._send(status, err.body(), {})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # a sandbox bug: answer like HubSpot's 500 and show the traceback
            traceback.print_exc()
            status = 500
            log(status)
            with contextlib.suppress(OSError):
                self._send(status, _server_error(500), {})
        finally:
            log(status)

    def _read_body(self) -> bytes:
        """The whole request body, sized by Content-Length or sent chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, sb: HubSpotSandbox, method: str, path: str, query: dict[str, list[str]],
                body: Any, fault: Any) -> tuple[int, Any, dict[str, str]]:
        if fault is not None and fault.kind in ("500", "502", "503", "423"):
            code = int(fault.kind)
            return code, _server_error(code), {}
        if fault is not None and fault.kind == "429":
            return 429, errors.rate_limited("TEN_SECONDLY_ROLLING", sb.portal_id).body(), {}
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {sb.token}":
            raise errors.unauthorized()
        policy, headers = sb._limiter.admit(sb._router.is_search(method, path))
        if policy is not None:
            return 429, errors.rate_limited(policy, sb.portal_id).body(), headers
        for callback in sb._callbacks:
            callback(sb, RequestRecord(method, path, 0, time.time(), body, query))
        try:
            status, payload = sb._router.handle(Call(method, path, query, body))
        except ApiError as err:
            return err.status, err.body(), headers
        return status, payload, headers

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status, _REASONS.get(status))
        self.send_header("X-HubSpot-Correlation-Id", errors.correlation_id())
        for name, value in headers.items():
            self.send_header(name, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _send_raw(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status, _REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the socket without a byte of answer (a reset connection on the client side)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _server_error(code: int) -> dict:
    """HubSpot's 500 body is {status, message: "internal error", correlationId}, no category."""
    messages = {423: ("The record is locked; retry in at least 2 seconds", "LOCKED"),
                500: ("internal error", None),
                502: ("Bad Gateway", None),
                503: ("Service Unavailable", None)}
    message, category = messages[code]
    body = {"status": "error", "message": message, "correlationId": errors.correlation_id()}
    if category:
        body["category"] = category
    return body


def serve(sandbox: HubSpotSandbox, host: str, port: int) -> tuple[_Server, threading.Thread]:
    server = _Server((host, port))
    server.sandbox = sandbox
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="hubspot-sandbox", daemon=True)
    thread.start()
    return server, thread
