"""How stored values are written on the wire (SAP's value forms).

Records are stored with dates as 'YYYY-MM-DD' and times as 'HH:MM:SS'. The `date_form` option
says how dates leave the sandbox:
- "sap" (default): v1 '/Date(1735689600000)/' (b1sl-python: "In responses, dates appear as
  /Date(ms)/", the OData v2 JSON form SAP uses), v2 'YYYY-MM-DD' (OData v4's Edm.Date form);
- "iso": 'YYYY-MM-DD' on both (kinder: what b1sl's typed models turn /Date(ms)/ into);
- "iso-datetime": 'YYYY-MM-DDT00:00:00Z';
- "epoch-ms": '/Date(1735689600000)/' on both.
"""

from __future__ import annotations

from datetime import date
from typing import Any

DATE_FORMS = ("sap", "iso", "iso-datetime", "epoch-ms")
_EPOCH = date(1970, 1, 1).toordinal()


def _date_value(value: Any, form: str) -> Any:
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-":
        return value
    try:
        days = date.fromisoformat(value).toordinal() - _EPOCH
    except ValueError:  # a test's deliberately invalid date: served as stored
        return value
    if form == "iso-datetime":
        return f"{value}T00:00:00Z"
    return f"/Date({days * 86_400_000})/"


def wire_form(date_form: str, version: str) -> str:
    """The concrete form ("iso", "iso-datetime", "epoch-ms") of `date_form` on a version."""
    if date_form == "sap":
        return "epoch-ms" if version == "v1" else "iso"
    return date_form


def render_record(record: dict[str, Any], select: list[str] | None,
                  date_form: str = "iso") -> dict[str, Any]:
    """The record as served: projected to $select (in $select order), dates in `date_form`
    (a concrete form: see `wire_form`)."""
    out = record if select is None else {name: record.get(name) for name in select}
    if date_form == "iso":
        return out
    return _dated(out, date_form)


def _dated(record: dict[str, Any], form: str) -> dict[str, Any]:
    """Dates in `form` at every level: a collection's items (PaymentChecks[].DueDate) are typed
    by the same metadata as the record, so a server serves them in the same form."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key.endswith("Date"):
            value = _date_value(value, form)
        elif (isinstance(value, list) and value and isinstance(value[0], dict)
              and any(name.endswith("Date") for name in value[0])):
            value = [_dated(item, form) if isinstance(item, dict) else item for item in value]
        out[key] = value
    return out
