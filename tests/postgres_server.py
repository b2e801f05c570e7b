"""A throwaway PostgreSQL server for the production-shape tests (tests/e2e, tests/tools).

One place finds the server binaries (PATH, then Debian's /usr/lib/postgresql/<version>/bin,
newest version first) and starts a server: initdb into a temp dir, trust auth, 127.0.0.1 and a
random port, stopped and deleted at the end. Without the binaries a test skips on a developer's
machine but FAILS under CI (`CI` set, as .ci/run and every CI service set it): a green CI run
must include the PostgreSQL tests.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEBIAN_ROOT = Path("/usr/lib/postgresql")


def _version(bindir: Path) -> tuple[int, ...]:
    name = bindir.parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def pg_binary(name: str, debian_root: Path | None = None) -> str | None:
    """A PostgreSQL server binary from PATH, else from the newest of Debian's versioned dirs."""
    found = shutil.which(name)
    if found:
        return found
    root = debian_root or DEBIAN_ROOT
    bindirs = sorted((p.parent for p in root.glob(f"*/bin/{name}")), key=_version)
    return str(bindirs[-1] / name) if bindirs else None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def binaries_or_skip() -> tuple[str, str]:
    """(initdb, pg_ctl); a skip on a developer machine without them, a failure under CI."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    why = ("PostgreSQL server binaries (initdb, pg_ctl) are not installed (looked on PATH and in "
           f"{DEBIAN_ROOT}/*/bin); .ci/run installs them with apt-get (package postgresql)")
    if in_ci():
        pytest.fail(f"{why}: CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(why)


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() != 0:
        return args
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, PostgreSQL's tools need the `postgres` user, which does "
                    "not exist (the postgresql package creates it; .ci/run installs it)",
                    pytrace=False)
    return ["runuser", "-u", "postgres", "--", *args]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool; a failure names the tool and shows what it said."""
    done = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=120,
                          check=False)
    if done.returncode != 0:
        _fail(args, done)
    return done


def _fail(args: list[str], done: subprocess.CompletedProcess, log: str = "") -> None:
    said = f"{(done.stderr or done.stdout).strip()}\n{log.strip()}".strip()
    pytest.fail(f"{Path(args[0]).name} failed (exit {done.returncode}): {said[-1500:]}",
                pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(pg_ctl: str, data: Path, base: Path, tries: int = 5) -> int:
    """Start the server on a free port; its port. The port is free when picked but not held:
    another process can bind it before PostgreSQL does (seconds later, after initdb), so a
    start that could not bind is tried again on a new port."""
    log = base / "server.log"
    for attempt in range(1, tries + 1):
        port = _free_port()
        log.unlink(missing_ok=True)
        args = [pg_ctl, "-D", str(data), "-w", "-t", "60", "-l", str(log), "-o",
                f"-h 127.0.0.1 -p {port} -k {base} -F", "start"]
        done = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode == 0:
            return port
        said = log.read_text("utf-8", "replace") if log.exists() else ""
        if "could not bind" not in said or attempt == tries:
            _fail(args, done, said)  # pg_ctl only says "Examine the log output": show it
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def postgres_server(user: str, prefix: str = "pg-") -> Iterator[int]:
    """Start a server whose superuser is `user` (trust auth, 127.0.0.1 only); yield its port."""
    initdb, pg_ctl = binaries_or_skip()
    _as_postgres([])  # as root: fails clearly without the postgres user
    base = Path(tempfile.mkdtemp(prefix=prefix))  # not pytest's tmp: private to root
    try:
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
        data = base / "data"
        _run([initdb, "-D", str(data), "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8"])
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    try:
        port = _start(pg_ctl, data, base)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail(f"PostgreSQL did not listen on 127.0.0.1:{port} within 60 s")
        yield port
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
