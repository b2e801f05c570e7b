"""Foreign-currency incoming payments, tap -> target through both sandboxes.

A payment in the invoice's own currency (EUR on a USD company) carries its money in the Fc/FC
twins: CashSumFC (SDK help "Payments.CashSumFC") and each line's AppliedFC. What CashSum holds
on such a payment is undocumented (SDK help says local currency; DI API code sets it in the
payment's currency): the SAP sandbox's `fc_cash_sum` switch serves either, and HubSpot must show
the same money both ways. So does `fc_transfer_sum` for TransferSum (SDK help names no
currency; the Service Layer's Payment has no FC twin for it).
"""

from __future__ import annotations

import pytest
from test_udf_to_hubspot import last_state, load, tap_config, tap_output

STREAMS = ("business_partners", "invoices", "incoming_payments")


def make_sap(fc_cash_sum: str, fc_transfer_sum: str = "payment"):
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=11, customers=8, suppliers=1, leads=1, invoices=80, credit_notes=0,
                    payments=50, fc_cash_sum=fc_cash_sum,
                    fc_transfer_sum=fc_transfer_sum)  # default fc_payments share
    return SapSandbox(data=spec, password="S3cr3t-B1-passw0rd!")


def way(payment: dict) -> str:
    if payment["CashSum"]:
        return "cash"
    if payment["TransferSum"]:
        return "transfer"
    return "check" if payment["PaymentChecks"] else "card"


@pytest.mark.parametrize("local_currency", [None, "USD"], ids=["sap-marks", "local-currency"])
@pytest.mark.parametrize(("fc_cash_sum", "fc_transfer_sum"), [
    ("local", "payment"), ("payment", "payment"), ("local", "local"), ("payment", "local")])
def test_foreign_currency_payments_reach_hubspot_in_the_invoice_s_currency(
        hubspot_sandbox, target_config, fc_cash_sum, fc_transfer_sum, local_currency):
    """Every line of every EUR payment is a HubSpot payment of AppliedFC in EUR (no money 'on
    account' made up from CashSum), and each invoice it pays shows SAP's open amount in EUR
    as its balance due, whichever CashSum SAP serves."""
    if local_currency:
        target_config = {**target_config, "local_currency": local_currency}
    with make_sap(fc_cash_sum, fc_transfer_sum) as sb:
        fc = [p for p in sb.all("IncomingPayments") if p["DocCurrency"] != "USD"]
        assert {way(p) for p in fc} == {"cash", "transfer", "check", "card"}  # the cases exist
        cash = next(p for p in fc if way(p) == "cash")
        assert (cash["CashSum"] == cash["CashSumFC"]) == (fc_cash_sum == "payment")
        transfer = next(p for p in fc if way(p) == "transfer")
        assert (transfer["TransferSum"] == sum(li["AppliedFC"] for li in transfer[
            "PaymentInvoices"])) == (fc_transfer_sum == "payment")
        load(target_config, tap_output(tap_config(sb), STREAMS))

        payments = {o["properties"]["sap_payment_key"]: o["properties"]
                    for o in hubspot_sandbox.objects("commerce_payments")}
        invoices = {str(o["properties"].get("sap_doc_entry")): o["properties"]
                    for o in hubspot_sandbox.objects("invoices")}
        for pay in fc:
            assert f"{pay['DocEntry']}-account" not in payments, way(pay)
            for line in pay["PaymentInvoices"]:
                hs_pay = payments[f"{pay['DocEntry']}-{line['LineNum']}"]
                assert hs_pay["hs_currency_code"] == "EUR"
                assert float(hs_pay["hs_initial_amount"]) == pytest.approx(line["AppliedFC"],
                                                                           abs=0.005), way(pay)
                assert float(hs_pay["sap_payment_total"]) == pytest.approx(
                    sum(li["AppliedFC"] for li in pay["PaymentInvoices"]), abs=0.005), way(pay)
                inv = sb.get("Invoices", line["DocEntry"])
                hs_inv = invoices[str(line["DocEntry"])]
                assert hs_inv["hs_currency"] == "EUR"
                assert float(hs_inv["hs_balance_due"]) == pytest.approx(
                    inv["DocTotalFc"] - inv["PaidToDateFC"], abs=0.02), way(pay)


@pytest.mark.parametrize("restamp", [True, False], ids=["invoice-restamped", "not-restamped"])
@pytest.mark.parametrize("fc_cash_sum", ["local", "payment"])
def test_a_cancelled_foreign_currency_payment_gives_the_invoice_its_eur_balance_back(
        hubspot_sandbox, target_config, fc_cash_sum, restamp):
    """A EUR cash payment of half a EUR invoice reaches HubSpot as AppliedFC in EUR; SAP then
    cancels it (re-stamping the invoice or not: undocumented, switch): after the next run the
    HubSpot payment is marked cancelled and the invoice's balance due is its whole EUR total."""
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=40, credit_notes=0,
                    payments=0, fc_cash_sum=fc_cash_sum, restamp_on_payment_cancel=restamp)
    with SapSandbox(data=spec, password="S3cr3t-B1-passw0rd!") as sb:
        inv = next(i for i in sb.all("Invoices") if i["DocCurrency"] == "EUR"
                   and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo")
        pay = sb.post_payment(inv["CardCode"], [
            {"DocEntry": inv["DocEntry"], "SumApplied": round(inv["DocTotal"] / 2, 2)}],
            way="cash", currency="EUR")
        fc = pay["PaymentInvoices"][0]["AppliedFC"]
        first = tap_output(tap_config(sb), STREAMS)
        load(target_config, first)

        def hubspot() -> tuple[dict, dict]:
            hs_pay = next(o["properties"] for o in hubspot_sandbox.objects("commerce_payments")
                          if o["properties"]["sap_payment_key"] == f"{pay['DocEntry']}-0")
            hs_inv = next(o["properties"] for o in hubspot_sandbox.objects("invoices")
                          if str(o["properties"].get("sap_doc_entry")) == str(inv["DocEntry"]))
            return hs_pay, hs_inv

        hs_pay, hs_inv = hubspot()
        assert (hs_pay["hs_currency_code"], float(hs_pay["hs_initial_amount"])) == ("EUR", fc)
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(inv["DocTotalFc"] - fc, abs=0.02)
        sb.clock.advance(180)
        sb.cancel_payment(pay["DocEntry"])
        load(target_config, tap_output(tap_config(sb), STREAMS, state=last_state(first)))
        hs_pay, hs_inv = hubspot()
        assert hs_pay["sap_cancelled"] in (True, "true")
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(inv["DocTotalFc"], abs=0.02)
