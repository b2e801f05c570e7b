"""Reconciliation against both sandboxes: agreement after a run, and differences made behind the
connector's back (in HubSpot with `tamper`, in SAP with an update) found and reported. HubSpot's
own figures are compared (billed amount, balance due, status, currency), in each invoice's
currency, over the pipeline's window, counting SAP documents by DocEntry (issue 13 items 5-7)."""

from __future__ import annotations

import csv
import json
import math

import pytest
from click.testing import CliRunner
from tools_pipeline import run_target, tap_messages

from target_hubspot_finance.commands.reconcile import main, reconcile

SAP_PASSWORD = "S3cr3t-B1-passw0rd!"


def sap(**spec):
    """An SAP sandbox. Credit notes are off: the sandbox leaves a credited invoice's PaidToDate
    as it was while the target counts the credit (NOTES.md, H7 22:25), a disagreement of its own."""
    from sap_sandbox import DataSpec, SapSandbox

    base = {"seed": 7, "customers": 30, "suppliers": 3, "leads": 3, "invoices": 120,
            "credit_notes": 0, "payments": 60}
    return SapSandbox(data=DataSpec(**(base | spec)), company_db="SBODEMOUS",
                      username="manager", password=SAP_PASSWORD)


@pytest.fixture
def sap_sandbox():
    with sap() as sb:
        yield sb


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
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("comparing SAP company SBODEMOUS: documents updated since "
                               "2020-01-01 (start_date)")
    assert lines[1:] == ["SAP and HubSpot agree for every customer"]
    # list pages of 100: invoices + payments, nothing else, no 429
    calls = synced.requests[calls_before:]
    invoices, payments = len(synced.objects("invoices")), len(synced.objects("commerce_payments"))
    assert len(calls) == math.ceil(invoices / 100) + math.ceil(payments / 100)
    assert all(c.method == "GET" and c.status == 200 for c in calls)


def test_a_foreign_currency_invoice_billed_wrongly_in_hubspot_is_found(
        synced, sap_sandbox, tmp_path, target_config, tap_config):
    """HubSpot's billed amount (the sum of its line items) is compared, in the invoice's
    currency; the target's own copy `sap_doc_total` is not what a customer is billed."""
    euro = next(i for i in sap_sandbox.all("Invoices")
                if i["DocCurrency"] == "EUR" and i["CancelStatus"] == "csNo")
    invoice = next(o for o in synced.objects("invoices")
                   if o["properties"].get("sap_doc_entry") == str(euro["DocEntry"]))
    assert invoice["properties"]["hs_currency"] == "EUR"
    line = next(to for frm, to, _type in synced.associations("invoices", "line_items")
                if str(frm) == str(invoice["id"]))
    synced.tamper("line_items", line, {"price": "0.01", "amount": "0.01"})
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(main, [*files(tmp_path, target_config, tap_config),
                                       "--csv", str(out)])
    assert result.exit_code == 1
    code = euro["CardCode"]
    assert f"{code}: total_invoiced EUR SAP=" in result.output
    assert "difference(s) between SAP and HubSpot" in result.output.splitlines()[-1]
    rows = list(csv.DictReader(out.open()))
    assert (code, "total_invoiced EUR") in [(r["card_code"], r["figure"]) for r in rows]
    assert {r["card_code"] for r in rows} == {code}


def test_an_invoice_voided_by_hand_in_hubspot_is_found(synced, sap_sandbox, target_config,
                                                       tap_config):
    entry = next(i for i in sap_sandbox.all("Invoices") if i["DocumentStatus"] == "bost_Open")
    invoice = next(o for o in synced.objects("invoices")
                   if o["properties"].get("sap_doc_entry") == str(entry["DocEntry"]))
    synced.tamper("invoices", invoice["id"], {"hs_invoice_status": "voided"})
    lines = reconcile(target_config, tap_config)
    assert f"{entry['CardCode']}: status SAP=open HubSpot=voided (document {entry['DocNum']})" \
        in lines


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


def test_the_pipeline_window_is_the_compared_window(target_config, hubspot_sandbox):
    """With start_date the run loads only documents updated since then; reconcile compares the
    same documents, so older ones are not reported missing every night. Payments dated before
    start_date that paid a loaded invoice are loaded too (the tap's early-payments check), so
    HubSpot's balance due agrees with SAP's and nothing is reported."""
    with sap() as sb:
        updated = sorted(i["UpdateDate"][:10] for i in sb.all("Invoices"))
        start = updated[len(updated) // 2]
        tap = {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
               "password": SAP_PASSWORD, "start_date": f"{start}T00:00:00Z"}
        run_target(target_config, tap_messages(tap))
        loaded = len(hubspot_sandbox.objects("invoices"))
        assert 0 < loaded < len(updated)  # the window really cuts the history
        in_window = {i["DocEntry"]: i for i in sb.all("Invoices") if i["UpdateDate"][:10] >= start}
        early_paid = {in_window[a["DocEntry"]]["CardCode"] for p in sb.all("IncomingPayments")
                      if p["DocDate"][:10] < start for a in p.get("PaymentInvoices") or []
                      if a.get("DocEntry") in in_window}
        assert early_paid  # the window really cuts payments off the invoices they paid
        assert reconcile(target_config, tap) == []
        # the whole history against the windowed load: every older document would be "missing"
        everything = reconcile(target_config, {k: v for k, v in tap.items() if k != "start_date"})
        assert any(": invoices SAP=" in line and "missing in HubSpot" in line
                   for line in everything)


def test_documents_are_counted_by_docentry_when_docnum_repeats_across_series(
        target_config, hubspot_sandbox):
    """SAP's yearly series number each from 1: one DocNum, several documents. Reconcile counts
    SAP documents, so it agrees only when HubSpot holds one invoice per document."""
    with sap(numbering="yearly") as sb:
        tap = {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
               "password": SAP_PASSWORD, "start_date": "2020-01-01T00:00:00Z"}
        run_target(target_config, tap_messages(tap))
        docs = [i for i in sb.all("Invoices") if i["CancelStatus"] == "csNo"]
        assert len({i["DocNum"] for i in docs}) < len(docs)  # DocNum really repeats
        lines = reconcile(target_config, tap)
        for code in {i["CardCode"] for i in docs}:
            in_sap = sum(1 for i in docs if i["CardCode"] == code)
            in_hubspot = sum(1 for o in hubspot_sandbox.objects("invoices")
                             if o["properties"].get("sap_card_code") == code
                             and o["properties"].get("sap_cancelled") != "true")
            counts = [line for line in lines if line.startswith(f"{code}: invoices ")]
            if in_sap == in_hubspot:
                assert counts == [], lines
            else:
                assert counts[0].startswith(
                    f"{code}: invoices SAP={in_sap} HubSpot={in_hubspot}"), lines


def test_a_credit_note_written_as_a_hubspot_payment_is_no_payment_date(target_config,
                                                                       hubspot_sandbox):
    """The target writes each credit as a payment of method `credit note` (it lowers HubSpot's
    balance due); SAP's last payment date is an incoming payment's, so credits are left out."""
    with sap(credit_notes=6) as sb:
        tap = {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
               "password": SAP_PASSWORD, "start_date": "2020-01-01T00:00:00Z"}
        run_target(target_config, tap_messages(tap))
        credits = [p for p in hubspot_sandbox.objects("commerce_payments")
                   if p["properties"].get("sap_payment_key", "").startswith("credit-")]
        assert credits  # the case exists
        assert [line for line in reconcile(target_config, tap) if "last_payment" in line] == []


def test_a_list_cursor_hubspot_repeats_stops_the_read_instead_of_looping():
    """A paging cursor answered twice (a proxy cache, an API fault) would read forever and
    count the same objects again: the read stops with one reason instead."""
    from target_hubspot_finance.commands.hubspot_side import list_all

    class Stuck:
        calls = 0

        def request(self, *_args, **_kwargs):
            self.calls += 1
            if self.calls > 20:
                raise AssertionError("still reading after 20 pages of the same cursor")
            return {"results": [{"properties": {"sap_doc_num": "1"}}],
                    "paging": {"next": {"after": "100"}}}

    client = Stuck()
    with pytest.raises(RuntimeError, match="same page cursor"):
        list(list_all(client, "invoices", ["sap_doc_num"]))
    assert client.calls == 2


def test_an_invoice_created_twice_in_hubspot_is_found_until_the_copy_is_voided(
        synced, sap_sandbox, target_config, tap_config):
    """A second HubSpot invoice for one SAP document (a user's copy, or a run of an older
    version) bills the customer twice: reconcile names it; voided by hand, it is settled."""
    import requests

    entry = next(i for i in sap_sandbox.all("Invoices") if i["DocumentStatus"] == "bost_Open"
                 and i["Cancelled"] == "tNO")
    original = next(o for o in synced.objects("invoices")
                    if o["properties"].get("sap_doc_entry") == str(entry["DocEntry"]))
    copied = {k: original["properties"][k] for k in ("sap_doc_num", "sap_doc_entry",
                                                      "sap_card_code", "hs_currency")}
    answer = requests.post(f"{synced.url}/crm/v3/objects/invoices", timeout=30,
                           headers={"Authorization": f"Bearer {target_config['access_token']}"},
                           json={"properties": {**copied, "sap_invoice_key": "copy-by-hand"}})
    assert answer.status_code == 201, answer.text
    lines = reconcile(target_config, tap_config)
    code = entry["CardCode"]
    assert any(line.startswith(f"{code}: invoices ") and
               f"more than once in HubSpot: {entry['DocNum']} (2 times)" in line
               for line in lines), lines
    synced.tamper("invoices", answer.json()["id"], {"hs_invoice_status": "voided"})
    assert [line for line in reconcile(target_config, tap_config)
            if line.startswith(f"{code}: ")] == []
