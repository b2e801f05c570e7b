"""The target's memory of what HubSpot holds: ids, content hashes, sync events and failures.

Why: the ledger is what makes a rerun cheap and safe. A record whose content hash matches the
last one written sends nothing; an SAP key already mapped to a HubSpot id is updated, never
created again; a record HubSpot refused waits in `dead_letter` for a replay. Any SQLAlchemy URL
works (SQLite by default, PostgreSQL in production). No secret is ever written here.

Tables (docs/CONTRACTS.md): `synced_objects`, `sync_events`, `dead_letter`, plus three of the
target's own: `synced_links` (associations already made, so they are not sent twice),
`pending_links` (an association waiting for an object that has not been synced yet, e.g. a
payment that arrived before its invoice), `draft_invoices` (invoices left draft only for want
of a contact, finished when the customer's contacts arrive) and `applications` (amounts a
payment or credit note applies to an invoice, summed into invoice and company properties).

Public API for the operator tools (replay, reconcile, dry run) — keep it stable:
`Ledger(url)`, `lookup`, `lookup_prefix`, `record_synced`, `log_events`, `record_failures`,
`clear_failures`, `known_links`, `record_links`, `add_pending`, `pending_for`, `drop_pending`,
`set_drafts`, `drafts_for`, `record_applications`, `application_totals`, `engine`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

LEGACY_LEDGER_FILE = "hubspot_finance_ledger.db"  # the default before 0.3: the working dir
LEDGER_DIR = "target-hubspot-finance"
LOCK_TIMEOUT = 30.0  # seconds a SQLite writer waits for another process (ledger_lock_timeout)
_CHUNK = 500  # keys per IN (...) query: well under SQLite's bound-parameter limit

metadata = MetaData()

synced_objects = Table(
    "synced_objects", metadata,
    Column("object_type", String(64), primary_key=True),
    Column("sap_key", String(200), primary_key=True),
    Column("hubspot_id", String(64), nullable=False),
    Column("content_hash", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
sync_events = Table(
    "sync_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("sap_key", String(200)),
    Column("hubspot_id", String(64)),
    Column("action", String(16), nullable=False),
    Column("detail", Text),
    Index("ix_sync_events_key", "stream", "sap_key"),
)
dead_letter = Table(
    "dead_letter", metadata,
    Column("stream", String(64), primary_key=True),
    Column("sap_key", String(200), primary_key=True),
    Column("doc_num", String(64)),
    Column("record", JSON),
    Column("error", JSON),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
)
synced_links = Table(
    "synced_links", metadata,
    Column("from_type", String(64), primary_key=True),
    Column("from_id", String(64), primary_key=True),
    Column("to_type", String(64), primary_key=True),
    Column("to_id", String(64), primary_key=True),
)
pending_links = Table(
    "pending_links", metadata,
    Column("from_type", String(64), primary_key=True),
    Column("from_id", String(64), primary_key=True),
    Column("to_type", String(64), primary_key=True),
    Column("to_sap_key", String(200), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
draft_invoices = Table(
    "draft_invoices", metadata,
    Column("sap_key", String(200), primary_key=True),       # invoice DocEntry
    Column("card_code", String(200), nullable=False),
    Column("hubspot_id", String(64), nullable=False),
    Column("wanted_status", String(16), nullable=False),    # what SAP says: open|paid|voided
)
applications = Table(
    "applications", metadata,
    Column("kind", String(16), primary_key=True),        # payment | credit
    Column("source_key", String(200), primary_key=True),  # e.g. payment DocEntry-LineNum
    Column("invoice_key", String(200), nullable=False),   # invoice DocEntry ("" = on account)
    Column("card_code", String(200)),
    Column("doc_num", String(64)),
    Column("amount", Float, nullable=False),
    Column("applied_on", String(10)),                     # YYYY-MM-DD
    Index("ix_applications_invoice", "invoice_key"),
    Index("ix_applications_card", "card_code"),
)

ledger_meta = Table(  # what the ledger's keys and ids belong to: HubSpot portal, key namespace
    "ledger_meta", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)
MEMO_TYPE = "_properties"  # synced_objects rows of the property memo (runtime.py), not records


class LedgerMismatchError(ValueError):
    """The ledger belongs to another HubSpot portal or key namespace: using it would write by
    another portal's ids or create every object again. The message is the one line to show."""


@dataclass(frozen=True)
class Synced:
    """What the ledger knows about one SAP key."""

    hubspot_id: str
    content_hash: str | None


@dataclass(frozen=True)
class Event:
    """One sync event: created | updated | unchanged | failed | skipped (| draft in detail)."""

    stream: str
    sap_key: str | None
    action: str
    hubspot_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Failure:
    """A record HubSpot refused (or that could not be sent), kept for replay."""

    stream: str
    sap_key: str
    doc_num: str | None
    record: dict
    error: Any


@dataclass(frozen=True)
class Totals:
    """Sum of applied amounts for an invoice or a customer."""

    amount: float
    count: int
    last_date: str | None
    doc_nums: tuple[str, ...]


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _again_on_conflict(write: Callable[[], None], attempts: int = 3) -> None:
    """Run `write` (one transaction); when another process (a replay beside a run, PostgreSQL)
    inserted one of its keys between our read and insert, the transaction wrote nothing and
    ended in IntegrityError: run it again, reading what the other wrote."""
    for attempt in range(attempts):
        try:
            write()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


def _strict_json(value: Any) -> Any:
    """`value` as strict JSON: NaN/Infinity (Python reads them in Singer input) become the
    strings "NaN"/"Infinity"; PostgreSQL's JSON type refuses the bare tokens, which would stop
    the run on the very write that keeps the bad record. Other odd types become text."""
    return json.loads(json.dumps(value, default=str), parse_constant=str)


def default_ledger_url() -> str:
    """Where the ledger lives when `ledger_url` is not set: the project's state folder, not
    the working directory (a run from another folder must find the same ledger).

    Meltano sets MELTANO_PROJECT_ROOT: `<project>/.meltano/target-hubspot-finance/ledger.db`.
    Plain Singer: `$XDG_STATE_HOME` (else `~/.local/state`)`/target-hubspot-finance/ledger.db`.
    A ledger left at the old default (`./hubspot_finance_ledger.db`) is never silently replaced
    by a new empty one (that would create every object again): one line says what to set.
    """
    project = os.environ.get("MELTANO_PROJECT_ROOT")
    if project:
        path = Path(project) / ".meltano" / LEDGER_DIR / "ledger.db"
    else:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        path = Path(state) / LEDGER_DIR / "ledger.db"
    legacy = Path(LEGACY_LEDGER_FILE)
    if legacy.is_file() and not path.exists() and legacy.resolve() != path.resolve():
        raise LedgerMismatchError(
            f"found a ledger at the old default ./{LEGACY_LEDGER_FILE}; the default is now "
            f"{path}: set ledger_url to sqlite:///{legacy.resolve()} or move the file there")
    return f"sqlite:///{path}"


class LedgerLockedError(OperationalError):
    """SQLite's "database is locked" after the lock timeout, as one line that says what to fix.

    Still an OperationalError, so code that tolerates a busy database (the shared limiter's
    answer stamps, replay claims) goes on tolerating it; a caller that stops shows this line.
    """

    def __init__(self, statement: str | None, params: Any, orig: BaseException, path: str,
                 timeout: float) -> None:
        super().__init__(statement, params, orig)
        self.text = (f"the ledger's SQLite file {path} is locked: another process holds it (a "
                     f"run, replay or tool on this ledger, which also keeps the shared HubSpot "
                     f"rate limit) longer than ledger_lock_timeout ({timeout:g} s); let it "
                     f"finish or raise ledger_lock_timeout")

    def __str__(self) -> str:
        return self.text


def lock_timeout(config: Mapping[str, Any]) -> float:
    """`ledger_lock_timeout` in seconds (LOCK_TIMEOUT when unset). The one place it is read,
    so the operator tools refuse what the target's schema refuses: 0 or less (a 0 read as
    "unset" waited 30 s; a negative one let SQLite fail at once), or no number at all."""
    value = config.get("ledger_lock_timeout")
    if value is None:
        return LOCK_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"setting ledger_lock_timeout must be a number of seconds above 0, "
                         f"got {value!r}")
    return seconds


def ledger_engine(url: str | None, lock_timeout: float = LOCK_TIMEOUT) -> Engine:
    """The ledger's engine; on SQLite a writer waits up to `lock_timeout` (30 s) for another (a
    replay beside a scheduled run) instead of failing after SQLite's default 5 s, then fails
    with `LedgerLockedError` (one line naming the file) instead of SQLite's bare message."""
    url = url or default_ledger_url()
    check_url(url)
    sqlite = url.startswith("sqlite")
    args = {"timeout": lock_timeout} if sqlite else {}
    _make_sqlite_folder(url)
    engine = create_engine(url, connect_args=args, future=True)
    if sqlite:
        path = make_url(url).database or ":memory:"

        @event.listens_for(engine, "handle_error")
        def _locked(context: Any) -> BaseException | None:
            orig = context.original_exception
            if "database is locked" not in str(orig):
                return None
            return LedgerLockedError(context.statement, context.parameters, orig, path,
                                     lock_timeout)

    return engine


def check_url(url: str) -> None:
    """Refuse a server URL with a raw '@' in its user or password: SQLAlchemy would read the
    password's tail as host, port or database and show it in its errors. Shows none of it."""
    if not url.startswith("sqlite") and url.split("://", 1)[-1].count("@") > 1:
        raise ArgumentError("ledger_url holds more than one '@': percent-encode '@' in its "
                            "user or password as %40 (':' as %3A, '/' as %2F)")


def _make_sqlite_folder(url: str) -> None:
    """A file-based SQLite ledger in a folder that does not exist yet (e.g. `.state/ledger.db`
    on a fresh host): create the folder, as SQLite only creates the file. In-memory databases
    (`sqlite://`, `:memory:`, `file:...?mode=memory`) and other databases are left alone."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return
    if database.startswith("file:"):  # a URI filename (`?uri=true`): only plain paths here
        if "mode=memory" in database or parsed.query.get("mode") == "memory":
            return
        database = database[len("file:"):].split("?", 1)[0]
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


class Ledger:
    """SQLAlchemy Core access to the ledger tables; creates them on first use."""

    def __init__(self, url: str | None = None, engine: Engine | None = None,
                 lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.engine = engine or ledger_engine(url, lock_timeout)
        try:
            metadata.create_all(self.engine)
        except DBAPIError:
            # Two processes creating the tables at once (a replay started beside a run on a
            # new PostgreSQL ledger) collide in pg_type; the loser finds them made and goes on.
            metadata.create_all(self.engine)

    # -- synced objects -------------------------------------------------------------------
    def lookup(self, object_type: str, sap_keys: Iterable[str]) -> dict[str, Synced]:
        """HubSpot id and content hash for each known key (unknown keys are absent)."""
        keys = sorted({str(k) for k in sap_keys})
        out: dict[str, Synced] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(keys):
                rows = conn.execute(select(synced_objects.c.sap_key, synced_objects.c.hubspot_id,
                                           synced_objects.c.content_hash).where(
                    synced_objects.c.object_type == object_type,
                    synced_objects.c.sap_key.in_(chunk)))
                out.update({r.sap_key: Synced(r.hubspot_id, r.content_hash) for r in rows})
        return out

    def lookup_prefix(self, object_type: str, prefixes: Iterable[str]) -> dict[str, Synced]:
        """Known keys starting with any prefix (e.g. every contact `C0001/` of a customer)."""
        wanted = sorted(set(prefixes))
        out: dict[str, Synced] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted, 100):
                cond = or_(*[synced_objects.c.sap_key.startswith(p, autoescape=True)
                             for p in chunk])
                rows = conn.execute(select(synced_objects).where(
                    synced_objects.c.object_type == object_type, cond))
                out.update({r.sap_key: Synced(r.hubspot_id, r.content_hash) for r in rows})
        return out

    def record_synced(self, object_type: str,
                      rows: Iterable[tuple[str, str, str | None]]) -> None:
        """Store (sap_key, hubspot_id, content_hash) rows; an existing key is overwritten.

        A hash of None records only the id (e.g. a company found by CardCode but not written
        by this target), so the next record for that key is still sent.
        """
        by_key = {str(k): (str(i), h) for k, i, h in rows}
        if not by_key:
            return
        now = _now()

        def write() -> None:
            with self.engine.begin() as conn:
                for chunk in _chunks(sorted(by_key)):
                    conn.execute(delete(synced_objects).where(
                        synced_objects.c.object_type == object_type,
                        synced_objects.c.sap_key.in_(chunk)))
                conn.execute(synced_objects.insert(), [
                    {"object_type": object_type, "sap_key": k, "hubspot_id": i,
                     "content_hash": h, "updated_at": now} for k, (i, h) in by_key.items()])
        _again_on_conflict(write)

    def lookup_ids(self, object_type: str, hubspot_ids: Iterable[str]) -> dict[str, Synced]:
        """The SAP keys the ledger maps to these HubSpot ids (whose object is it?)."""
        ids = sorted({str(i) for i in hubspot_ids})
        out: dict[str, Synced] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                rows = conn.execute(select(synced_objects.c.sap_key, synced_objects.c.hubspot_id,
                                           synced_objects.c.content_hash).where(
                    synced_objects.c.object_type == object_type,
                    synced_objects.c.hubspot_id.in_(chunk)))
                out.update({r.sap_key: Synced(r.hubspot_id, r.content_hash) for r in rows})
        return out

    # -- whose ledger: portal and key namespace ---------------------------------------------
    def meta(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.name: r.value for r in conn.execute(select(ledger_meta))}

    def _set_meta(self, name: str, value: str) -> None:
        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(delete(ledger_meta).where(ledger_meta.c.name == name))
                conn.execute(ledger_meta.insert().values(name=name, value=value))
        _again_on_conflict(write)

    def _record_keys(self, limit: int = 1000) -> list[str]:
        """Some SAP keys of synced records (not the property memo): is the ledger in use?"""
        with self.engine.connect() as conn:
            return [r.sap_key for r in conn.execute(
                select(synced_objects.c.sap_key).where(
                    synced_objects.c.object_type.in_(("companies", "invoices", "payments")))
                .limit(limit))]

    def bind_portal(self, portal: str) -> None:
        """Ids in this ledger belong to one HubSpot portal: the first portal written to is
        remembered, and any other is refused (its objects would be updated by foreign ids).
        A ledger from before this check is bound to the portal its property memo names."""
        portal = str(portal)
        known = self.meta().get("portal_id")
        if known is None:
            memos = {k.removeprefix("portal:") for k in self.lookup_prefix(MEMO_TYPE,
                                                                           ["portal:"])}
            if memos and portal not in memos and self._record_keys(1):
                known = min(memos)
        if known is not None and known != portal:
            raise LedgerMismatchError(
                f"this ledger holds the HubSpot ids of portal {known}, but the access token "
                f"writes to portal {portal}; its ids must never be used there: give portal "
                f"{portal} its own ledger_url")
        if known is None:
            self._set_meta("portal_id", portal)

    def refuse_unknown_portal(self, why: str) -> None:
        """HubSpot did not say which portal the token writes to: a ledger holding ids (of a
        portal bound before, or records from before the check) is not used blind, as the
        token may point at another portal. A new, empty ledger has no ids to misuse."""
        known = self.meta().get("portal_id")
        if known is None and not self._record_keys(1):
            return
        whose = f"portal {known}" if known else "a HubSpot portal"
        raise LedgerMismatchError(
            f"could not read which HubSpot portal the access token writes to ({why}); this "
            f"ledger holds the ids of {whose}, never used unchecked: run again when HubSpot "
            f"answers GET /account-info/v3/details")

    def _namespaces(self) -> tuple[set[str], bool]:
        """The namespaces this ledger's records use, and whether they were recorded (else read
        from the keys of a ledger from before the check)."""
        raw = self.meta().get("key_namespaces")
        if raw is not None:
            return set(json.loads(raw)), True
        return {k.split(":", 1)[0] if ":" in k else "" for k in self._record_keys()}, False

    def bind_namespace(self, namespace: str | None, new_namespace: bool = False,
                       migrate: bool = False) -> tuple[str, set[str]] | None:
        """`key_namespace` is part of every ledger and HubSpot key: renaming it on a ledger with
        records would create every object again. A namespace this ledger has not seen, while
        it holds records under others, is refused unless `new_namespace` says it is another
        SAP company in the same portal, or `migrate` asks to move the one namespace the
        ledger holds to it: then (old namespace, the others) is returned for
        namespace_move.py. A ledger from before this check is read for the namespaces its
        keys carry."""
        wanted = namespace or ""
        known, recorded = self._namespaces()
        if known and wanted not in known and migrate:
            if len(known) != 1:
                names = ", ".join(repr(n) if n else "(none)" for n in sorted(known))
                raise LedgerMismatchError(
                    f"migrate_key_namespace: this ledger holds several namespaces ({names}); "
                    f"a move needs the one to move: run it from a ledger of that company")
            return next(iter(known)), set()
        if known and wanted not in known and not new_namespace:
            names = ", ".join(repr(n) if n else "(none)" for n in sorted(known))
            raise LedgerMismatchError(
                f"key_namespace {wanted!r} is new to this ledger, whose records use {names}: "
                f"a renamed namespace would create every object again: set it back, or set "
                f"migrate_key_namespace: true to move the records to it; if {wanted!r} is "
                f"another SAP company in this portal, set new_key_namespace: true instead")
        if wanted not in known or not recorded:
            self._set_meta("key_namespaces", json.dumps(sorted(known | {wanted})))
        return None

    def move_namespace(self, old: str, new: str, others: set[str]) -> None:
        """Every key under `old` renamed to `new`, in every table, in one transaction."""
        from target_hubspot_finance.namespace_move import owned, renamed

        columns = [(synced_objects, "sap_key"), (dead_letter, "sap_key"),
                   (pending_links, "to_sap_key"), (draft_invoices, "sap_key"),
                   (draft_invoices, "card_code"), (applications, "source_key"),
                   (applications, "invoice_key"), (applications, "card_code")]
        not_memo = ~synced_objects.c.object_type.startswith("_", autoescape=True)
        with self.engine.begin() as conn:
            for table, name in columns:
                col = table.c[name]
                query = select(col).distinct()
                if table is synced_objects:  # memo rows ("_properties", "_capabilities") are
                    query = query.where(not_memo)  # keyed by portal, not by SAP company
                keys = [r[0] for r in conn.execute(query) if r[0]]
                moves = [{"old_key": k, "new_key": renamed(k, old, new)} for k in keys
                         if owned(k, old, others)]
                if moves:
                    stmt = update(table).where(col == bindparam("old_key")).values(
                        {name: bindparam("new_key")})
                    if table is synced_objects:
                        stmt = stmt.where(not_memo)
                    conn.execute(stmt, moves)
            known = ({n for n in others} | {new}) - {old}
            conn.execute(delete(ledger_meta).where(ledger_meta.c.name == "key_namespaces"))
            conn.execute(ledger_meta.insert().values(name="key_namespaces",
                                                     value=json.dumps(sorted(known))))

    # -- events and dead letter -----------------------------------------------------------
    def log_events(self, events: Iterable[Event]) -> None:
        rows = [{"ts": _now(), "stream": e.stream, "sap_key": e.sap_key, "action": e.action,
                 "hubspot_id": e.hubspot_id, "detail": e.detail} for e in events]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(sync_events.insert(), rows)

    def record_failures(self, failures: Iterable[Failure]) -> None:
        """Insert or refresh dead-letter rows (attempts + 1, last_failed_at now)."""
        items = {(f.stream, str(f.sap_key)): f for f in failures}
        if not items:
            return
        now = _now()

        def write() -> None:
            with self.engine.begin() as conn:
                for (stream, key), f in items.items():
                    error, record = _strict_json(f.error), _strict_json(f.record)
                    done = conn.execute(update(dead_letter).where(
                        dead_letter.c.stream == stream, dead_letter.c.sap_key == key).values(
                        doc_num=f.doc_num, record=record, error=error, last_failed_at=now,
                        attempts=dead_letter.c.attempts + 1))
                    if done.rowcount == 0:
                        conn.execute(dead_letter.insert().values(
                            stream=stream, sap_key=key, doc_num=f.doc_num, record=record,
                            error=error, first_failed_at=now, last_failed_at=now, attempts=1))
        _again_on_conflict(write)

    def clear_failures(self, stream: str, sap_keys: Iterable[str]) -> None:
        """A record that now succeeded leaves the dead-letter."""
        keys = sorted({str(k) for k in sap_keys})
        with self.engine.begin() as conn:
            for chunk in _chunks(keys):
                conn.execute(delete(dead_letter).where(dead_letter.c.stream == stream,
                                                       dead_letter.c.sap_key.in_(chunk)))

    # -- associations -----------------------------------------------------------------------
    def known_links(self, from_type: str, to_type: str,
                    pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (from_id, to_id) pairs this target has already associated."""
        wanted = {(str(a), str(b)) for a, b in pairs}
        froms = sorted({a for a, _ in wanted})
        found: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(froms):
                rows = conn.execute(select(synced_links.c.from_id, synced_links.c.to_id).where(
                    synced_links.c.from_type == from_type, synced_links.c.to_type == to_type,
                    synced_links.c.from_id.in_(chunk)))
                found.update((r.from_id, r.to_id) for r in rows)
        return found & wanted

    def record_links(self, from_type: str, to_type: str,
                     pairs: Iterable[tuple[str, str]]) -> None:
        wanted = {(str(a), str(b)) for a, b in pairs}

        def write() -> None:
            new = wanted - self.known_links(from_type, to_type, wanted)
            if new:
                with self.engine.begin() as conn:
                    conn.execute(synced_links.insert(), [
                        {"from_type": from_type, "from_id": a, "to_type": to_type, "to_id": b}
                        for a, b in sorted(new)])
        _again_on_conflict(write)

    def add_pending(self, from_type: str, to_type: str,
                    items: Iterable[tuple[str, str]]) -> None:
        """Remember (from HubSpot id, to SAP key) links whose target is not in HubSpot yet."""
        wanted = {(str(a), str(b)) for a, b in items}
        if not wanted:
            return
        def write() -> None:
            with self.engine.begin() as conn:
                for a, b in sorted(wanted):
                    exists = conn.execute(select(func.count()).select_from(pending_links).where(
                        pending_links.c.from_type == from_type, pending_links.c.from_id == a,
                        pending_links.c.to_type == to_type,
                        pending_links.c.to_sap_key == b)).scalar()
                    if not exists:
                        conn.execute(pending_links.insert().values(
                            from_type=from_type, from_id=a, to_type=to_type, to_sap_key=b,
                            created_at=_now()))
        _again_on_conflict(write)

    def pending_for(self, to_type: str, sap_keys: Iterable[str]) -> list[tuple[str, str, str]]:
        """(from_type, from HubSpot id, to SAP key) links waiting for these keys."""
        keys = sorted({str(k) for k in sap_keys})
        out: list[tuple[str, str, str]] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(keys):
                rows = conn.execute(select(pending_links).where(
                    pending_links.c.to_type == to_type, pending_links.c.to_sap_key.in_(chunk)))
                out.extend((r.from_type, r.from_id, r.to_sap_key) for r in rows)
        return out

    def drop_pending(self, to_type: str, items: Iterable[tuple[str, str, str]]) -> None:
        with self.engine.begin() as conn:
            for from_type, from_id, key in items:
                conn.execute(delete(pending_links).where(
                    pending_links.c.from_type == from_type, pending_links.c.from_id == from_id,
                    pending_links.c.to_type == to_type, pending_links.c.to_sap_key == key))

    # -- invoices waiting for a contact -----------------------------------------------------
    def set_drafts(self, waiting: Iterable[tuple[str, str, str, str]],
                   done: Iterable[str]) -> None:
        """Remember (sap_key, card_code, hubspot_id, wanted_status) drafts; forget `done` keys."""
        rows = {k: (c, i, w) for k, c, i, w in waiting}
        gone = sorted({str(k) for k in done} | set(rows))
        def write() -> None:
            with self.engine.begin() as conn:
                for chunk in _chunks(gone):
                    conn.execute(delete(draft_invoices).where(draft_invoices.c.sap_key.in_(chunk)))
                if rows:
                    conn.execute(draft_invoices.insert(), [
                        {"sap_key": k, "card_code": c, "hubspot_id": i, "wanted_status": w}
                        for k, (c, i, w) in rows.items()])
        _again_on_conflict(write)

    def drafts_for(self, card_codes: Iterable[str]) -> list[tuple[str, str, str, str]]:
        """(sap_key, card_code, hubspot_id, wanted_status) of drafts of these customers."""
        codes = sorted({str(c) for c in card_codes})
        out: list[tuple[str, str, str, str]] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(codes):
                rows = conn.execute(select(draft_invoices).where(
                    draft_invoices.c.card_code.in_(chunk)))
                out.extend((r.sap_key, r.card_code, r.hubspot_id, r.wanted_status) for r in rows)
        return out

    # -- applied amounts (payments, credit notes) ------------------------------------------
    def record_applications(self, kind: str, source_keys: Iterable[str],
                            rows: Iterable[dict]) -> None:
        """Replace the applications of these source documents with `rows`.

        Each row: source_key, invoice_key, card_code, doc_num, amount, applied_on.
        """
        sources = sorted({str(k) for k in source_keys})
        rows = list(rows)
        def write() -> None:
            with self.engine.begin() as conn:
                for chunk in _chunks(sources):
                    conn.execute(delete(applications).where(
                        applications.c.kind == kind,
                        or_(*[applications.c.source_key.startswith(s + "-", autoescape=True)
                              for s in chunk], applications.c.source_key.in_(chunk))))
                if rows:
                    conn.execute(applications.insert(), [{"kind": kind, **r} for r in rows])
        _again_on_conflict(write)

    def application_sources(self, kind: str, invoice_keys: Iterable[str]) -> dict[str, str]:
        """{source_key: invoice_key} of what applies to these invoices (e.g. payment lines)."""
        wanted = sorted({str(k) for k in invoice_keys})
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(select(applications.c.source_key, applications.c.invoice_key)
                                    .where(applications.c.kind == kind,
                                           applications.c.invoice_key.in_(chunk)))
                out.update({r.source_key: r.invoice_key for r in rows})
        return out

    def application_totals(self, kind: str, column: str,
                           keys: Iterable[str]) -> dict[str, Totals]:
        """Totals per invoice_key or card_code (`column`) for the given keys."""
        col = applications.c[column]
        wanted = sorted({str(k) for k in keys})
        grouped: dict[str, list[Any]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(select(col.label("key"), applications.c.amount,
                                           applications.c.applied_on, applications.c.doc_num)
                                    .where(applications.c.kind == kind, col.in_(chunk)))
                for r in rows:
                    grouped.setdefault(r.key, []).append(r)
        out: dict[str, Totals] = {}
        for key, rs in grouped.items():
            dates = [r.applied_on for r in rs if r.applied_on]
            docs = tuple(sorted({str(r.doc_num) for r in rs if r.doc_num}))
            out[key] = Totals(round(sum(r.amount for r in rs), 2), len(docs) or len(rs),
                              max(dates) if dates else None, docs)
        return out
