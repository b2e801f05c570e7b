"""`dry_run: true`: the whole run, every read, no write — and counts of what would be written.

Why through the normal sinks: a rehearsal is only worth something if it takes the same path as
the real run (mapping, ledger hash, company resolution, create-or-update decisions). Two parts
are swapped:
- the ledger is an in-memory copy of the real one, so the sinks see what the real run would
  see and may "record" freely; the real ledger is only read (a missing SQLite file is not even
  created), except its rate-limit slots: the dry run spends the runs' token, so it takes its
  turns in their window (hubspot/shared_limit.tool_limiter);
- the HubSpot client answers writes itself. Whether an upsert or create would create or update
  is decided by a batch read by the object's unique key (100 keys a call, inside the shared rate
  limiter); associations and properties are only counted. Any other write is refused.
The target also emits no STATE message in a dry run (target.py), so no bookmark moves.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot.client import BATCH_LIMIT, BatchResult, HubSpotClient, chunks
from target_hubspot_finance.hubspot.shared_limit import tool_limiter
from target_hubspot_finance.ledger import Ledger, default_ledger_url, metadata
from target_hubspot_finance.report import Report

LOGGER = logging.getLogger("target_hubspot_finance.dryrun")
FAKE_PREFIX = "dryrun-"
READ_ONLY_POSTS = ("/batch/read", "/search")
COPIED_TABLES = ("synced_objects", "synced_links", "pending_links", "applications")


class DryRunRefused(RuntimeError):
    """A write the dry-run client has no simulation for (a bug to fix, never sent)."""


class DryRunClient(HubSpotClient):
    """HubSpotClient that reads for real and simulates every write, counting it per object."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan: Counter[tuple[str, str]] = Counter()  # (object type, create|update) -> n
        self._fake_ids = itertools.count(1)

    # -- safety net: nothing that writes leaves this process --------------------------------
    def request(self, method: str, path: str, body: Any = None, params: dict | None = None,
                kind: str | None = None) -> Any:
        writes = method in ("PATCH", "PUT", "DELETE") or (
            method == "POST" and not path.endswith(READ_ONLY_POSTS))
        if writes:
            raise DryRunRefused(f"dry run: refusing {method} {path}")
        return super().request(method, path, body, params, kind)

    def _existing(self, object_type: str, prop: str, values: list[str]) -> dict[str, str]:
        """HubSpot ids of the objects that already hold these unique values (batch reads)."""
        found: dict[str, str] = {}
        for chunk in chunks(sorted({v for v in values if v}), BATCH_LIMIT):
            result = super().batch(object_type, "read", [{"id": v} for v in chunk],
                                   id_property=prop, properties=[prop])
            found.update({k: str(item["id"]) for k, item in result.results.items()})
        return found

    def _fake_id(self) -> str:
        return f"{FAKE_PREFIX}{next(self._fake_ids)}"

    def batch(self, object_type: str, op: str, inputs: list[dict],
              id_property: str | None = None, properties: Any = ()) -> BatchResult:
        if op == "read":
            return super().batch(object_type, op, inputs, id_property, properties)
        out = BatchResult()
        if op == "upsert":
            prop = inputs[0].get("idProperty") if inputs else None
            existing = self._existing(object_type, prop, [str(i["id"]) for i in inputs]) \
                if prop else {}
            for item in inputs:
                hid = existing.get(str(item["id"]))
                self.plan[(object_type, "update" if hid else "create")] += 1
                out.results[str(item["objectWriteTraceId"])] = {
                    "id": hid or self._fake_id(), "new": hid is None,
                    "properties": item.get("properties", {})}
        elif op == "create":
            prop = mapping.UNIQUE_KEYS.get(object_type)
            values = [str((i.get("properties") or {}).get(prop) or "") for i in inputs]
            existing = self._existing(object_type, prop, values) if prop else {}
            for item, value in zip(inputs, values, strict=True):
                trace = str(item["objectWriteTraceId"])
                if value in existing:  # the real create would answer 409: the sink updates
                    out.errors[trace] = {
                        "status": "error", "category": "CONFLICT",
                        "message": f"A {object_type} object with {prop} {value} already "
                                   f"exists. Existing ID: {existing[value]}",
                        "context": {"objectWriteTraceId": [trace]}}
                    continue
                self.plan[(object_type, "create")] += 1
                out.results[trace] = {"id": self._fake_id(), "new": True,
                                      "properties": item.get("properties", {})}
        elif op == "update":
            for item in inputs:
                if not str(item["id"]).startswith(FAKE_PREFIX):  # else counted as a create
                    self.plan[(object_type, "update")] += 1
                out.results[str(item["objectWriteTraceId"])] = {
                    "id": str(item["id"]), "properties": item.get("properties", {})}
        else:
            raise DryRunRefused(f"dry run: no simulation for batch {op} of {object_type}")
        return out

    def associate_default(self, from_type: str, to_type: str,
                          pairs: Any) -> list[dict]:
        self.plan[(f"associations {from_type}->{to_type}", "create")] += len(set(pairs))
        return []

    def create_group(self, object_type: str, name: str, label: str) -> None:
        self.plan[(f"property group {object_type}", "create")] += 1

    def create_properties(self, object_type: str, definitions: list[dict]) -> None:
        self.plan[(f"properties {object_type}", "create")] += len(definitions)

    def summary_lines(self) -> list[str]:
        """One line per HubSpot object (create / update), then associations and properties."""
        objects = sorted({o for o, _ in self.plan if " " not in o})
        lines = [f"dry run: {o} would create {self.plan[(o, 'create')]}, update "
                 f"{self.plan[(o, 'update')]}" for o in objects]
        links = {o.split(" ", 1)[1]: n for (o, _), n in self.plan.items()
                 if o.startswith("associations ")}
        if links:
            lines.append(f"dry run: associations would create {sum(links.values())} ("
                         + ", ".join(f"{k} {v}" for k, v in sorted(links.items())) + ")")
        props = {o.split(" ", 1)[1]: n for (o, _), n in self.plan.items()
                 if o.startswith("properties ")}
        if props:
            lines.append(f"dry run: custom properties would create {sum(props.values())} ("
                         + ", ".join(f"{k} {v}" for k, v in sorted(props.items())) + ")")
        lines.append("dry run: nothing was written to HubSpot or the ledger; no state emitted")
        return lines


def _source_engine(url: str | None) -> Engine | None:
    """The real ledger, opened only if it exists (a dry run never creates a SQLite file)."""
    url = url or default_ledger_url()
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).exists():
            return None
    return create_engine(url)


def copy_ledger(url: str | None) -> Ledger:
    """An in-memory ledger holding the real ledger's ids, hashes, links and applications."""
    memory = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    ledger = Ledger(engine=memory)
    source = _source_engine(url)
    if source is None:
        return ledger
    try:
        present = set(inspect(source).get_table_names())
        with source.connect() as src, memory.begin() as dst:
            for name in COPIED_TABLES:
                if name not in present:
                    continue
                table = metadata.tables[name]
                rows = src.execute(select(table)).mappings()
                batch: list[dict] = []
                for row in rows:
                    batch.append(dict(row))
                    if len(batch) >= 5000:
                        dst.execute(table.insert(), batch)
                        batch = []
                if batch:
                    dst.execute(table.insert(), batch)
    finally:
        source.dispose()
    return ledger


def build_runtime(runtime_cls: type, config: Mapping[str, Any]) -> Any:
    """A Runtime whose client simulates writes and whose ledger is a throwaway copy."""
    client = DryRunClient(
        config.get("api_base_url") or "https://api.hubapi.com", config["access_token"],
        tool_limiter(config, config["access_token"]),  # the runs' window: same token
        timeout=float(config.get("request_timeout") or 30),
        max_retries=int(config.get("max_retries", 5)),
        backoff_base=float(config.get("backoff_base_seconds") or 1.0))
    LOGGER.info("dry run: HubSpot and the ledger are only read; nothing is written and no "
                "state is emitted")
    return runtime_cls(config=config, ledger=copy_ledger(config.get("ledger_url")),
                       client=client,
                       report=Report(float(config.get("progress_interval_seconds") or 30)))
