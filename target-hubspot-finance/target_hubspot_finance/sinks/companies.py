"""`business_partners` → HubSpot companies (by `sap_card_code`) and their contacts (by e-mail).

Only the card types in `company_card_types` become companies (default customers, `cCustomer`;
add `cLid` for leads); suppliers and the rest are skipped and counted. Call plan per drain:
one companies upsert per 100 changed customers, one contacts upsert per 100 changed contact
persons, one contact→company association call per 100 new pairs.
"""

from __future__ import annotations

import re
from typing import Any

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot import batches, invoice_paths
from target_hubspot_finance.hubspot.associations import associate
from target_hubspot_finance.ledger import Event
from target_hubspot_finance.sinks.base import HubSpotSink, reason

DEFAULT_CARD_TYPES = ("cCustomer",)
# An address inside SAP's free-text E_Mail: "a@x; b@x", "Name <a@x>", "mailto:a@x".
_ADDRESS = re.compile(r"[^\s<>;,:\"'()\[\]]+@[^\s<>;,:\"'()\[\]]+")


def _unspace(rt: Any, key: str) -> str:
    """A ledger key without the `key_namespace` prefix (contacts_of adds it back)."""
    prefix = f"{rt.namespace}:" if rt.namespace else ""
    return key[len(prefix):] if prefix and key.startswith(prefix) else key


def _each_address(person: dict) -> list[tuple[str, dict]]:
    """A contact person per e-mail address: SAP's E_Mail field sometimes holds several
    (`a@x.com; b@x.com`), or one with a display name (`AP <a@x.com>`). HubSpot keys contacts by
    one bare address, so each becomes a contact of the company; the first keeps the person's
    ledger key, the others add `+<address>`."""
    raw = person.get("E_Mail")
    parts = _ADDRESS.findall(raw) if isinstance(raw, str) else []
    if len(parts) < 2:
        return [("", {**person, "E_Mail": parts[0]} if parts else person)]
    return [("" if i == 0 else f"+{p.lower()}", {**person, "E_Mail": p})
            for i, p in enumerate(parts)]


class CompaniesSink(HubSpotSink):
    """Upserts companies and their contact persons."""

    handler = "companies"
    key_field = "CardCode"

    def write(self, records: list[dict]) -> None:
        rt = self.rt
        wanted_types = set(rt.config.get("company_card_types") or DEFAULT_CARD_TYPES)
        events: list[Event] = []
        latest = self.latest(records)
        plans: dict[str, tuple[dict, list[tuple[str, dict]]]] = {}
        bad: dict[str, Any] = {}
        for key, record in latest.items():
            if record.get("CardType") not in wanted_types:
                events.append(Event(self.stream_name, key, "skipped",
                                    detail=f"CardType {record.get('CardType')} not synced"))
                continue
            try:
                props = mapping.apply_property_map("companies", mapping.map_company(
                    record, rt.namespace), record, rt.property_map)
                code = str(record["CardCode"])
                contacts = []
                for person in record.get("ContactEmployees") or []:
                    for suffix, one in _each_address(person):
                        cprops = mapping.map_contact(one, code)
                        if cprops:
                            contacts.append((
                                rt.key(mapping.contact_key(code, one.get("InternalCode")))
                                + suffix,
                                mapping.apply_property_map("contacts", cprops, one,
                                                           rt.property_map)))
            except mapping.MAPPING_ERRORS as exc:
                bad[key] = reason(mapping.describe(exc))
                continue
            plans[key] = (props, contacts)
        if bad:
            events += self.fail(latest, bad, doc_field="CardCode")

        prior = rt.ledger.lookup("companies", plans)
        hashes = {k: mapping.content_hash([p, c]) for k, (p, c) in plans.items()}
        changed = {k: v for k, v in plans.items()
                   if k not in prior or prior[k].content_hash != hashes[k]}
        events += [Event(self.stream_name, k, "unchanged", prior[k].hubspot_id)
                   for k in plans if k not in changed]
        if changed:
            rt.ensure_ready()
            written = batches.upsert(rt.client, "companies", "sap_card_code",
                                     {k: (p["sap_card_code"], p) for k, (p, _) in changed.items()})
            refused = self._contacts(changed, written.ids)
            self._finish_drafts(list(written.ids))
            # a company whose contact (or its link) HubSpot refused is not confirmed: its id
            # is kept, its hash is not, so the next run sends it again
            rt.ledger.record_synced("companies", [(k, i, None if k in refused else hashes[k])
                                                  for k, i in written.ids.items()])
            events += [Event(self.stream_name, k, "created" if written.new.get(k) else "updated",
                             i) for k, i in written.ids.items() if k not in refused]
            errors = dict(written.failed)
            errors.update(refused)
            errors.update({k: reason("HubSpot returned no result for this input")
                           for k in written.missing})
            if errors:
                events += self.fail(latest, errors, doc_field="CardCode")
        self.done(events)

    def _finish_drafts(self, company_keys: list[str]) -> None:
        """Invoices written as draft only because their customer had no contact yet (an
        invoice that came before its customer): now that contacts exist, associate one and
        set the status SAP gives. One association call and one update per 100 invoices."""
        rt = self.rt
        drafts = rt.ledger.drafts_for(company_keys)
        if not drafts:
            return
        contacts = rt.contacts_of({_unspace(rt, c) for _, c, _, _ in drafts})
        ready = [(k, i, w, contacts[_unspace(rt, c)][min(contacts[_unspace(rt, c)])])
                 for k, c, i, w in drafts if contacts.get(_unspace(rt, c))]
        if not ready:
            return
        pairs = {(i, cid) for _, i, _, cid in ready}
        pairs -= rt.ledger.known_links("invoices", "contacts", pairs)
        if pairs:
            if rt.client.associate_default("invoices", "contacts", sorted(pairs)):
                return  # not finished: tried again when the customer changes next
            rt.ledger.record_links("invoices", "contacts", pairs)
        written = invoice_paths.update(rt, {
            k: (i, {"hs_invoice_status": w}) for k, i, w, _ in ready})
        rt.ledger.set_drafts([], list(written.ids))
        rt.ledger.log_events([Event("invoices", k, "updated", i,
                                    f"left draft ({dict((r[0], r[2]) for r in ready)[k]}): "
                                    "the customer's contact arrived")
                              for k, i in written.ids.items()])

    def _contacts(self, changed: dict[str, tuple[dict, list]],
                  company_ids: dict[str, str]) -> dict[str, Any]:
        """Upsert contact persons by e-mail and link them to their company; returns
        {company key: HubSpot's answer} for companies with a refused contact or link.

        Two customers may share a contact e-mail: HubSpot holds one contact, linked to both.
        """
        rt = self.rt
        by_email: dict[str, dict] = {}
        owners: dict[str, list[tuple[str, str, str]]] = {}  # email → [(ckey, company key, id)]
        for key, (_props, contacts) in changed.items():
            if key not in company_ids:
                continue
            for ckey, cprops in contacts:
                by_email.setdefault(cprops["email"], cprops)
                owners.setdefault(cprops["email"], []).append((ckey, key, company_ids[key]))
        if not by_email:
            return {}
        prior = rt.ledger.lookup("contacts", [k for o in owners.values() for k, _, _ in o])
        hashes = {e: mapping.content_hash(p) for e, p in by_email.items()}
        todo = {e: (e, p) for e, p in by_email.items()
                if any(k not in prior or prior[k].content_hash != hashes[e]
                       for k, _, _ in owners[e])}
        ids = {e: prior[k].hubspot_id for e, o in owners.items() for k, _, _ in o
               if e not in todo and k in prior}
        refused: dict[str, Any] = {}
        if todo:
            written = batches.upsert(rt.client, "contacts", "email", todo)
            ids.update(written.ids)
            failed = dict(written.failed)
            failed.update({e: reason("HubSpot returned no result") for e in written.missing})
            for email, err in failed.items():
                for _ckey, key, _cid in owners[email]:
                    refused.setdefault(key, {"contact": email, **_as_dict(err)})
        rows = [(ckey, ids[e], hashes[e]) for e, o in owners.items() if e in ids
                for ckey, _, _ in o]
        rt.ledger.record_synced("contacts", rows)
        pair_owner = {(ids[e], cid): key for e, o in owners.items() if e in ids
                      for _, key, cid in o}
        pairs = set(pair_owner) - rt.ledger.known_links("contacts", "companies", pair_owner)
        for pair, err in associate(rt.client, rt.ledger, "contacts", "companies",
                                   pairs).items():
            refused.setdefault(pair_owner[pair], {"link": f"contact {pair[0]}",
                                                  **_as_dict(err)})
        return refused


def _as_dict(err: Any) -> dict:
    return err if isinstance(err, dict) else {"error": err}
