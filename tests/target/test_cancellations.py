"""Cancellations: a cancelled invoice is voided, SAP's cancellation document is neither an
invoice nor a credit, and a cancelled payment stops paying its invoice and counting for its
customer (both payments modes)."""

from __future__ import annotations

import pytest
from target_factory import credit_note, customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg


def test_a_cancelled_invoice_is_voided_and_the_cancellation_document_is_no_second_anything(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    cancelled = invoice(1, Cancelled="tYES", CancelStatus="csYes")
    reversal = invoice(2, CancelStatus="csCancellation", DocNum=4001)  # SAP's cancellation doc
    reversal_credit = credit_note(3, 1, amount=200.0) | {"CancelStatus": "csCancellation"}
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [cancelled, reversal, invoice(3)]),
                                     ("credit_notes", [reversal_credit,
                                                       credit_note(4, 3, amount=50.0)])))
    invoices = by(hs, "invoices", "sap_doc_entry")
    assert set(invoices) == {"1", "3"}
    assert invoices["1"]["hs_invoice_status"] == "voided"
    assert "sap_credited_amount" not in invoices["1"]
    assert float(invoices["3"]["sap_credited_amount"]) == pytest.approx(55.0)


def test_cancel_status_alone_voids_an_invoice(hubspot_sandbox, target_config):
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1, CancelStatus="csYes")])))
    assert by(hubspot_sandbox, "invoices", "sap_doc_entry")["1"]["hs_invoice_status"] == "voided"


def test_a_cancelled_payment_no_longer_pays_its_invoice_after_the_next_run(hubspot_sandbox,
                                                                          target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close")]),
        ("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    assert by(hs, "invoices", "sap_doc_entry")["1"]["hs_invoice_status"] == "paid"
    # SAP: the payment is cancelled, the invoice reopens (both come again in the next run)
    run(cfg(target_config), messages(
        ("invoices", [invoice(1, UpdateTime="12:00:00")]),
        ("incoming_payments", [payment(1, Cancelled="tYES", CancelStatus="csYes")])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "open"
    assert float(inv["hs_balance_due"]) == pytest.approx(220.0)
    (pay,) = hs.objects("commerce_payments")
    assert float(pay["properties"]["hs_initial_amount"]) == 0.0
    assert pay["properties"]["sap_cancelled"] == "true"


def test_properties_mode_a_cancelled_payment_no_longer_sets_last_payment_date_or_count(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]),
                         ("incoming_payments", [payment(1, applies=[(1, 100.0)]),
                                                payment(2, applies=[(1, 20.0)],
                                                        DocDate="2026-03-01")])))
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert (company["sap_payment_count"], company["sap_last_payment_date"]) == ("2", "2026-03-01")
    run(config, messages(("incoming_payments", [payment(2, applies=[(1, 20.0)],
                                                        DocDate="2026-03-01", Cancelled="tYES")])))
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert company["sap_payment_count"] == "1"
    assert company["sap_last_payment_date"] == "2026-02-01"
    assert float(company["sap_paid_total"]) == pytest.approx(100.0)
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert (inv["sap_payment_count"], inv["sap_last_payment_date"]) == ("1", "2026-02-01")
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 100.0)],
                                                        Cancelled="tYES")])))
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert company["sap_payment_count"] == "0"
    assert not company.get("sap_last_payment_date")


def test_a_payment_cancelled_in_sap_reopens_its_invoice_in_hubspot_after_the_next_run(tmp_path):
    """Whole pipeline (tap-sapb1 → target) against both sandboxes: SAP's own cancellation."""
    from bench.verdicts import make_pipeline
    from bench.world import world

    with world(tmp_path / "w", 60) as w:
        pipe = make_pipeline(w, tap={"payments_reread_days": 3650})
        first = pipe.run(timeout=240)
        assert first.ok, first.describe()
        pay = max((p for p in w.sap.all("IncomingPayments")
                   if [ln["InvoiceType"] for ln in p["PaymentInvoices"]] == ["it_Invoice"]),
                  key=lambda p: p["DocEntry"])
        entry = pay["PaymentInvoices"][0]["DocEntry"]
        before = by(w.hubspot, "invoices", "sap_doc_entry")[str(entry)]
        w.sap.cancel_payment(pay["DocEntry"])
        second = pipe.run(timeout=240)
        assert second.ok, second.describe()
        sap = w.sap.get("Invoices", entry)
        foreign = sap["DocCurrency"] != "USD"
        total = sap["DocTotalFc"] if foreign else sap["DocTotal"]
        paid = sap["PaidToDateFC"] if foreign else sap["PaidToDate"]
        inv = by(w.hubspot, "invoices", "sap_doc_entry")[str(entry)]
        assert float(inv["hs_amount_paid"]) < float(before["hs_amount_paid"])
        assert float(inv["hs_balance_due"]) == pytest.approx(total - paid, abs=0.05)
        assert inv["hs_invoice_status"] in ("open", "draft")  # draft: customer without contact
        key = f"{pay['DocEntry']}-{pay['PaymentInvoices'][0]['LineNum']}"
        hs_pay = by(w.hubspot, "commerce_payments", "sap_payment_key")[key]
        assert float(hs_pay["hs_initial_amount"]) == 0.0 and hs_pay["sap_cancelled"] == "true"


def test_a_credit_note_cancelled_later_reopens_the_invoice_it_voided(hubspot_sandbox,
                                                                     target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)]),
                                     ("credit_notes", [credit_note(1, 1, amount=200.0)])))
    assert by(hs, "invoices", "sap_doc_entry")["1"]["hs_invoice_status"] == "voided"
    # SAP: the credit note is cancelled (+ its cancellation document), the invoice reopens
    cancelled = credit_note(1, 1, amount=200.0) | {"Cancelled": "tYES", "CancelStatus": "csYes"}
    reversal = credit_note(2, 1, amount=200.0) | {"CancelStatus": "csCancellation"}
    run(cfg(target_config), messages(("credit_notes", [cancelled, reversal]),
                                     ("invoices", [invoice(1, UpdateTime="12:00:00")])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "open"
    assert float(inv["hs_balance_due"]) == pytest.approx(220.0)
    assert float(inv["sap_credited_amount"]) == 0.0


@pytest.mark.parametrize("open_amount", [None, 220.0])  # the mapper's OpenAmount, or none
def test_a_cancelled_invoice_leaves_nothing_open_for_finance(open_amount):
    """SAP closes a cancelled invoice (its cancellation document settles it) although its
    PaidToDate stays 0: summing sap_open_balance must not count it as money owed."""
    from target_hubspot_finance import mapping

    record = invoice(1, Cancelled="tYES", CancelStatus="csYes", DocumentStatus="bost_Close")
    if open_amount is not None:
        record["OpenAmount"] = open_amount
    props = mapping.map_invoice(record)
    assert props["hs_invoice_status"] == "voided"
    assert props["sap_open_balance"] == 0.0


def test_a_payment_first_seen_cancelled_leaves_its_paid_invoice_as_sap_says(hubspot_sandbox,
                                                                            target_config):
    """Only a payment synced before and cancelled since reopens invoices from the ledger: the
    invoice here was paid by money the target never saw (before start_date), so the ledger's
    sum (0) must not overrule SAP's PaidToDate."""
    run(cfg(target_config), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close")]),
        ("incoming_payments", [payment(2, applies=[(1, 220.0)], Cancelled="tYES",
                                       CancelStatus="csYes")])))
    inv = by(hubspot_sandbox, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "paid"
    assert float(inv["sap_open_balance"]) == 0
