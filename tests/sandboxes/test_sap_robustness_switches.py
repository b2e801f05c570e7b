"""The SAP sandbox's switches for what a tap must survive (issue 12): each one does what it says.

Clock stepped back, records committed late, null and future stamps, servers that ignore
(part of) `$filter`, garbled pages, HTML error pages, generic -5002 answers, odd Login answers,
the `Date` header and absolute nextLinks to another host.
"""

from __future__ import annotations

import email.utils
import http.client
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=12, customers=12, suppliers=1, leads=1, invoices=80, credit_notes=3,
                payments=20)


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


def _stamp(rec):
    return rec["UpdateDate"], rec["UpdateTime"]


def test_clock_steps_back_and_new_stamps_are_older(sb):
    first = _stamp(sb.update("Invoices", 1, {"Comments": "before"}))
    sb.clock.step_back(3600)  # the DST fall-back hour
    second = _stamp(sb.update("Invoices", 2, {"Comments": "after"}))
    assert second < first
    gap = datetime.fromisoformat(" ".join(first)) - datetime.fromisoformat(" ".join(second))
    assert timedelta(minutes=59) < gap <= timedelta(hours=1, seconds=2)
    with pytest.raises(ValueError):
        sb.clock.step_back(-5)


def test_date_header_on_every_answer_is_the_sandbox_clock(sb, sap_login):
    sb.clock.advance(3 * 86400)
    http = sap_login(sb.url)
    sb.add_fault("html-404", at=1, path_contains="/Nowhere")
    answers = [http.get(f"{sb.url}/Invoices", timeout=5),            # 200
               http.get(f"{sb.url}/Invoices(99999)", timeout=5),     # 404, SAP body
               http.get(f"{sb.url}/Nowhere", timeout=5),             # 404, proxy HTML
               http.post(f"{sb.url}/Logout", timeout=5),             # 204
               http.get(f"{sb.url}/Invoices", timeout=5)]            # 401
    assert [a.status_code for a in answers] == [200, 404, 404, 204, 401]
    for answer in answers:
        when = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert abs(when - sb.clock.timestamp()) < 30, answer.headers["Date"]
    sb.clock.step_back(5 * 86400)
    back = http.get(f"{sb.url}/Invoices", timeout=5)
    when = email.utils.parsedate_to_datetime(back.headers["Date"]).timestamp()
    assert abs(when - sb.clock.timestamp()) < 30


def test_a_record_committed_late_keeps_its_early_stamp_and_key(sb, http):
    tx = sb.transaction()
    late = tx.create("Invoices", {"CardCode": "C00001", "DocDate": "2026-01-02",
                                  "DocTotal": 10.0, "DocCurrency": "USD"})
    sb.clock.advance(120)
    early = sb.create("Invoices", {"CardCode": "C00002", "DocTotal": 5.0})

    def entries():
        return [r["DocEntry"] for r in http.get(
            f"{sb.url}/Invoices", params={"$select": "DocEntry", "$orderby": "DocEntry desc",
                                          "$top": "5"}, timeout=5).json()["value"]]

    assert late["DocEntry"] not in entries() and early["DocEntry"] in entries()
    assert late["DocEntry"] < early["DocEntry"] and _stamp(late) < _stamp(early)
    tx.commit()
    assert late["DocEntry"] in entries()
    assert _stamp(sb.get("Invoices", late["DocEntry"])) == _stamp(late)  # stamped when written


def test_a_transaction_can_commit_at_a_given_request(sb, http):
    tx = sb.transaction(commit_at_request=len(sb.requests) + 2)
    pending = tx.update("Invoices", 3, {"Comments": "late edit"})
    url = f"{sb.url}/Invoices(3)"
    assert http.get(url, timeout=5).json()["Comments"] != "late edit"  # request N-1
    assert http.get(url, timeout=5).json()["Comments"] == "late edit"  # request N: committed
    assert _stamp(sb.get("Invoices", 3)) == _stamp(pending)


def test_null_update_times_and_future_stamps_from_the_generator(sap_login):
    spec = DataSpec(**{**SPEC.__dict__, "null_update_times": 0.1, "future_stamps": 2})
    with SapSandbox(data=spec) as sb:
        invoices = sb.all("Invoices")
        nulls = [i["DocEntry"] for i in invoices if i["UpdateTime"] is None]
        assert 0 < len(nulls) < len(invoices) * 0.3
        assert all(i["UpdateDate"] for i in invoices)
        assert sum(1 for i in invoices if _stamp(i) == ("2031-01-01", "08:00:00")) == 2
        s = sap_login(sb.url)
        got = s.get(f"{sb.url}/Invoices", params={"$filter": "UpdateTime eq null",
                                                  "$select": "DocEntry"},
                    headers={"Prefer": "odata.maxpagesize=500"}, timeout=5).json()["value"]
        assert [r["DocEntry"] for r in got] == nulls
        ge = s.get(f"{sb.url}/Invoices", params={"$filter": "UpdateTime ge '00:00:00'",
                                                 "$select": "DocEntry"},
                   headers={"Prefer": "odata.maxpagesize=500"}, timeout=5).json()["value"]
        assert not set(nulls) & {r["DocEntry"] for r in ge}  # NULL never compares
    clean = SapSandbox(data=SPEC).all("Invoices")
    assert [i["DocTotal"] for i in clean] == [i["DocTotal"] for i in invoices]


@pytest.mark.parametrize("mode", ["apply", "ignore-time", "ignore-all"])
def test_filter_modes(mode, sap_login):
    with SapSandbox(data=SPEC, filter_mode=mode) as sb:
        day = sb.all("Invoices")[0]["UpdateDate"]
        flt = f"UpdateDate eq '{day}' and UpdateTime gt '23:59:59'"
        s = sap_login(sb.url)
        got = s.get(f"{sb.url}/Invoices", params={"$filter": flt},
                    headers={"Prefer": "odata.maxpagesize=500"}, timeout=5).json()["value"]
        same_day = [i for i in sb.all("Invoices") if i["UpdateDate"] == day]
        expected = {"apply": [], "ignore-time": same_day, "ignore-all": sb.all("Invoices")}[mode]
        assert [r["DocEntry"] for r in got] == [r["DocEntry"] for r in expected]
        bad = s.get(f"{sb.url}/Invoices", params={"$filter": "Nope eq 1"}, timeout=5)
        assert bad.status_code == 400  # still parsed: an unknown property is still refused
    with pytest.raises(ValueError):
        SapSandbox(data=SPEC, filter_mode="sometimes")


def _pages(http, url, headers=None):
    pages = []
    while url:
        body = http.get(url, headers=headers or {}, timeout=5).json()
        pages.append(body)
        link = body.get("odata.nextLink")
        url = None if link is None or not isinstance(body["value"], list) else (
            link if link.startswith("http") else f"{url.split('/b1s/v1/')[0]}/b1s/v1/{link}")
    return pages


@pytest.mark.parametrize(("kind", "check"), [
    ("empty-page", lambda v: v == []),
    ("non-list-page", lambda v: isinstance(v, dict)),
    ("non-object-items", lambda v: any(not isinstance(x, dict) for x in v)),
])
def test_page_faults_mid_read_of_a_reference_stream(sb, http, kind, check):
    sb.add_fault(kind, at=2, path_contains="ChartOfAccounts")
    pages = _pages(http, f"{sb.url}/ChartOfAccounts", {"Prefer": "odata.maxpagesize=5"})
    assert len(pages[0]["value"]) == 5 and check(pages[1]["value"])
    if kind == "non-object-items":
        assert len(pages) == 5  # the read goes on: 22 accounts in pages of 5
    else:
        assert len(pages) == 2  # the second page ends the read: no nextLink
        assert "odata.nextLink" not in pages[1]


def test_bad_date_fault_serves_an_out_of_range_epoch_date(sb, http):
    sb.add_fault("bad-date", at=1, path_contains="Invoices")
    first = http.get(f"{sb.url}/Invoices", timeout=5).json()["value"][0]
    assert "/Date(253402300800000)/" in first.values()
    with pytest.raises((OverflowError, ValueError, OSError)):  # as the tap reads it: UTC (in a
        datetime.fromtimestamp(253402300800000 / 1000, tz=UTC)  # zone west of it, local time fits)


def test_foreign_nextlink_fault_points_at_another_host(sb, http):
    sb.add_fault("foreign-nextlink", at=1, path_contains="Invoices")
    body = http.get(f"{sb.url}/Invoices", timeout=5).json()
    link = urlsplit(body["odata.nextLink"])
    assert link.scheme == "http" and link.hostname == "localhost" and link.port == sb.port
    assert link.path == "/b1s/v1/Invoices" and "$skip=20" in link.query


def test_generic_5002_is_not_the_session_loss_form(sb, http, sap_login):
    sb.add_fault("5002", at=1, path_contains="Invoices")
    generic = http.get(f"{sb.url}/Invoices", timeout=5)
    assert generic.status_code == 400
    assert generic.json()["error"] == {"code": -5002, "message": {
        "lang": "en-us", "value": "Document is already cancelled"}}
    assert http.get(f"{sb.url}/Invoices", timeout=5).status_code == 200  # session still fine
    sb.add_fault("5002", at=1, path_contains="CreditNotes", message="253000019 - Other text")
    assert "253000019" in http.get(f"{sb.url}/CreditNotes", timeout=5).text
    sb.kill_sessions(answer="-5002")
    lost = http.get(f"{sb.url}/Invoices", timeout=5)
    assert lost.json()["error"]["message"]["value"] == "Internal error (-5002) occurred"


@pytest.mark.parametrize("kind", ["html-404", "html-502"])
def test_html_error_page_from_a_reverse_proxy(sb, http, kind):
    sb.add_fault(kind, at=1, path_contains="Invoices")
    r = http.get(f"{sb.url}/Invoices", timeout=5)
    assert r.status_code == int(kind[5:]) and r.headers["Content-Type"] == "text/html"
    assert r.text.startswith("<html>") and r.text.count("\n") >= 5  # a multi-line page


def test_login_answering_json_that_is_not_an_object(sb, sap_creds):
    import requests

    sb.add_fault("not-object", at=1, path_contains="Login")
    r = requests.post(f"{sb.url}/Login", json=sap_creds, timeout=5)
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert "B1SESSION" not in r.cookies


def test_login_with_two_session_cookies(sb, sap_creds):
    import json

    sb.add_fault("two-cookies", at=1, path_contains="Login")
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    conn.request("POST", "/b1s/v1/Login", json.dumps(sap_creds),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
    real = json.loads(resp.read())["SessionId"]
    conn.close()
    sessions = [c for c in cookies if c.startswith("B1SESSION=")]
    assert len(sessions) == 2 and any(real in c for c in sessions)
    assert any(c.startswith("B1SESSION=proxy-") for c in sessions)


def test_robustness_faults_never_break_the_server(sb, http):
    for kind in ("empty-page", "non-list-page", "non-object-items", "bad-date",
                 "foreign-nextlink", "5002", "html-404", "not-object"):
        sb.add_fault(kind, at=1, path_contains="ProfitCenters")
        http.get(f"{sb.url}/ProfitCenters", timeout=5)
        sb.clear_faults()
    assert http.get(f"{sb.url}/ProfitCenters", timeout=5).status_code == 200
    assert sb.server_errors == []


@pytest.mark.parametrize("form", ["sap", "iso-datetime", "epoch-ms"])
def test_an_invalid_stored_date_is_served_as_stored_not_a_500(form, sap_login):
    with SapSandbox(data=SPEC, date_form=form) as sb:
        sb.update("Invoices", 1, {"UpdateDate": "2024-13-45"})
        r = sap_login(sb.url).get(f"{sb.url}/Invoices(1)", timeout=5)
        assert r.status_code == 200 and r.json()["UpdateDate"] == "2024-13-45"
        assert sb.server_errors == []


def test_narrowing_one_set_s_fields_leaves_the_metadata_alone(sb):
    sb._store.entity_set("Invoices").fields.pop("VatSum")
    assert "VatSum" in sb.schema.fields("Invoices") and "VatSum" in sb.schema.types["Document"]
