"""SIGKILL the whole pipeline at seeded random points, rerun each time: nothing lost or doubled.

Kill points are drawn from three clocks so they land everywhere: the N-th HubSpot request of the
run (mid-batch, between a write and its state), the N-th SAP request (mid-page: the tap is waiting
for the page), and a delay after start (start-up, discovery, shutdown). Between some rounds SAP
records change or appear, so the kills also cut through change capture.
"""

from __future__ import annotations

import random
import time

from bench.verdicts import (
    bookmark_problems_now,
    leak_problems,
    make_pipeline,
    mutate_sap,
    problems_now,
)

KILLS_WANTED = 20
MAX_ROUNDS = 45


def _trigger(rng: random.Random, w: object) -> tuple[str, object]:
    """A seeded kill condition, measured from the start of the run it is used for."""
    clock = rng.choice(["hubspot", "hubspot", "sap", "time"])
    hs0, sap0, t0 = len(w.hubspot.requests), len(w.sap.requests), time.monotonic()
    if clock == "hubspot":
        k = rng.randint(1, 60)
        return f"after HubSpot request {k}", lambda: len(w.hubspot.requests) - hs0 >= k
    if clock == "sap":
        k = rng.randint(1, 30)
        return f"at SAP request {k}", lambda: len(w.sap.requests) - sap0 >= k
    delay = rng.uniform(0.3, 6.0)
    return f"{delay:.2f}s after start", lambda: time.monotonic() - t0 >= delay


def test_twenty_sigkills_with_reruns_end_with_one_object_per_sap_record(make_world) -> None:
    w = make_world(1500, rate_limit=2000, set_target_rate=True, page_size=100)
    pipe = make_pipeline(w)
    rng = random.Random(20261128)
    kills, history = 0, []
    for round_no in range(MAX_ROUNDS):
        if kills >= KILLS_WANTED:
            break
        what, when = _trigger(rng, w)
        result = pipe.run(timeout=240, kill_when=when)
        if result.killed:
            kills += 1
            history.append(f"round {round_no}: killed {what}")
            wrong = bookmark_problems_now(w, pipe.state)
            assert not wrong, f"after kill {kills} ({what}):\n" + "\n".join(wrong)
        else:
            assert result.ok, f"round {round_no} failed without a kill:\n{result.describe()}"
            history.append(f"round {round_no}: completed before {what}")
        if round_no % 4 == 3:  # SAP keeps changing between crashes
            mutate_sap(w, rng, updates=8, creates=4)
    assert kills >= KILLS_WANTED, "\n".join(history)

    final = pipe.run(timeout=300)
    assert final.ok, final.describe()
    again = pipe.run(timeout=300)  # the boundary second may be picked up only by the next run
    assert again.ok, again.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems + history)
