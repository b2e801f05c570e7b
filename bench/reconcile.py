"""Compare what SAP holds with what HubSpot ended up with, and a bookmark with both.

The chaos suite's verdicts live here so the benchmarks can print the same sanity figures: one
HubSpot object per SAP record (no duplicate, none missing), associations pointing at the right
objects, and a Singer bookmark that never claims more than HubSpot has confirmed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Which SAP entity set feeds which stream, and the HubSpot object + unique property that holds
# the SAP key (docs/CONTRACTS.md and the target's README).
STREAM_ENTITY = {
    "business_partners": "BusinessPartners",
    "invoices": "Invoices",
    "credit_notes": "CreditNotes",
    "incoming_payments": "IncomingPayments",
}


def sap_updated_at(record: dict) -> datetime:
    """UpdateDate + UpdateTime as one naive timestamp (SAP gives no zone)."""
    day = str(record.get("UpdateDate") or record.get("CreateDate") or "1970-01-01")[:10]
    clock = str(record.get("UpdateTime") or "00:00:00")
    if len(clock) == 5:
        clock += ":00"
    return datetime.fromisoformat(f"{day}T{clock}")


def parse_bookmark(value: object) -> datetime | int | None:
    """A replication_key_value as a naive timestamp (zone dropped, as the tap writes +00:00),
    or an integer (incoming_payments is bookmarked by DocEntry: SAP's payments have no stamp)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    return datetime.fromisoformat(text).replace(tzinfo=None)


def bookmarks(state: dict | None) -> dict[str, datetime | int]:
    """The furthest point each stream's state claims, progress markers included."""
    found: dict[str, datetime | int] = {}
    for stream, entry in ((state or {}).get("bookmarks") or {}).items():
        candidates = [entry.get("replication_key_value"),
                      (entry.get("progress_markers") or {}).get("replication_key_value")]
        for part in entry.get("partitions") or []:
            candidates.append(part.get("replication_key_value"))
        values = [v for v in (parse_bookmark(c) for c in candidates) if v is not None]
        if values:
            found[stream] = max(values)
    return found


@dataclass
class KeySpec:
    """How one stream's records are found in HubSpot."""

    stream: str
    entity: str
    sap_field: str          # the SAP field the key comes from
    object_type: str        # HubSpot object type holding the record
    property_name: str      # HubSpot unique property carrying the key
    include: object = None  # optional predicate(record) -> bool for records the target syncs
    same: object = None     # optional predicate(record, hubspot_object) -> bool: content current
    expand: object = None   # optional record -> list of child records (lines, applications)

    def sap_key(self, record: dict) -> str:
        """The key as HubSpot stores it (text)."""
        return str(record[self.sap_field])

    def rows(self, sap_records: list[dict]) -> list[dict]:
        """The records (or child records) that each become one HubSpot object."""
        chosen = [r for r in sap_records if self.include is None or self.include(r)]
        if self.expand is None:
            return chosen
        return [child for r in chosen for child in self.expand(r)]


def objects_by_key(objects: Iterable[dict], property_name: str) -> dict[str, list[dict]]:
    """HubSpot objects grouped by the value of their unique SAP-key property."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for obj in objects:
        if obj.get("archived"):
            continue
        value = (obj.get("properties") or {}).get(property_name)
        if value not in (None, ""):
            grouped[str(value)].append(obj)
    return grouped


def exactly_once(spec: KeySpec, sap_records: list[dict], hs_objects: list[dict]) -> list[str]:
    """Problems found: SAP records missing in HubSpot, keys held twice, keys SAP never had."""
    wanted = spec.rows(sap_records)
    keys = Counter(spec.sap_key(r) for r in wanted)
    grouped = objects_by_key(hs_objects, spec.property_name)
    problems = []
    missing = sorted(k for k in keys if k not in grouped)
    if missing:
        problems.append(f"{spec.stream}: {len(missing)} of {len(keys)} SAP records missing in "
                        f"HubSpot {spec.object_type} (e.g. {missing[:5]})")
    doubled = sorted(k for k, objs in grouped.items() if len(objs) > 1)
    if doubled:
        problems.append(f"{spec.stream}: {len(doubled)} keys held by more than one "
                        f"{spec.object_type} (e.g. {doubled[:5]})")
    if spec.same is not None:
        latest = {spec.sap_key(r): r for r in wanted}
        stale = sorted(k for k, objs in grouped.items() if k in latest
                       and not any(spec.same(latest[k], o) for o in objs))
        if stale:
            problems.append(f"{spec.stream}: {len(stale)} {spec.object_type} objects do not hold "
                            f"SAP's latest values (e.g. {stale[:5]})")
    known = set(keys) | {spec.sap_key(r) for r in sap_records if spec.expand is None}
    unknown = sorted(k for k in grouped if k not in known)
    if unknown:
        problems.append(f"{spec.stream}: {len(unknown)} {spec.object_type} keys not in SAP "
                        f"(e.g. {unknown[:5]})")
    return problems


def bookmark_problems(state: dict | None, spec: KeySpec, sap_records: list[dict],
                      hs_objects: list[dict]) -> list[str]:
    """Records strictly before the stream's bookmark that HubSpot does not hold.

    The tap re-reads the boundary (`ge`), so a record stamped exactly at the bookmark may still be
    in flight; anything strictly earlier must already be in HubSpot.
    """
    mark = bookmarks(state).get(spec.stream)
    if mark is None:
        return []
    grouped = objects_by_key(hs_objects, spec.property_name)
    if isinstance(mark, int):  # a DocEntry bookmark: every record below it was read
        behind = [r for r in spec.rows(sap_records) if int(r["DocEntry"]) < mark]
    else:
        behind = [r for r in spec.rows(sap_records) if sap_updated_at(r) < mark]
    shown = mark if isinstance(mark, int) else mark.isoformat()
    lost = sorted(spec.sap_key(r) for r in behind if spec.sap_key(r) not in grouped)
    problems = []
    if lost:
        problems.append(f"{spec.stream}: bookmark {shown} is past {len(lost)} records "
                        f"HubSpot does not hold (e.g. {lost[:5]})")
    if spec.same is not None:
        stale = sorted(spec.sap_key(r) for r in behind if spec.sap_key(r) in grouped
                       and not any(spec.same(r, o) for o in grouped[spec.sap_key(r)]))
        if stale:
            problems.append(f"{spec.stream}: bookmark {shown} is past {len(stale)} "
                            f"changes HubSpot does not hold (e.g. {stale[:5]})")
    return problems
