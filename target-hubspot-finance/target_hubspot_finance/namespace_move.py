"""Moving one SAP company's keys to another `key_namespace` (setting `migrate_key_namespace`).

Why a move and not a plain rerun: the namespace is part of every unique key in HubSpot
(`sap_card_code`, `sap_invoice_key`, `sap_line_key`, `sap_payment_key`) and in the ledger, so a
run under a new namespace would create every object again. The move renames the keys where
they are: HubSpot objects keep their ids (and their links, history and what users added).

Order and restarts: HubSpot first (list each object type's keys, one read per 100 objects;
update those under the old namespace by id, one call per 100), then the ledger in one
transaction, then the ledger's namespace list. A move that stops half-way is simply run again:
the listing finds what still carries the old prefix, and the ledger still names the old one.
Contacts are keyed by e-mail (no namespace) and only move in the ledger. An invoice's
`sap_doc_num` carries the namespace too (reconcile and users tell a company's invoices by it),
so it moves with the key, also on invoices SAP never sends again.
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
ALSO = {"invoices": ("sap_doc_num",)}  # namespaced properties that are not the key
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
        names = (prop, *ALSO.get(object_type, ()))
        listed = {hid: values for hid, values in _listed(rt, object_type, names).items()
                  if owned(values.get(prop, ""), old, others)}
        if not old:
            listed = _not_another_company(rt, object_type, prop, listed)
        if not listed:
            continue
        written = batches.update(rt.client, object_type, {
            hid: (hid, {n: renamed(v, old, new) for n, v in values.items()
                        if n == prop or owned(v, old, others)})
            for hid, values in listed.items()})
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


def _not_another_company(rt: Runtime, object_type: str, prop: str,
                         listed: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Moving from no namespace: a key `X:...` in the portal is another SAP company's (written
    through another ledger) unless this ledger holds it. DocEntry-based keys (invoices, lines,
    payments) never hold ':' themselves; a CardCode may, so companies ask the ledger."""
    with_colon = [v[prop] for v in listed.values() if ":" in v[prop]]
    known = rt.ledger.lookup("companies", with_colon) if object_type == "companies" else {}
    return {hid: v for hid, v in listed.items() if ":" not in v[prop] or v[prop] in known}


def batches_text(err: object) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err)[:200]
    return str(err)[:200]


def _listed(rt: Runtime, object_type: str, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """{HubSpot id: {property: value}} of every object of a type that has its key (`names[0]`);
    one list call per 100."""
    out: dict[str, dict[str, str]] = {}
    after: str | None = None
    while True:
        params = {"limit": PAGE, "properties": ",".join(names),
                  **({"after": after} if after else {})}
        answer = rt.client.request("GET", f"/crm/v3/objects/{object_type}", params=params,
                                   kind=f"{object_type}.list") or {}
        for item in answer.get("results") or []:
            props = item.get("properties") or {}
            if props.get(names[0]):
                out[str(item["id"])] = {n: str(props[n]) for n in names if props.get(n)}
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out
