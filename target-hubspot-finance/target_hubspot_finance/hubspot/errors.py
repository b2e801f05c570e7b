"""Typed HubSpot errors that carry HubSpot's answer body and never a credential.

Why: the sinks decide by type — retry (`RetryableError`), dead-letter the records of one batch
(`HubSpotError`), or stop the run with one clear line (`FatalHubSpotError` for 401/403).
The body is kept as HubSpot sent it so the dead-letter shows what to fix.
"""

from __future__ import annotations

import json
from typing import Any


class HubSpotError(Exception):
    """A HubSpot answer that is not a success; `body` is HubSpot's JSON (or text)."""

    def __init__(self, status: int, body: Any, method: str = "", path: str = "") -> None:
        self.status = status
        self.body = body
        self.method = method
        self.path = path
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line: status, method, path, category and message from the body."""
        category = message = ""
        if isinstance(self.body, dict):
            category = str(self.body.get("category") or self.body.get("errorType") or "")
            message = str(self.body.get("message") or "")
        elif self.body:
            message = str(self.body)[:300]
        where = f"{self.method} {self.path}".strip()
        if self.status == 0:  # no answer at all: timeout or connection failure
            text = "HubSpot did not answer" + (f" {where}" if where else "")
        else:
            text = f"HubSpot answered {self.status}" + (f" to {where}" if where else "")
        if category:
            text += f": {category}"
        if message:
            text += f": {message}"
        return text

    def as_json(self) -> dict:
        """What the dead-letter stores: status and HubSpot's body."""
        body = self.body
        try:
            json.dumps(body)
        except (TypeError, ValueError):
            body = str(body)
        return {"status": self.status, "body": body}


class RetryableError(HubSpotError):
    """429, 423, 5xx, a timeout or a dropped connection: worth sending again after a wait."""


class RateLimitedError(RetryableError):
    """429 from the rolling window or the daily limit."""


class FatalHubSpotError(HubSpotError):
    """401/403 and other answers no record can fix: the run stops with this one line."""
