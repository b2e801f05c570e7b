"""Row claims in the ledger database, so two replays never send the same dead-letter record twice.

A claim is a row in `replay_claims` whose primary key is the dead-letter key (stream, sap_key):
the database's own uniqueness check decides who holds it, which works the same on SQLite (one
writer at a time) and PostgreSQL (unique index), with no SELECT ... FOR UPDATE SKIP LOCKED dialect
split. A claim expires, so a replay killed mid-way does not lock its records forever.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    inspect,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

TTL = timedelta(minutes=30)  # a killed replay frees its records after this

metadata = MetaData()

replay_claims = Table(
    "replay_claims",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("sap_key", String(255), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)


def new_owner() -> str:
    """An owner id naming the host and process, so a stuck claim can be traced to its replay."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_table(engine: Engine) -> None:
    """Create `replay_claims` if missing; never touches the target's own tables.

    Two replays starting together may both see it missing: the loser's CREATE fails (on
    PostgreSQL an IntegrityError on its catalog's unique type name, elsewhere an operational or
    programming error), and the table the winner made is all it needed.
    """
    try:
        metadata.create_all(engine, tables=[replay_claims])
    except DBAPIError:
        if not inspect(engine).has_table(replay_claims.name):
            raise


def claim(engine: Engine, owner: str, keys: Iterable[tuple[str, str]],
          ttl: timedelta = TTL) -> list[tuple[str, str]]:
    """Claim each (stream, sap_key) not held by a live claim; returns the keys now held by `owner`.

    Each key is its own short transaction: a lost race on one key (IntegrityError) costs only that
    key, and no lock is held while HubSpot is called.
    """
    ensure_table(engine)
    held: list[tuple[str, str]] = []
    for stream, key in keys:
        now = _now()
        try:
            with engine.begin() as conn:
                conn.execute(delete(replay_claims).where(and_(
                    replay_claims.c.stream == stream, replay_claims.c.sap_key == key,
                    replay_claims.c.expires_at < now)))
                conn.execute(insert(replay_claims).values(
                    stream=stream, sap_key=key, owner=owner, expires_at=now + ttl))
        except IntegrityError:
            continue
        held.append((stream, key))
    return held


def release(engine: Engine, owner: str, keys: Iterable[tuple[str, str]] | None = None) -> None:
    """Drop `owner`'s claims (all of them, or only `keys`)."""
    with engine.begin() as conn:
        if keys is None:
            conn.execute(delete(replay_claims).where(replay_claims.c.owner == owner))
            return
        for stream, key in keys:
            conn.execute(delete(replay_claims).where(and_(
                replay_claims.c.owner == owner, replay_claims.c.stream == stream,
                replay_claims.c.sap_key == key)))


def renew(engine: Engine, owner: str, ttl: timedelta = TTL) -> None:
    """Push back the expiry of every claim `owner` holds (the replay is still alive)."""
    with engine.begin() as conn:
        conn.execute(update(replay_claims).where(replay_claims.c.owner == owner)
                     .values(expires_at=_now() + ttl))


@contextlib.contextmanager
def heartbeat(engine: Engine, owner: str, ttl: timedelta = TTL,
              every: timedelta | None = None) -> Iterator[None]:
    """Renew `owner`'s claims every `every` (a third of `ttl`) while the block runs, so a long
    replay keeps its records however long HubSpot takes, and a killed one still frees them after
    `ttl`. A failed renewal is retried at the next beat (the claim outlives two misses)."""
    stop = threading.Event()
    wait = (every or ttl / 3).total_seconds()

    def beat() -> None:
        while not stop.wait(wait):
            with contextlib.suppress(DBAPIError):
                renew(engine, owner, ttl)

    thread = threading.Thread(target=beat, name=f"replay-claims-{owner}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
