"""Fixtures for the operator-tool tests: a throwaway PostgreSQL server for the ledger."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tools_pipeline.py (the in-process tap → target runner) is imported by the tests of this folder;
# postgres_server.py (tests/) is the PostgreSQL helper shared with tests/e2e.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postgres_server import postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 and a random port, stopped at the end of the session
    (skips without the binaries on a developer machine, fails under CI)."""
    with postgres_server("ledger", prefix="ledger-pg-") as port:
        yield f"postgresql+psycopg2://ledger@127.0.0.1:{port}/postgres"
