"""Records changed and created in SAP while the tap pages: each reaches HubSpot within two runs.

The SAP sandbox's request hook edits invoices on both sides of the tap's cursor (already read and
not yet read), creates new invoices and edits a customer on every invoice page of the first run.
"""

from __future__ import annotations

import random

from bench.verdicts import leak_problems, make_pipeline, mutate_sap, problems_now


def test_changes_made_while_the_tap_pages_arrive_within_two_runs(make_world) -> None:
    w = make_world(500, rate_limit=2000, set_target_rate=True, page_size=50)
    pipe = make_pipeline(w)
    rng = random.Random(7)
    touched = {"pages": 0, "changes": 0, "live": True}

    def change_on_every_page(sb, req) -> None:
        if (touched["live"] and req.method == "GET" and "Invoices" in req.path
                and touched["pages"] < 40):
            touched["pages"] += 1
            touched["changes"] += mutate_sap(w, rng, updates=3, creates=1, partners=1)

    w.sap.on_request(change_on_every_page)
    first = pipe.run(timeout=240)
    assert first.ok, first.describe()
    touched["live"] = False
    assert touched["changes"] >= 20, "too few changes landed while the tap paged"
    second = pipe.run(timeout=240)
    assert second.ok, second.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)
