"""One client-side rate limiter per portal, shared by every sink of a run.

HubSpot counts requests per private-app token in a rolling 10-second window (100 or 190 by
tier, api-facts.md). A steady run should never meet a 429, so the limiter keeps the times of the
last window's requests and waits before a request would exceed the limit minus a small margin.
Each request is stamped when it is sent and stamped again when its answer arrives (`release`):
HubSpot received it before that, so a window counted from the answer is never shorter than
HubSpot's, however long the request spent between our clock and theirs (no slack to guess). It
adapts *down* from HubSpot's own figures: `X-HubSpot-RateLimit-Max` lowers the limit (a Starter
portal answering 100 when 190 was assumed), `-Interval-Milliseconds` sets the window, and
`-Remaining` lower than the local count implies means something else spends the same token, so
the limiter books that usage too. The configured `rate_limit_per_10s` is a ceiling the headers
never raise.

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
# No slack: requests are timed again at their answer (see the module docstring).
WINDOW_SLACK_SECONDS = 0.0


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
        self._sent: deque[list[float]] = deque()  # [stamp]: re-stamped at the answer
        self._lock = threading.Lock()
        self.waited_seconds = 0.0
        self.shared = shared

    @property
    def allowed(self) -> int:
        """Requests this limiter lets through per window (limit minus the margin)."""
        return max(1, self.limit - safety_margin(self.limit))

    def _prune(self, now: float) -> None:
        horizon = now - self.window - WINDOW_SLACK_SECONDS
        if any(stamp[0] <= horizon for stamp in self._sent):  # re-stamps break the order
            self._sent = deque(stamp for stamp in self._sent if stamp[0] > horizon)

    def acquire(self) -> object:
        """Block until one more request fits in the window, then book it; returns the ticket
        to hand to `release()` once the answer arrived (or the request failed)."""
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
                    stamp = [now]
                    self._sent.append(stamp)
                    return stamp
                oldest = min(stamp[0] for stamp in self._sent)
                wait = oldest + self.window + WINDOW_SLACK_SECONDS - now
                wait = max(wait, 0.001)
                self.waited_seconds += wait
                self._sleep(wait)

    def release(self, ticket: object) -> None:
        """The answer to a request arrived (or it failed): its window starts now."""
        if isinstance(ticket, list):
            with self._lock:
                ticket[0] = self._clock()
        elif isinstance(ticket, int) and self.shared is not None:
            self.shared.finish(ticket)

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
                        self._sent.append([now])
            except ValueError:
                return
