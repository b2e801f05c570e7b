"""CRM search: POST /crm/v3/objects/{type}/search with filter groups, sorts and an `after` cursor.

Limits from HubSpot's search guide: at most 200 results a page, 10,000 a query, 5 filter groups,
6 filters per group and 18 in all. Search scans the type's records (it is not on the upsert path).
With `search_lag` > 0, records created less than that many seconds ago are not found yet (HubSpot's
index lags behind writes).
"""

from __future__ import annotations

import time
from typing import Any

from . import errors
from .catalog import ObjectType
from .store import Portal, Record
from .values import sort_key

Reply = tuple[int, Any]

MAX_PAGE = 200
MAX_RESULTS = 10_000
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}


class SearchApi:
    def __init__(self, portal: Portal, lag: float = 0.0) -> None:
        self.portal = portal
        self.lag = lag

    def search(self, otype: ObjectType, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        limit = int(body.get("limit") or 10)
        if limit < 1 or limit > MAX_PAGE:
            raise errors.validation(f"limit must be between 1 and {MAX_PAGE}",
                                    context={"limit": [str(limit)]})
        try:
            offset = int(body.get("after") or 0)
        except ValueError:
            raise errors.validation("after must be an integer offset") from None
        if offset >= MAX_RESULTS:
            raise errors.validation(
                f"The search API returns at most {MAX_RESULTS} results for a query; narrow the "
                f"filters (after={offset})")
        groups = body.get("filterGroups") or []
        self._check_limits(groups)
        wanted = [p for p in body.get("properties") or [] if isinstance(p, str)]
        with self.portal.lock:
            data = self.portal.types[otype.name]
            defs = data.properties
            cutoff = time.time() - self.lag
            matches = [rec for rid in data.order
                       if (rec := data.records[rid]).created <= cutoff
                       and self._matches(rec, groups, defs, body.get("query"))]
            for sort in reversed(body.get("sorts") or []):
                name, desc = _sort_spec(sort)
                defn = defs.get(name)
                matches.sort(key=lambda r, n=name, d=defn: sort_key(d, r.properties.get(n, "")),
                             reverse=desc)
            page = matches[offset:min(offset + limit, MAX_RESULTS)]
            results = [rec.to_json(self.portal.portal_id, otype.type_id,
                                   self.portal.read_props(otype.name, rec, wanted))
                       for rec in page]
        out: dict[str, Any] = {"total": len(matches), "results": results}
        nxt = offset + limit
        if nxt < len(matches) and nxt < MAX_RESULTS:
            out["paging"] = {"next": {"after": str(nxt)}}
        return 200, out

    @staticmethod
    def _check_limits(groups: list) -> None:
        if len(groups) > MAX_GROUPS:
            raise errors.validation(f"Too many filter groups: at most {MAX_GROUPS}")
        total = 0
        for group in groups:
            filters = group.get("filters") or []
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise errors.validation(f"Too many filters in a group: at most "
                                        f"{MAX_FILTERS_PER_GROUP}")
            total += len(filters)
            for f in filters:
                if f.get("operator") not in OPERATORS:
                    raise errors.validation(f"Unknown filter operator: {f.get('operator')}")
        if total > MAX_FILTERS:
            raise errors.validation(f"Too many filters: at most {MAX_FILTERS} in all groups")

    def _matches(self, rec: Record, groups: list, defs: dict, query: Any) -> bool:
        if query:
            needle = str(query).lower()
            if not any(needle in v.lower() for v in rec.properties.values()):
                return False
        if not groups:
            return True
        return any(all(_test(rec, f, defs) for f in g.get("filters") or []) for g in groups)


def _sort_spec(sort: Any) -> tuple[str, bool]:
    if isinstance(sort, str):
        return sort.lstrip("-"), sort.startswith("-")
    return str(sort.get("propertyName")), str(sort.get("direction", "ASCENDING")).upper() == \
        "DESCENDING"


def _test(rec: Record, flt: dict, defs: dict) -> bool:
    name = flt.get("propertyName", "")
    op = flt.get("operator")
    actual = rec.properties.get(name, "")
    if name == "id":
        actual = str(rec.id)
    if op == "HAS_PROPERTY":
        return actual != ""
    if op == "NOT_HAS_PROPERTY":
        return actual == ""
    defn = defs.get(name)

    def key(v: Any) -> tuple:
        return sort_key(defn, str(v))

    if op in ("IN", "NOT_IN"):
        values = {key(v) for v in flt.get("values") or []}
        inside = actual != "" and key(actual) in values
        return inside if op == "IN" else not inside
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value", "")).lower().strip("*")
        found = token in actual.lower()
        return found if op == "CONTAINS_TOKEN" else not found
    if op == "NEQ":
        return actual == "" or key(actual) != key(flt.get("value", ""))
    if actual == "":
        return False
    a = key(actual)
    if op == "EQ":
        return a == key(flt.get("value", ""))
    if op == "BETWEEN":
        return key(flt.get("value", "")) <= a <= key(flt.get("highValue", ""))
    b = key(flt.get("value", ""))
    return {"LT": a < b, "LTE": a <= b, "GT": a > b, "GTE": a >= b}[op]
