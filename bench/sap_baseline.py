"""A plain `requests` loop over the same Service Layer pages the tap asked for.

It is the yardstick for the tap's records/s: log in, replay the first request the tap made for
each entity set (same $select/$filter/$orderby and page size), follow nextLink, parse the JSON,
count records. Anything the tap does beyond that (schemas, typing, Singer serialisation, state)
shows up as the gap between the two figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

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


def first_requests(sap_requests: list, entities: list[str]) -> dict[str, object]:
    """The tap's first successful GET for each entity set (the start of its paging)."""
    found: dict[str, object] = {}
    for req in sap_requests:
        if req.method != "GET" or req.status != 200:
            continue
        entity = req.path.rstrip("/").rsplit("/", 1)[-1]
        if entity in entities and entity not in found and "$skiptoken" not in (req.query or {}):
            found[entity] = req
    return found


def replay(base_url: str, firsts: dict[str, object], page_size: int,
           timeout: float = 60.0) -> BaselineResult:
    """Read every entity set the way the tap started it, following nextLink to the end."""
    session = requests.Session()
    login = session.post(f"{base_url}/Login", json={"CompanyDB": SAP_COMPANY, "UserName": SAP_USER,
                                                   "Password": SAP_PASSWORD}, timeout=timeout)
    login.raise_for_status()
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    records = pages = 0
    started = time.perf_counter()
    for entity, req in firsts.items():
        query = {k: (v[0] if isinstance(v, list) else v) for k, v in (req.query or {}).items()}
        url = f"{base_url}/{entity}?{urlencode(query)}" if query else f"{base_url}/{entity}"
        while url:
            response = session.get(url, headers=headers, timeout=timeout)
            response.raise_for_status()
            body = response.json()
            pages += 1
            records += len(body.get("value", []))
            link = body.get("odata.nextLink") or body.get("@odata.nextLink")
            url = f"{base_url}/{link.lstrip('/')}" if link else None
    seconds = time.perf_counter() - started
    session.post(f"{base_url}/Logout", timeout=timeout)
    return BaselineResult(records=records, pages=pages, seconds=seconds)
