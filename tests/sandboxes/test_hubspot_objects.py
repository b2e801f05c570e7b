"""HubSpot sandbox: object create / read / update / upsert / archive, single and batch."""

from __future__ import annotations

import json

import pytest

V3 = "/crm/v3/objects"


def _unique_prop(api, otype: str, name: str) -> None:
    r = api.post(f"/crm/v3/properties/{otype}",
                 json={"name": name, "label": name, "type": "string", "fieldType": "text",
                       "groupName": {"companies": "companyinformation",
                                     "invoices": "invoiceinformation",
                                     "line_items": "lineiteminformation"}[otype],
                       "hasUniqueValue": True})
    assert r.status_code == 201, r.text


def test_single_create_read_update_round_trip_with_iso_timestamps(api, hubspot_sandbox):
    created = api.post(f"{V3}/companies", json={"properties": {"name": "ACME", "domain": "a.io"}})
    assert created.status_code == 201
    body = created.json()
    assert body["properties"]["name"] == "ACME"
    assert body["createdAt"].endswith("Z") and body["archived"] is False
    oid = body["id"]
    patched = api.patch(f"{V3}/companies/{oid}", json={"properties": {"phone": "+1 555"}})
    assert patched.status_code == 200
    assert patched.json()["properties"]["phone"] == "+1 555"
    read = api.get(f"{V3}/companies/{oid}", params={"properties": "name,phone"}).json()
    assert read["properties"] == {"name": "ACME", "phone": "+1 555"}
    assert hubspot_sandbox.objects("companies")[0]["properties"]["domain"] == "a.io"


def test_date_versioned_paths_and_type_ids_reach_the_same_records(api):
    oid = api.post("/crm/objects/2026-03/0-2", json={"properties": {"name": "X"}}).json()["id"]
    assert api.get(f"{V3}/companies/{oid}").json()["properties"]["name"] == "X"
    assert api.get(f"/crm/objects/2026-03/companies/{oid}").status_code == 200
    for type_id, name in (("0-1", "contacts"), ("0-3", "deals"), ("0-53", "invoices"),
                          ("0-8", "line_items"), ("0-101", "commerce_payments")):
        assert api.get(f"/crm/objects/2026-03/{type_id}").status_code == 200, name


def test_unknown_object_type_answers_like_hubspot(api):
    r = api.get(f"{V3}/widgets")
    assert r.status_code == 400
    assert r.json()["message"] == "Unable to infer object type from: widgets"


def test_missing_record_is_404(api):
    assert api.get(f"{V3}/companies/999999").status_code == 404
    assert api.patch(f"{V3}/companies/999999", json={"properties": {}}).status_code == 404


def test_batch_create_and_batch_read_by_unique_property(api):
    _unique_prop(api, "companies", "sap_card_code")
    inputs = [{"properties": {"name": f"C{i}", "sap_card_code": f"C{i:05d}"}} for i in range(3)]
    r = api.post(f"{V3}/companies/batch/create", json={"inputs": inputs})
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "COMPLETE" and body["startedAt"] and body["completedAt"]
    assert len(body["results"]) == 3
    read = api.post(f"{V3}/companies/batch/read",
                    json={"idProperty": "sap_card_code", "properties": ["name", "sap_card_code"],
                          "inputs": [{"id": "C00001"}, {"id": "NOPE"}]})
    assert read.status_code == 207
    assert [o["properties"]["name"] for o in read.json()["results"]] == ["C1"]
    assert read.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert read.json()["errors"][0]["context"]["ids"] == ["NOPE"]


def test_get_by_id_property_query_parameter(api):
    _unique_prop(api, "invoices", "sap_doc_num")
    api.post(f"{V3}/invoices", json={"properties": {"hs_currency": "EUR", "sap_doc_num": "77"}})
    r = api.get(f"{V3}/invoices/77", params={"idProperty": "sap_doc_num",
                                             "properties": "hs_currency"})
    assert r.status_code == 200 and r.json()["properties"]["hs_currency"] == "EUR"


def test_more_than_100_inputs_is_hubspots_validation_error(api, hubspot_sandbox):
    inputs = [{"properties": {"name": str(i)}} for i in range(101)]
    r = api.post(f"{V3}/companies/batch/create", json={"inputs": inputs})
    assert r.status_code == 400
    assert r.json()["category"] == "VALIDATION_ERROR"
    assert "100" in r.json()["message"]
    assert hubspot_sandbox.objects("companies") == []


def test_upsert_creates_then_updates_and_reports_new(api, hubspot_sandbox):
    _unique_prop(api, "companies", "sap_card_code")
    first = api.post(f"{V3}/companies/batch/upsert", json={"inputs": [
        {"id": "C1", "idProperty": "sap_card_code", "properties": {"name": "One"}}]})
    assert first.status_code == 200
    assert first.json()["results"][0]["new"] is True
    assert first.json()["results"][0]["properties"]["sap_card_code"] == "C1"
    second = api.post(f"{V3}/companies/batch/upsert", json={"inputs": [
        {"id": "C1", "idProperty": "sap_card_code", "properties": {"name": "Uno"}},
        {"id": "C2", "idProperty": "sap_card_code", "properties": {"name": "Two"}}]})
    results = {o["properties"]["sap_card_code"]: o for o in second.json()["results"]}
    assert results["C1"]["new"] is False and results["C2"]["new"] is True
    assert results["C1"]["id"] == first.json()["results"][0]["id"]
    assert sorted(o["properties"]["name"] for o in hubspot_sandbox.objects("companies")) == [
        "Two", "Uno"]


def test_contacts_upsert_by_email_ignores_case(api, hubspot_sandbox):
    for email in ("Ann@Example.com", "ann@example.com"):
        api.post(f"{V3}/contacts/batch/upsert", json={"inputs": [
            {"id": email, "idProperty": "email", "properties": {"firstname": "Ann"}}]})
    assert len(hubspot_sandbox.objects("contacts")) == 1


def test_upsert_by_non_unique_property_fails_with_hubspots_message(api, hubspot_sandbox):
    r = api.post(f"{V3}/companies/batch/upsert", json={"inputs": [
        {"id": "ACME", "idProperty": "name", "properties": {"domain": "a.io"}}]})
    assert r.status_code == 400
    assert r.json()["message"] == (
        f"Unable to perform update/upsert by non-unique 0-2 property name in portal ID "
        f"{hubspot_sandbox.portal_id}")
    assert r.json()["category"] == "VALIDATION_ERROR"


def test_duplicate_ids_in_one_upsert_reject_the_batch(api, hubspot_sandbox):
    _unique_prop(api, "companies", "sap_card_code")
    r = api.post(f"{V3}/companies/batch/upsert", json={"inputs": [
        {"id": "C1", "idProperty": "sap_card_code", "properties": {"name": "a"}},
        {"id": "C1", "idProperty": "sap_card_code", "properties": {"name": "b"}}]})
    assert r.status_code == 400
    assert r.json()["message"] == "Duplicate IDs found in batch input: [C1]. IDs must be unique"
    assert hubspot_sandbox.objects("companies") == []


@pytest.mark.parametrize(("otype", "props", "code"), [
    ("companies", {"name": "x", "no_such_prop": "1"}, "PROPERTY_DOESNT_EXIST"),
    ("companies", {"numberofemployees": "many"}, "INVALID_FLOAT"),
    ("companies", {"industry": "NOT_AN_INDUSTRY"}, "INVALID_OPTION"),
    ("invoices", {"hs_currency": "EUR", "hs_due_date": "2024-13-40"}, "INVALID_DATE"),
    ("invoices", {"hs_currency": "EUR", "hs_due_date": "1709649725000"}, "INVALID_DATE"),
    ("invoices", {"hs_currency": "EUR", "hs_allow_partial_payments": "yes"}, "INVALID_BOOLEAN"),
    ("invoices", {"hs_currency": "EUR", "hs_amount_billed": "5"}, "READ_ONLY_VALUE"),
    ("commerce_payments", {"hs_initiated_date": "yesterday"}, "INVALID_DATETIME"),
    ("contacts", {"email": "n/a"}, "INVALID_EMAIL"),
    ("line_items", {"name": "refund", "quantity": "1", "price": "-5"}, "INVALID_PRICE"),
])
def test_one_invalid_input_fails_the_whole_batch(api, hubspot_sandbox, otype, props, code):
    good = {"hs_currency": "EUR"} if otype == "invoices" else {}
    r = api.post(f"{V3}/{otype}/batch/create",
                 json={"inputs": [{"properties": good}, {"properties": props}]})
    assert r.status_code == 400
    body = r.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    listed = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert listed[0]["error"] == code and listed[0]["isValid"] is False
    assert hubspot_sandbox.objects(otype) == []


def test_trace_ids_give_207_with_per_input_errors_and_write_the_valid_ones(api, hubspot_sandbox):
    r = api.post(f"{V3}/companies/batch/create", json={"inputs": [
        {"objectWriteTraceId": "ok-1", "properties": {"name": "Good"}},
        {"objectWriteTraceId": "bad-2", "properties": {"industry": "NOPE"}}]})
    assert r.status_code == 207
    body = r.json()
    assert body["numErrors"] == 1
    assert body["errors"][0]["context"] == {"objectWriteTraceId": ["bad-2"]}
    assert body["errors"][0]["category"] == "VALIDATION_ERROR"
    assert body["results"][0]["objectWriteTraceId"] == "ok-1"
    assert [o["properties"]["name"] for o in hubspot_sandbox.objects("companies")] == ["Good"]
    # the key sets of a 207 recorded from api.hubapi.com (hotgluexyz/target-hubspot-v4 fixtures)
    assert set(body) == {"completedAt", "status", "startedAt", "results", "errors", "numErrors"}
    assert set(body["errors"][0]) == {"status", "category", "message", "context"}
    assert set(body["results"][0]) == {"id", "properties", "createdAt", "updatedAt", "archived",
                                       "objectWriteTraceId", "url"}


def test_trace_ids_on_upsert_give_207_too(api, hubspot_sandbox):
    _unique_prop(api, "invoices", "sap_doc_num")
    r = api.post(f"{V3}/invoices/batch/upsert", json={"inputs": [
        {"objectWriteTraceId": "1", "id": "1", "idProperty": "sap_doc_num",
         "properties": {"hs_currency": "USD"}},
        {"objectWriteTraceId": "2", "id": "2", "idProperty": "sap_doc_num",
         "properties": {"hs_currency": "XXX"}}]})
    assert r.status_code == 207
    assert r.json()["results"][0]["new"] is True
    assert len(hubspot_sandbox.objects("invoices")) == 1


def test_values_are_stored_as_hubspot_strings(api, hubspot_sandbox):
    r = api.post(f"{V3}/invoices", json={"properties": {
        "hs_currency": "EUR", "hs_invoice_date": "1709596800000", "hs_due_date": "2024-04-04",
        "hs_allow_partial_payments": True}})
    props = r.json()["properties"]
    assert props["hs_invoice_date"] == "2024-03-05"
    assert props["hs_due_date"] == "2024-04-04"
    assert props["hs_allow_partial_payments"] == "true"
    assert props["hs_invoice_status"] == "draft"
    line = api.post(f"{V3}/line_items",
                    json={"properties": {"quantity": 3, "price": "2.5"}}).json()
    assert line["properties"]["quantity"] == "3" and line["properties"]["amount"] == "7.5"


def test_batch_update_changes_records_and_skips_unknown_ids(api, hubspot_sandbox):
    ids = [o["id"] for o in api.post(f"{V3}/companies/batch/create", json={"inputs": [
        {"properties": {"name": "a"}}, {"properties": {"name": "b"}}]}).json()["results"]]
    r = api.post(f"{V3}/companies/batch/update", json={"inputs": [
        {"id": ids[0], "properties": {"name": "A"}},
        {"id": "404404", "properties": {"name": "?"}}]})
    assert r.status_code == 200
    assert [o["id"] for o in r.json()["results"]] == [ids[0]]
    names = sorted(o["properties"]["name"] for o in hubspot_sandbox.objects("companies"))
    assert names == ["A", "b"]


def test_creating_an_existing_unique_value_is_409_conflict(api):
    _unique_prop(api, "companies", "sap_card_code")
    first = api.post(f"{V3}/companies", json={"properties": {"sap_card_code": "C9"}}).json()
    r = api.post(f"{V3}/companies", json={"properties": {"sap_card_code": "C9"}})
    assert r.status_code == 409
    assert r.json()["category"] == "CONFLICT"
    assert r.json()["message"].endswith(f"Existing ID: {first['id']}")
    contact = api.post(f"{V3}/contacts", json={"properties": {"email": "a@b.c"}}).json()
    again = api.post(f"{V3}/contacts", json={"properties": {"email": "A@b.c"}})
    assert again.status_code == 409
    assert again.json()["message"] == f"Contact already exists. Existing ID: {contact['id']}"


def test_list_pages_with_after_cursor(api):
    api.post(f"{V3}/companies/batch/create",
             json={"inputs": [{"properties": {"name": f"n{i}"}} for i in range(25)]})
    seen, after = [], None
    while True:
        params = {"limit": 10, "properties": "name"}
        if after:
            params["after"] = after
        page = api.get(f"{V3}/companies", params=params).json()
        seen += [o["properties"]["name"] for o in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert seen == [f"n{i}" for i in range(25)]
    assert api.get(f"{V3}/companies", params={"limit": 101}).status_code == 400


def test_archive_hides_the_record_and_frees_its_unique_value(api, hubspot_sandbox):
    _unique_prop(api, "companies", "sap_card_code")
    oid = api.post(f"{V3}/companies", json={"properties": {"sap_card_code": "Z"}}).json()["id"]
    assert api.delete(f"{V3}/companies/{oid}").status_code == 204
    assert api.get(f"{V3}/companies/{oid}").status_code == 404
    assert api.get(f"{V3}/companies/{oid}", params={"archived": "true"}).json()["archived"]
    assert api.post(f"{V3}/companies", json={"properties": {"sap_card_code": "Z"}}).status_code \
        == 201
    assert len(hubspot_sandbox.objects("companies", archived=True)) == 1


def test_tamper_changes_data_behind_the_clients_back(api, hubspot_sandbox):
    oid = api.post(f"{V3}/companies", json={"properties": {"name": "Old"}}).json()["id"]
    before = api.get(f"{V3}/companies/{oid}").json()["updatedAt"]
    hubspot_sandbox.tamper("companies", oid, {"name": "Edited in UI"})
    after = api.get(f"{V3}/companies/{oid}").json()
    assert after["properties"]["name"] == "Edited in UI"
    assert after["updatedAt"] >= before


def test_batch_results_come_back_out_of_input_order_like_hubspot(api):
    names = [f"n{i:02d}" for i in range(20)]
    r = api.post(f"{V3}/companies/batch/create", json={"inputs": [
        {"objectWriteTraceId": n, "properties": {"name": n}} for n in names]})
    results = r.json()["results"]
    assert [o["properties"]["name"] for o in results] != names
    assert sorted(o["properties"]["name"] for o in results) == names
    assert all(o["objectWriteTraceId"] == o["properties"]["name"] for o in results)


def test_input_order_can_be_kept_when_a_test_wants_it():
    from hubspot_sandbox import HubSpotSandbox

    with HubSpotSandbox(shuffle_results=False) as hs:
        client = hs.client()
        names = [f"n{i:02d}" for i in range(20)]
        r = client.post(f"{V3}/companies/batch/create",
                        json={"inputs": [{"properties": {"name": n}} for n in names]})
        assert [o["properties"]["name"] for o in r.json()["results"]] == names
        client.close()


def test_concurrent_upserts_of_the_same_keys_never_duplicate(hubspot_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    setup = hubspot_sandbox.client()
    _unique_prop(setup, "companies", "sap_card_code")
    inputs = [{"id": f"C{i}", "idProperty": "sap_card_code", "properties": {"name": f"n{i}"}}
              for i in range(50)]

    def push(_: int) -> int:
        client = hubspot_sandbox.client()
        try:
            return client.post(f"{V3}/companies/batch/upsert",
                               json={"inputs": inputs}).status_code
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(push, range(8)))
    assert codes == [200] * 8
    assert len(hubspot_sandbox.objects("companies")) == 50
    setup.close()


def test_date_versioned_properties_and_associations_paths(api, hubspot_sandbox):
    r = api.post("/crm/properties/2026-03/invoices", json={
        "name": "sap_doc_num", "label": "SAP", "type": "string", "fieldType": "text",
        "groupName": "invoiceinformation", "hasUniqueValue": True})
    assert r.status_code == 201
    inv = api.post("/crm/objects/2026-03/invoices", json={
        "properties": {"hs_currency": "EUR", "sap_doc_num": "1"}}).json()["id"]
    co = api.post("/crm/objects/2026-03/companies", json={"properties": {"name": "A"}}).json()["id"]
    assert api.put(f"/crm/objects/2026-03/invoices/{inv}/associations/default/companies/{co}") \
        .status_code == 200
    r = api.post("/crm/associations/2026-03/invoices/companies/batch/read",
                 json={"inputs": [{"id": inv}]})
    assert r.status_code == 200
    assert hubspot_sandbox.associations("invoices", "companies") == [(inv, co, 179)]


def test_on_request_lets_a_test_change_data_mid_run(api, hubspot_sandbox):
    oid = api.post(f"{V3}/companies", json={"properties": {"name": "before"}}).json()["id"]

    def edit_in_ui(sb, record):
        if record.method == "GET":
            sb.tamper("companies", oid, {"name": "edited mid-run"})

    hubspot_sandbox.on_request(edit_in_ui)
    assert api.get(f"{V3}/companies/{oid}").json()["properties"]["name"] == "edited mid-run"


def test_two_creates_with_one_unique_value_in_a_batch_are_refused(api, hubspot_sandbox):
    _unique_prop(api, "companies", "sap_card_code")
    r = api.post(f"{V3}/companies/batch/create", json={"inputs": [
        {"objectWriteTraceId": "a", "properties": {"sap_card_code": "X"}},
        {"objectWriteTraceId": "b", "properties": {"sap_card_code": "X"}}]})
    assert r.status_code == 207
    assert r.json()["errors"][0]["context"] == {"objectWriteTraceId": ["b"]}
    assert len(hubspot_sandbox.objects("companies")) == 1


def test_a_chunked_request_body_is_read_whole(api, hubspot_sandbox):
    payload = json.dumps({"properties": {"name": "chunked"}}).encode()
    r = api.post(f"{V3}/companies", data=iter([payload[:10], payload[10:]]),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert api.get(f"{V3}/companies").status_code == 200, "the kept-alive connection still works"


def test_a_line_item_price_cannot_be_negative_on_create_or_update(api, hubspot_sandbox):
    """HubSpot: a line item's `price` cannot be negative (api-facts.md, line items)."""
    line = api.post(f"{V3}/line_items", json={"properties": {"quantity": 1, "price": "0"}})
    assert line.status_code == 201
    r = api.patch(f"{V3}/line_items/{line.json()['id']}", json={"properties": {"price": -0.01}})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    listed = json.loads(r.json()["message"].removeprefix("Property values were not valid: "))
    assert listed[0]["name"] == "price" and listed[0]["propertyValue"] == "-0.01"
    assert hubspot_sandbox.objects("line_items")[0]["properties"]["price"] == "0"
