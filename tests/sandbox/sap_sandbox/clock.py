"""The sandbox's SAP server clock: wall-clock local time plus an offset tests can move.

SAP stamps UpdateDate/UpdateTime in the server's local time with no zone; a test that wants a
record to look "later" (or a session to look idle) advances this clock instead of sleeping. A real
server clock also steps back (an NTP correction, the DST fall-back hour repeating local times):
`step_back` models that, so a client's look-back can be tested. Every answer's `Date` header is
this clock (`timestamp()`), as a real server's header is its own clock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta


class SandboxClock:
    """Local wall time shifted by an offset: `advance` moves it on, `step_back` moves it back."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        """The server's current local time (naive, second precision is what SAP keeps)."""
        return datetime.now() + timedelta(seconds=self.offset)

    def timestamp(self) -> float:
        """The server's current time as a POSIX timestamp (what its `Date` header shows)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward; sessions idle longer and new stamps come later."""
        if seconds < 0:
            raise ValueError("advance() moves the SAP clock forward; use step_back()")
        with self._lock:
            self._offset += seconds

    def step_back(self, seconds: float) -> None:
        """Set the clock back (NTP correction, DST fall-back): new stamps are older than some
        already given out. Sessions do not expire from it."""
        if seconds < 0:
            raise ValueError("step_back() takes a positive number of seconds")
        with self._lock:
            self._offset -= seconds

    def stamp(self) -> tuple[str, str]:
        """(UpdateDate, UpdateTime) for a change made now, in SAP's value forms."""
        now = self.now()
        return now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
