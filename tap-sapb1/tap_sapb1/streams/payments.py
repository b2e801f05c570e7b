"""incoming_payments: customer payments with PaymentInvoices nested (key DocEntry).

SAP's Payment has no UpdateDate/UpdateTime, so payments are read by DocEntry, plus a re-read
window on DocDate that brings the usual change to a posted payment, its cancellation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from singer_sdk.pagination import SinglePagePaginator

from tap_sapb1.client import SapStream
from tap_sapb1.discovery import LiveSchema
from tap_sapb1.errors import SapB1Error
from tap_sapb1.paging import PageSize, both, page_records, sap_date
from tap_sapb1.schemas import INCOMING_PAYMENT
from tap_sapb1.settings import WESTMOST_UTC_OFFSET, server_zone
from tap_sapb1.streams import early_payments

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DEFAULT_REREAD_DAYS = 60
REREAD_SETTING = th.Property(
    "payments_reread_days", th.IntegerType, default=DEFAULT_REREAD_DAYS,
    title="Payments re-read window (days)",
    description="Each run re-reads the incoming payments dated (DocDate) within this many days, "
                "so a cancelled payment reaches the target; older ones are re-read by a full "
                "pass (--full-refresh). 0 turns the window off (a payment committed out of "
                "DocEntry order is then left to the full pass too).",
    minimum=0, maximum=3650)


def reread_days(config: dict[str, Any]) -> int:
    """`payments_reread_days` (default 60)."""
    value = config.get("payments_reread_days")
    return DEFAULT_REREAD_DAYS if value is None else int(value)


class IncomingPaymentsStream(LiveSchema, SapStream):
    """IncomingPayments by DocEntry; each PaymentInvoices item names the invoice it settles.

    Each run reads, in DocEntry order, by keyset (`DocEntry gt <last read>`, never `$skip`):
    - the payments after the bookmark (`DocEntry gt B`): new payments;
    - the payments dated within `payments_reread_days` (`DocDate ge today - N`): cancellations,
      which change a posted payment without any stamp to read changes by.

    No payment is lost:
    - DocEntry is given when a payment is added, but concurrent transactions can commit out of
      order: a payment with a lower DocEntry may become visible after a higher one was read and
      bookmarked. Such a payment is new, so its DocDate is recent: the DocDate window reads it
      on the next run (a payment back-dated beyond the window is read by the nightly full pass).
    - The bookmark is the highest DocEntry emitted, and records are emitted in DocEntry order:
      a run killed at any point resumes after the last payment whose STATE was written (singer
      writes STATE after the records it covers), so it re-reads rather than skips.
    - Re-read payments (DocEntry <= the starting bookmark) never move the bookmark.
    Without a bookmark, the first run reads every payment dated from `start_date`. Every run then
    reads the payments dated before `start_date` that pay invoices dated before it and changed
    since the last check (early_payments.py; they never move the bookmark).
    """

    name = "incoming_payments"
    entity_set = "IncomingPayments"
    key_field = "DocEntry"
    primary_keys = ("DocEntry",)
    replication_key = "DocEntry"
    is_sorted = True
    curated_schema = INCOMING_PAYMENT
    needed_fields = ("DocDate",)
    _floor: int | None = None  # the starting bookmark: re-read payments at or below it
    _since: str | None = None  # the first DocDate of this run's scope (window or start_date)
    _early = False  # emitting payments dated before start_date (early_payments)
    _read_early: set[int]  # emitted this run and maybe dated before start_date: not again

    def required_fields(self) -> dict[str, str]:
        """DocEntry (key and bookmark) and DocDate (the re-read window)."""
        return {"DocEntry": "its key and bookmark",
                "DocDate": "the re-read window that brings cancellations"}

    def get_new_paginator(self) -> SinglePagePaginator:
        """Unused: get_records pages by keyset itself."""
        return SinglePagePaginator()

    def window_start(self, now: dt.datetime | None = None, *, clamp: bool = True
                     ) -> str | None:
        """The first DocDate re-read this run (None when the window is off).

        DocDate is SAP's local date: days count back from SAP's today (`server_timezone`), or,
        zone unknown, from the earliest today anywhere (UTC-12), so the window never comes up
        a day short. Never before start_date (`clamp`): the first run read from there; the
        window's days before it are re-read by early_payments.reread_before.
        """
        days = reread_days(self.config)
        if days <= 0:
            return None
        now = now or dt.datetime.now(dt.UTC)
        zone = server_zone(self.config)
        today = (now.astimezone(zone) if zone is not None else now + WESTMOST_UTC_OFFSET).date()
        since = (today - dt.timedelta(days=days)).isoformat()
        start = self.config.get("start_date")
        return max(since, str(start)[:10]) if start and clamp else since

    def bookmark(self, context: Context | None) -> int | None:
        """The DocEntry bookmark; None on a first run, and for a bookmark of another kind
        (state from a tap version that read payments by UpdateDate: read again in full)."""
        state = self.get_context_state(context)
        if state.get("replication_key") not in (None, self.replication_key):
            self.logger.info("incoming_payments: the state holds a %s bookmark (an older tap "
                             "version); reading payments in full once", state["replication_key"])
            state.pop("replication_key", None)
            state.pop("replication_key_value", None)
        value = state.get("replication_key_value")
        return None if value is None else int(value)

    def scope(self, context: Context | None) -> str | None:
        """The `$filter` of this run's payments (before the keyset clause)."""
        bookmark = self.bookmark(context)
        if bookmark is None:
            self._floor = None
            start = self.config.get("start_date")
            self._since = str(start)[:10] if start else None
            return f"DocDate ge '{self._since}'" if start else None
        self._floor = bookmark
        self._since = since = self.window_start()
        new = f"DocEntry gt {self._floor}"
        return f"{new} or DocDate ge '{since}'" if since else new

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Keyset pages in DocEntry order over this run's scope (see class doc), then the
        payments dated before start_date of the invoices dated before it (early_payments)."""
        start = self.config.get("start_date")
        start = str(start)[:10] if start else None
        self._read_early = set()
        state = self.get_context_state(context)
        if start is not None:
            early_payments.upgrade(self, state, start)
        for row in self._in_scope_rows(context):
            if start is not None and _maybe_before(row.get("DocDate"), start):
                self._read_early.add(int(row["DocEntry"]))
                early_payments.track(state, row, start)  # before its STATE is written
            yield row
        if start is None:
            return
        since = str(state.get(early_payments.CHECKED_SINCE) or start)
        before: set[int] = set()
        invoices, following = early_payments.invoices_to_check(
            self, start, since, bookmarked=self._floor is not None, state=state, before=before)
        checked = set().union(*invoices.values())
        reread = self.window_start(clamp=False)
        self._early = True
        try:
            for row in early_payments.payments_paying(self, start, invoices):
                early_payments.track(state, row, start, checked, before)
                # a new payment back-dated before start_date came in scope (DocEntry past
                # the bookmark): one record per payment per run
                if int(row["DocEntry"]) not in self._read_early:
                    self._read_early.add(int(row["DocEntry"]))
                    yield row
            # the window reaches before start_date (a check from start_date read those too)
            if reread is not None and reread < start and since != start:
                for row in early_payments.reread_before(self, reread, start):
                    if int(row["DocEntry"]) not in self._read_early:
                        yield row
        finally:
            self._early = False
        # written with the STATE that follows these payments: a killed run checks again
        state[early_payments.CHECKED_SINCE] = following
        state.setdefault(early_payments.PAID_EARLY, [])

    def _in_scope_rows(self, context: Context | None) -> Iterable[dict[str, Any]]:
        page_size = PageSize(self.page_size_for_run(), self.entity_set)
        scope = self.scope(context)
        last: int | None = None
        with self.get_http_request_counter() as counter:  # singer-sdk's request metric
            while True:
                after = f"DocEntry gt {last}" if last is not None else None
                params: dict[str, Any] = {"$select": ",".join(self.selected_fields()),
                                          "$orderby": "DocEntry", "$top": page_size.top()}
                if clause := both(scope, after):
                    params["$filter"] = clause
                response = self.send(self.query_url(params), headers=page_size.headers())
                page_size.observe(response)
                counter.increment()
                rows = page_records(response)
                self._check_page(rows, last, scope)
                yield from rows
                if not rows or not page_size.more_after(response):
                    return
                last = int(rows[-1]["DocEntry"])

    def _check_page(self, rows: list[dict], last: int | None, scope: str | None) -> None:
        """Stop with one line when a page holds a payment its `$filter` excludes, or is out of
        DocEntry order: a server (or proxy) ignoring the keyset would repeat pages forever."""
        previous = last
        for row in rows:
            entry, day = int(row["DocEntry"]), early_payments.payment_day(row)
            if previous is not None and entry <= previous:
                what = "the DocEntry part of $filter (or $orderby)"
            elif not self._in_scope(entry, day):
                what = "$filter"
            else:
                previous = entry
                continue
            asked = " and ".join(part for part in (
                f"({scope})" if scope else "", f"DocEntry gt {last}" if last is not None else "")
                if part) or "every payment"
            raise SapB1Error(
                f"SAP ignores {what} on {self.entity_set}: asked for {asked} in DocEntry order, "
                f"it answered DocEntry {entry} dated {day}. The tap stops rather than loop or "
                "miss payments: check the Service Layer's patch level, or a proxy that rewrites "
                "queries")

    def _in_scope(self, entry: int, day: str | None) -> bool:
        """Whether this run's scope (see `scope`) holds a payment. A day of slack: a v1
        `/Date(ms)/` of SAP's local midnight may read as the day before in UTC."""
        since = self._since
        if since is not None:
            since = (dt.date.fromisoformat(since) - dt.timedelta(days=1)).isoformat()
        dated = since is not None and day is not None and day >= since
        if self._floor is None:  # first run: from start_date, if any
            return since is None or dated
        return entry > self._floor or dated

    def _increment_stream_state(self, latest_record: dict, *,
                                context: Context | None = None) -> None:
        """A re-read payment (at or below the starting bookmark) leaves the bookmark alone, and
        so does an early payment (out of DocEntry order, outside the bookmarked scope)."""
        if self._early or (self._floor is not None
                           and int(latest_record["DocEntry"]) <= self._floor):
            return
        super()._increment_stream_state(latest_record, context=context)


def _maybe_before(value: Any, start: str) -> bool:
    """Whether a payment's DocDate may be before `start` (unknown, or up to `start` itself: a
    v1 `/Date(ms)/` read in UTC may show a day early)."""
    day = sap_date(value)
    return day is None or day <= start
