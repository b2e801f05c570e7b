"""The sandbox's company database: seven entity sets behind one lock, with a query cache.

Records are replaced, never mutated in place, so a page being serialised on one thread never sees
a half-applied change from another. A query's filtered, sorted result is cached per
(entity set, $filter, $orderby) until the next change, so following nextLink over 100k records
costs one sort, not one per page; any change invalidates the cache, which is what a database
does too (a `$skip` page after a change sees the new order).
"""

from __future__ import annotations

import copy
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sap_sandbox.clock import SandboxClock
from sap_sandbox.datagen import DOC_NUM_BASE, series_of
from sap_sandbox.errors import NO_MATCHING_RECORDS, SapError, query_error
from sap_sandbox.odata_filter import compile_filter
from sap_sandbox.schema import Schema

Record = dict[str, Any]


@dataclass
class EntitySet:
    """One entity set: its key field, records by key (insertion order) and its type's fields."""

    name: str
    key: str
    key_is_text: bool
    type_name: str = ""
    records: dict[Any, Record] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # SAP's properties (+ UDFs) -> type
    next_key: int = 1
    reserved: set[Any] = field(default_factory=set)  # keys of prepared, not yet committed records


# Entity set name -> (key field, key is a string)
ENTITY_KEYS: dict[str, tuple[str, bool]] = {
    "BusinessPartners": ("CardCode", True),
    "Invoices": ("DocEntry", False),
    "CreditNotes": ("DocEntry", False),
    "IncomingPayments": ("DocEntry", False),
    "ChartOfAccounts": ("Code", True),
    "ProfitCenters": ("CenterCode", True),
    "PaymentTermsTypes": ("GroupNumber", False),
}
# Sets whose records SAP stamps with UpdateDate/UpdateTime on every change (SAP's Payment type
# has no such properties: api-facts.md "SAP's metadata").
STAMPED = {"BusinessPartners", "Invoices", "CreditNotes"}
DOCUMENT_SETS = ("Invoices", "CreditNotes", "IncomingPayments")
_CACHE_SIZE = 16


def _sort_key(value: Any) -> tuple[int, Any]:
    # SQL order: NULL first ascending; numbers and strings never compared with each other.
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


class Store:
    """Thread-safe entity sets plus the cached query path the HTTP layer pages over."""

    def __init__(self, data: dict[str, list[Record]], clock: SandboxClock,
                 minute_times: bool = False, schema: Schema | None = None,
                 numbering: str = "single", filter_mode: str = "apply",
                 payment_before_invoice: str = "allow", fc_cash_sum: str = "local",
                 fc_transfer_sum: str = "payment") -> None:
        self.clock = clock
        # business rules of undocumented SAP behaviour (DataSpec), used by postings.py
        self.payment_before_invoice = payment_before_invoice
        self.fc_cash_sum = fc_cash_sum
        self.fc_transfer_sum = fc_transfer_sum
        self.minute_times = minute_times
        self.filter_mode = filter_mode
        self.schema = schema or Schema()
        self.numbering = numbering
        self._lock = threading.RLock()
        self._version = 0
        self._cache: OrderedDict[tuple[Any, ...], list[Record]] = OrderedDict()
        self.sets: dict[str, EntitySet] = {}
        for name, (key, is_text) in ENTITY_KEYS.items():
            es = EntitySet(name, key, is_text, self.schema.type_of(name))
            es.fields = dict(self.schema.fields(name))  # a copy: tests may narrow one set
            for rec in data.get(name, []):
                es.records[rec[key]] = rec
            if es.records and not is_text:
                es.next_key = max(es.records) + 1
            self.sets[name] = es

    @property
    def lock(self) -> Any:
        """Held across a multi-record change (postings.py) so no reader sees half of it."""
        return self._lock

    def next_key(self, name: str) -> int:
        return self.entity_set(name).next_key

    # -- lookup -------------------------------------------------------------------------------
    def entity_set(self, name: str) -> EntitySet:
        es = self.sets.get(name)
        if es is None:
            raise KeyError(name)
        return es

    def parse_key(self, name: str, raw: str) -> Any:
        """The key from a URL segment: `'C00001'` for text keys, `123` for numeric ones."""
        es = self.entity_set(name)
        raw = raw.strip()
        if es.key_is_text:
            if len(raw) >= 2 and raw[0] == raw[-1] == "'":
                return raw[1:-1].replace("''", "'")
            raise query_error(f"Invalid key value {raw} for '{name}': a quoted string is expected")
        try:
            return int(raw)
        except ValueError:
            raise query_error(f"Invalid key value {raw} for '{name}': a number is expected"
                              ) from None

    def get(self, name: str, key: Any) -> Record:
        """A deep copy of one record (callers may keep or change it freely)."""
        with self._lock:
            rec = self.entity_set(name).records.get(key)
            if rec is None:
                raise SapError.of(NO_MATCHING_RECORDS)
            return copy.deepcopy(rec)

    def peek(self, name: str, key: Any) -> Record:
        """The stored record itself, read-only, for serialising without a copy."""
        with self._lock:
            rec = self.entity_set(name).records.get(key)
        if rec is None:
            raise SapError.of(NO_MATCHING_RECORDS)
        return rec

    def all(self, name: str) -> list[Record]:
        """Deep copies of every record of a set, in key order."""
        with self._lock:
            return copy.deepcopy(list(self.entity_set(name).records.values()))

    # -- changes ------------------------------------------------------------------------------
    def _stamp(self, name: str, rec: Record, given: Record, keep_given: bool) -> None:
        if name not in STAMPED:
            return
        date, time = self.clock.stamp()
        if not (keep_given and "UpdateDate" in given):
            rec["UpdateDate"] = date
        if not (keep_given and "UpdateTime" in given):
            rec["UpdateTime"] = time

    def create(self, name: str, values: Record, keep_given_stamp: bool = True) -> Record:
        """Add a record (next DocEntry if no key given), stamped with the SAP clock.

        `keep_given_stamp`: an UpdateDate/UpdateTime in `values` wins (tests building boundary
        cases); the HTTP layer passes False, as SAP ignores client-sent stamps.
        """
        with self._lock:
            rec = self.prepare_create(name, values, keep_given_stamp)
            self.put(name, rec)
            return copy.deepcopy(rec)

    def put(self, name: str, rec: Record) -> None:
        """Store a record prepared earlier (key and stamps already set) as it is."""
        with self._lock:
            es = self.entity_set(name)
            es.records[rec[es.key]] = rec
            es.reserved.discard(rec[es.key])
            self._changed()

    def prepare_create(self, name: str, values: Record, keep_given_stamp: bool = True) -> Record:
        """The record `create` would add, its key reserved, stamped now; not yet visible."""
        with self._lock:
            es = self.entity_set(name)
            rec = copy.deepcopy(values)
            if es.key not in rec or rec[es.key] is None:
                if es.key_is_text:
                    raise ValueError(f"{name} needs its key {es.key}")
                rec[es.key] = es.next_key
            key = rec[es.key]
            if key in es.records or key in es.reserved:
                raise ValueError(f"{name}({key!r}) already exists")
            self._check_properties(es, rec)
            if not es.key_is_text:
                es.next_key = max(es.next_key, key + 1)
            if name in DOCUMENT_SETS:
                self._number(es, rec)
            if name in STAMPED:
                day, _ = self.clock.stamp()
                rec.setdefault("CreationDate" if name != "BusinessPartners" else "CreateDate", day)
            self._stamp(name, rec, values, keep_given_stamp)
            for udf in self.schema.udfs.get(es.type_name, {}):
                rec.setdefault(udf, None)
            es.reserved.add(key)
            return rec

    def _check_properties(self, es: EntitySet, rec: Record) -> None:
        """SAP refuses a property its type lacks (a UDF the company never created included)."""
        bad = self.schema.unknown_properties(es.type_name, rec)
        if bad:
            raise SapError(400, -1000, f"Property '{bad[0]}' of '{es.name}' is invalid")

    def _number(self, es: EntitySet, rec: Record) -> None:
        """Series (if not given) and the next DocNum of that series, as SAP numbers a document."""
        if rec.get("Series") is None:
            foreign = rec.get("DocCurrency") not in (None, "USD")
            rec["Series"] = series_of(es.name, rec.get("DocDate"), foreign, self.numbering)
        if rec.get("DocNum") is None:
            used = [r.get("DocNum") or 0 for r in es.records.values()
                    if r.get("Series") == rec["Series"]]
            start = DOC_NUM_BASE[es.name] if self.numbering == "single" else 0
            rec["DocNum"] = max(used, default=start) + 1

    def update(self, name: str, key: Any, values: Record, keep_given_stamp: bool = True) -> Record:
        """Change fields of a record (a new dict replaces the old), stamped with the SAP clock."""
        with self._lock:
            rec = self.prepare_update(name, key, values, keep_given_stamp)
            self.put(name, rec)
            return copy.deepcopy(rec)

    def prepare_update(self, name: str, key: Any, values: Record,
                       keep_given_stamp: bool = True) -> Record:
        """The record `update` would store, stamped now; not yet visible."""
        with self._lock:
            es = self.entity_set(name)
            old = es.records.get(key)
            if old is None:
                raise SapError.of(NO_MATCHING_RECORDS)
            rec = dict(old)
            rec.update(copy.deepcopy(values))
            rec[es.key] = key
            self._check_properties(es, rec)
            self._stamp(name, rec, values, keep_given_stamp)
            return rec

    def delete(self, name: str, key: Any) -> None:
        with self._lock:
            if self.entity_set(name).records.pop(key, None) is None:
                raise SapError.of(NO_MATCHING_RECORDS)
            self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()

    # -- queries ------------------------------------------------------------------------------
    def query(self, name: str, filter_text: str | None, orderby: str | None) -> list[Record]:
        """Records matching $filter in $orderby order (then by key); cached until a change."""
        with self._lock:
            es = self.entity_set(name)
            cache_key = (name, filter_text or "", orderby or "")
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
            fields = set(es.fields) | {es.key}
            records = list(es.records.values())
            version = self._version
        # Filter and sort outside the lock: records are never mutated in place.
        if filter_text:
            pred = compile_filter(filter_text, fields, name, self.minute_times,
                                  ignore_times=self.filter_mode == "ignore-time")
            if self.filter_mode != "ignore-all":  # parsed (a bad one is still a 400), unused
                records = [r for r in records if pred(r)]
        # One stable sort per run of same-direction keys, last run first (then by key order).
        for names, descending in reversed(_direction_runs(parse_orderby(orderby, fields, name))):
            getter = operator.itemgetter(*names)
            try:  # fast path: no NULLs, one type per field (a failed try leaves `records` as is)
                records = sorted(records, key=getter, reverse=descending)
            except (TypeError, KeyError):
                records = sorted(records, key=_fields_key(names), reverse=descending)
        with self._lock:
            if self._version == version:
                self._cache[cache_key] = records
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return records


def _fields_key(names: list[str]) -> Callable[[Record], Any]:
    if len(names) == 1:
        only = names[0]
        return lambda r: _sort_key(r.get(only))
    return lambda r: tuple(_sort_key(r.get(n)) for n in names)


def _direction_runs(keys: list[tuple[str, bool]]) -> list[tuple[list[str], bool]]:
    runs: list[tuple[list[str], bool]] = []
    for name, descending in keys:
        if runs and runs[-1][1] == descending:
            runs[-1][0].append(name)
        else:
            runs.append(([name], descending))
    return runs


def parse_orderby(text: str | None, fields: set[str], entity: str) -> list[tuple[str, bool]]:
    """`A,B desc, C asc` -> [(A, False), (B, True), (C, False)]; unknown fields are an error."""
    if not text or not text.strip():
        return []
    out: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        bad_direction = len(words) == 2 and words[1].lower() not in ("asc", "desc")
        if not words or len(words) > 2 or bad_direction:
            raise query_error(f"Syntax error in $orderby: '{part.strip()}'")
        if words[0] not in fields:
            raise SapError(400, -1000, f"Property '{words[0]}' of '{entity}' is invalid")
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return out
