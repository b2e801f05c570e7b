"""Properties and property groups: /crm/v3/properties/{objectType}[/groups] (create and read)."""

from __future__ import annotations

import copy
import time
from typing import Any

from . import errors
from .catalog import ObjectType
from .store import Portal
from .values import iso_ms

Reply = tuple[int, Any]


def _inputs(body: Any) -> list:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise errors.validation("Invalid input JSON: the request body needs an `inputs` array")
    return inputs


def _complete(status: int, started: float, results: list) -> Reply:
    """HubSpot's batch envelope around `results`."""
    return status, {"status": "COMPLETE", "results": results, "startedAt": iso_ms(started),
                    "completedAt": iso_ms(time.time())}


class PropertiesApi:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def list(self, otype: ObjectType, archived: bool) -> Reply:
        with self.portal.lock:
            props = [copy.deepcopy(p) for p in self.portal.types[otype.name].properties.values()
                     if bool(p.get("archived")) == archived]
        return 200, {"results": props}

    def get(self, otype: ObjectType, name: str) -> Reply:
        with self.portal.lock:
            prop = self.portal.types[otype.name].properties.get(name)
            if prop is None or prop.get("archived"):
                raise errors.not_found(f"Unable to find property {name} for object type "
                                       f"{otype.type_id}")
            return 200, copy.deepcopy(prop)

    def create(self, otype: ObjectType, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        with self.portal.lock:
            return 201, self.portal.add_property(otype.name, body)

    def update(self, otype: ObjectType, name: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        with self.portal.lock:
            return 200, self.portal.change_property(otype.name, name, body)

    def archive(self, otype: ObjectType, name: str) -> Reply:
        with self.portal.lock:
            self.portal.change_property(otype.name, name, None)
        return 204, None

    def batch_create(self, otype: ObjectType, body: Any) -> Reply:
        started = time.time()
        inputs = _inputs(body)
        with self.portal.lock:
            results = [self.portal.add_property(otype.name, item) for item in inputs]
        return _complete(201, started, results)

    def batch_read(self, otype: ObjectType, body: Any) -> Reply:
        started = time.time()
        inputs = _inputs(body)
        with self.portal.lock:
            defs = self.portal.types[otype.name].properties
            results = [copy.deepcopy(defs[i["name"]]) for i in inputs
                       if isinstance(i, dict) and i.get("name") in defs]
        return _complete(200, started, results)

    def list_groups(self, otype: ObjectType) -> Reply:
        with self.portal.lock:
            return 200, {"results": [dict(g) for g in
                                     self.portal.types[otype.name].groups.values()]}

    def get_group(self, otype: ObjectType, name: str) -> Reply:
        with self.portal.lock:
            group = self.portal.types[otype.name].groups.get(name)
            if group is None:
                raise errors.not_found(f"Unable to find property group {name}")
            return 200, dict(group)

    def create_group(self, otype: ObjectType, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        with self.portal.lock:
            return 201, self.portal.add_group(otype.name, body)
