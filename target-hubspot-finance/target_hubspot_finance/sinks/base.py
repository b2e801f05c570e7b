"""The sink all HubSpot sinks share: batching, ordering across streams, bookkeeping.

Why BatchSink: HubSpot writes cost one call per 100 objects, so records are collected (up to
`batch_size_rows`, default 1,000) and each drain fills 100-input calls across records.

Correctness of state: singer-sdk writes a STATE message only after `drain_all()` has drained
every sink; a drain returns only when every record of it is confirmed by HubSpot or recorded
in the dead-letter, and raises otherwise (so the run stops before the state is written).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from target_hubspot_finance import oplog
from target_hubspot_finance.hubspot.errors import missing_property_names
from target_hubspot_finance.ledger import Event, Failure
from target_hubspot_finance.mapping import content_hash

if TYPE_CHECKING:
    from target_hubspot_finance.runtime import Runtime

DEFAULT_BATCH_ROWS = 1000
LINK_FAILED = "link failed"  # detail prefix of an association HubSpot refused
_INVALID = "__target_hubspot_finance_invalid__"  # marks a record that failed its schema
NOT_OBJECT = "__target_hubspot_finance_not_object__"  # wraps a RECORD that is no JSON object
# Drain order: a company before the invoices that point at it; credit notes before invoices
# (their amounts are kept in the ledger, so an invoice of the same run is written with its
# credits and status at once); an invoice before the payments that point at it.
PRIORITY = {"companies": 0, "credit_notes": 1, "invoices": 2, "payments": 3, "ignore": 4}


class HubSpotSink(BatchSink):
    """Base of the stream sinks; subclasses implement `write(records)`."""

    handler = "ignore"
    key_field = "DocEntry"

    @property
    def max_size(self) -> int:
        return int(self.config.get("batch_size_rows") or DEFAULT_BATCH_ROWS)

    @property
    def rt(self) -> Runtime:
        return self._target_ref.runtime  # type: ignore[attr-defined]

    def __init__(self, target: Any, *args: Any, **kwargs: Any) -> None:
        self._target_ref = target
        super().__init__(target, *args, **kwargs)

    def _validate_and_parse(self, record: dict) -> dict:
        """A record that breaks its stream's schema (or is no object, or has a date-time that
        does not parse) is dead-lettered with the reason at the next drain and counted as
        failed, instead of stopping the whole run with singer-sdk's traceback: it is recorded
        as failed, so the state may pass it."""
        if NOT_OBJECT in record:  # what was sent stays in the row (and tells rows apart)
            record["not_an_object"] = record.pop(NOT_OBJECT)
            record[_INVALID] = f"the record is not an object: {record['not_an_object']}"
            return record
        if self._validator is not None:
            try:
                self._validator.validate(record)
            except InvalidRecord as exc:
                record[_INVALID] = f"record does not match the stream's schema: " \
                                   f"{exc.error_message}"
                return record
        try:
            self._parse_timestamps_in_record(record=record, schema=self.schema,
                                             treatment=self.datetime_error_treatment)
        except ValueError as exc:
            record[_INVALID] = str(exc)
        return record

    def _singer_validate_message(self, record: dict) -> None:
        """A record without its key is dead-lettered (never written under the key `None`)."""
        if _INVALID in record:
            return
        missing = [k for k in self.key_properties or () if record.get(k) in (None, "")]
        if missing:
            record[_INVALID] = f"the record has no {', '.join(missing)} (its key)"
            return
        super()._singer_validate_message(record)

    def process_record(self, record: dict, context: dict) -> None:
        problem = record.pop(_INVALID, None)
        # The last version of a key in this batch wins, valid or not (issue 11 item 9): an
        # older valid version must not be written, nor clear the newer one's dead-letter.
        context.setdefault("last_valid", {})[self.sap_key(record)] = problem is None
        if problem is not None:
            context.setdefault("invalid", []).append((record, problem))
            return
        super().process_record(record, context)

    def process_batch(self, context: dict) -> None:
        last_valid = context.get("last_valid") or {}
        invalid = [(r, p) for r, p in context.get("invalid") or []
                   if not last_valid.get(self.sap_key(r), False)]
        if invalid:
            self.rt.report.count(self.stream_name, "read", len(invalid))
            bad = {self.sap_key(r): r for r, _ in invalid}
            errors = {self.sap_key(r): reason(str(problem)[:500]) for r, problem in invalid}
            self.done(self.fail(bad, errors))
        records = [r for r in context.get("records") or []
                   if last_valid.get(self.sap_key(r), True)]
        if not records:
            return
        self._target_ref.drain_before(self)
        self.rt.report.count(self.stream_name, "read", len(records))
        self.write(records)
        self.rt.report.tick(sum(self.rt.client.calls.values()))

    def write(self, records: list[dict]) -> None:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------
    def sap_key(self, record: dict) -> str:
        value = record.get(self.key_field)
        if value in (None, ""):  # dead-lettered under a key of its content, never "None",
            # in this SAP company's namespace (its replay lists only its own rows)
            return self.rt.key(f"no-{self.key_field}:{content_hash(record)[:12]}")
        return self.rt.key(value)

    def latest(self, records: Iterable[dict]) -> dict[str, dict]:
        """De-duplicate by SAP key, keeping the last version (a re-read boundary record)."""
        out: dict[str, dict] = {}
        for record in records:
            key = self.sap_key(record)
            out.pop(key, None)
            out[key] = record
        return out

    def done(self, events: list[Event]) -> None:
        """Log events, count them, clear the dead-letter for the records that succeeded."""
        self.rt.ledger.log_events(events)
        _log_events(self.logger, events, self.rt.config)
        ok = []
        for event in events:
            action = event.action
            if event.detail and event.detail.startswith(LINK_FAILED):
                self.rt.report.count(self.stream_name, "links_failed")
                continue
            self.rt.report.count(self.stream_name, action)
            if event.detail and event.detail.startswith("draft"):
                self.rt.report.count(self.stream_name, "draft")
            if action in ("created", "updated", "unchanged") and event.sap_key:
                ok.append(event.sap_key)
        if ok:
            self.rt.ledger.clear_failures(self.stream_name, ok)

    def fail(self, records: dict[str, dict], errors: dict[str, Any],
             doc_field: str = "DocNum") -> list[Event]:
        """Dead-letter these records with HubSpot's error (or the reason) and return events."""
        failures = [Failure(self.stream_name, key, _text(records[key].get(doc_field)),
                            records[key], err) for key, err in errors.items()]
        self.rt.ledger.record_failures(failures)
        if any(missing_property_names(err) for err in errors.values()):
            self.rt.forget_properties()  # the in-run repair did not help: check again next run
        events = [Event(self.stream_name, key, "failed", detail=_short(err))
                  for key, err in errors.items()]
        return events

    def link_failed(self, records: dict[str, dict], errors: dict[str, Any],
                    ids: dict[str, str] | None = None) -> list[Event]:
        """Written, but a link HubSpot refused: not confirmed. Dead-lettered with HubSpot's
        answer (a replay or the next change sends it again) and counted as `links failed`."""
        self.rt.ledger.record_failures(
            Failure(self.stream_name, key, _text(records[key].get("DocNum")), records[key], err)
            for key, err in errors.items())
        return [Event(self.stream_name, key, "failed", (ids or {}).get(key),
                      f"{LINK_FAILED}: {_short(err)}") for key, err in errors.items()]


def _log_events(logger: Any, events: list[Event], config: Any) -> None:
    """One log line per sync event, with stream/sap_key/hubspot_id/action as fields for
    `log_format: json` (oplog.py); at debug level in text logs, where they would flood."""
    json_logs = config.get("log_format") == "json"
    base = logging.INFO if json_logs else logging.DEBUG
    dry = bool(config.get("dry_run"))
    for e in events:
        # what an operator must see stands out in text logs too: failures, refused links, drafts
        detail = e.detail or ""
        level = (logging.WARNING if e.action == "failed" or detail.startswith(LINK_FAILED)
                 else max(base, logging.INFO) if detail.startswith("draft") else base)
        if not logger.isEnabledFor(level):
            continue
        action = f"would_{e.action[:-1]}" if dry and e.action in ("created", "updated") \
            else e.action
        logger.log(level, "%s %s %s %s%s", e.stream, e.sap_key, action, e.hubspot_id or "-",
                   f": {detail}" if detail else "",
                   extra=oplog.event_fields(action, stream=e.stream, sap_key=e.sap_key,
                                            hubspot_id=e.hubspot_id, detail=e.detail))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _short(err: Any) -> str:
    if isinstance(err, dict):
        body = err.get("body") if isinstance(err.get("body"), dict) else err
        message = body.get("message") or body.get("reason") or ""
        category = body.get("category") or body.get("status") or ""
        return f"{category}: {message}".strip(": ")[:500]
    return str(err)[:500]


def reason(text: str) -> dict:
    """A dead-letter error written by the target itself (not a HubSpot answer)."""
    return {"category": "TARGET", "message": text}
