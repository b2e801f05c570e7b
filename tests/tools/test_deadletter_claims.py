"""Dead-letter listing from the ledger, and replay row claims that keep two replays apart."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, create_engine, text

from target_hubspot_finance.commands import claims, deadletter
from target_hubspot_finance.commands.replay import main as replay_main
from target_hubspot_finance.ledger import Failure, Ledger, ledger_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "target"))
from target_factory import customer

TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def contract_dead_letter(engine) -> Table:
    """The dead_letter table as docs/CONTRACTS.md fixes its columns."""
    md = MetaData()
    dl = Table("dead_letter", md, Column("stream", String), Column("sap_key", String),
               Column("doc_num", String), Column("record", JSON), Column("error", JSON),
               Column("first_failed_at", DateTime), Column("last_failed_at", DateTime),
               Column("attempts", Integer))
    md.create_all(engine)
    return dl


@pytest.fixture
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield eng
    eng.dispose()


def fill(engine, dl: Table) -> None:
    t0 = datetime(2024, 3, 5, 10, 0, 0)
    batch_error = {"status": "error", "category": "VALIDATION_ERROR",
                   "message": "Property values were not valid: [{\"isValid\":false,"
                              "\"message\":\"x was not one of the allowed options\"}]"}
    with engine.begin() as conn:
        conn.execute(dl.insert(), [
            {"stream": "invoices", "sap_key": "17", "doc_num": "1017", "record": {"DocEntry": 17},
             "error": batch_error, "first_failed_at": t0, "last_failed_at": t0 + timedelta(1),
             "attempts": 3},
            {"stream": "business_partners", "sap_key": "C00002", "doc_num": None,
             "record": {"CardCode": "C00002"},
             "error": [{"category": "VALIDATION_ERROR", "message": "bad email",
                        "context": {"objectWriteTraceId": ["C00002"]}}],
             "first_failed_at": t0 - timedelta(1), "last_failed_at": t0, "attempts": 1},
        ])


def test_listing_shows_each_failed_record_oldest_first_with_hubspot_error(engine):
    fill(engine, contract_dead_letter(engine))
    items = deadletter.entries(engine)
    assert [e.key for e in items] == [("business_partners", "C00002"), ("invoices", "17")]
    lines = deadletter.render(items)
    assert lines[0].split() == ["stream", "sap_key", "doc_num", "attempts", "first_failed",
                                "last_failed", "error"]
    assert "1017" in lines[2] and "VALIDATION_ERROR: Property values were not valid" in lines[2]
    assert "2024-03-05 10:00:00" in lines[2] and "2024-03-06 10:00:00" in lines[2]
    assert "VALIDATION_ERROR: bad email" in lines[1]


def test_listing_narrows_by_stream_and_by_key_or_document_number(engine):
    fill(engine, contract_dead_letter(engine))
    assert [e.sap_key for e in deadletter.entries(engine, streams=["invoices"])] == ["17"]
    assert [e.sap_key for e in deadletter.entries(engine, keys=["1017"])] == ["17"]
    assert [e.sap_key for e in deadletter.entries(engine, keys=["C00002"])] == ["C00002"]
    assert deadletter.entries(engine, keys=["nope"]) == []


def test_listing_a_ledger_without_dead_letter_is_empty(engine):
    assert deadletter.entries(engine) == []


def test_error_summary_is_one_line_from_any_hubspot_error_shape():
    assert deadletter.error_summary({"category": "X", "message": "a\n  b"}) == "X: a b"
    assert deadletter.error_summary([{"category": "Y", "message": "m"}]) == "Y: m"
    assert deadletter.error_summary({"error": {"category": "Z", "message": "n"}}) == "Z: n"
    assert deadletter.error_summary("timeout after 3 retries") == "timeout after 3 retries"
    long = {"category": "VALIDATION_ERROR", "message": "y" * 500}
    assert len(deadletter.error_summary(long)) == 140


def test_a_claimed_key_cannot_be_claimed_by_a_second_replay(engine):
    keys = [("invoices", str(i)) for i in range(5)]
    first = claims.claim(engine, "a", keys[:3])
    second = claims.claim(engine, "b", keys)
    assert first == keys[:3]
    assert second == keys[3:]
    claims.release(engine, "a")
    assert claims.claim(engine, "b", keys[:3]) == keys[:3]


def test_an_expired_claim_is_taken_over(engine):
    keys = [("invoices", "1")]
    assert claims.claim(engine, "crashed", keys, ttl=timedelta(seconds=-1)) == keys
    assert claims.claim(engine, "next", keys) == keys
    assert claims.claim(engine, "third", keys) == []


def three_at_once(work) -> dict[str, object]:
    """Run `work(name)` in three threads released together; name -> its result.

    Fails unless every replayer finished, with no exception: one survivor doing all the work
    (the others crashed on a locked database) is not a pass.
    """
    barrier = threading.Barrier(3)
    results: dict[str, object] = {}
    errors: dict[str, BaseException] = {}

    def replayer(name: str) -> None:
        try:
            barrier.wait(60)
            results[name] = work(name)
        except BaseException as exc:  # collected for the assertion below
            errors[name] = exc

    threads = [threading.Thread(target=replayer, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not [t.name for t in threads if t.is_alive()], "a replayer never finished"
    assert errors == {}, f"replayers crashed: {errors!r}"
    assert sorted(results) == ["a", "b", "c"]
    return results


def claims_of_three_concurrent_replayers(url: str) -> tuple[list, list]:
    """60 keys claimed at once by three replayers, each on its own engine: (keys, all claimed)."""
    keys = [("invoices", str(i)) for i in range(60)]
    claims.ensure_table(ledger_engine(url))

    def claim_all(name: str) -> list:
        eng = ledger_engine(url)  # SQLite: waits up to 30 s for the other writers
        try:
            return claims.claim(eng, name, keys)
        finally:
            eng.dispose()

    results = three_at_once(claim_all)
    return keys, [k for held in results.values() for k in held]


def test_concurrent_claims_on_sqlite_split_the_keys_without_overlap(tmp_path):
    keys, got = claims_of_three_concurrent_replayers(f"sqlite:///{tmp_path / 'shared.db'}")
    assert sorted(got) == sorted(keys)  # every key claimed exactly once


@pytest.mark.postgres
def test_concurrent_claims_on_postgresql_split_the_keys_without_overlap(postgres_url):
    keys, got = claims_of_three_concurrent_replayers(postgres_url)
    assert sorted(got) == sorted(keys)


def upserted_card_codes(hs) -> list[str]:
    """sap_card_code of every company input HubSpot received in batch upserts (repeats kept)."""
    return [i["id"] for r in hs.requests if r.method == "POST" and
            "companies/batch/upsert" in r.path and isinstance(r.body, dict)
            for i in r.body.get("inputs", [])]


def replay_exit_code(args: list[str]) -> int:
    """`target-hubspot-finance-replay ARGS` in this thread; its exit code (0 = clean)."""
    try:
        replay_main.main(args, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.ClickException as exc:
        raise AssertionError(f"replay failed: {exc.format_message()}") from None
    return 0


def three_concurrent_replays(hs, ledger_url: str, tmp_path) -> None:
    """40 dead-lettered customers replayed by three replays at once: each exits 0, and HubSpot
    receives each customer exactly once."""
    customers = [customer(n) for n in range(1, 41)]
    Ledger(ledger_url).record_failures([
        Failure("business_partners", c["CardCode"], None, c,
                {"category": "RATE_LIMITS", "message": "gave up after retries"})
        for c in customers])
    config = tmp_path / "replay.json"
    config.write_text(json.dumps({"access_token": TOKEN, "api_base_url": hs.url,
                                  "ledger_url": ledger_url}))
    codes = three_at_once(lambda _: replay_exit_code(["--config", str(config), "run"]))
    assert codes == {"a": 0, "b": 0, "c": 0}
    sent = upserted_card_codes(hs)
    assert sorted(sent) == sorted(c["CardCode"] for c in customers)  # each exactly once
    assert deadletter.entries(create_engine(ledger_url)) == []


def test_three_concurrent_replays_on_sqlite_each_exit_0_and_send_each_record_once(
        hubspot_sandbox, tmp_path):
    three_concurrent_replays(hubspot_sandbox, f"sqlite:///{tmp_path / 'shared.db'}", tmp_path)


@pytest.mark.postgres
def test_three_concurrent_replays_on_postgresql_each_exit_0_and_send_each_record_once(
        postgres_url, hubspot_sandbox, tmp_path):
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"replay_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    three_concurrent_replays(hubspot_sandbox, postgres_url.rsplit("/", 1)[0] + f"/{name}",
                             tmp_path)


def test_replay_list_command_prints_the_table_and_a_count(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    eng = create_engine(url)
    fill(eng, contract_dead_letter(eng))
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"ledger_url": url}))
    result = CliRunner().invoke(replay_main,
                                ["--config", str(config), "list", "--stream", "invoices"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("stream") and "1017" in lines[1]
    assert lines[-1] == "1 record(s) in the dead-letter"
    empty = CliRunner().invoke(replay_main, ["--config", str(config), "list", "--key", "none"])
    assert empty.output.strip() == "dead-letter is empty"


def test_two_replays_creating_the_claims_table_at_once_both_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    errors: list[Exception] = []

    def create() -> None:
        try:
            claims.ensure_table(create_engine(url, connect_args={"timeout": 30}))
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
