"""A foreign-currency payment (EUR on a USD company) reaches HubSpot as SAP applied it, however
SAP holds its means: each invoice gets what SAP applied in the invoice's currency (AppliedFC),
the money adds up to the payment in its own currency, and no money 'on account' is made up.

SAP names no currency for TransferSum and the SDK help says CashSum is local while DI API code
sets it in the payment's currency: generated both ways here (the SAP sandbox's fc_cash_sum and
fc_transfer_sum switches), with means mixed, several invoices, rates of many decimals.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from target_hubspot_finance import mapping

WAYS = ("cash", "transfer", "check", "card")


def cents(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.integers(int(lo * 100), int(hi * 100)).map(lambda c: c / 100)


@st.composite
def fc_payments(draw, on_account: bool = False) -> tuple[dict, list[float], float]:
    """A EUR payment as SAP could serve it, the EUR each line applied, and its EUR total."""
    rate = draw(st.sampled_from([1.1141, 1.04, 0.0067, 0.853219, 161.2345, 1.123456]))
    unit = max(1.0, round(1 / rate))  # amounts of at least about 1.00 local
    fc_lines = [round(c * unit, 2) for c in draw(st.lists(cents(1, 5000), min_size=1, max_size=4))]
    if draw(st.booleans()):  # SAP derived the local amounts from the EUR ones
        lines = [{"AppliedFC": fc, "SumApplied": round(fc * rate, 2)} for fc in fc_lines]
    else:  # ... or the EUR ones from the local amounts (the SAP sandbox's way)
        local_lines = [round(fc * rate, 2) or 0.01 for fc in fc_lines]
        fc_lines = [round(lc / rate, 2) for lc in local_lines]
        lines = [{"AppliedFC": fc, "SumApplied": lc} for fc, lc in zip(fc_lines, local_lines,
                                                                    strict=True)]
    lines = [li | {"LineNum": i, "DocEntry": 10 + i, "InvoiceType": "it_Invoice",
                   "DocRate": rate} for i, li in enumerate(lines)]
    credit_fc = 0.0
    if draw(st.booleans()) and fc_lines[0] > unit:  # a credit note the payment uses
        credit_fc = round(draw(cents(0, fc_lines[0] / unit - 0.01)) * unit, 2) or 0.01
        sign = draw(st.sampled_from([1.0, -1.0]))  # SAP's sign for it: unsaid
        lines.append({"LineNum": len(lines), "DocEntry": 90, "InvoiceType": "it_CredItnote",
                      "DocRate": rate, "AppliedFC": sign * credit_fc,
                      "SumApplied": sign * round(credit_fc * rate, 2)})
    extra = round(draw(cents(0.01, 500)) * unit, 2) if on_account else 0.0
    total_fc = round(sum(fc_lines) - credit_fc + extra, 2)
    ways = draw(st.lists(st.sampled_from(WAYS), min_size=1, max_size=4, unique=True))
    parts = sorted(draw(cents(0, total_fc / unit)) * unit for _ in ways[1:])
    bounds = [0.0, *parts, total_fc]
    split = {w: round(bounds[i + 1] - bounds[i], 2) for i, w in enumerate(ways)}
    while len(split) > 1 and min(split.values()) < unit:  # no means under about 1.00 local
        small = split.pop(min(split, key=split.__getitem__))  # (0.00 local for SAP)
        big = max(split, key=split.__getitem__)
        split[big] = round(split[big] + small, 2)
    cash_local, transfer_local = draw(st.booleans()), draw(st.booleans()) and not on_account
    cash = split.get("cash", 0.0)
    transfer = split.get("transfer", 0.0)
    # SAP balances the payment in local currency: a local TransferSum is what is left of
    # the lines' local amount (plus on-account) once the other means are taken off...
    local_transfer = round(sum(li["SumApplied"] for li in lines[:len(fc_lines)])
                           - round((credit_fc + total_fc - transfer) * rate, 2), 2)
    pay_rate = rate
    if draw(st.booleans()):  # ... unless paid at a later rate than its invoices' (the
        pay_rate = round(rate * draw(st.floats(0.9, 1.1)), 6)  # difference posted apart)
        local_transfer = round(transfer * pay_rate, 2)
        if draw(st.booleans()):  # lines at the payment's rate, else at the invoices'
            for li in lines:
                li["SumApplied"] = round(li["AppliedFC"] * pay_rate, 2)
    record = {
        "DocEntry": 25, "DocNum": 9025, "DocDate": "2026-03-01", "CardCode": "C1",
        "DocCurrency": "EUR", "DocRate": pay_rate, "Cancelled": "tNO",
        "CashSum": round(cash * pay_rate, 2) if cash_local else cash, "CashSumFC": cash,
        "TransferSum": local_transfer if transfer_local and transfer else transfer,
        "PaymentInvoices": lines,
        "PaymentChecks": [{"CheckSum": split["check"], "Currency": "EUR"}]
        if split.get("check") else [],
        "PaymentCreditCards": [{"CreditSum": split["card"], "CreditCur": "EUR"}]
        if split.get("card") else [],
    }
    return record, fc_lines, total_fc


def check(record: dict, fc_lines: list[float], total_fc: float, local: str | None,
          usd_invoice: bool = False) -> None:
    """Each invoice gets its AppliedFC in EUR (money plus the credit note used on it), the
    money adds up to the payment's EUR total, on account only what the lines leave.
    `usd_invoice`: the first line pays a USD (local) invoice, so gets its SumApplied in USD."""
    currencies = {"10": "USD"} if usd_invoice else {}
    apps = mapping.payment_applications(record, local, currencies)
    for i, fc in enumerate(fc_lines):
        line = record["PaymentInvoices"][i]
        usd = currencies.get(str(10 + i)) == "USD"
        mine = [a for a in apps if a.invoice_key == str(10 + i)]
        assert {a.currency for a in mine} == {"USD" if usd else "EUR"}
        assert sum(a.amount for a in mine) == pytest.approx(
            line["SumApplied"] if usd else fc, abs=0.005)
    assert {a.currency for a in apps if a.invoice_key is None} <= {"EUR"}
    if not usd_invoice:
        money = [a for a in apps if a.method is None]
        assert sum(a.amount for a in money) == pytest.approx(total_fc, abs=0.011)
    account = [a.amount for a in apps if a.source_key == "25-account"]
    applied = sum(li["AppliedFC"] for li in record["PaymentInvoices"][:len(fc_lines)])
    credit = sum(abs(li["AppliedFC"]) for li in record["PaymentInvoices"][len(fc_lines):])
    rest = round(total_fc - applied + credit, 2)
    assert account == ([pytest.approx(rest, abs=0.011)] if rest > 0.005 else []), "made up"
    assert mapping.payment_total(record, local) == pytest.approx(total_fc, abs=0.011)


@settings(max_examples=300, deadline=None)
@given(fc_payments(), st.sampled_from([None, "USD"]))
def test_a_foreign_payment_pays_each_invoice_its_applied_fc_whatever_its_means_hold(drawn, local):
    check(*drawn, local)


@settings(max_examples=200, deadline=None)
@given(fc_payments(on_account=True), st.sampled_from([None, "USD"]))
def test_a_foreign_payment_larger_than_its_lines_leaves_the_rest_on_account(drawn, local):
    """Money on account with TransferSum in the payment's currency. Ambiguous, so left out
    (the target's README): a local TransferSum with money on account, and an EUR one that is
    also some local reading to the cent (on account = (rate - 1) x the transfer's share)."""
    record = drawn[0]
    assume(not record["TransferSum"] or not looks_local(record))
    check(*drawn, local)


def looks_local(record: dict) -> bool:
    """Whether TransferSum is, to the cent, the lines' local amount less the other means at
    DocRate, or their AppliedFC less the other means at DocRate."""
    rate, lines = record["DocRate"], record["PaymentInvoices"]
    sign = [-1.0 if li["InvoiceType"] == "it_CredItnote" else 1.0 for li in lines]
    paid_fc = sum(s * abs(li["AppliedFC"]) for s, li in zip(sign, lines, strict=True))
    paid_local = sum(s * abs(li["SumApplied"]) for s, li in zip(sign, lines, strict=True))
    others = (record["CashSumFC"] + sum(c["CheckSum"] for c in record["PaymentChecks"])
              + sum(c["CreditSum"] for c in record["PaymentCreditCards"]))
    transfer, cents = record["TransferSum"], 0.01 * (len(lines) + 1)
    return min(abs(transfer + others * rate - paid_local),
               abs(transfer - (paid_fc - others) * rate)) <= cents


@settings(max_examples=200, deadline=None)
@given(fc_payments(), st.sampled_from([None, "USD"]))
def test_a_foreign_payment_of_a_local_invoice_pays_it_its_local_amount(drawn, local):
    """A foreign payment pays documents in its currency or the local one (mapping._invoice_side)."""
    check(*drawn, local, usd_invoice=True)


RATE = 1.1141


def test_a_small_local_transfer_beside_eur_cash_makes_no_cent_on_account():
    """99.85 EUR cash and the last 0.15 EUR by transfer, TransferSum local (0.17 USD): read as
    EUR it also fits the invoice within rounding, and made up 0.02 EUR on account."""
    record = {"DocEntry": 25, "DocNum": 9025, "DocDate": "2026-03-01", "CardCode": "C1",
              "DocCurrency": "EUR", "DocRate": RATE, "Cancelled": "tNO",
              "CashSum": 111.24, "CashSumFC": 99.85, "TransferSum": 0.17,
              "PaymentInvoices": [{"LineNum": 0, "DocEntry": 10, "InvoiceType": "it_Invoice",
                                   "DocRate": RATE, "AppliedFC": 100.0, "SumApplied": 111.41}]}
    check(record, [100.0], 100.0, "USD")
    assert mapping.payment_total(record, "USD") == 100.0


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["credit-positive", "credit-negative"])
def test_a_local_transfer_of_a_payment_using_a_credit_note_is_read_whatever_its_sign(sign):
    """100 EUR invoice less a 10 EUR credit note, 90 EUR by transfer held local (100.27 USD).
    payment_applications takes a credit-note line of either sign; read negative, the transfer
    check added it instead and made up 10.27 EUR on account."""
    record = {"DocEntry": 25, "DocNum": 9025, "DocDate": "2026-03-01", "CardCode": "C1",
              "DocCurrency": "EUR", "DocRate": RATE, "Cancelled": "tNO", "CashSum": 0.0,
              "CashSumFC": 0.0, "TransferSum": 100.27, "PaymentInvoices": [
                  {"LineNum": 0, "DocEntry": 10, "InvoiceType": "it_Invoice", "DocRate": RATE,
                   "AppliedFC": 100.0, "SumApplied": 111.41},
                  {"LineNum": 1, "DocEntry": 90, "InvoiceType": "it_CredItnote",
                   "DocRate": RATE, "AppliedFC": sign * 10.0, "SumApplied": sign * 11.14}]}
    check(record, [100.0], 90.0, "USD")


@pytest.mark.parametrize("line_rate", [1.10, 1.12], ids=["lines-at-invoice-rate",
                                                         "lines-at-payment-rate"])
def test_a_local_transfer_at_a_later_rate_than_the_invoice_s_is_read_in_eur(line_rate):
    """A EUR invoice booked at 1.10, paid later in EUR at 1.12: 100 EUR by transfer held local
    is 112.00. Whether SAP's line SumApplied is at the invoice's or the payment's rate is
    unsaid (the exchange difference is posted apart); either way 100 EUR reach the invoice and
    nothing is made up on account (before: 12 EUR with lines at the invoice's rate)."""
    record = {"DocEntry": 25, "DocNum": 9025, "DocDate": "2026-03-01", "CardCode": "C1",
              "DocCurrency": "EUR", "DocRate": 1.12, "Cancelled": "tNO", "CashSum": 0.0,
              "CashSumFC": 0.0, "TransferSum": 112.0, "PaymentInvoices": [
                  {"LineNum": 0, "DocEntry": 10, "InvoiceType": "it_Invoice", "DocRate": 1.10,
                   "AppliedFC": 100.0, "SumApplied": round(100 * line_rate, 2)}]}
    check(record, [100.0], 100.0, "USD")
