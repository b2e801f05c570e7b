"""A 429 storm: HubSpot's limit drops mid-run far below what the target was pacing for.

The target must back off as HubSpot's 429 answers and headers ask and still complete, with
nothing lost and nothing doubled.
"""

from __future__ import annotations

from bench.verdicts import leak_problems, make_pipeline, problems_now

LOWERED = 10  # requests per 10 s once the storm starts


def test_a_rate_limit_lowered_mid_run_still_completes_with_nothing_lost(make_world) -> None:
    w = make_world(300, rate_limit=190, page_size=100)
    pipe = make_pipeline(w)
    lowered = []

    def lower_below_what_the_window_holds() -> None:
        # 15 requests are in HubSpot's window already: the next one meets a 429 at once
        if not lowered and len(w.hubspot.requests) >= 15:
            w.hubspot.set_rate_limit(LOWERED)
            lowered.append(len(w.hubspot.requests))

    result = pipe.run(timeout=400, watch=lower_below_what_the_window_holds)
    assert lowered, "the run ended before the limit was lowered"
    assert result.ok, result.describe()
    # The storm happened: HubSpot answered 429 ...
    windowed = [r for r in w.hubspot.requests if "/search" not in r.path]
    refused = [r.ts for r in windowed if r.status == 429]
    assert refused, "HubSpot never answered 429: the test proved nothing"
    # ... and the target slowed down to the new limit instead of retrying into it: a handful of
    # 429s (the requests already paced for 190), then at most LOWERED requests (answered or refused)
    # in any 10 s window that starts once the first 429's window has passed.
    assert len(refused) <= 10, f"{len(refused)} 429s: the target kept hammering"
    settle = refused[0] + 10.0
    later = sorted(r.ts for r in windowed if r.ts >= settle)
    busiest = max((sum(1 for t in later[i:] if t < start + 10.0)
                   for i, start in enumerate(later)), default=0)
    assert busiest <= LOWERED, (
        f"{busiest} requests in 10 s after HubSpot lowered its limit to {LOWERED}")
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)
