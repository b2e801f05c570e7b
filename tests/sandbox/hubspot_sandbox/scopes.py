"""Which private-app scopes an endpoint needs (any one of the listed names is enough, as in
HubSpot's 403 body "One or more of the following scopes are required").

Names from developers.hubspot.com scopes reference: crm.objects.<type>.read/.write,
crm.schemas.<type>.read/.write; line items also accept the legacy `e-commerce` scope.
"""

from __future__ import annotations

from .catalog import ObjectType


def object_scopes(otype: ObjectType, write: bool) -> list[str]:
    return [f"crm.objects.{otype.scope}.{'write' if write else 'read'}",
            *otype.extra_write_scopes]


def schema_scopes(otype: ObjectType, write: bool) -> list[str]:
    if write:
        return [f"crm.schemas.{otype.scope}.write"]
    return [f"crm.schemas.{otype.scope}.read", f"crm.objects.{otype.scope}.read"]


def missing(granted: set[str] | None, needed: list[str]) -> bool:
    """True when a restricted token holds none of the names that would allow the call."""
    return granted is not None and not any(s in granted for s in needed)
