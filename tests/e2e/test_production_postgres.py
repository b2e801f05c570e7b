"""The production shape on a real PostgreSQL server: Meltano's system database (and so its
state backend, `systemdb`) and the target's ledger both on PostgreSQL, nothing on SQLite."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

STATE_ID = "sandbox:tap-sapb1-to-target-hubspot-finance"


def test_state_and_ledger_live_in_postgresql(meltano_project, postgres_server, sap_sandbox,
                                             hubspot_sandbox, tmp_path):
    postgres_server.create_database("job_meltano")
    postgres_server.create_database("job_ledger")
    meltano_project.env.update({
        "MELTANO_DATABASE_URI": postgres_server.url("job_meltano"),
        "MELTANO_STATE_BACKEND_URI": "systemdb",
        "TARGET_HUBSPOT_FINANCE_LEDGER_URL": postgres_server.url("job_ledger"),
    })
    meltano_project.ledger_url = postgres_server.url("job_ledger")

    meltano_project.run("run", "sap-to-hubspot")

    rows = postgres_server.query("job_meltano", "SELECT state_id FROM state")
    assert (STATE_ID,) in rows
    marks = meltano_project.bookmarks()
    assert marks["invoices"], marks
    synced = dict(postgres_server.query(
        "job_ledger", "SELECT object_type, COUNT(*) FROM synced_objects GROUP BY object_type"))
    assert sum(synced.values()) >= len(sap_sandbox.all("Invoices"))
    assert not list(tmp_path.glob("*.db")), "nothing may fall back to SQLite"

    writes = hubspot_sandbox.writes()
    meltano_project.run("run", "sap-to-hubspot")
    assert hubspot_sandbox.writes() == writes
    meltano_project.assert_no_secret(sap_sandbox)


def test_meltano_state_round_trips_through_a_postgresql_system_database(bare_project,
                                                                          postgres_server):
    postgres_server.create_database("state_only")
    bare_project.env["MELTANO_DATABASE_URI"] = postgres_server.url("state_only")
    state = {"singer_state": {"bookmarks": {"invoices": {
        "replication_key": "sap_updated_at",
        "replication_key_value": "2026-03-05T14:22:05+00:00"}}}}

    bare_project.run("state", "set", "--force", STATE_ID, json.dumps(state))

    assert (STATE_ID,) in postgres_server.query("state_only", "SELECT state_id FROM state")
    assert STATE_ID in bare_project.run("state", "list").stdout
    assert bare_project.bookmarks() == {"invoices": "2026-03-05T14:22:05+00:00"}
