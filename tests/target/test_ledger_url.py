"""`ledger_url` pointing at a SQLite file in a folder that does not exist yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from target_hubspot_finance.ledger import Ledger, ledger_engine


def test_a_sqlite_ledger_in_a_missing_folder_creates_the_folder_and_works(tmp_path: Path):
    path = tmp_path / "state" / "nested" / "ledger.db"
    ledger = Ledger(f"sqlite:///{path}")
    ledger.record_synced("companies", [("C1", "101", "h")])
    assert path.is_file()
    assert Ledger(f"sqlite:///{path}").lookup("companies", ["C1"])["C1"].hubspot_id == "101"


def test_a_relative_sqlite_path_gets_its_folder_under_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    Ledger("sqlite:///.state/ledger.db")
    assert (tmp_path / ".state" / "ledger.db").is_file()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_urls_create_no_folder(url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    ledger_engine(url).dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_server_database_url_touches_no_local_folder(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    import psycopg2  # noqa: F401  (pinned in requirements-dev.txt: a broken install fails)

    monkeypatch.chdir(tmp_path)
    ledger_engine("postgresql://u@127.0.0.1:9/some/db").dispose()  # engines connect lazily
    assert list(tmp_path.iterdir()) == []
