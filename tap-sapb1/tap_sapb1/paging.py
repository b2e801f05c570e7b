"""OData paging against the Service Layer.

- Page size: every request asks `Prefer: odata.maxpagesize=N`. SAP may grant fewer (it then
  answers `Preference-Applied: odata.maxpagesize=M`) or ignore the header (default page of 20,
  no Preference-Applied); in the latter case the following requests add `$top=N`.
- Full-table streams follow `odata.nextLink` (v1) / `@odata.nextLink` (v2), relative to the
  service root; when the server ignored the page size they page with `$top`/`$skip` instead.
- Incremental streams page by keyset (docs/CONTRACTS.md "Incremental reading"); see
  `incremental.IncrementalStream`. The nextLink only says whether more pages exist.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import re
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests
from singer_sdk.pagination import BaseAPIPaginator

from tap_sapb1.errors import SapB1Error, SapDataError

logger = logging.getLogger("tap-sapb1.paging")

_BODIES: weakref.WeakKeyDictionary[requests.Response, dict] = weakref.WeakKeyDictionary()
_APPLIED = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)
SAFE_QUERY_CHARS = "$,'():"


class PageShapeError(SapDataError):
    """A 200 answer whose JSON is not an OData page (retrying would not change it)."""


def odata_body(response: requests.Response) -> dict:
    """The JSON body of a page, parsed once (amounts as Decimal, so no float rounding).

    Raises ValueError for a body that is not JSON (a cut-off answer: retried) and
    PageShapeError for JSON that is not an object.
    """
    body = _BODIES.get(response)
    if body is None:
        parsed = json.loads(response.content or b"{}", parse_float=decimal.Decimal)
        if not isinstance(parsed, dict):
            raise PageShapeError(f"SAP answered {_path(response)} with JSON that is not an "
                                 f"OData page (a {type(parsed).__name__}): is a proxy answering "
                                 "in the Service Layer's place?")
        body = parsed
        _BODIES[response] = body
    return body


def _path(response: requests.Response) -> str:
    """The entity set path of a request (no query: it may be long), for error lines."""
    request = getattr(response, "request", None)
    url = request.url if request is not None else getattr(response, "url", "")
    return str(url or "").split("?", 1)[0].rsplit("/", 1)[-1] or "a request"


def page_records(response: requests.Response) -> list[dict]:
    """The entities of a collection page (`value`): a list of objects, or PageShapeError."""
    value = odata_body(response).get("value")
    if not isinstance(value, list):
        raise PageShapeError(f"SAP answered {_path(response)} with a page whose `value` is "
                             f"{'missing' if value is None else 'not a list'}: the read "
                             "stops rather than miss records; run again, and check any proxy "
                             "between the tap and SAP if it persists")
    for position, row in enumerate(value):
        if not isinstance(row, dict):
            raise PageShapeError(f"SAP answered {_path(response)} with a page whose entry "
                                 f"#{position + 1} is not an object ({type(row).__name__}): "
                                 "the read stops rather than miss records")
    return value


def next_link(response: requests.Response) -> str | None:
    """The next page link of either Service Layer version, or None on the last page."""
    body = odata_body(response)
    link = body.get("@odata.nextLink") or body.get("odata.nextLink")
    return str(link) if link else None


def resolve_link(service_root: str, link: str) -> str:
    """An absolute URL for a nextLink, which SAP gives relative to the service root.

    A link to another scheme, host or port is refused: the session cookie goes with every
    request, so it must never leave the Service Layer the tap logged in to.
    """
    url = urljoin(service_root.rstrip("/") + "/", link)
    root, target = urlsplit(service_root), urlsplit(url)
    if (target.scheme, target.hostname, target.port) != (root.scheme, root.hostname, root.port):
        shown = f"{target.scheme}://{target.hostname}" + (f":{target.port}" if target.port else "")
        raise SapB1Error(f"SAP's nextLink points at {shown}, not at the Service Layer the tap "
                         f"logged in to ({root.scheme}://{root.netloc}): the tap will not send "
                         "the session there; check the Service Layer's or proxy's URL settings")
    return url


def query_string(params: dict[str, Any]) -> str:
    """OData query options encoded with %20 for spaces and `$`, quotes and parens kept."""
    pairs = [(key, value) for key, value in params.items() if value is not None]
    return urlencode(pairs, quote_via=quote, safe=SAFE_QUERY_CHARS)


def literal(value: Any) -> str:
    """An OData literal: strings quoted (quotes doubled), numbers bare."""
    if isinstance(value, bool):
        raise TypeError("booleans are not used in SAP filters")
    if isinstance(value, (int, decimal.Decimal, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class PageSize:
    """The page size asked for and what the server is seen to grant."""

    def __init__(self, requested: int, entity: str) -> None:
        self.requested = requested
        self.entity = entity
        self.granted: int | None = None
        self.use_top = False
        self._observed = False

    def headers(self) -> dict[str, str]:
        """The page-size preference sent with every request."""
        return {"Prefer": f"odata.maxpagesize={self.requested}"}

    def top(self) -> int | None:
        """`$top` to add when the server ignores the preference."""
        return self.requested if self.use_top else None

    def observe(self, response: requests.Response) -> None:
        """After the first page: note a smaller grant, or fall back to `$top` if ignored."""
        if self._observed:
            return
        self._observed = True
        match = _APPLIED.search(response.headers.get("Preference-Applied", ""))
        count = len(page_records(response))
        if match:
            self.granted = int(match.group(1))
            if self.granted < self.requested:
                logger.info("SAP grants pages of %d %s (asked for %d)", self.granted,
                            self.entity, self.requested)
        elif next_link(response) and count < self.requested:
            self.use_top = True
            logger.info("SAP ignored odata.maxpagesize for %s (page of %d); paging with $top=%d",
                        self.entity, count, self.requested)

    def more_after(self, response: requests.Response) -> bool:
        """Whether another page follows this one."""
        if next_link(response):
            return True
        return self.use_top and len(page_records(response)) >= self.requested


_EPOCH_MS = re.compile(r"^/Date\((-?\d+)\)/$")


def sap_date(value: Any) -> str | None:
    """`YYYY-MM-DD` from any form SAP serves a date in (ISO date, ISO date-time, /Date(ms)/)."""
    if value is None or value == "":
        return None
    text = str(value)
    match = _EPOCH_MS.match(text)
    if match:
        try:
            stamp = dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{text} is not a date (out of range)") from None
        return stamp.strftime("%Y-%m-%d")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text[:10]


def sap_time(value: Any) -> str:
    """`HH:MM:SS` from SAP's UpdateTime (`HH:MM:SS`, `HH:MM`, or missing = midnight)."""
    text = "00:00:00" if value is None or value == "" else str(value)
    if "T" in text:  # a date-time form: keep the time part
        text = text.split("T", 1)[1]
    text = text[:8]
    return text + ":00" if len(text) == 5 else text


class StampError(ValueError):
    """A record whose UpdateDate/UpdateTime is missing or not a date and time."""


def stamp_of(record: dict) -> tuple[str, str]:
    """(date `YYYY-MM-DD`, time `HH:MM:SS`) of a record's UpdateDate/UpdateTime.

    A missing UpdateTime counts as midnight; a missing or garbled UpdateDate, or a garbled
    time, raises StampError: such a record cannot be placed in keyset order or bookmarked.
    """
    raw_date, raw_time = record.get("UpdateDate"), record.get("UpdateTime")
    try:
        day = sap_date(raw_date)
        at = sap_time(raw_time)
        if day is None:
            raise ValueError("no UpdateDate")
        dt.date.fromisoformat(day)
        dt.datetime.strptime(at, "%H:%M:%S")
    except (ValueError, TypeError, OverflowError):
        raise StampError(f"UpdateDate {raw_date!r} / UpdateTime {raw_time!r} is not a date and "
                         "time") from None
    return day, at


def lower_bound(day: str, at: str, *, inclusive: bool) -> str:
    """Records at/after (inclusive) or after (exclusive) the second `day at`."""
    op = "ge" if inclusive else "gt"
    return (f"UpdateDate gt {literal(day)} or (UpdateDate eq {literal(day)} and "
            f"UpdateTime {op} {literal(at)})")


MAX_EXCLUDED_KEYS = 40  # beyond this the filter grows long; the superset is read instead


def after_position(day: str, at: str, key: Any, key_field: str,
                   emitted_in_minute: Collection[Any] = ()) -> str:
    """Records after (day, at, key) in keyset order, written for either time precision.

    `UpdateTime ge <at + 1 s> or (UpdateTime ge <at> and key gt <key>)` is the exact keyset on a
    server that compares times to the second. On one that compares them to the minute (SAP's
    manual) it returns the rest of the boundary minute too; naming the keys already emitted in
    that minute (`emitted_in_minute`) keeps those out, so pages hold only new records and a read
    takes ceil(N / page) pages on either server. Never fewer records than the exact keyset.
    """
    same_second = f"UpdateTime ge {literal(at)} and {key_field} gt {literal(key)}"
    following = dt.datetime.strptime(at, "%H:%M:%S") + dt.timedelta(seconds=1)
    if following.day == 1:  # still the same day (strptime's date is 1900-01-01)
        same_day = f"UpdateTime ge {literal(following.strftime('%H:%M:%S'))} or ({same_second})"
    else:
        same_day = same_second
    after = f"UpdateDate gt {literal(day)} or (UpdateDate eq {literal(day)} and ({same_day}))"
    if not emitted_in_minute or len(emitted_in_minute) > MAX_EXCLUDED_KEYS:
        return after
    others = " and ".join(f"{key_field} ne {literal(k)}" for k in sorted(emitted_in_minute))
    not_emitted = (f"UpdateDate ne {literal(day)} or UpdateTime gt {literal(at[:5] + ':59')} "
                   f"or ({others})")
    return f"({after}) and ({not_emitted})"


def upper_bound(day: str, at: str) -> str:
    """Records at or before the second `day at` (the run's start)."""
    return (f"UpdateDate lt {literal(day)} or (UpdateDate eq {literal(day)} and "
            f"UpdateTime le {literal(at)})")


def minute_bucket(day: str, at: str) -> str:
    """Every record stamped within the minute of `day at`."""
    minute = at[:5]
    return (f"UpdateDate eq {literal(day)} and UpdateTime ge {literal(minute + ':00')} and "
            f"UpdateTime le {literal(minute + ':59')}")


TIMED = "UpdateTime ge '00:00:00'"  # every record with a time; NULL never matches a comparison


def null_time_days(first_day: str | None, last_day: str) -> str:
    """Records without an UpdateTime, stamped from `first_day` (or ever) to `last_day`."""
    days = f"UpdateDate le {literal(last_day)}"
    if first_day is not None:
        days = f"UpdateDate ge {literal(first_day)} and {days}"
    return f"UpdateTime eq null and {days}"


def after_day_key(day: str, key: Any, key_field: str) -> str:
    """Records after (day, key): the keyset of a read ordered by UpdateDate then key."""
    return (f"UpdateDate gt {literal(day)} or (UpdateDate eq {literal(day)} and "
            f"{key_field} gt {literal(key)})")


def both(*clauses: str | None) -> str:
    """The clauses joined with `and`, each in parentheses."""
    present = [clause for clause in clauses if clause]
    return present[0] if len(present) == 1 else " and ".join(f"({c})" for c in present)


@dataclass(frozen=True)
class LinkOrSkip:
    """The next page of a full-table read: SAP's nextLink, or a `$skip` offset."""

    url: str | None = None
    skip: int | None = None


class NextLinkPaginator(BaseAPIPaginator[LinkOrSkip | None]):
    """Follows nextLink; switches to `$top`/`$skip` when the server ignores the page size."""

    def __init__(self, service_root: str, page_size: PageSize) -> None:
        super().__init__(None)
        self.service_root = service_root
        self.page_size = page_size
        self._read = 0
        self._pages = 0
        self._last_page: str | None = None

    def has_more(self, response: requests.Response) -> bool:
        """More pages when SAP gives a nextLink (or a full `$top` page came back)."""
        self.page_size.observe(response)
        rows = page_records(response)
        count = len(rows)
        if count == 0:
            self._refuse_announced_empty(response)
        page = json.dumps(rows, sort_keys=True, default=str)
        if count and page == self._last_page:
            self._refuse_repeat("the same page twice in a row")
        self._last_page = page
        self._pages += 1
        self._read += count
        return self.page_size.more_after(response)

    def continue_if_empty(self, response: requests.Response) -> bool:
        """singer-sdk stops at an empty page without asking has_more: an empty first page is an
        empty set; an empty page SAP announced is an error (see `_refuse_announced_empty`)."""
        self._refuse_announced_empty(response)
        return False

    def _refuse_announced_empty(self, response: requests.Response) -> None:
        """An empty page that SAP announced (a nextLink led to it, or it carries one) means the
        set changed under the read or the answer is garbled: an error, never a short stream.
        (After a full `$top` window an empty page is the normal end.)"""
        if next_link(response) or (self._pages > 0 and not self.page_size.use_top):
            raise PageShapeError(f"SAP answered an empty page in the middle of "
                                 f"{self.page_size.entity} (after {self._read} rows): the read "
                                 "stops rather than emit a short set; run again")

    def _refuse_repeat(self, what: str) -> None:
        """A server that repeats itself (ignores $skip, or its nextLink leads back) would be
        read forever: an error instead of a loop or records emitted twice."""
        raise PageShapeError(f"SAP answered {self.page_size.entity} with {what} (after "
                             f"{self._read} rows): it ignores $skip or its nextLink leads back; "
                             "the read stops rather than loop; check any proxy between the tap "
                             "and SAP")

    def get_next(self, response: requests.Response) -> LinkOrSkip | None:
        """The next link, or the offset of the next `$top` window."""
        if self.page_size.use_top:
            return LinkOrSkip(skip=self._read)
        link = next_link(response)
        token = LinkOrSkip(url=resolve_link(self.service_root, link)) if link else None
        if token is not None and token == self.current_value:
            self._refuse_repeat("the same nextLink twice in a row (same page)")
        return token
