"""Setting values typed by the plugin's settings schema: the one place text becomes a value.

Why: settings reach a plugin as text from three sources that do not type them — environment
variables (`TARGET_HUBSPOT_FINANCE_*`, exported by Meltano for every setting with a value),
singer-sdk's own env parser (which leaves numbers as strings), and Meltano's config file for a
setting declared `kind: string` because Meltano 4.4.1 cannot carry a fraction (`kind: integer`
refuses `0.5`, `kind: decimal` from the environment becomes a Decimal it cannot write to JSON).
Each value is parsed by the JSON-schema type of its setting, so `'30'` is 30 and `'0.5'` is 0.5.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

TRUE = {"true", "1", "yes", "y", "on", "t"}
FALSE = {"false", "0", "no", "n", "off", "f", ""}


class SettingTypeError(ValueError):
    """A setting whose text is not a value of its type; the message names the setting."""


def _types(prop: Mapping[str, Any]) -> set[str]:
    """The JSON types a setting accepts (`type` as a string or list, or `anyOf` branches)."""
    found: set[str] = set()
    kind = prop.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(str(k) for k in kind)
    for branch in prop.get("anyOf") or prop.get("oneOf") or []:
        if isinstance(branch, Mapping):
            found |= _types(branch)
    return found - {"null"}


def parse(name: str, text: str, prop: Mapping[str, Any]) -> Any:
    """`text` as a value of the setting's type; strings and untyped settings stay as they are."""
    types = _types(prop)
    stripped = text.strip()
    if "string" in types or not types:
        return text
    if "boolean" in types and stripped.lower() in TRUE | FALSE:
        return stripped.lower() in TRUE
    if types & {"integer", "number"}:
        try:
            number = float(stripped)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            if "integer" in types and number.is_integer():
                return int(number)
            if "number" in types:
                return int(number) if stripped.lstrip("+-").isdigit() else number
        what = "a whole number" if "number" not in types else "a number"
        raise SettingTypeError(f"setting {name} must be {what}, got {stripped!r}")
    if types & {"object", "array"}:
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if "array" in types and isinstance(value, list):
            return value
        if "object" in types and isinstance(value, dict):
            return value
        if "array" in types and value is None and stripped and not stripped.startswith("["):
            return [part.strip() for part in stripped.split(",") if part.strip()]
        what = "a JSON array" if "array" in types else "a JSON object"
        raise SettingTypeError(f"setting {name} must be {what}")
    if types == {"boolean"}:
        raise SettingTypeError(f"setting {name} must be true or false, got {stripped!r}")
    raise SettingTypeError(f"setting {name} must be one of {sorted(types)}")


def typed(schema: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with every text value of a non-string setting parsed by its schema type. A
    `null` is a setting left unset (dropped, so its default applies everywhere: no `int(None)`,
    no enum refusing None)."""
    props = schema.get("properties") or {}
    out = {name: value for name, value in config.items() if value is not None}
    for name, value in out.items():
        if isinstance(value, str) and name in props:
            out[name] = parse(name, value, props[name])
    return out


def from_environment(schema: Mapping[str, Any], prefix: str,
                     environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings found in `<PREFIX><NAME>` variables, typed (e.g. `TARGET_HUBSPOT_FINANCE_`)."""
    environ = os.environ if environ is None else environ
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name, prop in props.items():
        var = prefix + name.upper().replace("-", "_")
        if var in environ:
            try:
                out[name] = parse(name, environ[var], prop)
            except SettingTypeError as exc:
                raise SettingTypeError(f"{exc} (from {var})") from None
    return out
