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


def post_payment(store: Store, card_code: str, lines: list[Record], way: str = "transfer",
                 doc_date: str | None = None) -> Record:
    """An incoming payment from `card_code` applying `lines` ({DocEntry, SumApplied,
    InvoiceType="it_Invoice"}): invoices are paid and re-stamped; other types stored as given."""
    if way not in PAYMENT_WAYS:
        raise ValueError(f"payment way must be one of {', '.join(PAYMENT_WAYS)}")
    with store.lock:
        day = doc_date or store.clock.stamp()[0]
        applied: list[Record] = []
        total = paid_invoices = 0.0
        for num, line in enumerate(lines):
            kind = line.get("InvoiceType", "it_Invoice")
            amount = round(float(line["SumApplied"]), 2)
            row = {"LineNum": num, "DocEntry": line["DocEntry"], "SumApplied": amount,
                   "AppliedFC": line.get("AppliedFC", 0.0), "InvoiceType": kind, "DocLine": 0}
            if kind == "it_Invoice":
                inv = dict(store.peek("Invoices", line["DocEntry"]))
                if inv["CardCode"] != card_code or inv["DocumentStatus"] != "bost_Open":
                    raise _refuse(f"Invoice {line['DocEntry']} is not open for {card_code}")
                if amount > round(inv["DocTotal"] - inv["PaidToDate"], 2) + 0.001:
                    raise _refuse(f"Amount applied exceeds the balance due of invoice "
                                  f"{line['DocEntry']}")
                row["AppliedFC"] = apply_to_invoice(inv, amount)
                store.update("Invoices", inv["DocEntry"], inv, keep_given_stamp=False)
                paid_invoices += amount
            applied.append(row)
            total += amount
        total = round(total, 2)
        partner = store.peek("BusinessPartners", card_code)
        record: Record = {
            "DocType": "rCustomer", "DocDate": day, "TaxDate": day, "CardCode": card_code,
            "CardName": partner.get("CardName"), "DocCurrency": "USD", "DocRate": 1.0,
            "CashSum": total if way == "cash" else 0.0,
            "TransferSum": total if way == "transfer" else 0.0,
            "TransferDate": day if way == "transfer" else None,
            "Cancelled": "tNO", "CancelStatus": "csNo", "PaymentInvoices": applied,
            "PaymentChecks": [check_line(day, total, 500000 + store.next_key("IncomingPayments"))]
            if way == "check" else [],
            "PaymentCreditCards": [card_line(total, "4242")] if way == "card" else [],
        }
        created = store.create("IncomingPayments", record)
        if paid_invoices:
            _adjust_balance(store, card_code, -paid_invoices)
        return created


def cancel_payment(store: Store, doc_entry: int, restamp: bool = True) -> Record:
    """Cancel a payment as SAP does; returns the cancelled payment. `restamp`
    (DataSpec.restamp_on_payment_cancel): the reopened invoices get a new UpdateDate/UpdateTime,
    else they keep theirs (SAP documents neither)."""
    with store.lock:
        pay = store.peek("IncomingPayments", doc_entry)
        if pay.get("Cancelled") == "tYES":
            raise _refuse("Document is already cancelled")
        reopened = 0.0
        for line in pay.get("PaymentInvoices") or []:
            if line.get("InvoiceType", "it_Invoice") != "it_Invoice":
                continue
            inv = dict(store.peek("Invoices", line["DocEntry"]))
            fc = line.get("AppliedFC") or 0.0
            apply_to_invoice(inv, -line["SumApplied"], -fc if fc else None)
            store.update("Invoices", inv["DocEntry"], inv, keep_given_stamp=not restamp)
            reopened += line["SumApplied"]
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
