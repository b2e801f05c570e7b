"""Reconciliation against both sandboxes: agreement after a run, and differences made behind the
connector's back (in HubSpot with `tamper`, in SAP with an update) found and reported."""

from __future__ import annotations

import csv
import json
import math

import pytest
from click.testing import CliRunner
from tools_pipeline import run_target, tap_messages

from target_hubspot_finance.commands.reconcile import main, reconcile


@pytest.fixture
def synced(tap_config, target_config, hubspot_sandbox):
    """A completed run: HubSpot holds what SAP holds."""
    run_target(target_config, tap_messages(tap_config))
    return hubspot_sandbox


def files(tmp_path, target_config, tap_config):
    target_file, tap_file = tmp_path / "target.json", tmp_path / "tap.json"
    target_file.write_text(json.dumps(target_config))
    tap_file.write_text(json.dumps(tap_config))
    return ["--config", str(target_file), "--tap-config", str(tap_file)]


def test_after_a_run_both_sides_agree_and_exit_0(synced, tmp_path, target_config, tap_config):
    calls_before = len(synced.requests)
    result = CliRunner().invoke(main, files(tmp_path, target_config, tap_config))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "SAP and HubSpot agree for every customer"
    # list pages of 100: invoices + payments, nothing else, no 429
    calls = synced.requests[calls_before:]
    invoices, payments = len(synced.objects("invoices")), len(synced.objects("commerce_payments"))
    assert len(calls) == math.ceil(invoices / 100) + math.ceil(payments / 100)
    assert all(c.method == "GET" and c.status == 200 for c in calls)


def test_a_total_tampered_in_hubspot_is_found_and_written_to_csv(
        synced, tmp_path, target_config, tap_config):
    victim = next(o for o in synced.objects("invoices")
                  if o["properties"].get("sap_cancelled") != "true")
    props = victim["properties"]
    synced.tamper("invoices", victim["id"], {"sap_doc_total": "1.00"})
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(main, [*files(tmp_path, target_config, tap_config),
                                       "--csv", str(out)])
    assert result.exit_code == 1
    code = props["sap_card_code"]
    assert f"{code}: total_invoiced SAP=" in result.output
    assert "difference(s) between SAP and HubSpot" in result.output.splitlines()[-1]
    rows = list(csv.DictReader(out.open()))
    assert [(r["card_code"], r["figure"]) for r in rows] == [(code, "total_invoiced")]
    assert rows[0]["hubspot"] != rows[0]["sap"]


def test_an_invoice_changed_in_sap_after_the_run_is_found(
        synced, sap_sandbox, target_config, tap_config):
    invoice = next(i for i in sap_sandbox.all("Invoices") if i["Cancelled"] == "tNO")
    sap_sandbox.update("Invoices", invoice["DocEntry"],
                       {"DocTotal": float(invoice["DocTotal"]) + 500})
    lines = reconcile(target_config, tap_config)
    assert lines == [line for line in lines if line.startswith(f"{invoice['CardCode']}: ")]
    assert any("total_invoiced" in line for line in lines)


def test_an_invoice_missing_in_hubspot_is_named_by_document_number(
        tap_config, target_config, hubspot_sandbox, sap_sandbox):
    from tools_pipeline import only_streams

    messages = tap_messages(tap_config)
    run_target(target_config, only_streams(messages, {"business_partners",
                                                      "incoming_payments"}))
    lines = reconcile(target_config, tap_config)
    some = next(i for i in sap_sandbox.all("Invoices") if i["Cancelled"] == "tNO")
    assert any(f"{some['CardCode']}: invoices SAP=" in line and str(some["DocNum"]) in line
               for line in lines)


def test_tap_settings_come_from_meltano_when_run_as_a_plugin_command(tmp_path, monkeypatch):
    """`--tap-config meltano:tap-sapb1` asks Meltano for the extractor's resolved settings."""
    from target_hubspot_finance.commands.reconcile import _tap_settings

    fake = tmp_path / "meltano"
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n'
                    'echo \'{"company_db": "SBODEMOUS", "username": "manager"}\'\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setenv("MELTANO_ENVIRONMENT", "prod")
    assert _tap_settings(["meltano:tap-sapb1--gb"]) == {"company_db": "SBODEMOUS",
                                                        "username": "manager"}
    assert (tmp_path / "args").read_text().split() == [
        "--environment=prod", "config", "--unsafe", "print", "tap-sapb1--gb"]
