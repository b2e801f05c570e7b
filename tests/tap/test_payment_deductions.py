"""A payment that settles an invoice net of a cash discount and withholding tax, tap to target.

SAP closes the invoice when SumApplied + TotalDiscount + WitholdingTaxApplied cover it (SAP
sandbox README, "Cash discount and withholding"); HubSpot's balance due is billed minus the
associated payments. Each deduction is its own HubSpot payment on the invoice (method `cash
discount` / `withholding tax`), so HubSpot's balance due is SAP's open amount while the money
payment stays SAP's SumApplied. Whether SAP's PaidToDate counts the deductions is undocumented:
both ways of the sandbox switch are run.
"""

from __future__ import annotations

import json

import pytest
from tap_helpers import sandbox_zone
from test_udf_to_hubspot import last_state, load, tap_output

from target_hubspot_finance.commands.reconcile import reconcile
from target_hubspot_finance.mapping import DEDUCTION_METHODS

PASSWORD = "S3cr3t-B1-passw0rd!"
STREAMS = ("business_partners", "invoices", "incoming_payments")
DISCOUNT, WITHHELD = 0.02, 0.05  # shares of the invoice total


def make_sap(counts: bool, restamp: bool = True):
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=40, credit_notes=0,
                    payments=0, paid_to_date_counts_deductions=counts,
                    restamp_on_payment_cancel=restamp)
    return SapSandbox(data=spec, password=PASSWORD)


def config(sb) -> dict:
    return {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
            "password": PASSWORD, "request_timeout": 5, "backoff_seconds": 0.01}


def sap_open(sb, entry: int) -> float:
    """SAP's open amount in the invoice's currency: nothing on a closed invoice, else
    DocTotal(FC) - PaidToDate(FC)."""
    inv = sb.get("Invoices", entry)
    if inv["DocumentStatus"] == "bost_Close":
        return 0.0
    if inv["DocCurrency"] != "USD":
        return inv["DocTotalFc"] - inv["PaidToDateFC"]
    return inv["DocTotal"] - inv["PaidToDate"]


def pay_net(sb, invoice: dict, in_invoice_currency: bool = False) -> dict:
    """Pay the invoice in full, net of a cash discount and withholding tax (local amounts); the
    payment in the invoice's currency when asked (else in the local one)."""
    discount = round(invoice["DocTotal"] * DISCOUNT, 2)
    withheld = round(invoice["DocTotal"] * WITHHELD, 2)
    return sb.post_payment(invoice["CardCode"], [{
        "DocEntry": invoice["DocEntry"], "SumApplied": round(
            invoice["DocTotal"] - discount - withheld, 2),
        "TotalDiscount": discount, "WitholdingTaxApplied": withheld}],
        currency=invoice["DocCurrency"] if in_invoice_currency else "USD")


def hs_invoice(hs, entry: int) -> dict:
    return next(o["properties"] for o in hs.objects("invoices")
                if str(o["properties"].get("sap_doc_entry")) == str(entry))


def hs_payments(hs, pay_entry: int) -> dict[str, dict]:
    return {o["properties"]["sap_payment_key"]: o["properties"]
            for o in hs.objects("commerce_payments")
            if o["properties"]["sap_payment_key"].startswith(f"{pay_entry}-")}


@pytest.mark.parametrize(("counts", "restamp", "eur_payment"), [
    (True, True, False), (False, True, False), (True, False, False), (False, True, True)],
    ids=["paid-to-date-counts-deductions", "paid-to-date-money-only", "cancel-not-restamped",
         "eur-payment-of-eur-invoice"])
def test_discount_and_withholding_leave_nothing_due_in_hubspot_and_cancel_brings_it_back(
        hubspot_sandbox, target_config, counts, restamp, eur_payment):
    """A USD and a EUR invoice, each paid in full net of 2 % discount and 5 % withholding:
    HubSpot's balance due is SAP's open amount (0) in the invoice's currency, the money payment
    is SAP's SumApplied (AppliedFC), reconcile reports nothing; a rerun writes nothing and a
    replay of the first load counts nothing twice; cancelling the payment in SAP brings the
    whole total due back in HubSpot (deductions included) and reconcile still agrees, also
    when SAP does not re-stamp the reopened invoices (only the cancelled payment is read)."""
    with make_sap(counts, restamp) as sb:
        opens = [i for i in sb.all("Invoices") if i["DocumentStatus"] == "bost_Open"
                 and i["CancelStatus"] == "csNo" and not i["PaidToDate"]]
        invoices = [next(i for i in opens if i["DocCurrency"] == c) for c in ("USD", "EUR")]
        payments = [pay_net(sb, inv, eur_payment) for inv in invoices]
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        for inv, pay in zip(invoices, payments, strict=True):
            line = pay["PaymentInvoices"][0]
            foreign = inv["DocCurrency"] != "USD"
            hs_inv = hs_invoice(hubspot_sandbox, inv["DocEntry"])
            assert sap_open(sb, inv["DocEntry"]) == 0.0  # SAP closed it
            assert float(hs_inv["hs_balance_due"]) == pytest.approx(0.0, abs=0.02), (
                inv["DocCurrency"])
            assert float(hs_inv["sap_open_balance"]) == 0.0  # SAP's figure: nothing left
            lines = hs_payments(hubspot_sandbox, pay["DocEntry"])
            money = [p for p in lines.values()
                     if p["hs_payment_method"] not in DEDUCTION_METHODS]
            assert [float(p["hs_initial_amount"]) for p in money] == [
                line["AppliedFC"] if foreign else line["SumApplied"]]
            by_method = {p["hs_payment_method"]: float(p["hs_initial_amount"])
                         for p in lines.values()}
            fc = "FC" if foreign else ""
            assert by_method["cash discount"] == line[f"TotalDiscount{fc}"]
            assert by_method["withholding tax"] == line[f"WitholdingTaxApplied{fc}"]
            assert {p["hs_currency_code"] for p in lines.values()} == {inv["DocCurrency"]}
        assert reconcile(target_config, config(sb)) == []
        count, writes = len(hubspot_sandbox.objects("commerce_payments")), hubspot_sandbox.writes()

        load(target_config, tap_output(config(sb), STREAMS, state=last_state(first)))
        assert hubspot_sandbox.writes() == writes, "a rerun with nothing changed wrote"
        load(target_config, first)  # replayed: the same payments, upserted by their keys
        assert len(hubspot_sandbox.objects("commerce_payments")) == count
        for inv in invoices:
            assert float(hs_invoice(hubspot_sandbox, inv["DocEntry"])["hs_balance_due"]) == (
                pytest.approx(0.0, abs=0.02))

        sb.clock.advance(120)
        for pay in payments:
            sb.cancel_payment(pay["DocEntry"])
        load(target_config, tap_output(config(sb), STREAMS, state=last_state(first)))
        for inv, pay in zip(invoices, payments, strict=True):
            total = inv["DocTotalFc"] if inv["DocCurrency"] != "USD" else inv["DocTotal"]
            assert sap_open(sb, inv["DocEntry"]) == pytest.approx(total)
            assert float(hs_invoice(hubspot_sandbox, inv["DocEntry"])["hs_balance_due"]) == (
                pytest.approx(total, abs=0.02)), inv["DocCurrency"]
            assert float(hs_invoice(hubspot_sandbox, inv["DocEntry"])["sap_open_balance"]) == (
                pytest.approx(total, abs=0.02))
            assert {float(p["hs_initial_amount"])
                    for p in hs_payments(hubspot_sandbox, pay["DocEntry"]).values()} == {0.0}
            assert hs_invoice(hubspot_sandbox, inv["DocEntry"])["hs_invoice_status"] in (
                "open", "draft")
        assert len(hubspot_sandbox.objects("commerce_payments")) == count
        assert reconcile(target_config, config(sb)) == []


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_cancelling_the_other_payment_of_a_discounted_invoice_leaves_sap_s_open_amount(
        hubspot_sandbox, target_config, currency):
    """An invoice paid half by one payment and the rest net of a discount and withholding by a
    second; SAP does not re-stamp the invoice when the first is cancelled, so the target
    recomputes its figures from the ledger: the open balance and status are SAP's (the second
    payment's discount and withholding still settle their part)."""
    with make_sap(True, restamp=False) as sb:
        inv = next(i for i in sb.all("Invoices") if i["DocumentStatus"] == "bost_Open"
                   and i["CancelStatus"] == "csNo" and not i["PaidToDate"]
                   and i["DocCurrency"] == currency)
        half = round(inv["DocTotal"] / 2, 2)
        first_pay = sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                                       "SumApplied": half}])
        rest = round(inv["DocTotal"] - half, 2)
        sb.post_payment(inv["CardCode"], [{
            "DocEntry": inv["DocEntry"], "SumApplied": round(rest - 7.0, 2),
            "TotalDiscount": 3.0, "WitholdingTaxApplied": 4.0}])
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        assert float(hs_invoice(hubspot_sandbox, inv["DocEntry"])["hs_balance_due"]) == (
            pytest.approx(0.0, abs=0.02))

        # another invoice changed later moves the bookmark past the paid invoice (no look-back,
        # SAP's zone: test_udf_to_hubspot's way), so only the cancelled payment tells the
        # target about the reopened invoice
        exact = config(sb) | {"lookback_minutes": 0, "server_timezone": sandbox_zone() or "UTC"}
        sb.clock.advance(180)
        other = next(i for i in sb.all("Invoices") if i["DocEntry"] != inv["DocEntry"])
        sb.update("Invoices", other["DocEntry"], {"Comments": "moved on"})
        second = tap_output(exact, STREAMS, state=last_state(first))
        load(target_config, second)
        sb.clock.advance(180)
        sb.cancel_payment(first_pay["DocEntry"])
        third = tap_output(exact, STREAMS, state=last_state(second))
        assert inv["DocEntry"] not in {
            json.loads(m)["record"].get("DocEntry") for m in third.splitlines()
            if json.loads(m)["type"] == "RECORD" and json.loads(m)["stream"] == "invoices"}
        load(target_config, third)
        props = hs_invoice(hubspot_sandbox, inv["DocEntry"])
        now = sb.get("Invoices", inv["DocEntry"])
        owed = sap_open(sb, inv["DocEntry"])  # in the invoice's currency
        assert owed == pytest.approx(half if currency == "USD" else half / inv["DocRate"],
                                     abs=0.02)
        assert float(props["hs_balance_due"]) == pytest.approx(owed, abs=0.02)
        assert float(props["sap_open_balance"]) == pytest.approx(owed, abs=0.02)
        assert float(props["sap_paid_to_date"]) == pytest.approx(
            now["PaidToDateFC"] if currency == "EUR" else now["PaidToDate"], abs=0.02)
        assert props["hs_invoice_status"] in ("open", "draft")
        assert reconcile(target_config, config(sb)) == []
