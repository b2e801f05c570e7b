"""Property value checks and normalisation, per the property's `type` (as HubSpot stores values).

HubSpot keeps every value as a string; dates accept `YYYY-MM-DD` or epoch milliseconds at midnight
UTC, datetimes ISO 8601 or epoch milliseconds; enumerations only their options (`;` separates the
values of a multi-select); bools `true`/`false`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any


def iso_ms(ts: float) -> str:
    """Epoch seconds as HubSpot writes timestamps: `2024-03-05T14:22:05.123Z`."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def as_string(raw: Any) -> str:
    """The string HubSpot stores for a JSON input value (numbers and bools arrive unquoted too)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class Invalid(Exception):
    """A value the property refuses: `error` is HubSpot's code (INVALID_OPTION, ...)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def _epoch_ms(value: str) -> int | None:
    if value.lstrip("-").isdigit():
        return int(value)
    return None


def _parse_datetime(value: str) -> datetime:
    ms = _epoch_ms(value)
    if ms is not None:
        return datetime.fromtimestamp(ms / 1000, UTC)
    text = value.replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def normalise(defn: dict, raw: Any) -> str:
    """Check `raw` against the property definition; return the stored string or raise Invalid."""
    value = as_string(raw)
    if value == "":
        return ""  # clearing a value is always allowed
    kind = defn["type"]
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise Invalid("INVALID_FLOAT", f"{value} was not a valid number.") from None
        if math.isnan(number) or math.isinf(number):
            raise Invalid("INVALID_FLOAT", f"{value} was not a valid number.")
        return value
    if kind == "date":
        return _normalise_date(value)
    if kind == "datetime":
        try:
            dt = _parse_datetime(value)
        except (ValueError, OverflowError, OSError):
            raise Invalid("INVALID_DATETIME", f"{value} was not a valid date/time.") from None
        return iso_ms(dt.timestamp())
    if kind == "enumeration":
        allowed = [o["value"] for o in defn.get("options", [])]
        parts = value.split(";") if defn.get("fieldType") == "checkbox" else [value]
        for part in parts:
            if part not in allowed:
                raise Invalid("INVALID_OPTION",
                              f"{part} was not one of the allowed options: [{', '.join(allowed)}]")
        return value
    if defn.get("name") == "email" and not _EMAIL.match(value):
        raise Invalid("INVALID_EMAIL", f"Email address {value} is invalid")
    if kind == "bool":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise Invalid("INVALID_BOOLEAN", f"{value} is not a valid boolean value.")
        return lowered
    return value


def _normalise_date(value: str) -> str:
    ms = _epoch_ms(value)
    if ms is not None:
        dt = datetime.fromtimestamp(ms / 1000, UTC)
        if (dt.hour, dt.minute, dt.second, dt.microsecond) != (0, 0, 0, 0):
            raise Invalid("INVALID_DATE",
                          f"{value} is at {dt.hour}:{dt.minute:02d}:{dt.second:02d}."
                          f"{dt.microsecond // 1000:03d} UTC, not midnight!")
        return dt.date().isoformat()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return _iso_midnight(value)
    except ValueError:
        raise Invalid("INVALID_DATE", f"{value} was not a valid date.") from None


def _iso_midnight(value: str) -> str:
    dt = _parse_datetime(value).astimezone(UTC)
    if (dt.hour, dt.minute, dt.second, dt.microsecond) != (0, 0, 0, 0):
        raise Invalid("INVALID_DATE", f"{value} is at {dt.strftime('%H:%M:%S')} UTC, not midnight!")
    return dt.date().isoformat()


def sort_key(defn: dict | None, value: str) -> tuple[int, Any]:
    """A comparable key for search filters and sorts (numbers and dates compare as numbers)."""
    if defn is not None and value != "":
        kind = defn["type"]
        try:
            if kind == "number":
                return (0, float(value))
            if kind in ("date", "datetime"):
                ms = _epoch_ms(value)
                if ms is not None:
                    return (0, float(ms))
                return (0, _parse_datetime(value if len(value) != 10 else value + "T00:00:00Z")
                        .timestamp() * 1000)
        except (ValueError, OverflowError, OSError):
            pass
    return (1, value.lower())
