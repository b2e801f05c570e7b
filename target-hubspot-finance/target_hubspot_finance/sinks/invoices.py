"""`invoices` → HubSpot invoices (by `sap_doc_num`) with line items, company, contact and deal.

Call plan per drain (N changed invoices, L changed lines):
- companies: ledger first; one batch read per 100 unknown CardCodes; one upsert per 100 missing
  ones when `auto_create_companies` (else those invoices go to the dead-letter);
- line items: one upsert per 100 changed lines (`sap_line_key` = DocEntry-LineNum);
- new invoices: one batch *create* per 100 carrying the company, contact and line item
  associations inline, with the final status in the same call (HubSpot lets an invoice leave
  draft when the contact and line items come with it) — no association calls at all;
- changed invoices HubSpot already holds: one association call per 100 new pairs per kind
  (only pairs the ledger has not seen), then one batch update per 100 with the status;
- deals (`deal_id_field`): one association call per 100 invoices that name a deal;
- payments that arrived before their invoice (pending links): one association call per 100.
An invoice whose customer has no contact with an e-mail, or that has no line items, is written
as draft and reported (`draft: ...` in its sync event), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot import batches, invoice_paths
from target_hubspot_finance.hubspot.associations import associate
from target_hubspot_finance.hubspot.client import BATCH_LIMIT
from target_hubspot_finance.ledger import Event
from target_hubspot_finance.sinks.base import HubSpotSink, reason

DEFAULT_DEAL_FIELD = "U_HubSpotDealId"


@dataclass
class InvoicePlan:
    """One invoice to write: its properties, lines and what it links to."""

    record: dict
    props: dict
    lines: dict[str, dict]
    card_code: str
    contact_id: str | None = None
    deal_id: str | None = None
    notes: list[str] = field(default_factory=list)
    line_ids: list[str] = field(default_factory=list)
    company_id: str | None = None
    base: dict = field(default_factory=dict)  # the SAP-only properties the hash covers
    waits_for_contact: bool = False  # draft only because the customer has no contact yet


class InvoicesSink(HubSpotSink):
    """Writes invoices and everything hanging off them."""

    handler = "invoices"
    key_field = "DocEntry"

    def write(self, records: list[dict]) -> None:
        rt = self.rt
        events: list[Event] = []
        latest = self.latest(records)
        for key in [k for k, r in latest.items() if mapping.is_cancellation(r)]:
            latest.pop(key)  # SAP's cancellation document: the cancelled invoice is voided
            events.append(Event(self.stream_name, key, "skipped",
                                detail="SAP cancellation document (CancelStatus csCancellation)"))
        plans, bad = self._plan(latest)
        if bad:
            events += self.fail(latest, bad)
        self._remember_money(plans)
        prior = rt.ledger.lookup("invoices", plans)
        # The hash leaves out what credit notes and payments add (their sinks write those), so
        # an invoice is re-sent only when SAP changed it or its links did.
        hashes = {k: mapping.content_hash([p.base, p.props.get("hs_invoice_status"), p.lines,
                                           p.card_code, p.contact_id, p.deal_id])
                  for k, p in plans.items()}
        changed = {k: p for k, p in plans.items()
                   if k not in prior or prior[k].content_hash != hashes[k]}
        events += [Event(self.stream_name, k, "unchanged", prior[k].hubspot_id)
                   for k in plans if k not in changed]
        if changed:
            rt.ensure_ready()
            errors: dict[str, Any] = {}
            self._companies(changed, errors)
            self._lines(changed, errors)
            for key in errors:
                changed.pop(key, None)
            unlinked: dict[str, Any] = {}  # written, but a link refused: not confirmed
            ids, new = self._invoices(changed, prior, errors, unlinked)
            self._deals(changed, ids, unlinked)
            rt.ledger.record_synced("invoices", [(k, i, None if k in unlinked else hashes[k])
                                                 for k, i in ids.items()])
            rt.ledger.set_drafts(
                [(k, rt.key(changed[k].card_code), i, changed[k].props["hs_invoice_status"])
                 for k, i in ids.items() if changed[k].waits_for_contact],
                [k for k in ids if not changed[k].waits_for_contact])
            for key, hid in ids.items():
                if key in unlinked:
                    continue
                notes = changed[key].notes
                events.append(Event(self.stream_name, key, "created" if new.get(key) else "updated",
                                    hid, "; ".join(notes) or None))
            if errors:
                events += self.fail(latest, errors)
            if unlinked:
                events += self.link_failed(latest, unlinked, ids)
            self._relink_payments([k for k in ids if new.get(k) and k in prior], ids)
            self._pending_payments(ids)
        unchanged = {k: prior[k].hubspot_id for k in plans
                     if k in prior and prior[k].content_hash == hashes[k]}
        if unchanged:  # links a run that stopped before its flush left waiting
            self._pending_payments(unchanged)
        self.done(events)

    def _remember_money(self, plans: dict[str, InvoicePlan]) -> None:
        """Each invoice's currency and total (its own currency) in the ledger's applications
        (kind `invoice`): payment lines are written in their invoice's currency, and a credit
        note arriving in a later drain or run voids an invoice it credits in full."""
        local = self.rt.config.get("local_currency") or None
        rows = [mapping.invoice_money_row(k, p.record, local) for k, p in plans.items()]
        self._foreign = {r["source_key"]: r["doc_num"] for k, r in zip(plans, rows, strict=True)
                         if r["doc_num"] and mapping.is_foreign(plans[k].record, local)}
        if rows:
            self.rt.ledger.record_applications(mapping.INVOICE_MONEY, list(plans), rows)

    # -- planning -------------------------------------------------------------------------
    def _plan(self, latest: dict[str, dict]) -> tuple[dict[str, InvoicePlan], dict[str, Any]]:
        rt = self.rt
        skip_bad_lines = bool(rt.config.get("skip_invalid_line_items", False))
        deal_field = rt.config.get("deal_id_field") or DEFAULT_DEAL_FIELD
        self._report_missing_deal_field(deal_field)
        local = rt.config.get("local_currency") or None
        credits = rt.ledger.application_totals("credit", "invoice_key", latest)
        payments = (rt.ledger.application_totals("payment", "invoice_key", latest)
                    if rt.payments_mode == "properties" else {})
        contacts = rt.contacts_of({str(r.get("CardCode") or "") for r in latest.values()})
        plans: dict[str, InvoicePlan] = {}
        bad: dict[str, Any] = {}
        for key, record in latest.items():
            try:
                props = mapping.apply_property_map("invoices", mapping.map_invoice(
                    record, rt.namespace, credits.get(key), payments.get(key), local), record,
                    rt.property_map)
                card = mapping.text(record.get("CardCode"))
                if not card:
                    raise mapping.MappingError(f"invoice {record.get('DocNum')} has no CardCode")
                raw: dict[str, dict] = {}
                sources: dict[str, dict] = {}  # the SAP line each line item comes from
                notes: list[str] = []
                for line in record.get("DocumentLines") or []:
                    problem = mapping.line_problem(line)
                    if problem:
                        text = f"line {line.get('LineNum')}: {problem}"
                        if not skip_bad_lines:
                            raise mapping.MappingError(
                                text + " (skip_invalid_line_items sends the invoice without it)")
                        notes.append("skipped " + text)
                        continue
                    lkey = mapping.line_key(record, line, rt.namespace)
                    raw[lkey] = mapping.map_line_item(record, line, rt.namespace, local)
                    sources[lkey] = line
                if raw:  # + tax and what else makes SAP's total: HubSpot bills the line sum
                    raw = mapping.total_lines(record, raw, rt.namespace, local)
                lines = {k: mapping.apply_property_map("line_items", v, sources.get(k, record),
                                                       rt.property_map)
                         for k, v in raw.items()}
            except mapping.MAPPING_ERRORS as exc:
                bad[key] = reason(mapping.describe(exc))
                continue
            people = contacts.get(card, {})
            wanted = mapping.text(record.get("ContactPersonCode"))
            contact_id = people.get(wanted) if wanted in people else (
                people[min(people, key=_sortable)] if people else None)
            deal = mapping.text(record.get(deal_field))
            plans[key] = InvoicePlan(record, props, lines, card, contact_id, deal, notes,
                                     base=mapping.map_invoice(record, rt.namespace))
        return plans, bad

    _deal_field_reported = False

    def _report_missing_deal_field(self, deal_field: str) -> None:
        """One warning per run when the stream has no `deal_id_field` (a UDF a standard SAP
        company lacks, or not selected): invoices are written without deal links, not failed."""
        if self._deal_field_reported or deal_field in (self.schema.get("properties") or {}):
            return
        self._deal_field_reported = True
        self.logger.warning("%s records carry no %s (deal_id_field): the SAP company has no such "
                            "user-defined field or the catalog does not select it; invoices are "
                            "written without deal links", self.stream_name, deal_field)

    # -- steps ----------------------------------------------------------------------------
    def _companies(self, changed: dict[str, InvoicePlan], errors: dict[str, Any]) -> None:
        names = {p.card_code: mapping.text(p.record.get("CardName")) for p in changed.values()}
        found = self.rt.resolve_companies(names)
        for key, plan in changed.items():
            plan.company_id = found.get(plan.card_code)
            if plan.company_id is None:
                errors[key] = reason(
                    f"no HubSpot company with sap_card_code {plan.card_code} and "
                    "auto_create_companies is off: sync the customer first, then replay")

    def _lines(self, changed: dict[str, InvoicePlan], errors: dict[str, Any]) -> None:
        rt = self.rt
        all_lines = {lk: (k, props) for k, p in changed.items() if k not in errors
                     for lk, props in p.lines.items()}
        prior = rt.ledger.lookup("line_items", all_lines)
        hashes = {lk: mapping.content_hash(props) for lk, (_, props) in all_lines.items()}
        ids = {lk: prior[lk].hubspot_id for lk in all_lines
               if lk in prior and prior[lk].content_hash == hashes[lk]}
        todo = {lk: (props["sap_line_key"], props) for lk, (_, props) in all_lines.items()
                if lk not in ids}
        if todo:
            written = batches.upsert(rt.client, "line_items", "sap_line_key", todo)
            ids.update(written.ids)
            rt.ledger.record_synced("line_items", [(lk, i, hashes[lk])
                                                   for lk, i in written.ids.items()])
            failed = dict(written.failed)
            failed.update({lk: reason("HubSpot returned no result") for lk in written.missing})
            for lk, err in failed.items():
                inv = all_lines[lk][0]
                if rt.config.get("skip_invalid_line_items", False):
                    changed[inv].notes.append(f"skipped line {lk}: {err.get('message', err)}")
                else:
                    errors.setdefault(inv, {"line_item": lk, **err})
        for plan in changed.values():
            plan.line_ids = [ids[lk] for lk in plan.lines if lk in ids]

    def _final_status(self, plan: InvoicePlan) -> dict:
        props = dict(plan.props)
        status = props.get("hs_invoice_status", "draft")
        missing = [what for what, ok in (("a contact with an e-mail", plan.contact_id),
                                         ("line items", plan.line_ids)) if not ok]
        if status != "draft" and missing:
            props["hs_invoice_status"] = "draft"
            plan.waits_for_contact = bool(plan.line_ids)
            plan.notes.append(f"draft: no {' and no '.join(missing)} (SAP status {status})")
        return props

    def _links(self, plan: InvoicePlan) -> list[tuple[str, str]]:
        out = [("companies", plan.company_id)] if plan.company_id else []
        if plan.contact_id:
            out.append(("contacts", plan.contact_id))
        out += [("line_items", lid) for lid in plan.line_ids]
        return out

    def _invoices(self, changed: dict[str, InvoicePlan], prior: dict, errors: dict[str, Any],
                  unlinked: dict[str, Any]) -> tuple[dict[str, str], dict[str, bool]]:
        rt = self.rt
        ids: dict[str, str] = {}
        new: dict[str, bool] = {}
        bodies = {k: self._final_status(p) for k, p in changed.items()}
        to_create = [k for k in changed if k not in prior]
        to_update = {k: prior[k].hubspot_id for k in changed if k in prior}
        for _round in range(2):
            if to_create:
                items = {k: (bodies[k], [batches.association(mapping.INVOICE_TO[t], i)
                                         for t, i in self._links(changed[k])])
                         for k in to_create}
                written = invoice_paths.create(rt, items, mapping.UNIQUE_KEYS["invoices"])
                for key, hid in written.ids.items():
                    ids[key], new[key] = hid, True
                self._record_links({written.ids[k]: self._links(changed[k])
                                    for k in written.ids})
                errors.update(written.failed)
                to_update.update(self._own_conflicts(written.conflicts, errors))
                to_update.update(self._same_documents(written.taken, changed, errors))
                to_create = []
            if not to_update:
                break
            unlinked.update(self._associate({k: (i, self._links(changed[k]))
                                             for k, i in to_update.items()}))
            written = invoice_paths.update(rt, {k: (i, bodies[k]) for k, i in to_update.items()})
            for key, hid in written.ids.items():
                ids[key], new[key] = hid, False
            errors.update(written.failed)
            to_create = list(written.missing)  # deleted in HubSpot since: create again
            for key in to_create:  # with its links inline: the refusals of its dead id's
                unlinked.pop(key, None)  # links say nothing about the new invoice
            to_update = {}
            if not to_create:
                break
        for key in changed:  # never let a record pass unconfirmed (state would move past it)
            if key not in ids and key not in errors:
                errors[key] = reason("HubSpot neither confirmed nor refused this invoice")
        return ids, new

    def _own_conflicts(self, conflicts: dict[str, str], errors: dict[str, Any]) -> dict[str, str]:
        """A create refused because HubSpot holds the key already (a run that stopped before
        its ledger write): update that invoice, unless the ledger says the id is another SAP
        document's, which is never overwritten (dead-lettered with HubSpot's answer)."""
        if not conflicts:
            return {}
        theirs = {s.hubspot_id: k for k, s in self.rt.ledger.lookup_ids(
            "invoices", conflicts.values()).items()}
        own: dict[str, str] = {}
        for key, hid in conflicts.items():
            other = theirs.get(hid)
            if other is not None and other != key:
                errors[key] = reason(f"HubSpot invoice {hid} already belongs to SAP document "
                                     f"{other}; not overwritten")
            else:
                own[key] = hid
        return own

    def _same_documents(self, taken: dict[str, str], changed: dict[str, InvoicePlan],
                        errors: dict[str, Any]) -> dict[str, str]:
        """A create refused because another unique value is taken (a portal set up by an
        older version keeps `sap_doc_num` unique) may name this very document: a run that died
        before its ledger write, or the older version's invoice. HubSpot's object is read (one
        call per 100): the same `sap_invoice_key`, or none and the same DocEntry and DocNum,
        is this document's and is updated in place; anything else stays refused."""
        taken = {k: h for k, h in taken.items() if k in errors and k in changed}
        if not taken:
            return {}
        held = batches.read_ids(self.rt.client, "invoices", list(taken.values()),
                                ["sap_invoice_key", "sap_doc_entry", "sap_doc_num"])
        same: dict[str, str] = {}
        for key, hid in taken.items():
            mine, theirs = changed[key].props, held.get(hid) or {}
            key_value = theirs.get("sap_invoice_key")
            if (key_value and key_value == mine.get("sap_invoice_key")) or (
                    not theirs.get("sap_invoice_key") and theirs.get("sap_doc_num")
                    and theirs.get("sap_doc_entry") == mine.get("sap_doc_entry")
                    and theirs.get("sap_doc_num") == mine.get("sap_doc_num")):
                del errors[key]
                same[key] = hid
        return self._own_conflicts(same, errors)

    def _associate(self, wanted: dict[str, tuple[str, list[tuple[str, str]]]]
                   ) -> dict[str, Any]:
        """Associations an existing invoice lacks, one call per 100 pairs per object kind;
        returns {invoice key: HubSpot's answer} for invoices with a refused link."""
        rt = self.rt
        by_type: dict[str, dict[tuple[str, str], str]] = {}
        for key, (hid, links) in wanted.items():
            for to_type, to_id in links:
                by_type.setdefault(to_type, {})[(str(hid), str(to_id))] = key
        unlinked: dict[str, Any] = {}
        for to_type, owners in by_type.items():
            pairs = set(owners) - rt.ledger.known_links("invoices", to_type, owners)
            refused = associate(rt.client, rt.ledger, "invoices", to_type, pairs)
            for pair, err in refused.items():
                unlinked.setdefault(owners[pair], {"link": f"invoices→{to_type} {pair[1]}",
                                                   **_as_dict(err)})
        return unlinked

    def _record_links(self, links_by_invoice: dict[str, list[tuple[str, str]]]) -> None:
        """Remember the inline associations of created invoices (one write per kind)."""
        by_type: dict[str, list[tuple[str, str]]] = {}
        for hid, links in links_by_invoice.items():
            for to_type, to_id in links:
                by_type.setdefault(to_type, []).append((hid, to_id))
        for to_type, pairs in by_type.items():
            self.rt.ledger.record_links("invoices", to_type, pairs)

    def _deals(self, changed: dict[str, InvoicePlan], ids: dict[str, str],
               unlinked: dict[str, Any]) -> None:
        """Deal links (`deal_id_field`); a deal HubSpot does not know fails the invoice's
        confirmation (dead-letter, tried again on replay or when the invoice changes)."""
        rt = self.rt
        owners = {(ids[k], p.deal_id): k for k, p in changed.items() if k in ids and p.deal_id}
        pairs = set(owners) - rt.ledger.known_links("invoices", "deals", owners)
        refused = associate(rt.client, rt.ledger, "invoices", "deals", pairs)
        for pair, err in refused.items():
            unlinked.setdefault(owners[pair], {"link": f"deal {pair[1]}", **_as_dict(err)})

    def _relink_payments(self, recreated: list[str], ids: dict[str, str]) -> None:
        """An invoice deleted in HubSpot and created again has a new id: the payments linked
        to the old one are linked to it (found by `sap_payment_key`, one read per 100)."""
        rt = self.rt
        if not recreated or rt.payments_mode != "commerce_payments":
            return
        sources = rt.ledger.application_sources("payment", recreated)
        if not sources:
            return
        found = batches.read_by(rt.client, "commerce_payments", "sap_payment_key", list(sources))
        pairs = [(pid, ids[sources[pkey]]) for pkey, pid in found.items() if pkey in sources]
        self._target_ref.links.add("commerce_payments", "invoices", pairs)

    def _pending_currencies(self, waiting: list[tuple[str, str, str]]) -> None:
        """A payment written before its invoice may not have known the invoice's currency (a
        local-currency payment of a foreign invoice): each payment waiting for a foreign
        invoice of this write gets the invoice's currency, in full updates of 100 across
        drains; the rest once the links queued with it are sent (LinkBuffer.after)."""
        foreign = getattr(self, "_foreign", {})
        todo = self.__dict__.setdefault("_currency_todo", {})
        todo.update({str(pid): (str(pid), {"hs_currency_code": foreign[key]})
                     for kind, pid, key in waiting
                     if kind == "commerce_payments" and key in foreign})
        while len(todo) >= BATCH_LIMIT:
            self._send_currencies(BATCH_LIMIT)
        if todo:
            self._target_ref.links.after(lambda: self._send_currencies(len(todo)))

    def _send_currencies(self, count: int) -> None:
        todo = self._currency_todo
        chunk = {key: todo.pop(key) for key in list(todo)[:count]}
        if chunk:
            failed = batches.update(self.rt.client, "commerce_payments", chunk).failed
            if failed:
                self.logger.warning("currency of %d waiting payment(s) not set: %s",
                                    len(failed), next(iter(failed.values())))

    def _pending_payments(self, ids: dict[str, str]) -> None:
        """Associate payments that arrived before these invoices (payment-before-invoice)."""
        rt = self.rt
        waiting = rt.ledger.pending_for("invoices", ids)
        if not waiting:
            return
        links = self._target_ref.links  # full calls across drains (hubspot/associations.py)
        for from_type, from_id, key in waiting:
            links.add(from_type, "invoices", [(from_id, ids[key])])
        self._pending_currencies(waiting)
        # a refused link stays pending: sent again when the invoice is next synced
        links.after(lambda: rt.ledger.drop_pending("invoices", [
            w for w in waiting
            if ((w[0], "invoices"), (str(w[1]), str(ids[w[2]]))) not in links.refused]))


def _as_dict(err: Any) -> dict:
    return err if isinstance(err, dict) else {"error": err}


def _sortable(code: str) -> tuple[int, str]:
    return (int(code), code) if code.lstrip("-").isdigit() else (1 << 30, code)
