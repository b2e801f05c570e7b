"""Money keeps its currency: every amount on a HubSpot invoice, its lines and its payments is in
the invoice's own currency (SAP's Fc/FC fields for a foreign document), SAP's local figures
kept beside them; payment lines are mapped to what they pay; non-finite numbers are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError
from target_factory import credit_note, customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled

from target_hubspot_finance import mapping

RATE = 1.1141  # USD per EUR


def eur_invoice(n: int, paid_eur: float = 0.0, **over) -> dict:
    """An EUR invoice of a USD company: 2 lines of 100 EUR net, 10 % tax (220 EUR)."""
    rec = invoice(n, DocCurrency="EUR", DocRate=RATE, DocTotal=round(220 * RATE, 2),
                  DocTotalFc=220.0, VatSum=round(20 * RATE, 2), VatSumFc=20.0,
                  PaidToDate=round(paid_eur * RATE, 2), PaidToDateFC=paid_eur, **over)
    for line in rec["DocumentLines"]:
        line.update(Currency="EUR", LineTotal=round(100 * RATE, 2), RowTotalFC=100.0)
    return rec


def usd_payment_of_eur_invoice(n: int, invoice_entry: int, eur: float) -> dict:
    """A USD payment paying an EUR invoice: SumApplied in USD, AppliedFC in EUR."""
    usd = round(eur * RATE, 2)
    rec = payment(n, applies=[(invoice_entry, usd)])
    rec["PaymentInvoices"][0].update(AppliedFC=eur, DocRate=RATE)
    return rec


def test_eur_invoice_in_a_usd_company_is_written_in_eur_end_to_end(hubspot_sandbox,
                                                                     target_config):
    hs = hubspot_sandbox
    run(cfg(target_config, local_currency="USD"), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [eur_invoice(1, paid_eur=100.0)]),
        ("incoming_payments", [usd_payment_of_eur_invoice(1, 1, 100.0)])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert inv["hs_currency"] == "EUR"
    assert float(inv["hs_amount_billed"]) == pytest.approx(220.0)
    assert float(inv["hs_amount_paid"]) == pytest.approx(100.0)
    assert float(inv["hs_balance_due"]) == pytest.approx(120.0)
    assert float(inv["sap_doc_total"]) == pytest.approx(220.0)
    assert float(inv["sap_open_balance"]) == pytest.approx(120.0)
    assert float(inv["sap_doc_total_local"]) == pytest.approx(round(220 * RATE, 2))
    assert inv["sap_local_currency"] == "USD"
    lines = by(hs, "line_items", "sap_line_key")
    assert {lines[k]["hs_line_item_currency_code"] for k in ("1-0", "1-1", "1-tax")} == {"EUR"}
    assert float(lines["1-0"]["sap_line_total"]) == pytest.approx(100.0)
    assert float(lines["1-tax"]["price"]) == pytest.approx(20.0)
    (pay,) = hs.objects("commerce_payments")
    assert pay["properties"]["hs_currency_code"] == "EUR"
    assert float(pay["properties"]["hs_initial_amount"]) == pytest.approx(100.0)


def test_without_local_currency_sap_marks_tell_a_foreign_document_apart():
    props = mapping.map_invoice(eur_invoice(1, paid_eur=100.0))
    assert (props["sap_doc_total"], props["sap_paid_to_date"], props["sap_open_balance"]) == (
        220.0, 100.0, 120.0)
    local = mapping.map_invoice(invoice(2))  # USD document, Fc at 0: SAP's local figures
    assert local["sap_doc_total"] == 220.0


def test_a_foreign_document_without_its_fc_amounts_is_refused_not_shown_in_local_money():
    record = eur_invoice(1)
    del record["DocTotalFc"]
    with pytest.raises(mapping.MappingError, match="DocTotalFc"):
        mapping.map_invoice(record, local="USD")


def test_a_local_currency_setting_that_is_not_the_companys_is_refused():
    record = invoice(1, DocCurrency="EUR", DocTotalFc=245.1)  # EUR company, USD-looking Fc
    with pytest.raises(mapping.MappingError, match="local_currency EUR"):
        mapping.map_invoice(record, local="EUR")


def test_a_line_priced_in_another_currency_is_sent_at_its_document_currency_total():
    record = eur_invoice(1)
    record["DocumentLines"][0].update(Currency="USD", UnitPrice=55.7, DiscountPercent=0.0)
    props = mapping.map_line_item(record, record["DocumentLines"][0])
    assert props["quantity"] * props["price"] == pytest.approx(100.0)
    assert props["hs_line_item_currency_code"] == "EUR"


@pytest.mark.parametrize("kind", ["it_JournalEntry", "it_DownPayment", None, "it_Return"])
def test_a_payment_line_that_is_not_an_invoice_is_money_received_not_a_credit(kind):
    record = payment(3, applies=[(77, 100.0)])
    record["PaymentInvoices"][0]["InvoiceType"] = kind
    apps = mapping.payment_applications(record)
    assert [(a.invoice_key, a.amount) for a in apps] == [(None, 100.0)]  # not 200 on account
    assert sum(a.amount for a in apps) == mapping.payment_total(record)
    assert apps[0].applied_to.endswith(" 77")


def test_a_payment_of_100_over_a_journal_entry_totals_100_in_hubspot(hubspot_sandbox,
                                                                      target_config):
    hs = hubspot_sandbox
    record = payment(5, applies=[(1, 60.0), (31, 40.0)])
    record["PaymentInvoices"][1]["InvoiceType"] = "it_JournalEntry"
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)]),
                                     ("incoming_payments", [record])))
    pays = by(hs, "commerce_payments", "sap_payment_key")
    assert set(pays) == {"5-0", "5-1"}
    assert sum(float(p["hs_initial_amount"]) for p in pays.values()) == pytest.approx(100.0)
    assert pays["5-1"]["sap_applied_to"] == "journal entry 31"


def test_a_credit_note_a_payment_uses_settles_its_invoice_but_is_not_money_received():
    record = payment(4, applies=[(1, 100.0)])
    record["TransferSum"] = 90.0
    record["PaymentInvoices"].append({"LineNum": 1, "DocEntry": 3, "SumApplied": 10.0,
                                      "InvoiceType": "it_CredItnote"})
    apps = mapping.payment_applications(record)
    money = [a for a in apps if a.method is None]
    assert [(a.invoice_key, a.amount) for a in money] == [("1", 90.0)]  # = the SAP payment
    assert sum(a.amount for a in apps if a.invoice_key == "1") == 100.0  # invoice settled
    (credit,) = [a for a in apps if a.method == "credit note"]
    assert credit.applied_to == "credit note 3"


def test_a_payment_that_used_a_credit_note_settles_the_invoice_in_hubspot(hubspot_sandbox,
                                                                         target_config):
    hs = hubspot_sandbox
    record = payment(4, applies=[(1, 220.0)], TransferSum=200.0)
    record["PaymentInvoices"].append({"LineNum": 1, "DocEntry": 3, "SumApplied": 20.0,
                                      "InvoiceType": "it_CredItnote"})
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)]),
                                     ("incoming_payments", [record])))
    pays = [p["properties"] for p in hs.objects("commerce_payments")]
    money = [p for p in pays if p["hs_payment_method"] != "credit note"]
    assert sum(float(p["hs_initial_amount"]) for p in money) == pytest.approx(200.0)
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert float(inv["hs_balance_due"]) == pytest.approx(0.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN"])
def test_non_finite_numbers_are_refused_with_the_field_named(value):
    with pytest.raises(mapping.MappingError, match="CreditLimit"):
        mapping.map_company(customer(1, CreditLimit=value))
    with pytest.raises(mapping.MappingError, match="DocTotal"):
        mapping.map_invoice(invoice(1, DocTotal=value))
    with pytest.raises(mapping.MappingError, match="not a finite number"):
        mapping.apply_property_map("companies", {}, {"Extra": float(value)},
                                   {"companies": {"field:Extra": "sap_extra"}})


def test_check_and_card_amounts_in_their_collections_count_as_money_received():
    record = payment(6, applies=[(1, 100.0)], TransferSum=0.0, CheckSum=None, CreditSum=None)
    record["PaymentChecks"] = [{"LineNum": 0, "CheckSum": 60.0}]
    record["PaymentCreditCards"] = [{"LineNum": 0, "CreditSum": 40.0}]
    assert mapping.payment_total(record) == 100.0
    assert [a.source_key for a in mapping.payment_applications(record)] == ["6-0"]  # no rest


def test_a_customers_paid_total_is_one_currency_sap_local_across_eur_and_usd_invoices(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties", local_currency="USD")
    usd_and_eur = usd_payment_of_eur_invoice(1, 1, 100.0)
    usd_and_eur["PaymentInvoices"].append({"LineNum": 1, "DocEntry": 2, "SumApplied": 50.0,
                                           "AppliedFC": 0.0, "InvoiceType": "it_Invoice"})
    usd_and_eur["TransferSum"] = round(100 * RATE + 50, 2)
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [eur_invoice(1, paid_eur=100.0), invoice(2)]),
                         ("incoming_payments", [usd_and_eur])))
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert float(company["sap_paid_total"]) == pytest.approx(round(100 * RATE + 50, 2))


def test_a_usd_payment_of_an_eur_invoice_not_synced_yet_gets_the_invoices_currency_later(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, local_currency="USD")
    run(config, messages(("business_partners", [customer(1)]),
                         ("incoming_payments", [usd_payment_of_eur_invoice(1, 1, 100.0)])))
    assert ledger_rows(target_config, "dead_letter") == []  # waits, never dead-lettered
    run(config, messages(("invoices", [eur_invoice(1, paid_eur=100.0)])))
    (pay,) = hs.objects("commerce_payments")
    assert pay["properties"]["hs_currency_code"] == "EUR"
    assert float(pay["properties"]["hs_initial_amount"]) == pytest.approx(100.0)
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert float(inv["hs_balance_due"]) == pytest.approx(120.0)


def test_a_local_currency_that_is_not_a_currency_code_stops_with_one_line(target_config):
    with pytest.raises(ConfigValidationError, match="local_currency: 'US dollars'"):
        run(cfg(target_config, local_currency="US dollars"), "")


def test_a_payment_that_waited_for_its_invoices_currency_is_not_rewritten_on_a_rerun(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, local_currency="USD")
    early = messages(("business_partners", [customer(1)]),
                     ("incoming_payments", [usd_payment_of_eur_invoice(1, 1, 100.0)]))
    late = messages(("invoices", [eur_invoice(1, paid_eur=100.0)]))
    run(config, early)
    run(config, late)
    settled(hs)
    writes = hs.writes()
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [eur_invoice(1, paid_eur=100.0)]),
                         ("incoming_payments", [usd_payment_of_eur_invoice(1, 1, 100.0)])))
    settled(hs)
    assert hs.writes() == writes  # the re-read payment is unchanged: zero writes


# -- HubSpot's billed amount (the sum of its line items) is SAP's total to the cent ----------
def hubspot_amount(props: dict) -> float:
    """HubSpot's calculated line amount: quantity x (price - unit discount) x (1 - discount %)."""
    unit = (props.get("price") or 0) - (props.get("discount") or 0)
    return (props.get("quantity") or 0) * unit * (1 - (props.get("hs_discount_percentage") or 0)
                                                  / 100)


def all_line_items(record: dict, local: str | None = None) -> dict[str, dict]:
    lines = {mapping.line_key(record, line): mapping.map_line_item(record, line, None, local)
             for line in record["DocumentLines"]}
    return mapping.total_lines(record, lines, None, local)


def _discounted() -> dict:  # 10 % off the document: net 180, tax 18 (SAP taxes the net)
    return invoice(1, DiscountPercent=10.0, TotalDiscount=20.0, VatSum=18.0, DocTotal=198.0)


def _freight() -> dict:  # 15 freight (+1.5 tax on it)
    return invoice(1, VatSum=21.5, DocTotal=236.5,
                   DocumentAdditionalExpenses=[{"ExpenseCode": 1, "LineTotal": 15.0}])


def _rounded_down() -> dict:  # SAP rounds the total to 0.05
    return invoice(1, DocTotal=219.98, RoundingDiffAmount=-0.02)


def _half_cents() -> dict:  # 3 x 3.335 = 10.005, SAP's LineTotal 10.01; tax 10 % of 10.01
    rec = invoice(1, lines=1, VatSum=1.0, DocTotal=11.01)
    rec["DocumentLines"][0].update(Quantity=3.0, UnitPrice=3.335, Price=3.335, LineTotal=10.01)
    return rec


def _untaxed_rounded_down() -> dict:  # no tax line to take a negative difference
    return invoice(1, VatSum=0.0, DocTotal=199.97, RoundingDiffAmount=-0.03)


def _negative_line() -> dict:  # a discount item line at -30 (SAP allows it, HubSpot's price not)
    rec = invoice(1, VatSum=17.0, DocTotal=187.0)
    rec["DocumentLines"][1].update(Quantity=1.0, UnitPrice=-30.0, Price=-30.0, LineTotal=-30.0)
    rec["DocumentLines"][0].update(LineTotal=200.0, Quantity=4.0)
    return rec


def _negative_tax() -> dict:  # a negative tax (a reversed tax code): HubSpot's price not
    return invoice(1, VatSum=-5.0, DocTotal=195.0)


def _down_payment_drawn() -> dict:  # 150 of a down payment invoice drawn: more than any line
    return invoice(1, DocTotal=70.0, DownPaymentAmount=150.0)


def _eur_discounted() -> dict:  # EUR document in a USD company, 10 % document discount
    rec = eur_invoice(1, DiscountPercent=10.0)
    rec.update(DocTotalFc=198.0, VatSumFc=18.0, DocTotal=round(198 * RATE, 2),
               VatSum=round(18 * RATE, 2))
    return rec


@pytest.mark.parametrize("record", [
    _discounted(), _freight(), _rounded_down(), _half_cents(), _untaxed_rounded_down(),
    _negative_line(), _negative_tax(), _down_payment_drawn(), _eur_discounted()], ids=[
        "document discount", "freight", "rounding", "line half-cents", "untaxed rounding",
        "negative line", "negative tax", "down payment drawn", "EUR document discount"])
def test_hubspot_billed_amount_is_sap_document_total_to_the_cent(record):
    items = all_line_items(record, "USD")
    total = record["DocTotalFc"] or record["DocTotal"]
    assert sum(hubspot_amount(p) for p in items.values()) == pytest.approx(total, abs=0.004)
    assert all(p["price"] >= 0 and p["quantity"] > 0 for p in items.values())  # HubSpot's rule
    assert all(hubspot_amount(p) >= -0.000001 for p in items.values())


def test_a_document_discount_is_each_lines_discount_not_a_lower_tax_line():
    items = all_line_items(_discounted())
    assert items["1-0"]["hs_discount_percentage"] == pytest.approx(10.0)
    assert items["1-tax"]["price"] == pytest.approx(18.0)


def test_a_discounted_eur_invoice_shows_sap_total_as_billed_in_hubspot(hubspot_sandbox,
                                                                       target_config):
    hs = hubspot_sandbox
    run(cfg(target_config, local_currency="USD"), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [_eur_discounted(), _freight() | {"DocEntry": 2, "DocNum": 4002}])))
    invoices = by(hs, "invoices", "sap_doc_num")
    assert float(invoices["4001"]["hs_amount_billed"]) == pytest.approx(198.0, abs=0.004)
    assert float(invoices["4002"]["hs_amount_billed"]) == pytest.approx(236.5, abs=0.004)


def test_no_dust_adjustment_line_from_a_price_divided_for_another_line_currency():
    record = eur_invoice(1)  # line 0 priced in USD: sent at 100 EUR / 7 = 14.285714 a unit
    record["DocumentLines"][0].update(Currency="USD", Quantity=7.0, UnitPrice=15.92)
    items = all_line_items(record, "USD")
    assert set(items) == {"1-0", "1-1", "1-tax"}
    assert items["1-tax"]["price"] == 20.0


def test_money_an_eur_payment_leaves_on_account_counts_in_sap_local_currency():
    """A customer's sap_paid_total sums SAP's local figures: an EUR payment's money on account
    goes in at the payment's rate, not as EUR."""
    record = payment(8, applies=[], DocCurrency="EUR", DocRate=RATE, TransferSum=100.0)
    (app,) = mapping.payment_applications(record, "USD")
    assert (app.amount, app.currency) == (100.0, "EUR")  # HubSpot: the payment's currency
    assert app.row("C00001", "9008")["amount"] == pytest.approx(round(100 * RATE, 2))


def test_money_the_same_records_twice_write_nothing_and_double_nothing(hubspot_sandbox,
                                                                       target_config):
    hs = hubspot_sandbox
    mixed = payment(5, applies=[(2, 100.0), (31, 40.0)], TransferSum=130.0)
    mixed["PaymentInvoices"][1]["InvoiceType"] = "it_JournalEntry"
    mixed["PaymentInvoices"].append({"LineNum": 2, "DocEntry": 9, "SumApplied": 10.0,
                                     "InvoiceType": "it_CredItnote"})
    text = messages(("business_partners", [customer(1)]),
                    ("credit_notes", [credit_note(1, 3, amount=50.0)]),
                    ("invoices", [eur_invoice(1, paid_eur=100.0), invoice(2), invoice(3),
                                  _freight() | {"DocEntry": 4, "DocNum": 4004}]),
                    ("incoming_payments", [usd_payment_of_eur_invoice(1, 1, 100.0), mixed]))
    config = cfg(target_config, local_currency="USD")
    run(config, text)
    settled(hs)
    writes, objects = hs.writes(), {t: len(hs.objects(t)) for t in (
        "invoices", "line_items", "commerce_payments")}
    run(config, text)
    settled(hs)
    assert hs.writes() == writes
    assert {t: len(hs.objects(t)) for t in objects} == objects
    invoices = by(hs, "invoices", "sap_doc_num")
    assert float(invoices["4003"]["hs_balance_due"]) == pytest.approx(165.0)  # 220 - 55 credit
    assert float(invoices["4002"]["hs_balance_due"]) == pytest.approx(120.0)  # 100 paid


def test_an_eur_payment_of_a_usd_invoice_pays_it_in_usd_without_local_currency_set():
    """SAP: a payment in a foreign currency pays documents in that currency or the local one,
    so an invoice whose currency differs from an EUR payment's is in local currency: it is paid
    SumApplied (USD), not AppliedFC (EUR) under a USD code."""
    record = payment(9, applies=[(2, 111.41)], DocCurrency="EUR", DocRate=RATE, TransferSum=100.0)
    record["PaymentInvoices"][0].update(AppliedFC=100.0)
    (app,) = mapping.payment_applications(record, None, {"2": "USD"})
    assert (app.amount, app.currency) == (111.41, "USD")


def test_amounts_whose_product_overflows_are_refused_with_one_line():
    record = invoice(1)
    record["DocumentLines"][0].update(Quantity=1e200, UnitPrice=1e200)
    lines = {mapping.line_key(record, ln): mapping.map_line_item(record, ln)
             for ln in record["DocumentLines"]}
    with pytest.raises(mapping.MappingError, match="too large"):
        mapping.total_lines(record, lines)


def test_an_eur_payment_written_before_its_usd_invoice_is_put_right_when_read_again(
        hubspot_sandbox, target_config):
    """Before its invoice, an EUR payment cannot tell a USD invoice from an EUR one (SAP fills
    AppliedFC either way): it is written in EUR; once the invoice is known, the payment's next
    read (the tap re-reads recent payments every run) writes it in the invoice's USD."""
    hs = hubspot_sandbox
    record = payment(9, applies=[(2, 111.41)], DocCurrency="EUR", DocRate=RATE,
                     TransferSum=100.0)
    record["PaymentInvoices"][0].update(AppliedFC=100.0)
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("incoming_payments", [record]), ("invoices", [invoice(2)])))
    run(cfg(target_config), messages(("incoming_payments", [record])))
    (pay,) = hs.objects("commerce_payments")
    assert (pay["properties"]["hs_currency_code"], float(pay["properties"]["hs_initial_amount"])
            ) == ("USD", 111.41)
    assert float(by(hs, "invoices", "sap_doc_num")["4002"]["hs_balance_due"]) == pytest.approx(
        220 - 111.41)


signed = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.001, 1e3), signed), min_size=1, max_size=4), signed,
       signed, st.floats(0, 100))
def test_no_line_item_is_ever_sent_with_a_negative_price(lines, vat, total, header_discount):
    """HubSpot refuses a negative line item price (its sandbox does too): whatever signs SAP's
    line prices, tax and total have, total_lines sends none below 0."""
    record = invoice(1, lines=len(lines), VatSum=vat, DocTotal=total,
                     DiscountPercent=header_discount)
    for line, (quantity, price) in zip(record["DocumentLines"], lines, strict=True):
        line.update(Quantity=quantity, UnitPrice=price, Price=price,
                    LineTotal=round(quantity * price, 2))
    items = all_line_items(record)
    assert all(p["price"] >= 0 for p in items.values()), items
