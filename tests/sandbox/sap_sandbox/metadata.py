"""A small `$metadata` document for the seven entity sets (the real one lists hundreds).

Enough for generic OData tooling to discover the sets, keys and property types; types are
inferred from a generated sample (dates and times by name, as SAP names them).
"""

from __future__ import annotations

import functools
from typing import Any
from xml.sax.saxutils import escape

from sap_sandbox.datagen import DataSpec, generate
from sap_sandbox.rows import Rows
from sap_sandbox.store import ENTITY_KEYS

NAMESPACE = "SAPB1"
ENTITY_TYPES = {"BusinessPartners": "BusinessPartner", "Invoices": "Document",
                "CreditNotes": "Document", "IncomingPayments": "Payment",
                "ChartOfAccounts": "ChartOfAccount", "ProfitCenters": "ProfitCenter",
                "PaymentTermsTypes": "PaymentTermsType"}
COMPLEX_TYPES = {"ContactEmployees": "ContactEmployee", "BPAddresses": "BPAddress",
                 "DocumentLines": "DocumentLine", "PaymentInvoices": "PaymentInvoice"}


def _edm(name: str, value: Any, version: str) -> str:
    if name in COMPLEX_TYPES:
        return f"Collection({NAMESPACE}.{COMPLEX_TYPES[name]})"
    if name.endswith("Date"):
        return "Edm.DateTime" if version == "v1" else "Edm.Date"
    if name.endswith("Time"):
        return "Edm.Time" if version == "v1" else "Edm.TimeOfDay"
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int32"
    if isinstance(value, float):
        return "Edm.Double"
    return "Edm.String"


def _properties(record: dict[str, Any], version: str, key: str | None = None) -> str:
    return "".join(
        f'<Property Name="{escape(k)}" Type="{_edm(k, v, version)}" '
        f'Nullable="{"false" if k == key else "true"}"/>' for k, v in record.items())


def _merge(fields: dict[str, Any], record: dict[str, Any]) -> None:
    """Keep each field's first non-null sample value (its type is what the document shows)."""
    for name, value in record.items():
        if fields.get(name) is None:
            fields[name] = value


@functools.cache
def metadata_xml(version: str) -> bytes:
    """The EDMX document for "v1" (OData v3 CSDL) or "v2" (OData v4 CSDL)."""
    sample = generate(DataSpec(seed=0, customers=20, suppliers=0, leads=0, invoices=1,
                               credit_notes=1, payments=1, lines_per_invoice=(1, 1)))
    complex_types: dict[str, dict[str, Any]] = {}
    entity_types: dict[str, tuple[str, dict[str, Any]]] = {}
    for set_name, type_name in ENTITY_TYPES.items():
        fields = entity_types.setdefault(type_name, (ENTITY_KEYS[set_name][0], {}))[1]
        for record in sample[set_name]:
            _merge(fields, record)
            for field, value in record.items():
                if field in COMPLEX_TYPES:
                    items = value.to_list() if isinstance(value, Rows) else value
                    for item in items:
                        _merge(complex_types.setdefault(COMPLEX_TYPES[field], {}), item)
    types = "".join(f'<ComplexType Name="{name}">{_properties(rec, version)}</ComplexType>'
                    for name, rec in complex_types.items())
    types += "".join(
        f'<EntityType Name="{name}"><Key><PropertyRef Name="{key}"/></Key>'
        f"{_properties(rec, version, key)}</EntityType>"
        for name, (key, rec) in entity_types.items())
    sets = "".join(f'<EntitySet Name="{s}" EntityType="{NAMESPACE}.{t}"/>'
                   for s, t in ENTITY_TYPES.items())
    if version == "v1":
        head = ('<edmx:Edmx Version="1.0" '
                'xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
                '<edmx:DataServices m:DataServiceVersion="3.0" '
                'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
                '<Schema Namespace="SAPB1" xmlns="http://schemas.microsoft.com/ado/2009/11/edm">')
        container = ('<EntityContainer Name="ServiceLayer" '
                     'm:IsDefaultEntityContainer="true">')
    else:
        head = ('<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
                '<edmx:DataServices><Schema Namespace="SAPB1" '
                'xmlns="http://docs.oasis-open.org/odata/ns/edm">')
        container = '<EntityContainer Name="ServiceLayer">'
    body = (f'<?xml version="1.0" encoding="utf-8"?>{head}{types}{container}{sets}'
            "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return body.encode()
