"""The base stream of every SAP entity set: session cookies, error mapping, retries, `$select`.

Retries: 5xx, timeouts and dropped connections are retried `max_retries` times with exponential
backoff and full jitter (singer-sdk's backoff hooks). A dead session (401 / code 301, or a -5002
naming the session) is not a retry: the request is repeated at once after a new login, at most
twice. The bare "Internal error (-5002)" gets one new login; if it comes back on the fresh
session it is SAP refusing the request, and SAP's own message ends the run.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import backoff
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_sapb1.clock import future_bound
from tap_sapb1.errors import (
    SapB1Error,
    SapDataError,
    SessionExpiredError,
    sap_error,
    session_error,
)
from tap_sapb1.paging import (
    TIMED,
    LinkOrSkip,
    NextLinkPaginator,
    PageShapeError,
    PageSize,
    StampError,
    after_day_key,
    after_position,
    both,
    literal,
    lower_bound,
    minute_bucket,
    null_time_days,
    odata_body,
    page_records,
    query_string,
    sap_date,
    stamp_of,
    upper_bound,
)
from tap_sapb1.settings import (
    DEFAULT_PAGE_SIZE,
    lookback,
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

class IncrementalStream(SapStream):
    """A transactional entity set read by keyset on (UpdateDate, UpdateTime, key).

    - Window: from the bookmark minus `lookback_minutes` (a change stamped earlier than the
      bookmark when it became visible: a late commit, the DST fall-back hour, a clock set back)
      up to the newest change that existed when the run started (one `$top=1` probe). Records
      re-read in the look-back are emitted again but never move the bookmark back.
    - Each page is a fresh query for the records after the last one read, (UpdateDate,
      UpdateTime, key) greater, never a `$skip` window, so records that move while the run pages
      cannot shift unread ones out of view. The filter is exact on a server that compares times
      to the second and a superset on one that compares them to the minute (SAP's manual);
      records already emitted are recognised (earlier second, or same second and key seen).
    - When a page holds nothing new (more records share the boundary minute than fit a page),
      that minute is read whole by key (`key gt last`), sorted, and the read goes on after it.
    - Records without an UpdateTime match no time comparison: they are read by their own query
      (`UpdateTime eq null`, from the window's first day) and placed first in their day.
    - Every page is checked against its filter: a server that ignores (part of) `$filter` stops
      the run with one line instead of looping or losing records.
    - A stamp later than SAP's clock (`Date` header, see clock.py) is emitted and reported, but
      the bookmark stays at the newest stamp that is not in the future.
    """

    replication_key = "sap_updated_at"
    is_sorted = True  # emitted in (UpdateDate, UpdateTime) order: bookmarks are resumable
    derived_fields: tuple[str, ...] = ("sap_updated_at",)
    needed_fields: tuple[str, ...] = ("UpdateDate", "UpdateTime")
    _page_counter: Any = None

    def _stamp(self, row: dict) -> tuple[str, str]:
        """The row's stamp, or one clear error naming the record (never a bogus bookmark)."""
        try:
            return stamp_of(row)
        except StampError as exc:
            raise SapDataError(f"{self.entity_set} {self.key_field} {row.get(self.key_field)!r}: "
                               f"{exc}; it cannot be bookmarked — fix the record in SAP") from None

    def get_new_paginator(self) -> SinglePagePaginator:
        """Unused: get_records pages by keyset itself."""
        return SinglePagePaginator()

    @cached_property
    def _bounds(self) -> RunBounds:
        """The newest stamp in SAP when this run starts, and SAP's now (from the same answer)."""
        params = {"$select": "UpdateDate,UpdateTime",
                  "$orderby": "UpdateDate desc,UpdateTime desc", "$top": 1}
        response = self.send(self.query_url(params))
        records = page_records(response)
        return RunBounds(self._stamp(records[0]) if records else None,
                         future_bound(response, self.config))

    @property
    def _run_until(self) -> tuple[str, str] | None:
        """The newest (UpdateDate, UpdateTime) in SAP when this run starts; None if empty."""
        return self._bounds.until

    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """The run's start on SAP's clock: the newest change that existed when it began (never
        past SAP's now)."""
        until = self._bounds.bookmark_limit()
        if until is None:
            return None
        return _instant(f"{until[0]}T{until[1]}+00:00")

    def _start(self, context: Context | None) -> tuple[str, str] | None:
        """Where this run's window starts: the bookmark minus the look-back (never before
        start_date), or start_date on a first run."""
        start = self.get_starting_timestamp(context)
        if start is None:
            return None
        if self.get_context_state(context).get("replication_key_value"):
            start -= lookback(self.config)
            if first := self.config.get("start_date"):
                start = max(start, _instant(str(first)))
        return start.strftime("%Y-%m-%d"), start.strftime("%H:%M:%S")

    def _increment_stream_state(self, latest_record: dict, *,
                                context: Context | None = None) -> None:
        """singer-sdk's bookmark step, skipped for a record re-read in the look-back (the
        bookmark never moves back) and for one stamped in the future (reported instead)."""
        value = _instant(str(latest_record[self.replication_key]))
        limit = self._bounds.future
        if limit is not None and value > _instant(f"{limit[0]}T{limit[1]}+00:00"):
            return
        current = self.get_context_state(context).get("replication_key_value")
        if current and value < _instant(str(current)):
            return
        super()._increment_stream_state(latest_record, context=context)

    def _page(self, page_size: PageSize, filter_text: str, order_by: str) -> requests.Response:
        params: dict[str, Any] = {"$select": ",".join(self.selected_fields()),
                                  "$filter": filter_text, "$orderby": order_by,
                                  "$top": page_size.top()}
        response = self.send(self.query_url(params),
                             headers=page_size.headers())
        page_size.observe(response)
        if self._page_counter is not None:
            self._page_counter.increment()
        return response

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Keyset pages from the window's start to the run's start, each record once, the
        records without a time merged in first in their day (see class doc)."""
        until = self._run_until
        if until is None:
            self.logger.info("SAP has no %s yet", self.entity_set)
            return
        start = self._start(context)
        emitted = _Boundary(self.key_field)
        reported: set[Any] = set()
        with self.get_http_request_counter() as counter:  # singer-sdk's request metric
            self._page_counter = counter
            try:
                untimed = self._read_null_times(start[0] if start else None, until[0])
                timed = self._read_window(start, until)
                for row in heapq.merge(untimed, timed, key=self._stamp):
                    stamp = self._stamp(row)
                    if emitted.take(row, stamp):
                        self._report_future(row, stamp, reported)
                        yield row
            finally:  # also when the run stops early (--test, errors): no stale counter
                self._page_counter = None

    def _report_future(self, row: dict, stamp: tuple[str, str], reported: set[Any]) -> None:
        """One warning per record stamped later than SAP's clock."""
        limit = self._bounds.future
        key = row.get(self.key_field)
        if limit is None or stamp <= limit or key in reported:
            return
        reported.add(key)
        self.logger.warning("%s %s %r is stamped %s %s, later than SAP's clock allows (%s %s "
                            "with clock_tolerance_seconds): emitted, but the bookmark stays at "
                            "SAP's now; fix the record's stamp or the server clock",
                            self.entity_set, self.key_field, key, *stamp, *limit)

    def _read_window(self, start: tuple[str, str] | None,
                     until: tuple[str, str]) -> Iterable[dict[str, Any]]:
        """The keyset pages of the records with a time, from `start` up to `until`."""
        page_size = PageSize(self.page_size_for_run(), self.entity_set)
        seen = _Boundary(self.key_field)
        lower = lower_bound(*start, inclusive=True) if start else None
        floor = start
        order = f"UpdateDate,UpdateTime,{self.key_field}"
        while True:
            response = self._page(page_size, both(lower, upper_bound(*until), TIMED), order)
            rows = page_records(response)
            self._check_page(rows, floor, until)
            fresh = [row for row in rows if seen.take(row, self._stamp(row))]
            yield from fresh
            if not rows or not page_size.more_after(response):
                return
            if fresh:
                lower = after_position(*seen.stamp, seen.last_key, self.key_field,
                                       seen.minute_keys)
                floor = seen.stamp
                continue
            yield from self._read_minute(page_size, seen, until)
            lower = lower_bound(*seen.stamp, inclusive=False)  # after the minute just read
            floor = seen.stamp

    def _read_minute(self, page_size: PageSize, seen: _Boundary,
                     until: tuple[str, str]) -> Iterable[dict[str, Any]]:
        """Every record of the boundary minute, by key, emitted in time order (rare path)."""
        day, at = seen.stamp
        self.logger.info("More %s share %s %s than fit a page; reading that minute by key",
                         self.entity_set, day, at[:5])
        rows: list[dict] = []
        last_key: Any = None
        while True:
            after = f"{self.key_field} gt {literal(last_key)}" if last_key is not None else None
            response = self._page(page_size, both(minute_bucket(day, at), after,
                                                  upper_bound(*until)), self.key_field)
            page = page_records(response)
            self._check_page(page, (day, at[:5] + ":00"), min(until, (day, at[:5] + ":59")))
            if last_key is not None and any(not row.get(self.key_field) > last_key
                                            for row in page):
                self._filter_ignored("the key part of $filter", page[0], (day, at), until)
            rows.extend(page)
            if not page or not page_size.more_after(response):
                break
            last_key = page[-1].get(self.key_field)
        rows.sort(key=self._stamp)  # stable: SAP's key order stays within a second
        yield from (row for row in rows if seen.take(row, self._stamp(row)))
        seen.close_minute()

    def _read_null_times(self, first_day: str | None,
                         last_day: str) -> Iterable[dict[str, Any]]:
        """The records without an UpdateTime from `first_day` to `last_day`, by day and key
        (each counts as stamped at the start of its day)."""
        page_size = PageSize(self.page_size_for_run(), self.entity_set)
        position: tuple[str, Any] | None = None
        while True:
            after = after_day_key(*position, self.key_field) if position else None
            response = self._page(page_size, both(null_time_days(first_day, last_day), after),
                                  f"UpdateDate,{self.key_field}")
            rows = page_records(response)
            window = ((first_day, "00:00:00") if first_day else None, (last_day, "23:59:59"))
            for row in rows:
                day = self._stamp(row)[0]
                if (first_day is not None and day < first_day) or day > last_day:
                    self._filter_ignored("$filter", row, *window)
                if row.get("UpdateTime") not in (None, ""):
                    self._filter_ignored("the UpdateTime part of $filter", row, *window)
                if position is not None and not (day, row.get(self.key_field)) > position:
                    self._filter_ignored("the key part of $filter", row, *window)
            yield from rows
            if not rows or not page_size.more_after(response):
                return
            position = (self._stamp(rows[-1])[0], rows[-1].get(self.key_field))

    def _check_page(self, rows: list[dict], floor: tuple[str, str] | None,
                    until: tuple[str, str]) -> None:
        """Stop when a page holds a record its filter excludes (compared to the minute, the
        coarsest precision SAP documents): such a server cannot be read by keyset."""
        low = (floor[0], floor[1][:5]) if floor else None
        high = (until[0], until[1][:5])
        for row in rows:
            stamp = self._stamp(row)
            minute = (stamp[0], stamp[1][:5])
            if row.get("UpdateTime") in (None, ""):
                self._filter_ignored("the UpdateTime part of $filter", row, floor, until)
            if (low is not None and minute < low) or minute > high:
                inside_days = (low is None or stamp[0] >= low[0]) and stamp[0] <= high[0]
                what = "the UpdateTime part of $filter" if inside_days else "$filter"
                self._filter_ignored(what, row, floor, until)

    def _filter_ignored(self, what: str, row: dict, floor: tuple[str, str] | None,
                        until: tuple[str, str]) -> None:
        raw = (row.get("UpdateDate"), row.get("UpdateTime"))
        since = f"{floor[0]} {floor[1]}" if floor else "the beginning"
        raise SapB1Error(
            f"SAP ignores {what} on {self.entity_set}: asked for records stamped from {since} "
            f"to {until[0]} {until[1]}, it answered {self.key_field} "
            f"{row.get(self.key_field)!r} stamped {raw[0]} {raw[1]}. The tap stops rather than "
            "loop or miss records: check the Service Layer's patch level, or a proxy that "
            "rewrites queries")

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Add `sap_updated_at` (UpdateDate + UpdateTime, SAP local time written as +00:00; no
        UpdateTime counts as the start of the day)."""
        day, at = self._stamp(row)
        row = super().post_process(row, context) or row
        row["sap_updated_at"] = f"{day}T{at}+00:00"
        return row


def _instant(text: str) -> dt.datetime:
    """An ISO date-time from state or config as an aware datetime (naive = UTC)."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class RunBounds:
    """What the run's probe learnt: the newest stamp, and the latest one not in the future."""

    until: tuple[str, str] | None
    future: tuple[str, str] | None

    def bookmark_limit(self) -> tuple[str, str] | None:
        """The newest stamp the bookmark may reach this run."""
        if self.until is None or self.future is None:
            return self.until
        return min(self.until, self.future)


class _Boundary:
    """The last second emitted and the keys emitted in it: what a re-read must skip.

    Records stamped before that second were all emitted already (a record that changes gets a
    later stamp, never an earlier one); in that second, only the keys listed were.
    """

    def __init__(self, key_field: str) -> None:
        self.key_field = key_field
        self.stamp: tuple[str, str] = ("", "")
        self.keys: set[Any] = set()
        self.last_key: Any = None
        self.minute_keys: set[Any] = set()  # emitted in the minute of `stamp` (see after_position)

    def take(self, row: dict, stamp: tuple[str, str]) -> bool:
        """True (and remember it) when `row` (stamped `stamp`) was not emitted yet this run."""
        key = row.get(self.key_field)
        if stamp < self.stamp or (stamp == self.stamp and key in self.keys):
            return False
        if stamp != self.stamp:
            if (stamp[0], stamp[1][:5]) != (self.stamp[0], self.stamp[1][:5]):
                self.minute_keys = set()
            self.stamp, self.keys = stamp, set()
        self.keys.add(key)
        self.minute_keys.add(key)
        self.last_key = key
        return True

    def close_minute(self) -> None:
        """After a whole-minute read: everything up to the end of that minute is done."""
        day, at = self.stamp
        self.stamp, self.keys, self.minute_keys = (day, at[:5] + ":59"), set(), set()
