"""The base stream of every SAP entity set: session cookies, error mapping, retries, `$select`.

Retries: 5xx, timeouts and dropped connections are retried `max_retries` times with exponential
backoff and full jitter (singer-sdk's backoff hooks). A dead session (401 / code 301, or a -5002
naming the session) is not a retry: the request is repeated at once after a new login, at most
twice. The bare "Internal error (-5002)" gets one new login; if it comes back on the fresh
session it is SAP refusing the request, and SAP's own message ends the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import backoff
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_sapb1.errors import (
    SapB1Error,
    SapDataError,
    SessionExpiredError,
    sap_error,
    session_error,
)
from tap_sapb1.paging import (
    LinkOrSkip,
    NextLinkPaginator,
    PageShapeError,
    PageSize,
    odata_body,
    page_records,
    query_string,
    sap_date,
)
from tap_sapb1.settings import (
    DEFAULT_PAGE_SIZE,
    max_tries,
    request_timeout,
    retry_waits,
    service_root,
)

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_sapb1.context import RunContext
    from tap_sapb1.enrichment import ReferenceNames

MAX_RELOGINS = 2
RETRIED_EXCEPTIONS = (ConnectionResetError, RetriableAPIError, requests.exceptions.Timeout,
                      requests.exceptions.ConnectionError,
                      requests.exceptions.ChunkedEncodingError,
                      requests.exceptions.ContentDecodingError)
DATE_FIELDS = ("DocDate", "DocDueDate", "TaxDate", "CreateDate", "CreationDate", "UpdateDate",
               "TransferDate")


def session_id_of(request: requests.PreparedRequest | None) -> str | None:
    """The B1SESSION a request was sent with (to tell a stale session from a fresh one)."""
    cookie = (request.headers.get("Cookie") if request is not None else None) or ""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "B1SESSION":
            return value
    return None


class SapStream(RESTStream[Any]):
    """An SAP Service Layer entity set read as one Singer stream."""

    entity_set: str = ""
    key_field: str = ""
    derived_fields: tuple[str, ...] = ()  # added by the tap, not $select-ed from SAP
    needed_fields: tuple[str, ...] = ()  # always read (keys, replication inputs, lookups)
    enrichment_inputs: tuple[str, ...] = ()  # also read when enrich_line_items adds names

    def __init__(self, tap: Tap, run: RunContext) -> None:
        super().__init__(tap=tap, path=self.entity_set)
        self.run = run  # the run's sessions and lookups, shared by every stream
        # singer-sdk's requests_session serves this: the run's one session (pool, TLS policy)
        self._requests_session = run.http_session

    # --- transport -------------------------------------------------------------------------

    @property
    def url_base(self) -> str:
        """The Service Layer root, e.g. https://host:50000/b1s/v1/."""
        return service_root(self.config["service_layer_url"]) + "/"

    @property
    def authenticator(self) -> Any:
        """The run's one SAP session (shared by every stream)."""
        return self.run.authenticator

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """`request_timeout` seconds for one SAP answer."""
        return request_timeout(self.config)

    @property
    def http_headers(self) -> dict:
        """JSON in and out; no session here (the authenticator adds the cookies)."""
        return {"Accept": "application/json"}

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """singer-sdk's stream log; its generic "unhandled error" line becomes a warning, since
        the command ends with one ERROR line naming the cause."""
        if level >= logging.ERROR and message.startswith("An unhandled error occurred"):
            level = logging.WARNING
        super().log(message, *args, level=level, **kwargs)

    def backoff_max_tries(self) -> int:
        """One try plus `max_retries` retries."""
        return max_tries(self.config)

    def backoff_wait_generator(self) -> Generator[float, None, None]:
        """backoff_seconds x 1, 2, 4, ... capped at 60 s (jitter applied by backoff_jitter)."""
        return retry_waits(self.config)

    def backoff_jitter(self, value: float) -> float:
        """Full jitter: a random wait up to the exponential value (spreads retries apart)."""
        return backoff.full_jitter(value)

    def backoff_handler(self, details: Any) -> None:
        """One line per retry, without request details (URLs are fine, cookies never)."""
        exc = details.get("exception")
        reason = (f"HTTP {exc.response.status_code}"
                  if isinstance(exc, RetriableAPIError) and exc.response is not None
                  else type(exc).__name__)
        self.logger.warning("SAP request for %s failed (%s); retry %d of %d in %.2f s",
                            self.entity_set, reason, details.get("tries", 0),
                            self.backoff_max_tries() - 1, details.get("wait", 0.0))

    def request_decorator(self, func: Callable) -> Callable:
        """singer-sdk's retry policy (same exceptions and hooks), wrapped in a re-login that
        repeats the rejected request. Giving up is logged as a warning: the command's one ERROR
        line says what failed and what to fix."""
        retried = backoff.on_exception(
            self.backoff_wait_generator, RETRIED_EXCEPTIONS, max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler, jitter=self.backoff_jitter, logger=self.logger,
            giveup_log_level=logging.WARNING)(func)

        def call(prepared: requests.PreparedRequest, context: Context | None) -> Any:
            doubted = False  # a bare -5002 already got its one new Login
            for attempt in range(MAX_RELOGINS + 1):
                try:
                    return retried(prepared, context)
                except SessionExpiredError as exc:
                    if not exc.certain and doubted:
                        raise SapB1Error(f"{exc.sap_message} (also on a fresh session, so not "
                                         "a lost session)") from None
                    if attempt == MAX_RELOGINS:
                        raise SapB1Error(
                            f"SAP keeps rejecting fresh sessions for {self.entity_set}: check "
                            "that the user may read it and that sessions are not being killed"
                        ) from None
                    doubted = doubted or not exc.certain
                    self.logger.info("SAP session expired; logging in again and repeating the "
                                     "request for %s", self.entity_set)
                    self.run.sap_session.invalidate(exc.session_id)
            raise AssertionError("unreachable")  # pragma: no cover

        return call

    def validate_response(self, response: requests.Response) -> None:
        """Map SAP answers: dead session -> re-login, 5xx/429/bad JSON -> retry, 4xx -> fatal."""
        if expired := session_error(response, session_id_of(response.request)):
            expired.sap_message = self.response_error_message(response)
            raise expired
        if (response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR
                or response.status_code in self.extra_retry_statuses):
            raise RetriableAPIError(self.response_error_message(response), response)
        if response.status_code >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))
        try:
            odata_body(response)
        except PageShapeError:
            raise
        except ValueError:  # not JSON at all: a cut-off answer, worth another try
            raise RetriableAPIError(f"SAP sent an unreadable page for {self.entity_set}",
                                    response) from None

    def response_error_message(self, response: requests.Response) -> str:
        """SAP's own code and text, the entity set and what to check (no headers, no cookies)."""
        code, message = sap_error(response)
        detail = f"code {code}: {message}" if code is not None else message
        text = f"SAP answered {response.status_code} for {self.entity_set} ({detail})"
        if response.status_code == HTTPStatus.BAD_REQUEST:
            text += (" — SAP could not run the query; check start_date and the fields selected "
                     "in the catalog")
        elif response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND):
            text += f" — check that user {self.config.get('username')!r} may read {self.entity_set}"
        return text

    def send(self, url: str, headers: dict | None = None) -> requests.Response:
        """One GET with singer-sdk's retries plus the re-login (keyset pages, probes, lookups)."""
        prepared = self.build_prepared_request(method="GET", url=url,
                                               headers={**self.http_headers, **(headers or {})})
        return self.request_decorator(self._send)(prepared, None)

    def _send(self, prepared: requests.PreparedRequest, _context: Context | None) -> Any:
        authenticated = self.authenticator(prepared)
        response = self.requests_session.send(authenticated, timeout=self.timeout)
        self.validate_response(response)
        return response

    # --- records ---------------------------------------------------------------------------

    def selected_fields(self) -> list[str]:
        """`$select`: the schema's fields the catalog selects, plus those the tap needs."""
        chosen = [name for name in self.schema["properties"]
                  if name not in self.derived_fields
                  and self.mask.get(("properties", name), True)]
        enriching = self.enrichment_inputs if self.config.get("enrich_line_items") else ()
        for name in (self.key_field, *self.needed_fields, *enriching):
            if name not in chosen:
                chosen.append(name)
        return chosen

    def page_size_for_run(self) -> int:
        """page_size, or fewer when the run stops after a few records (`--test`)."""
        size = int(self.config.get("page_size") or DEFAULT_PAGE_SIZE)
        limit = getattr(self, "ABORT_AT_RECORD_COUNT", None)
        return max(1, min(size, limit)) if limit else size

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The entities of one page."""
        yield from page_records(response)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Dates as `YYYY-MM-DD` whichever form SAP sent; names added with enrich_line_items."""
        for name in DATE_FIELDS:
            if isinstance(row.get(name), str):
                try:
                    row[name] = sap_date(row[name])
                except ValueError as exc:
                    raise SapDataError(f"{self.entity_set} {self.key_field} "
                                       f"{row.get(self.key_field)!r}: {name} {exc}; fix the "
                                       "record in SAP") from None
        if self.enrichment_inputs and self.config.get("enrich_line_items"):
            self.enrich(row, self.run.reference_names)
        return row

    def enrich(self, row: dict, names: ReferenceNames) -> None:
        """Add looked-up names to `row` (streams that declare enrichment_inputs)."""

    def query_url(self, params: dict[str, Any]) -> str:
        """The entity set's URL with query options encoded the way the Service Layer reads them."""
        query = query_string(params)
        return f"{self.get_url(None)}?{query}" if query else self.get_url(None)

    def read_all(self, fields: list[str]) -> list[dict]:
        """Every entity with `fields` only (for lookups), paged like a full-table stream."""
        # rows of two fields are tiny: never ask for pages smaller than the default
        size = max(int(self.config.get("page_size") or DEFAULT_PAGE_SIZE), DEFAULT_PAGE_SIZE)
        page_size = PageSize(size, self.entity_set)
        paginator = NextLinkPaginator(self.url_base, page_size)
        params: dict[str, Any] = {"$select": ",".join(fields), "$orderby": self.key_field}
        rows: list[dict] = []
        while not paginator.finished:
            url = self._collection_url(params, paginator.current_value, page_size)
            response = self.send(url, headers=page_size.headers())
            rows.extend(page_records(response))
            paginator.advance(response)
        return rows

    def _collection_url(self, params: dict[str, Any], token: LinkOrSkip | None,
                        page_size: PageSize) -> str:
        """A full-table page: SAP's nextLink, else `params` with the next $top/$skip window."""
        if token is not None and token.url:
            return token.url
        if token is not None and token.skip is not None:
            params = {**params, "$top": page_size.top(), "$skip": token.skip}
        return self.query_url(params)


class FullTableStream(SapStream):
    """A small reference set, read whole each run (nextLink, or $top/$skip as a fallback)."""

    _rows_for_sync: list[dict] | None = None  # read for a lookup, kept for this stream's sync

    def lookup_rows(self, fields: list[str]) -> list[dict]:
        """Rows with `fields` for enrichment. When this stream is selected too, the read also
        takes its own fields and is kept for its sync, so the set is read once per run."""
        if not self.selected:
            return self.read_all(fields)
        if self._rows_for_sync is None:
            own = self.selected_fields()
            self._rows_for_sync = self.read_all([*own, *(f for f in fields if f not in own)])
        return self._rows_for_sync

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The rows a lookup read (done first with enrich_line_items, whichever stream runs
        first), else a paged read of the set."""
        if self.config.get("enrich_line_items"):
            self.run.reference_names.load_from(self.name)
        rows, self._rows_for_sync = self._rows_for_sync, None
        yield from rows if rows is not None else super().get_records(context)

    def get_new_paginator(self) -> NextLinkPaginator:
        """A fresh nextLink paginator with this run's page size."""
        self._page_size = PageSize(self.page_size_for_run(), self.entity_set)
        return NextLinkPaginator(self.url_base, self._page_size)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """First page with $select/$orderby; then SAP's nextLink or the next $skip window."""
        params = {"$select": ",".join(self.selected_fields()), "$orderby": self.key_field}
        url = self._collection_url(params, page.next_page_token, self._page_size)
        return HTTPRequest(url=url, method="GET",
                           headers={**self.http_headers, **self._page_size.headers()}, params={})
