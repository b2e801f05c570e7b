"""HubSpot's per-token limits: a rolling 10-second window, a daily cap, search's own per-second cap.

Headers follow HubSpot's usage guidelines and recorded responses: `X-HubSpot-RateLimit-Max`,
`-Remaining`, `-Interval-Milliseconds`, `-Daily`, `-Daily-Remaining`, `-Secondly`,
`-Secondly-Remaining` (the secondly pair is reported, not enforced). Search responses carry none.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, per_window: int, daily: int, search_per_second: int,
                 window_seconds: float = 10.0) -> None:
        self.per_window = per_window
        self.daily = daily
        self.search_per_second = search_per_second
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._hits: deque[float] = deque()
        self._search_hits: deque[float] = deque()
        self._daily_used = 0

    def set_limit(self, per_window: int) -> None:
        with self._lock:
            self.per_window = per_window

    @staticmethod
    def _trim(hits: deque[float], now: float, span: float) -> None:
        while hits and hits[0] <= now - span:
            hits.popleft()

    def admit(self, search: bool) -> tuple[str | None, dict[str, str]]:
        """Count one request; return (policy hit or None, headers to send)."""
        with self._lock:
            now = time.monotonic()
            self._trim(self._hits, now, self.window_seconds)
            self._trim(self._search_hits, now, 1.0)
            policy = None
            if self._daily_used >= self.daily:
                policy = "DAILY"
            elif search and len(self._search_hits) >= self.search_per_second:
                policy = "SECONDLY"
            elif not search and len(self._hits) >= self.per_window:
                policy = "TEN_SECONDLY_ROLLING"
            if policy is None:
                self._daily_used += 1
                (self._search_hits if search else self._hits).append(now)
            if search and policy is None:
                return None, {}
            return policy, self._headers(now)

    def _headers(self, now: float) -> dict[str, str]:
        secondly = max(1, -(-self.per_window // 10))
        last_second = sum(1 for t in self._hits if t > now - 1.0)
        return {
            "X-HubSpot-RateLimit-Max": str(self.per_window),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.per_window - len(self._hits))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.window_seconds * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - self._daily_used)),
            "X-HubSpot-RateLimit-Secondly": str(secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, secondly - last_second)),
        }
