"""The stream-map rules of transforms/ hold: the mapper runs with exactly the project's mapping
config on sample Singer messages shaped like tap-sapb1's (docs/CONTRACTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MAPPER = Path(sys.executable).parent / "meltano-map-transform"
MAPPING = "sap-to-hubspot-rules"

TODAY = date.today()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()

NUMBER, STRING, ARRAY = {"type": ["number", "null"]}, {"type": ["string", "null"]}, {
    "type": ["array", "null"], "items": {"type": "object", "properties": {
        "LineNum": {"type": "integer"}, "LineTotal": {"type": ["number", "null"]}}}}


def mapping_config() -> dict:
    """The `sap-to-hubspot-rules` config, read from the file meltano.yml includes."""
    doc = yaml.safe_load((REPO / "transforms" / "sap_to_hubspot.meltano.yml").read_text())
    (mapper,) = doc["plugins"]["mappers"]
    (mapping,) = [m for m in mapper["mappings"] if m["name"] == MAPPING]
    return mapping["config"]


def schema(stream: str, key: str, **props: dict) -> dict:
    return {"type": "SCHEMA", "stream": stream, "key_properties": [key],
            "bookmark_properties": ["sap_updated_at"],
            "schema": {"type": "object", "properties": {key: {"type": ["string", "integer"]},
                                                         **props}}}


def record(stream: str, **fields: object) -> dict:
    return {"type": "RECORD", "stream": stream, "record": fields}


def invoice(doc_entry: int, *, total: float = 100.10, paid: float = 30.05,
            status: str = "bost_Open", cancelled: str = "tNO",
            due: str | None = YESTERDAY) -> dict:
    return record("invoices", DocEntry=doc_entry, DocNum=1000 + doc_entry, CardCode="C00001",
                  DocTotal=total, PaidToDate=paid, DocumentStatus=status, Cancelled=cancelled,
                  DocDueDate=due, Comments="approved by J. internal",
                  sap_updated_at="2026-01-02T10:00:00+00:00",
                  DocumentLines=[{"LineNum": 0, "LineTotal": 60.0},
                                 {"LineNum": 1, "LineTotal": 40.1}])


def business_partner(code: str, card_type: str) -> dict:
    return record("business_partners", CardCode=code, CardName=f"{code} Ltd", CardType=card_type,
                  FederalTaxID="DE123456789", Notes="disputed, call first",
                  ContactEmployees=[{"Name": "Ann", "E_Mail": "ann@example.com"}],
                  sap_updated_at="2026-01-02T10:00:00+00:00")


MESSAGES = [
    schema("business_partners", "CardCode", CardName=STRING, CardType=STRING,
           FederalTaxID=STRING, Notes=STRING, sap_updated_at=STRING,
           ContactEmployees={"type": ["array", "null"], "items": {"type": "object"}}),
    business_partner("C00001", "cCustomer"),
    business_partner("S00001", "cSupplier"),
    business_partner("L00001", "cLid"),
    schema("invoices", "DocEntry", DocNum={"type": "integer"}, CardCode=STRING,
           DocTotal=NUMBER, PaidToDate=NUMBER, DocumentStatus=STRING, Cancelled=STRING,
           DocDueDate=STRING, Comments=STRING, sap_updated_at=STRING, DocumentLines=ARRAY),
    invoice(1),                                            # open, part paid, past due: overdue
    invoice(2, due=TOMORROW),                              # not due yet
    invoice(3, paid=100.10, status="bost_Close"),          # paid and closed
    invoice(4, cancelled="tYES"),                          # cancelled
    invoice(5, paid=100.10),                               # open in SAP but nothing left to pay
    invoice(6, due=None),                                  # no due date
    invoice(7, due=f"{YESTERDAY}T00:00:00Z"),              # the other date form SAP sends
    invoice(8, total=0.3, paid=0.1),                       # exact decimal subtraction
    schema("invoices", "DocEntry", DocNum={"type": "integer"}, CardCode=STRING,
           DocCurrency=STRING, DocTotal=NUMBER, DocTotalFc=NUMBER, PaidToDate=NUMBER,
           PaidToDateFC=NUMBER, DocumentStatus=STRING, Cancelled=STRING, DocDueDate=STRING,
           Comments=STRING, sap_updated_at=STRING, DocumentLines=ARRAY),
    # EUR invoice in a USD company: 226.83 EUR (252.71 USD), 100 EUR (111.40 USD) paid
    record("invoices", DocEntry=9, DocNum=1009, CardCode="C00001", DocCurrency="EUR",
           DocTotal=252.71, DocTotalFc=226.83, PaidToDate=111.40, PaidToDateFC=100.0,
           DocumentStatus="bost_Open", Cancelled="tNO", DocDueDate=TOMORROW,
           sap_updated_at="2026-01-02T10:00:00+00:00", DocumentLines=[]),
    record("invoices", DocEntry=10, DocNum=1010, CardCode="C00001", DocCurrency="USD",
           DocTotal=50.0, DocTotalFc=0.0, PaidToDate=20.0, PaidToDateFC=0.0,
           DocumentStatus="bost_Open", Cancelled="tNO", DocDueDate=TOMORROW,
           sap_updated_at="2026-01-02T10:00:00+00:00", DocumentLines=[]),
    schema("credit_notes", "DocEntry", DocTotal=NUMBER, Comments=STRING),
    record("credit_notes", DocEntry=1, DocTotal=10.0, Comments="goodwill, internal"),
    schema("incoming_payments", "DocEntry", TransferSum=NUMBER, Remarks=STRING,
           TransferReference=STRING),
    record("incoming_payments", DocEntry=1, TransferSum=30.05, Remarks="internal",
           TransferReference="BANK-77"),
    {"type": "STATE", "value": {"bookmarks": {"invoices": {
        "replication_key": "sap_updated_at",
        "replication_key_value": "2026-01-02T10:00:00+00:00"}}}},
]


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The mapper's output for MESSAGES with the project's config."""
    config = tmp_path_factory.mktemp("mapper") / "config.json"
    config.write_text(json.dumps(mapping_config()))
    result = subprocess.run([str(MAPPER), "--config", str(config)],
                            input="\n".join(json.dumps(m) for m in MESSAGES) + "\n",
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def records(out: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == stream]


def schema_of(out: list[dict], stream: str) -> dict:
    return next(m for m in out if m["type"] == "SCHEMA" and m["stream"] == stream)


def test_only_customers_pass_and_tax_id_and_notes_never_leave(mapped):
    partners = records(mapped, "business_partners")
    assert [p["CardCode"] for p in partners] == ["C00001"]
    assert "FederalTaxID" not in partners[0] and "Notes" not in partners[0]
    props = schema_of(mapped, "business_partners")["schema"]["properties"]
    assert "FederalTaxID" not in props and "Notes" not in props
    assert partners[0]["ContactEmployees"] == [{"Name": "Ann", "E_Mail": "ann@example.com"}]


def test_open_amount_is_total_minus_paid_to_the_cent(mapped):
    by_entry = {r["DocEntry"]: r for r in records(mapped, "invoices")}
    assert by_entry[1]["OpenAmount"] == 70.05
    assert by_entry[3]["OpenAmount"] == 0
    assert by_entry[8]["OpenAmount"] == 0.2  # 0.3 - 0.1 in floats would be 0.19999999999999998


def test_open_amount_is_in_the_invoices_own_currency_not_sap_local_currency(mapped):
    by_entry = {r["DocEntry"]: r for r in records(mapped, "invoices")}
    assert by_entry[9]["OpenAmount"] == 126.83  # EUR, as HubSpot shows the invoice
    assert by_entry[10]["OpenAmount"] == 30.0   # a local-currency invoice: Fc fields are 0


def test_overdue_only_when_open_unpaid_not_cancelled_and_past_due(mapped):
    overdue = {r["DocEntry"]: r["IsOverdue"] for r in records(mapped, "invoices")}
    assert overdue == {1: True, 2: False, 3: False, 4: False, 5: False, 6: False, 7: True,
                       8: True, 9: False, 10: False}


def test_derived_fields_are_typed_for_the_target(mapped):
    props = schema_of(mapped, "invoices")["schema"]["properties"]
    assert "number" in props["OpenAmount"]["type"]
    assert "boolean" in props["IsOverdue"]["type"]
    assert schema_of(mapped, "invoices")["key_properties"] == ["DocEntry"]


def test_internal_free_text_is_dropped_and_the_rest_kept(mapped):
    (inv, *_) = records(mapped, "invoices")
    assert "Comments" not in inv
    assert inv["DocumentLines"] == [{"LineNum": 0, "LineTotal": 60.0},
                                    {"LineNum": 1, "LineTotal": 40.1}]
    (credit,) = records(mapped, "credit_notes")
    assert "Comments" not in credit and credit["DocTotal"] == 10.0
    (payment,) = records(mapped, "incoming_payments")
    assert "Remarks" not in payment and payment["TransferReference"] == "BANK-77"


def test_state_passes_through_after_the_records_it_covers(mapped):
    kinds = [m["type"] for m in mapped]
    assert kinds[-1] == "STATE"
    assert mapped[-1]["value"]["bookmarks"]["invoices"]["replication_key_value"] == (
        "2026-01-02T10:00:00+00:00")


def test_nested_documents_are_not_flattened():
    assert mapping_config()["flattening_enabled"] is False
