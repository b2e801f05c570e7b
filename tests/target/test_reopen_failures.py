"""A payment cancelled in SAP is confirmed only with the figures it changes in HubSpot: the
invoices it reopens (both payments modes) and, in `payments_mode: properties`, its company's
payment history. One HubSpot refused (here: the object was deleted in HubSpot) is dead-lettered
with HubSpot's answer and not recorded synced, so a rerun or replay writes it."""

from __future__ import annotations

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled


def _payment_hashes(target_config: dict) -> dict[str, str]:
    return {r["sap_key"]: r["content_hash"] for r in ledger_rows(target_config, "synced_objects")
            if r["object_type"] == "payments"}


def _dead(target_config: dict) -> dict[str, dict]:
    return {r["sap_key"]: r for r in ledger_rows(target_config, "dead_letter")}


CANCELLED = {"Cancelled": "tYES", "CancelStatus": "csYes"}


def test_a_cancelled_payment_whose_invoice_hubspot_would_not_reopen_is_dead_lettered(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config)
    paid = invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close")
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [paid]),
                         ("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    before = _payment_hashes(target_config)
    gone = by(hs, "invoices", "sap_doc_entry")["1"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/invoices/{gone}").status_code == 204
    # SAP cancels the payment without re-stamping the invoice: only the payment comes
    _target, states = run(config, messages(
        ("incoming_payments", [payment(1, **CANCELLED)]), state={"done": 1}))
    assert states == [{"done": 1}]  # passed: the refusal is kept in the dead-letter
    assert _payment_hashes(target_config) == before  # the cancellation is not confirmed
    dead = _dead(target_config)
    assert set(dead) == {"1"} and dead["1"]["stream"] == "incoming_payments"
    assert "invoices" in str(dead["1"]["error"])  # says which update failed
    # the invoice comes back into HubSpot (as the ledger last knew it: paid); the rerun of the
    # cancelled payment reopens it and is then confirmed
    run(config, messages(("invoices", [invoice(1, PaidToDate=220.0, DocumentStatus="bost_Close",
                                               Comments="re-sent")])))
    assert by(hs, "invoices", "sap_doc_entry")["1"]["hs_invoice_status"] == "paid"
    run(config, messages(("incoming_payments", [payment(1, **CANCELLED)])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "open"
    assert float(inv["sap_open_balance"]) == pytest.approx(220.0)
    assert _dead(target_config) == {}
    assert _payment_hashes(target_config)["1"] != before["1"]


def test_properties_mode_a_cancellation_whose_company_figures_hubspot_refused_is_dead_lettered(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]),
                         ("incoming_payments", [payment(1, applies=[(1, 100.0)])])))
    before = _payment_hashes(target_config)
    gone = by(hs, "companies", "sap_card_code")["C00001"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/companies/{gone}").status_code == 204
    _target, states = run(config, messages(
        ("incoming_payments", [payment(1, applies=[(1, 100.0)], **CANCELLED)]),
        state={"done": 1}))
    assert states == [{"done": 1}]
    assert _payment_hashes(target_config) == before
    dead = _dead(target_config)
    assert set(dead) == {"1"} and "companies" in str(dead["1"]["error"])
    # the customer comes back (changed in SAP); the rerun writes the company's figures
    run(config, messages(("business_partners", [customer(1, Phone2="+1 555-0199")])))
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 100.0)], **CANCELLED)])))
    company = by(hs, "companies", "sap_card_code")["C00001"]
    assert company["sap_payment_count"] == "0"
    assert float(company["sap_paid_total"]) == 0.0
    assert _dead(target_config) == {}


@pytest.mark.parametrize("mode", ["commerce_payments", "properties"])
def test_a_cancellation_of_two_invoices_one_refused_is_replayed_whole_and_counts_once(
        hubspot_sandbox, target_config, tmp_path, mode):
    """A cancelled payment that paid two invoices, one of which HubSpot could not reopen: the
    payment is dead-lettered whole (not synced) and the `replay run` command reopens the other
    one too, with the same figures as the first attempt (from the ledger: no double counting);
    confirmed then, so a rerun writes nothing."""
    import json

    from click.testing import CliRunner

    from target_hubspot_finance.commands.replay import main as replay_main

    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode=mode)
    paid = {"PaidToDate": 220.0, "DocumentStatus": "bost_Close"}
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [invoice(1, **paid), invoice(2, **paid)]),
                         ("incoming_payments", [payment(1, applies=[(1, 220.0), (2, 220.0)])])))
    before = _payment_hashes(target_config)
    gone = by(hs, "invoices", "sap_doc_entry")["2"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/invoices/{gone}").status_code == 204
    cancelled = payment(1, applies=[(1, 220.0), (2, 220.0)], **CANCELLED)
    _target, states = run(config, messages(("incoming_payments", [cancelled]),
                                           state={"done": 1}))
    assert states == [{"done": 1}]
    assert _payment_hashes(target_config) == before and set(_dead(target_config)) == {"1"}
    first = by(hs, "invoices", "sap_doc_entry")["1"]
    assert first["hs_invoice_status"] == "open"
    assert (float(first["sap_paid_to_date"]), float(first["sap_open_balance"])) == (0.0, 220.0)
    run(config, messages(("invoices", [invoice(2, Comments="re-sent", **paid)])))
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(config))
    done = CliRunner().invoke(replay_main, ["--config", str(settings), "run"])
    assert done.exit_code == 0, done.output
    assert "replayed  incoming_payments 1: succeeded" in done.output
    invoices = by(hs, "invoices", "sap_doc_entry")
    for key in ("1", "2"):
        assert invoices[key]["hs_invoice_status"] == "open", key
        assert float(invoices[key]["sap_paid_to_date"]) == 0.0, key
        assert float(invoices[key]["sap_open_balance"]) == pytest.approx(220.0), key
    assert _dead(target_config) == {} and _payment_hashes(target_config)["1"] != before["1"]
    writes = (settled(hs), hs.writes())[1]
    run(config, messages(("incoming_payments", [cancelled])))
    assert (settled(hs), hs.writes())[1] == writes


def test_a_payment_dead_lettered_then_cancelled_reopens_the_invoice_it_had_paid(
        hubspot_sandbox, target_config):
    """The ledger counted a payment whose first sync HubSpot refused (dead-lettered: its
    company was gone), and the invoice reached HubSpot paid by it (SAP's PaidToDate). SAP then
    cancels the payment without re-stamping the invoice: the cancellation must reopen the
    invoice as for a payment synced before, or HubSpot keeps it paid for ever."""
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [invoice(1, PaidToDate=220.0,
                                               DocumentStatus="bost_Close")])))
    company = by(hs, "companies", "sap_card_code")["C00001"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/companies/{company}").status_code == 204
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    assert set(_dead(target_config)) == {"1"} and _payment_hashes(target_config) == {}
    run(config, messages(("business_partners", [customer(1, Phone2="+1 555-0199")])))
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 220.0)],
                                                        **CANCELLED)])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "open"
    assert float(inv["sap_open_balance"]) == pytest.approx(220.0)
    assert _dead(target_config) == {} and set(_payment_hashes(target_config)) == {"1"}


def test_a_never_confirmed_payment_whose_cancellation_could_not_reopen_retries_the_reopen(
        hubspot_sandbox, target_config):
    """As above, and the first try of the cancellation fails too (the invoice was gone from
    HubSpot): that try already took the payment's money out of the ledger, so the retry must
    still know the payment had paid the invoice and reopen it."""
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    paid = {"PaidToDate": 220.0, "DocumentStatus": "bost_Close"}
    run(config, messages(("business_partners", [customer(1)]), ("invoices", [invoice(1, **paid)])))
    company = by(hs, "companies", "sap_card_code")["C00001"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/companies/{company}").status_code == 204
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 220.0)])])))
    run(config, messages(("business_partners", [customer(1, Phone2="+1 555-0199")])))
    gone = by(hs, "invoices", "sap_doc_entry")["1"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/invoices/{gone}").status_code == 204
    cancelled = payment(1, applies=[(1, 220.0)], **CANCELLED)
    run(config, messages(("incoming_payments", [cancelled])))
    assert set(_dead(target_config)) == {"1"}
    assert "invoices" in str(_dead(target_config)["1"]["error"])
    run(config, messages(("invoices", [invoice(1, Comments="re-sent", **paid)])))
    assert by(hs, "invoices", "sap_doc_entry")["1"]["hs_invoice_status"] == "paid"
    run(config, messages(("incoming_payments", [cancelled])))
    inv = by(hs, "invoices", "sap_doc_entry")["1"]
    assert inv["hs_invoice_status"] == "open"
    assert float(inv["sap_open_balance"]) == pytest.approx(220.0)
    assert not [r for r in ledger_rows(target_config, "dead_letter")
                if r["stream"] == "incoming_payments"]
    assert _payment_hashes(target_config)["1"] is not None
