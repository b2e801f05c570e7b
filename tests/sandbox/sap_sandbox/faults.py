"""Faults on demand: 500/503 answers, responses slower than the client's timeout, dropped sockets,
and garbled or hostile answers a robust client must name in one line (README "Faults").

A fault fires at chosen request numbers (counted over the requests its `path_contains` matches,
1-based) or at a seeded rate, at most `times` times. The RNG is seeded so a failing chaos test
replays the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

# Answered instead of the request: 500, 503, a business -5002 (not a session loss), a reverse
# proxy's HTML page, a JSON body that is not an object. Timeout delays, drop cuts the socket.
ANSWER_KINDS = ("500", "503", "5002", "html-404", "html-502", "not-object")
# The request is served, then its answer is altered: a second B1SESSION cookie on Login; on a
# collection page, an empty page without nextLink, a `value` that is not a list, items that are
# not objects, an out-of-range /Date(ms)/ value, an absolute nextLink to another host.
PAGE_KINDS = ("empty-page", "non-list-page", "non-object-items", "bad-date", "foreign-nextlink")
KINDS = ("timeout", "drop", *ANSWER_KINDS, "two-cookies", *PAGE_KINDS)
DEFAULT_5002 = "Document is already cancelled"  # a DI business error (README source P7)


@dataclass
class Fault:
    kind: str
    at: frozenset[int] = frozenset()
    rate: float = 0.0
    path_contains: str | None = None
    times: int | None = None
    delay: float = 10.0
    message: str | None = None  # the "5002" fault's text (default DEFAULT_5002)
    seen: int = 0  # matching requests so far
    fired: int = 0
    fired_at: list[int] = field(default_factory=list)


class FaultPlan:
    """The active faults; `pick` decides, per request, which one (if any) fires."""

    def __init__(self, seed: int) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def add(self, kind: str, at: Iterable[int] | int | None = None, rate: float = 0.0,
            path_contains: str | None = None, times: int | None = None,
            delay: float = 10.0, message: str | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}; got {kind!r}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        points = frozenset([at] if isinstance(at, int) else (at or ()))
        if not points and rate == 0.0:
            raise ValueError("a fault needs `at` request numbers or a `rate`")
        fault = Fault(kind, points, rate, path_contains, times, delay, message)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pick(self, path: str) -> Fault | None:
        """The first fault that fires for this request; every matching fault counts it."""
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.path_contains and fault.path_contains not in path:
                    continue
                fault.seen += 1
                if chosen is not None or (fault.times is not None and fault.fired >= fault.times):
                    continue
                hit = fault.seen in fault.at or (fault.rate > 0 and self._rng.random() < fault.rate)
                if hit:
                    fault.fired += 1
                    fault.fired_at.append(fault.seen)
                    chosen = fault
        return chosen
