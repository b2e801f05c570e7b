"""Associations v4: single and batch create (default or typed), read, archive, labels."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from . import catalog, errors
from .catalog import ObjectType
from .errors import ApiError
from .store import Portal
from .values import iso_ms

Reply = tuple[int, Any]

MAX_ASSOC_BATCH = 2000  # v4 batch create / archive
MAX_ASSOC_READ = 1000  # v4 batch read


def _category(from_type: str, to_type: str, type_id: int) -> str:
    known = catalog.association_pair(from_type, to_type, type_id) is not None
    return "HUBSPOT_DEFINED" if known else "USER_DEFINED"


def _spec(from_type: str, to_type: str, type_id: int) -> dict:
    return {"associationCategory": _category(from_type, to_type, type_id),
            "associationTypeId": type_id}


class AssociationsApi:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def _require(self, otype: ObjectType, object_id: Any) -> int:
        rec = self.portal.get(otype.name, str(object_id))
        if rec is None:
            raise errors.validation(f"No {otype.upper} with ID {object_id} exists",
                                    context={"objectId": [str(object_id)]})
        return rec.id

    def _default_type(self, from_t: ObjectType, to_t: ObjectType) -> int:
        type_id = catalog.DEFAULT_ASSOCIATIONS.get((from_t.name, to_t.name))
        if type_id is None:
            raise errors.validation(f"No default association type from {from_t.upper} to "
                                    f"{to_t.upper}")
        return type_id

    def _link_default(self, from_t: ObjectType, from_id: Any, to_t: ObjectType,
                      to_id: Any) -> list[dict]:
        fid, tid = self._require(from_t, from_id), self._require(to_t, to_id)
        type_id = self._default_type(from_t, to_t)
        reverse = self.portal.associate(from_t.name, fid, to_t.name, tid, type_id)
        out = [{"from": {"id": str(fid)}, "to": {"id": str(tid)},
                "associationSpec": _spec(from_t.name, to_t.name, type_id)}]
        if reverse is not None:
            out.append({"from": {"id": str(tid)}, "to": {"id": str(fid)},
                        "associationSpec": _spec(to_t.name, from_t.name, reverse)})
        return out

    def _link_typed(self, from_t: ObjectType, from_id: Any, to_t: ObjectType, to_id: Any,
                    types: Any) -> dict:
        fid, tid = self._require(from_t, from_id), self._require(to_t, to_id)
        if not isinstance(types, list) or not types:
            raise errors.validation("At least one association type is required")
        labels = []
        for spec in types:
            type_id = int(spec.get("associationTypeId", 0))
            if catalog.association_pair(from_t.name, to_t.name, type_id) is None:
                raise errors.validation(
                    f"{type_id} is not a valid association type between {from_t.upper} and "
                    f"{to_t.upper}")
            self.portal.associate(from_t.name, fid, to_t.name, tid, type_id)
            label = catalog.association_label(from_t.name, to_t.name, type_id)
            if label:
                labels.append(label)
        return {"fromObjectTypeId": from_t.type_id, "fromObjectId": fid,
                "toObjectTypeId": to_t.type_id, "toObjectId": tid, "labels": labels}

    # ---- single -------------------------------------------------------------------------------
    def put_default(self, from_t: ObjectType, from_id: str, to_t: ObjectType, to_id: str) -> Reply:
        started = time.time()
        with self.portal.lock:
            results = self._link_default(from_t, from_id, to_t, to_id)
        return 200, {"status": "COMPLETE", "results": results, "startedAt": iso_ms(started),
                     "completedAt": iso_ms(time.time())}

    def put_typed(self, from_t: ObjectType, from_id: str, to_t: ObjectType, to_id: str,
                  body: Any) -> Reply:
        with self.portal.lock:
            return 201, self._link_typed(from_t, from_id, to_t, to_id, body)

    def delete(self, from_t: ObjectType, from_id: str, to_t: ObjectType, to_id: str) -> Reply:
        with self.portal.lock, contextlib.suppress(ValueError):
            self.portal.disassociate(from_t.name, int(from_id), to_t.name, int(to_id))
        return 204, None

    def list(self, from_t: ObjectType, from_id: str, to_t: ObjectType) -> Reply:
        with self.portal.lock:
            fid = self._require(from_t, from_id)
            linked = self.portal.associated(from_t.name, fid, to_t.name)
            results = [self._to_entry(from_t, to_t, to_id, types)
                       for to_id, types in sorted(linked.items())]
        return 200, {"results": results}

    def _to_entry(self, from_t: ObjectType, to_t: ObjectType, to_id: int, types: set[int]) -> dict:
        return {"toObjectId": to_id, "associationTypes": [
            {"category": _category(from_t.name, to_t.name, t), "typeId": t,
             "label": catalog.association_label(from_t.name, to_t.name, t)}
            for t in sorted(types)]}

    # ---- batch --------------------------------------------------------------------------------
    def _batch(self, body: Any, limit: int) -> list[dict]:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise errors.validation("Invalid input JSON: the request body needs an `inputs` array")
        if len(inputs) > limit:
            raise errors.validation(
                f"The maximum number of inputs supported in a batch request is {limit}. Please "
                f"reduce the number of items and try again")
        return inputs

    def _envelope(self, started: float, results: list, failures: list[dict],
                  ok_status: int) -> Reply:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                                "startedAt": iso_ms(started), "completedAt": iso_ms(time.time())}
        if failures:
            body["numErrors"] = len(failures)
            body["errors"] = failures
            return 207, body
        return ok_status, body

    @staticmethod
    def _failure(err: ApiError, context: dict) -> dict:
        return {"status": "error", "category": err.category or "VALIDATION_ERROR",
                "message": err.message, "context": context}

    def _run_batch(self, body: Any, limit: int, ok_status: int,
                   one: Callable[[dict], tuple[list, dict | None]]) -> Reply:
        """Apply `one` to every input under the portal lock; it gives that input's results and
        its error entry (if any), which HubSpot gathers into one envelope (207 on any error)."""
        started = time.time()
        inputs = self._batch(body, limit)
        results: list = []
        failures: list[dict] = []
        with self.portal.lock:
            for item in inputs:
                produced, failure = one(item)
                results.extend(produced)
                if failure is not None:
                    failures.append(failure)
        return self._envelope(started, results, failures, ok_status)

    def _run_pairs(self, body: Any, ok_status: int,
                   link: Callable[[Any, Any, dict], list]) -> Reply:
        """A from/to batch: `link` each pair; a refused pair becomes an error naming both ids."""
        def one(item: dict) -> tuple[list, dict | None]:
            fid = (item.get("from") or {}).get("id")
            tid = (item.get("to") or {}).get("id")
            try:
                return link(fid, tid, item), None
            except ApiError as err:
                return [], self._failure(err, {"fromId": [str(fid)], "toId": [str(tid)]})
        return self._run_batch(body, MAX_ASSOC_BATCH, ok_status, one)

    def batch_default(self, from_t: ObjectType, to_t: ObjectType, body: Any) -> Reply:
        with self.portal.lock:
            if self.portal.switches.refused_pair_fails_batch:
                self._check_pairs(from_t, to_t, body)
            return self._run_pairs(body, 200, lambda fid, tid, _item: self._link_default(
                from_t, fid, to_t, tid))

    def _check_pairs(self, from_t: ObjectType, to_t: ObjectType, body: Any) -> None:
        """Switch `refused_pair_fails_batch`: the first refused pair fails the whole call with
        its 400 before anything is linked (README.md, "Switches")."""
        for item in self._batch(body, MAX_ASSOC_BATCH):
            self._require(from_t, (item.get("from") or {}).get("id"))
            self._require(to_t, (item.get("to") or {}).get("id"))
        self._default_type(from_t, to_t)

    def batch_create(self, from_t: ObjectType, to_t: ObjectType, body: Any) -> Reply:
        return self._run_pairs(body, 201, lambda fid, tid, item: [self._link_typed(
            from_t, fid, to_t, tid, item.get("types"))])

    def batch_read(self, from_t: ObjectType, to_t: ObjectType, body: Any) -> Reply:
        def one(item: dict) -> tuple[list, dict | None]:
            fid = str(item.get("id", ""))
            rec = self.portal.get(from_t.name, fid)
            linked = self.portal.associated(from_t.name, rec.id, to_t.name) if rec else {}
            if not linked:
                return [], {
                    "status": "error", "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {to_t.singular.lower()} is associated with "
                               f"{from_t.singular.lower()} {fid}.",
                    "context": {"fromObjectId": [fid]}}
            return [{"from": {"id": fid}, "to": [
                self._to_entry(from_t, to_t, to_id, types)
                for to_id, types in sorted(linked.items())]}], None
        return self._run_batch(body, MAX_ASSOC_READ, 200, one)

    def batch_archive(self, from_t: ObjectType, to_t: ObjectType, body: Any) -> Reply:
        inputs = self._batch(body, MAX_ASSOC_BATCH)
        with self.portal.lock:
            for item in inputs:
                try:
                    fid = int((item.get("from") or {}).get("id"))
                    for to in item.get("to") or []:
                        self.portal.disassociate(from_t.name, fid, to_t.name, int(to.get("id")))
                except (TypeError, ValueError):
                    continue
        return 204, None

    def labels(self, from_t: ObjectType, to_t: ObjectType) -> Reply:
        results = []
        default = catalog.DEFAULT_ASSOCIATIONS.get((from_t.name, to_t.name))
        if default is not None:
            results.append({"category": "HUBSPOT_DEFINED", "typeId": default, "label": None})
        for f, t, tid, rev, label in catalog.LABELLED_ASSOCIATIONS:
            if (f, t) == (from_t.name, to_t.name):
                results.append({"category": "HUBSPOT_DEFINED", "typeId": tid, "label": label})
            elif (t, f) == (from_t.name, to_t.name):
                results.append({"category": "HUBSPOT_DEFINED", "typeId": rev, "label": label})
        return 200, {"results": results}
