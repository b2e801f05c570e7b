"""Measure one size: a full run, the tap alone, a plain-requests baseline, and a rerun.

Every figure of one size comes from the same sandboxes in the same process, so the counts and
the timings describe the same run.
"""

from __future__ import annotations

import json
import math
import re
import resource
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.hubspot_calls import calls_by_kind, floors, hubspot_inventory
from bench.pipeline import Pipeline, run_tap_only
from bench.sap_baseline import replay, tap_gets
from bench.world import world

# What meltano.yml selects: the reference streams stay unselected.
SELECTED = ["business_partners", "invoices", "credit_notes", "incoming_payments"]
STREAM_ENTITY = {"business_partners": "BusinessPartners", "invoices": "Invoices",
                 "credit_notes": "CreditNotes", "incoming_payments": "IncomingPayments",
                 "chart_of_accounts": "ChartOfAccounts", "profit_centers": "ProfitCenters",
                 "payment_terms_types": "PaymentTermsTypes"}
HUBSPOT_TYPES = ["companies", "contacts", "deals", "invoices", "line_items", "commerce_payments"]


@dataclass
class SizeFigures:
    """Everything measured for one invoice count at one rate limit."""

    invoices: int
    rate_limit: int
    page_size: int
    ok: bool = False
    error: str = ""
    wall_s: float = 0.0
    hubspot_calls: Counter = field(default_factory=Counter)
    hubspot_floor: dict[str, int] = field(default_factory=dict)
    hubspot_total: int = 0
    hubspot_429: int = 0
    objects: dict[str, int] = field(default_factory=dict)
    associations: dict[str, int] = field(default_factory=dict)
    sap_requests: dict[str, int] = field(default_factory=dict)
    sap_probes: dict[str, int] = field(default_factory=dict)
    tap_stream_s: float = 0.0
    tap_cpu_s: float = 0.0
    target_cpu_s: float = 0.0
    sandbox_cpu_s: float = 0.0
    sap_records: dict[str, int] = field(default_factory=dict)
    sap_logins: int = 0
    tap_rss_mib: float = 0.0
    target_rss_mib: float = 0.0
    tap_only_s: float = 0.0
    tap_only_records: int = 0
    tap_only_rss_mib: float = 0.0
    baseline_s: float = 0.0
    baseline_records: int = 0
    baseline_pages: int = 0
    rerun_ok: bool = False
    rerun_s: float = 0.0
    rerun_hubspot_writes: int = 0
    rerun_hubspot_calls: int = 0
    rerun_sap_requests: int = 0

    @property
    def floor_total(self) -> int:
        """Sum of ceil(n/100) over every object and association kind written."""
        return sum(self.hubspot_floor.values())

    @property
    def object_floor(self) -> int:
        """ceil(n/100) summed over object kinds only (associations can ride on batch create)."""
        return sum(n for k, n in self.hubspot_floor.items() if k.startswith("write "))

    @property
    def rate_floor_s(self) -> float:
        """Least wall time the floor's calls need under the limit (see min_wall_s)."""
        return min_wall_s(self.floor_total, self.rate_limit)

    @property
    def calls_rate_s(self) -> float:
        """Least wall time the calls actually made need under the limit."""
        return min_wall_s(self.hubspot_total, self.rate_limit)


def _own_cpu_s() -> float:
    """CPU seconds of this process so far: the two sandboxes' threads (and the harness)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def min_wall_s(calls: int, limit: int) -> float:
    """Least seconds `calls` requests need under `limit` per rolling 10 s: the first `limit` go
    at once, each further `limit` waits one more window."""
    return 10.0 * ((calls - 1) // limit) if calls > 0 else 0.0


def _sap_counts(requests: list, entities: list[str]) -> tuple[dict, dict, int]:
    """GETs and run-start probes per entity set, and logins, in a slice of the SAP log."""
    per: dict[str, int] = dict.fromkeys(entities, 0)
    probes: dict[str, int] = dict.fromkeys(entities, 0)
    logins = 0
    for req in requests:
        name = req.path.rstrip("/").rsplit("/", 1)[-1]
        if req.method == "POST" and name == "Login":
            logins += 1
        elif req.method == "GET" and name in per:
            per[name] += 1
            if " desc" in str((req.query or {}).get("$orderby", "")):
                probes[name] += 1
    return per, probes, logins


_METRIC = re.compile(r'METRIC: (\{.*\})')


def sync_seconds(tap_stderr: str) -> float:
    """Sum of singer-sdk's per-stream sync_duration metrics: the tap's time minus start-up."""
    total = 0.0
    for match in _METRIC.finditer(tap_stderr):
        try:
            metric = json.loads(match.group(1))
        except ValueError:
            continue
        if metric.get("metric") == "sync_duration":
            total += float(metric.get("value") or 0)
    return total


def measure(invoices: int, rate_limit: int, page_size: int, workdir: Path,
            set_target_rate: bool = False, timeout: float = 3600.0,
            baseline: bool = True, rerun: bool = True) -> SizeFigures:
    """Run the whole measurement for one size; failures are recorded, not raised."""
    figures = SizeFigures(invoices=invoices, rate_limit=rate_limit, page_size=page_size)
    entities = [STREAM_ENTITY[s] for s in SELECTED]
    with world(workdir, invoices, rate_limit=rate_limit, page_size=page_size,
               set_target_rate=set_target_rate) as w:
        pipe = Pipeline(workdir / "pipeline", w.tap_config(), w.target_config(), select=SELECTED)
        pipe.write_catalog()
        sap_before = len(w.sap.requests)
        own_before = _own_cpu_s()
        result = pipe.run(timeout=timeout)
        figures.sandbox_cpu_s = _own_cpu_s() - own_before
        figures.tap_cpu_s, figures.target_cpu_s = result.tap_cpu_s, result.target_cpu_s
        figures.ok, figures.wall_s = result.ok, result.wall_s
        if not result.ok:
            figures.error = result.describe()[-600:]
            return figures
        figures.tap_rss_mib = result.tap_maxrss_kib / 1024
        figures.target_rss_mib = result.target_maxrss_kib / 1024
        calls = calls_by_kind(w.hubspot.requests)
        figures.hubspot_calls = calls
        figures.hubspot_total = len(w.hubspot.requests)
        figures.hubspot_429 = calls.get("429", 0)
        figures.objects, figures.associations = hubspot_inventory(w.hubspot, HUBSPOT_TYPES)
        figures.hubspot_floor = floors(figures.objects, figures.associations)
        figures.sap_requests, figures.sap_probes, figures.sap_logins = _sap_counts(
            w.sap.requests[sap_before:], entities)
        figures.sap_records = {e: len(w.sap.all(e)) for e in entities}

        if rerun:
            hs_before, sap_before = len(w.hubspot.requests), len(w.sap.requests)
            writes_before = w.hubspot.writes()
            again = pipe.run(timeout=timeout)
            figures.rerun_ok, figures.rerun_s = again.ok, again.wall_s
            figures.rerun_hubspot_writes = w.hubspot.writes() - writes_before
            figures.rerun_hubspot_calls = len(w.hubspot.requests) - hs_before
            figures.rerun_sap_requests = len(w.sap.requests) - sap_before

        sap_mark = len(w.sap.requests)
        alone = run_tap_only(pipe)
        figures.tap_only_s = alone.wall_s
        figures.tap_only_records = sum(alone.records.values())
        figures.tap_only_rss_mib = alone.maxrss_kib / 1024
        figures.tap_stream_s = sync_seconds(alone.stderr)
        if baseline:
            base = replay(w.sap.url, tap_gets(w.sap.requests[sap_mark:]), page_size)
            figures.baseline_s, figures.baseline_records = base.seconds, base.records
            figures.baseline_pages = base.pages
    return figures


def page_floor(records: int, page_size: int) -> int:
    """Pages a keyset read of `records` needs at `page_size` (at least one request)."""
    return max(1, math.ceil(records / page_size))
