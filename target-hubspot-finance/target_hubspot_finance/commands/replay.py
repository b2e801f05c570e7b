"""`target-hubspot-finance-replay`: list the dead-letter, and send its records again.

Replay does not re-implement any HubSpot write: it feeds the stored records to the target as
Singer SCHEMA + RECORD messages, so they take the normal sink path (mapping, batching, the one
rate limiter, ledger hash, dead-letter bookkeeping). It sends no STATE message, so no bookmark
moves. Records are claimed first (claims.py), so a second replay at the same time skips them.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import click
from sqlalchemy import MetaData, Table, delete, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from target_hubspot_finance.commands import claims, deadletter, ledger_access, settings
from target_hubspot_finance.commands.settings import config_option

HEARTBEAT: timedelta | None = None  # claim renewal period (None: a third of claims.TTL)

# Primary keys of the tap's streams (docs/CONTRACTS.md), for the SCHEMA message of a replay.
KEY_PROPERTIES = {"business_partners": ["CardCode"], "invoices": ["DocEntry"],
                  "credit_notes": ["DocEntry"], "incoming_payments": ["DocEntry"]}


@dataclass
class Outcome:
    """What a replay did, per (stream, sap_key)."""

    replayed: list[tuple[str, str]] = field(default_factory=list)
    succeeded: list[tuple[str, str]] = field(default_factory=list)
    still_failed: list[tuple[str, str]] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)
    skipped_claimed: list[tuple[str, str]] = field(default_factory=list)
    rehearsed: list[tuple[str, str]] = field(default_factory=list)  # dry_run: sent, not written


def ledger_engine(config: dict) -> Engine:
    """The existing ledger named by the target's settings (never a new empty one)."""
    return ledger_access.open_existing(config)


def namespace_of(config: dict) -> str | None:
    """This SAP company's `key_namespace`: a replay touches only its rows."""
    return config.get("key_namespace") or None


def singer_messages(items: Sequence[deadletter.DeadLetterEntry]) -> str:
    """SCHEMA + RECORD lines for the entries, grouped by stream; no STATE (no bookmark moves).

    The schema is permissive (every field accepted as it is): the record is replayed exactly as the
    target stored it, which already passed the tap's schema once.
    """
    lines: list[str] = []
    for stream in dict.fromkeys(e.stream for e in items):
        records = [e.record for e in items if e.stream == stream]
        names = sorted({k for r in records for k in r})
        schema = {"type": "object", "properties": {n: {} for n in names}}
        lines.append(json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema,
                                 "key_properties": KEY_PROPERTIES.get(stream, [])}))
        lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}, default=str)
                  for r in records]
    return "\n".join(lines) + "\n"


def run_through_target(config: dict, messages: str) -> None:
    """Feed Singer messages to the target in this process, as `meltano run` would over stdin."""
    from target_hubspot_finance.target import TargetHubSpotFinance  # late: heavy

    target = TargetHubSpotFinance(config=config, validate_config=True)
    target.listen(io.StringIO(messages))


def with_namespace(config: dict, keys: Sequence[str]) -> list[str]:
    """Keys as an operator types them, plus their `key_namespace:` form (as the ledger has it)."""
    namespace = config.get("key_namespace")
    return [*keys, *(f"{namespace}:{k}" for k in keys)] if namespace else list(keys)


def replay(config: dict, streams: Sequence[str] = (), keys: Sequence[str] = (),
           engine: Engine | None = None) -> Outcome:
    """Replay the selected dead-letter records of this SAP company once; see the module
    docstring. Claims are renewed while the target sends (claims.heartbeat)."""
    engine = engine or ledger_engine(config)
    keys = with_namespace(config, keys)
    namespace = namespace_of(config)
    outcome = Outcome()
    wanted = deadletter.entries(engine, streams, keys, namespace)
    owner = claims.new_owner()
    stopped = True  # until the end: the error that stopped it is the one to show
    try:  # a ledger failing mid-claim still releases what was already claimed
        held = set(claims.claim(engine, owner, [e.key for e in wanted], ttl=claims.TTL))
        outcome.skipped_claimed = [e.key for e in wanted if e.key not in held]
        with claims.heartbeat(engine, owner, claims.TTL, HEARTBEAT):
            # Re-read under the claim: a concurrent replay may have finished some meanwhile, or
            # sent one and seen it fail again (its row changed): neither is sent a second time.
            read_first = {e.key: _version(e) for e in wanted}
            current = {}
            for entry in deadletter.entries(engine, streams, keys, namespace):
                if entry.key not in held:
                    continue
                if _version(entry) != read_first.get(entry.key):
                    outcome.skipped_claimed.append(entry.key)
                else:
                    current[entry.key] = entry
            todo = []
            dry = bool(config.get("dry_run"))  # the target writes nothing, its ledger in memory
            for entry in current.values():
                if _superseded(engine, entry):
                    if not dry:
                        _drop(engine, entry)
                    outcome.superseded.append(entry.key)
                else:
                    todo.append(entry)
            if todo:
                run_through_target(config, singer_messages(todo))
        if dry:
            outcome.rehearsed = [entry.key for entry in todo]
            stopped = False
            return outcome
        after = {e.key for e in deadletter.entries(engine, streams, keys, namespace)}
        for entry in todo:
            outcome.replayed.append(entry.key)
            (outcome.still_failed if entry.key in after else outcome.succeeded).append(entry.key)
        stopped = False
    finally:
        # A ledger that stopped the replay (locked, unreachable) may refuse the release too:
        # the claims then expire after their TTL, and the first error is the one reported.
        with contextlib.suppress(*((DBAPIError,) if stopped else ())):
            claims.release(engine, owner)
    return outcome


def _version(entry: deadletter.DeadLetterEntry) -> tuple[int, str]:
    """What changes each time the row's record is sent and fails (attempts, last failure)."""
    return entry.attempts, str(entry.last_failed_at)


def _superseded(engine: Engine, entry: deadletter.DeadLetterEntry) -> bool:
    """True when a later run synced this key after it failed: the stored copy is stale."""
    if entry.last_failed_at is None or not inspect(engine).has_table("sync_events"):
        return False
    events = Table("sync_events", MetaData(), autoload_with=engine)
    query = select(events.c.ts).where(
        events.c.stream == entry.stream, events.c.sap_key == entry.sap_key,
        events.c.action.in_(["created", "updated", "unchanged"]),
        events.c.ts > entry.last_failed_at).limit(1)
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def _drop(engine: Engine, entry: deadletter.DeadLetterEntry) -> None:
    table = deadletter.table(engine)
    if table is None:
        return
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.stream == entry.stream,
                                         table.c.sap_key == entry.sap_key))


@click.group(name="replay", invoke_without_command=True)
@config_option
@click.pass_context
def main(ctx: click.Context, config_args: tuple[str, ...]) -> None:
    """List the dead-letter (default) or replay it: `list`, `run`."""
    ctx.obj = settings.load(config_args)
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command)


@main.command(name="list")
@click.option("--stream", "streams", multiple=True, help="Only this stream (repeatable).")
@click.option("--key", "keys", multiple=True, help="Only this SAP key or doc number (repeatable).")
@click.pass_obj
def list_command(config: dict, streams: tuple[str, ...] = (), keys: tuple[str, ...] = ()) -> None:
    """One line per failed record: stream, key, doc number, attempts, when, HubSpot's error."""
    items = deadletter.entries(ledger_engine(config), streams, with_namespace(config, keys),
                               namespace_of(config))
    if not items:
        click.echo("dead-letter is empty")
        return
    for line in deadletter.render(items):
        click.echo(line)
    click.echo(f"{len(items)} record(s) in the dead-letter")


@main.command(name="run")
@click.option("--stream", "streams", multiple=True, help="Only this stream (repeatable).")
@click.option("--key", "keys", multiple=True, help="Only this SAP key or doc number (repeatable).")
@click.pass_obj
def run_command(config: dict, streams: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """Replay the selected records; exit 1 when any still fails."""
    engine = ledger_engine(config)  # a missing ledger is one line, before anything is claimed
    if keys and not deadletter.entries(engine, streams, with_namespace(config, keys),
                                       namespace_of(config)):
        # asked for by key (a typo reads as done otherwise); a --stream alone may find nothing
        raise click.ClickException(
            f"no dead-letter record matches --key {' --key '.join(keys)}"
            + (f" --stream {' --stream '.join(streams)}" if streams else "")
            + ": `replay list` shows the records waiting")
    try:
        out = replay(config, streams, keys, engine=engine)
    except Exception as exc:  # HubSpot or the ledger stopped the replay: one line, claims freed
        errors = getattr(exc, "errors", None)
        summary = getattr(exc, "summary", None)
        text = "; ".join(errors) if errors else (summary() if callable(summary) else
                                                 (str(exc).splitlines() or [type(exc).__name__])[0])
        raise click.ClickException(f"replay stopped: {text}; the dead-letter is unchanged for "
                                   "the records not confirmed") from None
    if config.get("dry_run"):
        for stream, key in out.rehearsed:
            click.echo(f"rehearsed {stream} {key}: sent through the dry run, nothing written")
        click.echo(f"dry run: {len(out.rehearsed)} rehearsed, {len(out.superseded)} would be "
                   f"dropped as stale, {len(out.skipped_claimed)} skipped; the dead-letter is "
                   "unchanged")
        return
    for stream, key in out.succeeded:
        click.echo(f"replayed  {stream} {key}: succeeded, left the dead-letter")
    for stream, key in out.superseded:
        click.echo(f"dropped   {stream} {key}: a later run already synced it")
    for stream, key in out.skipped_claimed:
        click.echo(f"skipped   {stream} {key}: another replay is sending or just sent it")
    errors = {e.key: e for e in deadletter.entries(engine, streams, with_namespace(config, keys),
                                                   namespace_of(config))}
    for key in out.still_failed:
        reason = deadletter.error_summary(errors[key].error) if key in errors else "failed"
        click.echo(f"failed    {key[0]} {key[1]}: {reason}")
    click.echo(f"{len(out.succeeded)} succeeded, {len(out.still_failed)} still failing, "
               f"{len(out.superseded)} dropped as stale, {len(out.skipped_claimed)} skipped")
    if out.still_failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
