"""The sandbox's SAP server clock: wall-clock local time plus an offset tests can advance.

SAP stamps UpdateDate/UpdateTime in the server's local time with no zone; a test that wants a
record to look "later" (or a session to look idle) advances this clock instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class SandboxClock:
    """Local wall time shifted by an offset that only moves forward."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The server's current local time (naive, second precision is what SAP keeps)."""
        with self._lock:
            offset = self._offset
        return datetime.now() + timedelta(seconds=offset)

    def advance(self, seconds: float) -> None:
        """Move the clock forward; sessions idle longer and new stamps come later."""
        if seconds < 0:
            raise ValueError("the SAP clock only moves forward")
        with self._lock:
            self._offset += seconds

    def stamp(self) -> tuple[str, str]:
        """(UpdateDate, UpdateTime) for a change made now, in SAP's value forms."""
        now = self.now()
        return now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
