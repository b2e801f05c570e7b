"""HubSpot's error bodies, so a client's error handling meets the same JSON it meets in production.

Shapes follow developers.hubspot.com "Using object APIs" / "Error handling" examples and recorded
traffic (see README.md, "Sources").
"""

from __future__ import annotations

import json
import uuid
from typing import Any


def correlation_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """An HTTP error answer: status code plus HubSpot's JSON body (without correlationId)."""

    def __init__(self, status: int, message: str, category: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra

    def body(self) -> dict:
        body: dict[str, Any] = {"status": "error", "message": self.message,
                                "correlationId": correlation_id()}
        body.update(self.extra)
        if self.category:
            body["category"] = self.category
        return body

    def batch_entry(self, trace_id: str) -> dict:
        """The error as one entry of a 207 response's `errors[]`."""
        return {"status": "error", "category": self.category or "VALIDATION_ERROR",
                "message": self.message, "context": {"objectWriteTraceId": [trace_id]}}


def property_errors(errors: list[dict], portal_id: int) -> ApiError:
    """HubSpot's 400 for invalid property values: the list is JSON inside `message`."""
    listed = [
        {"isValid": False, "message": e["message"], "error": e["error"], "name": e["name"],
         "localizedErrorMessage": e["message"],
         **({"propertyValue": e["value"]} if "value" in e else {}),
         "portalId": portal_id}
        for e in errors
    ]
    details = [{"message": e["message"], "code": e["error"],
                "context": {"propertyName": [e["name"]]}} for e in errors]
    text = json.dumps(listed, separators=(",", ":"))
    return ApiError(400, "Property values were not valid: " + text, "VALIDATION_ERROR",
                    errors=details)


def unauthorized() -> ApiError:
    return ApiError(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                         "authentication and you can find more details at "
                         "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION")


def missing_scopes(required: list[str]) -> ApiError:
    return ApiError(
        403,
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        "MISSING_SCOPES",
        errors=[{"message": "One or more of the following scopes are required.",
                 "context": {"requiredGranularScopes": required}}],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def unknown_object_type(raw: str) -> ApiError:
    # Recorded answers carry no category for this one.
    return ApiError(400, f"Unable to infer object type from: {raw}")


def not_found(message: str = "resource not found", **extra: Any) -> ApiError:
    return ApiError(404, message, "OBJECT_NOT_FOUND", **extra)


def object_not_found(object_id: str) -> ApiError:
    """A single-record read or update of an id that is not there (recorded probe text)."""
    return not_found("Object not found. objectId is usually positive.",
                     context={"id": [object_id]})


def validation(message: str, **extra: Any) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR", **extra)


def rate_limited(policy: str, portal_id: int) -> ApiError:
    """HubSpot's 429: `policyName` names the limit that was hit."""
    names = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "DAILY": "daily",
             "SECONDLY": "secondly"}
    err = ApiError(429, f"You have reached your {names[policy]} limit.", None,
                   errorType="RATE_LIMIT", policyName=policy,
                   groupName=f"publicapi:private-app:{portal_id}")
    return err
