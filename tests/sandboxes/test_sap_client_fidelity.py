"""An independent Service Layer client (b1sl-python) works against the SAP sandbox unchanged.

b1sl pages with the B1S-PageSize header and nextLink, re-logs in on a 401, and validates what
it reads into its own typed models: if the sandbox's shapes, cookies or paging drifted from
SAP's, this client would fail here before the tap does in production.
"""

from __future__ import annotations

import logging
import re

import pytest

# b1sl-python is pinned in requirements-dev.txt: a broken install fails here, never skips.
from b1sl import B1Client, B1Config
from b1sl.b1sl.models._generated.entities.businesspartners import BusinessPartner
from b1sl.b1sl.models._generated.entities.general import Document

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=13, customers=40, suppliers=4, leads=4, invoices=230, credit_notes=5,
                payments=80)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")
EPOCH = re.compile(r"^/Date\(\d+\)/$")


def client(sb: SapSandbox, version: str = "v1", **extra) -> B1Client:
    config = B1Config(base_url=sb.url if version == "v1" else sb.url_v2, username=sb.username,
                      password=sb.password, company_db=sb.company_db, read_timeout=5.0, **extra)
    return B1Client(config, version=version, logger=logging.getLogger("b1sl-fidelity"))


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_b1sl_streams_every_business_partner_and_invoice(sb, version):
    with client(sb, version) as b1:
        partners = list(b1.business_partners.stream(page_size=25))
        invoices = list(b1.invoices.stream(page_size=100))
    assert [p.card_code for p in partners] == [p["CardCode"] for p in sb.all("BusinessPartners")]
    assert [i.doc_entry for i in invoices] == list(range(1, 231))
    assert isinstance(partners[0], BusinessPartner) and isinstance(invoices[0], Document)
    # Paging: B1S-PageSize honoured (ceil(230 / 100) = 3 invoice pages), nextLink followed.
    pages = [r for r in sb.requests if r.path.endswith("/Invoices")]
    assert len(pages) == 3 and pages[-1].query.get("$skip") == "200"
    assert all(r.version == version for r in pages)


def test_b1sl_relogs_in_when_the_session_dies_mid_stream(sb):
    def kill_once(sandbox, record):
        first_time = not any(r.status == 401 for r in sandbox.requests)
        if record.path.endswith("/Invoices") and record.query.get("$skip") == "100" and first_time:
            sandbox.kill_sessions("301")  # b1sl re-logs in on the 401

    sb.on_request(kill_once)
    with client(sb) as b1:
        invoices = list(b1.invoices.stream(page_size=50))
    assert [i.doc_entry for i in invoices] == list(range(1, 231))
    assert sb.count(path_contains="/Login") == 2
    assert sb.count(status=401) == 1


def test_b1sl_typed_models_accept_sap_value_forms(sb):
    """The forms the sandbox serves for dates, times and flags survive b1sl's models as is."""
    with client(sb) as b1:
        inv = b1.invoices.get(17)
        raw = b1.invoices.get_raw(17)
        bp = b1.business_partners.get("C00001")
    expected = sb.get("Invoices", 17)
    for field in ("DocDate", "DocDueDate", "UpdateDate", "CreationDate"):
        assert EPOCH.match(raw[field]), (field, raw[field])  # v1's default: /Date(ms)/
    assert TIME.match(raw["UpdateTime"])
    assert inv.doc_date == expected["DocDate"] and inv.update_date == expected["UpdateDate"]
    assert DATE.match(inv.doc_date)  # b1sl turns SAP's /Date(ms)/ into YYYY-MM-DD
    assert inv.update_time == expected["UpdateTime"]
    assert inv.doc_total == expected["DocTotal"]
    assert inv.cancelled is (expected["Cancelled"] == "tYES")  # b1sl maps tYES/tNO to bool
    assert bp.card_type.value == "cCustomer"
    assert bp.update_time is not None and TIME.match(bp.update_time)


def test_b1sl_sees_the_filter_and_select_it_sends(sb):
    flt = "UpdateDate ge '2020-01-01' and DocumentStatus eq 'bost_Open'"
    with client(sb) as b1:
        rows = list(b1.invoices.filter(flt).select("DocEntry", "DocumentStatus").stream(
            page_size=40))
    expected = [i["DocEntry"] for i in sb.all("Invoices") if i["DocumentStatus"] == "bost_Open"]
    assert [r.doc_entry for r in rows] == expected
    assert {r.document_status.value for r in rows} == {"bost_Open"}


def test_b1sl_reports_bad_credentials_as_an_auth_error(sb):
    from b1sl.b1sl.exceptions import B1AuthError

    config = B1Config(base_url=sb.url, username="manager", password="wrong",
                      company_db="SBODEMOUS", read_timeout=5.0)
    with pytest.raises(B1AuthError), B1Client(config, version="v1") as b1:
        b1.invoices.get(1)


@pytest.mark.parametrize(("form", "wire"), [("sap", "/Date(1735689600000)/"),
                                            ("iso", "2025-01-01"),
                                            ("iso-datetime", "2025-01-01T00:00:00Z"),
                                            ("epoch-ms", "/Date(1735689600000)/")])
def test_date_form_option_serves_each_public_form(form, wire):
    with SapSandbox(data=SPEC, date_form=form) as sb:
        sb.update("Invoices", 3, {"DocDate": "2025-01-01"})
        with client(sb) as b1:
            raw = b1.invoices.get_raw(3)
            typed = b1.invoices.get(3)
    assert raw["DocDate"] == wire
    assert raw["UpdateTime"] == sb.get("Invoices", 3)["UpdateTime"]  # times are never changed
    if form != "iso-datetime":
        assert typed.doc_date == "2025-01-01"  # b1sl normalises /Date(ms)/ to ISO


def test_sap_date_form_is_epoch_ms_on_v1_and_iso_on_v2(sb):
    with client(sb, "v2") as b1:
        raw = b1.invoices.get_raw(17)
    assert DATE.match(raw["DocDate"]) and raw["DocDate"] == sb.get("Invoices", 17)["DocDate"]


@pytest.mark.parametrize(("version", "pattern"), [("v1", EPOCH), ("v2", DATE)])
def test_dates_inside_collections_take_the_same_form_as_top_level_dates(sb, sap_login, version,
                                                                        pattern):
    """A server serves every Edm.DateTime one way: PaymentChecks[].DueDate like DocDate."""
    pay = next(p for p in sb.all("IncomingPayments") if p["PaymentChecks"])
    url = sb.url if version == "v1" else sb.url_v2
    raw = sap_login(url).get(f"{url}/IncomingPayments({pay['DocEntry']})", timeout=10).json()
    assert pattern.match(raw["DocDate"]), raw["DocDate"]
    assert pattern.match(raw["PaymentChecks"][0]["DueDate"]), raw["PaymentChecks"][0]
