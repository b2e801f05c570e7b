"""Regenerate `sap_metadata.json`: SAP's property sets for the entity types the sandbox serves.

Source: the models b1sl-python 0.16.0 generates from SAP's Service Layer API reference (Service
Layer 1.27, SAP 10.0 FP 2405): `b1sl/b1sl/models/_generated/entities/*.py` and
`complex_types.py`. Each field's `alias` is SAP's property name and its annotation gives the type.
Nothing here is typed by hand except the list of entity types to export and the Edm type rule:

- `int` -> Edm.Int32, `float` -> Edm.Double, `str` -> Edm.String, except that a `str` property whose
  name ends in `Date` is a date (Edm.DateTime in v1, Edm.Date in v2) and one ending in `Time` a time
  of day (Edm.Time / Edm.TimeOfDay), as SAP's own metadata types them (b1sl types both as str);
- `SapBool` -> the enum BoYesNoEnum (tYES/tNO); a b1sl enum -> that enum, its members kept;
- `list[X]` / `X` with X in complex_types -> a collection of / a single complex type X;
- a reference to another entity type is a navigation property: not a stored property, left out;
  so is b1sl's `@odata.etag` (an OData annotation).

Run: `.venv/bin/python -m sap_sandbox.generate_metadata` (with tests/sandbox on sys.path), or
`python tests/sandbox/sap_sandbox/generate_metadata.py`.
"""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
from importlib.metadata import version
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("sap_metadata.json")
# Entity set -> b1sl entity type (SAP's names; api-facts.md "SAP's metadata").
ENTITY_SETS = {
    "BusinessPartners": "BusinessPartner",
    "Invoices": "Document",
    "CreditNotes": "Document",
    "IncomingPayments": "Payment",
    "ChartOfAccounts": "ChartOfAccount",
    "ProfitCenters": "ProfitCenter",
    "PaymentTermsTypes": "PaymentTermsType",
}
KEYS = {"BusinessPartner": "CardCode", "Document": "DocEntry", "Payment": "DocEntry",
        "ChartOfAccount": "Code", "ProfitCenter": "CenterCode", "PaymentTermsType": "GroupNumber"}


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


class _Exporter:
    def __init__(self) -> None:
        from b1sl.b1sl.models._generated import complex_types, entities

        self.complex_module = complex_types
        self.entities = entities
        self.complex: dict[str, dict[str, str]] = {}
        self.enums: dict[str, list[str]] = {}

    def _type_of(self, alias: str, annotation: Any) -> str | None:
        """The property's type as stored in the JSON, or None for a navigation property."""
        annotation = _strip_optional(annotation)
        if isinstance(annotation, typing.ForwardRef | str):
            return None  # another entity type: a navigation property
        if typing.get_origin(annotation) is typing.Annotated:
            base = typing.get_args(annotation)[0]
            if base is bool:  # b1sl's SapBool: SAP's BoYesNoEnum
                self.enums.setdefault("BoYesNoEnum", ["tNO", "tYES"])
                return "SAPB1.BoYesNoEnum"
            annotation = base
        if typing.get_origin(annotation) is list:
            inner = self._type_of(alias, typing.get_args(annotation)[0])
            return None if inner is None else f"Collection({inner})"
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            self.enums[annotation.__name__] = [m.value for m in annotation]
            return f"SAPB1.{annotation.__name__}"
        if annotation is int:
            return "Edm.Int32"
        if annotation is float:
            return "Edm.Double"
        if annotation is bool:
            return "Edm.Boolean"
        if annotation is str:
            if alias.endswith("Date"):
                return "Edm.DateTime"
            if alias.endswith("Time"):
                return "Edm.Time"
            return "Edm.String"
        if isinstance(annotation, type) and getattr(self.complex_module, annotation.__name__,
                                                    None) is annotation:
            self._complex(annotation)
            return f"SAPB1.{annotation.__name__}"
        if isinstance(annotation, type):
            return None  # an entity model class: navigation
        raise TypeError(f"{alias}: unhandled annotation {annotation!r}")

    def properties(self, model: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in model.model_fields.values():
            if field.alias.startswith("@"):
                continue  # "@odata.etag": an OData annotation, not a property
            kind = self._type_of(field.alias, field.annotation)
            if kind is not None:
                out[field.alias] = kind
        return out

    def _complex(self, model: Any) -> None:
        if model.__name__ in self.complex:
            return
        self.complex[model.__name__] = {}  # placeholder against cycles
        self.complex[model.__name__] = self.properties(model)


def build() -> dict[str, Any]:
    exporter = _Exporter()
    entity_types = {}
    for type_name in dict.fromkeys(ENTITY_SETS.values()):
        model = getattr(exporter.entities, type_name)
        entity_types[type_name] = {"key": KEYS[type_name],
                                   "properties": exporter.properties(model)}
    return {
        "source": "b1sl-python models generated from SAP's Service Layer API reference "
                  "(b1sl/b1sl/models/_generated/entities/*.py, complex_types.py, enums.py)",
        "b1sl_version": version("b1sl-python"),
        "service_layer": "1.27 (SAP Business One 10.0 FP 2405), as b1sl-python states",
        "generated_by": "tests/sandbox/sap_sandbox/generate_metadata.py",
        "type_rule": "int Edm.Int32, float Edm.Double, str Edm.String; str named *Date "
                     "Edm.DateTime (v2 Edm.Date), *Time Edm.Time (v2 Edm.TimeOfDay); SapBool "
                     "SAPB1.BoYesNoEnum; navigation properties left out",
        "entity_sets": ENTITY_SETS,
        "entity_types": entity_types,
        "complex_types": dict(sorted(exporter.complex.items())),
        "enum_types": dict(sorted(exporter.enums.items())),
    }


def main() -> int:
    data = build()
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT} ({len(data['entity_types'])} entity types, "
          f"{len(data['complex_types'])} complex types, {len(data['enum_types'])} enums)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
