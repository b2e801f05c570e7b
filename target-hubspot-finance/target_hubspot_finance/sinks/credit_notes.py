"""`credit_notes` → the invoices they credit (HubSpot has no credit note object).

How a finance user sees it: the credited invoice carries `sap_credited_amount` (the sum of
every credit note against it, tax included pro rata, in the invoice's currency) and
`sap_credit_note_numbers`; an invoice credited in full is `voided` (not `paid`). The credit
note sets that status itself when it arrives after its invoice (a later drain or run), from
the invoice total the ledger keeps (applications of kind `invoice`): nothing waits for SAP to
send the invoice again. A cancelled credit note credits 0; SAP's cancellation document
(CancelStatus csCancellation) is skipped, never counted as a second credit.
The amounts live in the ledger (`applications`), so an invoice synced later — or re-synced —
gets the same figures (credit-before-invoice works).
With `payments_mode: commerce_payments` each credit is also a HubSpot payment of method
`credit note` on its invoice (`sap_payment_key` credit-<CN DocEntry>-<invoice DocEntry>): HubSpot
has no credit note object, and a payment associated with an invoice is what lowers its balance
due, so a partial credit lowers `hs_balance_due` by the credit (its amount paid includes it).
Call plan: one invoice batch update per 100 credited invoices HubSpot already holds; with
commerce payments one upsert per 100 credits and one association call per 100 new links.
"""

from __future__ import annotations

from typing import Any

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot import batches, invoice_paths
from target_hubspot_finance.ledger import Event
from target_hubspot_finance.sinks.base import HubSpotSink, reason


class CreditNotesSink(HubSpotSink):
    """Folds credit notes into the credited invoices' properties and status."""

    handler = "credit_notes"
    key_field = "DocEntry"

    def write(self, records: list[dict]) -> None:
        rt = self.rt
        local = rt.config.get("local_currency") or None
        events: list[Event] = []
        latest = self.latest(records)
        plans: dict[str, list[mapping.Application]] = {}
        bad: dict[str, Any] = {}
        for key, record in latest.items():
            if mapping.is_cancellation(record):
                events.append(Event(self.stream_name, key, "skipped", detail=(
                    "SAP cancellation document (CancelStatus csCancellation): not a credit")))
                continue
            try:
                plans[key] = mapping.credit_applications(record, local)
            except mapping.MAPPING_ERRORS as exc:
                bad[key] = reason(mapping.describe(exc))
        if bad:
            events += self.fail(latest, bad)
        hashes = {k: mapping.content_hash([a.__dict__ for a in apps]) for k, apps in plans.items()}
        prior = rt.ledger.lookup("credit_notes", plans)
        changed = {k: v for k, v in plans.items()
                   if k not in prior or prior[k].content_hash != hashes[k]}
        events += [Event(self.stream_name, k, "unchanged", prior[k].hubspot_id)
                   for k in plans if k not in changed]
        for key, apps in changed.items():
            if not apps:
                events.append(Event(self.stream_name, key, "skipped",
                                    detail="credit note not based on an invoice"))
        changed = {k: v for k, v in changed.items() if v}
        if not changed:
            self.done(events)
            return
        rt.ledger.record_applications("credit", changed, [
            a.row(rt.key(latest[k].get("CardCode")), mapping.text(latest[k].get("DocNum")))
            | {"source_key": rt.key(a.source_key), "invoice_key": rt.key(a.invoice_key)}
            for k, apps in changed.items() for a in apps])
        inv_keys = {rt.key(a.invoice_key) for apps in changed.values() for a in apps}
        invoices = rt.ledger.lookup("invoices", inv_keys)
        items = self._invoice_updates(invoices, {rt.key(latest[k].get("CardCode"))
                                                 for k in changed})
        failed: dict[str, Any] = {}
        rt.ensure_ready()
        if items:
            written = invoice_paths.update(rt, items)
            failed = written.failed
        errors = self._credit_payments(latest, changed, invoices)
        for key, apps in changed.items():
            bad_invoice = next((failed[rt.key(a.invoice_key)] for a in apps
                                if rt.key(a.invoice_key) in failed), None)
            if bad_invoice is not None:
                errors[key] = bad_invoice
        ok = [k for k in changed if k not in errors]
        first = {k: next((invoices[rt.key(a.invoice_key)].hubspot_id for a in changed[k]
                          if rt.key(a.invoice_key) in invoices), "-") for k in ok}
        rt.ledger.record_synced("credit_notes", [(k, first[k], hashes[k]) for k in ok])
        for key in ok:
            waiting = first[key] == "-"
            events.append(Event(self.stream_name, key, "updated", None if waiting else first[key],
                                "credited invoice not in HubSpot yet: applied when it is synced"
                                if waiting else "credit applied to invoice"))
        if errors:
            events += self.fail(latest, errors)
        self.done(events)

    def _credit_payments(self, latest: dict[str, dict],
                         changed: dict[str, list[mapping.Application]],
                         invoices: dict) -> dict[str, Any]:
        """`payments_mode: commerce_payments`: each credit also as a HubSpot payment (method
        `credit note`) associated with its invoice, so HubSpot's balance due drops by it; one
        upsert per 100 credits, one association call per 100 new pairs. An invoice not in
        HubSpot yet gets its link when it is synced (pending links, as for payments).
        Returns the credit notes that failed, with HubSpot's answer."""
        rt = self.rt
        if rt.payments_mode != "commerce_payments":
            return {}
        items: dict[str, tuple[str, dict]] = {}
        owner: dict[str, tuple[str, mapping.Application]] = {}
        for key, apps in changed.items():
            for app in apps:
                props = mapping.apply_property_map("commerce_payments", mapping.map_credit_payment(
                    latest[key], app, rt.namespace), latest[key], rt.property_map)
                pkey = rt.key(mapping.CREDIT_PAYMENT_PREFIX + app.source_key)
                items[pkey], owner[pkey] = (props["sap_payment_key"], props), (key, app)
        written = batches.upsert(rt.client, "commerce_payments", "sap_payment_key", items)
        errors: dict[str, Any] = {}
        for pkey, err in written.failed.items():
            errors.setdefault(owner[pkey][0], {"credit_payment": pkey, **err})
        for pkey in items:
            if pkey not in written.ids:
                errors.setdefault(owner[pkey][0], reason(
                    f"HubSpot neither confirmed nor refused credit payment {pkey}"))
        pairs: dict[tuple[str, str], str] = {}
        waiting: list[tuple[str, str]] = []
        for pkey, pid in written.ids.items():
            key, app = owner[pkey]
            inv = rt.key(app.invoice_key)
            if key in errors:
                continue
            if inv in invoices:
                pairs[(pid, invoices[inv].hubspot_id)] = key
            else:
                waiting.append((pid, inv))
        new = set(pairs) - rt.ledger.known_links("commerce_payments", "invoices", pairs)
        if new:
            failures = rt.client.associate_default("commerce_payments", "invoices", sorted(new))
            for failure in failures:
                for pair in failure.get("pairs") or [list(p) for p in new]:
                    key = pairs.get((str(pair[0]), str(pair[1])))
                    if key:
                        errors.setdefault(key, {"link": f"credit payment {pair[0]} → invoice "
                                                        f"{pair[1]}", **failure})
            rt.ledger.record_links("commerce_payments", "invoices",
                                   [p for p in new if pairs[p] not in errors])
        if waiting:
            rt.ledger.add_pending("commerce_payments", "invoices", waiting)
        return errors

    def _invoice_updates(self, invoices: dict, cards: set[str]) -> dict[str, tuple[str, dict]]:
        """Credited amount and numbers for each credited invoice HubSpot holds, and `voided`
        for one credited in full (compared in the invoice's currency with the total the
        invoices sink recorded). A draft (waiting for a contact) keeps its status in HubSpot
        and gets `voided` as the status it will take when it can leave draft."""
        rt = self.rt
        totals = rt.ledger.application_totals("credit", "invoice_key", list(invoices))
        own = rt.ledger.application_totals(mapping.INVOICE_MONEY, "invoice_key", list(invoices))
        drafts = {d[0]: d for d in rt.ledger.drafts_for(cards)}
        items: dict[str, tuple[str, dict]] = {}
        still_draft: list[tuple[str, str, str, str]] = []
        for key, credit in totals.items():
            props: dict[str, Any] = {"sap_credited_amount": credit.amount,
                                     "sap_credit_note_numbers": ", ".join(credit.doc_nums)}
            total = own[key].amount if key in own else None
            if total and mapping.status_for(total, 0.0, credit.amount, False) == "voided":
                if key in drafts:
                    still_draft.append((*drafts[key][:3], "voided"))
                else:
                    props["hs_invoice_status"] = "voided"
            items[key] = (invoices[key].hubspot_id,
                          mapping.apply_property_map("invoices", props, {}, rt.property_map))
        if still_draft:
            rt.ledger.set_drafts(still_draft, [])
        return items
