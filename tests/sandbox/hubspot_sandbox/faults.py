"""Failures on demand: 5xx with HubSpot's error body, an injected 423 Locked or 429, a response
held past the client's timeout, or a connection closed without an answer; at given request numbers
or at a seeded rate."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("500", "502", "503", "423", "429", "timeout", "drop", "html200")  # html200: a proxy's page


@dataclass
class Fault:
    kind: str
    at: frozenset[int] = frozenset()  # 1-based numbers among the requests this fault matches
    rate: float = 0.0
    path_contains: str | None = None
    method: str | None = None
    times: int | None = None  # fire at most this many times
    delay: float = 30.0  # seconds a "timeout" holds the request
    seed: int = 0
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def matches(self, method: str, path: str) -> bool:
        return ((self.path_contains is None or self.path_contains in path)
                and (self.method is None or self.method.upper() == method))


class FaultPlan:
    """The faults armed on one sandbox; `pick` decides, per request, which one fires (if any)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, at: list[int] | int | None = None, rate: float = 0.0,
            path_contains: str | None = None, times: int | None = None, delay: float = 30.0,
            seed: int = 0, method: str | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {kind!r}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        numbers = frozenset([at] if isinstance(at, int) else (at or []))
        if not numbers and rate == 0.0:
            raise ValueError("a fault needs `at` request numbers or a `rate`")
        fault = Fault(kind, numbers, rate, path_contains, method, times, delay, seed,
                      rng=random.Random(seed))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        with self._lock:
            chosen = None
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if chosen is not None or (fault.times is not None and fault.fired >= fault.times):
                    continue
                hit = fault.seen in fault.at or (fault.rate > 0 and fault.rng.random() < fault.rate)
                if hit:
                    fault.fired += 1
                    chosen = fault
            return chosen
