"""OData paging against the Service Layer.

- Page size: every request asks `Prefer: odata.maxpagesize=N`. SAP may grant fewer (it then
  answers `Preference-Applied: odata.maxpagesize=M`) or ignore the header (default page of 20,
  no Preference-Applied); in the latter case the following requests add `$top=N`.
- Full-table streams follow `odata.nextLink` (v1) / `@odata.nextLink` (v2), relative to the
  service root; when the server ignored the page size they page with `$top`/`$skip` instead.
- Incremental streams page by keyset (docs/CONTRACTS.md "Incremental reading"); see
  `client.IncrementalStream`. The nextLink only says whether more pages exist.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import re
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests
from singer_sdk.pagination import BaseAPIPaginator

logger = logging.getLogger("tap-sapb1.paging")

_BODIES: weakref.WeakKeyDictionary[requests.Response, dict] = weakref.WeakKeyDictionary()
_APPLIED = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)
SAFE_QUERY_CHARS = "$,'():"


def odata_body(response: requests.Response) -> dict:
    """The JSON body of a page, parsed once (amounts as Decimal, so no float rounding)."""
    body = _BODIES.get(response)
    if body is None:
        parsed = json.loads(response.content or b"{}", parse_float=decimal.Decimal)
        body = parsed if isinstance(parsed, dict) else {"value": parsed}
        _BODIES[response] = body
    return body


def page_records(response: requests.Response) -> list[dict]:
    """The entities of a collection page (`value`)."""
    value = odata_body(response).get("value")
    return value if isinstance(value, list) else []


def next_link(response: requests.Response) -> str | None:
    """The next page link of either Service Layer version, or None on the last page."""
    body = odata_body(response)
    link = body.get("@odata.nextLink") or body.get("odata.nextLink")
    return str(link) if link else None


def resolve_link(service_root: str, link: str) -> str:
    """An absolute URL for a nextLink, which SAP gives relative to the service root."""
    return urljoin(service_root.rstrip("/") + "/", link)


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
        stamp = dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)
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


def after_position(day: str, at: str, key: Any, key_field: str) -> str:
    """Records after (day, at, key) in keyset order, written for either time precision.

    `UpdateTime ge <at + 1 s> or (UpdateTime ge <at> and key gt <key>)` is the exact keyset on a
    server that compares times to the second. On one that compares them to the minute (SAP
    documents this for some releases) it returns a superset: the rest of the boundary minute
    comes back too, and the caller skips what it already emitted. Never fewer records.
    """
    same_second = f"UpdateTime ge {literal(at)} and {key_field} gt {literal(key)}"
    following = dt.datetime.strptime(at, "%H:%M:%S") + dt.timedelta(seconds=1)
    if following.day == 1:  # still the same day (strptime's date is 1900-01-01)
        same_day = f"UpdateTime ge {literal(following.strftime('%H:%M:%S'))} or ({same_second})"
    else:
        same_day = same_second
    return f"UpdateDate gt {literal(day)} or (UpdateDate eq {literal(day)} and ({same_day}))"


def upper_bound(day: str, at: str) -> str:
    """Records at or before the second `day at` (the run's start)."""
    return (f"UpdateDate lt {literal(day)} or (UpdateDate eq {literal(day)} and "
            f"UpdateTime le {literal(at)})")


def minute_bucket(day: str, at: str) -> str:
    """Every record stamped within the minute of `day at`."""
    minute = at[:5]
    return (f"UpdateDate eq {literal(day)} and UpdateTime ge {literal(minute + ':00')} and "
            f"UpdateTime le {literal(minute + ':59')}")


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

    def has_more(self, response: requests.Response) -> bool:
        """More pages when SAP gives a nextLink (or a full `$top` page came back)."""
        self.page_size.observe(response)
        self._read += len(page_records(response))
        return self.page_size.more_after(response)

    def get_next(self, response: requests.Response) -> LinkOrSkip | None:
        """The next link, or the offset of the next `$top` window."""
        if self.page_size.use_top:
            return LinkOrSkip(skip=self._read)
        link = next_link(response)
        return LinkOrSkip(url=resolve_link(self.service_root, link)) if link else None
