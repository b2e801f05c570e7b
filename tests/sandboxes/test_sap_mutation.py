"""SAP sandbox changes while a client reads: create/update stamps, the SAP clock, on_request."""

from __future__ import annotations

import threading

import pytest

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=11, customers=10, suppliers=2, leads=2, invoices=200, credit_notes=4,
                payments=50)


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


def test_update_stamps_update_date_and_time_from_the_sap_clock(sb):
    sb.clock.advance(86400 * 3)
    before = sb.clock.stamp()
    rec = sb.update("Invoices", 5, {"Comments": "changed"})
    assert rec["Comments"] == "changed"
    # between the clock's stamps before and after (a midnight may pass in between)
    assert before <= (rec["UpdateDate"], rec["UpdateTime"]) <= sb.clock.stamp()
    assert sb.get("Invoices", 5) == rec


def test_create_assigns_the_next_doc_entry_and_stamps(sb, http):
    before = sb.clock.stamp()
    rec = sb.create("Invoices", {"CardCode": "C00001", "DocTotal": 10.0, "DocumentLines": []})
    assert rec["DocEntry"] == 201
    assert before <= (rec["UpdateDate"], rec["UpdateTime"]) <= sb.clock.stamp()
    served = http.get(f"{sb.url}/Invoices(201)", timeout=5).json()
    assert served["DocTotal"] == 10.0


def test_create_business_partner_needs_its_card_code(sb):
    with pytest.raises(ValueError, match="CardCode"):
        sb.create("BusinessPartners", {"CardName": "No code"})
    rec = sb.create("BusinessPartners", {"CardCode": "C99999", "CardName": "New", "CardType":
                                         "cCustomer"})
    assert sb.get("BusinessPartners", "C99999")["CardName"] == rec["CardName"] == "New"


def test_returned_records_are_copies(sb):
    rec = sb.get("Invoices", 1)
    rec["DocumentLines"][0]["ItemCode"] = "MUTATED"
    assert sb.get("Invoices", 1)["DocumentLines"][0]["ItemCode"] != "MUTATED"


def test_clock_never_goes_back(sb):
    with pytest.raises(ValueError):
        sb.clock.advance(-1)


def test_on_request_sees_each_request_before_it_is_answered(sb, http):
    seen = []

    def callback(sandbox, record):
        seen.append((record.method, record.path, record.status))
        if record.path.endswith("/Invoices(7)"):
            sandbox.update("Invoices", 7, {"Comments": "set by callback"})

    sb.on_request(callback)
    body = http.get(f"{sb.url}/Invoices(7)", timeout=5).json()
    assert body["Comments"] == "set by callback"
    assert seen[-1] == ("GET", "/b1s/v1/Invoices(7)", 0)


def test_change_mid_paging_shifts_skip_pages_like_a_database(sb, http):
    """nextLink pages by $skip over the live set, as SAP does: a record that moves to the end
    while a client pages shifts the rest down, so one record is never served in this pass.
    This is the hazard the tap's keyset reading must survive."""
    pages = []
    order_before = [r["DocEntry"] for r in sorted(
        sb.all("Invoices"), key=lambda r: (r["UpdateDate"], r["UpdateTime"], r["DocEntry"]))]

    def touch_first_record(sandbox, record):
        if "Invoices" in record.path and record.query.get("$skip") == "50":
            sandbox.clock.advance(5)
            sandbox.update("Invoices", pages[0][0], {"Comments": "edited mid-run"})

    sb.on_request(touch_first_record)
    url = f"{sb.url}/Invoices?$select=DocEntry&$orderby=UpdateDate,UpdateTime,DocEntry"
    while url:
        body = http.get(url, headers={"Prefer": "odata.maxpagesize=50"}, timeout=5).json()
        pages.append([r["DocEntry"] for r in body["value"]])
        link = body.get("odata.nextLink")
        url = f"{sb.url}/{link}" if link else None
    served = [d for page in pages for d in page]
    assert served[-1] == order_before[0]  # the edited record is served again, last
    assert order_before[50] not in served  # ... and the one that slid into its place is lost
    assert len(served) == 200


def test_concurrent_updates_and_reads_stay_consistent(sb, sap_login):
    errors: list[str] = []

    def reader():
        s = sap_login(sb.url)
        for _ in range(10):
            r = s.get(f"{sb.url}/Invoices?$orderby=UpdateDate desc,UpdateTime desc",
                      headers={"Prefer": "odata.maxpagesize=100"}, timeout=5)
            if r.status_code != 200 or len(r.json()["value"]) != 100:
                errors.append(r.text[:200])

    def writer():
        for i in range(200):
            sb.update("Invoices", i % 200 + 1, {"Comments": f"w{i}"})

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(
        target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sb.server_errors == []
    assert len(sb.all("Invoices")) == 200


def test_http_patch_and_post_change_data_like_sap(sb, http):
    r = http.patch(f"{sb.url}/Invoices(9)", json={"Comments": "via PATCH"}, timeout=5)
    assert r.status_code == 204
    assert sb.get("Invoices", 9)["Comments"] == "via PATCH"
    r = http.post(f"{sb.url}/Invoices", json={"CardCode": "C00002", "DocTotal": 1.5}, timeout=5)
    assert r.status_code == 201 and r.json()["DocEntry"] == 201
