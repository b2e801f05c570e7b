"""mapping.payment_applications: a cash discount and withholding tax a payment line settles are
applications of their own on the invoice, in its currency; the money stays SumApplied."""

from __future__ import annotations

import pytest

from target_hubspot_finance import mapping


def payment(line: dict, **extra) -> dict:
    return {"DocEntry": 7, "DocNum": 9007, "DocDate": "2026-03-01", "CardCode": "C1",
            "DocCurrency": "USD", "DocRate": 1.0, "TransferSum": line["SumApplied"],
            "Cancelled": "tNO", "PaymentInvoices": [{"LineNum": 0, "DocEntry": 5,
                                                     "InvoiceType": "it_Invoice"} | line]} | extra


def by_key(apps) -> dict[str, mapping.Application]:
    return {a.source_key: a for a in apps}


def test_discount_and_withholding_are_their_own_applications_on_the_invoice():
    apps = by_key(mapping.payment_applications(payment(
        {"SumApplied": 93.0, "TotalDiscount": 2.0, "WitholdingTaxApplied": 5.0}), "USD"))
    assert set(apps) == {"7-0", "7-0-discount", "7-0-withholding"}  # no on-account rest
    assert apps["7-0"].amount == 93.0 and apps["7-0"].method is None
    assert (apps["7-0-discount"].amount, apps["7-0-discount"].method) == (2.0, "cash discount")
    assert (apps["7-0-withholding"].amount, apps["7-0-withholding"].method) == (
        5.0, "withholding tax")
    assert {a.invoice_key for a in apps.values()} == {"5"}
    # ledger rows: only money counts (a customer's sap_paid_total is money received)
    assert [apps[k].row("C1", "9007")["amount"] for k in sorted(apps)] == [93.0, 0.0, 0.0]
    body = mapping.map_payment(payment({"SumApplied": 93.0, "TotalDiscount": 2.0}),
                               apps["7-0-discount"])
    assert body["hs_payment_method"] == "cash discount" and body["hs_initial_amount"] == 2.0
    assert body["sap_payment_total"] == 93.0  # the SAP payment's money, unchanged


def test_a_foreign_invoice_takes_the_fc_figures_and_a_missing_one_is_refused():
    line = {"SumApplied": 110.0, "AppliedFC": 100.0, "DocRate": 1.1, "TotalDiscount": 2.2,
            "TotalDiscountFC": 2.0, "WitholdingTaxApplied": 0.0}
    apps = by_key(mapping.payment_applications(payment(line), "USD", {"5": "EUR"}))
    assert (apps["7-0"].amount, apps["7-0-discount"].amount) == (100.0, 2.0)
    assert apps["7-0-discount"].currency == "EUR" and "7-0-withholding" not in apps
    with pytest.raises(mapping.MappingError, match="TotalDiscountFC"):
        mapping.payment_applications(payment(line | {"TotalDiscountFC": None}), "USD",
                                     {"5": "EUR"})


def test_a_cancelled_payment_settles_no_discount_and_no_withholding():
    apps = mapping.payment_applications(payment(
        {"SumApplied": 93.0, "TotalDiscount": 2.0, "WitholdingTaxApplied": 5.0},
        Cancelled="tYES", CancelStatus="csYes"), "USD")
    assert {a.source_key: a.amount for a in apps} == {
        "7-0": 0.0, "7-0-discount": 0.0, "7-0-withholding": 0.0}


def test_lines_without_deductions_map_as_before():
    apps = mapping.payment_applications(payment({"SumApplied": 93.0, "TotalDiscount": 0.0,
                                                 "WitholdingTaxApplied": None}), "USD")
    assert [(a.source_key, a.amount) for a in apps] == [("7-0", 93.0)]
