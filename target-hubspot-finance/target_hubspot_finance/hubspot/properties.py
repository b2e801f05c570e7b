"""Start-up: the "SAP Business One" property group and every custom property the map writes.

Why once at start-up: the sinks can then upsert by `sap_card_code`, `sap_invoice_key`,
`sap_line_key` and `sap_payment_key` (unique-value properties) from the first batch. Existing
properties are read once per object type and never altered or deleted — a user's property with
the same name is left as it is (and reported if it is not unique where the target needs it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot.capabilities import payments_mode_problem
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import FatalHubSpotError, HubSpotError, RetryableError

LOGGER = logging.getLogger("target_hubspot_finance.properties")


class PropertySetupError(Exception):
    """A portal cannot take the target's writes (e.g. a key property exists but is not unique)."""


def ensure_properties(client: HubSpotClient, object_types: Sequence[str],
                      property_map: Mapping[str, Mapping[str, str | None]] | None = None
                      ) -> dict[str, int]:
    """Create the group and missing custom properties; return how many were created per type.

    Payments go first: a portal without the payments object, or that refuses custom properties
    on it (both undocumented or conditional, hubspot/capabilities.py), stops the run here with
    one line naming `payments_mode`, before anything is written.
    """
    created: dict[str, int] = {}
    for object_type in sorted(object_types, key=lambda t: t != "commerce_payments"):
        if object_type == "commerce_payments":
            try:
                created.update(_ensure(client, [object_type], property_map))
            except (FatalHubSpotError, RetryableError):
                raise
            except HubSpotError as exc:
                raise PropertySetupError(payments_mode_problem(exc)) from exc
            continue
        created.update(_ensure(client, [object_type], property_map))
    return created


def _ensure(client: HubSpotClient, object_types: Sequence[str],
            property_map: Mapping[str, Mapping[str, str | None]] | None) -> dict[str, int]:
    created: dict[str, int] = {}
    for object_type in object_types:
        wanted = mapping.custom_definitions(object_type, property_map)
        if not wanted:
            continue
        existing = {p["name"]: p for p in client.get_properties(object_type)}
        key = mapping.UNIQUE_KEYS.get(object_type)
        if key in existing and key != "email" and not existing[key].get("hasUniqueValue"):
            raise PropertySetupError(
                f"HubSpot {object_type} property {key} exists but is not unique; the target "
                f"upserts by it. Rename or delete that property in HubSpot, then rerun.")
        if object_type == "invoices" and existing.get("sap_doc_num", {}).get("hasUniqueValue"):
            LOGGER.warning(  # a portal set up before invoices were keyed by DocEntry
                "HubSpot invoices property sap_doc_num is unique in this portal (set up by an "
                "earlier version): invoices are keyed by sap_invoice_key (DocEntry) now, and a "
                "DocNum repeated in another numbering series waits in the dead-letter; see the "
                "README, 'DocNum and numbering series'")
        missing = [d for d in wanted if d["name"] not in existing]
        if missing:
            groups = {g["name"] for g in client.get_groups(object_type)}
            if mapping.GROUP_NAME not in groups:
                _tolerate_existing(partial(client.create_group, object_type,
                                           mapping.GROUP_NAME, mapping.GROUP_LABEL))
            if not _tolerate_existing(partial(client.create_properties, object_type, missing)):
                # A retried creation whose first try went through: "already exists" is
                # success for those; create the ones still missing (none in most cases).
                have = {p["name"] for p in client.get_properties(object_type)}
                rest = [d for d in missing if d["name"] not in have]
                if rest:
                    client.create_properties(object_type, rest)
            LOGGER.info("Created %d HubSpot %s properties in group %r", len(missing),
                        object_type, mapping.GROUP_LABEL)
        created[object_type] = len(missing)
    return created


def _tolerate_existing(create: Callable[[], None]) -> bool:
    """Run a creation; False when HubSpot answers 409 (it exists already), other errors raise."""
    try:
        create()
    except HubSpotError as exc:
        if exc.status != 409:
            raise
        return False
    return True
