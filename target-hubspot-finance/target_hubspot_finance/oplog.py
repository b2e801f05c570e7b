"""Operator logging: one JSON object per line (`log_format: json`) and secret redaction.

Why: finance teams ship connector logs to a log system and search them by SAP key or HubSpot id.
A sync event is logged with `extra=event_fields(...)`, so the text format reads as a sentence and
the JSON format carries stream, sap_key, hubspot_id and action as fields. Every handler also gets
a redacting filter: the token and password are replaced even if some library logs them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

EVENT_FIELDS = ("stream", "sap_key", "hubspot_id", "action", "object_type", "doc_num", "detail")
MASK = "***"
# Credentials that have a recognisable form, masked even when not passed in as known secrets:
# bearer headers, HubSpot private-app tokens, SAP session cookies/ids.
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),
    re.compile(r"\bpat-[a-z0-9]+-[0-9a-f-]{8,}\b"),
    re.compile(r"(?i)(B1SESSION=)[^;\s\"',]+"),
    re.compile(r"\bb1s-[A-Za-z0-9-]+"),
)


def event_fields(action: str, *, stream: str, sap_key: object, hubspot_id: object = None,
                 **more: object) -> dict:
    """`extra=` for a sync event log call: the fields a JSON line carries."""
    fields = {"action": action, "stream": stream, "sap_key": None if sap_key is None else str(
        sap_key), "hubspot_id": None if hubspot_id is None else str(hubspot_id)}
    fields.update({k: v for k, v in more.items() if v is not None})
    return fields


class Redactor:
    """Replaces known secret values and credential-shaped text with ***."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets in the message, the event fields and tracebacks."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        for name in EVENT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            record.exc_info = None  # the redacted text is what gets printed
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, and the event fields present."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EVENT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_text or record.exc_info:
            out["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure(log_format: str = "text", secrets: Iterable[str | None] = (),
              logger: logging.Logger | None = None) -> None:
    """Put redaction (always) and the JSON formatter (for `json`) on the handlers in use.

    singer-sdk's CLI installs its handler on the root logger; when nothing is installed yet (a
    library call), one stderr handler is added so the chosen format still applies.
    """
    target = logger or logging.getLogger()
    if not target.handlers:
        target.addHandler(logging.StreamHandler())
    redacting = RedactingFilter(Redactor(secrets))
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redacting)
        if log_format == "json":
            handler.setFormatter(JsonLineFormatter())
