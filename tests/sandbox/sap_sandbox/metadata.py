"""`$metadata`: the CSDL document of the company's types, built from SAP's metadata data.

Every entity type the sandbox serves with all of SAP's properties (from `sap_metadata.json`,
generated from b1sl-python's models), the complex types they use, the enums, and the company's
UDFs. v1 is OData v3 CSDL (dates Edm.DateTime, times Edm.Time); v2 is OData v4 CSDL (Edm.Date,
Edm.TimeOfDay). The real document also lists hundreds of entity sets the sandbox does not serve.
"""

from __future__ import annotations

import functools
import json
from xml.sax.saxutils import escape

from sap_sandbox.schema import Schema

NAMESPACE = "SAPB1"
_V2_TYPES = {"Edm.DateTime": "Edm.Date", "Edm.Time": "Edm.TimeOfDay"}


def _type(kind: str, version: str) -> str:
    if version == "v2":
        if kind.startswith("Collection(") and kind[11:-1] in _V2_TYPES:
            return f"Collection({_V2_TYPES[kind[11:-1]]})"
        return _V2_TYPES.get(kind, kind)
    return kind


def _properties(props: dict[str, str], version: str, key: str | None = None) -> str:
    not_null = ' Nullable="false"'
    return "".join(
        f'<Property Name="{escape(name)}" Type="{_type(kind, version)}"'
        f'{not_null if name == key else ""}/>' for name, kind in props.items())


def metadata_xml(version: str, schema: Schema) -> bytes:
    """The EDMX document for "v1" (OData v3 CSDL) or "v2" (OData v4 CSDL)."""
    udfs = json.dumps(schema.udfs, sort_keys=True)
    return _document(version, udfs)


@functools.cache
def _document(version: str, udfs_json: str) -> bytes:
    schema = Schema(json.loads(udfs_json))
    enums = "".join(
        f'<EnumType Name="{name}">'
        + "".join(f'<Member Name="{m}" Value="{i}"/>' for i, m in enumerate(members))
        + "</EnumType>" for name, members in schema.enums.items())
    entity_types = set(schema.entity_sets.values())
    complex_types = "".join(
        f'<ComplexType Name="{name}">{_properties(props, version)}</ComplexType>'
        for name, props in schema.types.items() if name not in entity_types)
    types = "".join(
        f'<EntityType Name="{name}"><Key><PropertyRef Name="{schema.keys[name]}"/></Key>'
        f"{_properties(schema.types[name], version, schema.keys[name])}</EntityType>"
        for name in dict.fromkeys(schema.entity_sets.values()))
    sets = "".join(f'<EntitySet Name="{s}" EntityType="{NAMESPACE}.{t}"/>'
                   for s, t in schema.entity_sets.items())
    if version == "v1":
        head = ('<edmx:Edmx Version="1.0" '
                'xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
                '<edmx:DataServices m:DataServiceVersion="3.0" '
                'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
                f'<Schema Namespace="{NAMESPACE}" '
                'xmlns="http://schemas.microsoft.com/ado/2009/11/edm">')
        container = ('<EntityContainer Name="ServiceLayer" '
                     'm:IsDefaultEntityContainer="true">')
    else:
        head = ('<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
                f'<edmx:DataServices><Schema Namespace="{NAMESPACE}" '
                'xmlns="http://docs.oasis-open.org/odata/ns/edm">')
        container = '<EntityContainer Name="ServiceLayer">'
    body = (f'<?xml version="1.0" encoding="utf-8"?>{head}{enums}{complex_types}{types}'
            f"{container}{sets}</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return body.encode()
