"""A SQLite ledger another process holds longer than `ledger_lock_timeout` (the shared rate
limit's slots live in it too) stops the run with one line naming the file and the setting,
exit 1, no STATE and no HubSpot write: never SQLite's bare "database is locked" traceback."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import cfg, ledger_rows, settled

from target_hubspot_finance.ledger import LedgerLockedError
from target_hubspot_finance.target import TargetHubSpotFinance

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def held(path: str, how: str) -> Iterator[None]:
    """Another process's transaction on the ledger file (IMMEDIATE: no other writer;
    EXCLUSIVE: no other reader either)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    try:
        conn.execute(f"BEGIN {how}")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _ledger_file(config: dict) -> str:
    return str(make_url(config["ledger_url"]).database)


def test_the_rate_limit_claim_on_a_held_ledger_stops_with_the_locked_file_named(
        hubspot_sandbox, target_config):
    config = cfg(target_config, ledger_lock_timeout=0.3)
    run(config, messages(("business_partners", [customer(1)])))  # ledger, slots, memo made
    out, error = io.StringIO(), None
    with held(_ledger_file(config), "IMMEDIATE"), contextlib.redirect_stdout(out):
        try:
            TargetHubSpotFinance(config=config).listen(io.StringIO(messages(
                ("business_partners", [customer(1, Phone2="+1 555-0199")]), state={"b": 1})))
        except Exception as exc:  # the test inspects what stopped the run
            error = exc
    assert isinstance(error, LedgerLockedError)
    assert "rate_limit_slots" in str(error.statement)  # the shared limiter's claim met it
    line = str(error)
    assert "\n" not in line and _ledger_file(config) in line
    assert "another process" in line and "ledger_lock_timeout (0.3 s)" in line
    assert out.getvalue() == ""  # no STATE for the unconfirmed record


def test_cli_on_a_held_ledger_is_one_line_exit_1_no_state_no_write(
        hubspot_sandbox, target_config, tmp_path):
    hs = hubspot_sandbox
    settings = cfg(target_config, ledger_lock_timeout=0.3)
    run(settings, messages(("business_partners", [customer(1)])))
    writes = (settled(hs), hs.writes())
    config = tmp_path / "config.json"
    config.write_text(json.dumps(settings))
    data = tmp_path / "in.jsonl"
    data.write_text(messages(("business_partners", [customer(1, Phone2="+1 555-0199")]),
                             state={"b": 1}))
    for how in ("IMMEDIATE", "EXCLUSIVE"):  # EXCLUSIVE: even the ledger's first read waits
        with held(_ledger_file(settings), how):
            done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config",
                                   str(config), "--input", str(data)], capture_output=True,
                                  text=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr[-2000:]
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        stopped = [x for x in done.stderr.splitlines() if "stopped" in x]
        assert len(stopped) == 1, done.stderr[-2000:]
        assert _ledger_file(settings) in stopped[0] and "ledger_lock_timeout" in stopped[0]
        assert (settled(hs), hs.writes())[1] == writes[1]  # nothing written to HubSpot


def test_a_replay_on_a_held_ledger_stops_with_one_line_naming_the_file_and_setting(
        hubspot_sandbox, target_config, tmp_path):
    from click.testing import CliRunner

    from target_hubspot_finance.commands.replay import main as replay_main

    settings = cfg(target_config, ledger_lock_timeout=0.3, auto_create_companies=False)
    run(settings, messages(("invoices", [invoice(1)])))  # no customer: dead-lettered
    assert ledger_rows(settings, "dead_letter")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(settings))
    with held(_ledger_file(settings), "IMMEDIATE"):
        done = CliRunner().invoke(replay_main, ["--config", str(config), "run"])
    assert done.exit_code == 1
    assert done.exception is None or isinstance(done.exception, SystemExit)
    lines = [x for x in done.output.splitlines() if x.strip()]
    assert len(lines) == 1, done.output
    assert _ledger_file(settings) in lines[0] and "ledger_lock_timeout (0.3 s)" in lines[0]
    assert len(ledger_rows(settings, "dead_letter")) == 1  # nothing half-written


def test_cli_names_the_fix_whole_for_a_ledger_in_a_deep_project_folder(
        hubspot_sandbox, target_config, tmp_path):
    """A project folder a little deeper than pytest's (e.g. /home/deploy/pipelines/<project>/
    .meltano/target-hubspot-finance/ledger.db) must not cut the line before the fix."""
    deep = tmp_path / "pipelines" / "sap-business-one-to-hubspot-finance" / ".meltano" / \
        "target-hubspot-finance"
    deep.mkdir(parents=True)
    settings = cfg(target_config, ledger_lock_timeout=0.3,
                   ledger_url=f"sqlite:///{deep / 'ledger.db'}")
    run(settings, messages(("business_partners", [customer(1)])))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(settings))
    data = tmp_path / "in.jsonl"
    data.write_text(messages(("business_partners", [customer(1, Phone2="+1 555-0199")]),
                             state={"b": 1}))
    with held(_ledger_file(settings), "IMMEDIATE"):
        done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                               "--input", str(data)], capture_output=True, text=True,
                              timeout=120, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    stopped = [x for x in done.stderr.splitlines() if "stopped" in x]
    assert len(stopped) == 1, done.stderr[-2000:]
    assert _ledger_file(settings) in stopped[0]
    assert "raise ledger_lock_timeout" in stopped[0] and "…" not in stopped[0], stopped[0]


def _counts(hs) -> dict[str, tuple[int, int]]:
    """Objects per type and distinct SAP keys among them (a duplicate makes them differ)."""
    keys = {"invoices": "sap_invoice_key", "line_items": "sap_line_key",
            "commerce_payments": "sap_payment_key", "companies": "sap_card_code"}
    return {t: (len(hs.objects(t)), len({o["properties"].get(k) for o in hs.objects(t)}))
            for t, k in keys.items()}


def test_a_ledger_locked_between_hubspot_writes_and_their_ledger_rows_reruns_without_duplicates(
        hubspot_sandbox, target_config):
    """The lock may come mid-drain: HubSpot created the invoices, the ledger cannot record
    them. The run stops (LedgerLockedError, no STATE); the rerun finds every object by its
    unique SAP key (invoices' create conflict, line items and payments upserts), so nothing
    is duplicated, and a third run writes nothing."""
    hs = hubspot_sandbox
    config = cfg(target_config, ledger_lock_timeout=0.3)
    run(config, messages(("business_partners", [customer(1)])))  # the ledger exists
    text = messages(("invoices", [invoice(n) for n in range(1, 6)]),
                    ("incoming_payments", [payment(n, applies=[(n, 220.0)])
                                           for n in range(1, 6)]), state={"b": 1})
    holder: list[sqlite3.Connection] = []

    def lock_after_invoices(_sb, record) -> None:
        if "/objects/invoices/batch/create" in record.path and not holder:
            conn = sqlite3.connect(_ledger_file(config), isolation_level=None, timeout=5,
                                   check_same_thread=False)  # released by the test's thread
            conn.execute("BEGIN IMMEDIATE")
            holder.append(conn)

    hs.on_request(lock_after_invoices)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            TargetHubSpotFinance(config=config).listen(io.StringIO(text))
        error = None
    except Exception as exc:  # the test inspects what stopped the run
        error = exc
    finally:
        for conn in holder:
            conn.execute("ROLLBACK")
            conn.close()
    assert isinstance(error, LedgerLockedError) and holder
    assert out.getvalue() == ""  # no STATE
    half = _counts(hs)
    assert half["invoices"] == (5, 5)  # HubSpot has them; the ledger does not
    assert not [r for r in ledger_rows(config, "synced_objects") if r["object_type"] == "invoices"]
    _target, states = run(config, text)
    assert states == [{"b": 1}]
    counts = _counts(hs)
    assert all(n == keys for n, keys in counts.values()), counts  # no key twice
    assert (counts["invoices"], counts["commerce_payments"]) == ((5, 5), (5, 5))
    assert counts["line_items"] == (15, 15)  # 2 lines and the tax line each
    writes = (settled(hs), hs.writes())[1]
    run(config, text)
    assert (settled(hs), hs.writes())[1] == writes


@pytest.mark.parametrize("value", [0, -1, "0", "-2.5"])
def test_the_operator_tools_refuse_a_lock_timeout_not_above_zero_in_one_line(
        hubspot_sandbox, target_config, tmp_path, value):
    """The target refuses ledger_lock_timeout <= 0 (its schema); the operator tools read the
    same setting and must too, not wait 30 s for a 0 or fail at once for a -1."""
    from click.testing import CliRunner

    from target_hubspot_finance.commands.replay import main as replay_main

    settings = cfg(target_config, auto_create_companies=False)
    run(settings, messages(("invoices", [invoice(1)])))  # a ledger with a dead-letter row
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**settings, "ledger_lock_timeout": value}))
    done = CliRunner().invoke(replay_main, ["--config", str(config), "list"])
    assert done.exit_code == 1, done.output
    lines = [x for x in done.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "ledger_lock_timeout" in lines[0], done.output


def test_a_tool_on_an_exclusively_held_ledger_names_the_setting_to_raise(
        hubspot_sandbox, target_config, tmp_path):
    """EXCLUSIVE: even the tool's first look at the ledger's tables waits, then one line."""
    from click.testing import CliRunner

    from target_hubspot_finance.commands.replay import main as replay_main

    settings = cfg(target_config, ledger_lock_timeout=0.3, auto_create_companies=False)
    run(settings, messages(("invoices", [invoice(1)])))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(settings))
    with held(_ledger_file(settings), "EXCLUSIVE"):
        done = CliRunner().invoke(replay_main, ["--config", str(config), "list"])
    assert done.exit_code == 1
    lines = [x for x in done.output.splitlines() if x.strip()]
    assert len(lines) == 1, done.output
    assert _ledger_file(settings) in lines[0] and "ledger_lock_timeout (0.3 s)" in lines[0]


def test_other_sqlite_failures_keep_their_own_message(tmp_path):
    """Only "database is locked" becomes the lock line: a missing table or a file that is no
    database says what it is (the lock line would send the operator after another process)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from target_hubspot_finance.ledger import ledger_engine

    engine = ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}", 0.3)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, " * 100)
    for eng, query, said in ((engine, "select * from nope", "no such table"),
                             (ledger_engine(f"sqlite:///{junk}", 0.3), "select 1 from x",
                              "not a database")):
        with pytest.raises(DBAPIError) as caught, eng.connect() as conn:
            conn.execute(text(query))
        assert not isinstance(caught.value, LedgerLockedError)
        assert said in str(caught.value)
