"""Server-driven paging: page size from Prefer / B1S-PageSize, $top/$skip, and the nextLink."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from sap_sandbox.errors import query_error

DEFAULT_PAGE_SIZE = 20
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class PageSize:
    size: int
    applied: bool  # True when a client preference was honoured (answer Preference-Applied)


def page_size(prefer: str | None, b1s_page_size: str | None, honour: bool, cap: int) -> PageSize:
    """The page size for this request: the client's ask (capped at `cap` if > 0) or 20."""
    if not honour:
        return PageSize(DEFAULT_PAGE_SIZE, False)
    asked: int | None = None
    if prefer:
        m = _MAXPAGESIZE.search(prefer)
        if m:
            asked = int(m.group(1))
    if asked is None and b1s_page_size and b1s_page_size.strip().isdigit():
        asked = int(b1s_page_size.strip())
    if not asked:
        return PageSize(DEFAULT_PAGE_SIZE, False)
    return PageSize(min(asked, cap) if cap > 0 else asked, True)


def int_option(query: dict[str, str], name: str) -> int | None:
    """A non-negative integer query option ($top, $skip), or a 400 in SAP's shape."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise query_error(f"Invalid value '{raw}' for {name}") from None
    if value < 0:
        raise query_error(f"Invalid value '{raw}' for {name}")
    return value


def next_link(entity_set: str, query: dict[str, str], skip: int, top: int | None) -> str:
    """`Invoices?$filter=...&$skip=40`: the request's own options with the next $skip.

    Relative to the service root, values left readable as SAP writes them; only the characters
    that would break the query string (% & # +) are escaped.
    """
    parts = [f"{name}={quote(value, safe=chr(32) + chr(39) + '(),/:$=<>*!@;-._~')}"
             for name, value in query.items() if name not in ("$skip", "$top")]
    if top is not None:
        parts.append(f"$top={top}")
    parts.append(f"$skip={skip}")
    return f"{entity_set}?{'&'.join(parts)}"
