"""Reading the dead-letter table for operators: entries, a one-line HubSpot error, a table.

The columns are the ledger contract (docs/CONTRACTS.md): stream, sap_key, doc_num, record,
error, first_failed_at, last_failed_at, attempts. The table is reflected rather than imported so
listing works on any ledger the target wrote, even one from an older version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import Engine

TABLE = "dead_letter"
# The record field each stream's ledger key is made of (sinks: CardCode, else DocEntry).
KEY_FIELDS = {"business_partners": "CardCode"}


@dataclass(frozen=True)
class DeadLetterEntry:
    """One failed record waiting for replay."""

    stream: str
    sap_key: str
    doc_num: str
    record: dict
    error: Any
    first_failed_at: datetime | str | None
    last_failed_at: datetime | str | None
    attempts: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.stream, self.sap_key)


def _loads(value: object) -> Any:
    """A JSON column as Python, whether the driver gives text (SQLite) or objects (PostgreSQL)."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def error_summary(error: Any, width: int = 140) -> str:
    """HubSpot's error as one line: category and message (207 per-input or whole-batch bodies)."""
    if isinstance(error, list) and error:
        error = error[0]
    if isinstance(error, dict):
        inner = error.get("error") if isinstance(error.get("error"), dict) else None
        body = inner or error
        category = body.get("category") or body.get("status_code") or body.get("status") or ""
        message = body.get("message") or body.get("detail") or json.dumps(body, sort_keys=True)
        message = _property_errors(str(message))
        text = f"{category}: {message}" if category else str(message)
    else:
        text = str(error or "")
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _property_errors(message: str) -> str:
    """HubSpot's `Property values were not valid: [json]` as `name: message; ...` (readable,
    and the property name survives truncation)."""
    head = "Property values were not valid: "
    if not message.startswith(head):
        return message
    try:
        items = json.loads(message[len(head):])
    except ValueError:
        return message
    parts = [f"{i.get('name')}: {i.get('message')}" for i in items if isinstance(i, dict)]
    return head + "; ".join(parts) if parts else message


def table(engine: Engine) -> Table | None:
    """The reflected dead-letter table, or None when the ledger has none yet."""
    if not inspect(engine).has_table(TABLE):
        return None
    return Table(TABLE, MetaData(), autoload_with=engine)


def belongs_to(entry: DeadLetterEntry, namespace: str | None) -> bool:
    """Is this row one SAP company's (`key_namespace`)? Its ledger key is the namespaced key
    of its own record, so a row of another company (or of no namespace) never matches; a
    record without its key field falls back to the key's prefix."""
    prefix = f"{namespace}:" if namespace else ""
    own = entry.record.get(KEY_FIELDS.get(entry.stream, "DocEntry")) \
        if isinstance(entry.record, dict) else None
    if own is not None and str(own) != "":
        return entry.sap_key == f"{prefix}{own}"
    return entry.sap_key.startswith(prefix) if prefix else True


def entries(engine: Engine, streams: Sequence[str] = (), keys: Sequence[str] = (),
            namespace: str | None = None) -> list[DeadLetterEntry]:
    """Dead-letter rows of one SAP company (`namespace`), oldest failure first; `streams` /
    `keys` narrow them (a key matches the SAP key or the SAP document number)."""
    dl = table(engine)
    if dl is None:
        return []
    query = select(dl).order_by(dl.c.first_failed_at, dl.c.stream, dl.c.sap_key)
    if namespace:  # the database narrows; belongs_to decides
        query = query.where(dl.c.sap_key.startswith(f"{namespace}:", autoescape=True))
    if streams:
        query = query.where(dl.c.stream.in_(list(streams)))
    if keys:
        wanted = [str(k) for k in keys]
        query = query.where(dl.c.sap_key.in_(wanted) | dl.c.doc_num.in_(wanted))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    found = [DeadLetterEntry(
        stream=r["stream"], sap_key=str(r["sap_key"]),
        doc_num="" if r["doc_num"] is None else str(r["doc_num"]),
        record=_loads(r["record"]) or {}, error=_loads(r["error"]),
        first_failed_at=r["first_failed_at"], last_failed_at=r["last_failed_at"],
        attempts=int(r["attempts"] or 0)) for r in rows]
    return [e for e in found if belongs_to(e, namespace)]


def _when(value: datetime | str | None) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value or "-")[:19]


def render(items: Iterable[DeadLetterEntry]) -> list[str]:
    """A fixed-width table for a terminal: one line per record, error last so it may run long."""
    head = ("stream", "sap_key", "doc_num", "attempts", "first_failed", "last_failed", "error")
    rows = [(e.stream, e.sap_key, e.doc_num or "-", str(e.attempts), _when(e.first_failed_at),
             _when(e.last_failed_at), error_summary(e.error)) for e in items]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head[:-1])]
    lines = []
    for row in [head, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines
