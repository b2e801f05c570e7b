"""Identity of what the target writes (issue 11 items 5, 6 and 9), against the HubSpot sandbox.

Item 5: SAP's DocNum repeats across numbering series, DocEntry never does: two SAP invoices with
one DocNum are two HubSpot invoices, both showing that DocNum. Item 6: a 409 refuses exactly
one input, whether HubSpot reports it in a 207 or fails the whole call (sandbox switch
`set_conflict_fails_batch`); an upsert's 409 is dead-lettered, never dropped. Item 9: the
last version of a record in a batch wins.
"""

from __future__ import annotations

import json

import pytest
from target_factory import KEYS, customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled


def _unique_property(hs, object_type: str, name: str) -> None:
    """A user's own unique property (or one made by an older version of the target)."""
    answer = hs.client().post(f"/crm/v3/properties/{object_type}", json={
        "name": name, "label": name, "type": "string", "fieldType": "text",
        "groupName": "companyinformation" if object_type == "companies" else "invoiceinformation",
        "hasUniqueValue": True})
    assert answer.status_code == 201, answer.text


def _dead(target_config: dict) -> dict[str, dict]:
    return {r["sap_key"]: r for r in ledger_rows(target_config, "dead_letter")}


def _text(row: dict) -> str:
    return row["error"] if isinstance(row["error"], str) else json.dumps(row["error"])


# -- item 5: DocNum repeats across numbering series ------------------------------------------
def test_two_sap_invoices_with_one_doc_num_are_two_hubspot_invoices(hubspot_sandbox,
                                                                    target_config):
    hs = hubspot_sandbox
    first = invoice(1, DocNum=5001, Series=4)    # numbering series of 2025
    second = invoice(2, DocNum=5001, Series=77)  # the 2026 series starts again at 5001
    text = messages(("business_partners", [customer(1)]), ("invoices", [first, second]),
                    state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states == [{"done": 1}]
    invoices = hs.objects("invoices")
    assert len(invoices) == 2
    shown = sorted((i["properties"]["sap_doc_num"], i["properties"]["sap_series"],
                    i["properties"]["sap_invoice_key"]) for i in invoices)
    assert shown == [("5001", "4", "1"), ("5001", "77", "2")]
    assert len(hs.objects("line_items")) == 6
    assert ledger_rows(target_config, "dead_letter") == []
    settled(hs)
    hs.clear_requests()
    run(cfg(target_config), text)  # replayed: nothing to write, no duplicate
    assert hs.writes() == 0 and len(hs.objects("invoices")) == 2


def test_a_portal_where_doc_num_is_unique_never_overwrites_the_other_series_invoice(
        hubspot_sandbox, target_config, caplog):
    """A portal set up by an older version holds `sap_doc_num` as a unique property: the
    repeated DocNum is refused there. The other document's invoice must stay as it is and
    the refused one wait in the dead-letter saying why."""
    hs = hubspot_sandbox
    _unique_property(hs, "invoices", "sap_doc_num")
    first = invoice(1, DocNum=5001, Series=4, DocTotal=220.0)
    second = invoice(2, DocNum=5001, Series=77, DocTotal=999.0)
    _target, states = run(cfg(target_config), messages(
        ("business_partners", [customer(1)]), ("invoices", [first]), ("invoices", [second]),
        state={"done": 1}))
    assert states == [{"done": 1}]
    invoices = by(hs, "invoices", "sap_invoice_key")
    assert set(invoices) == {"1"} and invoices["1"]["sap_doc_total"] == "220"
    dead = _dead(target_config)
    assert set(dead) == {"2"} and "sap_doc_num" in _text(dead["2"])
    assert "sap_doc_num is unique in this portal" in caplog.text  # said once at start-up


# -- item 6: one conflict never poisons a batch ------------------------------------------------
@pytest.mark.parametrize("whole_call", [False, True])
def test_an_invoice_hubspot_already_holds_is_updated_and_its_batch_neighbours_created(
        hubspot_sandbox, target_config, whole_call):
    """Invoice 7 reached HubSpot in a run that died before its ledger write: its create
    answers 409 (in a 207, or failing the whole call of 100). It is updated in place; the 149
    others are created; nothing is dead-lettered or duplicated."""
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)])))
    answer = hs.client().post("/crm/v3/objects/invoices", json={"properties": {
        "sap_invoice_key": "7", "hs_currency": "USD", "sap_doc_num": "4007"}})
    assert answer.status_code == 201, answer.text
    held = answer.json()["id"]
    hs.set_conflict_fails_batch(whole_call)
    _target, states = run(cfg(target_config), messages(
        ("invoices", [invoice(i) for i in range(1, 151)]), state={"done": 1}))
    assert states == [{"done": 1}]
    invoices = by(hs, "invoices", "sap_invoice_key")
    assert len(hs.objects("invoices")) == len(invoices) == 150
    assert invoices["7"]["hs_object_id"] == held and invoices["7"]["sap_doc_total"] == "220"
    assert ledger_rows(target_config, "dead_letter") == []
    if whole_call:  # the refused input is found from the 409's text: one extra call
        assert hs.count(path_contains="/invoices/batch/create", status=409) == 1


@pytest.mark.parametrize("whole_call", [False, True])
def test_a_company_refused_with_409_is_dead_lettered_alone_and_its_neighbours_written(
        hubspot_sandbox, target_config, whole_call):
    """Two customers copy one region code into a property that is unique in this portal
    (the user's choice): HubSpot refuses the second upsert with 409. It is dead-lettered with
    HubSpot's answer; the 119 others are written; STATE passes only a recorded failure."""
    hs = hubspot_sandbox
    _unique_property(hs, "companies", "region_code")
    hs.set_conflict_fails_batch(whole_call)
    customers = [customer(i, U_Region=f"R{i}") for i in range(1, 121)]
    customers[41]["U_Region"] = "R5"  # C00042 claims customer 5's unique value
    config = cfg(target_config, property_map={"companies": {"field:U_Region": "region_code"}})
    run(config, messages(("business_partners", customers[:5])))
    _target, states = run(config, messages(("business_partners", customers[5:]),
                                           state={"done": 1}))
    assert states == [{"done": 1}]
    companies = by(hs, "companies", "sap_card_code")
    assert len(companies) == 119 and "C00042" not in companies
    dead = _dead(target_config)
    assert set(dead) == {"C00042"} and "already exists" in _text(dead["C00042"])
    assert "C00042" not in {r["sap_key"] for r in ledger_rows(target_config, "synced_objects")
                            if r["object_type"] == "companies"}


def test_a_payment_refused_with_409_is_dead_lettered_never_a_key_error(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    hs_client = hs.client()
    answer = hs_client.post("/crm/v3/properties/commerce_payments", json={
        "name": "bank_reference", "label": "Bank reference", "type": "string",
        "fieldType": "text", "groupName": "paymentinformation", "hasUniqueValue": True})
    assert answer.status_code == 201, answer.text
    config = cfg(target_config, property_map={
        "commerce_payments": {"field:TransferReference": "bank_reference"}})
    run(config, messages(
        ("business_partners", [customer(1)]), ("invoices", [invoice(1), invoice(2)]),
        ("incoming_payments", [payment(1, applies=[(1, 220.0)], TransferReference="WT1")])))
    _target, states = run(config, messages(
        ("incoming_payments", [payment(2, applies=[(2, 220.0)], TransferReference="WT1"),
                               payment(3, applies=[(2, 0.0)], TransferReference="WT3")]),
        state={"done": 1}))
    assert states == [{"done": 1}]
    assert len(hs.objects("commerce_payments")) == 2  # payments 1 and 3
    dead = _dead(target_config)
    assert set(dead) == {"2"} and "already exists" in _text(dead["2"])


# -- item 9: the last version in a batch wins ----------------------------------------------------
def _typed_invoices(*records: dict) -> str:
    props = {k: {} for r in records for k in r}
    props["DocTotal"] = {"type": ["number", "null"]}
    lines = [json.dumps({"type": "SCHEMA", "stream": "invoices", "key_properties":
                         KEYS["invoices"], "schema": {"type": "object", "properties": props}})]
    lines += [json.dumps({"type": "RECORD", "stream": "invoices", "record": r})
              for r in records]
    return "\n".join(lines) + "\n"


def test_a_newer_schema_breaking_version_is_not_cleared_by_an_older_valid_one(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    older, newer = invoice(1), invoice(1, DocTotal="two hundred", UpdateTime="12:00:00")
    run(cfg(target_config), messages(("business_partners", [customer(1)]))
        + _typed_invoices(older, newer))
    assert hs.objects("invoices") == []  # the older version is superseded, not written
    dead = _dead(target_config)
    assert set(dead) == {"1"} and "two hundred" in _text(dead["1"])


def test_a_newer_valid_version_wins_over_an_older_schema_breaking_one(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    older, newer = invoice(1, DocTotal="two hundred"), invoice(1, UpdateTime="12:00:00")
    run(cfg(target_config), messages(("business_partners", [customer(1)]))
        + _typed_invoices(older, newer))
    assert set(by(hs, "invoices", "sap_invoice_key")) == {"1"}
    assert ledger_rows(target_config, "dead_letter") == []


def test_a_refused_contact_leaves_its_company_unconfirmed_and_dead_lettered(
        hubspot_sandbox, target_config):
    """Item 6 for contacts: HubSpot refuses customer 2's contact (409 on a property the
    portal holds unique). The company is written, but not confirmed: it waits in the
    dead-letter with HubSpot's answer and is sent again next run."""
    hs = hubspot_sandbox
    answer = hs.client().post("/crm/v3/properties/contacts", json={
        "name": "badge_id", "label": "Badge", "type": "string", "fieldType": "text",
        "groupName": "contactinformation", "hasUniqueValue": True})
    assert answer.status_code == 201, answer.text
    config = cfg(target_config, property_map={"contacts": {"field:Position": "badge_id"}})
    run(config, messages(("business_partners", [customer(1)])))
    _target, states = run(config, messages(("business_partners", [customer(2)]),
                                           state={"done": 1}))
    assert states == [{"done": 1}]
    dead = _dead(target_config)
    assert set(dead) == {"C00002"} and "already exists" in _text(dead["C00002"])
    synced = {r["sap_key"]: r for r in ledger_rows(target_config, "synced_objects")
              if r["object_type"] == "companies"}
    assert synced["C00002"]["content_hash"] is None
    assert set(by(hs, "contacts", "email")) == {"p0.c1@example.com"}


@pytest.mark.parametrize("whole_call", [False, True])
def test_a_payment_hubspot_already_holds_is_updated_not_dead_lettered_nor_duplicated(
        hubspot_sandbox, target_config, whole_call):
    """Payment 1 reached HubSpot in a run killed before its ledger write: its create answers
    409 on sap_payment_key; it is upserted in place and linked, its neighbours created."""
    hs = hubspot_sandbox
    config = cfg(target_config)
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [invoice(1), invoice(2)])))
    answer = hs.client().post("/crm/v3/objects/commerce_payments", json={"properties": {
        "sap_payment_key": "1-0", "hs_initial_amount": "5", "hs_currency_code": "USD"}})
    assert answer.status_code == 201, answer.text
    hs.set_conflict_fails_batch(whole_call)
    _target, states = run(config, messages(
        ("incoming_payments", [payment(1), payment(2, applies=[(2, 220.0)])]),
        state={"done": 1}))
    assert states == [{"done": 1}]
    payments = by(hs, "commerce_payments", "sap_payment_key")
    assert set(payments) == {"1-0", "2-0"} and len(hs.objects("commerce_payments")) == 2
    assert payments["1-0"]["hs_object_id"] == answer.json()["id"]
    assert ledger_rows(target_config, "dead_letter") == []
    assert len(hs.associations("commerce_payments", "invoices")) == 2


@pytest.mark.parametrize("has_key", [True, False])
def test_on_a_doc_num_unique_portal_an_invoice_hubspot_already_holds_is_updated_not_stuck(
        hubspot_sandbox, target_config, has_key):
    """A portal set up by an older version (sap_doc_num unique) holds invoice 7 but the ledger
    does not: a run died before its ledger write (the object has sap_invoice_key too), or the
    older version wrote it (sap_doc_num and sap_doc_entry only). Its create answers 409 naming
    sap_doc_num; the object is this very document, so it is updated in place, never left in
    the dead-letter for ever, nor duplicated."""
    hs = hubspot_sandbox
    _unique_property(hs, "invoices", "sap_doc_num")
    run(cfg(target_config), messages(("business_partners", [customer(1)])))
    props = {"hs_currency": "USD", "sap_doc_num": "4007", "sap_doc_entry": "7"}
    if has_key:
        props["sap_invoice_key"] = "7"
    answer = hs.client().post("/crm/v3/objects/invoices", json={"properties": props})
    assert answer.status_code == 201, answer.text
    held = answer.json()["id"]
    _target, states = run(cfg(target_config), messages(
        ("invoices", [invoice(6), invoice(7)]), state={"done": 1}))
    assert states == [{"done": 1}]
    assert ledger_rows(target_config, "dead_letter") == []
    invoices = by(hs, "invoices", "sap_invoice_key")
    assert len(hs.objects("invoices")) == 2
    assert invoices["7"]["hs_object_id"] == held and invoices["7"]["sap_doc_total"] == "220"
