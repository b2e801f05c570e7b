"""Run tap-sapb1 in-process or as the `tap-sapb1` command, and read what it wrote."""

from __future__ import annotations

import io
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_sapb1.tap import TapSAPB1

BIN = Path(sys.executable).parent
INCREMENTAL = ("business_partners", "invoices", "credit_notes", "incoming_payments")
ENTITY_OF = {"business_partners": "BusinessPartners", "invoices": "Invoices",
             "credit_notes": "CreditNotes", "incoming_payments": "IncomingPayments",
             "chart_of_accounts": "ChartOfAccounts", "profit_centers": "ProfitCenters",
             "payment_terms_types": "PaymentTermsTypes"}
KEY_OF = {"business_partners": "CardCode", "invoices": "DocEntry", "credit_notes": "DocEntry",
          "incoming_payments": "DocEntry", "chart_of_accounts": "Code",
          "profit_centers": "CenterCode", "payment_terms_types": "GroupNumber"}


@dataclass
class Output:
    """The Singer messages of one run, grouped."""

    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    schemas: dict[str, dict] = field(default_factory=dict)
    states: list[dict] = field(default_factory=list)

    @property
    def state(self) -> dict | None:
        """The last STATE value."""
        return self.states[-1] if self.states else None

    def keys(self, stream: str) -> list[Any]:
        """The primary keys of a stream's records, in emission order."""
        return [r[KEY_OF[stream]] for r in self.records[stream]]


def parse(stdout: str) -> Output:
    """Group the Singer messages of a run's stdout."""
    out = Output()
    for line in stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        if message["type"] == "RECORD":
            out.records[message["stream"]].append(message["record"])
        elif message["type"] == "SCHEMA":
            out.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            out.states.append(message["value"])
    return out


def fast(config: dict, **overrides: Any) -> dict:
    """A config with tiny backoff waits so retry tests take milliseconds."""
    return {**config, "backoff_seconds": 0.01, **overrides}


def catalog_for(config: dict, streams: tuple[str, ...] | list[str]) -> dict:
    """The tap's curated catalog (a standard company's) with only `streams` selected, built
    offline, so a test's request counts are its sync's alone (discovery: test_discovery.py)."""
    tap = TapSAPB1(config=config, validate_config=False)
    tap.run.metadata(lambda: None)  # metadata unknown: the curated schemas, no login
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = chosen
    return catalog


def run_tap(config: dict, streams: tuple[str, ...] | list[str] | None = None,
            state: dict | None = None, catalog: dict | None = None) -> Output:
    """One in-process sync (`catalog`, selected `streams`, or all), logged out at the end."""
    if catalog is None and streams is not None:
        catalog = catalog_for(config, streams)
    tap = TapSAPB1(config=config, state=state, catalog=catalog)
    buffer = io.StringIO()
    try:
        with redirect_stdout(buffer):
            tap.sync_all()
    finally:
        tap.close()
    return parse(buffer.getvalue())


@dataclass
class CliRun:
    """A finished `tap-sapb1` command."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> Output:
        """Its Singer messages."""
        return parse(self.stdout)

    def error_lines(self) -> list[str]:
        """The stderr lines logged at ERROR level."""
        return [line for line in self.stderr.splitlines() if "ERROR" in line]


def run_cli(tmp_path: Path, config: dict, *args: str, state: dict | None = None,
            streams: tuple[str, ...] | None = None, env: dict | None = None,
            timeout: float = 60) -> CliRun:
    """`tap-sapb1 --config ... [args]` as a subprocess."""
    config_path = tmp_path / "tap-config.json"
    config_path.write_text(json.dumps(config))
    command = [str(BIN / "tap-sapb1"), "--config", str(config_path), *args]
    if state is not None:
        state_path = tmp_path / "tap-state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    if streams is not None:
        catalog_path = tmp_path / "tap-catalog.json"
        catalog_path.write_text(json.dumps(catalog_for(config, streams)))
        command += ["--catalog", str(catalog_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)
    return CliRun(done.returncode, done.stdout, done.stderr)


def page_requests(sandbox: Any, entity_set: str) -> list[Any]:
    """The keyset/collection page requests of an entity set (not the $top=1 start probe, nor
    the read of records without an UpdateTime: see `null_time_reads`)."""
    return [r for r in sandbox.requests
            if r.path.endswith("/" + entity_set) and r.method == "GET"
            and r.query.get("$top") != "1" and r not in null_time_reads(sandbox, entity_set)]


def null_time_reads(sandbox: Any, entity_set: str) -> list[Any]:
    """The pages of an incremental run's read of records without an UpdateTime."""
    return [r for r in sandbox.requests
            if r.path.endswith("/" + entity_set) and r.method == "GET"
            and "UpdateTime eq null" in (r.query.get("$filter") or "")]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (for refused connections and fixed ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pages_needed(n: int, page: int) -> int:
    """ceil(n / page)."""
    return max(1, math.ceil(n / page))


SAP_PASSWORD = "S3cr3t-B1-passw0rd!"


def sandbox_zone() -> str | None:
    """The SAP sandbox's server zone as an IANA name: its clock is this machine's local time
    (None for a zone that is not a whole hour from GMT; Etc/ names exist for those only)."""
    offset = time.localtime().tm_gmtoff
    if offset % 3600:
        return None
    return f"Etc/GMT{-offset // 3600:+d}" if offset else "UTC"


def config_for(sandbox: Any, url: str | None = None, **overrides: Any) -> dict:
    """tap settings for a sandbox (short timeout, tiny backoff, the sandbox's server zone as an
    operator sets it: without one the bookmark stays 12 h behind SAP's Date header)."""
    zone = {"server_timezone": sandbox_zone()} if sandbox_zone() else {}
    return {"service_layer_url": url or sandbox.url, "company_db": "SBODEMOUS",
            "username": "manager", "password": SAP_PASSWORD,
            "start_date": "2000-01-01T00:00:00Z", "request_timeout": 5, "max_retries": 3,
            "backoff_seconds": 0.01, **zone, **overrides}
