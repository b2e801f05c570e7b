"""Format the measured figures as Markdown tables (printed, and pasted into RESULTS.md)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.runner import SizeFigures, page_floor


def machine() -> str:
    """nproc, CPU model, memory and Python version of the machine the figures came from."""
    cpu = "unknown CPU"
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        out = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout
        mem = f", {out.splitlines()[1].split()[1]} GiB RAM"
    except (OSError, IndexError):
        pass
    return (f"{os.cpu_count()} CPUs (nproc), {cpu}{mem}, Python {sys.version.split()[0]}, "
            f"{platform.system()} {platform.release()}")


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[object]]) -> str:
    lines = [_row(head), _row(["---"] * len(head))]
    lines += [_row(r) for r in rows]
    return "\n".join(lines)


def hubspot_table(figs: list[SizeFigures]) -> str:
    """Calls per write kind vs floor, 429s, wall time vs the rate-limit floor."""
    rows = []
    for f in figs:
        if not f.ok:
            rows.append([f.invoices, f.rate_limit, "FAILED"] + [""] * 9)
            continue
        calls = f.hubspot_calls
        objects = sum(n for k, n in calls.items() if k.startswith("write "))
        assoc = sum(n for k, n in calls.items() if k.startswith("assoc "))
        other = f.hubspot_total - objects - assoc
        rows.append([f.invoices, f.rate_limit, f.hubspot_total, other, objects, f.object_floor,
                     assoc, f.floor_total - f.object_floor, f.hubspot_429, f"{f.wall_s:.1f}",
                     f"{f.calls_rate_s:.0f}", f"{f.rate_floor_s:.0f}"])
    return _table(["invoices", "limit/10s", "calls (all)", "setup+reads", "object writes",
                   "object floor", "assoc calls", "assoc floor", "429s", "wall s",
                   "min wall s, calls made", "min wall s, full floor"], rows)


def kinds_table(f: SizeFigures) -> str:
    """Per kind: calls made vs ceil(n/100) floor, for one size."""
    kinds = sorted(set(f.hubspot_calls) | set(f.hubspot_floor))
    rows = []
    for kind in kinds:
        if kind == "429":
            continue
        items = ""
        if kind.startswith("write "):
            items = f.objects.get(kind[6:], "")
        elif kind.startswith("assoc ") and kind != "assoc (single)":
            items = f.associations.get(kind[6:], "")
        rows.append([kind, items, f.hubspot_calls.get(kind, 0), f.hubspot_floor.get(kind, "-")])
    return _table(["kind", "objects/links", "calls", "floor ceil(n/100)"], rows)


def sap_table(figs: list[SizeFigures]) -> str:
    """SAP GETs vs ceil(records/page) (the run-start probe counted apart)."""
    rows = []
    for f in figs:
        if not f.ok:
            continue
        for entity, n in f.sap_records.items():
            gets, probes = f.sap_requests.get(entity, 0), f.sap_probes.get(entity, 0)
            rows.append([f.invoices, entity, n, gets, probes, gets - probes,
                         page_floor(n, f.page_size)])
    return _table(["invoices", "entity set", "records", "GETs (run 1)", "probes",
                   "page GETs", "ceil(records/page)"], rows)


def speed_table(figs: list[SizeFigures]) -> str:
    """Tap alone vs the plain loop, and peak memory of each process."""
    rows = []
    for f in figs:
        if not f.ok:
            continue
        tap_rate = f.tap_only_records / f.tap_only_s if f.tap_only_s else 0
        stream_rate = f.tap_only_records / f.tap_stream_s if f.tap_stream_s else 0
        base_rate = f.baseline_records / f.baseline_s if f.baseline_s else 0
        rows.append([f.invoices, f.tap_only_records, f"{f.tap_only_s:.1f}", f"{tap_rate:.0f}",
                     f"{f.tap_stream_s:.1f}", f"{stream_rate:.0f}", f.baseline_records,
                     f"{f.baseline_s:.1f}", f"{base_rate:.0f}", f"{f.tap_rss_mib:.0f}",
                     f"{f.target_rss_mib:.0f}"])
    return _table(["invoices", "tap records", "tap s (process)", "tap rec/s", "tap s (sync)",
                   "tap rec/s (sync)", "loop records", "loop s", "loop rec/s",
                   "tap peak RSS MiB", "target peak RSS MiB"], rows)


def cpu_table(figs: list[SizeFigures]) -> str:
    """Where run 1's time went: CPU seconds of tap, target and the sandboxes (2 cores shared)."""
    rows = [[f.invoices, f.rate_limit, f"{f.wall_s:.1f}", f"{f.tap_cpu_s:.1f}",
             f"{f.target_cpu_s:.1f}", f"{f.sandbox_cpu_s:.1f}"] for f in figs if f.ok]
    return _table(["invoices", "limit/10s", "wall s", "tap CPU s", "target CPU s",
                   "sandboxes CPU s"], rows)


def rerun_table(figs: list[SizeFigures]) -> str:
    """A second run with nothing changed in SAP."""
    rows = [[f.invoices, "yes" if f.rerun_ok else "NO", f"{f.rerun_s:.1f}",
             f.rerun_hubspot_writes, f.rerun_hubspot_calls, f.rerun_sap_requests]
            for f in figs if f.ok]
    return _table(["invoices", "completed", "wall s", "HubSpot writes", "HubSpot calls (all)",
                   "SAP requests (all)"], rows)


def render(figs: list[SizeFigures]) -> str:
    """The whole report."""
    parts = [f"Machine: {machine()}", "", "## HubSpot: calls vs floor, 429s, wall time",
             hubspot_table(figs)]
    for f in figs:
        if f.ok:
            parts += ["", f"### HubSpot calls by kind, {f.invoices} invoices "
                      f"(limit {f.rate_limit}/10s)", kinds_table(f)]
    parts += ["", "## SAP: requests vs pages", sap_table(figs), "",
              "## Tap speed vs plain requests loop, peak RSS", speed_table(figs), "",
              "## Where the time goes (run 1, CPU seconds)", cpu_table(figs), "",
              "## Second run, nothing changed", rerun_table(figs)]
    failed = [f for f in figs if not f.ok]
    for f in failed:
        parts += ["", f"FAILED: {f.invoices} invoices at {f.rate_limit}/10s:", "```",
                  f.error, "```"]
    return "\n".join(parts)
