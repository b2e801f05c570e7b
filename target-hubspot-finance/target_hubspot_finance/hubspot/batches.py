"""Batch writes of many objects, 100 inputs a call, each input traced.

Why traced: with an `objectWriteTraceId` on every input HubSpot answers 207 and writes the valid
inputs, so one bad record is reported alone instead of failing its 99 neighbours. The trace id
is the object's own key (unique in a call after de-duplication), so results are matched by key,
never by position (HubSpot returns batch results in any order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from target_hubspot_finance.hubspot.client import BATCH_LIMIT, HubSpotClient, chunks

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


@dataclass
class Written:
    """Outcome per key: HubSpot id and whether it was new; HubSpot's error for failures."""

    ids: dict[str, str] = field(default_factory=dict)
    new: dict[str, bool] = field(default_factory=dict)
    failed: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)  # create: key → existing id
    missing: list[str] = field(default_factory=list)         # update: id unknown to HubSpot


def _fold(written: Written, keys: list[str], result: Any) -> None:
    for key in keys:
        if key in result.results:
            item = result.results[key]
            written.ids[key] = str(item["id"])
            written.new[key] = bool(item.get("new", False))
        elif key in result.errors:
            err = result.errors[key]
            match = _EXISTING_ID.search(str(err.get("message", "")))
            if match and (err.get("category") == "CONFLICT" or "already exists" in
                          str(err.get("message", ""))):
                written.conflicts[key] = match.group(1)
            else:
                written.failed[key] = err
        elif result.untraced_errors:
            written.failed[key] = result.untraced_errors[0]
        else:
            written.missing.append(key)


def upsert(client: HubSpotClient, object_type: str, id_property: str,
           items: dict[str, tuple[str, dict]]) -> Written:
    """Upsert {key: (unique value, properties)} by `id_property`; `new` says created."""
    written = Written()
    keys = list(items)
    for chunk in chunks(keys, BATCH_LIMIT):
        inputs = [{"idProperty": id_property, "id": items[k][0], "properties": items[k][1],
                   "objectWriteTraceId": k} for k in chunk]
        _fold(written, list(chunk), client.batch(object_type, "upsert", inputs))
    return written


def create(client: HubSpotClient, object_type: str,
           items: dict[str, tuple[dict, list[dict]]]) -> Written:
    """Create {key: (properties, inline associations)}; an existing unique value → conflicts."""
    written = Written()
    keys = list(items)
    for chunk in chunks(keys, BATCH_LIMIT):
        inputs = [{"properties": items[k][0], "associations": items[k][1],
                   "objectWriteTraceId": k} for k in chunk]
        _fold(written, list(chunk), client.batch(object_type, "create", inputs))
        for key in chunk:
            written.new.setdefault(key, True)
            if key in written.ids:
                written.new[key] = True
    return written


def update(client: HubSpotClient, object_type: str,
           items: dict[str, tuple[str, dict]]) -> Written:
    """Update {key: (HubSpot id, properties)}; ids HubSpot no longer has land in `missing`."""
    written = Written()
    keys = list(items)
    for chunk in chunks(keys, BATCH_LIMIT):
        inputs = [{"id": items[k][0], "properties": items[k][1], "objectWriteTraceId": k}
                  for k in chunk]
        result = client.batch(object_type, "update", inputs)
        # Batch update echoes no trace id in some answers: match by HubSpot id as well.
        by_id = {str(v.get("id")): v for v in result.results.values()}
        for key in chunk:
            if key not in result.results and items[key][0] in by_id:
                result.results[key] = by_id[items[key][0]]
        _fold(written, list(chunk), result)
    for key in written.ids:
        written.new[key] = False
    return written


def read_by(client: HubSpotClient, object_type: str, id_property: str,
            values: list[str]) -> dict[str, str]:
    """HubSpot ids of the objects whose `id_property` has these values (absent when none)."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(values)), BATCH_LIMIT):
        result = client.batch(object_type, "read", [{"id": v} for v in chunk],
                              id_property=id_property, properties=[id_property])
        for key, item in result.results.items():
            found[str(key)] = str(item["id"])
    return found


def association(to_type_id: int, to_id: str) -> dict:
    """An inline association for batch create (HubSpot-defined type)."""
    return {"to": {"id": str(to_id)},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": to_type_id}]}
