"""Progress lines during long runs and the per-stream summary."""

from __future__ import annotations

import logging

from target_hubspot_finance.report import Report


def test_progress_is_logged_at_most_once_per_interval_and_summary_lists_every_count(caplog):
    now = [0.0]
    report = Report(interval_seconds=30, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="target_hubspot_finance.report")
    report.count("invoices", "read", 250)
    report.count("invoices", "created", 240)
    report.count("invoices", "failed", 10)
    report.tick(7)
    assert caplog.records == []
    now[0] = 31.0
    report.tick(7)
    report.tick(8)
    assert len(caplog.records) == 1
    assert "invoices: read 250, created 240" in caplog.records[0].getMessage()
    assert "7 HubSpot calls" in caplog.records[0].getMessage()
    assert report.summary_lines() == [
        "invoices: read 250, created 240, updated 0, unchanged 0, failed 10, skipped 0"]
