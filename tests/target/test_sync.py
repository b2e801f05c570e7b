"""target-hubspot-finance against the HubSpot sandbox: what a run writes, and what a rerun does."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import create_engine, text
from target_factory import credit_note, customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled


def test_first_run_writes_companies_contacts_invoices_lines_payments_and_links(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    text_in = messages(("business_partners", [customer(1), customer(2, contacts=2),
                                              customer(3, CardType="cSupplier")]),
                       ("invoices", [invoice(1), invoice(2, card=2, PaidToDate=220.0,
                                                         DocumentStatus="bost_Close")]),
                       ("incoming_payments", [payment(1, card=2, applies=[(2, 220.0)])]),
                       state={"bookmarks": {"invoices": "x"}})
    target, states = run(cfg(target_config), text_in)
    companies = by(hs, "companies", "sap_card_code")
    assert set(companies) == {"C00001", "C00002"}  # the supplier is not a company
    assert companies["C00001"]["sap_payment_terms"] == "Net 30"
    contacts = by(hs, "contacts", "email")
    assert set(contacts) == {"p0.c1@example.com", "p0.c2@example.com", "p1.c2@example.com"}
    invoices = by(hs, "invoices", "sap_doc_num")
    assert invoices["4001"]["hs_invoice_status"] == "open"
    assert invoices["4002"]["hs_invoice_status"] == "paid"
    assert invoices["4001"]["hs_currency"] == "USD"
    assert float(invoices["4001"]["hs_amount_billed"]) == pytest.approx(220.0)
    assert float(invoices["4002"]["hs_balance_due"]) == pytest.approx(0.0)
    lines = by(hs, "line_items", "sap_line_key")
    assert set(lines) == {"1-0", "1-1", "1-tax", "2-0", "2-1", "2-tax"}
    ids = {k: v["hs_object_id"] for k, v in invoices.items()}
    cids = {k: v["hs_object_id"] for k, v in companies.items()}
    inv_company = {(a, b) for a, b, _ in hs.associations("invoices", "companies")}
    assert inv_company == {(ids["4001"], cids["C00001"]), (ids["4002"], cids["C00002"])}
    assert len(hs.associations("invoices", "line_items")) == 6
    assert {a for a, _, _ in hs.associations("invoices", "contacts")} == set(ids.values())
    assert len(hs.associations("contacts", "companies")) == 3
    pays = by(hs, "commerce_payments", "sap_payment_key")
    assert set(pays) == {"1-0"}
    pid = pays["1-0"]["hs_object_id"]
    assert (pid, ids["4002"]) in {(a, b) for a, b, _ in hs.associations("commerce_payments",
                                                                        "invoices")}
    assert (pid, cids["C00002"]) in {(a, b) for a, b, _ in hs.associations("commerce_payments",
                                                                           "companies")}
    assert states == [{"bookmarks": {"invoices": "x"}}]
    stats = target.runtime.report.streams
    assert (stats["invoices"].created, stats["business_partners"].skipped) == (2, 1)


def test_rerun_with_nothing_changed_sends_nothing_at_all(hubspot_sandbox, target_config):
    text_in = messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]),
                       ("incoming_payments", [payment(1)]), ("credit_notes", [credit_note(1, 1)]))
    run(cfg(target_config), text_in)
    before = settled(hubspot_sandbox)
    target, _ = run(cfg(target_config), text_in)
    assert settled(hubspot_sandbox) == before  # zero writes and zero reads
    assert sum(target.runtime.client.calls.values()) == 0
    assert target.runtime.report.streams["invoices"].unchanged == 1


def test_changed_records_are_updated_in_place_never_duplicated(hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1), invoice(2)])))
    ids = {k: v["hs_object_id"] for k, v in by(hs, "invoices", "sap_doc_num").items()}
    settled(hs)
    writes = hs.writes()
    target, _ = run(cfg(target_config), messages(
        ("business_partners", [customer(1, CardName="Renamed Ltd")]),
        ("invoices", [invoice(1, PaidToDate=220.0), invoice(2)])))
    assert len(hs.objects("companies")) == 1 and len(hs.objects("invoices")) == 2
    assert by(hs, "companies", "sap_card_code")["C00001"]["name"] == "Renamed Ltd"
    invoices = by(hs, "invoices", "sap_doc_num")
    assert invoices["4001"]["hs_invoice_status"] == "paid"
    assert {k: v["hs_object_id"] for k, v in invoices.items()} == ids
    stats = target.runtime.report.streams
    assert (stats["invoices"].updated, stats["invoices"].unchanged) == (1, 1)
    assert stats["business_partners"].updated == 1
    # one company upsert and one invoice update; the unchanged lines are not sent
    settled(hs)
    assert hs.writes() - writes == 2


def calls_by_kind(target) -> dict[str, int]:
    return dict(target.runtime.client.calls)


@pytest.mark.parametrize("n", [101, 1000])
def test_batches_of_100_are_filled_across_records(hubspot_sandbox, target_config, n):
    customers = [customer(c) for c in range(1, 51)]
    invoices = [invoice(i, card=1 + i % 50, lines=1 + i % 3) for i in range(1, n + 1)]
    payments = [payment(i, card=1 + i % 50, applies=[(i, 10.0)]) for i in range(1, n + 1)]
    lines = sum(len(i["DocumentLines"]) + 1 for i in invoices)
    target, _ = run(cfg(target_config), messages(
        ("business_partners", customers), ("invoices", invoices), ("incoming_payments", payments)))
    calls = calls_by_kind(target)
    floor = math.ceil(n / 100)
    assert calls["invoices.create"] == floor
    assert calls["line_items.upsert"] == math.ceil(lines / 100)
    assert calls["commerce_payments.create"] == floor  # new payments: links ride inline
    assert not any(k.startswith("assoc.commerce_payments") for k in calls)
    assert len(hubspot_sandbox.associations("commerce_payments", "invoices")) == n
    assert calls["companies.upsert"] == 1 and calls["contacts.upsert"] == 1
    assert "invoices.update" not in calls  # status rides in the create
    assert not any(k.startswith("assoc.invoices") for k in calls)  # associations inline
    assert len(hubspot_sandbox.objects("invoices")) == n
    assert len(hubspot_sandbox.associations("invoices", "line_items")) == lines
    settled(hubspot_sandbox)
    assert hubspot_sandbox.count(status=429) == 0
    print(f"\n{n} invoices ({lines} lines, {n} payments): " + ", ".join(
        f"{k} {v}" for k, v in sorted(calls.items()) if not k.startswith(("properties", "groups"))))


def test_one_bad_invoice_goes_to_the_dead_letter_and_its_99_neighbours_are_written(
        hubspot_sandbox, target_config):
    invoices = [invoice(i) for i in range(1, 101)]
    invoices[41]["DocCurrency"] = "XYZ"  # not a HubSpot currency: INVALID_OPTION
    target, states = run(cfg(target_config), messages(
        ("business_partners", [customer(1)]), ("invoices", invoices), state={"s": 1}))
    assert len(hubspot_sandbox.objects("invoices")) == 99
    assert target.runtime.client.calls["invoices.create"] == 1
    dead = ledger_rows(target_config, "dead_letter")
    assert [(d["stream"], d["sap_key"], d["doc_num"]) for d in dead] == [
        ("invoices", "42", "4042")]
    error = dead[0]["error"] if isinstance(dead[0]["error"], dict) else json.loads(dead[0]["error"])
    assert "XYZ" in json.dumps(error) and "INVALID_OPTION" in json.dumps(error)
    assert json.loads(dead[0]["record"])["DocNum"] == 4042
    assert states == [{"s": 1}]  # a failure recorded in the dead-letter does not hold state
    events = ledger_rows(target_config, "sync_events")
    assert {e["action"] for e in events if e["stream"] == "invoices"} == {"created", "failed"}


def test_invoice_before_company_in_one_run_is_ordered_and_across_runs_is_merged(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    # one run, invoices first in the stream: companies drain first, no stub, not draft
    target, _ = run(cfg(target_config), messages(("invoices", [invoice(1)]),
                                                 ("business_partners", [customer(1)])))
    assert target.runtime.client.calls["companies.upsert"] == 1
    assert by(hs, "invoices", "sap_doc_num")["4001"]["hs_invoice_status"] == "open"
    # across runs: the invoice comes first, its company is created from CardCode/CardName
    run(cfg(target_config), messages(("invoices", [invoice(2, card=2)])))
    stub = by(hs, "companies", "sap_card_code")["C00002"]
    assert stub["name"] == "Customer 2 Ltd"
    assert by(hs, "invoices", "sap_doc_num")["4002"]["hs_invoice_status"] == "draft"
    run(cfg(target_config), messages(("business_partners", [customer(2)])))
    companies = by(hs, "companies", "sap_card_code")
    assert len(hs.objects("companies")) == 2
    assert companies["C00002"]["hs_object_id"] == stub["hs_object_id"]
    assert companies["C00002"]["sap_payment_terms"] == "Net 30"
    # the customer's contact arrived with it: the waiting invoice leaves draft
    inv = by(hs, "invoices", "sap_doc_num")["4002"]
    assert inv["hs_invoice_status"] == "open"
    contact = by(hs, "contacts", "email")["p0.c2@example.com"]["hs_object_id"]
    assert (inv["hs_object_id"], contact) in {(a, b) for a, b, _ in
                                              hs.associations("invoices", "contacts")}
    assert ledger_rows(target_config, "draft_invoices") == []


def test_an_invoice_without_contact_stays_draft_and_is_reported(hubspot_sandbox, target_config):
    target, _ = run(cfg(target_config), messages(
        ("business_partners", [customer(1, contacts=0)]), ("invoices", [invoice(1)])))
    assert by(hubspot_sandbox, "invoices", "sap_doc_num")["4001"]["hs_invoice_status"] == "draft"
    assert target.runtime.report.streams["invoices"].draft == 1
    events = ledger_rows(target_config, "sync_events")
    details = [e["detail"] or "" for e in events if e["stream"] == "invoices"]
    # the reason names what is missing (a contact; the lines are there) and SAP's own status
    assert any(d.startswith("draft: no a contact") and "line items" not in d
               and "SAP status open" in d for d in details), details


def test_payment_before_invoice_is_linked_when_the_invoice_arrives(hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    assert len(hs.objects("commerce_payments")) == 1
    assert hs.associations("commerce_payments", "invoices") == []
    run(cfg(target_config), messages(("invoices", [invoice(1, PaidToDate=220.0)])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    pid = hs.objects("commerce_payments")[0]["id"]
    assert [(a, b) for a, b, _ in hs.associations("commerce_payments", "invoices")] == [
        (pid, inv["hs_object_id"])]
    assert float(by(hs, "invoices", "sap_doc_num")["4001"]["hs_balance_due"]) == 0.0
    assert ledger_rows(target_config, "pending_links") == []


def test_missing_company_with_auto_create_off_goes_to_the_dead_letter_with_the_reason(
        hubspot_sandbox, target_config):
    _target, states = run(cfg(target_config, auto_create_companies=False),
                         messages(("invoices", [invoice(1, card=9)]), state={"s": 2}))
    assert hubspot_sandbox.objects("invoices") == [] and hubspot_sandbox.objects("companies") == []
    dead = ledger_rows(target_config, "dead_letter")
    assert len(dead) == 1 and "auto_create_companies is off" in str(dead[0]["error"])
    assert "C00009" in str(dead[0]["error"])
    assert states == [{"s": 2}]


def test_a_company_found_in_hubspot_by_card_code_is_used_not_created(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)])))
    target_config["ledger_url"] = target_config["ledger_url"].replace("ledger.db", "fresh.db")
    target, _ = run(cfg(target_config, auto_create_companies=False),
                    messages(("invoices", [invoice(1)])))
    assert target.runtime.client.calls["companies.read"] == 1
    assert "companies.upsert" not in target.runtime.client.calls
    assert len(hs.objects("companies")) == 1 and len(hs.objects("invoices")) == 1


def test_credit_note_reduces_the_credited_invoice_and_a_full_credit_voids_it(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1), invoice(2)]),
                                     ("credit_notes", [credit_note(1, 1, amount=50.0)])))
    invoices = by(hs, "invoices", "sap_doc_num")
    assert float(invoices["4001"]["sap_credited_amount"]) == pytest.approx(55.0)
    assert invoices["4001"]["sap_credit_note_numbers"] == "7001"
    # SAP closes a fully credited invoice; when it comes again, it is voided, not paid
    run(cfg(target_config), messages(("credit_notes", [credit_note(2, 2, amount=200.0)]),
                                     ("invoices", [invoice(2, DocumentStatus="bost_Close",
                                                           UpdateTime="12:00:00")])))
    assert by(hs, "invoices", "sap_doc_num")["4002"]["hs_invoice_status"] == "voided"


def test_payments_mode_properties_puts_payment_figures_on_invoice_and_company(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    text_in = messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]),
                       ("incoming_payments", [payment(1, applies=[(1, 100.0)]),
                                              payment(2, applies=[(1, 20.0)],
                                                      DocDate="2026-03-01")]))
    run(config, text_in)
    again, _ = run(config, text_in)
    assert sum(again.runtime.client.calls.values()) == 0
    assert hs.objects("commerce_payments") == []
    inv = by(hs, "invoices", "sap_doc_num")["4001"]
    assert (inv["sap_payment_count"], inv["sap_last_payment_date"]) == ("2", "2026-03-01")
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert float(company["sap_paid_total"]) == pytest.approx(120.0)
    assert company["sap_payment_count"] == "2"


def test_invalid_line_items_dead_letter_the_invoice_or_are_skipped_when_asked(
        hubspot_sandbox, target_config):
    bad = invoice(1)
    bad["DocumentLines"][1]["Quantity"] = None
    _target, _ = run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                                 ("invoices", [bad, invoice(2)])))
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4002"}
    assert "skip_invalid_line_items" in str(ledger_rows(target_config, "dead_letter")[0]["error"])
    _target, _ = run(cfg(target_config, skip_invalid_line_items=True),
                    messages(("invoices", [bad])))
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001", "4002"}
    assert ledger_rows(target_config, "dead_letter") == []  # the replayed record left it
    assert "1-1" not in by(hubspot_sandbox, "line_items", "sap_line_key")


def test_an_invoice_naming_a_deal_is_associated_to_it(hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    deal = hs.client().post("/crm/v3/objects/deals",
                            json={"properties": {"dealname": "Big"}}).json()["id"]
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1, U_HubSpotDealId=deal)])))
    inv = by(hs, "invoices", "sap_doc_num")["4001"]["hs_object_id"]
    assert [(a, b) for a, b, _ in hs.associations("invoices", "deals")] == [(inv, deal)]


def test_the_ledger_holds_ids_hashes_and_events_and_no_secret(hubspot_sandbox, target_config):
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)])))
    engine = create_engine(target_config["ledger_url"])
    with engine.connect() as conn:
        objects = {(r.object_type, r.sap_key) for r in conn.execute(
            text("select object_type, sap_key from synced_objects"))}
        dump = "".join(str(tuple(r)) for t in ("synced_objects", "sync_events", "dead_letter",
                                               "synced_links") for r in conn.execute(
            text(f"select * from {t}")))  # noqa: S608 - fixed table names
    assert {("companies", "C00001"), ("invoices", "1"), ("line_items", "1-0"),
            ("contacts", "C00001/1")} <= objects
    assert target_config["access_token"] not in dump


def test_a_steady_run_adapts_to_the_portals_limit_and_meets_no_429():
    """The portal allows 25 calls per 2 s (headers say so); the target is told nothing."""
    from hubspot_sandbox import HubSpotSandbox

    token = "pat-sandbox-0000-test-token-do-not-log"
    with HubSpotSandbox(token=token, rate_limit_per_10s=25, window_seconds=2.0) as hs:
        config = {"access_token": token, "api_base_url": hs.url, "ledger_url": "sqlite://",
                  "backoff_base_seconds": 0.01, "batch_size_rows": 100}
        invoices = [invoice(i, card=1 + i % 5) for i in range(1, 501)]
        target, _ = run(config, messages(("business_partners", [customer(c) for c in range(1, 6)]),
                                         ("invoices", invoices)))
        settled(hs)
        assert hs.count(status=429) == 0 and target.runtime.client.rate_limited == 0
        assert sum(target.runtime.client.calls.values()) > 25  # more than one window's worth
        assert target.runtime.client.limiter.limit == 25
        assert len(hs.objects("invoices")) == 500


def test_changed_invoices_cost_one_update_per_100_and_no_association_or_line_call(
        hubspot_sandbox, target_config):
    invoices = [invoice(i) for i in range(1, 102)]
    run(cfg(target_config), messages(("business_partners", [customer(1)]), ("invoices", invoices)))
    paid = [invoice(i, PaidToDate=220.0, UpdateTime="12:00:00") for i in range(1, 102)]
    target, _ = run(cfg(target_config), messages(("invoices", paid)))
    # plus the one account-details call that finds which portal's property memo applies
    assert dict(target.runtime.client.calls) == {"account.read": 1, "invoices.update": 2}
    statuses = {v["hs_invoice_status"] for v in by(hubspot_sandbox, "invoices", "sap_doc_num")
                .values()}
    assert statuses == {"paid"} and len(hubspot_sandbox.objects("invoices")) == 101
    assert target.runtime.report.streams["invoices"].updated == 101


def test_key_namespace_keeps_two_sap_companies_apart_in_one_portal(hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    text_in = messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]))
    run(cfg(target_config, key_namespace="US01"), text_in)
    run(cfg(target_config, key_namespace="DE01", new_key_namespace=True), text_in)
    assert set(by(hs, "companies", "sap_card_code")) == {"US01:C00001", "DE01:C00001"}
    assert set(by(hs, "invoices", "sap_doc_num")) == {"US01:4001", "DE01:4001"}
    assert len(hs.objects("line_items")) == 6


def test_an_unknown_deal_id_is_reported_the_invoice_written_and_dead_lettered_until_linked(
        hubspot_sandbox, target_config):
    """Links are part of the write (issue 11 item 8): the invoice is in HubSpot, but not
    confirmed while its deal link is refused; the dead-letter holds HubSpot's answer."""
    target, _ = run(cfg(target_config), messages(
        ("business_partners", [customer(1)]),
        ("invoices", [invoice(1, U_HubSpotDealId="999999"), invoice(2)])))
    stats = target.runtime.report.streams["invoices"]
    assert (stats.created, stats.failed, stats.links_failed) == (1, 0, 1)
    assert len(hubspot_sandbox.objects("invoices")) == 2
    assert hubspot_sandbox.associations("invoices", "deals") == []
    events = [e for e in ledger_rows(target_config, "sync_events") if e["action"] == "failed"]
    assert [(e["sap_key"], e["detail"][:12]) for e in events] == [("1", "link failed:")]
    dead = ledger_rows(target_config, "dead_letter")
    assert [d["sap_key"] for d in dead] == ["1"] and "deal 999999" in str(dead[0]["error"])


def test_a_malformed_record_is_dead_lettered_with_one_line_and_the_run_goes_on(
        hubspot_sandbox, target_config):
    broken = invoice(1, DocumentLines=[["not", "a", "line"]])
    bad_payment = payment(1, PaymentInvoices=[{"LineNum": 0, "DocEntry": 2, "SumApplied": {}}])
    _target, states = run(cfg(target_config), messages(
        ("business_partners", [customer(1), customer(2, ContactEmployees="junk")]),
        ("invoices", [broken, invoice(2)]), ("incoming_payments", [bad_payment]),
        state={"s": 3}))
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4002"}
    assert set(by(hubspot_sandbox, "companies", "sap_card_code")) == {"C00001"}
    dead = {(d["stream"], d["sap_key"]): str(d["error"]) for d in
            ledger_rows(target_config, "dead_letter")}
    assert set(dead) == {("invoices", "1"), ("business_partners", "C00002"),
                         ("incoming_payments", "1")}
    assert all("malformed record" in e or "not a number" in e for e in dead.values())
    assert states == [{"s": 3}]


def test_a_custom_property_deleted_in_hubspot_is_created_again_and_the_batch_resent_in_the_run(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)])))
    assert hs.client().delete("/crm/v3/properties/companies/sap_balance").status_code == 204
    changed = messages(("business_partners", [customer(1, CurrentAccountBalance=5.0)]))
    target, _ = run(cfg(target_config), changed)
    assert "sap_balance" in {p["name"] for p in hs.properties("companies")}
    assert by(hs, "companies", "sap_card_code")["C00001"]["sap_balance"] == "5"
    assert ledger_rows(target_config, "dead_letter") == []
    assert target.runtime.client.calls["companies.upsert"] == 2  # refused once, sent once more
    assert target.runtime.report.streams["business_partners"].updated == 1


def test_a_record_breaking_its_schema_is_dead_lettered_and_the_rest_written(
        hubspot_sandbox, target_config):
    schema = {"type": "SCHEMA", "stream": "invoices", "key_properties": ["DocEntry"],
              "schema": {"type": "object", "properties": {
                  "DocEntry": {"type": "integer"}, "DocTotal": {"type": ["number", "null"]}}}}
    good, bad = invoice(1), invoice(2, DocTotal="lots")
    lines = [json.dumps(schema)] + [json.dumps({"type": "RECORD", "stream": "invoices",
                                                "record": r}) for r in (good, bad)]
    text_in = messages(("business_partners", [customer(1)])) + "\n".join(lines) + "\n" + \
        json.dumps({"type": "STATE", "value": {"s": 4}}) + "\n"
    target, states = run(cfg(target_config), text_in)
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001"}
    dead = ledger_rows(target_config, "dead_letter")
    assert [(d["sap_key"], d["doc_num"]) for d in dead] == [("2", "4002")]
    assert "does not match the stream's schema" in str(dead[0]["error"])
    stats = target.runtime.report.streams["invoices"]
    assert (stats.read, stats.created, stats.failed) == (2, 1, 1)
    assert states == [{"s": 4}]
