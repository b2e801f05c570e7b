"""`dry_run: true`: counts what a run would write; HubSpot, ledger and state stay untouched."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tools_pipeline import run_target, table_rows, tap_messages


@pytest.fixture
def messages(tap_config) -> str:
    return tap_messages(tap_config)


def plan_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("dry run:")]


def test_dry_run_on_a_fresh_portal_writes_nothing_and_emits_no_state(
        messages, hubspot_sandbox, target_config, sap_sandbox, caplog):
    caplog.set_level(logging.INFO)
    states = run_target({**target_config, "dry_run": True}, messages)
    assert states == []
    assert hubspot_sandbox.writes() == 0
    assert hubspot_sandbox.objects("companies") == []
    ledger_file = Path(target_config["ledger_url"].removeprefix("sqlite:///"))
    assert not ledger_file.exists()  # not even an empty ledger is created
    lines = plan_lines(caplog)
    assert "dry run: companies would create 30, update 0" in lines
    invoices = [i for i in sap_sandbox.all("Invoices")  # cancellation documents are skipped
                if i.get("CancelStatus") != "csCancellation"]
    assert f"dry run: invoices would create {len(invoices)}, update 0" in lines
    assert any(line.startswith("dry run: line_items would create ") for line in lines)
    assert lines[-1] == "dry run: nothing was written to HubSpot or the ledger; no state emitted"


def test_dry_run_after_a_real_run_counts_only_the_change_and_touches_nothing(
        messages, hubspot_sandbox, sap_sandbox, tap_config, target_config, caplog):
    real_states = run_target(target_config, messages)
    assert real_states, "the real run emits its state"
    writes = hubspot_sandbox.writes()
    before = {t: table_rows(target_config["ledger_url"], t)
              for t in ("synced_objects", "sync_events", "dead_letter")}
    invoice = sap_sandbox.all("Invoices")[0]
    sap_sandbox.update("Invoices", invoice["DocEntry"], {"Comments": "changed behind the run"})

    caplog.set_level(logging.INFO)
    states = run_target({**target_config, "dry_run": True}, tap_messages(tap_config))
    assert states == []
    assert hubspot_sandbox.writes() == writes
    after = {t: table_rows(target_config["ledger_url"], t) for t in before}
    assert after == before
    lines = plan_lines(caplog)
    assert "dry run: invoices would create 0, update 1" in lines
    assert not any(line.startswith("dry run: companies") for line in lines)


def test_dry_run_client_refuses_any_write_it_cannot_simulate(hubspot_sandbox, target_config):
    from target_hubspot_finance.dryrun import DryRunRefused, build_runtime
    from target_hubspot_finance.runtime import Runtime

    rt = build_runtime(Runtime, {**target_config, "dry_run": True})
    with pytest.raises(DryRunRefused):
        rt.client.request("PATCH", "/crm/v3/objects/companies/1", {"properties": {}})
    with pytest.raises(DryRunRefused):
        rt.client.batch("companies", "archive", [{"id": "1"}])
    assert hubspot_sandbox.writes() == 0
