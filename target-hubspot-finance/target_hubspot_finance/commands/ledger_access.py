"""Opening the ledger for an operator command: only one that exists, and one line when not.

Why: SQLAlchemy creates an SQLite file on first connect, so a missing or mistyped `ledger_url`
would give `replay list` a new empty ledger and a false all-clear ("dead-letter is empty").
An operator command reads the target's ledger; it never makes one.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from target_hubspot_finance import ledger

# Any of these makes a database a ledger the target has written (docs/CONTRACTS.md).
LEDGER_TABLES = ("synced_objects", "sync_events", "dead_letter")
FIX = "set ledger_url (TARGET_HUBSPOT_FINANCE_LEDGER_URL) to the ledger the target's runs write"


def ledger_url(config: dict) -> str:
    """The URL a run with these settings uses (the target's default when unset)."""
    if config.get("ledger_url"):
        return str(config["ledger_url"])
    try:
        return ledger.default_ledger_url() if hasattr(ledger, "default_ledger_url") else \
            ledger.DEFAULT_LEDGER_URL
    except ValueError as exc:  # e.g. a ledger left at an older default: its own one line
        raise click.ClickException(str(exc)) from None


def _sqlite_file(url: str) -> Path | None:
    """The file of a file-based SQLite URL; None for in-memory and other databases."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        if "mode=memory" in database or parsed.query.get("mode") == "memory":
            return None
        database = database[len("file:"):].split("?", 1)[0]
    return Path(database).expanduser()


def open_existing(config: dict) -> Engine:
    """The engine of an existing ledger; a missing file, an unreachable server or a database
    without ledger tables is one line (the password of the URL is never shown)."""
    url = ledger_url(config)
    try:
        ledger.check_url(url)  # a raw '@' in the password: the URL is not shown at all
    except ArgumentError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        raise click.ClickException(f"ledger_url is not a database URL (e.g. sqlite:///path/"
                                   f"ledger.db or postgresql+psycopg2://...): {FIX}") from None
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no ledger at {path} ({shown}): {FIX}")
    try:
        wait = ledger.lock_timeout(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        engine = ledger.ledger_engine(url, wait)
        found = set(inspect(engine).get_table_names())
    except ledger.LedgerLockedError as exc:  # names the file and the setting to raise
        raise click.ClickException(str(exc)) from None
    except DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise click.ClickException(f"cannot reach the ledger {shown}: {reason}") from None
    except (SQLAlchemyError, ModuleNotFoundError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise click.ClickException(f"cannot open the ledger {shown}: {reason}") from None
    if not found & set(LEDGER_TABLES):
        engine.dispose()
        raise click.ClickException(f"{shown} holds no ledger tables ({', '.join(LEDGER_TABLES)})"
                                   f": {FIX}")
    return engine
