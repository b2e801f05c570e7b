"""The server's `$metadata`: OData CSDL (b1s/v1 serves OData v3, b1s/v2 OData v4), parsed.

SAP's property set differs by company and version: user-defined fields (`U_*`) exist only where a
company created them, and a `$select` naming a property the type lacks is refused (400, -1000).
So the tap asks the server which properties each entity set has before it selects any.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

INTEGER_TYPES = frozenset({"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"})
NUMBER_TYPES = frozenset({"Edm.Double", "Edm.Decimal", "Edm.Single"})
DATE_TYPES = frozenset({"Edm.Date", "Edm.DateTime"})  # SAP's dates: v2 Edm.Date, v1 Edm.DateTime


def _local(tag: str) -> str:
    """An XML tag without its namespace (CSDL v3 and v4 use different ones)."""
    return tag.rsplit("}", 1)[-1]


def _unqualified(type_name: str) -> str:
    """`SAPB1.Document` -> `Document`; `Collection(SAPB1.DocumentLine)` -> `DocumentLine`."""
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        type_name = type_name[len("Collection("):-1]
    return type_name.rsplit(".", 1)[-1]


@dataclass
class ServiceMetadata:
    """Entity sets, their types and each type's properties (name -> CSDL type), as served."""

    entity_sets: dict[str, str] = field(default_factory=dict)  # set -> type name
    types: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> property -> type
    enums: set[str] = field(default_factory=set)
    version: str = ""  # the CSDL's edmx Version: "1.0" (b1s/v1) or "4.0" (b1s/v2)

    def type_of(self, entity_set: str) -> str | None:
        """The entity type name of a set (None when the server has no such set)."""
        return self.entity_sets.get(entity_set)

    def properties(self, entity_set: str) -> dict[str, str] | None:
        """The properties of a set's entity type (None when the set is unknown)."""
        type_name = self.type_of(entity_set)
        return None if type_name is None else self.types.get(type_name, {})

    def item_properties(self, csdl_type: str) -> dict[str, str]:
        """The properties of a collection's item type (empty for primitive collections)."""
        return self.types.get(_unqualified(csdl_type), {})

    def json_schema(self, csdl_type: str) -> dict[str, Any]:
        """A nullable JSON schema for a primitive, enum or complex CSDL type."""
        if csdl_type.startswith("Collection("):
            inner = csdl_type[len("Collection("):-1]
            return {"type": ["array", "null"], "items": self.json_schema(inner)}
        if csdl_type in INTEGER_TYPES:
            return {"type": ["integer", "null"]}
        if csdl_type in NUMBER_TYPES:
            return {"type": ["number", "null"]}
        if csdl_type == "Edm.Boolean":
            return {"type": ["boolean", "null"]}
        if csdl_type in DATE_TYPES:
            return {"type": ["string", "null"], "format": "date"}
        if csdl_type == "Edm.DateTimeOffset":
            return {"type": ["string", "null"], "format": "date-time"}
        name = _unqualified(csdl_type)
        if not csdl_type.startswith("Edm.") and name in self.types and name not in self.enums:
            props = {p: self.json_schema(t) for p, t in self.types[name].items()}
            return {"type": ["object", "null"], "properties": props}
        return {"type": ["string", "null"]}  # Edm.String, Edm.Time(OfDay), Edm.Guid, enums


def parse_csdl(document: bytes) -> ServiceMetadata:
    """Read a CSDL document (v3 or v4); ValueError when it is not one."""
    try:
        root = ET.fromstring(document)  # noqa: S314 (the configured Service Layer, expat limits)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    if _local(root.tag) != "Edmx":
        raise ValueError(f"not a CSDL document (root element {_local(root.tag)!r})")
    meta = ServiceMetadata(version=root.get("Version", ""))
    for element in root.iter():
        kind = _local(element.tag)
        if kind in ("EntityType", "ComplexType"):
            meta.types[element.get("Name", "")] = {
                prop.get("Name", ""): prop.get("Type", "Edm.String")
                for prop in element if _local(prop.tag) == "Property"}
        elif kind == "EnumType":
            meta.enums.add(element.get("Name", ""))
        elif kind == "EntitySet":
            meta.entity_sets[element.get("Name", "")] = _unqualified(element.get("EntityType", ""))
    if not meta.entity_sets:
        raise ValueError("the CSDL document lists no entity sets")
    return meta
