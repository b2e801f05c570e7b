"""A payment line that settles an invoice net of a cash discount (TotalDiscount) and withholding
tax (WitholdingTaxApplied) closes the invoice in the SAP sandbox, both ways of the undocumented
PaidToDate rule (DataSpec.paid_to_date_counts_deductions), and its cancellation takes all back."""

from __future__ import annotations

import pytest

from sap_sandbox import DataSpec, SapSandbox
from sap_sandbox.errors import SapError


def _sandbox(counts: bool) -> SapSandbox:
    return SapSandbox(data=DataSpec(seed=8, customers=10, suppliers=1, leads=1, invoices=60,
                                    credit_notes=0, payments=10,
                                    paid_to_date_counts_deductions=counts))


def _open_invoice(sb, foreign):
    return next(i for i in sb.all("Invoices")
                if i["DocumentStatus"] == "bost_Open" and i["PaidToDate"] == 0
                and i["CancelStatus"] == "csNo" and (i["DocCurrency"] == "EUR") is foreign)


@pytest.mark.parametrize("counts", [True, False], ids=["counted", "not-counted"])
@pytest.mark.parametrize("foreign", [False, True], ids=["USD", "EUR"])
def test_discount_and_withholding_close_the_invoice_and_a_cancel_reopens_it(counts, foreign):
    with _sandbox(counts) as sb:
        inv = _open_invoice(sb, foreign)
        balance = sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"]
        discount, withheld = 2.0, 3.0
        money = round(inv["DocTotal"] - discount - withheld, 2)
        pay = sb.post_payment(inv["CardCode"], [{
            "DocEntry": inv["DocEntry"], "SumApplied": money, "TotalDiscount": discount,
            "WitholdingTaxApplied": withheld}])
        line = pay["PaymentInvoices"][0]
        assert pay["TransferSum"] == money  # money received: SumApplied only
        assert (line["SumApplied"], line["TotalDiscount"], line["WitholdingTaxApplied"]) == (
            money, discount, withheld)
        paid = sb.get("Invoices", inv["DocEntry"])
        assert paid["DocumentStatus"] == "bost_Close"
        assert paid["PaidToDate"] == (inv["DocTotal"] if counts else money)
        if foreign:
            rate = inv["DocRate"]
            assert line["TotalDiscountFC"] == round(discount / rate, 2)
            assert line["WitholdingTaxAppliedFC"] == round(withheld / rate, 2)
            settled = line["AppliedFC"] + line["TotalDiscountFC"] + line["WitholdingTaxAppliedFC"]
            assert round(settled, 2) == inv["DocTotalFc"]
            assert paid["PaidToDateFC"] == (inv["DocTotalFc"] if counts else line["AppliedFC"])
        else:
            assert line["TotalDiscountFC"] == line["WitholdingTaxAppliedFC"] == 0.0
        # the customer owes nothing more on it: discount and withholding settled it too
        assert sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"] == (
            pytest.approx(balance - inv["DocTotal"]))

        sb.cancel_payment(pay["DocEntry"])
        reopened = sb.get("Invoices", inv["DocEntry"])
        assert reopened["DocumentStatus"] == "bost_Open"
        assert reopened["PaidToDate"] == 0.0 and reopened["PaidToDateFC"] == 0.0
        assert sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"] == (
            pytest.approx(balance))


@pytest.mark.parametrize("counts", [True, False], ids=["counted", "not-counted"])
def test_a_discount_beyond_what_is_left_is_refused(counts):
    with _sandbox(counts) as sb:
        inv = _open_invoice(sb, False)
        first = round(inv["DocTotal"] / 2, 2)
        sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"], "SumApplied": first - 1,
                                           "WitholdingTaxApplied": 1.0}])
        assert sb.get("Invoices", inv["DocEntry"])["DocumentStatus"] == "bost_Open"
        left = round(inv["DocTotal"] - first, 2)
        with pytest.raises(SapError):
            sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                               "SumApplied": left, "TotalDiscount": 0.5}])
        sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                           "SumApplied": left - 0.5, "TotalDiscount": 0.5}])
        assert sb.get("Invoices", inv["DocEntry"])["DocumentStatus"] == "bost_Close"


def test_the_cli_switch_reaches_the_data_spec():
    from sap_sandbox.__main__ import _parser

    assert _parser().parse_args([]).paid_to_date_counts_deductions is True
    assert _parser().parse_args(
        ["--paid-to-date-money-only"]).paid_to_date_counts_deductions is False
