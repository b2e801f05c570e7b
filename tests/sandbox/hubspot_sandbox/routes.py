"""Path routing: HubSpot's v3/v4 paths and the date-versioned `/crm/objects/2026-03/...` forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import catalog, errors, scopes
from .associations_api import AssociationsApi
from .catalog import ObjectType
from .objects_api import ObjectsApi
from .properties_api import PropertiesApi
from .search_api import SearchApi
from .store import Portal

Reply = tuple[int, Any]

_VERSIONED = [
    (re.compile(r"^/crm/objects/\d{4}-\d{2}/([^/]+)/([^/]+)/associations(/.*)?$"),
     r"/crm/v4/objects/\1/\2/associations\3"),
    (re.compile(r"^/crm/objects/\d{4}-\d{2}/"), "/crm/v3/objects/"),
    (re.compile(r"^/crm/properties/\d{4}-\d{2}/"), "/crm/v3/properties/"),
    (re.compile(r"^/crm/associations/\d{4}-\d{2}/"), "/crm/v4/associations/"),
]


def canonical(path: str) -> str:
    """Rewrite a date-versioned path to the v3/v4 path with the same meaning."""
    path = path.rstrip("/") or "/"
    for pattern, repl in _VERSIONED:
        if pattern.match(path):
            return pattern.sub(repl, path, count=1)
    return path


@dataclass
class Call:
    """One parsed request, handed to a route."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


Handler = Callable[[Call, re.Match[str]], Reply]


class Router:
    """Maps (method, canonical path) to an API handler, checking the token's scopes first."""

    def __init__(self, portal: Portal, granted: set[str] | None, search_lag: float = 0.0) -> None:
        self.portal = portal
        self.granted = granted
        self.objects = ObjectsApi(portal)
        self.props = PropertiesApi(portal)
        self.assocs = AssociationsApi(portal)
        self.searcher = SearchApi(portal, search_lag)
        o = r"/crm/v3/objects/(?P<t>[^/]+)"
        p = r"/crm/v3/properties/(?P<t>[^/]+)"
        a = r"/crm/v4/associations/(?P<f>[^/]+)/(?P<t>[^/]+)"
        v4o = r"/crm/v4/objects/(?P<f>[^/]+)/(?P<fid>[^/]+)/associations"
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(o + r"/search"), self._search),
            ("POST", re.compile(o + r"/batch/(?P<op>create|read|update|upsert|archive)"),
             self._batch),
            ("GET", re.compile(o), self._list),
            ("POST", re.compile(o), self._create),
            ("GET", re.compile(o + r"/(?P<id>[^/]+)"), self._read),
            ("PATCH", re.compile(o + r"/(?P<id>[^/]+)"), self._update),
            ("DELETE", re.compile(o + r"/(?P<id>[^/]+)"), self._archive),
            ("GET", re.compile(p + r"/groups"), self._groups),
            ("POST", re.compile(p + r"/groups"), self._create_group),
            ("GET", re.compile(p + r"/groups/(?P<name>[^/]+)"), self._group),
            ("POST", re.compile(p + r"/batch/(?P<op>create|read)"), self._prop_batch),
            ("GET", re.compile(p), self._props),
            ("POST", re.compile(p), self._create_prop),
            ("GET", re.compile(p + r"/(?P<name>[^/]+)"), self._prop),
            ("PATCH", re.compile(p + r"/(?P<name>[^/]+)"), self._update_prop),
            ("DELETE", re.compile(p + r"/(?P<name>[^/]+)"), self._archive_prop),
            ("PUT", re.compile(v4o + r"/default/(?P<t>[^/]+)/(?P<tid>[^/]+)"), self._put_default),
            ("PUT", re.compile(v4o + r"/(?P<t>[^/]+)/(?P<tid>[^/]+)"), self._put_typed),
            ("DELETE", re.compile(v4o + r"/(?P<t>[^/]+)/(?P<tid>[^/]+)"), self._delete_assoc),
            ("GET", re.compile(v4o + r"/(?P<t>[^/]+)"), self._list_assoc),
            ("POST", re.compile(a + r"/batch/associate/default"), self._batch_default),
            ("POST", re.compile(a + r"/batch/(?P<op>create|read|archive)"), self._batch_assoc),
            ("GET", re.compile(a + r"/labels"), self._labels),
            ("GET", re.compile(r"/account-info/(v3|\d{4}-\d{2})/details"), self._account),
            ("POST", re.compile(r"/oauth/v2/private-apps/get/access-token-info"),
             self._token_info),
            ("GET", re.compile(r"/settings/(?:v3/currencies|currencies/\d{4}-\d{2})"
                               r"/company-currency"), self._company_currency),
            ("GET", re.compile(r"/settings/(?:v3/currencies|currencies/\d{4}-\d{2})"
                               r"/exchange-rates(?:/current)?"), self._exchange_rates),
        ]

    def is_search(self, method: str, path: str) -> bool:
        return method == "POST" and canonical(path).endswith("/search")

    def handle(self, call: Call) -> Reply:
        path = canonical(call.path)
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if method == call.method:
                return handler(call, match)
        if allowed:
            raise errors.ApiError(405, f"Method {call.method} is not allowed on {call.path}")
        raise errors.not_found(f"No API route for {call.method} {call.path}")

    # ---- helpers ------------------------------------------------------------------------------
    def _type(self, raw: str) -> ObjectType:
        return self.portal.object_type(raw)

    def _need(self, needed: list[str]) -> None:
        if scopes.missing(self.granted, needed):
            raise errors.missing_scopes(needed)

    def _obj(self, m: re.Match[str], write: bool, key: str = "t") -> ObjectType:
        otype = self._type(m.group(key))
        self._need(scopes.object_scopes(otype, write))
        return otype

    # ---- account (the target's connectivity check) ---------------------------------------------
    def _account(self, c: Call, m: re.Match[str]) -> Reply:
        """GET /account-info/v3/details (developers.hubspot.com, "Retrieve account details")."""
        return 200, {"portalId": self.portal.portal_id, "accountType": "STANDARD",
                     "timeZone": "US/Eastern", "companyCurrency": self.portal.company_currency,
                     "additionalCurrencies": list(self.portal.currencies[1:]),
                     "utcOffset": "-05:00",
                     "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com",
                     "dataHostingLocation": "na1"}

    # ---- account currencies (settings API, scope settings.currencies.read) ---------------------
    def _company_currency(self, c: Call, m: re.Match[str]) -> Reply:
        """GET .../company-currency: `{createdAt, id}`, id = the code (api-reference
        account/settings/multicurrency/get-company-currency)."""
        self._need(["settings.currencies.read"])
        return 200, {"createdAt": "2024-01-02T03:04:05Z", "id": self.portal.company_currency}

    def _exchange_rates(self, c: Call, m: re.Match[str]) -> Reply:
        """GET .../exchange-rates[/current]: one rate per additional currency to the company
        currency (fields as in get-current-exchange-rates); rate values are the sandbox's."""
        self._need(["settings.currencies.read"])
        home = self.portal.company_currency
        return 200, {"results": [
            {"id": str(i + 1), "fromCurrencyCode": code, "toCurrencyCode": home,
             "conversionRate": 1.0, "effectiveAt": "2024-01-02T03:04:05Z", "visibleInUI": True,
             "createdAt": "2024-01-02T03:04:05Z", "updatedAt": "2024-01-02T03:04:05Z"}
            for i, code in enumerate(self.portal.currencies[1:])]}

    def _token_info(self, c: Call, m: re.Match[str]) -> Reply:
        """POST /oauth/v2/private-apps/get/access-token-info: the token's scopes, no scope needed
        (developers.hubspot.com "Private apps"). An unrestricted sandbox token lists every scope."""
        if self.granted is not None:
            granted = sorted(self.granted)
        else:
            granted = sorted({f"crm.{kind}.{t.scope}.{rw}" for t in catalog.OBJECT_TYPES.values()
                              for kind in ("objects", "schemas") for rw in ("read", "write")}
                             | {"e-commerce", "oauth", "settings.currencies.read"})
        return 200, {"userId": 1, "hubId": self.portal.portal_id, "appId": 1, "scopes": granted}

    # ---- objects ------------------------------------------------------------------------------
    def _search(self, c: Call, m: re.Match[str]) -> Reply:
        return self.searcher.search(self._obj(m, False), c.body)

    def _batch(self, c: Call, m: re.Match[str]) -> Reply:
        op = m.group("op")
        otype = self._obj(m, op != "read")
        if op == "read":
            return self.objects.batch_read(otype, c.body, c.query)
        return {"create": self.objects.batch_create, "update": self.objects.batch_update,
                "upsert": self.objects.batch_upsert,
                "archive": self.objects.batch_archive}[op](otype, c.body)

    def _list(self, c: Call, m: re.Match[str]) -> Reply:
        return self.objects.list(self._obj(m, False), c.query)

    def _create(self, c: Call, m: re.Match[str]) -> Reply:
        return self.objects.create(self._obj(m, True), c.body)

    def _read(self, c: Call, m: re.Match[str]) -> Reply:
        return self.objects.read(self._obj(m, False), m.group("id"), c.query)

    def _update(self, c: Call, m: re.Match[str]) -> Reply:
        return self.objects.update(self._obj(m, True), m.group("id"), c.body, c.query)

    def _archive(self, c: Call, m: re.Match[str]) -> Reply:
        return self.objects.archive(self._obj(m, True), m.group("id"))

    # ---- properties ---------------------------------------------------------------------------
    def _schema(self, m: re.Match[str], write: bool) -> ObjectType:
        otype = self._type(m.group("t"))
        self._need(scopes.schema_scopes(otype, write))
        return otype

    def _groups(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.list_groups(self._schema(m, False))

    def _create_group(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.create_group(self._schema(m, True), c.body)

    def _group(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.get_group(self._schema(m, False), m.group("name"))

    def _prop_batch(self, c: Call, m: re.Match[str]) -> Reply:
        if m.group("op") == "create":
            return self.props.batch_create(self._schema(m, True), c.body)
        return self.props.batch_read(self._schema(m, False), c.body)

    def _props(self, c: Call, m: re.Match[str]) -> Reply:
        archived = (c.query.get("archived") or ["false"])[0].lower() == "true"
        return self.props.list(self._schema(m, False), archived)

    def _create_prop(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.create(self._schema(m, True), c.body)

    def _prop(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.get(self._schema(m, False), m.group("name"))

    def _update_prop(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.update(self._schema(m, True), m.group("name"), c.body)

    def _archive_prop(self, c: Call, m: re.Match[str]) -> Reply:
        return self.props.archive(self._schema(m, True), m.group("name"))

    # ---- associations -------------------------------------------------------------------------
    def _pair(self, m: re.Match[str], write: bool) -> tuple[ObjectType, ObjectType]:
        return self._obj(m, write, "f"), self._obj(m, write, "t")

    def _put_default(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, True)
        return self.assocs.put_default(f, m.group("fid"), t, m.group("tid"))

    def _put_typed(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, True)
        return self.assocs.put_typed(f, m.group("fid"), t, m.group("tid"), c.body)

    def _delete_assoc(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, True)
        return self.assocs.delete(f, m.group("fid"), t, m.group("tid"))

    def _list_assoc(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, False)
        return self.assocs.list(f, m.group("fid"), t)

    def _batch_default(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, True)
        return self.assocs.batch_default(f, t, c.body)

    def _batch_assoc(self, c: Call, m: re.Match[str]) -> Reply:
        op = m.group("op")
        f, t = self._pair(m, op != "read")
        return {"create": self.assocs.batch_create, "read": self.assocs.batch_read,
                "archive": self.assocs.batch_archive}[op](f, t, c.body)

    def _labels(self, c: Call, m: re.Match[str]) -> Reply:
        f, t = self._pair(m, False)
        return self.assocs.labels(f, t)
