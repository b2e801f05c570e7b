"""State only after confirmation, crash + rerun without duplicates, the CLI's output and secrets."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled

from target_hubspot_finance.hubspot.errors import RetryableError
from target_hubspot_finance.target import TargetHubSpotFinance

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
BIN = Path(sys.executable).parent


def run_until_failure(config: dict, text: str) -> tuple[BaseException | None, list[dict]]:
    """Run in-process; return the exception that stopped it (or None) and the STATE it wrote."""
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            TargetHubSpotFinance(config=config).listen(io.StringIO(text))
        except Exception as exc:
            error = exc
    return error, [json.loads(x) for x in out.getvalue().splitlines() if x.strip()]


def records(n: int = 30) -> str:
    return messages(("business_partners", [customer(1)]),
                    ("invoices", [invoice(i) for i in range(1, n + 1)]),
                    ("incoming_payments", [payment(1, applies=[(1, 220.0)])]),
                    state_every=5, state={"final": True})


def test_no_state_is_emitted_while_a_record_before_it_is_unconfirmed(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    hs.add_fault(kind="503", rate=1.0, path_contains="/objects/invoices/batch/create")
    error, states = run_until_failure(cfg(target_config, max_retries=1), records())
    assert isinstance(error, RetryableError)
    assert states == []  # the STATE messages after record 5, 10, ... were never passed on
    assert hs.objects("invoices") == []
    hs.clear_faults()
    error, states = run_until_failure(cfg(target_config), records())
    assert error is None
    assert states == [{"final": True}]
    assert len(hs.objects("invoices")) == 30 and len(hs.objects("companies")) == 1


@pytest.mark.parametrize("retries", [0, 2])
def test_a_write_hubspot_applied_but_never_confirmed_is_not_duplicated(
        hubspot_sandbox, target_config, retries):
    """The answer to the invoice create is lost (timeout): the run dies, or retries; HubSpot
    already holds the invoices. The rerun (or the retry) finds them by their unique key."""
    hs = hubspot_sandbox
    # the answer is held until the sandbox stops: the 3 s client timeout always fires first
    hs.add_fault(kind="timeout", at=[1], delay=600, path_contains="/objects/invoices/batch/create")
    config = cfg(target_config, request_timeout=3, max_retries=retries)
    error, states = run_until_failure(config, records())
    if retries == 0:
        assert isinstance(error, RetryableError) and states == []
        assert len(hs.objects("invoices")) == 30  # written, but the target never heard so
        error, states = run_until_failure(config, records())
    assert error is None and states == [{"final": True}]
    invoices = by(hs, "invoices", "sap_doc_num")
    assert len(hs.objects("invoices")) == 30 == len(invoices)
    assert len(hs.objects("line_items")) == 90  # 2 lines + tax each, upserted by key
    links = hs.associations("invoices", "line_items")
    assert len(links) == len(set(links)) == 90
    assert {k for k, v in invoices.items() if v["hs_invoice_status"] == "open"} == {
        str(4000 + i) for i in range(2, 31)}  # 4001: its payment made HubSpot mark it paid
    assert len(hs.objects("commerce_payments")) == 1


def test_cli_writes_only_state_to_stdout_a_summary_to_stderr_and_never_the_token(
        hubspot_sandbox, target_config, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg(target_config)))
    bad = invoice(2)
    bad["DocCurrency"] = "XYZ"
    data = tmp_path / "in.jsonl"
    data.write_text(messages(("business_partners", [customer(1)]),
                             ("invoices", [invoice(1), bad]), state={"b": 1}))
    done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                           "--input", str(data)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert [json.loads(x) for x in done.stdout.splitlines()] == [{"b": 1}]
    assert "summary invoices: read 2, created 1, updated 0, unchanged 0, failed 1" in done.stderr
    assert "summary HubSpot calls" in done.stderr
    ledger = json.dumps([ledger_rows(target_config, t) for t in
                         ("synced_objects", "sync_events", "dead_letter")], default=str)
    for text in (done.stdout, done.stderr, ledger):
        assert TOKEN not in text


def test_cli_stops_with_one_clear_line_on_a_bad_token_and_emits_no_state(
        hubspot_sandbox, target_config, tmp_path):
    wrong = "pat-test1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg(target_config, access_token=wrong)))
    data = tmp_path / "in.jsonl"
    data.write_text(messages(("invoices", [invoice(1)]), state={"b": 1}))
    done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                           "--input", str(data)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    stopped = [x for x in done.stderr.splitlines() if "stopped" in x]
    assert len(stopped) == 1 and "401" in stopped[0]
    assert wrong not in done.stderr and TOKEN not in done.stderr


def test_a_bad_map_setting_is_one_clear_config_error(target_config):
    with pytest.raises(Exception, match="object_map: stream 'invoices' maps to 'invoice'"):
        TargetHubSpotFinance(config=cfg(target_config, object_map={"invoices": "invoice"}))


def test_a_renamed_stream_is_routed_by_object_map(hubspot_sandbox, target_config):
    text = messages(("business_partners", [customer(1)]), ("ar_invoices", [invoice(1)]))
    run(cfg(target_config, object_map={"ar_invoices": "invoices"}), text)
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001"}


def test_reference_streams_are_read_and_skipped(hubspot_sandbox, target_config):
    text = messages(("chart_of_accounts", [{"Code": "410000", "Name": "Sales"}]))
    target, _ = run(cfg(target_config), text)
    assert target.runtime.report.streams["chart_of_accounts"].skipped == 1
    assert hubspot_sandbox.writes() == 0


def test_random_faults_on_every_kind_of_call_lose_and_duplicate_nothing(
        hubspot_sandbox, target_config):
    """10% of calls fail with 500, 503, 429, a dropped connection or a lost answer (the write
    happened): the run still ends with exactly one object per SAP key and every link."""
    hs = hubspot_sandbox
    for i, kind in enumerate(("500", "503", "429", "drop", "timeout")):
        hs.add_fault(kind=kind, rate=0.02, seed=i, delay=600, path_contains="/crm/")
    invoices = [invoice(i, card=1 + i % 7, lines=1 + i % 2) for i in range(1, 251)]
    payments = [payment(i, card=1 + i % 7, applies=[(i, 5.0)]) for i in range(1, 251)]
    # a lost answer is held until the sandbox stops; 3 s leaves every real answer time to come
    config = cfg(target_config, request_timeout=3, max_retries=8, batch_size_rows=60)
    error, states = run_until_failure(config, messages(
        ("business_partners", [customer(c) for c in range(1, 8)]), ("invoices", invoices),
        ("incoming_payments", payments), state={"done": 1}))
    assert error is None and states == [{"done": 1}]
    hs.clear_faults()
    settled(hs)
    faults = sum(hs.count(status=s) for s in (500, 503, 429, 0))
    assert faults >= 3  # the faults did fire (seeded)
    assert len(by(hs, "invoices", "sap_doc_num")) == len(hs.objects("invoices")) == 250
    assert len(by(hs, "line_items", "sap_line_key")) == len(hs.objects("line_items")) == 625
    assert len(hs.objects("commerce_payments")) == 250 and len(hs.objects("companies")) == 7
    links = hs.associations("invoices", "line_items")
    assert len(set(links)) == 625
    assert len({a for a, _, _ in hs.associations("commerce_payments", "invoices")}) == 250
    assert ledger_rows(target_config, "dead_letter") == []


def test_an_invoice_deleted_in_hubspot_is_created_again_when_it_changes(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)])))
    gone = hs.objects("invoices")[0]["id"]
    assert hs.client().delete(f"/crm/v3/objects/invoices/{gone}").status_code == 204
    target, _ = run(cfg(target_config), messages(("invoices", [invoice(1, PaidToDate=220.0)])))
    live = by(hs, "invoices", "sap_doc_num")
    assert list(live) == ["4001"] and live["4001"]["hs_object_id"] != gone
    assert live["4001"]["hs_invoice_status"] == "paid"
    assert target.runtime.report.streams["invoices"].created == 1


@pytest.mark.parametrize("bad", ["not json at all", "{}", '{"type": "RECORD"}',
                                 '{"type": "RECORD", "stream": "invoices", "record": {}}'])
def test_bad_singer_input_is_one_clear_line_and_exit_1(target_config, tmp_path, bad):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg(target_config)))
    data = tmp_path / "in.jsonl"
    data.write_text(bad + "\n" + json.dumps({"type": "STATE", "value": {"b": 1}}) + "\n")
    done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                           "--input", str(data)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [x for x in done.stderr.splitlines() if "ERROR" in x]
    assert len(errors) == 1 and "stopped" in errors[0]
