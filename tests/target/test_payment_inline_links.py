"""A first load creates payments with their invoice and company links inline: no association
calls, one create per 100 payment lines (batch upsert cannot carry associations; the old path
cost one association call per 100 pairs per kind on top of the upserts)."""

from __future__ import annotations

import math

from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import ledger_rows

INVOICES, PAYMENTS = 300, 250


def _post(hs, *parts: str) -> int:
    return sum(1 for r in hs.requests if r.method == "POST" and all(p in r.path for p in parts))


def test_new_payments_carry_their_links_and_make_no_association_calls(
        hubspot_sandbox, target_config) -> None:
    hs = hubspot_sandbox
    run(target_config, messages(
        ("business_partners", [customer(c) for c in range(1, 6)]),
        ("invoices", [invoice(n, card=n % 5 + 1, lines=1) for n in range(1, INVOICES + 1)])))
    hs.clear_requests()
    pays = [payment(n, card=n % 5 + 1, applies=[(n, 110.0)]) for n in range(1, PAYMENTS + 1)]
    run(target_config, messages(("incoming_payments", pays)))

    assert _post(hs, "/associations/commerce_payments/") == 0
    assert _post(hs, "/objects/commerce_payments/batch/") == math.ceil(PAYMENTS / 100)
    payments = {o["id"]: o["properties"] for o in hs.objects("commerce_payments")}
    assert len(payments) == PAYMENTS
    by_payment = {f: t for f, t, _ in hs.associations("commerce_payments", "invoices")}
    invoices = {o["id"]: o["properties"] for o in hs.objects("invoices")}
    for pid, props in payments.items():  # each linked to the invoice it pays, which is paid
        entry = props["sap_invoice_doc_entry"]
        assert invoices[by_payment[pid]]["sap_doc_entry"] == entry
        assert invoices[by_payment[pid]]["hs_invoice_status"] == "paid"
    assert len(hs.associations("commerce_payments", "companies")) == PAYMENTS
    assert ledger_rows(target_config, "dead_letter") == []

    writes = hs.writes()
    run(target_config, messages(("incoming_payments", pays)))  # rerun: nothing to write
    assert hs.writes() == writes
