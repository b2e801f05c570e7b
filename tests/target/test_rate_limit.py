"""The one rate limiter: never more than the allowed requests in any rolling window (fake clock)."""

from __future__ import annotations

from target_hubspot_finance.hubspot.rate_limit import WINDOW_SLACK_SECONDS, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_a_burst_never_exceeds_the_limit_minus_margin_in_any_window():
    clock = FakeClock()
    limiter = RateLimiter(190, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(1000):
        limiter.acquire()
        sent.append(clock.now)
        clock.now += 0.001  # each call takes 1 ms
    assert limiter.allowed == 188
    assert max_in_window(sent, 10.0 + WINDOW_SLACK_SECONDS) <= 188
    # and it is not needlessly slow: 1000 calls in about 1000/188 windows
    assert clock.now - 1000.0 < (1000 / 188 + 1) * (10 + WINDOW_SLACK_SECONDS)


def test_no_wait_while_under_the_limit():
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    for _ in range(limiter.allowed):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept and clock.slept[0] > 9.9


def test_the_portals_lower_max_header_lowers_the_limit_but_never_raises_the_setting():
    clock = FakeClock()
    limiter = RateLimiter(190, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-HubSpot-RateLimit-Max": "100"})
    assert limiter.limit == 100 and limiter.allowed == 98
    limiter.observe({"X-HubSpot-RateLimit-Max": "250"})
    assert limiter.limit == 190


def test_remaining_lower_than_ours_books_someone_elses_usage():
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.observe({"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "10"})
    # 90 used at the server: only 98 - 90 = 8 more fit before waiting
    for _ in range(8):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept


def test_headers_absent_or_malformed_change_nothing():
    limiter = RateLimiter(190)
    limiter.observe({})
    limiter.observe({"X-HubSpot-RateLimit-Max": "lots"})
    assert limiter.limit == 190


def test_the_window_follows_hubspots_interval_header():
    limiter = RateLimiter(190)
    limiter.observe({"X-HubSpot-RateLimit-Interval-Milliseconds": "2000"})
    assert limiter.window == 2.0
