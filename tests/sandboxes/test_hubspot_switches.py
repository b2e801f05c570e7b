"""The HubSpot sandbox's switches for what HubSpot leaves undocumented, each way.

README.md ("Switches"): account currencies (and an invoice in another one), an invoice created
open in one call, `paid` written directly, and custom properties on payments. Each test shows the
refusing way answers with HubSpot's error body and the accepting way writes.
"""

from __future__ import annotations

import itertools
import json

import pytest

from hubspot_sandbox import HubSpotSandbox

_EMAILS = itertools.count(1)
LINE = {"properties": {"name": "Widget", "quantity": "1", "price": "10"}}


def _linked_invoice_input(api, status: str, currency: str = "USD") -> dict:
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": f"ap{next(_EMAILS)}@example.com"}}).json()["id"]
    line = api.post("/crm/v3/objects/line_items", json=LINE).json()["id"]
    return {"properties": {"hs_currency": currency, "hs_invoice_status": status},
            "associations": [
                {"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                   "associationTypeId": 177}]},
                {"to": {"id": line}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                "associationTypeId": 409}]}]}


def _refused_property(resp) -> list[dict]:
    """The property errors of a HubSpot 400 VALIDATION_ERROR (list inside `message`)."""
    body = resp.json()
    assert resp.status_code == 400
    assert body["category"] == "VALIDATION_ERROR" and body["status"] == "error"
    assert body["correlationId"]
    return json.loads(body["message"].split("Property values were not valid: ", 1)[1])


def test_account_currencies_are_what_the_settings_api_lists() -> None:
    with HubSpotSandbox(company_currency="USD", currencies=("EUR",)) as hs:
        api = hs.client()
        home = api.get("/settings/v3/currencies/company-currency").json()
        rates = api.get("/settings/currencies/2026-03/exchange-rates/current").json()["results"]
        account = api.get("/account-info/v3/details").json()
    assert home["id"] == "USD"
    assert [(r["fromCurrencyCode"], r["toCurrencyCode"]) for r in rates] == [("EUR", "USD")]
    assert account["companyCurrency"] == "USD" and account["additionalCurrencies"] == ["EUR"]


@pytest.mark.parametrize("way", ["refuse", "accept"])
def test_invoice_in_a_currency_the_account_has_not_set_up(way: str) -> None:
    with HubSpotSandbox(currencies=(), unset_currency=way) as hs:
        resp = hs.client().post("/crm/v3/objects/invoices",
                                json={"properties": {"hs_currency": "EUR"}})
        if way == "refuse":
            errors = _refused_property(resp)
            assert errors[0]["name"] == "hs_currency" and errors[0]["error"] == "INVALID_OPTION"
            assert "EUR" in errors[0]["message"]
            assert hs.objects("invoices") == []
        else:
            assert resp.status_code == 201
            assert hs.objects("invoices")[0]["properties"]["hs_currency"] == "EUR"


@pytest.mark.parametrize("accepts", [True, False])
def test_invoice_created_open_in_one_call(accepts: bool) -> None:
    with HubSpotSandbox(open_on_create=accepts) as hs:
        api = hs.client()
        resp = api.post("/crm/v3/objects/invoices", json=_linked_invoice_input(api, "open"))
        if accepts:
            assert resp.status_code == 201 and resp.json()["properties"]["hs_invoice_status"] \
                == "open"
        else:
            errors = _refused_property(resp)
            assert errors[0]["name"] == "hs_invoice_status"
            assert hs.objects("invoices") == []
            # the documented path still works: draft with its links, then open
            draft = api.post("/crm/v3/objects/invoices",
                             json=_linked_invoice_input(api, "draft")).json()
            opened = api.patch(f"/crm/v3/objects/invoices/{draft['id']}",
                               json={"properties": {"hs_invoice_status": "open"}})
            assert opened.status_code == 200
            assert opened.json()["properties"]["hs_invoice_status"] == "open"


@pytest.mark.parametrize("accepts", [True, False])
def test_paid_written_directly(accepts: bool) -> None:
    with HubSpotSandbox(paid_settable=accepts) as hs:
        api = hs.client()
        inv = api.post("/crm/v3/objects/invoices", json=_linked_invoice_input(api, "open")).json()
        resp = api.patch(f"/crm/v3/objects/invoices/{inv['id']}",
                         json={"properties": {"hs_invoice_status": "paid"}})
        status = hs.objects("invoices")[0]["properties"]["hs_invoice_status"]
        if accepts:
            assert resp.status_code == 200 and status == "paid"
        else:
            assert _refused_property(resp)[0]["name"] == "hs_invoice_status"
            assert status == "open"


@pytest.mark.parametrize("accepts", [True, False])
def test_custom_properties_on_payments(accepts: bool) -> None:
    with HubSpotSandbox(payment_custom_properties=accepts) as hs:
        resp = hs.client().post("/crm/v3/properties/commerce_payments", json={
            "name": "sap_payment_key", "label": "SAP payment key", "type": "string",
            "fieldType": "text", "groupName": "paymentinformation", "hasUniqueValue": True})
        names = {p["name"] for p in hs.properties("commerce_payments")}
    if accepts:
        assert resp.status_code == 201 and "sap_payment_key" in names
    else:
        assert resp.status_code == 400 and resp.json()["category"] == "VALIDATION_ERROR"
        assert "sap_payment_key" not in names


def test_payments_scope_is_hubspots_documented_name() -> None:
    with HubSpotSandbox(scopes={"crm.objects.commercepayments.read"}) as hs:
        api = hs.client()
        assert api.get("/crm/v3/objects/commerce_payments?limit=1").status_code == 200
        denied = api.post("/crm/v3/objects/commerce_payments", json={"properties": {}})
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["context"]["requiredGranularScopes"] == [
        "crm.objects.commercepayments.write"]
