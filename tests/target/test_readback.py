"""The official hubspot-api-client, pointed at the sandbox, reads back what the target wrote."""

from __future__ import annotations

import hubspot
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import cfg

TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def test_official_client_reads_companies_invoices_lines_payments_and_associations(
        hubspot_sandbox, target_config):
    run(cfg(target_config), messages(
        ("business_partners", [customer(1), customer(2)]),
        ("invoices", [invoice(1), invoice(2, card=2, lines=3)]),
        ("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    api = hubspot.HubSpot(access_token=TOKEN, host=hubspot_sandbox.url)

    companies = api.crm.companies.basic_api.get_page(
        limit=100, properties=["name", "sap_card_code", "sap_payment_terms"]).results
    by_code = {c.properties["sap_card_code"]: c for c in companies}
    assert set(by_code) == {"C00001", "C00002"}
    assert by_code["C00001"].properties["sap_payment_terms"] == "Net 30"

    company = api.crm.companies.basic_api.get_by_id(
        by_code["C00002"].id, properties=["name"], id_property=None)
    assert company.properties["name"] == "Customer 2 Ltd"

    page = api.crm.objects.basic_api.get_page(
        "invoices", limit=100, properties=["sap_doc_num", "hs_invoice_status", "hs_currency"])
    invoices = {i.properties["sap_doc_num"]: i for i in page.results}
    assert set(invoices) == {"4001", "4002"}
    assert invoices["4001"].properties["hs_invoice_status"] == "paid"
    assert invoices["4002"].properties["hs_currency"] == "USD"

    v4 = api.crm.associations.v4.basic_api
    to_company = v4.get_page("invoices", invoices["4002"].id, "companies").results
    assert [str(a.to_object_id) for a in to_company] == [by_code["C00002"].id]
    lines = v4.get_page("invoices", invoices["4002"].id, "line_items").results
    assert len(lines) == 4  # 3 lines and the tax line
    line_ids = [str(a.to_object_id) for a in lines]
    read = api.crm.objects.basic_api.get_by_id("line_items", line_ids[0],
                                               properties=["sap_line_key"])
    assert read.properties["sap_line_key"].startswith("2-")

    payments = v4.get_page("invoices", invoices["4001"].id, "commerce_payments").results
    assert len(payments) == 1
    paid = api.crm.objects.basic_api.get_by_id("commerce_payments", str(payments[0].to_object_id),
                                               properties=["hs_initial_amount", "sap_payment_key"])
    assert float(paid.properties["hs_initial_amount"]) == 220.0
    assert paid.properties["sap_payment_key"] == "1-0"
