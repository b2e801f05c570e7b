"""What the demo prints: per-stream sync figures from the target's ledger, and HubSpot's side.

Kept apart from the flow in demo.py so that the e2e tests can print the same figures. The ledger
is read through its contract (docs/CONTRACTS.md: table `sync_events` with `stream` and `action`),
reflected rather than imported, because the target lives in Meltano's own virtualenv.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

ACTIONS = ("created", "updated", "unchanged", "failed", "skipped")
HUBSPOT_OBJECTS = ("companies", "contacts", "invoices", "line_items", "commerce_payments")
HUBSPOT_ASSOCIATIONS = (
    ("invoices", "companies"),
    ("invoices", "contacts"),
    ("invoices", "line_items"),
    ("commerce_payments", "invoices"),
    ("companies", "contacts"),
)


def ledger_event_counts(ledger_url: str) -> Counter[tuple[str, str]]:
    """(stream, action) -> number of sync events so far; empty when there is no ledger yet."""
    from sqlalchemy import MetaData, Table, create_engine, func, inspect, select

    engine = create_engine(ledger_url)
    try:
        if not inspect(engine).has_table("sync_events"):
            return Counter()
        events = Table("sync_events", MetaData(), autoload_with=engine)
        query = select(events.c.stream, events.c.action, func.count()).group_by(
            events.c.stream, events.c.action)
        with engine.connect() as conn:
            return Counter({(s, a): n for s, a, n in conn.execute(query)})
    finally:
        engine.dispose()


def stream_table(delta: Counter[tuple[str, str]]) -> str:
    """A per-stream table of one run's sync events (read = every event of the stream)."""
    streams = sorted({stream for stream, _ in delta})
    header = f"  {'stream':<20}{'read':>8}" + "".join(f"{a:>11}" for a in ACTIONS)
    lines = [header, "  " + "-" * (len(header) - 2)]
    for stream in streams:
        counts = [delta[(stream, a)] for a in ACTIONS]
        read = sum(n for (s, _), n in delta.items() if s == stream)
        lines.append(f"  {stream:<20}{read:>8}" + "".join(f"{n:>11}" for n in counts))
    if not streams:
        lines.append("  (no sync events recorded)")
    return "\n".join(lines)


def subtract(after: Counter[Any], before: Counter[Any]) -> Counter[Any]:
    """after - before, keeping keys that only grew (Counter's `-` drops zeros, which we want)."""
    return after - before


def hubspot_table(hs: Any) -> str:
    """Objects and associations now stored in the HubSpot sandbox."""
    objects = ", ".join(f"{name} {len(hs.objects(name))}" for name in HUBSPOT_OBJECTS)
    assocs = ", ".join(f"{a}->{b} {len(hs.associations(a, b))}" for a, b in HUBSPOT_ASSOCIATIONS)
    return f"  objects:      {objects}\n  associations: {assocs}"


def call_summary(label: str, writes: int, calls: int, throttled: int, seconds: float) -> str:
    """One line of HubSpot traffic for a run."""
    return (f"  {label}: {calls} HubSpot calls, {writes} writes, {throttled} answered 429, "
            f"{seconds:.1f} s")


def bookmarks(state: dict) -> Iterable[tuple[str, Any]]:
    """(stream, replication_key_value) pairs of a Singer state, for a short listing."""
    for stream, bookmark in sorted(state.get("singer_state", state).get("bookmarks", {}).items()):
        if isinstance(bookmark, dict):
            yield stream, bookmark.get("replication_key_value", bookmark)
