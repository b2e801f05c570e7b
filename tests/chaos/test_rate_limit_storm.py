"""A 429 storm: HubSpot's limit drops mid-run far below what the target was pacing for.

The target must back off as HubSpot's 429 answers and headers ask and still complete, with
nothing lost and nothing doubled.
"""

from __future__ import annotations

from bench.verdicts import leak_problems, make_pipeline, problems_now


def test_a_rate_limit_lowered_mid_run_still_completes_with_nothing_lost(make_world) -> None:
    w = make_world(300, rate_limit=190, page_size=100)
    pipe = make_pipeline(w)
    lowered = []

    def lower_after_ten_requests() -> None:
        if not lowered and len(w.hubspot.requests) >= 10:
            w.hubspot.set_rate_limit(20)
            lowered.append(len(w.hubspot.requests))

    result = pipe.run(timeout=400, watch=lower_after_ten_requests)
    assert lowered, "the run ended before the limit was lowered"
    assert result.ok, result.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)
