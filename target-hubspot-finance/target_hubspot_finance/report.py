"""Run figures: per-stream counters, a progress line during long runs, a summary at the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

LOGGER = logging.getLogger("target_hubspot_finance.report")
ACTIONS = ("created", "updated", "unchanged", "failed", "skipped")


@dataclass
class StreamStats:
    """What happened to the records of one stream (`read` counts records received)."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    draft: int = 0  # invoices written but left in draft (no contact or no line items)
    links_failed: int = 0  # written, but an association HubSpot refused (e.g. an unknown deal)

    def line(self, stream: str) -> str:
        optional = ("draft", "links_failed")
        parts = ", ".join(f"{f.name.replace('_', ' ')} {getattr(self, f.name)}"
                          for f in fields(self)
                          if f.name not in optional or getattr(self, f.name))
        return f"{stream}: {parts}"


class Report:
    """Counters shared by every sink; `tick()` logs a progress line at most every interval."""

    def __init__(self, interval_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.streams: dict[str, StreamStats] = {}
        self.interval = interval_seconds
        self._clock = clock
        self._started = clock()
        self._last = self._started

    def stats(self, stream: str) -> StreamStats:
        return self.streams.setdefault(stream, StreamStats())

    def count(self, stream: str, action: str, n: int = 1) -> None:
        stats = self.stats(stream)
        setattr(stats, action, getattr(stats, action) + n)

    def tick(self, calls: int | None = None, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        done = "; ".join(s.line(name) for name, s in self.streams.items())
        extra = f"; {calls} HubSpot calls" if calls is not None else ""
        LOGGER.info("progress after %.0fs: %s%s", now - self._started, done or "nothing yet",
                    extra)

    def summary_lines(self) -> list[str]:
        return [s.line(name) for name, s in sorted(self.streams.items())]
