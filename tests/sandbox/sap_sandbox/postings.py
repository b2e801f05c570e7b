"""Business changes as SAP makes them: post and cancel incoming payments, cancel an invoice.

- Paying an invoice raises its PaidToDate (PaidToDateFC for a foreign-currency one), closes it when
  paid in full and re-stamps it (UpdateDate/UpdateTime); the payment itself carries no stamp
  (SAP's Payment type has none).
- Cancelling a payment sets its `Cancelled` tYES and `CancelStatus` csYes, takes back what it
  applied to invoices (PaidToDate/PaidToDateFC reduced, a closed invoice open again, re-stamped)
  and raises the customer's balance again. Lines of other InvoiceTypes (it_JournalEntry,
  it_DownPayment, it_CredItnote ...) name documents outside the Invoices set: nothing to reopen.
- A credit note based on an invoice (`post_credit_note`) needs that invoice open (SAP copies
  only open documents); with `reconcile` (DataSpec.credit_notes_reconcile) it is reconciled into
  the invoice like a payment (PaidToDate/PaidToDateFC raised, closed when covered, re-stamped),
  else the invoice is left as it was (no public source says which SAP does: see README).
- Cancelling an invoice closes the original (Cancelled tYES, CancelStatus csYes) and creates
  SAP's cancellation document in the same set (CancelStatus csCancellation). SAP refuses to
  cancel an invoice that payments are applied to (cancel those first).
Sources: SDK help "Payments Object Members" (Cancel), "Documents.CancelStatus" (api-facts.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sap_sandbox.datagen import (
    apply_to_invoice,
    cancel_document,
    card_line,
    check_line,
    credit_note_for,
    payment_sums,
    reconcile_credit,
)
from sap_sandbox.errors import SapError

if TYPE_CHECKING:
    from sap_sandbox.store import Store

Record = dict[str, Any]
PAYMENT_WAYS = ("cash", "transfer", "check", "card")


def _refuse(message: str) -> SapError:
    return SapError(400, -5002, message)


def _adjust_balance(store: Store, card_code: str, delta: float) -> None:
    """SAP keeps CurrentAccountBalance itself; the partner's UpdateDate does not move."""
    bp = store.peek("BusinessPartners", card_code)
    store.update("BusinessPartners", card_code, {
        "CurrentAccountBalance": round((bp.get("CurrentAccountBalance") or 0.0) + delta, 2),
        "UpdateDate": bp.get("UpdateDate"), "UpdateTime": bp.get("UpdateTime")})


DEDUCTIONS = (("TotalDiscount", "TotalDiscountFC"),
              ("WitholdingTaxApplied", "WitholdingTaxAppliedFC"))


def _deductions(line: Record, inv: Record) -> Record:
    """A line's cash discount and withholding tax (SDK help Payments_Invoices.TotalDiscount,
    .WitholdingTaxApplied: local currency), with their Fc twins on a foreign invoice."""
    foreign = inv.get("DocCurrency") not in (None, "USD")
    out: Record = {}
    for name, twin in DEDUCTIONS:
        value = round(float(line.get(name) or 0.0), 2)
        if value or line.get(twin):
            out[name] = value
            out[twin] = round(float(line[twin]), 2) if line.get(twin) is not None else (
                round(value / inv["DocRate"], 2) if foreign else 0.0)
    if out:
        for name, twin in DEDUCTIONS:
            out.setdefault(name, 0.0)
            out.setdefault(twin, 0.0)
    return out


def _deducted_before(store: Store, entry: int, fc: bool = False) -> float:
    """Discount and withholding that live payments settled on invoice `entry` (local, or the
    invoice's currency with `fc`)."""
    names = [twin if fc else name for name, twin in DEDUCTIONS]
    return round(sum(sum(line.get(n) or 0.0 for n in names)
                     for pay in store.entity_set("IncomingPayments").records.values()
                     if pay.get("Cancelled") != "tYES"
                     for line in pay.get("PaymentInvoices") or []
                     if line.get("InvoiceType", "it_Invoice") == "it_Invoice"
                     and line.get("DocEntry") == entry), 2)


def _balance_due(store: Store, inv: Record, counts_deductions: bool) -> float:
    """What is left to settle on an invoice (local currency)."""
    left = inv["DocTotal"] - inv["PaidToDate"]
    if not counts_deductions:
        left -= _deducted_before(store, inv["DocEntry"])
    return round(left, 2)


def _close(inv: Record) -> None:
    inv["DocumentStatus"] = "bost_Close"
    inv["DocumentLines"] = [dict(li, LineStatus="bost_Close") for li in inv["DocumentLines"]]


def _settle(store: Store, inv: Record, row: Record, counts_deductions: bool) -> float:
    """Apply a payment line to its invoice; returns the line's AppliedFC. With
    `counts_deductions` PaidToDate(FC) rises by SumApplied + discount + withholding, else by
    SumApplied alone; the invoice closes once the three cover what was left (no public SAP page
    says which PaidToDate rule holds: DataSpec.paid_to_date_counts_deductions)."""
    left = _balance_due(store, inv, counts_deductions)
    deduct = row.get("TotalDiscount", 0.0) + row.get("WitholdingTaxApplied", 0.0)
    deduct_fc = row.get("TotalDiscountFC", 0.0) + row.get("WitholdingTaxAppliedFC", 0.0)
    if not deduct:
        return apply_to_invoice(inv, row["SumApplied"])
    if counts_deductions:
        foreign = inv.get("DocCurrency") not in (None, "USD")
        given = (round(row["SumApplied"] / inv["DocRate"], 2) + deduct_fc) if foreign else None
        whole = apply_to_invoice(inv, round(row["SumApplied"] + deduct, 2), given)
        return round(whole - deduct_fc, 2)
    paid_fc = inv.get("PaidToDateFC") or 0.0
    applied_fc = apply_to_invoice(inv, row["SumApplied"])
    if round(row["SumApplied"] + deduct, 2) >= left - 0.001:
        _close(inv)
        if inv.get("DocCurrency") not in (None, "USD"):  # the FC part is what was left
            applied_fc = round(inv["DocTotalFc"] - paid_fc - deduct_fc
                               - _deducted_before(store, inv["DocEntry"], fc=True), 2)
            inv["PaidToDateFC"] = round(paid_fc + applied_fc, 2)
    return applied_fc


def post_payment(store: Store, card_code: str, lines: list[Record], way: str = "transfer",
                 doc_date: str | None = None, counts_deductions: bool = True,
                 currency: str = "USD") -> Record:
    """An incoming payment from `card_code` applying `lines` ({DocEntry, SumApplied,
    InvoiceType="it_Invoice"}): invoices are paid and re-stamped; other types stored as given.
    An invoice line may also settle a cash discount (`TotalDiscount`) and withholding tax
    (`WitholdingTaxApplied`), local currency (Fc twins at DocRate unless given): no money, but
    they settle the invoice with SumApplied; `counts_deductions`: see `_settle`."""
    if way not in PAYMENT_WAYS:
        raise ValueError(f"payment way must be one of {', '.join(PAYMENT_WAYS)}")
    with store.lock:
        day = doc_date or store.clock.stamp()[0]
        applied: list[Record] = []
        total = paid_invoices = total_fc = 0.0
        rate = 1.0  # a foreign `currency` payment: its invoices' DocRate (SumApplied stays local)
        for num, line in enumerate(lines):
            kind = line.get("InvoiceType", "it_Invoice")
            amount = round(float(line["SumApplied"]), 2)
            row = {"LineNum": num, "DocEntry": line["DocEntry"], "SumApplied": amount,
                   "AppliedFC": line.get("AppliedFC", 0.0), "InvoiceType": kind, "DocLine": 0}
            if kind == "it_Invoice":
                inv = dict(store.peek("Invoices", line["DocEntry"]))
                if inv["CardCode"] != card_code or inv["DocumentStatus"] != "bost_Open":
                    raise _refuse(f"Invoice {line['DocEntry']} is not open for {card_code}")
                if currency != "USD":
                    if inv["DocCurrency"] != currency:
                        raise _refuse(f"Invoice {line['DocEntry']} is in {inv['DocCurrency']}, "
                                      f"not in the payment's currency {currency}")
                    row["DocRate"] = rate = inv["DocRate"]
                if store.payment_before_invoice == "refuse" and day < inv["DocDate"][:10]:
                    raise _refuse(f"Payment date {day} is before the date of invoice "
                                  f"{line['DocEntry']} ({inv['DocDate'][:10]})")
                deduct = _deductions(line, inv)
                if deduct:
                    row.update(deduct)
                settles = round(amount + row.get("TotalDiscount", 0.0)
                                + row.get("WitholdingTaxApplied", 0.0), 2)
                if settles > _balance_due(store, inv, counts_deductions) + 0.001:
                    raise _refuse(f"Amount applied exceeds the balance due of invoice "
                                  f"{line['DocEntry']}")
                row["AppliedFC"] = _settle(store, inv, row, counts_deductions)
                store.update("Invoices", inv["DocEntry"], inv, keep_given_stamp=False)
                paid_invoices += settles
            applied.append(row)
            total += amount
            total_fc += row["AppliedFC"] or 0.0
        total = round(total, 2)
        paid = round(total_fc, 2) if currency != "USD" else total  # the payment's currency
        partner = store.peek("BusinessPartners", card_code)
        record: Record = {
            "DocType": "rCustomer", "DocDate": day, "TaxDate": day, "CardCode": card_code,
            "CardName": partner.get("CardName"), "DocCurrency": currency, "DocRate": rate,
            **payment_sums(way, total, paid if currency != "USD" else None, store.fc_cash_sum,
                           store.fc_transfer_sum),
            "TransferDate": day if way == "transfer" else None,
            "Cancelled": "tNO", "CancelStatus": "csNo", "PaymentInvoices": applied,
            "PaymentChecks": [check_line(day, paid, 500000 + store.next_key("IncomingPayments"),
                                         currency)] if way == "check" else [],
            "PaymentCreditCards": [card_line(paid, "4242", currency)] if way == "card" else [],
        }
        created = store.create("IncomingPayments", record)
        if paid_invoices:
            _adjust_balance(store, card_code, -paid_invoices)
        return created


def cancel_payment(store: Store, doc_entry: int, restamp: bool = True,
                   counts_deductions: bool = True) -> Record:
    """Cancel a payment as SAP does; returns the cancelled payment. `restamp`
    (DataSpec.restamp_on_payment_cancel): the reopened invoices get a new UpdateDate/UpdateTime,
    else they keep theirs (SAP documents neither). A line's discount and withholding are taken
    back with its SumApplied (from PaidToDate too when `counts_deductions`)."""
    with store.lock:
        pay = store.peek("IncomingPayments", doc_entry)
        if pay.get("Cancelled") == "tYES":
            raise _refuse("Document is already cancelled")
        reopened = 0.0
        for line in pay.get("PaymentInvoices") or []:
            if line.get("InvoiceType", "it_Invoice") != "it_Invoice":
                continue
            inv = dict(store.peek("Invoices", line["DocEntry"]))
            deducted = ((line.get("TotalDiscount") or 0.0)
                        + (line.get("WitholdingTaxApplied") or 0.0))
            back = line["SumApplied"] + (deducted if counts_deductions else 0.0)
            fc = (line.get("AppliedFC") or 0.0) + (((line.get("TotalDiscountFC") or 0.0) + (
                line.get("WitholdingTaxAppliedFC") or 0.0)) if counts_deductions else 0.0)
            apply_to_invoice(inv, -round(back, 2), -round(fc, 2) if fc else None)
            store.update("Invoices", inv["DocEntry"], inv, keep_given_stamp=not restamp)
            reopened += round(line["SumApplied"] + deducted, 2)
        cancelled = store.update("IncomingPayments", doc_entry,
                                 {"Cancelled": "tYES", "CancelStatus": "csYes"})
        if reopened:
            _adjust_balance(store, pay["CardCode"], reopened)
        return cancelled


def cancel_invoice(store: Store, doc_entry: int) -> Record:
    """Cancel an unpaid invoice as SAP does; returns the new cancellation document."""
    with store.lock:
        inv = dict(store.peek("Invoices", doc_entry))
        if inv.get("CancelStatus", "csNo") != "csNo":
            raise _refuse("Document is already cancelled")
        if inv.get("PaidToDate"):
            raise _refuse("Cannot cancel a document that payments are applied to; "
                          "cancel the payments first")
        was_open = inv["DocumentStatus"] == "bost_Open"
        day, time = store.clock.stamp()
        cancellation = cancel_document(inv, store.next_key("Invoices"), (day, time))
        store.update("Invoices", doc_entry, inv, keep_given_stamp=False)
        cancellation.update(DocNum=None, Series=inv.get("Series"))
        created = store.create("Invoices", cancellation, keep_given_stamp=False)
        if was_open:
            _adjust_balance(store, inv["CardCode"], -inv["DocTotal"])
        return created


def post_credit_note(store: Store, base_entry: int, line_num: int = 0,
                     quantity: float | None = None, reconcile: bool = False) -> Record:
    """A credit note crediting `quantity` (default: all) of line `line_num` of open invoice
    `base_entry`; returns it. `reconcile`: see the module docstring."""
    with store.lock:
        inv = dict(store.peek("Invoices", base_entry))
        if inv["CancelStatus"] != "csNo" or inv["DocumentStatus"] != "bost_Open":
            raise _refuse(f"Invoice {base_entry} is closed or cancelled: a credit note can be "
                          "based only on an open document")
        src = next((li for li in inv["DocumentLines"] if li["LineNum"] == line_num), None)
        if src is None:
            raise _refuse(f"Invoice {base_entry} has no line {line_num}")
        note = credit_note_for(inv, src, float(quantity or src["Quantity"]), store.clock.stamp())
        if reconcile:
            if note["DocTotal"] > round(inv["DocTotal"] - inv["PaidToDate"], 2) + 0.001:
                raise _refuse(f"The credit exceeds the open amount of invoice {base_entry}")
            reconcile_credit(inv, note)
            store.update("Invoices", base_entry, inv, keep_given_stamp=False)
        note.update(DocEntry=None, DocNum=None, Series=None)
        return store.create("CreditNotes", note, keep_given_stamp=False)
