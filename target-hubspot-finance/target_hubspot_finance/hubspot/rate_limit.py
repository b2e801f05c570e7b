"""One client-side rate limiter per portal, shared by every sink of a run.

HubSpot counts requests per private-app token in a rolling 10-second window (100 or 190 by
tier, api-facts.md). A steady run should never meet a 429, so the limiter keeps a log of the
send times of the last window and waits before a request would exceed the limit minus a small
margin. It adapts *down* from HubSpot's own figures: `X-HubSpot-RateLimit-Max` lowers the limit
(a Starter portal answering 100 when 190 was assumed), `-Interval-Milliseconds` sets the window,
and `-Remaining` lower than the local
count implies means something else spends the same token, so the limiter books that usage too.
The configured `rate_limit_per_10s` is a ceiling the headers never raise.

With `shared` (hubspot/shared_limit.py) the window's slots live in the ledger's database, so
every process on the token stays under the limit together; the headers then only adapt the
limit and window (other processes' requests are already in the shared slots).

The clock and sleep are injectable so the behaviour is unit-tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from target_hubspot_finance.hubspot.shared_limit import SharedSlots

WINDOW_SECONDS = 10.0
# Slack for the distance between our send time and the server's receive time: a request we
# timed as leaving the window may still be in the server's window for a few milliseconds.
WINDOW_SLACK_SECONDS = 0.25


def safety_margin(limit: int) -> int:
    """Requests kept in reserve: 2 at 100-250/10 s (so 190 → 188), at least 1."""
    return max(1, min(2, limit // 50))


class RateLimiter:
    """Rolling-window limiter: `acquire()` before each request, `observe()` after each answer."""

    def __init__(self, limit_per_window: int = 190, window_seconds: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 shared: SharedSlots | None = None) -> None:
        if limit_per_window < 1:
            raise ValueError("rate_limit_per_10s must be at least 1")
        self.ceiling = limit_per_window
        self.limit = limit_per_window
        self.window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0
        self.shared = shared

    @property
    def allowed(self) -> int:
        """Requests this limiter lets through per window (limit minus the margin)."""
        return max(1, self.limit - safety_margin(self.limit))

    def _prune(self, now: float) -> None:
        horizon = now - self.window - WINDOW_SLACK_SECONDS
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def acquire(self) -> int | None:
        """Block until one more request fits in the window, then book it; returns the shared
        slot to `release()` once the answer arrived (None without a shared limiter)."""
        if self.shared is not None:
            with self._lock:
                allowed, window = self.allowed, self.window
            slot, waited = self.shared.claim(allowed, window)
            self.waited_seconds += waited
            return slot
        with self._lock:
            while True:
                now = self._clock()
                self._prune(now)
                if len(self._sent) < self.allowed:
                    self._sent.append(now)
                    return None
                wait = self._sent[0] + self.window + WINDOW_SLACK_SECONDS - now
                wait = max(wait, 0.001)
                self.waited_seconds += wait
                self._sleep(wait)

    def release(self, slot: int | None) -> None:
        """The answer to a request arrived (or it failed): its shared slot's window starts now."""
        if slot is not None and self.shared is not None:
            self.shared.finish(slot)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adapt to HubSpot's rate-limit headers (absent on search answers: ignored)."""
        max_raw = headers.get("X-HubSpot-RateLimit-Max")
        remaining_raw = headers.get("X-HubSpot-RateLimit-Remaining")
        interval_raw = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        with self._lock:
            try:
                if interval_raw is not None and int(interval_raw) > 0:
                    self.window = int(interval_raw) / 1000.0  # HubSpot's own window
                if max_raw is not None:
                    self.limit = max(1, min(self.ceiling, int(max_raw)))
                if remaining_raw is not None and self.shared is None:
                    now = self._clock()
                    self._prune(now)
                    server_used = self.limit - int(remaining_raw)
                    # Someone else spends this token: book their requests as ours, now.
                    for _ in range(max(0, server_used - len(self._sent))):
                        self._sent.append(now)
            except ValueError:
                return
