"""Invoice writes by the path a portal takes: one call where it accepts it, HubSpot's documented
path where it refuses, remembered per portal.

Why: HubSpot's invoices guide documents create a draft → associate a contact and line items →
set the status to open. Creating an invoice already open in one call (the frugal path: one call
per 100 invoices) and writing `paid` directly (HubSpot documents paid as what recording payments
does) are undocumented. So a create carries the final status unless this portal refused that
before; a refusal that names `hs_invoice_status` sends the refused inputs again as drafts with
the same inline associations (the refused input wrote nothing) and then updates their status.
A portal that refuses `paid` gets `open`: the payments associated with the invoice make it paid.

Exactly once: a draft whose status update never happened is not recorded as synced, so the next
run creates it again, meets HubSpot's 409 on the unique `sap_invoice_key` and updates that invoice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from target_hubspot_finance.hubspot import batches
from target_hubspot_finance.hubspot.capabilities import (
    OPEN_ON_CREATE,
    PAID_SETTABLE,
    refused_currency,
    refuses_status,
)

if TYPE_CHECKING:
    from target_hubspot_finance.hubspot.batches import Written
    from target_hubspot_finance.runtime import Runtime

LOGGER = logging.getLogger("target_hubspot_finance")
STATUS = "hs_invoice_status"


def _status(props: dict) -> str:
    return str(props.get(STATUS) or "draft")


def _with_status(props: dict, status: str) -> dict:
    return {**props, STATUS: status}


def _merge(into: Written, other: Written) -> None:
    into.ids.update(other.ids)
    into.new.update(other.new)
    into.failed.update(other.failed)
    into.conflicts.update(other.conflicts)
    into.taken.update(other.taken)
    into.missing += [k for k in other.missing if k not in into.missing]


def _name_currency(written: Written) -> Written:
    """A refusal of `hs_currency` says which currency and what to do (the account's currencies
    are set up in HubSpot; whether the API refuses others is undocumented: both handled)."""
    for key, err in list(written.failed.items()):
        currency = refused_currency(err)
        if currency and isinstance(err, dict):
            written.failed[key] = {**err, "message": (
                f"HubSpot refused currency {currency}: it is not one of this account's "
                f"currencies; add {currency} in HubSpot (Settings > Account defaults > "
                f"Currencies), then replay. HubSpot said: {err.get('message', '')}")[:2000]}
    return written


def _paid_as_open(rt: Runtime) -> None:
    """Once a run: without HubSpot payments nothing will settle an invoice written open."""
    memo = rt.capabilities
    if rt.payments_mode == "commerce_payments" or "paid-as-open" in memo.warned:
        return
    memo.warned.add("paid-as-open")
    LOGGER.warning("This HubSpot portal refuses hs_invoice_status paid and payments_mode is %s "
                   "(no HubSpot payments to settle them): invoices paid in SAP stay open in "
                   "HubSpot; sap_paid_to_date and sap_open_balance hold SAP's figures. Set up "
                   "HubSpot payments and use payments_mode: commerce_payments to have them "
                   "paid", rt.payments_mode)


def create(rt: Runtime, items: dict[str, tuple[dict, list[dict]]], *args: Any) -> Written:
    """`batches.create` for invoices {key: (properties, inline associations)}, by the portal's
    path; `ids` holds only invoices HubSpot holds with their wanted status."""
    memo = rt.capabilities
    paid_ok = memo.get(PAID_SETTABLE) is not False
    want = {k: _status(p) for k, (p, _) in items.items()}
    if not paid_ok and "paid" in want.values():
        want = {k: "open" if s == "paid" else s for k, s in want.items()}
        _paid_as_open(rt)
    one_call = memo.get(OPEN_ON_CREATE) is not False
    first = {k: (_with_status(p, want[k] if one_call else "draft"), links)
             for k, (p, links) in items.items()}
    written = batches.create(rt.client, "invoices", first, *args)
    later = [] if one_call else [k for k in written.ids if want[k] != "draft"]
    if one_call:
        # A draft is never refused for its status: one holding that error shared a call
        # HubSpot failed whole for another input's, and is sent again with it.
        refused = [k for k, err in written.failed.items() if refuses_status(err)]
        if any(want[k] == "open" for k in refused):
            memo.set(OPEN_ON_CREATE, False)
        elif any(want[k] == "open" for k in written.ids):
            memo.set(OPEN_ON_CREATE, True)
        if refused:
            LOGGER.info("HubSpot refused %d invoice(s) created with their status in one call: "
                        "creating them as drafts, then setting the status (HubSpot's "
                        "documented path, kept for this portal)", len(refused))
            for key in refused:
                del written.failed[key]
            again = batches.create(rt.client, "invoices",
                                   {k: (_with_status(first[k][0], "draft"), first[k][1])
                                    for k in refused}, *args)
            _merge(written, again)
            later = [k for k in refused if k in again.ids and want[k] != "draft"]
    if later:
        opened = update(rt, {k: (written.ids[k], {STATUS: want[k]}) for k in later})
        for key in later:
            if key not in opened.ids:  # a draft HubSpot holds but did not open: not confirmed
                written.ids.pop(key, None)
                written.failed[key] = opened.failed.get(key) or {
                    "category": "TARGET",
                    "message": f"created as draft; HubSpot did not set status {want[key]}"}
    return _name_currency(written)


def update(rt: Runtime, items: dict[str, tuple[str, dict]]) -> Written:
    """`batches.update` for invoices {key: (HubSpot id, properties)}; `paid` becomes `open` on
    a portal that refuses it (HubSpot's payments make the invoice paid)."""
    memo = rt.capabilities
    paid_ok = memo.get(PAID_SETTABLE) is not False
    sent = {k: (i, p if paid_ok or _status(p) != "paid" else _with_status(p, "open"))
            for k, (i, p) in items.items()}
    if not paid_ok and any(_status(p) == "paid" for _, p in items.values()):
        _paid_as_open(rt)
    written = batches.update(rt.client, "invoices", sent)
    tried_paid = [k for k, (_, p) in sent.items() if STATUS in p and _status(p) == "paid"]
    refused = [k for k in tried_paid if k in written.failed and refuses_status(written.failed[k])]
    if refused:
        for key in refused:
            del written.failed[key]
        again = batches.update(rt.client, "invoices", {
            k: (sent[k][0], _with_status(sent[k][1], "open")) for k in refused})
        _merge(written, again)
        if again.ids:  # open passed where paid did not: the refusal was about paid
            memo.set(PAID_SETTABLE, False)
            _paid_as_open(rt)
    elif any(k in written.ids for k in tried_paid):
        memo.set(PAID_SETTABLE, True)
    return _name_currency(written)
