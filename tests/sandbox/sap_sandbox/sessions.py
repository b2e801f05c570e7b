"""Service Layer sessions: created by Login, ended by Logout, idle expiry, killed on demand."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

from sap_sandbox.clock import SandboxClock


@dataclass
class Session:
    """One logged-in session; `last_used` is on the sandbox clock so tests can age it."""

    session_id: str
    company_db: str
    username: str
    version: str
    last_used: datetime
    broken: bool = False  # killed with -5002: known to the server but unusable


class SessionTable:
    """Thread-safe sessions by id. Ids start with `b1s-` so tests can grep logs for them."""

    def __init__(self, clock: SandboxClock, timeout_seconds: float) -> None:
        self._clock = clock
        self.timeout_seconds = timeout_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, company_db: str, username: str, version: str) -> Session:
        sid = f"b1s-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        session = Session(sid, company_db, username, version, self._clock.now())
        with self._lock:
            self._sessions[sid] = session
        return session

    def touch(self, session_id: str | None) -> Session | None:
        """The session for an id (its idle timer restarts), or None if unknown or expired.

        A broken session is returned as is (the caller answers -5002 for it).
        """
        if not session_id:
            return None
        now = self._clock.now()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if (now - session.last_used).total_seconds() > self.timeout_seconds:
                del self._sessions[session_id]
                return None
            session.last_used = now
            return session

    def close(self, session_id: str | None) -> bool:
        with self._lock:
            return self._sessions.pop(session_id or "", None) is not None

    def kill_all(self, answer: str = "301") -> int:
        """End every session: forgotten ("301": unknown session) or broken ("-5002")."""
        if answer not in ("301", "-5002"):
            raise ValueError('kill_sessions answer must be "301" or "-5002"')
        with self._lock:
            n = len(self._sessions)
            if answer == "301":
                self._sessions.clear()
            else:
                for session in self._sessions.values():
                    session.broken = True
            return n

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
