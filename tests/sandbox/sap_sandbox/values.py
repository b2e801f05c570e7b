"""How stored values are written on the wire (SAP's value forms).

Records are stored with dates as 'YYYY-MM-DD' and times as 'HH:MM:SS', the forms the Service
Layer serves and b1sl-python's typed models read unchanged (README: "Value forms"). The
`date_form` option serves dates in the two other forms public clients cope with, so a client
can be tested against them too:
- "iso-datetime": 'YYYY-MM-DDT00:00:00Z'
- "epoch-ms": '/Date(1735689600000)/' (the OData v2 JSON form b1sl-python also accepts)
"""

from __future__ import annotations

from datetime import date
from typing import Any

DATE_FORMS = ("iso", "iso-datetime", "epoch-ms")
_EPOCH = date(1970, 1, 1).toordinal()


def _date_value(value: Any, form: str) -> Any:
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-":
        return value
    if form == "iso-datetime":
        return f"{value}T00:00:00Z"
    days = date.fromisoformat(value).toordinal() - _EPOCH
    return f"/Date({days * 86_400_000})/"


def render_record(record: dict[str, Any], select: list[str] | None,
                  date_form: str = "iso") -> dict[str, Any]:
    """The record as served: projected to $select (in $select order), dates in `date_form`."""
    out = record if select is None else {name: record.get(name) for name in select}
    if date_form == "iso":
        return out
    return {k: _date_value(v, date_form) if k.endswith("Date") else v for k, v in out.items()}
