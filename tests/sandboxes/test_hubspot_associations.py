"""HubSpot sandbox: v4 associations (single, batch, default types) and the invoice rules."""

from __future__ import annotations

import json

V3 = "/crm/v3/objects"


def _make(api, otype: str, props: dict) -> str:
    r = api.post(f"{V3}/{otype}", json={"properties": props})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_put_default_links_both_ways_with_hubspots_type_ids(api, hubspot_sandbox):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    co = _make(api, "companies", {"name": "ACME"})
    r = api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/companies/{co}")
    assert r.status_code == 200
    specs = {(x["from"]["id"], x["associationSpec"]["associationTypeId"])
             for x in r.json()["results"]}
    assert specs == {(inv, 179), (co, 180)}
    assert hubspot_sandbox.associations("invoices", "companies") == [(inv, co, 179)]
    assert hubspot_sandbox.associations("companies", "invoices") == [(co, inv, 180)]


def test_batch_associate_default_and_batch_read(api, hubspot_sandbox):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    lines = [_make(api, "line_items", {"name": f"L{i}"}) for i in range(3)]
    r = api.post("/crm/v4/associations/invoices/line_items/batch/associate/default",
                 json={"inputs": [{"from": {"id": inv}, "to": {"id": li}} for li in lines]})
    assert r.status_code == 200 and r.json()["status"] == "COMPLETE"
    read = api.post("/crm/v4/associations/0-53/0-8/batch/read", json={"inputs": [{"id": inv}]})
    assert read.status_code == 200
    to = read.json()["results"][0]["to"]
    assert sorted(str(t["toObjectId"]) for t in to) == sorted(lines)
    assert to[0]["associationTypes"][0]["typeId"] == 409
    assert len(hubspot_sandbox.associations("line_items", "invoices")) == 3


def test_batch_create_with_types_and_unknown_type_is_reported(api):
    contact = _make(api, "contacts", {"email": "a@b.c"})
    co = _make(api, "companies", {"name": "ACME"})
    r = api.post("/crm/v4/associations/contacts/companies/batch/create", json={"inputs": [
        {"from": {"id": contact}, "to": {"id": co},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]},
        {"from": {"id": contact}, "to": {"id": co},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 99999}]}]})
    assert r.status_code == 207
    assert r.json()["results"][0]["labels"] == ["Primary"]
    assert r.json()["numErrors"] == 1


def test_associating_a_missing_record_fails(api):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    r = api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/companies/424242")
    assert r.status_code == 400


def test_batch_read_without_links_lists_an_error(api):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    r = api.post("/crm/v4/associations/invoices/contacts/batch/read",
                 json={"inputs": [{"id": inv}]})
    assert r.status_code == 207 and r.json()["results"] == []


def test_inline_associations_on_create(api, hubspot_sandbox):
    co = _make(api, "companies", {"name": "ACME"})
    r = api.post(f"{V3}/invoices/batch/create", json={"inputs": [
        {"properties": {"hs_currency": "USD"},
         "associations": [{"to": {"id": co}, "types": [
             {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 179}]}]}]})
    assert r.status_code == 201
    inv = r.json()["results"][0]["id"]
    assert hubspot_sandbox.associations("invoices", "companies") == [(inv, co, 179)]


def test_single_list_and_delete(api, hubspot_sandbox):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    co = _make(api, "companies", {"name": "ACME"})
    api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/companies/{co}")
    listed = api.get(f"/crm/v4/objects/invoices/{inv}/associations/companies").json()
    assert listed["results"][0]["toObjectId"] == int(co)
    assert api.delete(f"/crm/v4/objects/invoices/{inv}/associations/companies/{co}").status_code \
        == 204
    assert hubspot_sandbox.associations("invoices", "companies") == []
    labels = api.get("/crm/v4/associations/invoices/companies/labels").json()["results"]
    assert {"category": "HUBSPOT_DEFINED", "typeId": 179, "label": None} in labels


# ---- invoice rules ----------------------------------------------------------------------------
def _error_codes(response) -> list[str]:
    listed = json.loads(response.json()["message"].removeprefix("Property values were not valid: "))
    return [e["error"] for e in listed]


def test_invoice_needs_hs_currency(api, hubspot_sandbox):
    r = api.post(f"{V3}/invoices", json={"properties": {"hs_title": "no currency"}})
    assert r.status_code == 400 and _error_codes(r) == ["REQUIRED_PROPERTY"]
    assert hubspot_sandbox.objects("invoices") == []


def test_invoice_leaves_draft_only_with_a_contact_and_a_line_item(api):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    r = api.patch(f"{V3}/invoices/{inv}", json={"properties": {"hs_invoice_status": "open"}})
    assert r.status_code == 400 and _error_codes(r) == ["INVALID_INVOICE_STATUS"]
    contact = _make(api, "contacts", {"email": "pay@acme.io"})
    api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/contacts/{contact}")
    r = api.patch(f"{V3}/invoices/{inv}", json={"properties": {"hs_invoice_status": "open"}})
    assert r.status_code == 400, "a contact alone is not enough"
    line = _make(api, "line_items", {"name": "Widget", "quantity": "1", "price": "10"})
    api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/line_items/{line}")
    r = api.patch(f"{V3}/invoices/{inv}", json={"properties": {"hs_invoice_status": "open"}})
    assert r.status_code == 200 and r.json()["properties"]["hs_invoice_status"] == "open"
    r = api.patch(f"{V3}/invoices/{inv}", json={"properties": {"hs_invoice_status": "paid"}})
    assert r.status_code == 200


def test_new_invoice_upserted_as_open_is_refused(api):
    api.post("/crm/v3/properties/invoices", json={
        "name": "sap_doc_num", "label": "SAP", "type": "string", "fieldType": "text",
        "groupName": "invoiceinformation", "hasUniqueValue": True})
    r = api.post(f"{V3}/invoices/batch/upsert", json={"inputs": [
        {"id": "1", "idProperty": "sap_doc_num",
         "properties": {"hs_currency": "EUR", "hs_invoice_status": "open"}}]})
    assert r.status_code == 400 and _error_codes(r) == ["INVALID_INVOICE_STATUS"]


def test_invoice_amounts_follow_line_items_and_a_payment_marks_it_paid(api, hubspot_sandbox):
    inv = _make(api, "invoices", {"hs_currency": "EUR"})
    contact = _make(api, "contacts", {"email": "pay@acme.io"})
    api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/contacts/{contact}")
    for qty, price in ((2, "10"), (1, "5.5")):
        line = _make(api, "line_items", {"quantity": str(qty), "price": price})
        api.put(f"/crm/v4/objects/invoices/{inv}/associations/default/line_items/{line}")
    api.patch(f"{V3}/invoices/{inv}", json={"properties": {"hs_invoice_status": "open"}})
    props = api.get(f"{V3}/invoices/{inv}", params={
        "properties": "hs_amount_billed,hs_balance_due,hs_invoice_status"}).json()["properties"]
    assert props == {"hs_amount_billed": "25.5", "hs_balance_due": "25.5",
                     "hs_invoice_status": "open"}
    part = _make(api, "commerce_payments", {"hs_initial_amount": "20",
                                            "hs_initiated_date": "2024-03-05T10:00:00Z"})
    api.put(f"/crm/v4/objects/commerce_payments/{part}/associations/default/invoices/{inv}")
    props = hubspot_sandbox.objects("invoices")[0]["properties"]
    assert (props["hs_balance_due"], props["hs_invoice_status"]) == ("5.5", "open")
    rest = _make(api, "commerce_payments", {"hs_initial_amount": "5.5",
                                            "hs_initiated_date": "2024-03-06T10:00:00Z"})
    r = api.post("/crm/v4/associations/commerce_payments/invoices/batch/associate/default",
                 json={"inputs": [{"from": {"id": rest}, "to": {"id": inv}}]})
    assert r.status_code == 200
    props = hubspot_sandbox.objects("invoices")[0]["properties"]
    assert (props["hs_amount_paid"], props["hs_balance_due"], props["hs_invoice_status"]) == (
        "25.5", "0", "paid")
