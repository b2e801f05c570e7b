"""`incoming_payments` → HubSpot commerce payments, or payment properties on invoices/companies.

`payments_mode: commerce_payments` (default): one HubSpot payment per invoice a SAP payment pays
(`sap_payment_key` = DocEntry-LineNum; on-account money as DocEntry-account), so HubSpot's
per-invoice balance is right when one SAP payment settles several invoices. Each is associated
to its invoice (HubSpot's payments guide: that is how an external payment marks an invoice
paid) and to the company. A payment whose invoice is not in HubSpot yet waits in the ledger's
pending links and is associated when the invoice is synced (payment-before-invoice).
Call plan: one upsert per 100 payments, one association call per 100 new pairs per kind; the
pairs are held across drains (hubspot/associations.py), so only the run's last call is short.

`payments_mode: properties` (a portal without the payments object): the amounts are kept in
the ledger and summed onto invoices (`sap_payment_count`, `sap_last_payment_date`; paid to date
and open balance come with the invoice itself) and companies (`sap_paid_total`,
`sap_payment_count`, `sap_last_payment_date`): one update per 100 invoices and 100 companies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot import batches, invoice_paths, payment_create
from target_hubspot_finance.hubspot.client import BATCH_LIMIT
from target_hubspot_finance.ledger import Event, Totals
from target_hubspot_finance.sinks.base import HubSpotSink, reason


class PaymentsSink(HubSpotSink):
    """Writes incoming payments."""

    handler = "payments"
    key_field = "DocEntry"
    _lines = 0  # payment lines (HubSpot payments) in the batch being collected

    @property
    def is_full(self) -> bool:
        """Past `batch_size_rows`, drain when the lines fill whole upsert calls.

        Why: a SAP payment becomes one HubSpot payment per invoice it pays (1 to 3 lines), so a
        drain of exactly 1,000 records ends with a short upsert call (+4 % calls at 100k).
        Waiting for a multiple of 100 lines (at most half a batch more) saves that call.
        """
        size, limit = self.current_size, self.max_size
        if size < limit:
            return False
        return self._lines % BATCH_LIMIT == 0 or size >= limit + limit // 2

    def process_record(self, record: dict, context: dict) -> None:
        super().process_record(record, context)
        with contextlib.suppress(*mapping.MAPPING_ERRORS):  # dead-lettered: no upsert
            self._lines += len(mapping.payment_applications(record))

    def mark_drained(self) -> None:
        super().mark_drained()
        self._lines = 0

    def write(self, records: list[dict]) -> None:
        rt = self.rt
        events: list[Event] = []
        latest = self.latest(records)
        plans: dict[str, list[mapping.Application]] = {}
        bodies: dict[str, dict[str, dict]] = {}
        bad: dict[str, Any] = {}
        local = rt.config.get("local_currency") or None
        currencies = self._invoice_currencies(latest)
        for key, record in latest.items():
            try:
                if not mapping.text(record.get("CardCode")):
                    raise mapping.MappingError("payment without CardCode")
                apps = mapping.payment_applications(record, local, currencies)
                bodies[key] = {a.source_key: mapping.apply_property_map(
                    "commerce_payments", mapping.map_payment(record, a, rt.namespace, local),
                    record, rt.property_map) for a in apps}
                plans[key] = apps
            except mapping.MAPPING_ERRORS as exc:
                bad[key] = reason(mapping.describe(exc))
        if bad:
            events += self.fail(latest, bad)
        commerce = rt.payments_mode == "commerce_payments"
        hashes = {k: mapping.payment_hash(rt.payments_mode, bodies[k]) for k in plans}
        prior = rt.ledger.lookup("payments", plans)
        changed = {k: v for k, v in plans.items()
                   if k not in prior or prior[k].content_hash != hashes[k]}
        events += [Event(self.stream_name, k, "unchanged", prior[k].hubspot_id)
                   for k in plans if k not in changed]
        if changed:
            rt.ensure_ready()
            counted = self._counted(latest, changed)  # read before the rows are replaced
            for kind, rows in self._ledger_rows(latest, changed).items():
                rt.ledger.record_applications(kind, changed, rows)
            synced_before = {k: v for k, v in changed.items() if k in prior or k in counted}

            def reopen() -> dict[str, Any]:
                refused = self._reopen_invoices(latest, synced_before)
                # Its rows are gone now: a cancellation left unconfirmed is remembered as
                # written (no hash), so its retry still reopens what it had paid.
                rt.ledger.record_synced("payments", [(k, "-", None) for k in refused
                                                     if k not in prior])
                return refused

            if commerce:
                events += self._commerce(latest, changed, bodies, hashes, reopen)
            else:
                events += self._properties(latest, changed, hashes, reopen)
        self.done(events)

    def _ledger_rows(self, latest: dict[str, dict], changed: dict[str, list]
                     ) -> dict[str, list[dict]]:
        """Ledger rows per kind. `payment`: money received, SAP's local figures (a customer's
        `sap_paid_total`); `settled` (mapping.SETTLED): what settles each invoice in the
        invoice's own currency (money, a credit note the payment uses, cash discount,
        withholding: all of it is in the line's SumApplied or beside it, so in SAP's PaidToDate),
        read when an invoice is recomputed after a cancelled payment. A cancelled payment
        applies nothing."""
        rt = self.rt
        rows: dict[str, list[dict]] = {"payment": [], mapping.SETTLED: []}
        for k, apps in changed.items():
            if mapping.is_cancelled(latest[k]):
                continue
            card, num = rt.key(latest[k]["CardCode"]), mapping.text(latest[k].get("DocNum"))
            for a in apps:
                row = a.row(card, num) | {"source_key": rt.key(a.source_key), "invoice_key":
                                          rt.key(a.invoice_key) if a.invoice_key else ""}
                if a.method not in mapping.DEDUCTION_METHODS:
                    rows["payment"].append(row)
                if a.invoice_key:
                    rows[mapping.SETTLED].append(row | {"amount": a.amount})
        return rows

    def _counted(self, latest: dict[str, dict], changed: dict[str, list]) -> set[str]:
        """Cancelled payments whose money the ledger counts although they were never confirmed
        (a first sync HubSpot refused still recorded their applications, and the invoice may
        have reached HubSpot paid by them): their cancellation reopens like a synced one's."""
        rt = self.rt
        cancelled = {k for k in changed if mapping.is_cancelled(latest[k])}
        invoices = {rt.key(a.invoice_key) for k in cancelled for a in changed[k]
                    if a.invoice_key}
        sources = rt.ledger.application_sources("payment", invoices) if invoices else {}
        return {k for k in cancelled if any(s == k or s.startswith(f"{k}-") for s in sources)}

    def _reopen_invoices(self, latest: dict[str, dict], changed: dict[str, list]
                         ) -> dict[str, Any]:
        """Invoices a payment cancelled in SAP had paid (`changed`: payments synced before):
        status, paid to date and open balance again from the ledger (invoice total, the
        payments still applied, credits). A payment first seen cancelled paid nothing here.
        Returns HubSpot's refusal per cancelled payment whose invoice update failed: that
        payment is dead-lettered, not confirmed, so a rerun or replay reopens the invoice.

        Why: whether SAP re-stamps an invoice when a payment on it is cancelled is undocumented;
        without a new stamp the invoice is not read again and HubSpot would keep it `paid`.
        When SAP does re-stamp, the invoice's own record comes too and says the same.
        """
        rt = self.rt
        owners: dict[str, list[str]] = {}  # invoice key → the cancelled payments that paid it
        for k, apps in changed.items():
            if mapping.is_cancelled(latest[k]):
                for a in apps:
                    if a.invoice_key:
                        owners.setdefault(rt.key(a.invoice_key), []).append(k)
        invoices = rt.ledger.lookup("invoices", set(owners)) if owners else {}
        if not invoices:
            return {}
        money = rt.ledger.application_totals(mapping.INVOICE_MONEY, "invoice_key", invoices)
        settled = self._settled(invoices)
        credits = rt.ledger.application_totals("credit", "invoice_key", invoices)
        drafts = {d[0]: d for d in rt.ledger.drafts_for(
            {rt.key(latest[p]["CardCode"]) for ps in owners.values() for p in ps})}
        still_draft: list[tuple[str, str, str, str]] = []
        none = Totals(0.0, 0, None, ())
        items: dict[str, tuple[str, dict]] = {}
        for key, synced in invoices.items():
            if key not in money:  # total unknown (synced by an older version): left as it is
                continue
            total, done = money[key].amount, settled.get(key, 0.0)
            status = mapping.status_for(total, done, credits.get(key, none).amount, closed=False)
            if key in drafts:  # waiting for a contact: HubSpot refuses a status change
                still_draft.append((*drafts[key][:3], status))
            items[key] = (synced.hubspot_id, mapping.apply_property_map("invoices", {
                "hs_invoice_status": None if key in drafts else status,
                "sap_paid_to_date": mapping.money(done),
                "sap_open_balance": mapping.money(max(total - done, 0.0)),
                "sap_document_status": "bost_Open" if done < total - 0.005 else None}, {},
                rt.property_map))
        if still_draft:
            rt.ledger.set_drafts(still_draft, [])
        if not items:
            return {}
        items = {k: (i, {p: v for p, v in props.items() if v is not None})
                 for k, (i, props) in items.items()}
        written = invoice_paths.update(rt, items)
        refused = {k: {"figures_on": f"invoices {k}", **(
            e if isinstance(e, dict) else {"error": e})} for k, e in written.failed.items()}
        refused |= {k: reason(f"invoices {k} is not in HubSpot: not reopened after the "
                               "payment's cancellation") for k in written.missing}
        return {p: err for k, err in refused.items() for p in owners[k]}

    def _settled(self, invoices: Any) -> dict[str, float]:
        """What the payments still applied settle on each invoice, in its currency: their
        `settled` rows (money, credit notes used, discounts, withholding), and for a line synced
        by a version before those rows (upgrade: no `settled` row for its source) its `payment`
        row, money only in SAP's local figure: the best the ledger knows of it. Per line, so
        one older payment does not make the newer ones' discounts be forgotten."""
        ledger = self.rt.ledger
        out = {k: t.amount for k, t in
               ledger.application_totals(mapping.SETTLED, "invoice_key", invoices).items()}
        newer = ledger.application_sources(mapping.SETTLED, invoices)
        older = {s: i for s, i in ledger.application_sources("payment", invoices).items()
                 if s not in newer}
        for source, t in (ledger.application_totals("payment", "source_key", older).items()
                          if older else ()):
            out[older[source]] = round(out.get(older[source], 0.0) + t.amount, 2)
        return out

    def _invoice_currencies(self, latest: dict[str, dict]) -> dict[str, str]:
        """Invoice DocEntry → currency, from the ledger (recorded by the invoices sink), for
        the invoices these payments pay: each HubSpot payment is in its invoice's currency."""
        rt = self.rt
        entries: dict[str, str] = {}
        for record in latest.values():
            lines = record.get("PaymentInvoices") if isinstance(record, dict) else None
            for line in lines if isinstance(lines, list) else []:
                if isinstance(line, dict) and line.get("DocEntry") is not None:
                    entries[rt.key(line["DocEntry"])] = str(line["DocEntry"])
        totals = rt.ledger.application_totals(mapping.INVOICE_MONEY, "invoice_key", entries)
        return {entries[k]: t.doc_nums[0] for k, t in totals.items() if t.doc_nums}

    def _commerce(self, latest: dict[str, dict], changed: dict[str, list],
                  bodies: dict[str, dict[str, dict]], hashes: dict[str, str],
                  reopen: Callable[[], dict[str, Any]]) -> list[Event]:
        rt = self.rt
        events: list[Event] = []
        errors: dict[str, Any] = {}
        companies = rt.resolve_companies({str(latest[k]["CardCode"]): mapping.text(
            latest[k].get("CardName")) for k in changed})
        for key in changed:
            if str(latest[key]["CardCode"]) not in companies:
                errors[key] = reason(
                    f"no HubSpot company with sap_card_code {latest[key]['CardCode']} and "
                    "auto_create_companies is off: sync the customer first, then replay")
        items = {rt.key(a.source_key): (bodies[k][a.source_key]["sap_payment_key"],
                                        bodies[k][a.source_key])
                 for k, apps in changed.items() if k not in errors for a in apps}
        # new payments: created with their company and invoice links inline (one call per 100)
        written = payment_create.write(rt, items, changed, latest, companies)
        owner = {rt.key(a.source_key): k for k, apps in changed.items() for a in apps}
        for pkey, err in written.failed.items():
            errors.setdefault(owner[pkey], {"payment_line": pkey, **err})
        for pkey in written.missing:
            errors.setdefault(owner[pkey], reason("HubSpot returned no result"))
        for pkey in items:  # never a KeyError below: an unconfirmed line fails its payment
            if pkey not in written.ids:
                errors.setdefault(owner[pkey], reason("HubSpot neither confirmed nor refused "
                                                      f"payment line {pkey}"))
        for key, err in reopen().items():  # a cancellation is confirmed with its invoices
            errors.setdefault(key, err)
        invoice_keys = {rt.key(a.invoice_key) for apps in changed.values() for a in apps
                        if a.invoice_key}
        invoices = rt.ledger.lookup("invoices", invoice_keys)
        to_invoice: set[tuple[str, str]] = set()
        to_company: set[tuple[str, str]] = set()
        pair_owner: dict[tuple[tuple[str, str], tuple[str, str]], str] = {}
        waiting: list[tuple[str, str]] = []
        for key, apps in changed.items():
            if key in errors:
                continue
            company = companies[str(latest[key]["CardCode"])]
            for app in apps:
                pid = written.ids[rt.key(app.source_key)]
                to_company.add((pid, company))
                pair_owner[(("commerce_payments", "companies"), (pid, company))] = key
                if app.invoice_key:
                    inv = rt.key(app.invoice_key)
                    if inv in invoices:
                        to_invoice.add((pid, invoices[inv].hubspot_id))
                        pair_owner[(("commerce_payments", "invoices"),
                                    (pid, invoices[inv].hubspot_id))] = key
                    else:
                        waiting.append((pid, inv))
        links = self._target_ref.links
        for to_type, pairs in (("invoices", to_invoice), ("companies", to_company)):
            pairs -= rt.ledger.known_links("commerce_payments", to_type, pairs)
            links.add("commerce_payments", to_type, sorted(pairs))
        if waiting:
            rt.ledger.add_pending("commerce_payments", "invoices", waiting)
            self.logger.info("%d payment(s) wait for their invoice to reach HubSpot",
                             len(waiting))
        ok = [k for k in changed if k not in errors]
        first_id = {k: written.ids[rt.key(changed[k][0].source_key)] if changed[k] else "-"
                    for k in ok}
        # Synced (so unchanged next run) only once its links are sent: they may wait in the
        # buffer for a full call until the end of this drain_all (hubspot/associations.py).
        rows = [(k, first_id[k], hashes[k]) for k in ok]

        def confirm() -> None:  # links are part of the write: a refused one fails its payment
            refused: dict[str, Any] = {}
            for (kind, pair), key in pair_owner.items():
                err = links.refused.get((kind, pair))
                if err is not None:
                    refused.setdefault(key, {"link": f"{kind[0]}→{kind[1]} {pair[0]}→{pair[1]}",
                                             **(err if isinstance(err, dict) else
                                                {"error": err})})
            rt.ledger.record_synced("payments", [r for r in rows if r[0] not in refused])
            done = [Event(self.stream_name, k, "created" if any(
                written.new.get(rt.key(a.source_key)) for a in changed[k]) else "updated",
                first_id[k]) for k in ok if k not in refused]
            self.done(done + (self.fail(latest, refused) if refused else []))

        links.after(confirm)  # its events are logged then (a refused link fails the payment)
        if errors:
            events += self.fail(latest, errors)
        return events

    def _properties(self, latest: dict[str, dict], changed: dict[str, list],
                    hashes: dict[str, str], reopen: Callable[[], dict[str, Any]]
                    ) -> list[Event]:
        """Payment figures as invoice and company properties (no payments object)."""
        rt = self.rt
        inv_keys = {rt.key(a.invoice_key) for apps in changed.values() for a in apps
                    if a.invoice_key}
        invoices = rt.ledger.lookup("invoices", inv_keys)
        totals = rt.ledger.application_totals("payment", "invoice_key", list(invoices))
        none = Totals(0.0, 0, None, ())  # e.g. its only payment was cancelled: clear the figures
        inv_items = {k: (invoices[k].hubspot_id, mapping.apply_property_map("invoices", {
            "sap_payment_count": t.count, "sap_last_payment_date": t.last_date or ""}, {},
            rt.property_map)) for k, t in ((k, totals.get(k, none)) for k in invoices)}
        cards = {rt.key(latest[k]["CardCode"]) for k in changed}
        companies = rt.ledger.lookup("companies", cards)
        ctotals = rt.ledger.application_totals("payment", "card_code", list(companies))
        comp_items = {k: (companies[k].hubspot_id, mapping.apply_property_map("companies", {
            "sap_paid_total": t.amount, "sap_payment_count": t.count,
            "sap_last_payment_date": t.last_date or ""}, {}, rt.property_map))
            for k, t in ((k, ctotals.get(k, none)) for k in companies)}
        # The figures are the write: a payment whose invoice or company update HubSpot refused
        # (or whose object is gone) is not confirmed but dead-lettered, so a rerun sends it again.
        refused: dict[tuple[str, str], Any] = {}
        for object_type, items in (("invoices", inv_items), ("companies", comp_items)):
            if items:
                written = batches.update(rt.client, object_type, items)
                for k, err in written.failed.items():
                    refused[(object_type, k)] = {"figures_on": f"{object_type} {k}", **(
                        err if isinstance(err, dict) else {"error": err})}
                for k in written.missing:
                    refused[(object_type, k)] = reason(
                        f"{object_type} {k} is not in HubSpot: payment figures not written")
        errors: dict[str, Any] = reopen()
        for key, apps in changed.items():
            if key in errors:
                continue
            targets = [("invoices", rt.key(a.invoice_key)) for a in apps if a.invoice_key]
            targets.append(("companies", rt.key(latest[key]["CardCode"])))
            err = next((refused[t] for t in targets if t in refused), None)
            if err is not None:
                errors[key] = err
        ok = [k for k in changed if k not in errors]
        rt.ledger.record_synced("payments", [(k, "-", hashes[k]) for k in ok])
        return [Event(self.stream_name, k, "updated", None,
                      "payment figures on invoice/company properties") for k in ok] + (
            self.fail(latest, errors) if errors else [])
