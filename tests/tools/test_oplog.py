"""JSON log lines carry the sync event fields, and no handler ever prints a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from target_hubspot_finance import oplog

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
SAP_PASSWORD = "S3cr3t-B1-passw0rd!"


@pytest.fixture
def captured():
    """A private logger with one in-memory handler (the root logger is left alone)."""
    logger = logging.getLogger("tools-test-oplog")
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers = []


def test_json_lines_parse_and_carry_the_event_fields(captured):
    logger, stream = captured
    oplog.configure("json", [TOKEN], logger=logger)
    logger.info("invoice 1017 created", extra=oplog.event_fields(
        "created", stream="invoices", sap_key=17, hubspot_id=9001, doc_num="1017"))
    logger.warning("plain line without event")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    event = lines[0]
    assert {k: event[k] for k in ("action", "stream", "sap_key", "hubspot_id", "doc_num")} == {
        "action": "created", "stream": "invoices", "sap_key": "17", "hubspot_id": "9001",
        "doc_num": "1017"}
    assert event["level"] == "info" and event["message"] == "invoice 1017 created"
    assert "action" not in lines[1] and lines[1]["level"] == "warning"


def test_known_secrets_and_credential_shapes_are_masked(captured):
    logger, stream = captured
    oplog.configure("json", [TOKEN, SAP_PASSWORD], logger=logger)
    logger.info("login with %s", SAP_PASSWORD)
    logger.info("headers {'Authorization': 'Bearer %s'}", "pat-test1-11111111-2222-3333")
    logger.info("cookie B1SESSION=b1s-abc123; ROUTEID=.node1")
    logger.error("failed", extra=oplog.event_fields("failed", stream="x", sap_key="1",
                                                    detail=f"token {TOKEN} rejected"))
    out = stream.getvalue()
    for secret in (TOKEN, SAP_PASSWORD, "pat-test1-11111111-2222-3333", "b1s-abc123"):
        assert secret not in out
    assert out.count(oplog.MASK) >= 4
    for line in out.splitlines():
        json.loads(line)


def test_tracebacks_are_redacted_too(captured):
    logger, stream = captured
    oplog.configure("text", [TOKEN], logger=logger)
    try:
        raise RuntimeError(f"401 for token {TOKEN}")
    except RuntimeError:
        logger.exception("call failed")
    assert TOKEN not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_text_format_keeps_the_handlers_formatter(captured):
    logger, stream = captured
    logger.handlers[0].setFormatter(logging.Formatter("TEXT %(message)s"))
    oplog.configure("text", [], logger=logger)
    logger.info("hello")
    assert stream.getvalue() == "TEXT hello\n"


def test_configure_twice_keeps_one_redacting_filter(captured):
    logger, _ = captured
    oplog.configure("json", [TOKEN], logger=logger)
    oplog.configure("json", [TOKEN], logger=logger)
    filters = [f for f in logger.handlers[0].filters if isinstance(f, oplog.RedactingFilter)]
    assert len(filters) == 1
