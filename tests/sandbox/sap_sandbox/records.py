"""The request log entry the tests count and the on_request callbacks receive."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RequestRecord:
    """One request as the sandbox saw it; `status` is 0 until answered (and stays 0 if dropped)."""

    method: str
    path: str  # "/b1s/v1/Invoices", without the query string
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    session_id: str | None = None
    version: str = "v1"
    number: int = 0  # 1-based position in the sandbox's request log
    fault: str | None = None  # the fault kind that fired on this request, if any
