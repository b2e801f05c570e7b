"""A plain `requests` loop over the same Service Layer pages the tap asked for.

It is the yardstick for the tap's records/s: log in, send exactly the GETs the tap sent (same
path, `$select`, `$filter`, `$orderby`, page size; the run-start probe included), parse the JSON,
count records. The server does the same work for both, so the gap between the two figures is
what the tap adds (schemas, typing, Singer serialisation, state), not the sandbox's query cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import requests

from bench.world import SAP_COMPANY, SAP_PASSWORD, SAP_USER


@dataclass
class BaselineResult:
    """Records read, pages fetched and seconds spent by the plain loop."""

    records: int
    pages: int
    seconds: float

    @property
    def records_per_s(self) -> float:
        """Throughput of the loop."""
        return self.records / self.seconds if self.seconds else 0.0


def tap_gets(sap_requests: list) -> list[tuple[str, dict]]:
    """(path, query) of every successful GET in a slice of the SAP sandbox's log."""
    return [(r.path, dict(r.query or {})) for r in sap_requests
            if r.method == "GET" and r.status == 200]


def replay(base_url: str, gets: list[tuple[str, dict]], page_size: int,
           timeout: float = 120.0) -> BaselineResult:
    """Send the same GETs with one logged-in `requests.Session`; count the entities returned."""
    origin = base_url.split("/b1s/", 1)[0]
    session = requests.Session()
    login = session.post(f"{base_url}/Login", json={"CompanyDB": SAP_COMPANY, "UserName": SAP_USER,
                                                   "Password": SAP_PASSWORD}, timeout=timeout)
    login.raise_for_status()
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    records = 0
    started = time.perf_counter()
    for path, query in gets:
        url = f"{origin}{path}"
        if query:
            url += "?" + urlencode(query, quote_via=quote, safe="$,'():")
        response = session.get(url, headers=headers, timeout=timeout)
        response.raise_for_status()
        if "json" not in response.headers.get("Content-Type", ""):
            continue  # the tap's `$metadata` read (CSDL XML): fetched, no entities to count
        records += len(response.json().get("value", []))
    seconds = time.perf_counter() - started
    session.post(f"{base_url}/Logout", timeout=timeout)
    return BaselineResult(records=records, pages=len(gets), seconds=seconds)
