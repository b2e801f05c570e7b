"""The tap is an ordinary Singer tap: through Meltano into target-jsonl, every stream (reference
streams included) arrives with SAP's field names, and the job's state is its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# stream -> (SAP entity set, key)
ENTITY_SETS = {
    "business_partners": ("BusinessPartners", "CardCode"),
    "invoices": ("Invoices", "DocEntry"),
    "credit_notes": ("CreditNotes", "DocEntry"),
    "incoming_payments": ("IncomingPayments", "DocEntry"),
    "chart_of_accounts": ("ChartOfAccounts", "Code"),
    "profit_centers": ("ProfitCenters", "CenterCode"),
    "payment_terms_types": ("PaymentTermsTypes", "GroupNumber"),
}


def read_jsonl(folder: Path, stream: str) -> list[dict]:
    files = sorted(folder.glob(f"{stream}*.jsonl"))
    assert files, f"no file for {stream} in {folder}"
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line]


def test_tap_feeds_target_jsonl_with_every_stream(meltano_project, sap_sandbox, hubspot_sandbox):
    meltano_project.run("run", "sap-to-jsonl")

    folder = Path(meltano_project.env["TARGET_JSONL_DESTINATION_PATH"])
    for stream, (entity_set, key) in ENTITY_SETS.items():
        read = {row[key] for row in read_jsonl(folder, stream)}
        assert read == {entity[key] for entity in sap_sandbox.all(entity_set)}, stream
    partners = read_jsonl(folder, "business_partners")
    assert {p["CardType"] for p in partners} >= {"cCustomer", "cSupplier"}  # no mapper here
    assert all(isinstance(r["DocumentLines"], list) for r in read_jsonl(folder, "invoices"))
    assert hubspot_sandbox.writes() == 0

    state_ids = meltano_project.run("state", "list").stdout
    assert "sandbox:tap-sapb1-all-streams-to-target-jsonl" in state_ids
    assert "sandbox:tap-sapb1-to-target-hubspot-finance" not in state_ids
    meltano_project.assert_no_secret(sap_sandbox)
