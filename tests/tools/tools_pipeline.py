"""Run tap-sapb1 and target-hubspot-finance in-process against the sandboxes (no Meltano)."""

from __future__ import annotations

import contextlib
import io
import json

from sqlalchemy import MetaData, Table, create_engine, inspect, select

from tap_sapb1.tap import TapSAPB1
from target_hubspot_finance.target import TargetHubSpotFinance

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
SAP_PASSWORD = "S3cr3t-B1-passw0rd!"


def tap_messages(tap_config: dict, streams: tuple[str, ...] | None = None) -> str:
    """The tap's Singer output (all streams, or only `streams`) as one string."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap = TapSAPB1(config=tap_config)
        try:
            if streams is not None:
                for name, stream in tap.streams.items():
                    stream.selected = name in streams
            tap.sync_all()
        finally:
            tap.close()
    return out.getvalue()


def only_streams(messages: str, streams: set[str]) -> str:
    """Keep the SCHEMA/RECORD lines of `streams` (and no STATE)."""
    kept = []
    for line in messages.splitlines():
        msg = json.loads(line)
        if msg.get("type") in ("SCHEMA", "RECORD") and msg.get("stream") in streams:
            kept.append(line)
    return "\n".join(kept) + "\n"


def run_target(config: dict, messages: str) -> list[dict]:
    """Feed messages to the target; returns the STATE messages it emitted."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        TargetHubSpotFinance(config=config).listen(io.StringIO(messages))
    return [json.loads(line) for line in out.getvalue().splitlines()
            if line.strip() and json.loads(line).get("type", "STATE") == "STATE"]


def table_rows(ledger_url: str, table: str) -> list[dict]:
    engine = create_engine(ledger_url)
    try:
        if not inspect(engine).has_table(table):
            return []
        with engine.connect() as conn:
            reflected = Table(table, MetaData(), autoload_with=engine)
            return [dict(r) for r in conn.execute(select(reflected)).mappings()]
    finally:
        engine.dispose()
