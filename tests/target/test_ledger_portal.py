"""Whose ledger is it (issue 11 item 7): one HubSpot portal, its key namespaces, and a default
place that does not depend on the working directory. Against the HubSpot sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled

from hubspot_sandbox import HubSpotSandbox
from target_hubspot_finance.ledger import LedgerMismatchError, default_ledger_url

BIN = Path(sys.executable).parent
TOKEN_B = "pat-sandbox-2222-second-portal-token"


def _records(n: int = 1) -> str:
    return messages(("business_partners", [customer(n)]), ("invoices", [invoice(n, card=n)]))


def test_a_ledger_pointed_at_another_portal_stops_with_one_line_and_writes_nothing(
        hubspot_sandbox, target_config, tmp_path):
    run(cfg(target_config), _records(1))
    with HubSpotSandbox(token=TOKEN_B, portal_id=99990001) as other:
        config = tmp_path / "config.json"
        config.write_text(json.dumps(cfg(target_config, api_base_url=other.url,
                                         access_token=TOKEN_B)))
        data = tmp_path / "in.jsonl"
        data.write_text(_records(1).replace("Customer 1 Ltd", "Customer 1 Ltd (renamed)")
                        + json.dumps({"type": "STATE", "value": {"b": 1}}) + "\n")
        done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                               "--input", str(data)], capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 1 and done.stdout == ""
        stops = [ln for ln in done.stderr.splitlines() if "stopped:" in ln]
        assert len(stops) == 1 and "portal 12345678" in stops[0] and "99990001" in stops[0]
        assert "Traceback" not in done.stderr and TOKEN_B not in done.stderr
        assert other.writes() == 0  # no id of the first portal was ever sent here


def test_a_changed_key_namespace_is_refused_on_a_ledger_with_records(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    run(cfg(target_config, key_namespace="US01"), _records(1))
    writes = hs.writes()
    with pytest.raises(LedgerMismatchError, match=r"key_namespace 'SBO_US'.*'US01'"):
        run(cfg(target_config, key_namespace="SBO_US"), _records(1))
    assert hs.writes() == writes  # nothing created a second time
    assert set(by(hs, "companies", "sap_card_code")) == {"US01:C00001"}


def test_dropping_the_key_namespace_is_refused_too(hubspot_sandbox, target_config):
    run(cfg(target_config, key_namespace="US01"), _records(1))
    with pytest.raises(LedgerMismatchError, match="new_key_namespace"):
        run(cfg(target_config), _records(1))


def test_a_second_sap_company_is_welcome_when_the_setting_says_so(hubspot_sandbox,
                                                                  target_config):
    hs = hubspot_sandbox
    run(cfg(target_config, key_namespace="US01"), _records(1))
    run(cfg(target_config, key_namespace="DE01", new_key_namespace=True), _records(1))
    run(cfg(target_config, key_namespace="DE01"), _records(1))  # known from now on
    run(cfg(target_config, key_namespace="US01"), _records(1))
    assert set(by(hs, "companies", "sap_card_code")) == {"US01:C00001", "DE01:C00001"}
    assert len(hs.objects("invoices")) == 2


def test_the_default_ledger_lives_in_the_meltano_project_not_the_working_dir(
        monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MELTANO_PROJECT_ROOT", str(tmp_path / "project"))
    url = default_ledger_url()
    assert url == f"sqlite:///{tmp_path}/project/.meltano/target-hubspot-finance/ledger.db"
    monkeypatch.delenv("MELTANO_PROJECT_ROOT")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_ledger_url() == f"sqlite:///{tmp_path}/state/target-hubspot-finance/ledger.db"


def test_a_ledger_at_the_old_default_place_is_never_silently_replaced(
        monkeypatch, tmp_path, hubspot_sandbox, target_config):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MELTANO_PROJECT_ROOT", str(tmp_path / "project"))
    (tmp_path / "hubspot_finance_ledger.db").write_bytes(b"")
    config = {k: v for k, v in cfg(target_config).items() if k != "ledger_url"}
    with pytest.raises(LedgerMismatchError, match="old default"):
        run(config, _records(1))
    assert hubspot_sandbox.writes() == 0


def test_a_key_namespace_move_renames_keys_in_place_and_creates_nothing(
        hubspot_sandbox, target_config):
    hs = hubspot_sandbox
    text = messages(("business_partners", [customer(1), customer(2)]),
                    ("invoices", [invoice(1), invoice(2, card=2)]),
                    ("incoming_payments", [payment(1)]))
    run(cfg(target_config), text)  # no namespace yet
    before = {t: {o["id"] for o in hs.objects(t)} for t in
              ("companies", "invoices", "line_items", "commerce_payments", "contacts")}
    _target, states = run(cfg(target_config, key_namespace="SBO_US", migrate_key_namespace=True),
                          text + json.dumps({"type": "STATE", "value": {"b": 1}}) + "\n")
    assert states == [{"b": 1}]
    after = {t: {o["id"] for o in hs.objects(t)} for t in before}
    assert after == before  # same objects, nothing created
    assert set(by(hs, "companies", "sap_card_code")) == {"SBO_US:C00001", "SBO_US:C00002"}
    assert set(by(hs, "invoices", "sap_invoice_key")) == {"SBO_US:1", "SBO_US:2"}
    assert set(by(hs, "commerce_payments", "sap_payment_key")) == {"SBO_US:1-0"}
    assert all(k.startswith("SBO_US:") for k in by(hs, "line_items", "sap_line_key"))
    settled(hs)
    hs.clear_requests()
    run(cfg(target_config, key_namespace="SBO_US"), text)  # the setting is now the ledger's
    assert hs.writes() == 0
    with pytest.raises(LedgerMismatchError):
        run(cfg(target_config), text)  # and the old one is refused


def test_a_key_namespace_move_also_renames_the_doc_num_of_invoices_not_sent_again(
        hubspot_sandbox, target_config):
    """reconcile and users tell a company's invoices by the namespace of `sap_doc_num`: an
    invoice SAP never changes again must carry the new namespace after the move too."""
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1), invoice(2)])))
    run(cfg(target_config, key_namespace="SBO_US", migrate_key_namespace=True),
        messages(("business_partners", [customer(1)])))  # the invoices are not sent again
    assert set(by(hs, "invoices", "sap_doc_num")) == {"SBO_US:4001", "SBO_US:4002"}
    assert set(by(hs, "invoices", "sap_invoice_key")) == {"SBO_US:1", "SBO_US:2"}


def test_a_ledger_with_ids_is_not_used_when_hubspot_will_not_say_which_portal_it_is(
        hubspot_sandbox, target_config):
    """The portal check must not be skipped when the account-details read fails: the token
    may point at another portal, where this ledger's ids name unrelated objects."""
    run(cfg(target_config), _records(1))
    with HubSpotSandbox(token=TOKEN_B, portal_id=99990001) as other:
        other.add_fault("500", rate=1.0, path_contains="/account-info/")
        config = cfg(target_config, api_base_url=other.url, access_token=TOKEN_B, max_retries=1)
        with pytest.raises(LedgerMismatchError, match="which HubSpot portal") as caught:
            run(config, _records(1).replace("Customer 1 Ltd", "Customer 1 Ltd (renamed)"))
        assert "12345678" in str(caught.value) and TOKEN_B not in str(caught.value)
        assert other.writes() == 0


def test_a_new_ledger_still_writes_when_hubspot_will_not_say_which_portal_it_is(
        hubspot_sandbox, target_config):
    hubspot_sandbox.add_fault("500", rate=1.0, path_contains="/account-info/")
    _target, states = run(cfg(target_config, max_retries=1),
                          _records(1) + json.dumps({"type": "STATE", "value": {"b": 1}}) + "\n")
    assert states == [{"b": 1}]
    assert len(hubspot_sandbox.objects("invoices")) == 1


def test_a_key_namespace_move_keeps_the_portals_memos(hubspot_sandbox, target_config):
    """The per-portal memos (custom properties set up, invoice path, association type ids) are
    keyed by portal, not by SAP company: a move must not rename them (they would be lost)."""
    text = messages(("business_partners", [customer(1)]), ("invoices", [invoice(1)]),
                    ("incoming_payments", [payment(1)]))
    run(cfg(target_config), text)
    memos = {(r["object_type"], r["sap_key"]) for r in ledger_rows(target_config,
                                                                   "synced_objects")
             if r["object_type"].startswith("_")}
    assert any(t == "_capabilities" for t, _ in memos)
    run(cfg(target_config, key_namespace="SBO_US", migrate_key_namespace=True), text)
    after = {(r["object_type"], r["sap_key"]) for r in ledger_rows(target_config,
                                                                   "synced_objects")
             if r["object_type"].startswith("_")}
    assert memos <= after and not any(k.startswith("SBO_US:") for _, k in after)


def test_a_move_from_no_namespace_leaves_another_companys_objects_in_the_portal_alone(
        hubspot_sandbox, target_config):
    """Another SAP company writes to the same portal under `GB:` keys (with its own ledger):
    moving this ledger from no namespace to SBO_US must rename only this company's keys."""
    hs = hubspot_sandbox
    run(cfg(target_config), messages(("business_partners", [customer(1)]),
                                     ("invoices", [invoice(1)])))
    api = hs.client()
    for object_type, props in (("companies", {"sap_card_code": "GB:C00009", "name": "GB"}),
                               ("invoices", {"sap_invoice_key": "GB:9", "sap_doc_num": "GB:4009",
                                             "hs_currency": "GBP"}),
                               ("line_items", {"sap_line_key": "GB:9-0", "name": "x"})):
        answer = api.post(f"/crm/v3/objects/{object_type}", json={"properties": props})
        assert answer.status_code == 201, answer.text
    run(cfg(target_config, key_namespace="SBO_US", migrate_key_namespace=True),
        messages(("business_partners", [customer(1)])))
    assert set(by(hs, "companies", "sap_card_code")) == {"SBO_US:C00001", "GB:C00009"}
    assert set(by(hs, "invoices", "sap_invoice_key")) == {"SBO_US:1", "GB:9"}
    assert set(by(hs, "invoices", "sap_doc_num")) == {"SBO_US:4001", "GB:4009"}
    assert "GB:9-0" in by(hs, "line_items", "sap_line_key")


def _insert_as(table: str):
    """(insert the other process makes, what ours does, how to see ours landed) per table."""
    from datetime import UTC, datetime

    from target_hubspot_finance.ledger import (
        Failure,
        applications,
        dead_letter,
        pending_links,
        synced_links,
        synced_objects,
    )

    now = datetime.now(UTC)
    return {
        "synced_objects": (
            synced_objects.insert().values(object_type="companies", sap_key="C1",
                                           hubspot_id="1", content_hash="a", updated_at=now),
            lambda led: led.record_synced("companies", [("C1", "1", "b")]),
            lambda led: led.lookup("companies", ["C1"])["C1"].content_hash == "b"),
        "synced_links": (
            synced_links.insert().values(from_type="contacts", from_id="1",
                                         to_type="companies", to_id="2"),
            lambda led: led.record_links("contacts", "companies", [("1", "2")]),
            lambda led: led.known_links("contacts", "companies", [("1", "2")]) == {("1", "2")}),
        "dead_letter": (
            dead_letter.insert().values(stream="invoices", sap_key="7", record={}, error={},
                                        first_failed_at=now, last_failed_at=now, attempts=1),
            lambda led: led.record_failures([Failure("invoices", "7", "4007", {"a": 1}, "x")]),
            lambda led: True),
        "pending_links": (
            pending_links.insert().values(from_type="commerce_payments", from_id="5",
                                          to_type="invoices", to_sap_key="7", created_at=now),
            lambda led: led.add_pending("commerce_payments", "invoices", [("5", "7")]),
            lambda led: led.pending_for("invoices", ["7"]) == [("commerce_payments", "5", "7")]),
        "applications": (
            applications.insert().values(kind="payment", source_key="9-0", invoice_key="7",
                                         amount=1.0),
            lambda led: led.record_applications("payment", ["9"], [
                {"source_key": "9-0", "invoice_key": "7", "card_code": "C1", "doc_num": "9",
                 "amount": 2.0, "applied_on": "2026-01-01"}]),
            lambda led: led.application_totals("payment", "invoice_key", ["7"])["7"].amount
            == 2.0),
    }[table]


@pytest.mark.parametrize("table", ["synced_objects", "synced_links", "dead_letter",
                                   "pending_links", "applications"])
def test_two_processes_recording_one_key_at_once_on_postgresql_both_succeed(table):
    """A replay beside a scheduled run may record the same key in the same instant: on
    PostgreSQL the second insert met the first's uncommitted row and ended in IntegrityError
    (a traceback) instead of taking the other's row into account."""
    import threading
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: shared helpers
    from postgres_server import postgres_server

    from target_hubspot_finance.ledger import Ledger

    with postgres_server("ledger", prefix="r11a-pg-") as port:
        ledger = Ledger(f"postgresql+psycopg2://ledger@127.0.0.1:{port}/postgres")
        theirs, ours, landed = _insert_as(table)
        other = ledger.engine.connect()
        tx = other.begin()  # the other process: its row written, not committed yet
        other.execute(theirs)
        outcome: list = []

        def write() -> None:
            try:
                ours(ledger)
                outcome.append(None)
            except Exception as exc:  # the outcome is the assertion
                outcome.append(exc)

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(1.5)  # ours now waits on the other's uncommitted key
        tx.commit()
        other.close()
        thread.join(30)
        assert outcome == [None]
        assert landed(ledger)
        ledger.engine.dispose()
