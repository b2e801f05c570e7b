"""SAP sandbox answers what it cannot do with SAP's error bodies, never with silence."""

from __future__ import annotations

import pytest
import requests

from sap_sandbox import DataSpec, SapSandbox


@pytest.fixture(scope="module")
def sb():
    with SapSandbox(data=DataSpec(seed=4, customers=5, invoices=40, payments=10,
                                  credit_notes=2)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def http(sb, sap_login):
    """One login for the whole module (the shared `http` fixture logs in per test)."""
    return sap_login(sb.url)


@pytest.mark.parametrize("flt", [
    "DocEntry eq",
    "DocEntry eq 5 )",
    "((DocEntry eq 5)",
    "UpdateDate gtx '2024-01-01'",
    "DocEntry eq 'unterminated",
    "and DocEntry eq 5",
    "DocEntry eq 5 or",
    "DocEntry # 5",
])
def test_unparseable_filter_is_a_400_with_sap_body(sb, http, flt):
    r = http.get(f"{sb.url}/Invoices", params={"$filter": flt}, timeout=5)
    assert r.status_code == 400
    err = r.json()["error"]
    assert isinstance(err["code"], int) and err["message"]["value"]


def test_unknown_field_in_filter_orderby_or_select_is_rejected(sb, http):
    for option in ({"$filter": "NoSuchField eq 1"}, {"$orderby": "NoSuchField"},
                   {"$select": "DocEntry,NoSuchField"}):
        r = http.get(f"{sb.url}/Invoices", params=option, timeout=5)
        assert r.status_code == 400
        assert "NoSuchField" in r.json()["error"]["message"]["value"]


def test_unknown_entity_set_is_unrecognized_resource_path(sb, http):
    r = http.get(f"{sb.url}/NoSuchThings", timeout=5)
    assert r.status_code == 400
    assert r.json()["error"]["message"]["value"] == "Unrecognized resource path."


def test_v2_errors_carry_string_code_and_message(sb, sap_login):
    s = sap_login(sb.url_v2)
    err = s.get(f"{sb.url_v2}/Invoices", params={"$filter": "DocEntry eq"}, timeout=5).json()
    assert isinstance(err["error"]["code"], str) and isinstance(err["error"]["message"], str)


def test_bad_top_skip_and_key_are_400(sb, http):
    assert http.get(f"{sb.url}/Invoices?$top=abc", timeout=5).status_code == 400
    assert http.get(f"{sb.url}/Invoices?$skip=-1", timeout=5).status_code == 400
    assert http.get(f"{sb.url}/BusinessPartners(5)", timeout=5).status_code == 400
    assert http.get(f"{sb.url}/Invoices('x')", timeout=5).status_code == 400


def test_outside_the_service_root_is_rejected(sb):
    assert requests.get(f"{sb.base_url}/elsewhere", timeout=5).status_code == 400


DATE_FORMS = ["'2024-03-05'", "'20240305'", "datetime'2024-03-05'", "'2024-03-05T10:11:12'",
              "'20240305000000'"]
TIME_FORMS = ["'14:22:00'", "'14:22'", "'142200'", "'1422'", "'2014-06-18T14:22:00Z'"]


@pytest.mark.parametrize(("field", "literal", "cutoff"),
                         [("UpdateDate", form, "2024-03-05") for form in DATE_FORMS]
                         + [("UpdateTime", form, "14:22:00") for form in TIME_FORMS])
def test_every_documented_date_and_time_literal_form_filters_the_same(sb, http, field, literal,
                                                                      cutoff):
    r = http.get(f"{sb.url}/Invoices", params={"$filter": f"{field} ge {literal}",
                                               "$select": "DocEntry"},
                 headers={"Prefer": "odata.maxpagesize=500"}, timeout=5)
    expected = [i["DocEntry"] for i in sb.all("Invoices") if i[field] >= cutoff]
    assert [i["DocEntry"] for i in r.json()["value"]] == expected


@pytest.mark.parametrize(("options", "matches"), [({}, True),
                                                  ({"time_filter_precision": "minute"}, True),
                                                  ({"time_filter_precision": "second"}, False)],
                         ids=["default", "minute", "second"])
def test_times_compare_to_the_minute_by_default_and_to_the_second_when_asked(
        sap_login, options, matches):
    """SAP's manual: only HH:MM of a time counts (the strict default); "second" is kinder."""
    with SapSandbox(data=DataSpec(seed=4, customers=5, invoices=40, payments=10),
                    **options) as sb:
        inv = sb.update("Invoices", 1, {"UpdateTime": "14:22:45"})
        s = sap_login(sb.url)
        flt = f"UpdateDate eq '{inv['UpdateDate']}' and UpdateTime ge '14:22:50'"
        rows = s.get(f"{sb.url}/Invoices", params={"$filter": flt}, timeout=5).json()["value"]
        # 14:22:45 >= 14:22:50 holds at minute precision only
        assert (1 in [r["DocEntry"] for r in rows]) is matches


def test_an_empty_entity_set_still_knows_its_fields(sap_login):
    spec = DataSpec(seed=4, customers=2, invoices=3, payments=0, credit_notes=0)
    with SapSandbox(data=spec) as sb:
        s = sap_login(sb.url)
        for entity_set, day in (("CreditNotes", "UpdateDate"), ("IncomingPayments", "DocDate")):
            r = s.get(f"{sb.url}/{entity_set}", params={
                "$filter": f"{day} ge '2020-01-01' and DocEntry ge 1",
                "$select": f"DocEntry,{day}", "$orderby": f"{day},DocEntry"}, timeout=5)
            assert r.status_code == 200, r.text
            assert r.json()["value"] == []
