"""Several target processes on one token stay under the portal's limit together.

Three `target-hubspot-finance` processes (one ledger database, as a scheduled run beside a replay
or two SAP companies into one portal) write to one sandbox whose limit is low: none meets a 429,
and the requests are spread at the shared rate (the span is near the floor the limit allows).
Before the shared limiter each process kept its own window and together they sent three times
the limit. The unit tests drive the slot table with a fake clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine
from target_factory import customer, messages, run

from hubspot_sandbox import HubSpotSandbox
from target_hubspot_finance.hubspot.rate_limit import RateLimiter
from target_hubspot_finance.hubspot.shared_limit import SharedSlots, shared_limiter, token_bucket

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
LIMIT, WINDOW = 12, 1.0
PROCESSES, CUSTOMERS = 3, 450  # per process: 5 company + 5 contact upserts + links


def _target_exe() -> str:
    return str(Path(sys.executable).with_name("target-hubspot-finance"))


def test_three_processes_on_one_token_meet_no_429_and_share_the_window(tmp_path) -> None:
    with HubSpotSandbox(token=TOKEN, rate_limit_per_10s=LIMIT, window_seconds=WINDOW) as hs:
        config = {"access_token": TOKEN, "api_base_url": hs.url, "rate_limit_per_10s": LIMIT,
                  "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}"}
        run(config, messages(("business_partners", [customer(1)])))  # properties, once
        cfg = tmp_path / "config.json"
        cfg.write_text(json.dumps(config))
        hs.clear_requests()
        with contextlib.ExitStack() as files:
            procs = []
            for p in range(PROCESSES):
                first = 1000 * (p + 1)
                (tmp_path / f"in{p}.jsonl").write_text(messages(
                    ("business_partners", [customer(n) for n in range(first, first + CUSTOMERS)])))
                procs.append(subprocess.Popen(
                    [_target_exe(), "--config", str(cfg)],
                    stdin=files.enter_context((tmp_path / f"in{p}.jsonl").open()),
                    stdout=subprocess.DEVNULL,
                    stderr=files.enter_context((tmp_path / f"err{p}.log").open("w")),
                    env={**os.environ, "PYTHONUNBUFFERED": "1"}))
            for p, proc in enumerate(procs):
                assert proc.wait(timeout=240) == 0, (tmp_path / f"err{p}.log").read_text()[-2000:]
        calls = [r for r in hs.requests if r.status != 0]
        assert hs.count(status=429) == 0
        assert len(hs.objects("companies")) == 1 + PROCESSES * CUSTOMERS
    # Requests are spread at the shared rate, not bunched: the span is near the floor the
    # limit allows ((calls / allowed - 1) windows), with room for a busy 2-core machine.
    allowed = LIMIT - 1
    floor = (len(calls) / allowed - 1) * WINDOW
    span = max(r.ts for r in calls) - min(r.ts for r in calls)
    print(f"{len(calls)} calls by {PROCESSES} processes in {span:.1f}s; floor {floor:.1f}s")
    assert span >= floor * 0.9
    assert span <= floor * 2 + 10


_TIGHT_LOOP = """
import sys
from sqlalchemy import create_engine
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.shared_limit import shared_limiter
url, ledger, token, limit, calls = sys.argv[1:]
limiter = shared_limiter({"access_token": token, "rate_limit_per_10s": int(limit)},
                         create_engine(ledger, connect_args={"timeout": 30}))
client = HubSpotClient(url, token, limiter, max_retries=8, backoff_base=0.2)
for _ in range(int(calls)):
    client.request("GET", "/account-info/v3/details")
"""


def test_processes_calling_back_to_back_on_one_token_meet_no_429(tmp_path) -> None:
    """The hardest case for per-process limiters: three clients with no work between calls
    (each process alone, even reading HubSpot's Remaining header, met 429s here)."""
    limit, window, per_process = 20, 2.0, 40
    with HubSpotSandbox(token=TOKEN, rate_limit_per_10s=limit, window_seconds=window) as hs:
        ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
        procs = [subprocess.Popen([sys.executable, "-c", _TIGHT_LOOP, hs.url, ledger, TOKEN,
                                   str(limit), str(per_process)], stderr=subprocess.PIPE)
                 for _ in range(PROCESSES)]
        for proc in procs:
            _, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err.decode()[-2000:]
        calls = hs.requests
        assert len(calls) == PROCESSES * per_process  # nothing sent twice: no retries
        assert hs.count(status=429) == 0
    span = max(r.ts for r in calls) - min(r.ts for r in calls)
    floor = (len(calls) / (limit - 1) - 1) * window
    print(f"{len(calls)} back-to-back calls by {PROCESSES} processes in {span:.1f}s; "
          f"floor {floor:.1f}s")
    assert floor * 0.9 <= span <= floor * 2 + 10


def test_a_slot_is_free_again_only_a_window_after_its_answer() -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    engine = create_engine("sqlite://")
    a = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    b = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    first, _ = a.claim(2, 10.0)
    second, _ = b.claim(2, 10.0)   # the other process takes the other slot
    assert {first, second} == {0, 1}
    now[0] += 0.5
    a.finish(first)                 # its answer arrived at 1000.5
    b.finish(second)
    b.flush()                       # (written with b's next claim, or here)
    _, waited = a.claim(2, 10.0)    # both slots busy: wait for the older answer + window
    assert now[0] == 1010.5 and waited == 10.0


def test_the_bucket_names_a_token_without_holding_it() -> None:
    bucket = token_bucket(TOKEN)
    assert TOKEN not in bucket and "pat" not in bucket
    assert bucket == token_bucket(TOKEN) != token_bucket(TOKEN + "x")


def test_the_local_limiter_counts_the_window_from_each_answer() -> None:
    """A request slow to reach HubSpot (3 s here) is in HubSpot's window until 3 s after it left
    us: its place frees only a window after its answer, with no slack to guess."""
    now = [1000.0]

    def sleep(s: float) -> None:
        now[0] += s

    limiter = RateLimiter(1, window_seconds=10.0, clock=lambda: now[0], sleep=sleep)
    ticket = limiter.acquire()   # sent at 1000
    now[0] += 3.0
    limiter.release(ticket)      # answered at 1003
    limiter.acquire()
    assert now[0] == 1013.0


def test_a_clock_stepped_back_delays_a_claim_by_one_window_not_by_the_step() -> None:
    """Slots stamped before the host's clock stepped back an hour (NTP, a VM restored) look an
    hour in the future: the limiter waits one window, not the hour (it stalled the run)."""
    now = [5000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    engine = create_engine("sqlite://")
    slots = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    for _ in range(2):
        slot, _ = slots.claim(2, 10.0)
        slots.finish(slot)
    slots.flush()
    now[0] -= 3600.0                  # the clock steps back an hour
    _, waited = slots.claim(2, 10.0)
    assert waited <= 10.0, f"waited {waited:.0f}s for a clock step"
    assert sum(slept) == waited


def test_processes_on_hosts_with_skewed_clocks_share_the_window_on_postgresql() -> None:
    """A replay on a host whose clock runs 30 s ahead of the scheduled run's reads the run's
    fresh slots as 30 s old and took them at once: on a server ledger both count time by the
    database's clock, so the hasty process still waits a window."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from postgres_server import postgres_server

    window = 3.0
    with postgres_server("ledger", prefix="limiter-pg-") as port:
        engine = create_engine(f"postgresql+psycopg2://ledger@127.0.0.1:{port}/postgres")
        try:
            import time

            on_time = SharedSlots(engine, token_bucket(TOKEN))
            ahead = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: time.time() + 30)
            # timed from before the run's slots: they free up a window after their stamps, so
            # the hasty claim ends >= one window from here however slow the machine (a start
            # taken after them left a sub-second margin a busy machine broke); 0.5 s for the
            # clock offset's estimate
            started = time.monotonic()
            for _ in range(2):
                slot, _ = on_time.claim(2, window)
                on_time.finish(slot)
            on_time.flush()
            ahead.claim(2, window)
            assert time.monotonic() - started >= window - 0.5
        finally:
            engine.dispose()


def test_a_dry_run_and_reconcile_share_the_scheduled_runs_window(tmp_path) -> None:
    """A dry run or a reconcile beside the scheduled run spends the same token: they take
    their slots from the same table (they kept a window of their own and together exceeded
    the limit). The bucket is the plain token's, even when the setting holds it encrypted."""
    from target_hubspot_finance import dryrun
    from target_hubspot_finance.commands import hubspot_side
    from target_hubspot_finance.runtime import Runtime

    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    config = {"access_token": TOKEN, "api_base_url": "http://127.0.0.1:9", "ledger_url": ledger}
    run = shared_limiter(config, create_engine(ledger))
    dry = dryrun.build_runtime(Runtime, {**config, "dry_run": True}).client.limiter
    side = hubspot_side.client_for(dict(config)).limiter
    for limiter in (dry, side):
        assert limiter.shared is not None
        assert limiter.shared.bucket == run.shared.bucket
        assert str(limiter.shared.engine.url) == ledger


def test_tools_never_create_a_ledger_for_the_limiter(tmp_path) -> None:
    """Without a ledger yet (a first dry run), the tools keep a local window: no file made."""
    from target_hubspot_finance.commands import hubspot_side

    path = tmp_path / "none" / "ledger.db"
    config = {"access_token": TOKEN, "ledger_url": f"sqlite:///{path}"}
    assert hubspot_side.client_for(config).limiter.shared is None
    assert not path.exists() and not path.parent.exists()


def test_a_process_last_answer_is_stamped_although_it_makes_no_further_call() -> None:
    """The answer of a process's last call (end of its run, or a long pause between drains)
    reaches the shared table: another process waits a window from that answer, not from when
    the call left (HubSpot counts it from when it arrived). The stamp used to wait for the
    process's next claim, and no run flushed it."""
    now = [1000.0]

    def sleep(s: float) -> None:
        now[0] += s

    engine = create_engine("sqlite://")
    ending = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    other = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    slot, _ = ending.claim(1, 10.0)   # its last call leaves at 1000
    now[0] += 3.0
    ending.finish(slot)               # answered at 1003; the process then ends
    other.claim(1, 10.0)
    assert now[0] == 1013.0


def test_slots_deleted_under_a_running_process_are_made_again_not_waited_for() -> None:
    """An operator clearing the slot table (or restoring a ledger without it) mid-run: the
    next claim makes the slots again; it used to sleep 50 ms forever waiting for a row."""
    from sqlalchemy import delete

    from target_hubspot_finance.hubspot.shared_limit import rate_slots

    now = [1000.0]
    naps: list[float] = []

    def sleep(s: float) -> None:
        naps.append(s)
        assert len(naps) < 100, "the claim never returned"
        now[0] += s

    engine = create_engine("sqlite://")
    slots = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    slots.finish(slots.claim(2, 10.0)[0])
    with engine.begin() as conn:
        conn.execute(delete(rate_slots))
    slot, waited = slots.claim(2, 10.0)
    assert slot in (0, 1) and waited == 0.0


def test_answers_of_overlapping_calls_each_stamp_their_own_slot() -> None:
    """Two calls in flight from one process (threads), answered in any order: each answer
    re-stamps its own slot. The last claim's time stood for every slot, so the first call's
    answer matched nothing and its slot freed a window after it left."""
    now = [1000.0]

    def sleep(s: float) -> None:
        now[0] += s

    engine = create_engine("sqlite://")
    slots = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    other = SharedSlots(engine, token_bucket(TOKEN), clock=lambda: now[0], sleep=sleep)
    first, _ = slots.claim(2, 10.0)    # leaves at 1000
    now[0] += 1.0
    second, _ = slots.claim(2, 10.0)   # leaves at 1001
    now[0] += 4.0
    slots.finish(first)                # answered at 1005
    slots.finish(second)
    other.claim(2, 10.0)               # both slots answered at 1005: free at 1015
    assert now[0] == 1015.0
