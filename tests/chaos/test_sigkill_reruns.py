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


class KillPlanner:
    """Seeded kill points scaled to the work a run does (measured on the last completed run).

    After the first full sync a rerun is short, so fixed kill points would mostly miss; drawing
    from the last completed run's own counts keeps most kills inside the run.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.hubspot, self.sap, self.seconds = 60, 25, 6.0  # a first full run, roughly

    def learn(self, hubspot: int, sap: int, seconds: float) -> None:
        """A completed run's size becomes the range of the next kill points."""
        self.hubspot, self.sap, self.seconds = max(2, hubspot), max(2, sap), max(0.5, seconds)

    def trigger(self, w: object) -> tuple[str, object]:
        """A kill condition measured from now: HubSpot request, SAP request or time."""
        clock = self.rng.choice(["hubspot", "hubspot", "sap", "time"])
        hs0, sap0, t0 = len(w.hubspot.requests), len(w.sap.requests), time.monotonic()
        if clock == "hubspot":
            k = self.rng.randint(1, max(1, int(self.hubspot * 0.9)))
            return f"after HubSpot request {k}", lambda: len(w.hubspot.requests) - hs0 >= k
        if clock == "sap":
            k = self.rng.randint(1, max(1, int(self.sap * 0.9)))
            return f"at SAP request {k}", lambda: len(w.sap.requests) - sap0 >= k
        delay = self.rng.uniform(0.2, self.seconds * 0.95)
        return f"{delay:.2f}s after start", lambda: time.monotonic() - t0 >= delay


def test_twenty_sigkills_with_reruns_end_with_one_object_per_sap_record(make_world) -> None:
    w = make_world(1500, rate_limit=2000, set_target_rate=True, page_size=100)
    pipe = make_pipeline(w)
    planner = KillPlanner(20261128)
    kills, history = 0, []
    for round_no in range(MAX_ROUNDS):
        if kills >= KILLS_WANTED:
            break
        what, when = planner.trigger(w)
        hs0, sap0 = len(w.hubspot.requests), len(w.sap.requests)
        result = pipe.run(timeout=240, kill_when=when)
        if result.killed:
            kills += 1
            history.append(f"round {round_no}: killed {what}")
            wrong = bookmark_problems_now(w, pipe.state)
            assert not wrong, f"after kill {kills} ({what}):\n" + "\n".join(wrong + history)
        else:
            assert result.ok, (f"round {round_no} failed without a kill:\n{result.describe()}\n"
                               + "\n".join(history))
            history.append(f"round {round_no}: completed before {what}")
            planner.learn(len(w.hubspot.requests) - hs0, len(w.sap.requests) - sap0,
                          result.wall_s)
        # SAP keeps changing between crashes, so every rerun has work to be killed in.
        mutate_sap(w, planner.rng, updates=6, creates=2, partners=1)
    assert kills >= KILLS_WANTED, "\n".join(history)

    final = pipe.run(timeout=300)
    assert final.ok, final.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems + history)
    writes = w.hubspot.writes()
    again = pipe.run(timeout=300)  # nothing changed since: nothing to write
    assert again.ok, again.describe()
    assert w.hubspot.writes() == writes, "a rerun with nothing changed wrote to HubSpot"
