"""Moving one SAP company's keys to another `key_namespace` (setting `migrate_key_namespace`).

Why a move and not a plain rerun: the namespace is part of every unique key in HubSpot
(`sap_card_code`, `sap_invoice_key`, `sap_line_key`, `sap_payment_key`) and in the ledger, so a
run under a new namespace would create every object again. The move renames the keys where
they are: HubSpot objects keep their ids (and their links, history and what users added).

Order and restarts: HubSpot first (list each object type's keys, one read per 100 objects;
update those under the old namespace by id, one call per 100), then the ledger in one
transaction, then the ledger's namespace list. A move that stops half-way is simply run again:
the listing finds what still carries the old prefix, and the ledger still names the old one.
Contacts are keyed by e-mail (no namespace) and only move in the ledger.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from target_hubspot_finance.hubspot import batches
from target_hubspot_finance.ledger import LedgerMismatchError

if TYPE_CHECKING:
    from target_hubspot_finance.runtime import Runtime

LOGGER = logging.getLogger("target_hubspot_finance")
KEYS = {"companies": "sap_card_code", "invoices": "sap_invoice_key",
        "line_items": "sap_line_key", "commerce_payments": "sap_payment_key"}
PAGE = 100


def _prefix(namespace: str) -> str:
    return f"{namespace}:" if namespace else ""


def owned(key: str, namespace: str, others: set[str]) -> bool:
    """Is this key under `namespace`? No namespace: a key no other namespace claims."""
    if namespace:
        return key.startswith(f"{namespace}:")
    return not any(key.startswith(f"{o}:") for o in others if o)


def renamed(key: str, old: str, new: str) -> str:
    return _prefix(new) + key[len(_prefix(old)):]


def move(rt: Runtime, old: str, new: str, others: set[str]) -> None:
    """Rename every key under `old` to `new`, in HubSpot and in the ledger."""
    rt.ensure_ready()
    total = 0
    for object_type, prop in KEYS.items():
        if object_type not in rt.object_types():
            continue
        ids = {hid: key for hid, key in _listed(rt, object_type, prop).items()
               if owned(key, old, others)}
        if not ids:
            continue
        written = batches.update(rt.client, object_type, {
            hid: (hid, {prop: renamed(key, old, new)}) for hid, key in ids.items()})
        if written.failed:
            first = next(iter(written.failed.values()))
            raise LedgerMismatchError(
                f"moving key_namespace {old!r} to {new!r}: HubSpot refused {len(written.failed)} "
                f"{object_type} renames ({batches_text(first)}); nothing in the ledger moved "
                f"yet: fix that, then run again with migrate_key_namespace")
        total += len(written.ids)
    rt.ledger.move_namespace(old, new, others)
    LOGGER.warning("Moved key_namespace %r to %r: %d HubSpot objects renamed in place, the "
                   "ledger's keys moved; unset migrate_key_namespace", old, new, total)


def batches_text(err: object) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err)[:200]
    return str(err)[:200]


def _listed(rt: Runtime, object_type: str, prop: str) -> dict[str, str]:
    """{HubSpot id: key value} of every object of a type (one list call per 100)."""
    out: dict[str, str] = {}
    after: str | None = None
    while True:
        params = {"limit": PAGE, "properties": prop, **({"after": after} if after else {})}
        answer = rt.client.request("GET", f"/crm/v3/objects/{object_type}", params=params,
                                   kind=f"{object_type}.list") or {}
        for item in answer.get("results") or []:
            value = (item.get("properties") or {}).get(prop)
            if value:
                out[str(item["id"])] = str(value)
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out
