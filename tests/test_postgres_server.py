"""The PostgreSQL helper both production-shape conftests use (tests/postgres_server.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from postgres_server import binaries_or_skip, pg_binary


def fake_debian(root: Path, versions: list[str]) -> None:
    for v in versions:
        bindir = root / v / "bin"
        bindir.mkdir(parents=True)
        for name in ("initdb", "pg_ctl"):
            (bindir / name).write_text("#!/bin/sh\n")
            (bindir / name).chmod(0o755)


def test_binaries_off_path_are_found_in_debians_newest_version_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    fake_debian(tmp_path / "pg", ["9.6", "15", "16"])
    assert pg_binary("initdb", tmp_path / "pg") == str(tmp_path / "pg" / "16" / "bin" / "initdb")
    assert pg_binary("pg_ctl", tmp_path / "nothing") is None


def test_binaries_on_path_come_first(tmp_path, monkeypatch):
    fake_debian(tmp_path / "pg", ["16"])
    fake_debian(tmp_path / "mine", ["x"])
    monkeypatch.setenv("PATH", str(tmp_path / "mine" / "x" / "bin"))
    assert pg_binary("pg_ctl", tmp_path / "pg") == str(tmp_path / "mine" / "x" / "bin" / "pg_ctl")


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                              ("1", pytest.fail.Exception),
                                              ("", pytest.skip.Exception),
                                              ("false", pytest.skip.Exception)])
def test_missing_binaries_fail_under_ci_and_skip_elsewhere(tmp_path, monkeypatch, ci, outcome):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr("postgres_server.DEBIAN_ROOT", tmp_path / "none")
    with pytest.raises(outcome):
        binaries_or_skip()


def test_a_failing_initdb_fails_with_what_it_said_and_leaves_no_temp_dir(tmp_path, monkeypatch):
    """A CalledProcessError hid initdb's own message (captured output); the temp dir leaked."""
    import postgres_server

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "initdb").write_text("#!/bin/sh\necho 'initdb: cannot be run as root' >&2\n"
                                   "exit 1\n")
    (bindir / "pg_ctl").write_text("#!/bin/sh\nexit 0\n")
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    monkeypatch.setattr(postgres_server.os, "geteuid", lambda: 1000)  # no runuser
    monkeypatch.setattr(postgres_server.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with (pytest.raises(pytest.fail.Exception, match=r"initdb failed .*cannot be run as root"),
          postgres_server.postgres_server("u")):
        pass
    assert list((tmp_path / "tmp").iterdir()) == []


def test_as_root_without_the_postgres_user_fails_clearly(monkeypatch):
    import postgres_server

    monkeypatch.setattr(postgres_server.os, "geteuid", lambda: 0)
    monkeypatch.setattr(postgres_server.pwd, "getpwnam", lambda name: (_ for _ in ()).throw(
        KeyError(name)))
    with pytest.raises(pytest.fail.Exception, match="`postgres` user"):
        postgres_server._as_postgres(["initdb"])


def test_a_port_taken_before_postgresql_binds_it_is_replaced_by_another(monkeypatch):
    """The port is free when picked, then idle for the seconds initdb takes: another process
    may bind it first. pg_ctl then failed ("could not start server") and so did the test."""
    import socket

    import postgres_server
    import psycopg2

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = iter([taken.getsockname()[1]])
    free = postgres_server._free_port
    monkeypatch.setattr(postgres_server, "_free_port", lambda: next(ports, None) or free())
    try:
        with postgres_server.postgres_server("ledger", prefix="taken-port-pg-") as port:
            assert port != taken.getsockname()[1]
            psycopg2.connect(host="127.0.0.1", port=port, user="ledger", dbname="postgres").close()
    finally:
        taken.close()
