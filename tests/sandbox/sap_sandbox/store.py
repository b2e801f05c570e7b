"""The sandbox's company database: seven entity sets behind one lock, with a query cache.

Records are replaced, never mutated in place, so a page being serialised on one thread never sees
a half-applied change from another. A query's filtered, sorted result is cached per
(entity set, $filter, $orderby) until the next change, so following nextLink over 100k records
costs one sort, not one per page; any change invalidates the cache, which is what a database
does too (a `$skip` page after a change sees the new order).
"""

from __future__ import annotations

import copy
import functools
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sap_sandbox.clock import SandboxClock
from sap_sandbox.datagen import DataSpec, generate
from sap_sandbox.errors import NO_MATCHING_RECORDS, SapError, query_error
from sap_sandbox.odata_filter import compile_filter

Record = dict[str, Any]


@dataclass
class EntitySet:
    """One entity set: its key field and records by key, in insertion (key) order."""

    name: str
    key: str
    key_is_text: bool
    records: dict[Any, Record] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)
    next_key: int = 1


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
# Sets whose records SAP stamps with UpdateDate/UpdateTime on every change.
STAMPED = {"BusinessPartners", "Invoices", "CreditNotes", "IncomingPayments"}
_CACHE_SIZE = 16


@functools.cache
def known_fields(name: str) -> frozenset[str]:
    """Every field of an entity set, even when it holds no record (an empty CreditNotes still
    answers `$filter=UpdateDate ...`): the fields of a one-of-each generated sample."""
    sample = generate(DataSpec(seed=0, customers=1, suppliers=0, leads=0, invoices=1,
                               credit_notes=1, payments=1, lines_per_invoice=(1, 1)))
    records = sample.get(name) or [{}]
    return frozenset(records[0])


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
                 minute_times: bool = False) -> None:
        self.clock = clock
        self.minute_times = minute_times
        self._lock = threading.RLock()
        self._version = 0
        self._cache: OrderedDict[tuple[Any, ...], list[Record]] = OrderedDict()
        self.sets: dict[str, EntitySet] = {}
        for name, (key, is_text) in ENTITY_KEYS.items():
            es = EntitySet(name, key, is_text)
            for rec in data.get(name, []):
                es.records[rec[key]] = rec
            es.fields = set(known_fields(name))
            if es.records:
                es.fields |= set(next(iter(es.records.values())))
                if not is_text:
                    es.next_key = max(es.records) + 1
            self.sets[name] = es

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
            es = self.entity_set(name)
            rec = copy.deepcopy(values)
            if es.key not in rec or rec[es.key] is None:
                if es.key_is_text:
                    raise ValueError(f"{name} needs its key {es.key}")
                rec[es.key] = es.next_key
            key = rec[es.key]
            if key in es.records:
                raise ValueError(f"{name}({key!r}) already exists")
            if not es.key_is_text:
                es.next_key = max(es.next_key, key + 1)
            if name in ("Invoices", "CreditNotes", "IncomingPayments"):
                offset = {"Invoices": 4000, "CreditNotes": 7000}.get(name, 9000)
                rec.setdefault("DocNum", key + offset)
            if name in STAMPED:
                day, _ = self.clock.stamp()
                rec.setdefault("CreationDate" if name != "BusinessPartners" else "CreateDate", day)
            self._stamp(name, rec, values, keep_given_stamp)
            es.records[key] = rec
            es.fields.update(rec)
            self._changed()
            return copy.deepcopy(rec)

    def update(self, name: str, key: Any, values: Record, keep_given_stamp: bool = True) -> Record:
        """Change fields of a record (a new dict replaces the old), stamped with the SAP clock."""
        with self._lock:
            es = self.entity_set(name)
            old = es.records.get(key)
            if old is None:
                raise SapError.of(NO_MATCHING_RECORDS)
            rec = dict(old)
            rec.update(copy.deepcopy(values))
            rec[es.key] = key
            self._stamp(name, rec, values, keep_given_stamp)
            es.records[key] = rec
            es.fields.update(rec)
            self._changed()
            return copy.deepcopy(rec)

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
            pred = compile_filter(filter_text, fields, name, self.minute_times)
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
