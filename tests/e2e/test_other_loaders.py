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


def test_meltano_run_tap_sapb1_target_jsonl_reads_the_default_selection(
        meltano_project, sap_sandbox, hubspot_sandbox):
    """The plain extractor (reference streams unselected) into target-jsonl."""
    meltano_project.run("run", "tap-sapb1", "target-jsonl")

    folder = Path(meltano_project.env["TARGET_JSONL_DESTINATION_PATH"])
    for stream in ("business_partners", "invoices", "credit_notes", "incoming_payments"):
        entity_set, key = ENTITY_SETS[stream]
        read = {row[key] for row in read_jsonl(folder, stream)}
        assert read == {entity[key] for entity in sap_sandbox.all(entity_set)}, stream
    assert not list(folder.glob("chart_of_accounts*.jsonl"))  # left unselected by meltano.yml
    assert hubspot_sandbox.writes() == 0
    assert "sandbox:tap-sapb1-to-target-jsonl" in meltano_project.run("state", "list").stdout


@pytest.mark.postgres
def test_tap_feeds_target_postgres_with_reference_tables(meltano_project, postgres_server,
                                                         sap_sandbox):
    postgres_server.create_database("warehouse")
    meltano_project.env.update({
        "TARGET_POSTGRES_HOST": "127.0.0.1",
        "TARGET_POSTGRES_PORT": str(postgres_server.port),
        "TARGET_POSTGRES_USER": postgres_server.user,
        "TARGET_POSTGRES_PASSWORD": "unused-trust-auth",
        "TARGET_POSTGRES_DATABASE": "warehouse",
    })

    meltano_project.run("run", "sap-to-postgres", timeout=600)

    for stream, (entity_set, key) in ENTITY_SETS.items():
        query = f'SELECT "{key}" FROM sap_b1.{stream}'  # noqa: S608 (names from ENTITY_SETS)
        rows = postgres_server.query("warehouse", query)
        assert {r[0] for r in rows} == {e[key] for e in sap_sandbox.all(entity_set)}, stream
    meltano_project.assert_no_secret(sap_sandbox)
