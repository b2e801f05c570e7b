"""The SAP sandbox's core Service Layer surface: login, entity sets, paging and OData options."""

from __future__ import annotations

import pytest
import requests

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=7, customers=30, suppliers=3, leads=3, invoices=120, credit_notes=6,
                payments=60)


@pytest.fixture(scope="module")
def sb(sap_creds):
    with SapSandbox(data=SPEC, password=sap_creds["Password"]) as sandbox:
        yield sandbox


def get_all(http, url, headers=None):
    """Follow nextLink from `url`; returns (records, pages)."""
    root = url.split("/b1s/")[0] + "/b1s/" + url.split("/b1s/")[1].split("/")[0]
    out, pages = [], 0
    while url:
        r = http.get(url, headers=headers, timeout=5)
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["value"])
        pages += 1
        link = body.get("odata.nextLink") or body.get("@odata.nextLink")
        url = f"{root}/{link}" if link else None
    return out, pages


def test_login_sets_both_cookies_and_reports_session(sb, sap_creds):
    r = requests.post(f"{sb.url}/Login", json=sap_creds, timeout=5)
    body = r.json()
    assert r.status_code == 200
    assert body["SessionId"].startswith("b1s-")
    assert body["SessionTimeout"] == 30 and body["Version"]
    assert r.cookies["B1SESSION"] == body["SessionId"]
    assert r.cookies["ROUTEID"]


def test_login_v2_answers_with_odata_context(sb, sap_creds):
    r = requests.post(f"{sb.url_v2}/Login", json=sap_creds, timeout=5)
    assert r.status_code == 200
    assert "@odata.context" in r.json()


def test_wrong_password_gets_sap_error_body(sb, sap_creds):
    r = requests.post(f"{sb.url}/Login", json={**sap_creds, "Password": "nope"}, timeout=5)
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == 100000027 and err["message"]["lang"] == "en-us"
    assert "B1SESSION" not in r.cookies


def test_unknown_company_gets_sap_error_body(sb, sap_creds):
    r = requests.post(f"{sb.url}/Login", json={**sap_creds, "CompanyDB": "NOPE"}, timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == -304


def test_request_without_session_is_401_code_301(sb):
    r = requests.get(f"{sb.url}/Invoices", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 301


def test_logout_ends_the_session(sb, sap_login):
    s = sap_login(sb.url)
    assert s.post(f"{sb.url}/Logout", timeout=5).status_code == 204
    assert s.get(f"{sb.url}/Invoices", timeout=5).status_code == 401


@pytest.mark.parametrize("entity_set", ["BusinessPartners", "Invoices", "CreditNotes",
                                        "IncomingPayments", "ChartOfAccounts", "ProfitCenters",
                                        "PaymentTermsTypes"])
def test_every_entity_set_pages_to_its_full_size(sb, http, entity_set):
    rows, _ = get_all(http, f"{sb.url}/{entity_set}", {"Prefer": "odata.maxpagesize=50"})
    assert len(rows) == len(sb.all(entity_set)) > 0


def test_default_page_is_20_with_v1_next_link(sb, http):
    body = http.get(f"{sb.url}/Invoices", timeout=5).json()
    assert len(body["value"]) == 20
    assert body["odata.nextLink"] == "Invoices?$skip=20"


def test_v2_uses_at_odata_next_link(sb, http, sap_login):
    s = sap_login(sb.url_v2)
    body = s.get(f"{sb.url_v2}/Invoices", timeout=5).json()
    assert "@odata.nextLink" in body and "odata.nextLink" not in body


def test_prefer_maxpagesize_is_honoured_and_acknowledged(sb, http):
    r = http.get(f"{sb.url}/Invoices", headers={"Prefer": "odata.maxpagesize=45"}, timeout=5)
    assert len(r.json()["value"]) == 45
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=45"


def test_b1s_page_size_header_is_honoured(sb, http):
    r = http.get(f"{sb.url}/Invoices", headers={"B1S-PageSize": "33"}, timeout=5)
    assert len(r.json()["value"]) == 33


def test_page_size_is_capped_by_max_page_size(sap_login):
    with SapSandbox(data=SPEC, max_page_size=25) as sb:
        s = sap_login(sb.url)
        r = s.get(f"{sb.url}/Invoices", headers={"Prefer": "odata.maxpagesize=100"}, timeout=5)
        assert len(r.json()["value"]) == 25
        assert r.headers["Preference-Applied"] == "odata.maxpagesize=25"
        rows, pages = get_all(s, f"{sb.url}/Invoices", {"Prefer": "odata.maxpagesize=100"})
        assert len(rows) == 120 and pages == 5


def test_page_size_can_be_ignored_like_an_old_server(sap_login):
    with SapSandbox(data=SPEC, honour_page_size=False) as sb:
        s = sap_login(sb.url)
        r = s.get(f"{sb.url}/Invoices", headers={"Prefer": "odata.maxpagesize=100"}, timeout=5)
        assert len(r.json()["value"]) == 20
        assert "Preference-Applied" not in r.headers


def test_top_and_skip_window_the_result(sb, http):
    body = http.get(f"{sb.url}/Invoices?$top=5&$skip=10", timeout=5).json()
    assert [r["DocEntry"] for r in body["value"]] == [11, 12, 13, 14, 15]
    assert "odata.nextLink" not in body


def test_top_above_page_size_pages_with_remaining_top(sb, http):
    body = http.get(f"{sb.url}/Invoices?$top=30", timeout=5).json()
    assert len(body["value"]) == 20
    assert body["odata.nextLink"] == "Invoices?$top=10&$skip=20"
    rows, _ = get_all(http, f"{sb.url}/Invoices?$top=30")
    assert len(rows) == 30


def test_orderby_multiple_keys_and_directions(sb, http):
    rows, _ = get_all(http, f"{sb.url}/Invoices?$orderby=CardCode desc,DocTotal asc"
                      "&$select=DocEntry,CardCode,DocTotal", {"Prefer": "odata.maxpagesize=500"})
    keys = [(r["CardCode"], r["DocTotal"]) for r in rows]
    assert keys == sorted(keys, key=lambda k: (_neg(k[0]), k[1]))
    assert len(rows) == 120


def _neg(text):
    return [-ord(c) for c in text]


def test_select_returns_only_the_named_fields(sb, http):
    body = http.get(f"{sb.url}/BusinessPartners?$select=CardCode,CardName", timeout=5).json()
    assert all(set(r) == {"CardCode", "CardName"} for r in body["value"])


def test_keyset_filter_on_dates_and_times(sb, http):
    records = sb.all("Invoices")
    pivot = sorted(records, key=lambda r: (r["UpdateDate"], r["UpdateTime"]))[60]
    d, t = pivot["UpdateDate"], pivot["UpdateTime"]
    flt = f"UpdateDate gt '{d}' or (UpdateDate eq '{d}' and UpdateTime ge '{t}')"
    rows, _ = get_all(http, f"{sb.url}/Invoices?$filter={flt}&$orderby=UpdateDate,UpdateTime,"
                            "DocEntry", {"Prefer": "odata.maxpagesize=7"})
    expected = sorted((r for r in records if (r["UpdateDate"], r["UpdateTime"]) >= (d, t)),
                      key=lambda r: (r["UpdateDate"], r["UpdateTime"], r["DocEntry"]))
    assert [r["DocEntry"] for r in rows] == [r["DocEntry"] for r in expected]


@pytest.mark.parametrize(("flt", "check"), [
    ("DocTotal gt 1000 and DocTotal le 5000", lambda r: 1000 < r["DocTotal"] <= 5000),
    ("DocumentStatus eq 'bost_Open'", lambda r: r["DocumentStatus"] == "bost_Open"),
    ("DocumentStatus ne 'bost_Open' or DocEntry lt 5",
     lambda r: r["DocumentStatus"] != "bost_Open" or r["DocEntry"] < 5),
    ("CardCode eq 'C00003' and (Cancelled eq 'tYES' or PaidToDate gt 0)",
     lambda r: r["CardCode"] == "C00003" and (r["Cancelled"] == "tYES" or r["PaidToDate"] > 0)),
    ("Comments ne null", lambda r: r["Comments"] is not None),
    ("CancelStatus eq 'csCancellation'", lambda r: r["CancelStatus"] == "csCancellation"),
])
def test_filter_operators_match_python_semantics(sb, http, flt, check):
    rows, _ = get_all(http, f"{sb.url}/Invoices?$filter={flt}", {"Prefer": "odata.maxpagesize=500"})
    assert sorted(r["DocEntry"] for r in rows) == [r["DocEntry"] for r in sb.all("Invoices")
                                                    if check(r)]


def test_single_entity_by_numeric_and_text_key(sb, http):
    inv = http.get(f"{sb.url}/Invoices(7)", timeout=5).json()
    bp = http.get(f"{sb.url}/BusinessPartners('C00001')", timeout=5).json()
    assert inv["DocEntry"] == 7 and inv["DocumentLines"]
    assert bp["CardCode"] == "C00001" and bp["CardType"] == "cCustomer"


def test_missing_entity_is_404_with_sap_code(sb, http):
    r = http.get(f"{sb.url}/Invoices(999999)", timeout=5)
    assert r.status_code == 404 and r.json()["error"]["code"] == -2028


def test_request_log_counts_requests(sb, http):
    before = sb.count(path_contains="ProfitCenters")
    http.get(f"{sb.url}/ProfitCenters", timeout=5)
    assert sb.count(path_contains="ProfitCenters") == before + 1
    last = sb.requests[-1]
    assert (last.method, last.path, last.status, last.version) == (
        "GET", "/b1s/v1/ProfitCenters", 200, "v1")


def test_generation_is_deterministic_for_a_seed():
    a = SapSandbox(data=SPEC)
    b = SapSandbox(data=SPEC)
    assert a.all("Invoices") == b.all("Invoices")
    assert a.all("BusinessPartners") == b.all("BusinessPartners")


def test_orderby_puts_nulls_first_and_breaks_ties_by_key(sb, http):
    rows, _ = get_all(http, f"{sb.url}/Invoices?$orderby=NumAtCard&$select=DocEntry,NumAtCard",
                      {"Prefer": "odata.maxpagesize=500"})
    nulls = [r["DocEntry"] for r in rows if r["NumAtCard"] is None]
    assert nulls and rows[: len(nulls)] == [{"DocEntry": d, "NumAtCard": None} for d in nulls]
    assert nulls == sorted(nulls)
    texts = [r["NumAtCard"] for r in rows[len(nulls):]]
    assert texts == sorted(texts)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_metadata_lists_the_entity_sets_with_keys(sb, version, sap_login):
    from xml.dom.minidom import parseString

    root = sb.url if version == "v1" else sb.url_v2
    s = sap_login(root)
    r = s.get(f"{root}/$metadata", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    doc = parseString(r.content)  # noqa: S318 - our own sandbox's document
    sets = {e.getAttribute("Name") for e in doc.getElementsByTagName("EntitySet")}
    assert sets == {"BusinessPartners", "Invoices", "CreditNotes", "IncomingPayments",
                    "ChartOfAccounts", "ProfitCenters", "PaymentTermsTypes"}
    keys = {e.getAttribute("Name") for e in doc.getElementsByTagName("PropertyRef")}
    assert keys == {"CardCode", "DocEntry", "Code", "CenterCode", "GroupNumber"}
    assert requests.get(f"{root}/$metadata", timeout=5).status_code == 401  # needs a session
