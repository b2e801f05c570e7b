"""SAP Service Layer error answers, in the v1 (OData v3) and v2 (OData v4) JSON shapes.

v1: {"error": {"code": <int>, "message": {"lang": "en-us", "value": "..."}}}
v2: {"error": {"code": "<str>", "details": [{"code": "", "message": ""}], "message": "..."}}
Codes and texts follow what public Service Layer clients see (sources in README.md).
"""

from __future__ import annotations

from typing import Any

# (HTTP status, SAP code, message text). Named so tests and the README point at one place.
INVALID_SESSION = (401, 301, "Invalid session or session already timeout.")
# A session whose server-side company connection was lost (see README: "-5002").
SESSION_BROKEN = (400, -5002, "Internal error (-5002) occurred")
LOGIN_FAILED = (401, 100000027, "Login failed")
UNKNOWN_COMPANY = (401, -304, "Fail to get DB Credentials from SLD")
BAD_LOGIN_BODY = (400, -1000, "Invalid login request body.")
NO_MATCHING_RECORDS = (404, -2028, "No matching records found (ODBC -2028)")
UNRECOGNIZED_PATH = (400, -1002, "Unrecognized resource path.")
METHOD_NOT_ALLOWED = (405, -1000, "Method not allowed for this resource.")
INTERNAL_ERROR = (500, -1, "Internal error (-1) occurred")
SERVICE_UNAVAILABLE = (503, -1, "Service Unavailable")


class SapError(Exception):
    """An error the Service Layer answers with its own body (never with a traceback)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def of(cls, kind: tuple[int, int, str], detail: str | None = None) -> SapError:
        """Build from one of the named (status, code, text) triples, optionally re-worded."""
        status, code, text = kind
        return cls(status, code, detail or text)

    def body(self, version: str, flat: bool = False) -> dict[str, Any]:
        """The JSON body in the shape of the requested service version ("v1" or "v2").

        `flat` gives the string-code, string-message form some v1 installations send for 301.
        """
        if version == "v2":
            return {"error": {"code": str(self.code), "details": [{"code": "", "message": ""}],
                              "message": self.message}}
        if flat:
            return {"error": {"code": str(self.code), "message": self.message}}
        return {"error": {"code": self.code, "message": {"lang": "en-us", "value": self.message}}}


def query_error(message: str) -> SapError:
    """A 400 for a query option the Service Layer cannot parse or resolve."""
    return SapError(400, -1000, message)
