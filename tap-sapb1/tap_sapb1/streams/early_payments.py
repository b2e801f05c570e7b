"""Payments dated before `start_date` that pay invoices the tap emits.

Why: with `start_date` the first run reads payments dated from there on, yet an invoice dated
earlier is emitted whenever it changed since (paid, edited, reopened). Its own PaidToDate counts
the older payments, while HubSpot computes an invoice's balance due from the payments
associated with it: without them HubSpot shows money owed that SAP has received. Such an
invoice may change in any later run too, so the check runs every run, not only the first.

How (frugal, independent of the invoices stream so a killed run loses nothing):
1. the invoices dated before start_date and stamped since the last check (`UpdateDate ge D`;
   D = the day on SAP's clock `lookback_minutes` before the previous check began, from its
   `Date` header and `server_timezone` (unknown zone: the earliest day anywhere, UTC-12), as
   the invoices stream looks back), DocEntry and CardCode only; usually an empty page. The
   check from start_date (no mark), or with no DocEntry bookmark yet, also takes those dated
   from start_date (`DocDate ge`, a second query): SAP may take a payment dated before its
   invoice;
2. their customers' payments dated before start_date, CUSTOMERS_PER_QUERY customers a query;
   only payments with a line paying one of those invoices are emitted.
3. while the `payments_reread_days` window reaches before start_date, the payments dated in
   its days before start_date that pay an invoice loaded (dated before start_date, stamped
   since): `reread_before`; not when step 1 ran from start_date (step 2 read them).
No lower date bound on step 2: SAP may apply a payment to an invoice dated after it. Such an
invoice dated from start_date is kept in the state (PAID_EARLY) and taken by later checks
when stamped: the check after the first takes invoices by date (before start_date) only.
The stream emits a payment once per run: those its DocEntry read or step 2 emitted are skipped.
D is kept in the payments stream's state (CHECKED_SINCE) and moves only when the stream's
state is written after the payments it covers, so a killed run checks the same invoices again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import requests

from tap_sapb1.clock import header_time
from tap_sapb1.errors import SapB1Error, SapDataError
from tap_sapb1.paging import PageSize, both, literal, page_records, query_string, sap_date
from tap_sapb1.settings import WESTMOST_UTC_OFFSET, lookback, server_zone

if TYPE_CHECKING:
    from tap_sapb1.client import SapStream

CHECKED_SINCE = "early_payments_checked_since"  # state key: first UpdateDate of the next check
PAID_EARLY = "early_paid_invoices"  # state key: invoices dated from start_date paid before it
CUSTOMERS_PER_QUERY = 40  # keeps the `$filter` of one query near 1.5 kB


def keyset_rows(stream: SapStream, entity_set: str, fields: list[str], scope: str,
                page_size: PageSize, answers: list[requests.Response] | None = None
                ) -> Iterator[dict[str, Any]]:
    """Every row of `entity_set` in `scope`, by DocEntry keyset (never `$skip`); each answer
    is appended to `answers` when given."""
    last: int | None = None
    while True:
        params: dict[str, Any] = {
            "$select": ",".join(fields), "$orderby": "DocEntry", "$top": page_size.top(),
            "$filter": both(scope, f"DocEntry gt {last}" if last is not None else None)}
        response = stream.send(f"{stream.url_base}{entity_set}?{query_string(params)}",
                               headers=page_size.headers())
        page_size.observe(response)
        if answers is not None:
            answers.append(response)
        rows = page_records(response)
        for row in rows:
            entry = int(row["DocEntry"])
            if last is not None and entry <= last:
                raise SapB1Error(
                    f"SAP ignores the DocEntry part of $filter (or $orderby) on {entity_set}: "
                    f"asked for ({scope}) after DocEntry {last}, it answered {entry}. The tap "
                    "stops rather than loop: check the Service Layer's patch level, or a proxy "
                    "that rewrites queries")
            last = entry
            yield row
        if not rows or not page_size.more_after(response):
            return


def invoices_to_check(stream: SapStream, start: str, since: str, *, bookmarked: bool = True,
                      state: dict[str, Any] | None = None, before: set[int] | None = None
                      ) -> tuple[dict[str, set[int]], str]:
    """{CardCode: DocEntries} of invoices dated before `start` stamped on or after `since`,
    and where the next check starts (never before `start`). Without a DocEntry bookmark
    (`bookmarked` False: no payment dated since `start` read yet) the run reads payments dated
    from `start` again, so a new payment dated before `start` is in no read but this one: the
    invoices of any date stamped since `since` are taken (the payment re-stamps the one it pays).

    A mark that is no date, or more than a day past SAP's clock (a Service Layer clock once
    set wrong, a hand-edited state), would hide old invoices' changes: dropped with one
    warning, and the check runs from `start` (as incremental.py does with a bookmark).

    The invoices in `state`'s PAID_EARLY (dated from `start`, paid by a payment dated before
    it) stamped since `since` are taken too, 40 DocEntries a query: a cancellation of that
    payment re-stamps its invoice and is in no other read. `before` receives the DocEntries
    known dated before `start` (dropped from PAID_EARLY: the check takes them anyway)."""
    before = set() if before is None else before
    if not _is_day(since):
        _drop(stream, since, "is not a date")
        since = start
    by_customer, first = _stamped_since(stream, start, since, before, any_date=not bookmarked)
    following = next_check(first, stream.config)
    if following is not None and since > _day_after(following):
        _drop(stream, since, f"is more than a day past SAP's clock ({following})")
        before.clear()
        by_customer, _ = _stamped_since(stream, start, start, before)
        checked_from = start
    else:
        checked_from = since
    tracked = _tracked(state or {})
    pending = [entry for entry in tracked if entry not in before]  # not found by date
    if pending and bookmarked and checked_from > start:  # else every date was read
        for entry, card in _tracked_since(stream, start, checked_from, pending):
            by_customer.setdefault(card, set()).add(entry)
    if state is not None and PAID_EARLY in state:  # kept even empty: see upgrade()
        state[PAID_EARLY] = [entry for entry in tracked if entry not in before]
    return by_customer, max(start, following or since)


def _stamped_since(stream: SapStream, start: str, since: str, before: set[int], *,
                   any_date: bool = False) -> tuple[dict[str, set[int]], requests.Response]:
    """{CardCode: DocEntries} of the invoices dated before `start` stamped on or after `since`,
    and SAP's first answer (its `Date` header). From `start` (no valid mark: first run, lost or
    dropped mark, full refresh), every invoice stamped since `start` whatever its date: SAP may
    take a payment dated before its invoice (undocumented), so a payment dated before `start`
    may pay an invoice dated after it, which the first run loads; later, such a payment is new
    (DocEntry past the bookmark) and the DocEntry read brings it. `before` receives those
    dated before `start` (told apart by SAP's own filter: a v1 `/Date(ms)/` read in UTC may
    show a day early)."""
    since = max(since, start)
    size = PageSize(stream.page_size_for_run(), "Invoices")
    by_customer: dict[str, set[int]] = {}
    answers: list[requests.Response] = []
    stamped = f"UpdateDate ge {literal(since)}"
    for row in keyset_rows(stream, "Invoices", ["DocEntry", "CardCode"],
                           f"DocDate lt {literal(start)} and {stamped}", size, answers):
        by_customer.setdefault(str(row["CardCode"]), set()).add(int(row["DocEntry"]))
        before.add(int(row["DocEntry"]))
    if any_date or since == start:
        for row in keyset_rows(stream, "Invoices", ["DocEntry", "CardCode"],
                               f"DocDate ge {literal(start)} and {stamped}", size):
            by_customer.setdefault(str(row["CardCode"]), set()).add(int(row["DocEntry"]))
    return by_customer, answers[0]


def _tracked_since(stream: SapStream, start: str, since: str, tracked: list[int]
                   ) -> Iterator[tuple[int, str]]:
    """(DocEntry, CardCode) of the `tracked` invoices dated from `start` stamped since
    `since`."""
    size = PageSize(stream.page_size_for_run(), "Invoices")
    for first in range(0, len(tracked), CUSTOMERS_PER_QUERY):
        entries = " or ".join(f"DocEntry eq {entry}"
                              for entry in tracked[first:first + CUSTOMERS_PER_QUERY])
        scope = both(f"DocDate ge {literal(start)} and UpdateDate ge {literal(since)}", entries)
        for row in keyset_rows(stream, "Invoices", ["DocEntry", "CardCode"], scope, size):
            yield int(row["DocEntry"]), str(row["CardCode"])


def upgrade(stream: SapStream, state: dict[str, Any], start: str) -> None:
    """A state with a check mark but no PAID_EARLY comes from a tap whose checks took only
    invoices dated before start_date: a payment dated before start_date paying an invoice
    dated from it (SAP may allow it) was never read. The mark is set to start_date (written
    with the first STATE, so a killed run, or Meltano merging its partial state, checks from
    start_date again), and the check writes PAID_EARLY, even empty, when done."""
    if CHECKED_SINCE in state and PAID_EARLY not in state:
        stream.logger.info("%s: the state has no %s (an older tap version); checking the "
                           "invoices from start_date once", stream.name, PAID_EARLY)
        state[CHECKED_SINCE] = start


def _tracked(state: dict[str, Any]) -> list[int]:
    """The state's PAID_EARLY, sorted; what is not a list of DocEntries (a hand-edited state)
    is left out rather than sent to SAP."""
    value = state.get(PAID_EARLY)
    if not isinstance(value, list):
        return []
    return sorted({entry for entry in value if isinstance(entry, int)
                   and not isinstance(entry, bool)})


def track(state: dict[str, Any], payment: dict[str, Any], start: str,
          among: set[int] | None = None, before: set[int] | None = None) -> None:
    """Add to `state`'s PAID_EARLY the invoices a payment dated before `start` pays (of
    `among`, when given), but those in `before`: where SAP takes a payment dated before its
    invoice (undocumented), a later cancellation re-stamps only an invoice the check after
    the first does not take by date."""
    day = payment_day(payment)
    if day is None or day >= start:
        return
    paid = {int(line["DocEntry"]) for line in payment.get("PaymentInvoices") or []
            if _pays(line, among)} - (before or set())
    known = set(_tracked(state))
    if paid - known:
        state[PAID_EARLY] = sorted(known | paid)


def payment_day(payment: dict[str, Any]) -> str | None:
    """A payment's DocDate as `YYYY-MM-DD`; one that is no date is SapDataError (one line,
    as the record's own dates get in post_process), not a traceback."""
    try:
        return sap_date(payment.get("DocDate"))
    except ValueError as exc:
        raise SapDataError(f"IncomingPayments DocEntry {payment.get('DocEntry')!r}: DocDate "
                           f"{exc}; fix the record in SAP") from None


def _is_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == len("YYYY-MM-DD")


def _day_after(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _drop(stream: SapStream, mark: str, why: str) -> None:
    stream.logger.warning("%s: the state's %s %r %s; checking the invoices dated before "
                          "start_date again from start_date", stream.name, CHECKED_SINCE,
                          mark, why)


def next_check(first_answer: requests.Response, config: dict[str, Any]) -> str | None:
    """The earliest SAP day `lookback_minutes` before this answer (None without a `Date`)."""
    when = header_time(first_answer)
    if when is None:
        return None
    zone = server_zone(config)
    local = (when.astimezone(zone).replace(tzinfo=None) if zone is not None
             else when.replace(tzinfo=None) + WESTMOST_UTC_OFFSET)
    return (local - lookback(config)).date().isoformat()


def payments_paying(stream: SapStream, start: str, invoices: dict[str, set[int]]
                    ) -> Iterable[dict[str, Any]]:
    """The customers' payments dated before `start` with a line paying one of `invoices`."""
    size = PageSize(stream.page_size_for_run(), stream.entity_set)
    codes = sorted(invoices)
    wanted = set().union(*invoices.values())
    for first in range(0, len(codes), CUSTOMERS_PER_QUERY):
        group = codes[first:first + CUSTOMERS_PER_QUERY]
        customers = " or ".join(f"CardCode eq {literal(code)}" for code in group)
        scope = both(f"DocDate lt {literal(start)}", customers)
        for row in keyset_rows(stream, stream.entity_set, _fields(stream), scope, size):
            if any(_pays(line, wanted) for line in row.get("PaymentInvoices") or []):
                yield row


def _fields(stream: SapStream) -> list[str]:
    """`$select` of the check's payments: the catalog's, plus PaymentInvoices (what a
    payment pays) even when the catalog leaves it out (singer-sdk drops it from the record)."""
    chosen = stream.selected_fields()
    return chosen if "PaymentInvoices" in chosen else [*chosen, "PaymentInvoices"]


def reread_before(stream: SapStream, since: str, start: str) -> Iterator[dict[str, Any]]:
    """The payments dated from `since` up to `start` (the re-read window's days before
    start_date) with a line paying an invoice the invoices stream loaded: one dated before
    `start` and stamped since it (stamps only move on). Why: the window re-reads every
    payment dated within it for a cancellation, which need not re-stamp the invoice (SAP does
    not document it); early payments dated within it deserve the same. The loaded invoices
    are read once, DocEntry only, when a payment pays an invoice (a page of 1,000 DocEntries
    costs less than looking up each payment's invoices). The window passes start_date
    `payments_reread_days` after it, and this costs nothing from then on."""
    size = PageSize(stream.page_size_for_run(), stream.entity_set)
    scope = f"DocDate ge {literal(since)} and DocDate lt {literal(start)}"
    loaded: set[int] | None = None
    for row in keyset_rows(stream, stream.entity_set, _fields(stream), scope, size):
        lines = [line for line in row.get("PaymentInvoices") or [] if _pays(line, None)]
        if not lines:
            continue
        if loaded is None:
            loaded = _loaded_invoices(stream, start)
        if any(_pays(line, loaded) for line in lines):
            yield row


def _loaded_invoices(stream: SapStream, start: str) -> set[int]:
    """DocEntries of the invoices dated before `start` and stamped since it."""
    scope = f"DocDate lt {literal(start)} and UpdateDate ge {literal(start)}"
    size = PageSize(stream.page_size_for_run(), "Invoices")
    return {int(row["DocEntry"]) for row in keyset_rows(stream, "Invoices", ["DocEntry"], scope,
                                                        size)}


def _pays(line: Any, invoices: set[int] | None) -> bool:
    """Whether a PaymentInvoices line applies money to one of `invoices` (None: to any
    invoice)."""
    if not isinstance(line, dict) or line.get("InvoiceType", "it_Invoice") != "it_Invoice":
        return False
    entry = line.get("DocEntry")
    return entry is not None and (invoices is None or int(entry) in invoices)
