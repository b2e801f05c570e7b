"""singer-sdk's standard tap tests (discovery, schemas, records, keys, state) on the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_helpers import SAP_PASSWORD, free_port

from tap_sapb1.tap import TapSAPB1

PORT = free_port()  # the suite needs its config at import; the sandbox starts on this port
CONFIG = {"service_layer_url": f"http://127.0.0.1:{PORT}/b1s/v1", "company_db": "SBODEMOUS",
          "username": "manager", "password": SAP_PASSWORD, "start_date": "2000-01-01T00:00:00Z",
          "request_timeout": 5, "max_retries": 2, "backoff_seconds": 0.01, "page_size": 25,
          "enrich_line_items": True}


def _start_sandbox() -> object:
    """A small sandbox on PORT, started at import: the suite discovers (reads $metadata) while
    it collects its tests."""
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=21, customers=10, suppliers=2, leads=2, invoices=40, credit_notes=4,
                    payments=20)
    return SapSandbox(data=spec, port=PORT, password=SAP_PASSWORD).start()


SANDBOX = _start_sandbox()


@pytest.fixture(scope="module", autouse=True)
def suite_sandbox() -> Iterator[object]:
    """The sandbox on PORT for the whole suite, stopped after it."""
    yield SANDBOX
    SANDBOX.stop()


TestTapSAPB1 = get_tap_test_class(
    TapSAPB1, config=CONFIG, parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=100))
