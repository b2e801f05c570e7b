"""A credit note updates the credited invoice's status itself, whenever it arrives: in a later
run, or in a later drain of the same run (any run over batch_size_rows invoices)."""

from __future__ import annotations

import pytest
from target_factory import credit_note, customer, invoice, messages, run
from target_hubspot_finance_testutil import by, cfg

from target_hubspot_finance import mapping


def test_a_full_credit_arriving_in_a_later_run_voids_the_invoice_without_it_being_resent(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1), invoice(2)])))
    assert by(hs, "invoices", "sap_doc_num")["4001"]["hs_invoice_status"] == "open"
    run(cfg(target_config), messages(("credit_notes", [credit_note(1, 1, amount=200.0),
                                                       credit_note(2, 2, amount=50.0)])))
    invoices = by(hs, "invoices", "sap_doc_num")
    assert invoices["4001"]["hs_invoice_status"] == "voided"      # 220 of 220 credited
    assert float(invoices["4001"]["sap_credited_amount"]) == pytest.approx(220.0)
    assert invoices["4002"]["hs_invoice_status"] == "open"        # 55 of 220: still open
    assert float(invoices["4002"]["sap_credited_amount"]) == pytest.approx(55.0)


def test_a_full_credit_in_a_later_drain_of_the_same_run_voids_the_invoice(hubspot_sandbox,
                                                                           target_config):
    hs = hubspot_sandbox
    run(cfg(target_config, batch_size_rows=2), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [invoice(n) for n in range(1, 5)]),
        ("credit_notes", [credit_note(1, 1, amount=200.0)])))
    invoices = by(hs, "invoices", "sap_doc_num")
    assert invoices["4001"]["hs_invoice_status"] == "voided"
    assert {invoices[f"400{n}"]["hs_invoice_status"] for n in (2, 3, 4)} == {"open"}


def test_a_foreign_invoice_is_voided_by_a_full_credit_in_its_own_currency(hubspot_sandbox,
                                                                           target_config):
    hs = hubspot_sandbox
    eur = invoice(1, DocCurrency="EUR", DocRate=1.2, DocTotal=264.0, DocTotalFc=220.0,
                  VatSum=24.0, VatSumFc=20.0)
    for line in eur["DocumentLines"]:
        line.update(Currency="EUR", LineTotal=120.0, RowTotalFC=100.0)
    run(cfg(target_config), messages(("business_partners", [customer(1)]), ("invoices", [eur])))
    credit = credit_note(1, 1, amount=200.0) | {"DocCurrency": "EUR", "DocRate": 1.2,
                                                "DocTotal": 264.0, "DocTotalFc": 220.0,
                                                "VatSum": 24.0, "VatSumFc": 20.0}
    credit["DocumentLines"][0].update(LineTotal=240.0, RowTotalFC=200.0)
    run(cfg(target_config), messages(("credit_notes", [credit])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert float(inv["sap_credited_amount"]) == pytest.approx(220.0)
    assert inv["hs_invoice_status"] == "voided"


def test_a_partial_credit_lowers_hubspots_balance_due_in_a_later_run(hubspot_sandbox,
                                                                     target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)])))
    run(cfg(target_config), messages(("credit_notes", [credit_note(1, 1, amount=50.0)])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert float(inv["hs_balance_due"]) == pytest.approx(165.0)  # 220 - 55 credited
    assert inv["hs_invoice_status"] == "open"
    (credit,) = hs.objects("commerce_payments")
    assert credit["properties"]["hs_payment_method"] == "credit note"
    assert credit["properties"]["sap_payment_key"] == "credit-1-1"


def test_a_credit_arriving_before_its_invoice_lowers_the_balance_when_the_invoice_comes(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("credit_notes", [credit_note(1, 1, amount=50.0)])))
    run(cfg(target_config), messages(("invoices", [invoice(1)])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert float(inv["hs_balance_due"]) == pytest.approx(165.0)
    assert float(inv["sap_credited_amount"]) == pytest.approx(55.0)


def test_credits_make_no_payment_objects_in_payments_mode_properties(hubspot_sandbox,
                                                                     target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)])))
    run(config, messages(("credit_notes", [credit_note(1, 1, amount=200.0)])))
    assert hs.objects("commerce_payments") == []
    assert by(hs, "invoices", "sap_doc_num")["4001"]["hs_invoice_status"] == "voided"


def test_a_partial_credit_never_makes_a_part_open_invoice_paid():
    # SAP: 220 billed, 110 paid, 55 credited (reconciled into PaidToDate: 165), 55 still open
    record = invoice(1, PaidToDate=165.0)
    assert mapping.invoice_status(record, credited=55.0) == "open"
    assert mapping.invoice_status(invoice(2, DocumentStatus="bost_Close"), credited=55.0) == "paid"
