"""Typed HubSpot errors that carry HubSpot's answer body and never a credential.

Why: the sinks decide by type — retry (`RetryableError`), dead-letter the records of one batch
(`HubSpotError`), or stop the run with one clear line (`FatalHubSpotError` for 401/403).
The body is kept as HubSpot sent it so the dead-letter shows what to fix.
"""

from __future__ import annotations

import json
import re
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


class NotJsonError(FatalHubSpotError):
    """A success status whose body is not JSON (a proxy's or captive portal's page): whether
    the write happened is unknown, and no record can fix it, so the run stops with one line
    (no STATE for the batch; a rerun finds what was written by its unique keys)."""

    def __init__(self, status: int, text: str, method: str = "", path: str = "") -> None:
        snippet = " ".join(str(text).split())[:120]
        super().__init__(status, f"the answer is not JSON (a proxy in between?): {snippet}",
                         method, path)


_NON_UNIQUE = re.compile(r"non-unique \S+ property (\S+)")
_DOESNT_EXIST = re.compile(r'Property \\*"([^"\\]+)\\*" does not exist')
_INVALID_PREFIX = "Property values were not valid: "


def missing_property_names(error: Any) -> set[str]:
    """Properties a HubSpot error says are missing: upsert/read by a `non-unique ... property X`
    (the idProperty is not a unique property there) or `PROPERTY_DOESNT_EXIST` for X.

    Both mean the portal lacks a property the writer expected (another portal, or someone
    deleted it). Takes a per-input batch error, a whole-call error (`{"status", "body"}`) or a
    body; unrelated errors give an empty set.
    """
    body = error.get("body") if isinstance(error, dict) and "body" in error else error
    if not isinstance(body, dict):
        return set()
    names: set[str] = set()
    message = str(body.get("message") or "")
    names.update(_NON_UNIQUE.findall(message))
    for detail in body.get("errors") or []:
        if isinstance(detail, dict) and detail.get("code") == "PROPERTY_DOESNT_EXIST":
            names.update(str(n) for n in (detail.get("context") or {}).get("propertyName") or [])
    if message.startswith(_INVALID_PREFIX):
        try:
            listed = json.loads(message[len(_INVALID_PREFIX):])
        except ValueError:
            listed = []
        names.update(str(item.get("name")) for item in listed if isinstance(item, dict)
                     and item.get("error") == "PROPERTY_DOESNT_EXIST" and item.get("name"))
    names.update(_DOESNT_EXIST.findall(message) if "PROPERTY_DOESNT_EXIST" in message else ())
    return names
