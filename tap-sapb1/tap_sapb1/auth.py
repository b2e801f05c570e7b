"""One Service Layer session per run: log in once, send B1SESSION+ROUTEID on every request,
log in again when SAP drops the session, log out at the end.

SAP's Service Layer guide: Login sets the `B1SESSION` and `ROUTEID` cookies and both go on every
later request (ROUTEID pins the load-balanced node); an idle session dies after SessionTimeout
minutes and requests on it answer 401 with code 301.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import backoff
import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_sapb1.errors import SapB1Error, SapConnectionError, SapLoginError, describe, sap_error
from tap_sapb1.secrets import reveal
from tap_sapb1.settings import max_tries, request_timeout, retry_waits, service_root, tls_verify

SESSION_COOKIES = ("B1SESSION", "ROUTEID")
RETRIED = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
           requests.exceptions.ChunkedEncodingError)

logger = logging.getLogger("tap-sapb1.session")


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Login and Logout carry their own credentials, not the session authenticator's."""
    return request


class _RetryLogin(Exception):
    """SAP answered Login with a 5xx: try again (bounded by max_retries)."""


def make_http_session(config: Mapping[str, Any]) -> requests.Session:
    """The HTTP session every request of the run shares (one connection pool, one TLS policy)."""
    http = requests.Session()
    http.trust_env = False  # no proxy or CA bundle from the environment unless configured
    http.verify = tls_verify(config)
    # no redirect is followed: it would carry the session cookie (or Login's password, on a
    # 307/308) to wherever it points; errors.describe turns it into one line
    http.max_redirects = 0
    return http


class SapSession:
    """The run's SAP session. Holds the cookies; the password never leaves this object."""

    def __init__(self, config: Mapping[str, Any], http: requests.Session,
                 on_secret: Callable[[str], None] | None = None) -> None:
        self._url = service_root(str(config["service_layer_url"]))
        self._company = str(config["company_db"])
        self._user = str(config["username"])
        self._password_setting = str(config["password"])
        self._timeout = request_timeout(config)
        self._http = http
        self._waits = functools.partial(retry_waits, config)  # the streams' retry policy
        self._max_tries = max_tries(config)
        self._on_secret = on_secret or (lambda _value: None)
        self._cookies: dict[str, str] = {}
        self._lock = threading.RLock()
        self.logins = 0
        self.version: str | None = None  # Login's `Version` (e.g. "1000230"), for error lines

    @property
    def session_id(self) -> str | None:
        """The current B1SESSION value (for comparisons only; never log it)."""
        return self._cookies.get("B1SESSION")

    def cookie_header(self) -> str:
        """The Cookie header for the current session, logging in first when there is none."""
        with self._lock:
            if not self._cookies:
                self.login()
            return "; ".join(f"{name}={value}" for name, value in self._cookies.items())

    def invalidate(self, session_id: str | None) -> None:
        """Forget the session SAP rejected (unless another request already replaced it)."""
        with self._lock:
            if session_id is None or session_id == self.session_id:
                self._cookies = {}

    def login(self) -> None:
        """POST /Login, retried like any request on 5xx, timeouts and dropped connections."""
        try:
            backoff.on_exception(self._waits, (*RETRIED, _RetryLogin), max_tries=self._max_tries,
                                 jitter=backoff.full_jitter, logger=logger,
                                 giveup_log_level=logging.DEBUG)(self._login)()
        except _RetryLogin as exc:
            raise SapConnectionError(f"SAP Login kept failing after all retries: {exc}") from None
        except RETRIED as exc:
            raise SapConnectionError(describe(exc, self._url)) from None
        except requests.exceptions.RequestException as exc:
            raise SapConnectionError(describe(exc, self._url)) from None

    def _login(self) -> None:
        body = {"CompanyDB": self._company, "UserName": self._user,
                "Password": reveal(self._password_setting)}
        response = self._http.post(f"{self._url}/Login", json=body, timeout=self._timeout,
                                   auth=_no_auth)
        if response.status_code >= 500:
            raise _RetryLogin(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise self._login_error(response)
        cookies = self._session_cookies(response)
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            raise SapB1Error(f"SAP Login at {self._url} answered 200 with JSON that is not an "
                             f"object ({type(payload).__name__}): is service_layer_url the Service "
                             "Layer (…/b1s/v1 or …/b1s/v2), or is a proxy answering in its place?")
        if "B1SESSION" not in cookies and payload.get("SessionId"):
            cookies["B1SESSION"] = str(payload["SessionId"])
        if "B1SESSION" not in cookies:
            raise SapB1Error(f"SAP Login at {self._url} answered without a session cookie: is "
                             "service_layer_url the Service Layer (…/b1s/v1 or …/b1s/v2)?")
        self.version = str(payload.get("Version") or "") or None
        for value in cookies.values():
            self._on_secret(value)
        self._cookies = cookies
        self._http.cookies.clear()  # the Cookie header is ours alone
        self.logins += 1
        logger.info("Logged in to SAP company %s as %s (login #%d)", self._company, self._user,
                    self.logins)

    def _session_cookies(self, response: requests.Response) -> dict[str, str]:
        """B1SESSION and ROUTEID from Login's Set-Cookie; one line when a name comes twice with
        different values (e.g. a proxy adding its own), since either could be the wrong one."""
        cookies: dict[str, str] = {}
        for cookie in response.cookies:
            if cookie.name not in SESSION_COOKIES or cookie.value is None:
                continue
            if cookies.get(cookie.name, cookie.value) != cookie.value:
                raise SapB1Error(f"SAP Login at {self._url} set the {cookie.name} cookie twice "
                                 "with different values (is a proxy between the tap and SAP "
                                 "adding its own?): the tap cannot tell which session is SAP's")
            cookies[cookie.name] = cookie.value
        return cookies

    def _login_error(self, response: requests.Response) -> SapB1Error:
        code, message = sap_error(response)
        text = f"SAP refused the login ({response.status_code}"
        text += f", code {code}): {message}" if code is not None else f"): {message}"
        lowered = message.lower()
        if "company" in lowered or "db" in lowered.split() or "sld" in lowered or code == -304:
            return SapLoginError(f"{text} — check company_db ({self._company!r} is not a company "
                                 "database of this server)")
        if response.status_code == 404:
            return SapLoginError(f"{text} — service_layer_url does not look like a Service Layer "
                                 "root (…/b1s/v1 or …/b1s/v2)")
        return SapLoginError(f"{text} — check username and password for company "
                             f"{self._company!r}")

    def logout(self) -> None:
        """POST /Logout once at the end of the run; a failure here only costs a log line."""
        with self._lock:
            if not self._cookies:
                return
            header = "; ".join(f"{name}={value}" for name, value in self._cookies.items())
            self._cookies = {}
        try:
            self._http.post(f"{self._url}/Logout", headers={"Cookie": header},
                            timeout=min(self._timeout, 30), auth=_no_auth)
            logger.info("Logged out of SAP")
        except requests.exceptions.RequestException as exc:
            logger.warning("SAP Logout failed (%s); the session expires on its own",
                           type(exc).__name__)


class SapSessionAuthenticator(APIAuthenticatorBase):
    """Puts the run's session cookies on each request (and logs in the first time)."""

    def __init__(self, session: SapSession) -> None:
        super().__init__()
        self.session = session

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Replace any Cookie header with the current session's (fresh after a re-login)."""
        request.headers["Cookie"] = self.session.cookie_header()
        return request
