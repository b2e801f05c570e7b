"""Fixtures shared by every test folder: the two sandboxes and the fixed test secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

# A loaded 2-core CI box can stall one example past hypothesis's default 200 ms deadline
# (DeadlineExceeded / Flaky with nothing wrong): no deadline anywhere, so a @given without its
# own settings is as steady as the ones that say deadline=None.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

SAP_PASSWORD = "S3cr3t-B1-passw0rd!"
SAP_COMPANY = "SBODEMOUS"
SAP_USER = "manager"
HUBSPOT_TOKEN = "pat-sandbox-0000-test-token-do-not-log"
SECRETS = (SAP_PASSWORD, HUBSPOT_TOKEN)


@pytest.fixture
def sap_sandbox() -> Iterator:
    """A small seeded SAP Service Layer on 127.0.0.1, fresh for each test."""
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=7, customers=30, suppliers=3, leads=3, invoices=120, credit_notes=6,
                    payments=60)
    with SapSandbox(data=spec, company_db=SAP_COMPANY, username=SAP_USER,
                    password=SAP_PASSWORD) as sb:
        yield sb


@pytest.fixture
def hubspot_sandbox() -> Iterator:
    """A HubSpot API double on 127.0.0.1 with the Professional rate limit, fresh for each test."""
    from hubspot_sandbox import HubSpotSandbox

    with HubSpotSandbox(token=HUBSPOT_TOKEN, rate_limit_per_10s=190) as hs:
        yield hs


@pytest.fixture
def tap_config(sap_sandbox) -> dict:
    """tap-sapb1 settings pointing at the SAP sandbox."""
    return {
        "service_layer_url": sap_sandbox.url,
        "company_db": SAP_COMPANY,
        "username": SAP_USER,
        "password": SAP_PASSWORD,
        "start_date": "2020-01-01T00:00:00Z",
        "request_timeout": 5,
        "max_retries": 3,
    }


@pytest.fixture
def target_config(hubspot_sandbox, tmp_path) -> dict:
    """target-hubspot-finance settings pointing at the HubSpot sandbox with a throwaway ledger."""
    return {
        "access_token": HUBSPOT_TOKEN,
        "api_base_url": hubspot_sandbox.url,
        "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
    }
