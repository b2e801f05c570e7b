"""Streams the target does not write (reference data such as chart_of_accounts): read, counted
as skipped, never sent. The tap's enrichment already carries the names HubSpot shows."""

from __future__ import annotations

from target_hubspot_finance.sinks.base import HubSpotSink


class IgnoredSink(HubSpotSink):
    """Accepts any stream and writes nothing."""

    handler = "ignore"

    def write(self, records: list[dict]) -> None:
        self.rt.report.count(self.stream_name, "skipped", len(records))
