"""Start the two sandboxes at a chosen size and write the tap and target configs against them.

Shared by the benchmarks and the chaos suite, so both exercise the same data shapes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# The fixed test secrets (docs/CONTRACTS.md); tests/conftest.py holds the same values.
SAP_PASSWORD = "S3cr3t-B1-passw0rd!"
SAP_COMPANY = "SBODEMOUS"
SAP_USER = "manager"
HUBSPOT_TOKEN = "pat-sandbox-0000-test-token-do-not-log"
SECRETS = (SAP_PASSWORD, HUBSPOT_TOKEN)


def data_spec(invoices: int, seed: int = 1, lines: tuple[int, int] = (1, 5)) -> object:
    """A DataSpec scaled around the invoice count (customers, payments, credit notes follow)."""
    from sap_sandbox import DataSpec

    return DataSpec(seed=seed, customers=max(20, invoices // 20), suppliers=5, leads=5,
                    invoices=invoices, credit_notes=max(2, invoices // 40),
                    payments=max(5, invoices // 3), lines_per_invoice=lines)


def sap_server_zone() -> str | None:
    """The SAP sandbox's server zone as an IANA name, for tap-sapb1's `server_timezone`: the
    sandbox stamps in this host's local time. None for a zone not a whole hour from GMT (only
    those have Etc/ names): the tap then keeps its bookmark 12 h behind SAP's Date header."""
    offset = time.localtime().tm_gmtoff
    if offset % 3600:
        return None
    return f"Etc/GMT{-offset // 3600:+d}" if offset else "UTC"


@dataclass
class World:
    """A running SAP sandbox and HubSpot sandbox, with configs that point the pipeline at them."""

    sap: object
    hubspot: object
    workdir: Path
    page_size: int | None = None
    rate_limit: int | None = None

    def tap_config(self, **overrides: object) -> dict:
        """tap-sapb1 settings for this world (short timeouts, as tests need)."""
        config: dict = {
            "service_layer_url": self.sap.url,
            "company_db": SAP_COMPANY,
            "username": SAP_USER,
            "password": SAP_PASSWORD,
            "start_date": "2000-01-01T00:00:00Z",
            "request_timeout": 5,
            "max_retries": 5,
        }
        if zone := sap_server_zone():  # as an operator sets it: the bookmark then follows Date
            config["server_timezone"] = zone
        if self.page_size:
            config["page_size"] = self.page_size
        config.update(overrides)
        return config

    def target_config(self, **overrides: object) -> dict:
        """target-hubspot-finance settings for this world, with the ledger in the workdir."""
        config: dict = {
            "access_token": HUBSPOT_TOKEN,
            "api_base_url": self.hubspot.url,
            "ledger_url": f"sqlite:///{self.workdir / 'ledger.db'}",
        }
        if self.rate_limit:
            config["rate_limit_per_10s"] = self.rate_limit
        config.update(overrides)
        return config

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger file the target writes."""
        return self.workdir / "ledger.db"


@contextlib.contextmanager
def world(workdir: Path, invoices: int, *, seed: int = 1, rate_limit: int = 190,
          page_size: int | None = None, session_timeout: int = 1800,
          lines: tuple[int, int] = (1, 5), set_target_rate: bool = False,
          **sap_options: object) -> Iterator[World]:
    """Both sandboxes running for the duration of the block."""
    from hubspot_sandbox import HubSpotSandbox
    from sap_sandbox import SapSandbox

    workdir.mkdir(parents=True, exist_ok=True)
    sap = SapSandbox(data=data_spec(invoices, seed=seed, lines=lines), company_db=SAP_COMPANY,
                     username=SAP_USER, password=SAP_PASSWORD, session_timeout=session_timeout,
                     **sap_options)
    hubspot = HubSpotSandbox(token=HUBSPOT_TOKEN, rate_limit_per_10s=rate_limit)
    with sap, hubspot:
        yield World(sap=sap, hubspot=hubspot, workdir=workdir, page_size=page_size,
                    rate_limit=rate_limit if set_target_rate else None)
