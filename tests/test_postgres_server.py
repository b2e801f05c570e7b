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
