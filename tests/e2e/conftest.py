"""Fixtures for the end-to-end tests: a fresh copy of the Meltano project, installed once per
session, run with `meltano` against the two sandboxes; and a throwaway PostgreSQL server.

Each test gets its own Meltano system database (so its own state), its own target ledger and the
fresh sandboxes of tests/conftest.py; only the plugin virtualenvs (.meltano/) are shared, because
`meltano install` is the slow part.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))  # postgres_server.py, shared with tests/tools
from postgres_server import postgres_server as start_postgres  # noqa: E402

BIN = Path(sys.executable).parent
PROJECT_PATHS = ("meltano.yml", "transforms", "tap-sapb1", "target-hubspot-finance")
PLUGINS = ("tap-sapb1", "target-hubspot-finance", "meltano-map-transform", "target-jsonl")
STATE_ID = "sandbox:tap-sapb1-to-target-hubspot-finance"
SAP_PASSWORD = "S3cr3t-B1-passw0rd!"  # the fixed test secrets of docs/CONTRACTS.md
HUBSPOT_TOKEN = "pat-sandbox-0000-test-token-do-not-log"
# Variables from the developer's shell that would change what meltano or the plugins do.
LEAKY_PREFIXES = ("MELTANO_", "TAP_SAPB1", "TARGET_HUBSPOT_FINANCE", "TARGET_JSONL",
                  "SAPB1_", "HUBSPOT_FINANCE_")


def clean_env(project: Path, database_uri: str) -> dict[str, str]:
    """The environment for `meltano` in `project`: this venv first on PATH, nothing inherited
    that configures meltano or the plugins, the system database (and so the state) given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "MELTANO_PROJECT_ROOT": str(project),
        "MELTANO_DATABASE_URI": database_uri,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
    })
    return env


@pytest.fixture(scope="session")
def installed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files copied to a fresh directory, with the plugins installed there."""
    root = tmp_path_factory.mktemp("meltano-project")
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "dist", ".meltano")
    for name in PROJECT_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    env = clean_env(root, f"sqlite:///{root / 'install.db'}")
    result = subprocess.run([str(BIN / "meltano"), "install", *PLUGINS], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"meltano install failed:\n{result.stderr[-4000:]}"
    return root


@dataclass
class MeltanoProject:
    """One test's view of the installed project: its env, its state, its ledger."""

    root: Path
    env: dict[str, str]
    ledger_url: str
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str, check: bool = True, timeout: float = 300,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`meltano ARGS` in the project; every output is kept for the no-secret checks."""
        env = {**self.env, **(extra_env or {})}
        result = subprocess.run([str(BIN / "meltano"), *args], cwd=self.root, env=env,
                                capture_output=True, text=True, timeout=timeout)
        self.outputs += [result.stdout, result.stderr]
        if check and result.returncode != 0:
            pytest.fail(f"`meltano {' '.join(args)}` exited {result.returncode}:\n"
                        f"{result.stderr[-15000:]}")
        return result

    def state(self, state_id: str = STATE_ID) -> dict:
        """The state Meltano holds for `state_id` (`meltano state get`)."""
        return json.loads(self.run("state", "get", state_id).stdout)

    def bookmarks(self, state_id: str = STATE_ID) -> dict[str, object]:
        """stream -> replication_key_value of the Singer state Meltano holds."""
        state = self.state(state_id)
        marks = state.get("singer_state", state).get("bookmarks", {})
        return {stream: (b.get("replication_key_value") if isinstance(b, dict) else b)
                for stream, b in marks.items()}

    def assert_no_secret(self, sap_sandbox: object = None) -> None:
        """No output of this test's meltano commands holds a test secret or an SAP session id."""
        secrets = {SAP_PASSWORD, HUBSPOT_TOKEN}
        if sap_sandbox is not None:
            secrets |= {r.session_id for r in sap_sandbox.requests if r.session_id}
        for output in self.outputs:
            for secret in secrets:
                assert secret not in output, "a secret reached meltano's output"

    def ledger_events(self) -> dict[tuple[str, str], int]:
        """(stream, action) -> sync events recorded so far by the target."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.ledger_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT stream, action, COUNT(*) FROM sync_events GROUP BY stream, action"))
                return {(s, a): n for s, a, n in rows}
        finally:
            engine.dispose()


@pytest.fixture
def meltano_project(installed_project: Path, sap_sandbox, hubspot_sandbox,
                    tmp_path: Path) -> MeltanoProject:
    """The installed project pointed at this test's sandboxes, with fresh state and ledger."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = clean_env(installed_project, f"sqlite:///{tmp_path / 'meltano.db'}")
    env.update({
        "MELTANO_ENVIRONMENT": "sandbox",
        "TAP_SAPB1_SERVICE_LAYER_URL": sap_sandbox.url,
        "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hubspot_sandbox.url,
        "TARGET_HUBSPOT_FINANCE_LEDGER_URL": ledger_url,
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
    })
    (tmp_path / "jsonl").mkdir()
    return MeltanoProject(root=installed_project, env=env, ledger_url=ledger_url)


@pytest.fixture
def bare_project(installed_project: Path, tmp_path: Path) -> MeltanoProject:
    """The installed project with fresh state and ledger, no sandboxes (meltano-only tests)."""
    env = clean_env(installed_project, f"sqlite:///{tmp_path / 'meltano.db'}")
    env["MELTANO_ENVIRONMENT"] = "sandbox"
    return MeltanoProject(root=installed_project, env=env,
                          ledger_url=f"sqlite:///{tmp_path / 'ledger.db'}")


# --- PostgreSQL -------------------------------------------------------------------------------

@dataclass
class PostgresServer:
    """A running throwaway server: `url(db)` gives a psycopg2 SQLAlchemy URL for a database."""

    port: int
    user: str = "e2e"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user,
                                dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def query(self, database: str, sql: str) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user,
                                dbname=database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 and a random port for the session (tests/
    postgres_server.py: skips without the binaries on a developer machine, fails under CI)."""
    with start_postgres("e2e", prefix="e2e-pg-") as port:
        yield PostgresServer(port=port)
