"""The rate limit shared by every process on one token, kept in the ledger's database.

Why: HubSpot counts requests per private app (token) in a rolling window, however many
processes send them (a scheduled run beside a replay, two SAP companies into one portal). Each
process limiting itself alone lets them together exceed the limit and meet 429s. So the
processes share `allowed` slots per token in one table of the ledger's database (SQLite locally,
PostgreSQL in production): a request may go when a slot's last request finished a whole window
ago. A slot is claimed by a conditional UPDATE (`... WHERE sent_at = <the value read>`), so two
processes never take the same one and no lock is held across a request. A slot's time is set
again when the answer arrives: HubSpot received the request before that, so the window is
counted from a moment no earlier than HubSpot's own. That second stamp is written at once
(conditional on the slot still holding this claim): held for the next claim, the last call of a
run or before a long pause kept its earlier stamp and freed its slot too soon. A stamp the
database refused at that moment (busy) is written with the next claim. A claim that
waits past `ledger_lock_timeout` for another process holding a SQLite ledger stops the run
with one line naming the file (ledger.LedgerLockedError).

Time is the database's clock on PostgreSQL (processes on several hosts: one whose clock runs
ahead would read the others' fresh slots as old), the host's clock on SQLite (one host). A slot
stamped in the future (a clock stepped back) counts as used now: one window's wait, not the step.

The bucket is a fingerprint of the token (first 16 hex digits of its SHA-256), never the token.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from target_hubspot_finance.hubspot.rate_limit import RateLimiter

LOGGER = logging.getLogger("target_hubspot_finance")

metadata = MetaData()
rate_slots = Table(
    "rate_limit_slots", metadata,
    Column("bucket", String(64), primary_key=True),   # token fingerprint
    Column("slot", Integer, primary_key=True),
    Column("sent_at", Float, nullable=False),         # epoch seconds; 0 = never used
)


def token_bucket(token: str) -> str:
    """A stable, non-reversible name for a token's limit."""
    return "token:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


class SharedSlots:
    """Slots of one token's window in the database: `claim()` before a call, `finish()` after."""

    def __init__(self, engine: Engine, bucket: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.bucket = bucket
        self._clock = clock
        self._sleep = sleep
        self._ready = 0
        self._claimed: dict[int, float] = {}  # slot -> when this process took it
        self._answered: list[tuple[int, float, float]] = []  # (slot, claimed at, answered at)
        self._offset = 0.0  # the database's clock minus this host's, measured at each claim
        self._server_now = (func.extract("epoch", func.clock_timestamp())
                            if engine.dialect.name == "postgresql" else literal(None))
        try:
            metadata.create_all(engine)
        except DBAPIError:  # another process created it at the same moment
            metadata.create_all(engine)

    def _ensure(self, allowed: int) -> None:
        if self._ready >= allowed:
            return
        with self.engine.begin() as conn:
            have = {r.slot for r in conn.execute(select(rate_slots.c.slot).where(
                rate_slots.c.bucket == self.bucket))}
        for slot in range(allowed):
            if slot in have:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(rate_slots).values(bucket=self.bucket, slot=slot,
                                                           sent_at=0.0))
            except IntegrityError:
                pass  # another process added it
        self._ready = allowed

    def claim(self, allowed: int, window: float) -> tuple[int, float]:
        """Block until one of the first `allowed` slots is a window old; take it. Returns the
        slot and the seconds waited."""
        self._ensure(allowed)
        waited = 0.0
        while True:
            with self.engine.begin() as conn:
                self._stamp_answers(conn)
                row = conn.execute(
                    select(rate_slots.c.slot, rate_slots.c.sent_at,
                           self._server_now.label("server_now"))
                    .where(rate_slots.c.bucket == self.bucket, rate_slots.c.slot < allowed)
                    .order_by(rate_slots.c.sent_at, rate_slots.c.slot).limit(1)).first()
                now = self._clock()
                if row is not None and row.server_now is not None:
                    self._offset = float(row.server_now) - now
                    now = float(row.server_now)
                else:
                    now += self._offset
                if row is not None and row.sent_at > now + window:
                    # Even the oldest stamp is in the future: this clock stepped back (NTP, a
                    # restored VM). Their slots count as used now: one window's wait, not the step.
                    conn.execute(update(rate_slots).where(
                        rate_slots.c.bucket == self.bucket,
                        rate_slots.c.sent_at > now).values(sent_at=now))
                    continue
                if row is not None and row.sent_at + window <= now:
                    taken = conn.execute(update(rate_slots).where(
                        rate_slots.c.bucket == self.bucket, rate_slots.c.slot == row.slot,
                        rate_slots.c.sent_at == row.sent_at).values(sent_at=now)).rowcount
                    if taken == 1:
                        self._claimed[row.slot] = now
                        return row.slot, waited
                    continue  # another process took it first: look again at once
            if row is None:  # the slots were deleted under this process: make them again
                self._ready = 0
                self._ensure(allowed)
                continue
            wait = max(0.005, row.sent_at + window - now)
            waited += wait
            self._sleep(wait)

    def finish(self, slot: int) -> None:
        """The answer arrived: the slot's window starts now (not earlier than HubSpot's)."""
        claimed_at = self._claimed.pop(slot, None)
        if claimed_at is None:
            return
        self._answered.append((slot, claimed_at, self._clock() + self._offset))
        with contextlib.suppress(DBAPIError):  # the database busy: written with the next claim
            self.flush()

    def flush(self) -> None:
        """Write the answer stamps still held."""
        if self._answered:
            held = list(self._answered)
            try:
                with self.engine.begin() as conn:
                    self._stamp_answers(conn)
            except DBAPIError:
                self._answered = held  # not written: kept for the next try
                raise

    def _stamp_answers(self, conn: Any) -> None:
        for slot, claimed_at, answered_at in self._answered:
            conn.execute(update(rate_slots).where(  # unless another process took it since
                rate_slots.c.bucket == self.bucket, rate_slots.c.slot == slot,
                rate_slots.c.sent_at == claimed_at).values(sent_at=answered_at))
        self._answered.clear()


def shared_limiter(config: Mapping[str, Any], engine: Engine) -> RateLimiter:
    """The run's limiter (`rate_limit_per_10s` ceiling) sharing its window through `engine`
    (the ledger's) with every other process on the same token."""
    slots = SharedSlots(engine, token_bucket(str(config.get("access_token") or "")))
    return RateLimiter(int(config.get("rate_limit_per_10s") or 190), shared=slots)


def tool_limiter(config: Mapping[str, Any], token: str) -> RateLimiter:
    """The limiter of a tool beside the runs (dry run, check, reconcile): they spend the same
    token, so they share the runs' window when the ledger's database exists; without one yet
    (a SQLite file not made) a window of its own, and no ledger is created for it."""
    from target_hubspot_finance.ledger import default_ledger_url, ledger_engine, lock_timeout

    limit = int(config.get("rate_limit_per_10s") or 190)
    try:
        url = str(config.get("ledger_url") or default_ledger_url())
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and (
                not parsed.database or parsed.database == ":memory:"
                or not Path(parsed.database).exists()):
            return RateLimiter(limit)
        engine = ledger_engine(url, lock_timeout(config))
        return shared_limiter({**config, "access_token": token}, engine)
    except (SQLAlchemyError, ValueError, OSError, RuntimeError) as exc:
        LOGGER.warning("rate limit not shared with the runs (ledger database not reachable: "
                       "%s); keeping this tool's own window", type(exc).__name__)
        return RateLimiter(limit)
