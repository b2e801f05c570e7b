"""The portal's data: records, property definitions and groups, unique-value indexes, associations.

Everything is in memory behind one lock. Lookups by id and by unique property are dict hits, so a
batch costs O(batch) whatever the portal holds (the benchmark pushes 100k invoices through it).
"""

from __future__ import annotations

import bisect
import copy
import itertools
import random
import threading
import time
from dataclasses import dataclass, field

from . import catalog, errors, invoice_rules
from .catalog import ObjectType
from .values import Invalid, iso_ms, normalise

MAX_UNIQUE_PROPERTIES = 10  # custom hasUniqueValue properties per object (HubSpot's limit)


@dataclass
class Record:
    id: int
    properties: dict[str, str]
    created: float
    updated: float
    archived: bool = False
    archived_at: float | None = None

    def to_json(self, portal_id: int, type_id: str, props: dict[str, str]) -> dict:
        out = {"id": str(self.id), "properties": props, "createdAt": iso_ms(self.created),
               "updatedAt": iso_ms(self.updated), "archived": self.archived}
        if self.archived_at is not None:
            out["archivedAt"] = iso_ms(self.archived_at)
        out["url"] = f"https://app.hubspot.com/contacts/{portal_id}/record/{type_id}/{self.id}"
        return out


@dataclass
class Switches:
    """What HubSpot leaves undocumented, one way or the other (README.md, "Switches").

    `open_on_create`: a create may carry a non-draft `hs_invoice_status` (the guide documents
    only draft -> associate -> open). `paid_settable`: `hs_invoice_status: paid` may be written
    (HubSpot documents paid as what recording payments does). `payment_custom_properties`:
    custom properties may be created on payments. `unset_currency`: "refuse" or "accept" an
    invoice whose `hs_currency` is not one of the account's currencies.
    `refused_pair_fails_batch`: a pair refused in a v4 batch associate call fails the whole
    call with its 400 (nothing linked) instead of being one 207 entry.
    """

    open_on_create: bool = True
    paid_settable: bool = True
    payment_custom_properties: bool = True
    unset_currency: str = "refuse"
    refused_pair_fails_batch: bool = False


@dataclass
class TypeData:
    """One object type's records and indexes."""

    records: dict[int, Record] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # live ids, ascending (ids only grow)
    unique: dict[str, dict[str, int]] = field(default_factory=dict)  # prop -> value -> id
    properties: dict[str, dict] = field(default_factory=dict)
    groups: dict[str, dict] = field(default_factory=dict)


def unique_key(prop: str, value: str) -> str:
    """Emails match case-insensitively (HubSpot lower-cases them); other values exactly."""
    return value.lower() if prop == "email" else value


class Portal:
    """All state of one sandboxed HubSpot account."""

    def __init__(self, portal_id: int, payments_enabled: bool = True,
                 shuffle_results: bool = True, seed: int = 0, company_currency: str = "USD",
                 currencies: tuple[str, ...] | None = None,
                 switches: Switches | None = None) -> None:
        self.portal_id = portal_id
        self.payments_enabled = payments_enabled
        self.switches = switches or Switches()
        # The account's currencies: the company currency plus those with an exchange rate.
        # None = every currency the sandbox offers is set up (each one valid on invoices).
        self.company_currency = company_currency
        extra = catalog.CURRENCIES if currencies is None else currencies
        self.currencies = (company_currency, *sorted(set(extra) - {company_currency}))
        self.shuffle_results = shuffle_results
        # Undocumented: whether a 409 (unique value taken) inside a traced batch is one 207 entry
        # or fails the whole call. Both are handled by a client; tests switch (sandbox.py).
        self.conflict_fails_batch = False
        self._rng = random.Random(seed)
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.types: dict[str, TypeData] = {name: TypeData() for name in catalog.OBJECT_TYPES}
        now = time.time()
        for name, props in catalog.builtin_properties().items():
            data = self.types[name]
            for p in props:
                p["createdAt"] = p["updatedAt"] = iso_ms(now)
                p["groupName"] = catalog.OBJECT_TYPES[name].default_group
                p["archived"] = False
                data.properties[p["name"]] = p
                if p["hasUniqueValue"]:
                    data.unique[p["name"]] = {}
            for g in catalog.DEFAULT_GROUPS[name]:
                data.groups[g["name"]] = dict(g)
        # (from type, to type) -> from id -> to id -> set of type ids; both directions stored.
        self.assoc: dict[tuple[str, str], dict[int, dict[int, set[int]]]] = {}

    # ---- object types -------------------------------------------------------------------------
    def object_type(self, raw: str) -> ObjectType:
        """Resolve a path segment; a portal without payments does not know commerce_payments."""
        otype = catalog.resolve_type(raw)
        if otype is None or (otype.name == "commerce_payments" and not self.payments_enabled):
            raise errors.unknown_object_type(raw)
        return otype

    def batch_order(self, results: list) -> list:
        """HubSpot returns batch results in no particular order (hubspot-api-nodejs#190, "the
        issue on API side we can't fix"); a seeded shuffle makes clients match by id, not place."""
        if self.shuffle_results and len(results) > 1:
            self._rng.shuffle(results)
        return results

    # ---- records ------------------------------------------------------------------------------
    def get(self, otype: str, object_id: str | int, id_property: str | None = None,
            archived: bool = False) -> Record | None:
        data = self.types[otype]
        if id_property and id_property != "hs_object_id":
            index = data.unique.get(id_property)
            if index is None:
                raise errors.validation(
                    f"Unable to perform update/upsert by non-unique "
                    f"{catalog.OBJECT_TYPES[otype].type_id} property {id_property} in portal ID "
                    f"{self.portal_id}")
            rid = index.get(unique_key(id_property, str(object_id)))
        else:
            try:
                rid = int(object_id)
            except (TypeError, ValueError):
                return None
        rec = data.records.get(rid) if rid is not None else None
        if rec is None or rec.archived != archived:
            return None
        return rec

    def check_properties(self, otype: str, props: dict, errors_out: list[dict]) -> dict[str, str]:
        """Normalise an input's property values; append HubSpot-style problems to errors_out."""
        defs = self.types[otype].properties
        clean: dict[str, str] = {}
        for name, raw in props.items():
            defn = defs.get(name)
            if defn is None or defn.get("archived"):
                errors_out.append({"name": name, "error": "PROPERTY_DOESNT_EXIST",
                                   "message": f'Property "{name}" does not exist'})
                continue
            if defn["modificationMetadata"].get("readOnlyValue"):
                errors_out.append({"name": name, "error": "READ_ONLY_VALUE",
                                   "message": f'Property "{name}" is a read only property; its '
                                              f"value cannot be set."})
                continue
            try:
                clean[name] = normalise(defn, raw)
                if otype == "line_items" and name == "price" and clean[name].startswith("-") \
                        and float(clean[name]) < 0:  # HubSpot: price cannot be negative
                    raise Invalid("INVALID_PRICE",
                                  f"{clean.pop(name)} is not a valid price: a line item's "
                                  "price cannot be negative.")
            except Invalid as exc:
                errors_out.append({"name": name, "error": exc.error, "message": exc.message,
                                   "value": "" if raw is None else str(raw)})
        return clean

    def unique_owner(self, otype: str, prop: str, value: str) -> int | None:
        index = self.types[otype].unique.get(prop)
        if index is None or value == "":
            return None
        return index.get(unique_key(prop, value))

    def create(self, otype: str, props: dict[str, str], now: float | None = None) -> Record:
        """Store a new record (values already checked) and index its unique values."""
        now = time.time() if now is None else now
        meta = catalog.OBJECT_TYPES[otype]
        rid = next(self._ids)
        stamp = iso_ms(now)
        values = {meta.create_prop: stamp, meta.modified_prop: stamp, "hs_object_id": str(rid)}
        if otype == "invoices":
            values["hs_invoice_status"] = "draft"
        values.update(props)
        rec = Record(rid, values, now, now)
        data = self.types[otype]
        data.records[rid] = rec
        data.order.append(rid)
        self._index(otype, rec, {})
        self._derive(otype, rec)
        return rec

    def update(self, otype: str, rec: Record, props: dict[str, str],
               now: float | None = None) -> Record:
        now = time.time() if now is None else now
        meta = catalog.OBJECT_TYPES[otype]
        before = dict(rec.properties)
        rec.properties.update(props)
        rec.properties[meta.modified_prop] = iso_ms(now)
        rec.updated = now
        self._index(otype, rec, before)
        self._derive(otype, rec)
        if otype in ("line_items", "commerce_payments"):
            for invoice_id in list(self.associated(otype, rec.id, "invoices")):
                invoice_rules.recompute(self, invoice_id)
        return rec

    def archive(self, otype: str, rec: Record) -> None:
        data = self.types[otype]
        rec.archived = True
        rec.archived_at = time.time()
        for prop, index in data.unique.items():
            value = rec.properties.get(prop, "")
            if value and index.get(unique_key(prop, value)) == rec.id:
                del index[unique_key(prop, value)]
        pos = bisect.bisect_left(data.order, rec.id)
        if pos < len(data.order) and data.order[pos] == rec.id:
            del data.order[pos]

    def _index(self, otype: str, rec: Record, before: dict[str, str]) -> None:
        for prop, index in self.types[otype].unique.items():
            old, new = before.get(prop, ""), rec.properties.get(prop, "")
            if old == new:
                continue
            if old and index.get(unique_key(prop, old)) == rec.id:
                del index[unique_key(prop, old)]
            if new:
                index[unique_key(prop, new)] = rec.id

    def _derive(self, otype: str, rec: Record) -> None:
        """Calculated properties HubSpot maintains itself."""
        if otype == "line_items":
            try:
                qty = float(rec.properties.get("quantity") or 0)
                price = float(rec.properties.get("price") or 0)
                discount = float(rec.properties.get("discount") or 0)
                pct = float(rec.properties.get("hs_discount_percentage") or 0)
            except ValueError:
                return
            amount = qty * (price - discount) * (1 - pct / 100)
            rec.properties["amount"] = _number(amount)

    def read_props(self, otype: str, rec: Record, wanted: list[str] | None) -> dict[str, str]:
        """The properties a read returns: the type's defaults plus the requested ones (if set)."""
        names = wanted if wanted else catalog.OBJECT_TYPES[otype].default_read
        return {n: rec.properties[n] for n in names if n in rec.properties}

    # ---- properties ---------------------------------------------------------------------------
    def add_property(self, otype: str, body: dict) -> dict:
        data = self.types[otype]
        required = ("name", "label", "type", "fieldType", "groupName")
        missing = [k for k in required if not body.get(k)]
        if missing:
            raise errors.validation(f"Invalid input: missing required field(s) {missing}")
        name = body["name"]
        if name in data.properties and not data.properties[name].get("archived"):
            raise errors.ApiError(409, f"A property named '{name}' already exists.",
                                  "OBJECT_ALREADY_EXISTS")
        if body["groupName"] not in data.groups:
            raise errors.validation(f"property group {body['groupName']} does not exist")
        if body["type"] not in ("string", "number", "date", "datetime", "enumeration", "bool",
                                "phone_number"):
            raise errors.validation(f"Invalid property type: {body['type']}")
        if otype == "commerce_payments" and not self.switches.payment_custom_properties:
            raise errors.validation(
                f"Could not create property {name}: custom properties cannot be created on "
                f"COMMERCE_PAYMENT objects in this account.")
        unique = bool(body.get("hasUniqueValue"))
        if unique:
            custom_unique = [p for p in data.properties.values()
                             if p["hasUniqueValue"] and not p["hubspotDefined"]
                             and not p.get("archived")]
            if len(custom_unique) >= MAX_UNIQUE_PROPERTIES:
                raise errors.validation(
                    f"Could not create property {name}: the maximum number of unique value "
                    f"properties ({MAX_UNIQUE_PROPERTIES}) for this object has been reached.")
        now = iso_ms(time.time())
        prop = {
            "name": name, "label": body["label"], "type": body["type"],
            "fieldType": body["fieldType"], "description": body.get("description", ""),
            "groupName": body["groupName"],
            "options": [
                {"label": o.get("label", o.get("value")), "value": o["value"],
                 "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden"))}
                for i, o in enumerate(body.get("options") or [])
            ],
            "displayOrder": body.get("displayOrder", -1), "hasUniqueValue": unique,
            "hidden": bool(body.get("hidden")), "formField": bool(body.get("formField", True)),
            "hubspotDefined": False, "calculated": False, "externalOptions": False,
            "createdAt": now, "updatedAt": now, "archived": False,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False,
                                     "readOnlyValue": False},
        }
        data.properties[name] = prop
        if unique:
            index: dict[str, int] = {}
            for rec in data.records.values():
                value = rec.properties.get(name, "")
                if value and not rec.archived:
                    index[unique_key(name, value)] = rec.id
            data.unique[name] = index
        return copy.deepcopy(prop)

    def change_property(self, otype: str, name: str, body: dict | None) -> dict:
        """PATCH (body) or archive (None) a custom property; HubSpot's own ones refuse both."""
        data = self.types[otype]
        prop = data.properties.get(name)
        if prop is None or prop.get("archived"):
            raise errors.not_found(f"Unable to find property {name} for object type "
                                   f"{catalog.OBJECT_TYPES[otype].type_id}")
        if prop["modificationMetadata"].get("readOnlyDefinition"):
            raise errors.validation(f"Property {name} is defined by HubSpot and cannot be changed")
        if body is None:
            prop["archived"] = True
            prop["archivedAt"] = iso_ms(time.time())
            data.unique.pop(name, None)
            return copy.deepcopy(prop)
        if "groupName" in body and body["groupName"] not in data.groups:
            raise errors.validation(f"property group {body['groupName']} does not exist")
        for key in ("label", "description", "groupName", "displayOrder", "hidden", "formField",
                    "type", "fieldType"):
            if key in body:
                prop[key] = body[key]
        if "options" in body:
            prop["options"] = [
                {"label": o.get("label", o.get("value")), "value": o["value"],
                 "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden"))}
                for i, o in enumerate(body.get("options") or [])]
        prop["updatedAt"] = iso_ms(time.time())
        return copy.deepcopy(prop)

    def add_group(self, otype: str, body: dict) -> dict:
        data = self.types[otype]
        if not body.get("name") or not body.get("label"):
            raise errors.validation("Invalid input: name and label are required")
        if body["name"] in data.groups:
            raise errors.ApiError(409, f"A property group named '{body['name']}' already exists.",
                                  "OBJECT_ALREADY_EXISTS")
        group = {"name": body["name"], "label": body["label"],
                 "displayOrder": body.get("displayOrder", -1), "archived": False}
        data.groups[group["name"]] = group
        return dict(group)

    # ---- associations -------------------------------------------------------------------------
    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int,
                  type_id: int) -> int | None:
        """Link two records both ways; returns the reverse type id written."""
        reverse = catalog.association_pair(from_type, to_type, type_id)
        self.assoc.setdefault((from_type, to_type), {}).setdefault(from_id, {}).setdefault(
            to_id, set()).add(type_id)
        if reverse is not None:
            self.assoc.setdefault((to_type, from_type), {}).setdefault(to_id, {}).setdefault(
                from_id, set()).add(reverse)
        self._links_changed(from_type, from_id, to_type, to_id)
        return reverse

    def disassociate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        self.assoc.get((from_type, to_type), {}).get(from_id, {}).pop(to_id, None)
        self.assoc.get((to_type, from_type), {}).get(to_id, {}).pop(from_id, None)
        self._links_changed(from_type, from_id, to_type, to_id)

    def _links_changed(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """An invoice's billed/paid amounts follow its line items and payments."""
        pair = {from_type: from_id, to_type: to_id}
        if "invoices" in pair and ({"line_items", "commerce_payments"} & pair.keys()):
            invoice_rules.recompute(self, pair["invoices"])

    def associated(self, from_type: str, from_id: int, to_type: str) -> dict[int, set[int]]:
        return self.assoc.get((from_type, to_type), {}).get(from_id, {})


def _number(value: float) -> str:
    rounded = round(value, 6)
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)
