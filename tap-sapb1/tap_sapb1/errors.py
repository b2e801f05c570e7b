"""Errors the tap can foresee, each with one line that says what to fix (and never a secret).

SAP answers errors as `{"error": {"code": 301, "message": {"lang": "en-us", "value": "..."}}}` (v1)
or `{"error": {"code": "301", "message": "..."}}` (v2); `sap_error` reads both.
"""

from __future__ import annotations

import ssl
from typing import Any

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

# SAP codes of a dead session: 301 "Invalid session or session already timeout." (HTTP 401)
# and -5002 (HTTP 400 "Internal error (-5002) occurred"), which SAP answers on a session whose
# company connection was lost; both are cured by a new Login.
SESSION_ERROR_CODES = frozenset({301, -5002})


class SapB1Error(FatalAPIError):
    """A foreseeable failure: the message is the one line the operator reads."""


class SapConnectionError(SapB1Error):
    """The Service Layer cannot be reached (DNS, refused, TLS, timeouts after all retries)."""


class SapLoginError(SapB1Error):
    """Login was refused (credentials, company database)."""


class SapDataError(SapB1Error, ValueError):
    """A record SAP served that the tap cannot place (e.g. no valid UpdateDate)."""


class SessionExpiredError(Exception):
    """SAP rejected the session of a request: log in again and repeat the request."""

    def __init__(self, session_id: str | None) -> None:
        super().__init__("SAP session expired or invalid")
        self.session_id = session_id


def sap_error(response: requests.Response) -> tuple[int | None, str]:
    """The SAP error code and message text of an error response (both shapes), best effort."""
    try:
        body: Any = response.json()
    except ValueError:
        return None, (response.text or response.reason or "").strip()[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, str(body)[:300]
    code = error.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return code, str(message or "").strip()


def is_session_error(response: requests.Response) -> bool:
    """True when SAP says the session is gone (401, or code 301/-5002 with any status)."""
    if response.status_code == 401:
        return True
    if response.status_code < 400:
        return False
    return sap_error(response)[0] in SESSION_ERROR_CODES


def _ssl_reason(exc: BaseException) -> bool:
    """Whether `exc` or anything it wraps is a TLS failure."""
    while exc is not None:
        if isinstance(exc, (ssl.SSLError, requests.exceptions.SSLError)):
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(
            exc.args[0], BaseException) else None)
    return False


def describe(exc: BaseException, url: str | None = None) -> str:
    """One line for any failure the tap can foresee; the class name for anything else."""
    where = f" at {url}" if url else ""
    if isinstance(exc, ConfigValidationError):
        return "; ".join(exc.errors or [str(exc)])
    if isinstance(exc, SapB1Error):
        return str(exc)
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
