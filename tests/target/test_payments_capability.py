"""`payments_mode` against what the portal offers (HubSpot payments need HubSpot payments or
Stripe set up; custom properties on payments are undocumented: sandbox switches both ways).

The probe `check` uses says which mode fits; a run in `commerce_payments` mode on a portal that
cannot take it stops before writing anything, in one line that names the setting; the same
load in `properties` mode goes through.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from target_factory import customer, invoice, messages, payment, run

from hubspot_sandbox import HubSpotSandbox
from target_hubspot_finance.hubspot.capabilities import payments_support
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.rate_limit import RateLimiter

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
PORTALS = {"no-payments-object": {"payments_enabled": False},
           "no-custom-payment-properties": {"payment_custom_properties": False}}


def _load() -> str:
    return messages(("business_partners", [customer(1)]),
                    ("invoices", [invoice(1), invoice(2)]),
                    ("incoming_payments", [payment(1, applies=[(1, 220.0)])]),
                    state={"bookmarks": {"incoming_payments": 1}})


@pytest.mark.parametrize("portal", list(PORTALS))
def test_a_run_whose_payments_mode_the_portal_cannot_take_stops_at_start_in_one_line(
        tmp_path, portal: str) -> None:
    with HubSpotSandbox(token=TOKEN, **PORTALS[portal]) as hs:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"access_token": TOKEN, "api_base_url": hs.url,
                                      "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"}))
        done = subprocess.run([str(Path(sys.executable).with_name("target-hubspot-finance")),
                               "--config", str(config)], input=_load(), text=True,
                              capture_output=True, timeout=120)
        objects = {t: hs.objects(t) for t in ("companies", "invoices", "line_items")}
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    stops = [line for line in done.stderr.splitlines() if "stopped" in line]
    assert len(stops) == 1 and "payments_mode: properties" in stops[0]
    assert '"type": "STATE"' not in done.stdout and "bookmarks" not in done.stdout
    assert objects == {"companies": [], "invoices": [], "line_items": []}  # nothing half-written


@pytest.mark.parametrize("portal", list(PORTALS))
def test_properties_mode_takes_the_same_load_on_that_portal(tmp_path, portal: str) -> None:
    with HubSpotSandbox(token=TOKEN, **PORTALS[portal]) as hs:
        config = {"access_token": TOKEN, "api_base_url": hs.url, "payments_mode": "properties",
                  "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"}
        _, states = run(config, _load())
        invoices = {o["properties"]["sap_doc_entry"]: o["properties"]
                    for o in hs.objects("invoices")}
    assert states[-1] == {"bookmarks": {"incoming_payments": 1}}
    assert sorted(invoices) == ["1", "2"]
    assert invoices["1"].get("sap_payment_count") == "1"


@pytest.mark.parametrize(("options", "mode", "custom"), [
    ({}, "commerce_payments", None),
    ({"payments_enabled": False}, "properties", None),
])
def test_the_probe_says_which_payments_mode_fits(options: dict, mode: str, custom) -> None:
    with HubSpotSandbox(token=TOKEN, **options) as hs:
        client = HubSpotClient(hs.url, TOKEN, RateLimiter(100))
        found = payments_support(client)
        writes = hs.writes()
    assert (found.mode, found.custom_properties) == (mode, custom)
    assert f"payments_mode: {mode}" in found.detail
    assert writes == 0  # the probe only reads


def test_the_probe_sees_the_payment_properties_an_earlier_run_created(tmp_path) -> None:
    with HubSpotSandbox(token=TOKEN) as hs:
        run({"access_token": TOKEN, "api_base_url": hs.url,
             "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"}, _load())
        found = payments_support(HubSpotClient(hs.url, TOKEN, RateLimiter(100)))
    assert found.object_available and found.custom_properties is True
    assert found.mode == "commerce_payments"
