"""singer-sdk's standard target tests, where they fit a target that writes to an API.

The SDK's sample streams (array_data, camelcase, ...) are not SAP streams, so the target routes
them to its ignore sink: these tests prove the Singer plumbing (schemas, records before schema,
missing keys, state relaying, CLI) with no HubSpot call. The ledger is in memory.
"""

from __future__ import annotations

from singer_sdk.testing import get_target_test_class

from target_hubspot_finance.target import TargetHubSpotFinance

CONFIG = {
    "access_token": "pat-sandbox-0000-test-token-do-not-log",
    "api_base_url": "http://127.0.0.1:9",  # never called: no sample stream is written
    "ledger_url": "sqlite://",
}

StandardTargetTests = get_target_test_class(TargetHubSpotFinance, config=CONFIG)


class TestTargetHubSpotFinanceStandard(StandardTargetTests):
    """The SDK's suite as is."""
