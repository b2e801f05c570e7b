"""The HTTP face of the sandbox: Service Layer routes on top of the stdlib threaded server."""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import socket
import ssl
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sap_sandbox import errors
from sap_sandbox.errors import SapError
from sap_sandbox.faults import DEFAULT_5002, PAGE_KINDS
from sap_sandbox.metadata import metadata_xml
from sap_sandbox.paging import int_option, next_link, page_size
from sap_sandbox.records import RequestRecord
from sap_sandbox.rows import json_default
from sap_sandbox.values import render_record, wire_form

if TYPE_CHECKING:
    from sap_sandbox.sandbox import SapSandbox

SERVICE_LAYER_VERSION = "1000230"  # what Login reports as Version (a 10.0 FP build number)
ROUTE_ID = ".node1"
_PATH = re.compile(r"^/b1s/(?P<version>v1|v2)(?:/(?P<resource>.*))?$")
_ENTITY = re.compile(r"^(?P<set>[A-Za-z_]\w*)\((?P<key>.+)\)$")
_ACTION = re.compile(r"^(?P<set>[A-Za-z_]\w*)\((?P<key>[^)]+)\)/(?P<action>\w+)$")
# SAP's bound actions `POST /Invoices(n)/Cancel`, `POST /IncomingPayments(n)/Cancel` (204),
# run by the sandbox's own methods so that its switches apply.
_ACTIONS = {("Invoices", "Cancel"): "cancel_invoice",
            ("IncomingPayments", "Cancel"): "cancel_payment"}
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError,
                ssl.SSLError, socket.timeout, OSError)


class _Dropped(Exception):
    """Nothing more to send: the connection was cut (a `drop` fault) or a fault answered."""


class SandboxServer(ThreadingHTTPServer):
    """Threaded server that remembers its open connections so stop/restart can cut them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], sandbox: SapSandbox,
                 tls: ssl.SSLContext | None) -> None:
        self.sandbox = sandbox
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, ServiceLayerHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.conn_lock:
            self.connections.add(sock)
        return sock, addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            if isinstance(request, ssl.SSLSocket):
                request.settimeout(10)
                request.do_handshake()
            super().finish_request(request, client_address)
        except _DISCONNECTS:
            pass  # the client went away (or failed the TLS handshake): nothing to answer

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        """Close every open keep-alive connection (a restart loses them, as in production)."""
        with self.conn_lock:
            conns = list(self.connections)
            self.connections.clear()
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Disconnects are normal for a test double; anything else is kept for the tests to see.
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, _DISCONNECTS):
            self.sandbox.server_errors.append(repr(exc))


class ServiceLayerHandler(BaseHTTPRequestHandler):
    """One connection; answers the Service Layer routes for as many requests as it carries."""

    protocol_version = "HTTP/1.1"
    server_version = "SAP-ServiceLayer-Sandbox"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end after a minute
    server: SandboxServer

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header of every answer: the sandbox's SAP clock, as a real server's."""
        when = self.server.sandbox.clock.timestamp() if timestamp is None else timestamp
        return email.utils.formatdate(when, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log is `sandbox.requests`, and stderr stays clean."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing -----------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        sb = self.server.sandbox
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:  # unreadable framing: answer, then drop the connection
            length, self.close_connection = 0, True
        body = self.rfile.read(length) if length else b""
        m = _PATH.match(path)
        version = m.group("version") if m else "v1"
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie") or "")
        except Exception:  # a malformed cookie header is the same as none
            cookie = SimpleCookie()
        sid = cookie["B1SESSION"].value if "B1SESSION" in cookie else None
        self._routed_away = sb.require_route_id and (
            "ROUTEID" not in cookie or cookie["ROUTEID"].value != ROUTE_ID)
        record = RequestRecord(method, path, query, 0, sid, version)
        self._record = record
        self._version = version
        self._alter: str | None = None  # a fault that changes the answer after routing
        sb._log_request(record)
        try:
            fault = sb._faults.pick(unquote(self.path))
            for callback in list(sb._callbacks):
                callback(sb, record)
            if fault is not None:
                record.fault = fault.kind
                self._apply_fault(fault.kind, fault.delay, fault.message)
            if m is None:
                raise SapError.of(errors.UNRECOGNIZED_PATH)
            self._route(method, m.group("resource") or "", query, body)
        except _Dropped:
            return
        except SapError as exc:
            flat = exc.code == errors.INVALID_SESSION[1] and sb.session_error_form == "flat"
            self._send_json(exc.status, exc.body(version, flat))
        except _DISCONNECTS:
            self.close_connection = True
        except Exception as exc:  # a sandbox bug: answer like SAP, keep it for the tests
            sb.server_errors.append(f"{method} {self.path}: {exc!r}")
            self._send_json(500, SapError.of(errors.INTERNAL_ERROR).body(version))

    def _apply_fault(self, kind: str, delay: float, message: str | None) -> None:
        sb = self.server.sandbox
        if kind in PAGE_KINDS or kind == "two-cookies":
            self._alter = kind
            return
        if kind == "5002":  # a business error under SAP's generic DI code: not a lost session
            raise SapError(400, -5002, message or DEFAULT_5002)
        if kind.startswith("html-"):
            status = int(kind[5:])
            reason = "Not Found" if status == 404 else "Bad Gateway"
            page = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
                    f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>"
                    "\r\n</body>\r\n</html>\r\n")
            self._send(status, page.encode(), "text/html")
            raise _Dropped  # answered: nothing more to do for this request
        if kind == "not-object":
            self._send(200, b'["unexpected", "not an object"]', "application/json;charset=utf-8")
            raise _Dropped
        if kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            raise _Dropped
        if kind == "timeout":
            sb._stopping.wait(delay)  # then answer normally: a slow server, not a dead one
            return
        raise SapError.of(errors.INTERNAL_ERROR if kind == "500" else errors.SERVICE_UNAVAILABLE)

    def _send(self, status: int, payload: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self._record.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if self._version == "v2":
            self.send_header("OData-Version", "4.0")
        else:
            self.send_header("DataServiceVersion", "3.0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        kind = ("application/json;odata.metadata=minimal;charset=utf-8" if self._version == "v2"
                else "application/json;odata=minimalmetadata;charset=utf-8")
        # Records never hold cycles; skipping the check saves ~13% on a 1000-record page.
        payload = json.dumps(obj, separators=(",", ":"), check_circular=False,
                             default=json_default).encode()
        self._send(status, payload, kind, headers)

    def _send_empty(self, status: int = 204, headers: dict[str, str] | None = None) -> None:
        self._record.status = status
        self.send_response(status)
        self.send_header("Content-Length", "0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _service_root(self) -> str:
        return f"{self.server.sandbox.base_url}/b1s/{self._version}"

    # -- routes -------------------------------------------------------------------------------
    def _route(self, method: str, resource: str, query: dict[str, str], body: bytes) -> None:
        sb = self.server.sandbox
        if resource == "Login":
            if method != "POST":
                raise SapError.of(errors.METHOD_NOT_ALLOWED)
            return self._login(body)
        session = None if self._routed_away else sb._sessions.touch(self._record.session_id)
        if session is None:
            raise SapError.of(errors.INVALID_SESSION)
        if session.broken:
            raise SapError.of(errors.SESSION_BROKEN)
        if resource == "Logout":
            if method != "POST":
                raise SapError.of(errors.METHOD_NOT_ALLOWED)
            sb._sessions.close(session.session_id)
            return self._send_empty(204)
        if resource == "$metadata" and method == "GET":
            return self._send(200, metadata_xml(self._version, sb.schema),
                              "application/xml;charset=utf-8")
        if resource in sb._store.sets:
            if method == "GET":
                return self._collection(resource, query)
            if method == "POST":
                return self._create(resource, body)
            raise SapError.of(errors.METHOD_NOT_ALLOWED)
        if resource.endswith("/$count") and resource[:-7] in sb._store.sets:
            rows = sb._store.query(resource[:-7], query.get("$filter"), None)
            return self._send(200, str(len(rows)).encode(), "text/plain;charset=utf-8")
        m = _ACTION.match(resource)
        if m and method == "POST" and (m.group("set"), m.group("action")) in _ACTIONS:
            key = sb._store.parse_key(m.group("set"), m.group("key"))
            getattr(sb, _ACTIONS[(m.group("set"), m.group("action"))])(key)
            return self._send_empty(204)
        m = _ENTITY.match(resource)
        if m and m.group("set") in sb._store.sets:
            name = m.group("set")
            key = sb._store.parse_key(name, m.group("key"))
            if method == "GET":
                return self._single(name, key, query)
            if method in ("PATCH", "PUT"):
                sb._store.update(name, key, self._json_body(body), keep_given_stamp=False)
                return self._send_empty(204)
            if method == "DELETE":
                sb._store.delete(name, key)
                return self._send_empty(204)
            raise SapError.of(errors.METHOD_NOT_ALLOWED)
        raise SapError.of(errors.UNRECOGNIZED_PATH)

    def _json_body(self, body: bytes) -> dict[str, Any]:
        try:
            value = json.loads(body or b"{}")
        except ValueError:
            raise errors.query_error("The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise errors.query_error("The request body must be a JSON object.")
        return value

    def _login(self, body: bytes) -> None:
        sb = self.server.sandbox
        try:
            creds = json.loads(body or b"{}")
        except ValueError:
            creds = None
        if not isinstance(creds, dict) or not all(
            isinstance(creds.get(k), str) for k in ("CompanyDB", "UserName", "Password")
        ):
            raise SapError.of(errors.BAD_LOGIN_BODY)
        if creds["CompanyDB"] != sb.company_db:
            raise SapError.of(errors.UNKNOWN_COMPANY)
        if creds["UserName"] != sb.username or creds["Password"] != sb.password:
            raise SapError.of(errors.LOGIN_FAILED)
        session = sb._sessions.open(sb.company_db, sb.username, self._version)
        self._record.session_id = session.session_id
        minutes = max(1, round(sb.session_timeout / 60))
        payload: dict[str, Any] = {"SessionId": session.session_id,
                                   "Version": SERVICE_LAYER_VERSION, "SessionTimeout": minutes}
        if self._version == "v2":
            payload = {"@odata.context": f"{self._service_root()}/$metadata#B1Sessions/$entity",
                       **payload}
        else:
            payload = {"odata.metadata": f"{self._service_root()}/$metadata#B1Sessions/@Element",
                       **payload}
        # As SAP sends them: B1SESSION without a Path (scoped to /b1s/vN), ROUTEID for /b1s.
        self._record.status = 200
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", f"B1SESSION={session.session_id};HttpOnly;")
        if self._alter == "two-cookies":  # a proxy adding its own: which one is the session?
            self.send_header("Set-Cookie", "B1SESSION=proxy-0f1e2d3c; Path=/")
        self.send_header("Set-Cookie", f"ROUTEID={ROUTE_ID}; path=/b1s")
        self.end_headers()
        self.wfile.write(data)

    def _select(self, name: str, query: dict[str, str]) -> list[str] | None:
        raw = query.get("$select")
        if raw is None or not raw.strip():
            return None
        es = self.server.sandbox._store.entity_set(name)
        fields = [f.strip() for f in raw.split(",")]
        for f in fields:
            if f != "*" and f not in es.fields and f != es.key:
                raise SapError(400, -1000, f"Property '{f}' of '{name}' is invalid")
        return None if "*" in fields else fields

    def _collection(self, name: str, query: dict[str, str]) -> None:
        sb = self.server.sandbox
        select = self._select(name, query)
        skip = int_option(query, "$skip") or 0
        top = int_option(query, "$top")
        size = page_size(self.headers.get("Prefer"), self.headers.get("B1S-PageSize"),
                         sb.honour_page_size, sb.max_page_size)
        rows = sb._store.query(name, query.get("$filter"), query.get("$orderby"))
        take = size.size if top is None else min(top, size.size)
        page = rows[skip:skip + take]
        out: dict[str, Any] = {}
        meta = f"{self._service_root()}/$metadata#{name}"
        if self._version == "v2":
            out["@odata.context"] = meta
            if query.get("$count", "").lower() == "true":
                out["@odata.count"] = len(rows)
        else:
            out["odata.metadata"] = meta
            if query.get("$inlinecount", "").lower() == "allpages":
                out["odata.count"] = len(rows)
        form = wire_form(sb.date_form, self._version)
        out["value"] = [render_record(r, select, form) for r in page]
        remaining = None if top is None else top - len(page)
        more = skip + len(page) < len(rows) and (remaining is None or remaining > 0)
        if more:
            link = next_link(name, query, skip + len(page), remaining)
            out["@odata.nextLink" if self._version == "v2" else "odata.nextLink"] = link
        if self._alter in PAGE_KINDS:
            self._garble(out)
        headers = {"Preference-Applied": f"odata.maxpagesize={size.size}"} if size.applied else None
        self._send_json(200, out, headers)

    def _garble(self, out: dict[str, Any]) -> None:
        """Alter a collection page as a `PAGE_KINDS` fault says (robustness faults)."""
        link_key = "@odata.nextLink" if self._version == "v2" else "odata.nextLink"
        kind = self._alter
        if kind in ("empty-page", "non-list-page"):
            out.pop(link_key, None)
            out["value"] = [] if kind == "empty-page" else {"DocEntry": 1}
        elif kind == "non-object-items":
            out["value"] = [*out["value"][:1], "unexpected", 7, None, ["a", "list"]]
        elif kind == "bad-date" and out["value"]:
            first = dict(out["value"][0])
            name = next((k for k in first if k.endswith("Date")), "UpdateDate")
            first[name] = "/Date(253402300800000)/"  # 10000-01-01: past any datetime's range
            out["value"] = [first, *out["value"][1:]]
        elif kind == "foreign-nextlink":
            link = out.get(link_key) or f"{self._record.path.rsplit('/', 1)[-1]}?$skip=0"
            out[link_key] = f"{self.server.sandbox.foreign_link_base(self._version)}/{link}"

    def _single(self, name: str, key: Any, query: dict[str, str]) -> None:
        sb = self.server.sandbox
        select = self._select(name, query)
        rec = render_record(sb._store.peek(name, key), select,
                            wire_form(sb.date_form, self._version))
        if self._version == "v2":
            out = {"@odata.context": f"{self._service_root()}/$metadata#{name}/$entity", **rec}
        else:
            out = {"odata.metadata": f"{self._service_root()}/$metadata#{name}/@Element", **rec}
        self._send_json(200, out)

    def _create(self, name: str, body: bytes) -> None:
        sb = self.server.sandbox
        try:
            rec = sb._store.create(name, self._json_body(body), keep_given_stamp=False)
        except ValueError as exc:  # a missing or duplicate key
            raise SapError(400, -1000, str(exc)) from None
        self._send_json(201, render_record(rec, None, wire_form(sb.date_form, self._version)))
