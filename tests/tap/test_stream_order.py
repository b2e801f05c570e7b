"""The tap syncs streams in dependency order, not singer-sdk's name order."""

from __future__ import annotations

from sap_sandbox import DataSpec, SapSandbox
from tap_sapb1.tap import TapSAPB1


def test_streams_sync_customers_then_invoices_then_credit_notes_then_payments():
    """Documents follow their customers and payments their invoices, so a target creates each
    payment with its invoice link inline (name order sent credit_notes and incoming_payments
    before invoices: every payment link became a second association call)."""
    spec = DataSpec(seed=1, customers=1, suppliers=0, leads=0, invoices=1, credit_notes=0,
                    payments=0)
    with SapSandbox(data=spec, password="S3cr3t-B1-passw0rd!") as sb:
        tap = TapSAPB1(config={"service_layer_url": sb.url, "company_db": "SBODEMOUS",
                               "username": "manager", "password": "S3cr3t-B1-passw0rd!"})
        try:
            order = list(tap.streams)
        finally:
            tap.close()
    assert order[:4] == ["business_partners", "invoices", "credit_notes", "incoming_payments"]
    assert sorted(order[4:]) == ["chart_of_accounts", "payment_terms_types", "profit_centers"]
