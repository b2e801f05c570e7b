"""CRM object endpoints: single and batch create / read / update / upsert / archive, and list.

Batch semantics (README.md "Objects" gives the source of each):
- at most 100 inputs; duplicate ids in one upsert/update reject the whole batch;
- one invalid input fails the whole batch with that input's error, unless every input carries an
  `objectWriteTraceId`: then the valid inputs are written and the answer is 207 with `errors[]`;
- batch update silently leaves out ids that do not exist (recorded HubSpot traffic does this).
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from typing import Any

from . import catalog, errors, invoice_rules
from .catalog import ObjectType
from .errors import ApiError
from .store import Portal, Record, unique_key
from .values import iso_ms

MAX_BATCH = 100
MAX_LIST_LIMIT = 100

Reply = tuple[int, Any]


@dataclass
class Plan:
    """One checked input, ready to apply."""

    index: int
    trace_id: str | None
    props: dict[str, str]
    record: Record | None = None  # None: create
    associations: list[tuple[str, int, int]] = field(default_factory=list)  # (to type, id, type)
    new: bool = False


def _inputs(body: Any) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise errors.validation("Invalid input JSON: the request body needs an `inputs` array")
    inputs = body["inputs"]
    if len(inputs) > MAX_BATCH:
        raise errors.validation(
            f"The maximum number of inputs supported in a batch request is {MAX_BATCH}. "
            f"Please reduce the number of items and try again",
            context={"inputs": [str(len(inputs))]})
    for item in inputs:
        if not isinstance(item, dict):
            raise errors.validation("Invalid input JSON: every input must be an object")
    return inputs


def _props_of(item: dict) -> dict:
    props = item.get("properties")
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise errors.validation("Invalid input JSON: `properties` must be an object")
    return props


class ObjectsApi:
    """Handlers for /crm/v3/objects/{type}/... (date-versioned paths are rewritten to these)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    # ---- planning -----------------------------------------------------------------------------
    def _check(self, otype: ObjectType, plan: Plan, raw_props: dict,
               pending: dict[tuple[str, str], int]) -> None:
        """Validate one input; raise ApiError for HubSpot's answer to it."""
        portal = self.portal
        problems: list[dict] = []
        plan.props = portal.check_properties(otype.name, raw_props, problems)
        if problems:
            raise errors.property_errors(problems, portal.portal_id)
        claimed = []
        for prop in portal.types[otype.name].unique:
            value = plan.props.get(prop, "")
            if not value:
                continue
            owner = portal.unique_owner(otype.name, prop, value)
            mine = plan.record.id if plan.record else None
            if owner is not None and owner != mine:
                if otype.name == "contacts" and prop == "email":
                    message = f"Contact already exists. Existing ID: {owner}"
                else:
                    message = (f"A {otype.singular.lower()} with {prop} {value} already exists. "
                               f"Existing ID: {owner}")
                raise ApiError(409, message, "CONFLICT")
            key = (prop, unique_key(prop, value))
            if pending.get(key, plan.index) != plan.index:
                raise errors.validation(f"Duplicate value {value} for unique property {prop} in "
                                        f"batch input", context={prop: [value]})
            claimed.append(key)
        invoice_rules.check(portal, otype, plan)
        for key in claimed:  # only an input that passed every check holds its unique values
            pending[key] = plan.index

    def _run(self, otype: ObjectType, inputs: list[dict], plans: list[Plan | ApiError],
             ok_status: int, upsert: bool = False) -> Reply:
        """Apply the plans all-or-nothing, or per input when every input has a trace id."""
        started = time.time()
        failures = [(i, p) for i, p in enumerate(plans) if isinstance(p, ApiError)]
        traced = bool(inputs) and all(item.get("objectWriteTraceId") for item in inputs)
        if failures and not traced:
            raise failures[0][1]
        conflicts = [err for _, err in failures if err.status == 409]
        if conflicts and self.portal.conflict_fails_batch:
            raise conflicts[0]  # the whole call answers 409, nothing written (switch)
        results = []
        for i, plan in enumerate(plans):
            if isinstance(plan, ApiError) or plan is None:
                continue
            rec = self._apply(otype, plan)
            out = rec.to_json(self.portal.portal_id, otype.type_id, dict(rec.properties))
            if upsert:
                out["new"] = plan.new
            if inputs[i].get("objectWriteTraceId"):
                out["objectWriteTraceId"] = inputs[i]["objectWriteTraceId"]
            results.append(out)
        body: dict[str, Any] = {"status": "COMPLETE", "results": self.portal.batch_order(results),
                                "startedAt": iso_ms(started), "completedAt": iso_ms(time.time())}
        if failures:
            body["numErrors"] = len(failures)
            body["errors"] = [err.batch_entry(inputs[i]["objectWriteTraceId"])
                              for i, err in failures]
            return 207, body
        return ok_status, body

    def _apply(self, otype: ObjectType, plan: Plan) -> Record:
        portal = self.portal
        if plan.record is None:
            rec = portal.create(otype.name, plan.props)
        else:
            rec = portal.update(otype.name, plan.record, plan.props)
        for to_type, to_id, type_id in plan.associations:
            portal.associate(otype.name, rec.id, to_type, to_id, type_id)
        return rec

    def _inline_associations(self, otype: ObjectType, item: dict) -> list[tuple[str, int, int]]:
        """`associations` on a create input: [{to: {id}, types: [{associationTypeId}]}]."""
        out = []
        for assoc in item.get("associations") or []:
            to_id = str((assoc.get("to") or {}).get("id", ""))
            types = assoc.get("types") or []
            for spec in types:
                type_id = int(spec.get("associationTypeId", 0))
                to_type = catalog.association_target(otype.name, type_id)
                if to_type is None or self.portal.get(to_type, to_id) is None:
                    raise errors.validation(
                        f"Invalid association: no object with id {to_id} for association type "
                        f"{type_id} from {otype.upper}")
                out.append((to_type, int(to_id), type_id))
        return out

    # ---- batch endpoints ----------------------------------------------------------------------
    def batch_create(self, otype: ObjectType, body: Any) -> Reply:
        inputs = _inputs(body)
        with self.portal.lock:
            pending: dict[tuple[str, str], int] = {}
            plans: list[Plan | ApiError] = []
            for i, item in enumerate(inputs):
                plan = Plan(i, item.get("objectWriteTraceId"), {})
                try:
                    plan.associations = self._inline_associations(otype, item)
                    self._check(otype, plan, _props_of(item), pending)
                    plans.append(plan)
                except ApiError as err:
                    plans.append(err)
            return self._run(otype, inputs, plans, 201)

    def batch_update(self, otype: ObjectType, body: Any) -> Reply:
        inputs = _inputs(body)
        self._reject_duplicates(inputs)
        with self.portal.lock:
            pending: dict[tuple[str, str], int] = {}
            plans: list[Plan | ApiError] = []
            kept: list[dict] = []
            for item in inputs:
                rec = self.portal.get(otype.name, str(item.get("id", "")), item.get("idProperty"))
                if rec is None:
                    continue  # HubSpot leaves unknown ids out of the results, without an error
                plan = Plan(len(kept), item.get("objectWriteTraceId"), {}, rec)
                kept.append(item)
                try:
                    self._check(otype, plan, _props_of(item), pending)
                    plans.append(plan)
                except ApiError as err:
                    plans.append(err)
            return self._run(otype, kept, plans, 200)

    def batch_upsert(self, otype: ObjectType, body: Any) -> Reply:
        inputs = _inputs(body)
        self._reject_duplicates(inputs)
        with self.portal.lock:
            for item in inputs:  # a non-unique idProperty fails the whole request
                prop = item.get("idProperty")
                if prop and prop != "hs_object_id" and prop not in self.portal.types[
                        otype.name].unique:
                    raise errors.validation(
                        f"Unable to perform update/upsert by non-unique {otype.type_id} property "
                        f"{prop} in portal ID {self.portal.portal_id}")
            pending: dict[tuple[str, str], int] = {}
            plans: list[Plan | ApiError] = []
            for i, item in enumerate(inputs):
                id_prop = item.get("idProperty")
                obj_id = str(item.get("id", ""))
                plan = Plan(i, item.get("objectWriteTraceId"), {})
                try:
                    props = dict(_props_of(item))
                    rec = self.portal.get(otype.name, obj_id, id_prop)
                    if rec is None and (not id_prop or id_prop == "hs_object_id"):
                        raise errors.not_found(
                            f"Could not upsert some {otype.upper} objects: no object with id "
                            f"{obj_id}. Pass idProperty to upsert by a unique property.")
                    plan.record = rec
                    plan.new = rec is None
                    if rec is None:
                        props[id_prop] = obj_id
                    self._check(otype, plan, props, pending)
                    plans.append(plan)
                except ApiError as err:
                    plans.append(err)
            return self._run(otype, inputs, plans, 200, upsert=True)

    @staticmethod
    def _reject_duplicates(inputs: list[dict]) -> None:
        seen: set[tuple[str, str]] = set()
        dupes: list[str] = []
        for item in inputs:
            key = (str(item.get("idProperty") or ""), str(item.get("id", "")))
            if key[0] == "email":
                key = (key[0], key[1].lower())
            if key in seen and key[1] not in dupes:
                dupes.append(key[1])
            seen.add(key)
        if dupes:
            raise errors.validation(
                f"Duplicate IDs found in batch input: [{', '.join(dupes)}]. IDs must be unique",
                context={"ids": dupes})

    def batch_read(self, otype: ObjectType, body: Any, query: dict[str, list[str]]) -> Reply:
        inputs = _inputs(body)
        started = time.time()
        archived = _flag(query, "archived")
        wanted = [p for p in (body.get("properties") or []) if isinstance(p, str)]
        id_prop = body.get("idProperty")
        results, missing = [], []
        with self.portal.lock:
            for item in inputs:
                rid = str(item.get("id", ""))
                rec = self.portal.get(otype.name, rid, id_prop, archived=archived)
                if rec is None:
                    missing.append(rid)
                    continue
                results.append(rec.to_json(self.portal.portal_id, otype.type_id,
                                           self.portal.read_props(otype.name, rec, wanted)))
            self.portal.batch_order(results)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results,
                               "startedAt": iso_ms(started), "completedAt": iso_ms(time.time())}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {otype.upper} objects, they may be deleted or not "
                           f"exist. Check that ids are valid.",
                "context": {"ids": missing}}]
            return 207, out
        return 200, out

    def batch_archive(self, otype: ObjectType, body: Any) -> Reply:
        inputs = _inputs(body)
        with self.portal.lock:
            for item in inputs:
                rec = self.portal.get(otype.name, str(item.get("id", "")))
                if rec is not None:
                    self.portal.archive(otype.name, rec)
        return 204, None

    # ---- single-object endpoints --------------------------------------------------------------
    def create(self, otype: ObjectType, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        with self.portal.lock:
            plan = Plan(0, body.get("objectWriteTraceId"), {})
            plan.associations = self._inline_associations(otype, body)
            self._check(otype, plan, _props_of(body), {})
            rec = self._apply(otype, plan)
            return 201, rec.to_json(self.portal.portal_id, otype.type_id, dict(rec.properties))

    def read(self, otype: ObjectType, object_id: str, query: dict[str, list[str]]) -> Reply:
        with self.portal.lock:
            rec = self.portal.get(otype.name, object_id, _one(query, "idProperty"),
                                  archived=_flag(query, "archived"))
            if rec is None:
                raise errors.object_not_found(object_id)
            out = rec.to_json(self.portal.portal_id, otype.type_id,
                              self.portal.read_props(otype.name, rec, _list(query, "properties")))
            assoc_types = _list(query, "associations")
            if assoc_types:
                out["associations"] = self._assoc_summary(otype, rec, assoc_types)
            return 200, out

    def _assoc_summary(self, otype: ObjectType, rec: Record, names: list[str]) -> dict:
        summary = {}
        for raw in names:
            target = self.portal.object_type(raw)
            linked = self.portal.associated(otype.name, rec.id, target.name)
            if linked:
                summary[target.name] = {"results": [
                    {"id": str(to_id), "type": f"{otype.name.rstrip('s')}_to_"
                                              f"{target.name.rstrip('s')}"}
                    for to_id in sorted(linked)]}
        return summary

    def update(self, otype: ObjectType, object_id: str, body: Any,
               query: dict[str, list[str]]) -> Reply:
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        with self.portal.lock:
            rec = self.portal.get(otype.name, object_id, _one(query, "idProperty"))
            if rec is None:
                raise errors.object_not_found(object_id)
            plan = Plan(0, body.get("objectWriteTraceId"), {}, rec)
            self._check(otype, plan, _props_of(body), {})
            rec = self._apply(otype, plan)
            return 200, rec.to_json(self.portal.portal_id, otype.type_id, dict(rec.properties))

    def archive(self, otype: ObjectType, object_id: str) -> Reply:
        with self.portal.lock:
            rec = self.portal.get(otype.name, object_id)
            if rec is not None:
                self.portal.archive(otype.name, rec)
        return 204, None

    def list(self, otype: ObjectType, query: dict[str, list[str]]) -> Reply:
        limit = _int(query, "limit", 10)
        if limit < 1 or limit > MAX_LIST_LIMIT:
            raise errors.validation(f"limit must be between 1 and {MAX_LIST_LIMIT}",
                                    context={"limit": [str(limit)]})
        after = _int(query, "after", 0)
        archived = _flag(query, "archived")
        wanted = _list(query, "properties")
        with self.portal.lock:
            data = self.portal.types[otype.name]
            if archived:
                ids = sorted(r.id for r in data.records.values() if r.archived)
            else:
                ids = data.order
            start = bisect.bisect_left(ids, after) if after else 0
            page = ids[start:start + limit]
            results = [data.records[i].to_json(self.portal.portal_id, otype.type_id,
                                               self.portal.read_props(otype.name,
                                                                      data.records[i], wanted))
                       for i in page]
            out: dict[str, Any] = {"results": results}
            if start + limit < len(ids):
                nxt = str(ids[start + limit])
                out["paging"] = {"next": {
                    "after": nxt,
                    "link": f"https://api.hubapi.com/crm/v3/objects/{otype.name}?limit={limit}"
                            f"&after={nxt}"}}
            return 200, out


def _list(query: dict[str, list[str]], name: str) -> list[str]:
    out: list[str] = []
    for value in query.get(name, []):
        out.extend(v for v in value.split(",") if v)
    return out


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (_one(query, name) or "false").lower() == "true"


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = _one(query, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.validation(f"{name} must be an integer, got {raw}") from None
