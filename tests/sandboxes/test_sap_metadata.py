"""The SAP sandbox serves SAP's metadata: b1sl-python's property sets, UDFs only where configured.

A sandbox that serves a property SAP lacks (UpdateTime on IncomingPayments, a U_* field on a
standard company) lets a client pass every test and fail on its first real company.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from sap_sandbox import DataSpec, SapSandbox
from sap_sandbox.generate_metadata import build
from sap_sandbox.schema import HUBSPOT_UDFS, METADATA_FILE, Schema, parse_udf

SPEC = DataSpec(seed=5, customers=30, suppliers=3, leads=3, invoices=160, credit_notes=8,
                payments=70)
ANNOTATIONS = ("odata.", "@odata.")


def test_committed_metadata_is_what_b1sl_generates():
    """Regenerating from the installed b1sl-python gives the committed file byte for byte."""
    # no importorskip: b1sl-python is pinned in requirements-dev.txt, a missing install fails
    committed = json.loads(METADATA_FILE.read_text())
    assert build() == committed
    assert committed["b1sl_version"] == "0.16.0"


def test_payment_type_has_no_stamps_or_check_and_card_sums():
    payment = Schema().types["Payment"]
    for name in ("UpdateDate", "UpdateTime", "CheckSum", "CreditSum"):
        assert name not in payment
    assert {"Cancelled", "CancelStatus", "PaymentChecks", "PaymentCreditCards"} <= set(payment)
    assert "CheckSum" in Schema().types["PaymentCheck"]
    assert "CreditSum" in Schema().types["PaymentCreditCard"]


def _unknown(schema: Schema, entity_set: str, record: dict) -> list[str]:
    fields = {k: v for k, v in record.items() if not k.startswith(ANNOTATIONS)}
    return schema.unknown_properties(schema.type_of(entity_set), fields)


@pytest.mark.parametrize("udfs", [None, HUBSPOT_UDFS], ids=["standard", "with-udfs"])
def test_every_served_property_is_in_the_metadata(udfs, sap_login):
    """Over every entity set and nested collection, from the store and over HTTP (v1, v2)."""
    with SapSandbox(data=SPEC, udfs=udfs) as sb:
        sb.post_payment("C00001", [{"DocEntry": 1, "SumApplied": 1.0,
                                    "InvoiceType": "it_JournalEntry"}], way="check")
        schema = sb.schema
        for entity_set in schema.entity_sets:
            for rec in sb.all(entity_set):
                assert _unknown(schema, entity_set, rec) == [], (entity_set, rec)
            for url in (sb.url, sb.url_v2):
                s = sap_login(url)
                page = s.get(f"{url}/{entity_set}", timeout=10,
                             headers={"Prefer": "odata.maxpagesize=5000"})
                assert page.status_code == 200 and "odata.nextLink" not in page.text
                for rec in page.json()["value"]:
                    assert _unknown(schema, entity_set, rec) == [], (entity_set, rec)
        udf_names = {k for rec in sb.all("Invoices") + sb.all("BusinessPartners") for k in rec
                     if k.startswith("U_")}
    assert udf_names == (set() if udfs is None else {"U_HubSpotDealId", "U_Segment"})


def test_the_check_catches_a_property_sap_lacks():
    schema = Schema()
    bad = {"DocEntry": 1, "UpdateTime": "10:00:00",
           "PaymentInvoices": [{"DocEntry": 1, "Bogus": 1}]}
    assert schema.unknown_properties("Payment", bad) == ["PaymentInvoices[].Bogus", "UpdateTime"]


@pytest.fixture(scope="module")
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


def test_select_of_an_unfilled_property_is_null(sb, http):
    r = http.get(f"{sb.url}/Invoices", params={"$select": "DocEntry,Project,DocTotalSys",
                                               "$top": "2"}, timeout=5)
    assert r.status_code == 200
    assert r.json()["value"] == [{"DocEntry": 1, "Project": None, "DocTotalSys": None},
                                 {"DocEntry": 2, "Project": None, "DocTotalSys": None}]


@pytest.mark.parametrize(("entity_set", "option", "value", "prop"), [
    ("IncomingPayments", "$select", "DocEntry,UpdateTime", "UpdateTime"),
    ("IncomingPayments", "$filter", "UpdateDate ge '2024-01-01'", "UpdateDate"),
    ("IncomingPayments", "$orderby", "CheckSum desc", "CheckSum"),
    ("CreditNotes", "$select", "DocEntry,U_HubSpotDealId", "U_HubSpotDealId"),
    ("BusinessPartners", "$filter", "U_Segment eq 'SMB'", "U_Segment"),
])
def test_a_property_the_type_lacks_is_sap_s_400(sb, http, entity_set, option, value, prop):
    r = http.get(f"{sb.url}/{entity_set}", params={option: value}, timeout=5)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == -1000
    assert err["message"]["value"] == f"Property '{prop}' of '{entity_set}' is invalid"


def test_udfs_are_queryable_only_where_configured(sap_login):
    with SapSandbox(data=SPEC, udfs=HUBSPOT_UDFS) as sb:
        s = sap_login(sb.url)
        r = s.get(f"{sb.url}/CreditNotes", params={"$select": "DocEntry,U_HubSpotDealId",
                                                   "$filter": "U_HubSpotDealId eq null"},
                  timeout=5)
        assert r.status_code == 200 and len(r.json()["value"]) == 8
        r = s.get(f"{sb.url}/IncomingPayments", params={"$select": "U_HubSpotDealId"}, timeout=5)
        assert r.status_code == 400  # a Document UDF is not a Payment property


def _metadata(session, url):
    r = session.get(f"{url}/$metadata", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(r.content)  # noqa: S314 - our own sandbox on 127.0.0.1
    types = {}
    for el in root.iter():
        if el.tag.endswith(("}EntityType", "}ComplexType")):
            types[el.get("Name")] = {p.get("Name"): p.get("Type") for p in el
                                     if p.tag.endswith("}Property")}
    enums = {el.get("Name") for el in root.iter() if el.tag.endswith("}EnumType")}
    return types, enums


@pytest.mark.parametrize(("udfs", "version"), [(None, "v1"), (None, "v2"),
                                               (HUBSPOT_UDFS, "v1"), (HUBSPOT_UDFS, "v2")])
def test_metadata_document_is_the_company_s_types(udfs, version, sap_login):
    with SapSandbox(data=SPEC, udfs=udfs) as sb:
        url = sb.url if version == "v1" else sb.url_v2
        types, enums = _metadata(sap_login(url), url)
        schema = sb.schema
    for name, props in schema.types.items():
        assert set(types[name]) == set(props), name
    document, payment = types["Document"], types["Payment"]
    assert document["DocDate"] == ("Edm.DateTime" if version == "v1" else "Edm.Date")
    assert document["UpdateTime"] == ("Edm.Time" if version == "v1" else "Edm.TimeOfDay")
    assert document["DocTotal"] == "Edm.Double" and document["DocEntry"] == "Edm.Int32"
    assert document["CancelStatus"] == "SAPB1.CancelStatusEnum" and "CancelStatusEnum" in enums
    assert document["DocumentLines"] == "Collection(SAPB1.DocumentLine)"
    assert "UpdateTime" not in payment and "CheckSum" not in payment
    has_udf = udfs is not None
    assert ("U_HubSpotDealId" in document) is has_udf
    assert ("U_Segment" in types["BusinessPartner"]) is has_udf
    if has_udf:
        assert document["U_HubSpotDealId"] == "Edm.String"


def test_udf_config_is_checked():
    assert parse_udf("Document.U_HubSpotDealId") == ("Document", "U_HubSpotDealId", "Edm.String")
    assert parse_udf("DocumentLine.U_Weight=Double") == ("DocumentLine", "U_Weight", "Edm.Double")
    for bad in ("Document.HubSpotDealId", "Nope.U_X", "Document.U_X=Edm.Geography"):
        with pytest.raises(ValueError):
            parse_udf(bad)
    with pytest.raises(ValueError):
        SapSandbox(data=SPEC, udfs={"Document": {"DealId": "Edm.String"}})


def test_writing_a_property_the_type_lacks_is_refused(sb, http):
    from sap_sandbox.errors import SapError

    with pytest.raises(SapError, match="U_HubSpotDealId"):
        sb.update("Invoices", 3, {"U_HubSpotDealId": "1"})
    r = http.patch(f"{sb.url}/IncomingPayments(1)", json={"UpdateTime": "10:00:00"}, timeout=5)
    assert r.status_code == 400 and "UpdateTime" in r.text
    assert "U_HubSpotDealId" not in sb.get("Invoices", 3)


def _offences(schema: Schema, type_name: str, record: dict, path: str = "") -> list[str]:
    """Properties the type lacks and enum values that are not members of the property's enum."""
    props, bad = schema.types[type_name], []
    for name, value in record.items():
        if name.startswith(ANNOTATIONS):
            continue
        kind = props.get(name)
        if kind is None:
            bad.append(f"{path}{name}")
        elif kind.startswith("SAPB1.") and kind[6:] in schema.enums and value is not None:
            if value not in schema.enums[kind[6:]]:
                bad.append(f"{path}{name}={value!r} (not a {kind[6:]})")
        elif kind.startswith("Collection(SAPB1.") and value:
            for item in value:
                bad += _offences(schema, kind[len("Collection(SAPB1."):-1], item,
                                 f"{path}{name}[].")
    return bad


def _post_every_kind_of_payment_and_cancel(sb: SapSandbox) -> None:
    """Each InvoiceType x way through post_payment, a cancelled payment, cancelled invoices
    (one over HTTP): the records SAP changes or creates in those postings."""
    open_ = [i for i in sb.all("Invoices")
             if i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
             and not i["PaidToDate"]]
    foreign = [i for i in open_ if i["DocCurrency"] != "USD"]
    local = [i for i in open_ if i["DocCurrency"] == "USD"]
    for kind in ("it_Invoice", "it_JournalEntry", "it_DownPayment", "it_CredItnote"):
        for way in ("cash", "transfer", "check", "card"):
            inv = (foreign if way in ("check", "card") else local).pop()
            sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"], "SumApplied": 10.0,
                                                "InvoiceType": kind}], way=way)
    inv = foreign.pop()
    paid = sb.post_payment(inv["CardCode"], [{"DocEntry": inv["DocEntry"],
                                              "SumApplied": inv["DocTotal"]}], way="card")
    sb.cancel_payment(paid["DocEntry"])
    sb.cancel_invoice(local.pop()["DocEntry"])
    sb.cancel_invoice(foreign.pop()["DocEntry"])


@pytest.mark.parametrize("udfs", [None, HUBSPOT_UDFS], ids=["standard", "with-udfs"])
def test_records_after_postings_and_cancels_hold_only_metadata_properties_and_enum_members(
        udfs, sap_login):
    """Payments of every InvoiceType and way, cancelled payments and invoices, SAP's cancellation
    documents, reference sets: every property in the metadata, every enum value one of its
    enum's members (e.g. PaymentTermsType.OpenReceipt is a BoOpenIncPayment, not tYES/tNO)."""
    with SapSandbox(data=SPEC, udfs=udfs) as sb:
        _post_every_kind_of_payment_and_cancel(sb)
        s = sap_login(sb.url)
        victim = next(i for i in sb.all("Invoices") if i["DocumentStatus"] == "bost_Open"
                      and i["CancelStatus"] == "csNo" and not i["PaidToDate"])
        assert s.post(f"{sb.url}/Invoices({victim['DocEntry']})/Cancel",
                      timeout=10).status_code == 204
        schema = sb.schema
        assert any(i["CancelStatus"] == "csCancellation" for i in sb.all("Invoices"))
        assert any(p["Cancelled"] == "tYES" for p in sb.all("IncomingPayments"))
        for entity_set in schema.entity_sets:
            type_name = schema.type_of(entity_set)
            for rec in sb.all(entity_set):
                assert _offences(schema, type_name, rec) == [], (entity_set, rec)
            for url in (sb.url, sb.url_v2):
                page = sap_login(url).get(f"{url}/{entity_set}", timeout=10,
                                          headers={"Prefer": "odata.maxpagesize=5000"})
                assert page.status_code == 200
                for rec in page.json()["value"]:
                    assert _offences(schema, type_name, rec) == [], (entity_set, rec)
