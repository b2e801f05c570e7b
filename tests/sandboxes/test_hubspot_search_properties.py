"""HubSpot sandbox: search (filters, sorts, cursor, caps, lag) and the properties API."""

from __future__ import annotations

import pytest

from hubspot_sandbox import HubSpotSandbox

SEARCH = "/crm/v3/objects/deals/search"


@pytest.fixture
def deals(api):
    inputs = [{"properties": {"dealname": f"D{i}", "amount": str(i * 10),
                              "closedate": f"2024-03-{i + 1:02d}T00:00:00Z"}}
              for i in range(12)]
    inputs[3]["properties"].pop("amount")
    api.post("/crm/v3/objects/deals/batch/create", json={"inputs": inputs})


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["properties"]["dealname"] for o in response.json()["results"]]


def _search(api, filters, **extra):
    body = {"filterGroups": [{"filters": filters}], "properties": ["dealname", "amount"],
            "limit": 100, **extra}
    return api.post(SEARCH, json=body)


@pytest.mark.parametrize(("flt", "expected"), [
    ({"propertyName": "amount", "operator": "EQ", "value": "20"}, ["D2"]),
    ({"propertyName": "amount", "operator": "GT", "value": "90"}, ["D10", "D11"]),
    ({"propertyName": "amount", "operator": "GTE", "value": "100"}, ["D10", "D11"]),
    ({"propertyName": "amount", "operator": "LT", "value": "20"}, ["D0", "D1"]),
    ({"propertyName": "amount", "operator": "LTE", "value": "10"}, ["D0", "D1"]),
    ({"propertyName": "dealname", "operator": "IN", "values": ["D1", "D5"]}, ["D1", "D5"]),
    ({"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}, ["D3"]),
    ({"propertyName": "closedate", "operator": "GTE", "value": "1710115200000"}, ["D10", "D11"]),
])
def test_search_filters_compare_by_property_type(api, deals, flt, expected):
    assert _names(_search(api, [flt])) == expected


def test_search_neq_has_property_and_or_between_groups(api, deals):
    r = api.post(SEARCH, json={"filterGroups": [
        {"filters": [{"propertyName": "dealname", "operator": "EQ", "value": "D0"}]},
        {"filters": [{"propertyName": "dealname", "operator": "EQ", "value": "D7"}]}],
        "properties": ["dealname"]})
    assert _names(r) == ["D0", "D7"]
    r = _search(api, [{"propertyName": "amount", "operator": "HAS_PROPERTY"},
                      {"propertyName": "dealname", "operator": "NEQ", "value": "D0"}])
    assert len(_names(r)) == 10


def test_search_sorts_and_pages_with_after(api, deals):
    body = {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
            "properties": ["dealname"], "limit": 5,
            "filterGroups": [{"filters": [{"propertyName": "amount",
                                           "operator": "HAS_PROPERTY"}]}]}
    first = api.post(SEARCH, json=body).json()
    assert first["total"] == 11
    assert [o["properties"]["dealname"] for o in first["results"]] == [
        "D11", "D10", "D9", "D8", "D7"]
    second = api.post(SEARCH, json={**body, "after": first["paging"]["next"]["after"]}).json()
    assert second["results"][0]["properties"]["dealname"] == "D6"


def test_search_page_size_and_result_caps(api):
    assert api.post(SEARCH, json={"limit": 201}).status_code == 400
    assert api.post(SEARCH, json={"limit": 200, "after": "10000"}).status_code == 400
    too_many = {"filterGroups": [{"filters": [
        {"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 7}]}
    assert api.post(SEARCH, json=too_many).status_code == 400


def test_search_lags_behind_writes_when_asked(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, search_lag=30) as hs:
        client = hs.client()
        client.post("/crm/v3/objects/companies", json={"properties": {"name": "new"}})
        r = client.post("/crm/v3/objects/companies/search", json={})
        assert r.json()["total"] == 0
        assert len(hs.objects("companies")) == 1
        client.close()


# ---- properties -------------------------------------------------------------------------------
def _prop(name: str, **extra) -> dict:
    return {"name": name, "label": name.title(), "type": "string", "fieldType": "text",
            "groupName": "companyinformation", **extra}


def test_builtin_properties_the_target_needs_are_seeded(hubspot_sandbox):
    names = {otype: {p["name"] for p in hubspot_sandbox.properties(otype)}
             for otype in ("companies", "contacts", "invoices", "line_items",
                           "commerce_payments")}
    assert {"name", "domain", "phone"} <= names["companies"]
    assert {"email", "firstname", "lastname"} <= names["contacts"]
    assert {"hs_currency", "hs_invoice_date", "hs_due_date", "hs_invoice_status", "hs_title",
            "hs_number"} <= names["invoices"]
    assert {"name", "quantity", "price", "hs_sku"} <= names["line_items"]
    assert {"hs_initial_amount", "hs_initiated_date", "hs_currency_code"} <= names[
        "commerce_payments"]


def test_create_group_and_property_then_read_them(api):
    r = api.post("/crm/v3/properties/companies/groups",
                 json={"name": "sap_b1", "label": "SAP Business One"})
    assert r.status_code == 201
    assert api.get("/crm/v3/properties/companies/groups/sap_b1").json()["label"] == \
        "SAP Business One"
    r = api.post("/crm/v3/properties/companies", json=_prop(
        "sap_group", groupName="sap_b1", type="enumeration", fieldType="select",
        options=[{"label": "Customers", "value": "100"}]))
    assert r.status_code == 201 and r.json()["hubspotDefined"] is False
    got = api.get("/crm/v3/properties/companies/sap_group").json()
    assert got["options"][0]["value"] == "100"
    bad = api.post("/crm/v3/objects/companies", json={"properties": {"sap_group": "999"}})
    assert bad.status_code == 400 and "INVALID_OPTION" in bad.json()["message"]
    listed = api.get("/crm/v3/properties/companies").json()["results"]
    assert "sap_group" in {p["name"] for p in listed}


def test_existing_property_or_group_is_409_and_missing_group_is_400(api):
    assert api.post("/crm/v3/properties/companies", json=_prop("x1")).status_code == 201
    assert api.post("/crm/v3/properties/companies", json=_prop("x1")).status_code == 409
    assert api.post("/crm/v3/properties/companies/groups",
                    json={"name": "companyinformation", "label": "dup"}).status_code == 409
    assert api.post("/crm/v3/properties/companies",
                    json=_prop("x2", groupName="nope")).status_code == 400
    assert api.get("/crm/v3/properties/companies/nope").status_code == 404


def test_batch_create_and_read_properties(api):
    r = api.post("/crm/v3/properties/invoices/batch/create", json={"inputs": [
        {**_prop("sap_doc_num", hasUniqueValue=True), "groupName": "invoiceinformation"},
        {**_prop("sap_doc_total", type="number", fieldType="number"),
         "groupName": "invoiceinformation"}]})
    assert r.status_code == 201 and r.json()["status"] == "COMPLETE"
    read = api.post("/crm/v3/properties/invoices/batch/read",
                    json={"inputs": [{"name": "sap_doc_num"}, {"name": "missing"}]}).json()
    assert [p["name"] for p in read["results"]] == ["sap_doc_num"]


def test_at_most_ten_unique_properties_per_object(api):
    for i in range(10):
        r = api.post("/crm/v3/properties/companies", json=_prop(f"key{i}", hasUniqueValue=True))
        assert r.status_code == 201
    r = api.post("/crm/v3/properties/companies", json=_prop("key10", hasUniqueValue=True))
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert api.post("/crm/v3/properties/contacts",
                    json={**_prop("key10", hasUniqueValue=True),
                          "groupName": "contactinformation"}).status_code == 201


def test_search_stops_paging_at_ten_thousand_results(api):
    for start in range(0, 10_050, 100):
        api.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
            {"properties": {"dealname": f"d{start + i}"}} for i in range(100)]})
    page = api.post(SEARCH, json={"limit": 200, "after": "9900"}).json()
    assert page["total"] == 10_100
    assert len(page["results"]) == 100 and "paging" not in page


def test_custom_properties_can_be_patched_and_archived_builtin_ones_cannot(api, hubspot_sandbox):
    api.post("/crm/v3/properties/companies", json=_prop("sap_notes"))
    r = api.patch("/crm/v3/properties/companies/sap_notes", json={"label": "SAP notes"})
    assert r.status_code == 200 and r.json()["label"] == "SAP notes"
    assert api.patch("/crm/v3/properties/companies/name", json={"label": "x"}).status_code == 400
    assert api.delete("/crm/v3/properties/companies/sap_notes").status_code == 204
    assert api.get("/crm/v3/properties/companies/sap_notes").status_code == 404
    assert hubspot_sandbox.count(method="PATCH", path_contains="/properties/") == 2
