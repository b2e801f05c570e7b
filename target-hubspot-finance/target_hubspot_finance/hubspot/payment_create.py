"""New payments are created with their invoice and company associations inline, as invoices are.

Why: a batch upsert cannot carry associations, so upserted payments cost one association call
per 100 pairs per kind on top of the upsert (60 of 345 calls for 5,000 invoices and 3,000
payments). A payment the ledger has never seen is created instead (batch create takes inline
associations): one call per 100 payment lines in a first load. Payments the ledger knows, and
any create HubSpot answers with a 409 (the payment is there already, e.g. a run killed before
its ledger write), are upserted by `sap_payment_key` as before and linked through the buffer.

Association type ids (payment→invoice, payment→company) are read once per portal from
`/crm/v4/associations/{from}/{to}/labels` (api-facts: use the labels rather than hard-coding the
reverse ids, which no HubSpot page confirms) and remembered in the ledger (capabilities.Memo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from target_hubspot_finance.hubspot import batches
from target_hubspot_finance.hubspot.errors import FatalHubSpotError, HubSpotError

if TYPE_CHECKING:
    from target_hubspot_finance.hubspot.batches import Written
    from target_hubspot_finance.runtime import Runtime

OBJECT = "commerce_payments"
KEY = "sap_payment_key"


def default_type_id(rt: Runtime, from_type: str, to_type: str) -> int | None:
    """HubSpot's unlabelled (default) association type id, once per portal; None if unknown."""
    name = f"assoc_type:{from_type}->{to_type}"
    known = rt.capabilities.value(name)
    if known is not None:
        return int(known) if known.isdigit() else None
    try:
        answer = rt.client.request("GET", f"/crm/v4/associations/{from_type}/{to_type}/labels",
                                   kind=f"labels.{from_type}->{to_type}") or {}
    except FatalHubSpotError:
        raise
    except HubSpotError:
        return None  # not remembered: asked again next run; this run links through the buffer
    found = [r.get("typeId") for r in answer.get("results") or []
             if r.get("category") == "HUBSPOT_DEFINED" and not r.get("label")]
    type_id = int(found[0]) if found and str(found[0]).isdigit() else None
    rt.capabilities.set_value(name, str(type_id) if type_id is not None else "none")
    return type_id


def write(rt: Runtime, items: dict[str, tuple[str, dict]], changed: dict[str, list],
          latest: dict[str, dict], companies: dict[str, str]) -> Written:
    """Write payment lines {line key: (sap_payment_key, properties)}: create the lines of
    payments new to the ledger with their links inline, upsert the rest (as `batches.upsert`)."""
    owner = {rt.key(a.source_key): (k, a) for k, apps in changed.items() for a in apps}
    prior = rt.ledger.lookup("payments", list(changed))
    fresh = [p for p in items if owner[p][0] not in prior]
    written = batches.Written()
    upserts = {p: items[p] for p in items if p not in fresh}
    if fresh:
        to_company = default_type_id(rt, OBJECT, "companies")
        to_invoice = default_type_id(rt, OBJECT, "invoices")
        if to_company is None or to_invoice is None:
            upserts = dict(items)  # type ids unknown: the old path (upsert, then link calls)
        else:
            _create(rt, items, fresh, owner, latest, companies, (to_company, to_invoice),
                    written, upserts)
    if upserts:
        done = batches.upsert(rt.client, OBJECT, KEY, upserts)
        written.ids.update(done.ids)
        written.new.update(done.new)
        written.failed.update(done.failed)
        written.missing += done.missing
    return written


def _create(rt: Runtime, items: dict[str, tuple[str, dict]], fresh: list[str],
            owner: dict[str, tuple[str, Any]], latest: dict[str, dict],
            companies: dict[str, str], type_ids: tuple[int, int], written: Written,
            upserts: dict[str, tuple[str, dict]]) -> None:
    to_company, to_invoice = type_ids
    invoice_keys = {rt.key(a.invoice_key) for _, a in owner.values() if a.invoice_key}
    invoices = rt.ledger.lookup("invoices", invoice_keys)
    links: dict[str, list[tuple[str, str]]] = {}
    for pkey in fresh:
        key, app = owner[pkey]
        wanted = []
        company = companies.get(str(latest[key].get("CardCode")))
        if company:
            wanted.append(("companies", company))
        inv = rt.key(app.invoice_key) if app.invoice_key else None
        if inv in invoices:
            wanted.append(("invoices", invoices[inv].hubspot_id))
        links[pkey] = wanted
    ids = {"companies": to_company, "invoices": to_invoice}
    created = batches.create(rt.client, OBJECT, {
        p: (items[p][1], [batches.association(ids[t], i) for t, i in links[p]])
        for p in fresh}, KEY)  # a 409 on KEY: there already; any other 409 fails the line
    for pkey, hid in created.ids.items():
        written.ids[pkey], written.new[pkey] = hid, True
    written.failed.update(created.failed)
    for kind in ("companies", "invoices"):  # made inline: the buffer will not send them again
        rt.ledger.record_links(OBJECT, kind, [(created.ids[p], i) for p in created.ids
                                              for t, i in links[p] if t == kind])
    for pkey in fresh:  # there already (409) or unanswered: upsert by the unique key
        if pkey not in created.ids and pkey not in created.failed:
            upserts[pkey] = items[pkey]
