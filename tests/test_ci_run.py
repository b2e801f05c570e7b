"""`.ci/run`, the CI entry point: what makes it fail (fake `make` and `id` on PATH)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fake_bin(tmp_path: Path, make_exit: int, uid: int = 0) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "make").write_text(f'#!/bin/sh\necho "make $* CI=$CI" > "{tmp_path}/made"\n'
                                 f"exit {make_exit}\n")
    (bindir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bindir / "apt-get").write_text("#!/bin/sh\nexit 100\n")  # never installs anything here
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    return bindir


def ci_run(tmp_path: Path, make_exit: int, with_postgres: bool, uid: int = 1000,
           client_only: bool = False):
    root = tmp_path / "pg"
    bindir = root / "16" / "bin"
    if with_postgres or client_only:
        bindir.mkdir(parents=True)
        (bindir / "psql").write_text("#!/bin/sh\n")
    if with_postgres:
        (bindir / "initdb").write_text("#!/bin/sh\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=f"{fake_bin(tmp_path, make_exit, uid)}:/usr/bin:/bin",
               PG_DEBIAN_ROOT=str(root))
    return subprocess.run(["bash", str(REPO / ".ci" / "run")], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_pytest_run_that_collects_nothing_fails_ci(tmp_path):
    result = ci_run(tmp_path, make_exit=5, with_postgres=True)
    assert result.returncode != 0
    assert (tmp_path / "made").read_text().split()[:2] == ["make", "test"]


def test_ci_runs_make_test_with_ci_set_so_a_postgresql_skip_fails(tmp_path):
    result = ci_run(tmp_path, make_exit=0, with_postgres=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "made").read_text().split() == ["make", "test", "CI=true"]


def test_ci_fails_when_postgresql_is_missing_and_cannot_be_installed(tmp_path):
    result = ci_run(tmp_path, make_exit=0, with_postgres=False, uid=1000)  # not root
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PostgreSQL server binaries (initdb, pg_ctl) are missing" in result.stderr
    assert not (tmp_path / "made").exists()  # the suite never ran without them


def test_a_client_only_postgresql_install_is_not_taken_for_the_server(tmp_path):
    """postgresql-client alone makes /usr/lib/postgresql/<v>/bin (psql, no initdb): CI must try
    to install the server, and fail before the suite when it cannot (not root here, so that the
    test never writes the real /etc)."""
    result = ci_run(tmp_path, make_exit=0, with_postgres=False, client_only=True, uid=1000)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PostgreSQL server binaries (initdb, pg_ctl) are missing" in result.stderr
    assert not (tmp_path / "made").exists()
