"""Every mapping rule from SAP records to HubSpot properties (pure functions, no server)."""

from __future__ import annotations

import pytest
from target_factory import credit_note, customer, invoice, payment

from target_hubspot_finance import mapping
from target_hubspot_finance.ledger import Totals


def test_company_carries_name_contact_data_credit_terms_class_currency_balance_and_flags():
    props = mapping.map_company(customer(7, Frozen="tYES", Valid="tNO", Currency="EUR"))
    assert props["sap_card_code"] == "C00007"
    assert props["name"] == "Customer 7 Ltd"
    assert props["phone"] == "+1 555-0100"
    assert props["sap_email"] == "ap@c7.example.com"
    assert (props["address"], props["city"], props["zip"], props["country"]) == (
        "1 Main St", "Denver", "80227", "US")
    assert props["sap_credit_limit"] == 5000.0
    assert props["sap_payment_terms"] == "Net 30"
    assert props["sap_payment_terms_code"] == "2"
    assert (props["sap_card_type"], props["sap_group_code"]) == ("cCustomer", "100")
    assert props["sap_currency"] == "EUR"
    assert props["sap_balance"] == 1234.5
    assert (props["sap_frozen"], props["sap_active"]) == ("true", "false")


def test_payment_terms_fall_back_to_the_code_without_the_enrichment():
    record = customer(1)
    del record["PaymentTermsName"]
    assert mapping.map_company(record)["sap_payment_terms"] == "2"


def test_company_address_falls_back_to_the_bill_to_address_and_absent_fields_stay_absent():
    record = customer(1, Address=None, City=None, Phone1=None, BPAddresses=[
        {"AddressType": "bo_ShipTo", "Street": "Ship St", "City": "X"},
        {"AddressType": "bo_BillTo", "Street": "Bill St", "City": "Boulder", "State": "CO"}])
    props = mapping.map_company(record)
    assert (props["address"], props["city"], props["state"]) == ("Bill St", "Boulder", "CO")
    assert "phone" not in props  # never blanks a HubSpot value


def test_company_without_card_code_is_a_mapping_error():
    with pytest.raises(mapping.MappingError, match="CardCode"):
        mapping.map_company({"CardName": "x"})


def test_contacts_need_a_plausible_email_and_an_active_person():
    base = customer(3)["ContactEmployees"][0]
    props = mapping.map_contact(base, "C00003")
    assert props["email"] == "p0.c3@example.com"
    assert (props["firstname"], props["lastname"], props["jobtitle"]) == ("First0", "Last3", "AP")
    assert props["sap_contact_key"] == "C00003/1"
    assert mapping.map_contact({**base, "E_Mail": "not an email"}, "C00003") is None
    assert mapping.map_contact({**base, "E_Mail": None}, "C00003") is None
    assert mapping.map_contact({**base, "Active": "tNO"}, "C00003") is None
    assert mapping.map_contact({**base, "E_Mail": " Upper@Example.COM "}, "C")["email"] == (
        "upper@example.com")


@pytest.mark.parametrize(("over", "credited", "status"), [
    ({}, 0.0, "open"),
    ({"PaidToDate": 220.0}, 0.0, "paid"),
    ({"DocumentStatus": "bost_Close", "PaidToDate": 220.0}, 0.0, "paid"),
    ({"PaidToDate": 100.0}, 0.0, "open"),
    ({"Cancelled": "tYES"}, 0.0, "voided"),
    ({"DocumentStatus": "bost_Close"}, 220.0, "voided"),
    ({}, 50.0, "open"),
])
def test_invoice_status_from_document_status_cancelled_paid_to_date_and_credits(
        over, credited, status):
    assert mapping.invoice_status(invoice(1, **over), credited) == status


def test_invoice_carries_currency_dates_amounts_and_keys():
    props = mapping.map_invoice(invoice(5, PaidToDate=20.0, DocDate="2026-01-05T00:00:00Z",
                                        NumAtCard="PO-1"))
    assert props["sap_doc_num"] == "4005" and props["sap_doc_entry"] == "5"
    assert props["hs_currency"] == "USD"
    assert (props["hs_invoice_date"], props["hs_due_date"]) == ("2026-01-05", "2026-02-04")
    assert (props["sap_doc_total"], props["sap_vat_sum"]) == (220.0, 20.0)
    assert (props["sap_paid_to_date"], props["sap_open_balance"]) == (20.0, 200.0)
    assert props["hs_purchase_order_number"] == "PO-1"
    assert props["sap_card_code"] == "C00001"


def test_invoice_uses_the_mappers_open_amount_and_overdue_flag_when_present():
    props = mapping.map_invoice(invoice(1, OpenAmount=12.5, IsOverdue=True))
    assert (props["sap_open_balance"], props["sap_is_overdue"]) == (12.5, "true")


def test_invoice_folds_in_credit_and_payment_totals():
    credits = Totals(220.0, 1, "2026-02-10", ("7001",))
    payments = Totals(100.0, 2, "2026-02-01", ("9001", "9002"))
    props = mapping.map_invoice(invoice(1), credits=credits, payments=payments)
    assert props["hs_invoice_status"] == "voided"
    assert (props["sap_credited_amount"], props["sap_credit_note_numbers"]) == (220.0, "7001")
    assert (props["sap_payment_count"], props["sap_last_payment_date"]) == (2, "2026-02-01")


@pytest.mark.parametrize("bad", [{"DocCurrency": None}, {"DocNum": None}, {"DocDate": "5/1/26"}])
def test_invoice_mapping_errors_name_the_problem(bad):
    with pytest.raises(mapping.MappingError):
        mapping.map_invoice(invoice(1, **bad))


def test_line_item_reproduces_the_sap_line_total_and_keys_by_docentry_and_linenum():
    record = invoice(9)
    line = {**record["DocumentLines"][1], "UnitPrice": 100.0, "Quantity": 3.0,
            "DiscountPercent": 10.0, "LineTotal": 270.0, "AccountName": "Sales",
            "ProfitCenterName": "Sales West"}
    props = mapping.map_line_item(record, line)
    assert props["sap_line_key"] == "9-1"
    assert props["quantity"] * props["price"] * (1 - props["hs_discount_percentage"] / 100) == (
        pytest.approx(270.0))
    assert (props["hs_sku"], props["name"]) == ("I001", "Item 1")
    assert (props["sap_account_name"], props["sap_profit_center_name"]) == ("Sales", "Sales West")
    assert mapping.line_problem(line) is None
    assert "Quantity" in mapping.line_problem({**line, "Quantity": None})
    assert "ItemCode" in mapping.line_problem({"Quantity": 1, "Price": 1})


def test_tax_becomes_a_line_so_hubspots_billed_amount_equals_doc_total():
    record = invoice(2, lines=2)
    lines = [mapping.map_line_item(record, ln) for ln in record["DocumentLines"]]
    tax = mapping.map_tax_line(record)
    billed = sum(p["quantity"] * p["price"] for p in [*lines, tax])
    assert billed == pytest.approx(record["DocTotal"])
    assert tax["sap_line_key"] == "2-tax"
    assert mapping.map_tax_line(invoice(3, VatSum=0.0)) is None


def test_payment_splits_per_invoice_with_on_account_rest_and_skips_credit_note_lines():
    record = payment(4, applies=[(1, 100.0), (2, 50.0)])
    record["TransferSum"] = 180.0
    record["PaymentInvoices"].append({"LineNum": 2, "DocEntry": 3, "SumApplied": 10.0,
                                      "InvoiceType": "it_CredItnote"})
    apps = mapping.payment_applications(record)
    # the credit note used settles 10 of invoice 1: a "credit note" payment, not money
    assert [(a.source_key, a.invoice_key, a.amount) for a in apps] == [
        ("4-0", "1", 90.0), ("4-1", "2", 50.0), ("4-2-1", "1", 10.0), ("4-account", None, 40.0)]
    assert apps[2].method == "credit note"
    props = mapping.map_payment(record, apps[0])
    assert props["sap_payment_key"] == "4-0"
    assert props["hs_initial_amount"] == 90.0
    assert props["hs_initiated_date"] == "2026-02-01T00:00:00.000Z"
    assert props["hs_payment_method"] == "bank transfer"
    assert props["sap_payment_doc_num"] == "9004"


def test_cancelled_payment_applies_nothing():
    apps = mapping.payment_applications(payment(5, Cancelled="tYES"))
    assert [a.amount for a in apps] == [0.0]


def test_credit_note_credits_its_base_invoice_tax_included():
    apps = mapping.credit_applications(credit_note(1, invoice_entry=8, amount=100.0))
    assert [(a.invoice_key, a.amount) for a in apps] == [("8", 110.0)]


def test_property_map_renames_drops_and_copies_fields_but_never_touches_the_key():
    props = mapping.map_company(customer(1, U_Region="West"))
    rules = {"companies": {"sap_credit_limit": "credit_limit_usd", "sap_mobile": None,
                           "phone": None, "field:U_Region": "sap_region",
                           "sap_card_code": "other"}}
    out = mapping.apply_property_map("companies", props, customer(1, U_Region="West"), rules)
    assert out["credit_limit_usd"] == 5000.0 and "sap_credit_limit" not in out
    assert "phone" not in out
    assert out["sap_region"] == "West"
    assert out["sap_card_code"] == "C00001"
    names = {d["name"] for d in mapping.custom_definitions("companies", rules)}
    assert {"credit_limit_usd", "sap_region", "sap_card_code"} <= names
    assert "sap_credit_limit" not in names


def test_map_settings_are_validated_with_one_line_per_problem():
    problems = mapping.validate_maps({"invoices": "invoice"},
                                     {"companies": {"sap_card_code": "x"}, "nope": {}})
    assert len(problems) == 3
    assert any("object_map" in p for p in problems)
    assert any("upsert key" in p for p in problems)


def test_key_namespace_prefixes_every_unique_key():
    assert mapping.map_company(customer(1), "US01")["sap_card_code"] == "US01:C00001"
    assert mapping.map_invoice(invoice(1), "US01")["sap_doc_num"] == "US01:4001"
    line = invoice(1)["DocumentLines"][0]
    assert mapping.line_key(invoice(1), line, "US01") == "US01:1-0"


def test_content_hash_is_stable_and_sensitive():
    a = mapping.content_hash({"b": 1, "a": [1, 2]})
    assert a == mapping.content_hash({"a": [1, 2], "b": 1})
    assert a != mapping.content_hash({"a": [1, 2], "b": 2})
