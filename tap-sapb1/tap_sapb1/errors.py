"""Errors the tap can foresee, each with one line that says what to fix (and never a secret).

SAP answers errors as `{"error": {"code": 301, "message": {"lang": "en-us", "value": "..."}}}` (v1)
or `{"error": {"code": "301", "message": "..."}}` (v2); `sap_error` reads both.
"""

from __future__ import annotations

import html
import re
import ssl
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

# A dead session: HTTP 401, or code 301 "Invalid session or session already timeout." Code -5002
# is SAP's generic DI error: it names a lost session only when its text says so ("session"); the
# bare "Internal error (-5002) occurred" may be either (a session whose company connection was
# lost, or a failing query), so it gets one new Login, and SAP's own message if it comes back.
SESSION_CODE = 301
GENERIC_CODE = -5002
_BARE_GENERIC = re.compile(r"^internal error \(-5002\) occurred\.?$", re.IGNORECASE)
MAX_ERROR_TEXT = 200


class SapB1Error(FatalAPIError):
    """A foreseeable failure: the message is the one line the operator reads."""


class SapConnectionError(SapB1Error):
    """The Service Layer cannot be reached (DNS, refused, TLS, timeouts after all retries)."""


class SapLoginError(SapB1Error):
    """Login was refused (credentials, company database)."""


class SapDataError(SapB1Error, ValueError):
    """A record SAP served that the tap cannot place (e.g. no valid UpdateDate)."""


class SessionExpiredError(Exception):
    """SAP rejected the session of a request: log in again and repeat the request.

    `certain` is False for the bare -5002, which a fresh session must confirm: if the repeated
    request fails the same way, `sap_message` (SAP's own line) is what the operator reads.
    """

    def __init__(self, session_id: str | None, *, certain: bool = True,
                 sap_message: str = "") -> None:
        super().__init__("SAP session expired or invalid")
        self.session_id = session_id
        self.certain = certain
        self.sap_message = sap_message


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_DROPPED_BLOCKS = re.compile(r"<(script|style|head)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)


def one_line(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """Any answer text as one short line: an HTML page becomes its title (or its text without
    tags), whitespace runs become one space, and the rest is cut at `limit` characters."""
    if "<" in text and ">" in text and re.search(r"<(html|body|head|title|h1|p|div)\b", text,
                                                  re.IGNORECASE):
        title = _TITLE.search(text)
        body = _TAG.sub(" ", _DROPPED_BLOCKS.sub(" ", text))
        text = html.unescape(title.group(1) if title and title.group(1).strip() else body)
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def sap_error(response: requests.Response) -> tuple[int | None, str]:
    """The SAP error code and message text of an error response (both shapes), in one line."""
    try:
        body: Any = response.json()
    except ValueError:
        return None, one_line(response.text or response.reason or "")
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, one_line(str(body))
    code = error.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return code, one_line(str(message or ""))


def session_error(response: requests.Response,
                  session_id: str | None) -> SessionExpiredError | None:
    """The re-login an error answer calls for, or None when it is not about the session.

    401 or code 301: certain. -5002 whose text names the session: certain. The bare
    "Internal error (-5002) occurred": uncertain (one Login decides). Any other -5002 is SAP
    refusing the request itself, shown with SAP's message, never a re-login.
    """
    if response.status_code < 400:
        return None
    code, message = sap_error(response)
    if response.status_code == 401 or code == SESSION_CODE:
        return SessionExpiredError(session_id)
    if code != GENERIC_CODE:
        return None
    if "session" in message.lower():
        return SessionExpiredError(session_id)
    if _BARE_GENERIC.match(message.strip()):
        return SessionExpiredError(session_id, certain=False, sap_message=message)
    return None


def is_session_error(response: requests.Response) -> bool:
    """True when SAP's answer calls for a new Login (see `session_error`)."""
    return session_error(response, None) is not None


def _ssl_reason(exc: BaseException) -> bool:
    """Whether `exc` or anything it wraps is a TLS failure."""
    while exc is not None:
        if isinstance(exc, (ssl.SSLError, requests.exceptions.SSLError)):
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(
            exc.args[0], BaseException) else None)
    return False


def _redirect_line(response: requests.Response | None, where: str) -> str:
    """A redirect the tap refused to follow, naming where it pointed (without its query)."""
    status = getattr(response, "status_code", "3xx")
    location = (response.headers.get("Location") or "") if response is not None else ""
    target = urlsplit(urljoin(getattr(response, "url", "") or "", location))
    port = f":{target.port}" if target.port else ""
    shown = f"{target.scheme}://{target.hostname}{port}{target.path}" if target.hostname \
        else "elsewhere"
    return (f"SAP answered HTTP {status}{where}, a redirect to {shown}: the tap follows no "
            "redirect (it would take the session or the password there); set "
            "service_layer_url to the address the Service Layer answers at")


def describe(exc: BaseException, url: str | None = None) -> str:
    """One line for any failure the tap can foresee; the class name for anything else."""
    where = f" at {url}" if url else ""
    if isinstance(exc, ConfigValidationError):
        return "; ".join(exc.errors or [str(exc)])
    if isinstance(exc, SapB1Error):
        return str(exc)
    if isinstance(exc, requests.exceptions.TooManyRedirects):  # any redirect: see auth.py
        return _redirect_line(exc.response, where)
    if _ssl_reason(exc):  # requests' SSLError itself, or one wrapped in its causes
        return (f"TLS certificate check failed{where}: set ca_bundle to the PEM file of the "
                "server's CA (or self-signed certificate), or verify_ssl false to skip the check")
    if isinstance(exc, requests.exceptions.Timeout):
        return (f"SAP did not answer in time{where} after all retries: check the server, or "
                "raise request_timeout / max_retries")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return (f"cannot reach the Service Layer{where} (connection refused, dropped or unknown "
                "host) after all retries: check service_layer_url and that SAP is running")
    if isinstance(exc, RetriableAPIError):
        return f"SAP kept failing after all retries: {exc}"
    if isinstance(exc, FatalAPIError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
