"""Replays that overlap in time: a record another replay sent (and saw fail again) between this
replay's first read and its claim is not sent a second time."""

from __future__ import annotations

from target_hubspot_finance.commands import claims, replay
from target_hubspot_finance.ledger import Failure, Ledger


def test_a_record_another_replay_sent_before_this_one_claimed_it_is_not_sent_again(
        tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    row = Failure("invoices", "17", "1017", {"DocEntry": 17}, {"message": "refused"})
    book.record_failures([row, Failure("invoices", "18", "1018", {"DocEntry": 18}, {"m": "x"})])
    real_claim = claims.claim

    def claim_after_another_replay(engine, owner, keys, ttl=claims.TTL):
        # the other replay claimed 17, sent it, saw it fail again and released it, all between
        # this replay's read of the dead-letter and its claim
        book.record_failures([row])
        return real_claim(engine, owner, keys, ttl)

    sent: list[str] = []
    monkeypatch.setattr(claims, "claim", claim_after_another_replay)
    monkeypatch.setattr(replay, "run_through_target",
                        lambda config, messages: sent.append(messages))
    outcome = replay.replay({"ledger_url": url}, engine=book.engine)
    assert '"DocEntry": 17' not in "".join(sent)
    assert '"DocEntry": 18' in "".join(sent)
    assert ("invoices", "17") in outcome.skipped_claimed
    assert outcome.replayed == [("invoices", "18")]
    assert [k for _, k in claims_left(book)] == []  # released


def claims_left(book: Ledger) -> list[tuple[str, str]]:
    from sqlalchemy import select

    with book.engine.connect() as conn:
        return [(r.stream, r.sap_key) for r in conn.execute(select(claims.replay_claims))]


def test_claims_taken_before_the_ledger_failed_mid_claim_are_released(tmp_path, monkeypatch):
    """The ledger fails while a replay is still claiming: what it already claimed is released,
    so the next replay does not wait 30 minutes for the claims to expire."""
    import pytest
    from sqlalchemy.exc import OperationalError

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    book.record_failures([Failure("invoices", str(n), str(1000 + n), {"DocEntry": n}, {"m": "x"})
                          for n in (17, 18)])
    real_claim = claims.claim

    def claim_then_fail(engine, owner, keys, ttl=claims.TTL):
        real_claim(engine, owner, list(keys)[:1], ttl)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(claims, "claim", claim_then_fail)
    monkeypatch.setattr(replay, "run_through_target", lambda config, messages: None)
    with pytest.raises(OperationalError):
        replay.replay({"ledger_url": url}, engine=book.engine)
    assert claims_left(book) == []


def test_a_dry_run_replay_changes_no_row_and_reports_no_failure(tmp_path, monkeypatch):
    """With dry_run (a `dryrun` Meltano environment) the target writes nothing and keeps its
    ledger in memory: the replay must not call the untouched rows 'still failing' (exit 1), nor
    drop stale rows from the real dead-letter."""
    import json

    from click.testing import CliRunner

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    book.record_failures([Failure("invoices", str(n), str(1000 + n), {"DocEntry": n}, {"m": "x"})
                          for n in (17, 18)])
    sent: list[str] = []
    monkeypatch.setattr(replay, "run_through_target",
                        lambda config, messages: sent.append(messages))
    monkeypatch.setattr(replay, "_superseded", lambda engine, entry: entry.sap_key == "17")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"ledger_url": url, "dry_run": True}))
    done = CliRunner().invoke(replay.main, ["--config", str(config), "run"])
    assert done.exit_code == 0, done.output
    assert "dry run" in done.output and "still failing" not in done.output
    assert len(sent) == 1 and '"DocEntry": 18' in sent[0]  # rehearsed through the target
    assert '"DocEntry": 17' not in sent[0]  # stale: would be dropped, and is kept
    from target_hubspot_finance.commands import deadletter

    assert sorted((e.sap_key, e.attempts) for e in deadletter.entries(book.engine)) == [
        ("17", 1), ("18", 1)]


def test_replaying_a_key_that_is_not_in_the_dead_letter_says_so_and_fails(tmp_path):
    """`run --key 1071` for a typo of 1017: '0 succeeded, 0 still failing' with exit 0 read as
    done; the key the operator asked for matched nothing, so it is one line and exit 1."""
    import json

    from click.testing import CliRunner

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url).record_failures([Failure("invoices", "17", "1017", {"DocEntry": 17}, {"m": "x"})])
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"ledger_url": url}))
    done = CliRunner().invoke(replay.main, ["--config", str(config), "run", "--key", "1071"])
    assert done.exit_code == 1
    assert "no dead-letter record matches --key 1071" in done.output
