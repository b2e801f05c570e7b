"""Incremental streams: keyset reads on (UpdateDate, UpdateTime, key), with the look-back, the
untimed read, the future-stamp bound and the page checks of issue 12 (see `IncrementalStream`)."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.pagination import SinglePagePaginator

from tap_sapb1.client import SapStream
from tap_sapb1.clock import future_bound
from tap_sapb1.errors import SapB1Error, SapDataError
from tap_sapb1.paging import (
    TIMED,
    PageSize,
    StampError,
    after_day_key,
    after_position,
    both,
    literal,
    lower_bound,
    minute_bucket,
    null_time_days,
    page_records,
    stamp_of,
    upper_bound,
)
from tap_sapb1.settings import lookback

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


FAR_AHEAD = dt.timedelta(days=1)  # a stored bookmark this far past SAP's clock is not trusted


class IncrementalStream(SapStream):
    """A transactional entity set read by keyset on (UpdateDate, UpdateTime, key).

    - Window: from the bookmark minus `lookback_minutes` (a change stamped earlier than the
      bookmark when it became visible: a late commit, the DST fall-back hour, a clock set back)
      up to the newest change that existed when the run started (one `$top=1` probe). Records
      re-read in the look-back are emitted again but never move the bookmark back.
    - Each page is a fresh query for the records after the last one read, (UpdateDate,
      UpdateTime, key) greater, never a `$skip` window, so records that move while the run pages
      cannot shift unread ones out of view. The filter is exact on a server that compares times
      to the second; on one that compares them to the minute (SAP's manual) it also names the
      keys already emitted in the boundary minute, so it stays exact (a superset when more than
      40 share the minute). Records already emitted are recognised (earlier second, or same
      second and key seen) and skipped.
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
                         future_bound(response, self.config),
                         future_bound(response, self.config, surely=False))

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
        state = self.get_context_state(context)
        if state.get("replication_key_value") and self._in_future(start - FAR_AHEAD):
            # an older release bookmarked a stamp in the future: the changes since are unread
            # (a clock set back, by DST or NTP, is far less: the look-back covers it)
            self.logger.warning("%s: the bookmark %s is more than a day later than SAP's clock "
                                "allows (an older release bookmarked a future stamp); reading "
                                "again from start_date", self.name, start.isoformat())
            state.pop("replication_key_value")
            first = self.config.get("start_date")
            start = _instant(str(first)) if first else None
            return (start.strftime("%Y-%m-%d"), start.strftime("%H:%M:%S")) if start else None
        if state.get("replication_key_value"):
            start -= lookback(self.config)
            if first := self.config.get("start_date"):
                start = max(start, _instant(str(first)))
        return start.strftime("%Y-%m-%d"), start.strftime("%H:%M:%S")

    def _in_future(self, when: dt.datetime) -> bool:
        """Whether `when` is later than SAP's clock allows (clock.py; unknown: False)."""
        limit = self._bounds.future
        return limit is not None and when > _instant(f"{limit[0]}T{limit[1]}+00:00")

    def _increment_stream_state(self, latest_record: dict, *,
                                context: Context | None = None) -> None:
        """singer-sdk's bookmark step, skipped for a record re-read in the look-back (the
        bookmark never moves back) and for one that may be stamped in the future (see
        clock.py: a bookmark past SAP's now would skip the normal changes stamped before it)."""
        value = _instant(str(latest_record[self.replication_key]))
        limit = self._bounds.bookmarkable
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
    """What the run's probe learnt: the newest stamp, the latest one surely not in the future
    (later ones are reported) and the latest one the bookmark may take (the same when
    server_timezone is set; see clock.py)."""

    until: tuple[str, str] | None
    future: tuple[str, str] | None
    bookmarkable: tuple[str, str] | None = None

    def bookmark_limit(self) -> tuple[str, str] | None:
        """The newest stamp the bookmark may reach this run."""
        if self.until is None or self.bookmarkable is None:
            return self.until
        return min(self.until, self.bookmarkable)


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
