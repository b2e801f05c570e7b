"""`make demo`: the whole job, end to end, against the two local sandboxes.

1. `meltano install` (uv) puts the tap, the mapper and the target into .meltano/;
2. the SAP sandbox starts with a seeded company, the HubSpot sandbox with an empty portal
   (in this process, on 127.0.0.1: SAP :50050 and HubSpot :50060 as meltano.yml's `sandbox`
   environment says, or free ports when those are taken);
3. `meltano run sap-to-hubspot` (tap -> stream maps -> target) fills HubSpot; the per-stream
   summary comes from the target's ledger, the bookmark from `meltano state get`;
4. the same job runs again and must write nothing to HubSpot (the sandbox's request log counts);
5. the sandboxes stop, also on Ctrl-C or failure.

The target's ledger and the run logs live in .demo/, wiped at the start so every demo starts
from the same point. The bookmarks go where Meltano keeps them by default, the project's system
database (.meltano/meltano.db), so `meltano state list` and `meltano state get` typed next in the
project show what the demo printed; the demo clears its own state id before run 1 (its HubSpot
sandbox starts empty, so an older bookmark would skip records).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import demo_report as report

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
BIN = Path(sys.executable).parent
ENVIRONMENT = "sandbox"
JOB = "sap-to-hubspot"
STATE_ID = f"{ENVIRONMENT}:tap-sapb1-to-target-hubspot-finance"
SAP_PORT, HUBSPOT_PORT = 50050, 50060  # the `sandbox` environment's URLs in meltano.yml
RUN_TIMEOUT = 1800


class DemoError(Exception):
    """A step failed; the message says which and where its log is."""


@dataclass
class RunFigures:
    """What one `meltano run` did, seen from the ledger and from the HubSpot sandbox."""

    events: Any
    writes: int
    calls: int
    throttled: int
    seconds: float


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def free_or_any(port: int) -> int:
    """The fixed port when it is free, else 0 (the sandbox then picks a free one)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def meltano_env(overrides: dict[str, str]) -> dict[str, str]:
    """The environment `meltano` runs in: this venv first on PATH, the ledger in .demo/, the
    state in the project's default system database (what a plain `meltano state list` reads)."""
    env = dict(os.environ)
    env.pop("MELTANO_DATABASE_URI", None)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "MELTANO_PROJECT_ROOT": str(ROOT),
        "MELTANO_ENVIRONMENT": ENVIRONMENT,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TARGET_HUBSPOT_FINANCE_LEDGER_URL": ledger_url(),
    })
    env.update(overrides)
    return env


def ledger_url() -> str:
    return f"sqlite:///{DEMO_DIR / 'hubspot_finance_ledger.db'}"


def meltano(args: list[str], env: dict[str, str], log_name: str) -> str:
    """Run one meltano command, its output to .demo/<log_name>; its stdout back on success."""
    log_path = DEMO_DIR / log_name
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(BIN / "meltano"), *args], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except BaseException:  # Ctrl-C or timeout: never leave meltano (and its plugins) behind
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            if proc.poll() is None:
                proc.kill()
            raise
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-25:]
        raise DemoError(f"`meltano {' '.join(args)}` exited {proc.returncode}; "
                        f"last lines of {log_path.relative_to(ROOT)}:\n" + "\n".join(tail))
    return out


@contextlib.contextmanager
def sandboxes(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """Both sandboxes running on 127.0.0.1 for the duration of the block."""
    from hubspot_sandbox import HubSpotSandbox
    from sap_sandbox import DataSpec, SapSandbox
    from sap_sandbox.schema import HUBSPOT_UDFS

    spec = DataSpec(seed=args.seed, customers=args.customers, suppliers=args.customers // 10,
                    leads=args.customers // 10, invoices=args.invoices,
                    credit_notes=max(3, args.invoices // 100), payments=args.invoices // 2,
                    lines_per_invoice=(1, 5))
    # a company with the UDFs the job can use (U_HubSpotDealId on documents, U_Segment on
    # business partners); the sandbox's default company is a standard one without them
    sap = SapSandbox(data=spec, port=free_or_any(SAP_PORT), udfs=HUBSPOT_UDFS)
    hubspot = HubSpotSandbox(rate_limit_per_10s=190, port=free_or_any(HUBSPOT_PORT))
    with sap, hubspot:
        yield sap, hubspot


def link_deals(sap: Any, hubspot: Any) -> int:
    """Give the invoices that reference a HubSpot deal (U_HubSpotDealId) a deal that exists.

    The generator fills the field with made-up ids, as a fresh portal has no deals; in a real
    company sales created the deal first and typed its id into SAP. Do the same here: create the
    deals in HubSpot, write their ids into SAP (which stamps UpdateDate as SAP would).
    """
    invoices = [inv for inv in sap.all("Invoices") if inv.get("U_HubSpotDealId")]
    client = hubspot.client()
    try:
        for start in range(0, len(invoices), 100):
            chunk = invoices[start:start + 100]
            inputs = [{"properties": {"dealname": f"{inv['CardName']} / SAP {inv['DocNum']}",
                                      "amount": str(inv["DocTotal"])}} for inv in chunk]
            answer = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": inputs})
            if answer.status_code not in (200, 201):
                raise DemoError(f"creating deals in the HubSpot sandbox: {answer.status_code}")
            for inv, deal in zip(chunk, answer.json()["results"], strict=True):
                sap.update("Invoices", inv["DocEntry"], {"U_HubSpotDealId": str(deal["id"])})
    finally:
        client.close()
    return len(invoices)


def run_job(env: dict[str, str], hubspot: Any, n: int) -> RunFigures:
    """`meltano run sap-to-hubspot` once, measured."""
    events_before = report.ledger_event_counts(ledger_url())
    writes_before, calls_before = hubspot.writes(), len(hubspot.requests)
    throttled_before = hubspot.count(status=429)
    started = time.monotonic()
    meltano(["run", JOB], env, f"run-{n}.log")
    seconds = time.monotonic() - started
    return RunFigures(
        events=report.subtract(report.ledger_event_counts(ledger_url()), events_before),
        writes=hubspot.writes() - writes_before,
        calls=len(hubspot.requests) - calls_before,
        throttled=hubspot.count(status=429) - throttled_before,
        seconds=seconds,
    )


def target_summary(n: int) -> str:
    """The target's own end-of-run summary lines from the run's log (Meltano prefixes them)."""
    marker = "target-hubspot-finance summary "
    lines = (DEMO_DIR / f"run-{n}.log").read_text(errors="replace").splitlines()
    return "\n".join(textwrap.fill(line.split(marker, 1)[1], width=100, initial_indent="  ",
                                   subsequent_indent="    ")
                     for line in lines if marker in line)


def show_state(env: dict[str, str]) -> None:
    print(f"$ meltano state list\n  {meltano(['state', 'list'], env, 'state-list.log').strip()}")
    raw = meltano(["state", "get", STATE_ID], env, "state-get.log")
    state = json.loads(raw)
    print(f"$ meltano state get {STATE_ID}   (bookmarks; full JSON in .demo/state.json)")
    for stream, value in report.bookmarks(state):
        print(f"  {stream:<20} {value}")
    (DEMO_DIR / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def demo(args: argparse.Namespace) -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir()

    step("Installing the plugins into .meltano/ (meltano install, uv)")
    started = time.monotonic()
    meltano(["install"], meltano_env({}), "install.log")
    print(f"  done in {time.monotonic() - started:.0f} s")

    step(f"Starting the sandboxes: {args.customers} customers, {args.invoices} invoices (seed "
         f"{args.seed})")
    with sandboxes(args) as (sap, hubspot):
        print(f"  SAP Service Layer  {sap.url}\n  HubSpot API        {hubspot.url}")
        print(f"  {link_deals(sap, hubspot)} invoices linked to a HubSpot deal (U_HubSpotDealId)")
        env = meltano_env({"TAP_SAPB1_SERVICE_LAYER_URL": sap.url,
                           "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hubspot.url})

        meltano(["state", "clear", "--force", STATE_ID], env, "state-clear.log")
        step(f"Run 1: meltano run {JOB}   (tap-sapb1 -> sap-to-hubspot-rules -> "
             "target-hubspot-finance)")
        first = run_job(env, hubspot, 1)
        print(report.stream_table(first.events))
        print(report.call_summary("run 1", first.writes, first.calls, first.throttled,
                                  first.seconds))
        print("The target's own summary (.demo/run-1.log):\n" + target_summary(1))
        print("HubSpot sandbox now holds:\n" + report.hubspot_table(hubspot))
        print(f"  SAP requests: {len(sap.requests)} (logins {sap.count(path_contains='Login')})")

        step("Meltano state after run 1")
        show_state(env)

        step(f"Run 2: meltano run {JOB} again, nothing changed in SAP")
        second = run_job(env, hubspot, 2)
        print(report.stream_table(second.events))
        print(report.call_summary("run 2", second.writes, second.calls, second.throttled,
                                  second.seconds))

    step("Sandboxes stopped. Logs and ledger are in .demo/; the bookmarks in the project's "
         f"Meltano database (`meltano state get {STATE_ID}`)")
    if first.writes == 0:
        print("FAILED: run 1 wrote nothing to HubSpot")
        return 1
    if second.writes != 0:
        print(f"FAILED: run 2 made {second.writes} HubSpot writes; expected 0")
        return 1
    print(f"OK: run 1 wrote HubSpot in {first.writes} calls; run 2 changed nothing "
          "(0 HubSpot writes).")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C and a plain `kill` both end in the same cleanup (meltano stopped, sandboxes stopped),
    # even when the demo was started in the background, where SIGINT comes in ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    try:
        return demo(args)
    except DemoError as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; sandboxes stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
