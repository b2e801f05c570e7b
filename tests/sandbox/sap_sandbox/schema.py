"""Which properties exist: SAP's metadata (generated, `sap_metadata.json`) plus the UDFs.

The property sets come from b1sl-python's models of SAP's Service Layer reference (see
`generate_metadata.py`); nothing here lists a property by hand. User-defined fields (`U_*`) exist
only where a company created them: `Schema(udfs={"Document": {"U_HubSpotDealId": "Edm.String"}})`
adds them to an entity or complex type, as SAP adds a UDF of OINV to every marketing document.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

METADATA_FILE = Path(__file__).with_name("sap_metadata.json")
UDF_TYPES = ("Edm.String", "Edm.Int32", "Edm.Double", "Edm.DateTime", "Edm.Time")
Udfs = Mapping[str, Mapping[str, str]]

# A company that links SAP documents to HubSpot deals and segments its customers (the demo's).
HUBSPOT_UDFS: dict[str, dict[str, str]] = {
    "Document": {"U_HubSpotDealId": "Edm.String"},
    "BusinessPartner": {"U_Segment": "Edm.String"},
}


@functools.cache
def sap_metadata() -> dict[str, Any]:
    """The generated metadata document (entity types, complex types, enums, source)."""
    return json.loads(METADATA_FILE.read_text())


def parse_udf(spec: str) -> tuple[str, str, str]:
    """`Document.U_HubSpotDealId[=Edm.String]` -> (type, field, Edm type); ValueError if bad."""
    head, _, edm = spec.partition("=")
    type_name, _, field = head.partition(".")
    edm = edm or "Edm.String"
    if not edm.startswith("Edm."):
        edm = f"Edm.{edm}"
    _check_udf(type_name, field, edm)
    return type_name, field, edm


def _check_udf(type_name: str, field: str, edm: str) -> None:
    meta = sap_metadata()
    if type_name not in meta["entity_types"] and type_name not in meta["complex_types"]:
        raise ValueError(f"unknown SAP type {type_name!r} for a UDF (e.g. Document, "
                         "BusinessPartner, Payment, DocumentLine)")
    if not field.startswith("U_") or not field[2:].replace("_", "").isalnum():
        raise ValueError(f"a user-defined field's name starts with U_; got {field!r}")
    if edm not in UDF_TYPES:
        raise ValueError(f"UDF type must be one of {', '.join(UDF_TYPES)}; got {edm!r}")


class Schema:
    """The company's properties: SAP's types plus its UDFs."""

    def __init__(self, udfs: Udfs | None = None) -> None:
        meta = sap_metadata()
        self.udfs: dict[str, dict[str, str]] = {}
        for type_name, fields in (udfs or {}).items():
            for field, edm in fields.items():
                _check_udf(type_name, field, edm)
                self.udfs.setdefault(type_name, {})[field] = edm
        self.entity_sets: dict[str, str] = dict(meta["entity_sets"])
        self.types: dict[str, dict[str, str]] = {}
        for name, entity in meta["entity_types"].items():
            self.types[name] = {**entity["properties"], **self.udfs.get(name, {})}
        for name, props in meta["complex_types"].items():
            self.types[name] = {**props, **self.udfs.get(name, {})}
        self.keys = {name: entity["key"] for name, entity in meta["entity_types"].items()}
        self.enums: dict[str, list[str]] = meta["enum_types"]

    def type_of(self, entity_set: str) -> str:
        return self.entity_sets[entity_set]

    def fields(self, entity_set: str) -> dict[str, str]:
        """Property name -> type of an entity set's entity type (UDFs included)."""
        return self.types[self.entity_sets[entity_set]]

    def has_udf(self, type_name: str, field: str) -> bool:
        return field in self.udfs.get(type_name, {})

    def unknown_properties(self, type_name: str, record: Mapping[str, Any]) -> list[str]:
        """Names in `record` (nested collections too, as `Coll[].Name`) its type lacks."""
        props = self.types[type_name]
        bad: list[str] = []
        for name, value in record.items():
            kind = props.get(name)
            if kind is None:
                bad.append(name)
            elif kind.startswith("Collection(SAPB1.") and value:
                inner = kind[len("Collection(SAPB1."):-1]
                for item in value:
                    bad += [f"{name}[].{n}" for n in self.unknown_properties(inner, item)]
        return sorted(set(bad))
