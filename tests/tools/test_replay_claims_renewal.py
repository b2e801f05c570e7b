"""Replay claims that hold as long as the replay runs, and a claims table two replays may create
at the same moment on PostgreSQL (issue 13 item 4)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, inspect, text

from target_hubspot_finance.commands import claims, replay
from target_hubspot_finance.ledger import Failure, Ledger


def test_a_replay_longer_than_the_claim_ttl_keeps_its_records(tmp_path, monkeypatch):
    """While the target sends (here: longer than three TTLs), another replay cannot take the
    records; once the replay ends they are free again."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    book.record_failures([Failure("invoices", "17", "1017", {"DocEntry": 17}, {"m": "x"})])
    # TTL 3 s, a beat every 0.3 s: a heartbeat thread starved for 1 s on a busy machine must
    # not let the claim lapse (with TTL 1 s it did, and the test flaked)
    ttl = timedelta(seconds=3)
    monkeypatch.setattr(claims, "TTL", ttl)
    monkeypatch.setattr(replay, "HEARTBEAT", timedelta(seconds=0.3))
    taken_meanwhile: list = []

    def slow_target(config, messages):
        time.sleep(2 * ttl.total_seconds())  # a long replay: the claim would have expired
        taken_meanwhile.extend(claims.claim(book.engine, "second-replay", [("invoices", "17")],
                                            ttl=ttl))

    monkeypatch.setattr(replay, "run_through_target", slow_target)
    outcome = replay.replay({"ledger_url": url}, engine=book.engine)
    assert outcome.replayed == [("invoices", "17")]
    assert taken_meanwhile == []
    assert claims.claim(book.engine, "third-replay", [("invoices", "17")]) == [("invoices", "17")]


def test_a_killed_replay_still_frees_its_records_after_the_ttl(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    ttl = timedelta(seconds=1)
    assert claims.claim(engine, "killed", [("invoices", "5")], ttl=ttl) == [("invoices", "5")]
    # no heartbeat runs for "killed": its claim lapses
    deadline = time.monotonic() + 30
    while not claims.claim(engine, "next", [("invoices", "5")], ttl=ttl):
        assert time.monotonic() < deadline, "the claim never expired"
        time.sleep(0.2)


def test_replays_creating_the_claims_table_together_on_postgresql_all_go_on(postgres_url):
    """PostgreSQL answers the losers of a concurrent CREATE TABLE with a unique violation on its
    catalog: each replay must carry on with the table the winner made."""
    name = f"claims_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        for _ in range(3):  # a race: several rounds on a fresh table
            engine = create_engine(url, pool_size=8)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS replay_claims"))
            start = threading.Barrier(6)
            errors: list[BaseException] = []

            def create(engine=engine, start=start, errors=errors) -> None:
                try:
                    start.wait(timeout=30)
                    claims.ensure_table(engine)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=create) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert errors == []
            assert inspect(engine).has_table("replay_claims")
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
