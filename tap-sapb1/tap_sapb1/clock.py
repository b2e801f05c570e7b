"""SAP's clock as the tap sees it, to tell a stamp in the future from a normal one.

SAP writes UpdateDate/UpdateTime in its server's local time without a zone; every answer's HTTP
`Date` header is the same clock in GMT (RFC 9110). With `server_timezone` set, the header is read
as SAP local time. Without it SAP's local time is anywhere from 12 h behind GMT to 14 h ahead:
only stamps past the latest (plus the tolerance) are reported as in the future, and the bookmark
stays at the earliest, since a stamp up to 26 h ahead of that may already be in the future (a
bookmark there would skip every normal change stamped before it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from tap_sapb1.settings import (
    WESTMOST_UTC_OFFSET,
    WIDEST_UTC_OFFSET,
    clock_tolerance,
    server_zone,
)


def header_time(response: requests.Response) -> dt.datetime | None:
    """The answer's `Date` header as an aware UTC time, or None if missing or garbled."""
    text = response.headers.get("Date")
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime forms are GMT too
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def future_bound(response: requests.Response, config: Mapping[str, Any], *,
                 surely: bool = True) -> tuple[str, str] | None:
    """The latest (UpdateDate, UpdateTime) that is not in the future on SAP's clock, or None
    when the answer has no usable `Date` header (then no stamp is treated as in the future).

    Zone unknown: with `surely` the latest SAP now could be (stamps past it are reported),
    else the earliest (how far a bookmark may go)."""
    when = header_time(response)
    if when is None:
        return None
    zone = server_zone(config)
    offset = WIDEST_UTC_OFFSET if surely else WESTMOST_UTC_OFFSET
    local = (when.astimezone(zone).replace(tzinfo=None) if zone is not None
             else when.replace(tzinfo=None) + offset)
    bound = local + clock_tolerance(config)
    return bound.strftime("%Y-%m-%d"), bound.strftime("%H:%M:%S")
