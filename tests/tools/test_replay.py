"""Replay against both sandboxes: records HubSpot refused are replayed once the cause is fixed,
leave the dead-letter, and are never sent twice (repeat, concurrent replays, scheduled run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from tools_pipeline import TOKEN, run_target, table_rows, tap_messages

from target_hubspot_finance.commands.replay import main as replay_main

SEGMENT = "sap_segment"
BIN = Path(sys.executable).parent


def add_segment_property(hs, options: list[str]) -> None:
    """What a portal admin does: an enumeration property the mapping writes SAP's GroupCode to."""
    body = {"name": SEGMENT, "label": "Customer segment", "type": "enumeration",
            "fieldType": "select", "groupName": "companyinformation",
            "options": [{"label": o, "value": o} for o in options]}
    resp = requests.post(f"{hs.url}/crm/v3/properties/companies", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    resp.raise_for_status()


def set_segment_options(hs, options: list[str]) -> None:
    resp = requests.patch(f"{hs.url}/crm/v3/properties/companies/{SEGMENT}", timeout=10,
                          json={"options": [{"label": o, "value": o} for o in options]},
                          headers={"Authorization": f"Bearer {TOKEN}"})
    resp.raise_for_status()


@pytest.fixture
def failed_run(tap_config, target_config, hubspot_sandbox, sap_sandbox, tmp_path):
    """A run whose customers HubSpot refuses: their segment is not an option of sap_segment."""
    add_segment_property(hubspot_sandbox, ["none-yet"])
    config = {**target_config, "property_map": {"companies": {"field:GroupCode": SEGMENT}}}
    run_target(config, tap_messages(tap_config))
    path = tmp_path / "target.json"
    path.write_text(json.dumps(config))
    customers = [bp for bp in sap_sandbox.all("BusinessPartners") if bp["CardType"] == "cCustomer"]
    return config, ["--config", str(path)], customers


def dead(config) -> list[dict]:
    return table_rows(config["ledger_url"], "dead_letter")


def test_replay_after_the_property_option_is_added(failed_run, hubspot_sandbox):
    config, args, customers = failed_run
    assert {(r["stream"], r["sap_key"]) for r in dead(config)} == {
        ("business_partners", c["CardCode"]) for c in customers}
    listing = CliRunner().invoke(replay_main, [*args, "list"])
    assert listing.exit_code == 0
    assert SEGMENT in listing.output and f"{len(customers)} record(s)" in listing.output

    still = CliRunner().invoke(replay_main, [*args, "run"])  # cause not fixed yet
    assert still.exit_code == 1
    assert {r["attempts"] for r in dead(config)} == {2}

    set_segment_options(hubspot_sandbox, sorted({str(c["GroupCode"]) for c in customers}))
    fixed = CliRunner().invoke(replay_main, [*args, "run"])
    assert fixed.exit_code == 0, fixed.output
    assert f"{len(customers)} succeeded, 0 still failing" in fixed.output
    assert dead(config) == []
    companies = hubspot_sandbox.objects("companies")
    assert len(companies) == len(customers)  # the stubs invoices created were updated, not doubled
    assert {c["properties"].get(SEGMENT) for c in companies} == {
        str(c["GroupCode"]) for c in customers}

    writes = hubspot_sandbox.writes()
    again = CliRunner().invoke(replay_main, [*args, "run"])
    assert again.exit_code == 0
    assert "0 succeeded, 0 still failing" in again.output
    assert hubspot_sandbox.writes() == writes


def test_replay_of_given_keys_only_touches_those(failed_run, hubspot_sandbox):
    config, args, customers = failed_run
    set_segment_options(hubspot_sandbox, sorted({str(c["GroupCode"]) for c in customers}))
    one = customers[0]["CardCode"]
    result = CliRunner().invoke(replay_main, [*args, "run", "--key", one])
    assert result.exit_code == 0, result.output
    assert {r["sap_key"] for r in dead(config)} == {c["CardCode"] for c in customers[1:]}


def upserted_keys(hs) -> list[str]:
    """sap_card_code of every company input HubSpot received in batch upserts (repeats kept)."""
    return [i["id"] for r in hs.requests if r.method == "POST" and
            "companies/batch/upsert" in r.path and isinstance(r.body, dict)
            for i in r.body.get("inputs", [])]


def test_two_concurrent_replays_send_each_record_once(failed_run, hubspot_sandbox):
    config, args, customers = failed_run
    set_segment_options(hubspot_sandbox, sorted({str(c["GroupCode"]) for c in customers}))
    before = len(upserted_keys(hubspot_sandbox))
    procs = [subprocess.Popen([str(BIN / "target-hubspot-finance-replay"), *args, "run"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    sent = upserted_keys(hubspot_sandbox)[before:]
    assert sorted(sent) == sorted(c["CardCode"] for c in customers)  # each exactly once
    assert dead(config) == []
    for out, err in outputs:
        assert TOKEN not in out + err


def test_replay_beside_a_scheduled_run_leaves_no_duplicate(failed_run, hubspot_sandbox,
                                                            tap_config, sap_sandbox, tmp_path):
    config, args, customers = failed_run
    set_segment_options(hubspot_sandbox, sorted({str(c["GroupCode"]) for c in customers}))
    messages = tmp_path / "run.jsonl"
    messages.write_text(tap_messages(tap_config))
    with messages.open() as stdin:
        scheduled = subprocess.Popen([str(BIN / "target-hubspot-finance"), *args],
                                     stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        replay = subprocess.Popen([str(BIN / "target-hubspot-finance-replay"), *args, "run"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        outputs = [p.communicate(timeout=180) for p in (scheduled, replay)]
    assert scheduled.returncode == 0, outputs[0][1][-2000:]
    assert replay.returncode == 0, outputs[1]
    assert dead(config) == []
    codes = [c["properties"]["sap_card_code"] for c in hubspot_sandbox.objects("companies")]
    assert sorted(codes) == sorted(c["CardCode"] for c in customers)
    doc_nums = [i["properties"]["sap_doc_num"] for i in hubspot_sandbox.objects("invoices")]
    invoices = [i for i in sap_sandbox.all("Invoices")  # SAP's cancellation documents are no
                if i.get("CancelStatus") != "csCancellation"]  # invoices of their own
    assert len(doc_nums) == len(set(doc_nums)) == len(invoices)


@pytest.mark.postgres
def test_replay_with_a_postgresql_ledger(postgres_url, tap_config, target_config,
                                         hubspot_sandbox, sap_sandbox, tmp_path):
    import uuid

    from sqlalchemy import create_engine, text

    name = f"ledger_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    ledger_url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    add_segment_property(hubspot_sandbox, ["none-yet"])
    config = {**target_config, "ledger_url": ledger_url,
              "property_map": {"companies": {"field:GroupCode": SEGMENT}}}
    run_target(config, tap_messages(tap_config))
    customers = [bp for bp in sap_sandbox.all("BusinessPartners") if bp["CardType"] == "cCustomer"]
    assert len(dead(config)) == len(customers)
    set_segment_options(hubspot_sandbox, sorted({str(c["GroupCode"]) for c in customers}))
    path = tmp_path / "pg.json"
    path.write_text(json.dumps(config))
    before = len(upserted_keys(hubspot_sandbox))
    procs = [subprocess.Popen([str(BIN / "target-hubspot-finance-replay"), "--config",
                               str(path), "run"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert dead(config) == []
    sent = upserted_keys(hubspot_sandbox)[before:]
    assert sorted(sent) == sorted(c["CardCode"] for c in customers)  # each exactly once
    assert len(hubspot_sandbox.objects("companies")) == len(customers)


def test_replay_with_a_revoked_token_is_one_line_and_keeps_the_dead_letter(failed_run, tmp_path):
    config, _args, customers = failed_run
    path = tmp_path / "revoked.json"
    path.write_text(json.dumps({**config, "access_token": "pat-na1-revoked"}))
    result = CliRunner().invoke(replay_main, ["--config", str(path), "run"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: replay stopped: ")
    assert "401" in result.output and "pat-na1-revoked" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert len(dead(config)) == len(customers)
    assert table_rows(config["ledger_url"], "replay_claims") == []  # claims released
