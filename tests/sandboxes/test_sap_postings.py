"""Posting and cancelling through the SAP sandbox's mutation API changes records as SAP does."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace

import pytest

from sap_sandbox import DataSpec, SapSandbox
from sap_sandbox.errors import SapError

SPEC = DataSpec(seed=8, customers=10, suppliers=1, leads=1, invoices=60, credit_notes=2,
                payments=10)


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


def _stamped_now(sb, record, before) -> bool:
    """The record was stamped by the change just made: between the SAP clock's stamp `before`
    it and the clock now (one stamp read afterwards fails when a second ticks over between)."""
    return before <= (record["UpdateDate"], record["UpdateTime"]) <= sb.clock.stamp()


def _open_invoice(sb, foreign=False):
    return next(i for i in sb.all("Invoices")
                if i["DocumentStatus"] == "bost_Open" and i["PaidToDate"] == 0
                and i["CancelStatus"] == "csNo" and (i["DocCurrency"] == "EUR") is foreign)


@pytest.mark.parametrize("foreign", [False, True], ids=["USD", "EUR"])
def test_cancelling_a_payment_reopens_and_restamps_the_invoice(sb, foreign):
    inv = _open_invoice(sb, foreign)
    balance = sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"]
    pay = sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                             "SumApplied": inv["DocTotal"]}], way="check")
    paid = sb.get("Invoices", inv["DocEntry"])
    assert paid["DocumentStatus"] == "bost_Close" and paid["PaidToDate"] == inv["DocTotal"]
    assert paid["PaidToDateFC"] == inv["DocTotalFc"]
    assert pay["PaymentChecks"][0]["CheckSum"] == inv["DocTotal"]
    assert "UpdateDate" not in pay and "UpdateTime" not in pay
    assert sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"] == (
        pytest.approx(balance - inv["DocTotal"]))

    sb.clock.advance(120)
    before = sb.clock.stamp()
    cancelled = sb.cancel_payment(pay["DocEntry"])
    assert cancelled["Cancelled"] == "tYES" and cancelled["CancelStatus"] == "csYes"
    assert "UpdateDate" not in cancelled
    reopened = sb.get("Invoices", inv["DocEntry"])
    assert reopened["DocumentStatus"] == "bost_Open"
    assert reopened["PaidToDate"] == 0.0 and reopened["PaidToDateFC"] == 0.0
    assert {li["LineStatus"] for li in reopened["DocumentLines"]} == {"bost_Open"}
    assert _stamped_now(sb, reopened, before)
    assert (reopened["UpdateDate"], reopened["UpdateTime"]) > (paid["UpdateDate"],
                                                               paid["UpdateTime"])
    assert sb.get("BusinessPartners", inv["CardCode"])["CurrentAccountBalance"] == (
        pytest.approx(balance))
    with pytest.raises(SapError, match="already cancelled"):
        sb.cancel_payment(pay["DocEntry"])


def test_partial_payment_keeps_the_invoice_open_with_fc_paid(sb):
    inv = _open_invoice(sb, foreign=True)
    sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"], "SumApplied": 10.0}])
    after = sb.get("Invoices", inv["DocEntry"])
    assert after["DocumentStatus"] == "bost_Open" and after["PaidToDate"] == 10.0
    assert after["PaidToDateFC"] == pytest.approx(10.0 / inv["DocRate"], abs=0.01)
    with pytest.raises(SapError, match="exceeds"):
        sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                           "SumApplied": inv["DocTotal"]}])


@pytest.mark.parametrize("kind", ["it_JournalEntry", "it_DownPayment", "it_CredItnote"])
def test_payment_lines_of_other_invoice_types_leave_invoices_alone(sb, kind):
    before = sb.all("Invoices")
    pay = sb.post_payment("C00001", [{"DocEntry": 1, "SumApplied": 50.0, "InvoiceType": kind}],
                          way="cash")
    assert pay["PaymentInvoices"][0]["InvoiceType"] == kind and pay["CashSum"] == 50.0
    sb.cancel_payment(pay["DocEntry"])
    assert sb.all("Invoices") == before


def test_cancelling_an_invoice_creates_sap_s_cancellation_document(sb, http):
    inv = _open_invoice(sb)
    sb.clock.advance(60)
    before = sb.clock.stamp()
    doc = sb.cancel_invoice(inv["DocEntry"])
    original = sb.get("Invoices", inv["DocEntry"])
    assert original["Cancelled"] == "tYES" and original["CancelStatus"] == "csYes"
    assert original["DocumentStatus"] == "bost_Close"
    assert _stamped_now(sb, original, before)
    assert doc["CancelStatus"] == "csCancellation" and doc["Cancelled"] == "tNO"
    assert doc["DocEntry"] == max(i["DocEntry"] for i in sb.all("Invoices"))
    assert doc["CardCode"] == inv["CardCode"] and doc["DocTotal"] == inv["DocTotal"]
    assert doc["Series"] == inv["Series"] and doc["DocNum"] > inv["DocNum"]
    with pytest.raises(SapError):
        sb.cancel_invoice(inv["DocEntry"])
    # Over HTTP: SAP's bound action POST /Invoices(n)/Cancel answers 204.
    other = _open_invoice(sb)
    r = http.post(f"{sb.url}/Invoices({other['DocEntry']})/Cancel", timeout=5)
    assert r.status_code == 204
    assert sb.get("Invoices", other["DocEntry"])["CancelStatus"] == "csYes"


def test_a_paid_invoice_cannot_be_cancelled(sb, http):
    paid = next(i for i in sb.all("Invoices") if i["PaidToDate"] > 0)
    with pytest.raises(SapError, match="payments"):
        sb.cancel_invoice(paid["DocEntry"])
    pay = next(p for p in sb.all("IncomingPayments") if p["Cancelled"] == "tNO")
    r = http.post(f"{sb.url}/IncomingPayments({pay['DocEntry']})/Cancel", timeout=5)
    assert r.status_code == 204
    assert sb.get("IncomingPayments", pay["DocEntry"])["CancelStatus"] == "csYes"


@pytest.mark.parametrize("reconcile", [False, True], ids=["left-as-it-was", "reconciled"])
@pytest.mark.parametrize("foreign", [False, True], ids=["USD", "EUR"])
def test_a_credit_note_posted_on_an_invoice_moves_it_only_when_reconciled(reconcile, foreign):
    """post_credit_note follows DataSpec(credit_notes_reconcile): the base invoice's PaidToDate
    (and FC) rises by the credit and a full credit closes it, or the invoice stays as it was."""
    spec = DataSpec(seed=8, customers=10, suppliers=1, leads=1, invoices=60, credit_notes=0,
                    payments=0, credit_notes_reconcile=reconcile)
    sb = SapSandbox(data=spec)
    inv = next(i for i in sb.all("Invoices") if i["CancelStatus"] == "csNo"
               and (i["DocCurrency"] != "USD") is foreign and len(i["DocumentLines"]) == 1)
    sb.clock.advance(60)
    note = sb.post_credit_note(inv["DocEntry"])  # the whole (only) line: a full credit
    line = note["DocumentLines"][0]
    assert (line["BaseType"], line["BaseEntry"], line["BaseLine"]) == (13, inv["DocEntry"], 0)
    assert note["DocTotal"] == inv["DocTotal"] and note["CancelStatus"] == "csNo"
    assert note["DocNum"] and note["Series"]
    after = sb.get("Invoices", inv["DocEntry"])
    if reconcile:
        assert after["PaidToDate"] == inv["DocTotal"] and after["DocumentStatus"] == "bost_Close"
        assert after["PaidToDateFC"] == inv["DocTotalFc"]
        assert (after["UpdateDate"], after["UpdateTime"]) > (inv["UpdateDate"], inv["UpdateTime"])
    else:
        assert after == inv
    with pytest.raises(SapError) if reconcile else nullcontext():
        sb.post_credit_note(inv["DocEntry"])  # reconciled: the invoice is closed now


def test_a_credit_note_needs_an_open_invoice():
    sb = SapSandbox(data=SPEC)
    cancelled = next(i for i in sb.all("Invoices") if i["CancelStatus"] == "csYes")
    with pytest.raises(SapError, match="open"):
        sb.post_credit_note(cancelled["DocEntry"])


@pytest.mark.parametrize("restamp", [True, False], ids=["restamp", "no-restamp"])
def test_cancelling_a_payment_restamps_the_invoice_only_with_the_switch_on(restamp, sap_login):
    """Undocumented in SAP: DataSpec(restamp_on_payment_cancel) gives each way (HTTP too)."""
    spec = DataSpec(seed=8, customers=10, suppliers=1, leads=1, invoices=60, credit_notes=2,
                    payments=10, restamp_on_payment_cancel=restamp)
    with SapSandbox(data=spec) as sb:
        inv = _open_invoice(sb)
        pay = sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                                 "SumApplied": inv["DocTotal"]}])
        paid = sb.get("Invoices", inv["DocEntry"])
        sb.clock.advance(120)
        before = sb.clock.stamp()
        sb.cancel_payment(pay["DocEntry"])
        reopened = sb.get("Invoices", inv["DocEntry"])
        assert reopened["DocumentStatus"] == "bost_Open" and reopened["PaidToDate"] == 0.0
        stamp = (reopened["UpdateDate"], reopened["UpdateTime"])
        assert (_stamped_now(sb, reopened, before) if restamp
                else stamp == (paid["UpdateDate"], paid["UpdateTime"]))

        other = _open_invoice(sb)
        pay = sb.post_payment(other["CardCode"], [{"DocEntry": other["DocEntry"],
                                                   "SumApplied": other["DocTotal"]}])
        paid = sb.get("Invoices", other["DocEntry"])
        sb.clock.advance(120)
        before = sb.clock.stamp()
        with sap_login(sb.url) as s:  # SAP's bound action over HTTP follows the switch too
            r = s.post(f"{sb.url}/IncomingPayments({pay['DocEntry']})/Cancel", timeout=5)
        assert r.status_code == 204
        after = sb.get("Invoices", other["DocEntry"])
        assert after["DocumentStatus"] == "bost_Open"
        stamp = (after["UpdateDate"], after["UpdateTime"])
        assert (_stamped_now(sb, after, before) if restamp
                else stamp == (paid["UpdateDate"], paid["UpdateTime"]))


@pytest.mark.parametrize("fc_cash_sum", ["local", "payment"])
@pytest.mark.parametrize("way", ["cash", "transfer", "check", "card"])
def test_a_payment_in_the_invoice_s_foreign_currency(way, fc_cash_sum):
    """`post_payment(..., currency="EUR")`: DocCurrency EUR at the invoice's DocRate, lines with
    AppliedFC and DocRate, money in EUR (CashSum per the fc_cash_sum switch, CashSumFC always
    EUR); the invoice's PaidToDateFC rises by AppliedFC; cancelling takes it back."""
    with SapSandbox(data=replace(SPEC, fc_cash_sum=fc_cash_sum)) as sb:
        inv = _open_invoice(sb, foreign=True)
        pay = sb.post_payment(inv["CardCode"], [
            {"DocEntry": inv["DocEntry"], "SumApplied": round(inv["DocTotal"] / 2, 2)}],
            way=way, currency="EUR")
        line = pay["PaymentInvoices"][0]
        fc = line["AppliedFC"]
        assert (pay["DocCurrency"], pay["DocRate"], line["DocRate"]) == (
            "EUR", inv["DocRate"], inv["DocRate"])
        assert fc == pytest.approx(line["SumApplied"] / inv["DocRate"], abs=0.01)
        money = {"cash": pay["CashSumFC"], "transfer": pay["TransferSum"],
                 "check": sum(c["CheckSum"] for c in pay["PaymentChecks"]),
                 "card": sum(c["CreditSum"] for c in pay["PaymentCreditCards"])}
        assert money == {k: (fc if k == way else 0.0) for k in money}
        if way == "cash":
            assert pay["CashSum"] == pytest.approx(
                fc * inv["DocRate"] if fc_cash_sum == "local" else fc, abs=0.01)
        assert sb.get("Invoices", inv["DocEntry"])["PaidToDateFC"] == pytest.approx(fc)
        sb.cancel_payment(pay["DocEntry"])
        assert sb.get("Invoices", inv["DocEntry"])["PaidToDateFC"] == 0


def test_a_foreign_currency_payment_of_an_invoice_in_another_currency_is_refused(sb):
    inv = _open_invoice(sb)  # USD
    with pytest.raises(SapError, match="not in the payment's currency EUR") as refused:
        sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"], "SumApplied": 1.0}],
                        currency="EUR")
    assert (refused.value.status, refused.value.code) == (400, -5002)
    assert sb.get("Invoices", inv["DocEntry"])["PaidToDate"] == inv["PaidToDate"]
