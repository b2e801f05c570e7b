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

from target_hubspot_finance.hubspot.client import BATCH_LIMIT, BatchResult, HubSpotClient, chunks
from target_hubspot_finance.hubspot.isolate import isolate

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
_TAKEN = re.compile(r"with (\S+) (.+?) already exists")  # "... with sap_x V already exists"


@dataclass
class Written:
    """Outcome per key: HubSpot id and whether it was new; HubSpot's error for failures."""

    ids: dict[str, str] = field(default_factory=dict)
    new: dict[str, bool] = field(default_factory=dict)
    failed: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)  # create: key → existing id
    taken: dict[str, str] = field(default_factory=dict)  # failed on another unique value: → id
    missing: list[str] = field(default_factory=list)         # update: id unknown to HubSpot


def conflict_of(err: Any) -> tuple[str | None, str | None]:
    """(existing HubSpot id, property named taken or None) of a 409 / `already exists` answer;
    (None, None) for any other error. Takes a batch entry or a whole-call `{status, body}`."""
    body = err.get("body") if isinstance(err, dict) and isinstance(err.get("body"), dict) \
        else err
    if not isinstance(body, dict):
        return None, None
    message = str(body.get("message", ""))
    match = _EXISTING_ID.search(message)
    if not match or not (body.get("category") == "CONFLICT" or "already exists" in message):
        return None, None
    taken = _TAKEN.search(message)
    return match.group(1), taken.group(1) if taken else None


def _fold(written: Written, keys: list[str], result: Any, key_property: str | None) -> None:
    """Sort the call's answers by key. Only a create treats a 409 on its own key property as
    "HubSpot has it already" (`conflicts`); any other refusal is a failure of that key."""
    for key in keys:
        if key in result.results:
            item = result.results[key]
            written.ids[key] = str(item["id"])
            written.new[key] = bool(item.get("new", False))
        elif key in result.errors:
            err = result.errors[key]
            existing, prop = conflict_of(err)
            if existing and key_property and prop in (None, key_property):
                written.conflicts[key] = existing
            else:
                written.failed[key] = err
                if existing:  # the caller may find it is this very object (`read_ids`)
                    written.taken[key] = existing
        elif result.untraced_errors:
            written.failed[key] = result.untraced_errors[0]
        else:
            written.missing.append(key)


def _send(client: HubSpotClient, object_type: str, op: str, inputs: list[dict],
          id_property: str | None = None) -> Any:
    """One batch call; when HubSpot fails the whole call with 409 (one input's unique value is
    taken, nothing written) the refused input is found and the others are sent again.

    Why: whether a conflict in a traced batch is one 207 entry or fails the whole call is not
    documented. A whole-call 409 names the taken value (then one more call for the rest) or,
    for contacts, only the existing id (then the batch is halved until the input is alone:
    at most 2·log2(100) extra calls per refused input; isolate.py). Nothing of a failed call
    was written, so sending the inputs again cannot duplicate. No call budget: a 409 is not a
    failure but "HubSpot has it" (`conflicts`), worth every call.
    """
    def send(group: list[dict]) -> tuple[BatchResult, Any]:
        result = client.batch(object_type, op, group, id_property=id_property)
        whole = next((e for e in result.untraced_errors if e.get("status") == 409), None)
        return result, None if whole is None or result.results else whole

    def refuse(group: list[dict], whole: dict, result: BatchResult | None) -> BatchResult:
        out = result if result is not None else BatchResult()
        if whole in out.untraced_errors:
            out.untraced_errors.remove(whole)
        for item in group:
            out.errors[str(item["objectWriteTraceId"])] = whole.get("body") or whole
        return out

    def merge(results: list[BatchResult]) -> BatchResult:
        if len(results) == 1:
            return results[0]
        merged = BatchResult()
        for one in results:
            merged.results.update(one.results)
            merged.errors.update(one.errors)
            merged.untraced_errors += one.untraced_errors
        return merged

    return isolate(inputs, send, refuse, merge,
                   named=lambda group, whole: _holder(group, whole, id_property))


def _holder(inputs: list[dict], err: dict, id_property: str | None) -> dict | None:
    """The one input holding the value a 409 says is taken, when the message names it."""
    body = err.get("body") if isinstance(err.get("body"), dict) else err
    taken = _TAKEN.search(str(body.get("message", "")))
    if not taken:
        return None
    prop, value = taken.group(1), taken.group(2)
    hits = [i for i in inputs if str((i.get("properties") or {}).get(prop)) == value
            or (id_property == prop and str(i.get("id")) == value)]
    return hits[0] if len(hits) == 1 else None


def upsert(client: HubSpotClient, object_type: str, id_property: str,
           items: dict[str, tuple[str, dict]]) -> Written:
    """Upsert {key: (unique value, properties)} by `id_property`; `new` says created.
    A refused input (a 409 included: another object holds one of its unique values) is in
    `failed` with HubSpot's answer."""
    written = Written()
    keys = list(items)
    for chunk in chunks(keys, BATCH_LIMIT):
        inputs = [{"idProperty": id_property, "id": items[k][0], "properties": items[k][1],
                   "objectWriteTraceId": k} for k in chunk]
        _fold(written, list(chunk), _send(client, object_type, "upsert", inputs), None)
    return written


def create(client: HubSpotClient, object_type: str,
           items: dict[str, tuple[dict, list[dict]]], key_property: str | None = None
           ) -> Written:
    """Create {key: (properties, inline associations)}; an existing `key_property` value →
    `conflicts` (HubSpot has this very object already); any other 409 → `failed`."""
    written = Written()
    keys = list(items)
    for chunk in chunks(keys, BATCH_LIMIT):
        inputs = [{"properties": items[k][0], "associations": items[k][1],
                   "objectWriteTraceId": k} for k in chunk]
        _fold(written, list(chunk), _send(client, object_type, "create", inputs),
              key_property or "")
        for key in chunk:
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
        result = _send(client, object_type, "update", inputs)
        # Batch update echoes no trace id in some answers: match by HubSpot id as well.
        by_id = {str(v.get("id")): v for v in result.results.values()}
        for key in chunk:
            if key not in result.results and items[key][0] in by_id:
                result.results[key] = by_id[items[key][0]]
        _fold(written, list(chunk), result, None)
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


def read_ids(client: HubSpotClient, object_type: str, ids: list[str],
             properties: list[str]) -> dict[str, dict]:
    """{HubSpot id: properties} of these objects (one batch read per 100; absent when gone)."""
    found: dict[str, dict] = {}
    for chunk in chunks(sorted(set(ids)), BATCH_LIMIT):
        result = client.batch(object_type, "read", [{"id": i} for i in chunk],
                              properties=properties)
        for item in result.results.values():
            found[str(item["id"])] = dict(item.get("properties") or {})
    return found


def association(to_type_id: int, to_id: str) -> dict:
    """An inline association for batch create (HubSpot-defined type)."""
    return {"to": {"id": str(to_id)},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": to_type_id}]}
