"""An invoice recomputed from the ledger after a cancelled payment (SAP did not re-stamp it):
what the remaining payments settle on it is everything SAP counts in PaidToDate for them, a
credit note such a payment used included (SAP applies the invoice line's whole SumApplied)."""

from __future__ import annotations

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg

CANCELLED = {"Cancelled": "tYES", "CancelStatus": "csYes"}


def _with_credit_note(n: int, invoice_entry: int, applied: float, credit: float,
                      **line) -> dict:
    """A payment whose invoice line applies `applied`, `credit` of it by a credit note."""
    record = payment(n, applies=[(invoice_entry, applied)], TransferSum=applied - credit)
    record["PaymentInvoices"][0].update(line)
    record["PaymentInvoices"].append({"LineNum": 1, "DocEntry": 30, "SumApplied": credit,
                                      "InvoiceType": "it_CredItnote"})
    return record


def test_cancelling_the_other_payment_keeps_what_a_credit_note_settled(hubspot_sandbox,
                                                                       target_config):
    """Invoice 220: payment 1 pays 100; payment 2 applies 110 (50 of it a credit note, 60
    money) plus a 10 cash discount. SAP then cancels payment 1 without re-stamping the
    invoice: PaidToDate 120 (money-and-credit 110 + discount 10), 100 open."""
    hs = hubspot_sandbox
    config = cfg(target_config)
    paid = invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close")
    second = _with_credit_note(2, 1, 110.0, 50.0, TotalDiscount=10.0)
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [paid]),
                         ("incoming_payments", [payment(1, applies=[(1, 100.0)]), second])))
    assert float(by(hs, "invoices", "sap_doc_entry")["1"]["hs_balance_due"]) == (
        pytest.approx(0.0))
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 100.0)],
                                                        **CANCELLED)])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert float(inv["hs_balance_due"]) == pytest.approx(100.0)  # HubSpot's own sum
    assert float(inv["sap_open_balance"]) == pytest.approx(100.0)  # SAP: 220 - 120
    assert float(inv["sap_paid_to_date"]) == pytest.approx(120.0)
    assert inv["hs_invoice_status"] == "open"


def test_a_ledger_from_before_settled_rows_still_counts_the_newer_payments_discount(
        hubspot_sandbox, target_config):
    """Upgrade path: payment 1 was synced by a version without `settled` rows (its rows are
    removed here), payment 2 (60 money + 10 cash discount) and payment 3 (100) by this one.
    SAP cancels payment 3 without re-stamping the invoice: 220 - (50 + 70) = 100 open. Each
    older payment falls back to its money row; the newer ones keep their discount."""
    from sqlalchemy import create_engine, text

    hs = hubspot_sandbox
    config = cfg(target_config)
    paid = invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close")
    second = payment(2, applies=[(1, 60.0)])
    second["PaymentInvoices"][0]["TotalDiscount"] = 10.0
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [paid]),
                         ("incoming_payments", [payment(1, applies=[(1, 50.0)]), second,
                                                payment(3, applies=[(1, 100.0)])])))
    with create_engine(target_config["ledger_url"]).begin() as conn:
        gone = conn.execute(text("delete from applications where kind = 'settled' and "
                                 "source_key like '1-%'")).rowcount
    assert gone == 1
    run(config, messages(("incoming_payments", [payment(3, applies=[(1, 100.0)],
                                                        **CANCELLED)])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert float(inv["hs_balance_due"]) == pytest.approx(100.0)  # HubSpot's own sum
    assert float(inv["sap_open_balance"]) == pytest.approx(100.0)
    assert float(inv["sap_paid_to_date"]) == pytest.approx(120.0)
