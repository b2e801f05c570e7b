"""`payments_mode: properties` against the HubSpot sandbox: a payment is confirmed only when
HubSpot took its invoice and company figures. One whose figure update HubSpot refused (here:
its invoice was deleted in HubSpot) is dead-lettered with HubSpot's answer, never recorded
synced, and written by the next run; its neighbours are confirmed as usual."""

from __future__ import annotations

from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows


def _synced_payments(target_config: dict) -> set[str]:
    return {r["sap_key"] for r in ledger_rows(target_config, "synced_objects")
            if r["object_type"] == "payments"}


def test_a_payment_whose_invoice_figures_hubspot_refused_is_dead_lettered_not_recorded_synced(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    config = cfg(target_config, payments_mode="properties")
    run(config, messages(("business_partners", [customer(1)]),
                         ("invoices", [invoice(1), invoice(2)])))
    gone = by(hs, "invoices", "sap_doc_entry")["1"]["hs_object_id"]
    assert hs.client().delete(f"/crm/v3/objects/invoices/{gone}").status_code == 204
    _target, states = run(config, messages(
        ("incoming_payments", [payment(1, applies=[(1, 100.0)]),
                               payment(2, applies=[(2, 50.0)])]), state={"done": 1}))
    assert states == [{"done": 1}]  # passed: the refusal is kept in the dead-letter
    assert _synced_payments(target_config) == {"2"}  # payment 1 is not confirmed
    dead = {r["sap_key"]: r for r in ledger_rows(target_config, "dead_letter")}
    assert set(dead) == {"1"} and dead["1"]["stream"] == "incoming_payments"
    assert "invoices" in str(dead["1"]["error"])  # says which figure update failed
    # the invoice comes back (changed in SAP): the next run writes payment 1's figures
    run(config, messages(("invoices", [invoice(1, Comments="re-sent")])))
    run(config, messages(("incoming_payments", [payment(1, applies=[(1, 100.0)])])))
    assert _synced_payments(target_config) == {"1", "2"}
    assert ledger_rows(target_config, "dead_letter") == []
    assert by(hs, "invoices", "sap_doc_entry")["1"]["sap_payment_count"] == "1"
