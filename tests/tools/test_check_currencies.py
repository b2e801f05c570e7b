"""`check` lists the SAP currencies the HubSpot account has not set up (issue 14 item 6).

SAP's currencies are `local_currency` and those of the invoices the ledger has seen; the account's
are the company currency and those with an exchange rate (HubSpot's settings API).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hubspot_sandbox import HubSpotSandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "target"))
from target_factory import customer, invoice, messages, run

from target_hubspot_finance.commands.check import check_hubspot

TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def _eur_invoice() -> dict:
    eur = invoice(2, DocCurrency="EUR", DocRate=1.1, DocTotalFc=200.0, VatSumFc=18.18,
                  PaidToDateFC=0.0)
    for line in eur["DocumentLines"]:
        line.update(Currency="EUR", RowTotalFC=90.91)
    return eur


@pytest.mark.parametrize("account", [(), ("EUR",)], ids=["usd-only", "usd-and-eur"])
def test_check_names_the_sap_currencies_the_account_lacks(tmp_path, account) -> None:
    with HubSpotSandbox(token=TOKEN, currencies=account, unset_currency="accept") as hs:
        config = {"access_token": TOKEN, "api_base_url": hs.url,
                  "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"}
        run(config, messages(("business_partners", [customer(1)]),
                             ("invoices", [invoice(1), _eur_invoice()])))
        lines = check_hubspot({**config, "local_currency": "GBP"}).render()
    failing = [line for line in lines if line.startswith("FAIL")]
    if account:
        assert failing == ["FAIL  SAP currencies not set up in this HubSpot account: GBP: add "
                           "them (Settings > Account defaults > Currencies), or HubSpot may "
                           "refuse invoices in them"]
    else:
        assert len(failing) == 1 and ": EUR, GBP:" in failing[0]


def test_a_portal_with_every_sap_currency_passes(tmp_path) -> None:
    with HubSpotSandbox(token=TOKEN) as hs:
        lines = check_hubspot({"access_token": TOKEN, "api_base_url": hs.url,
                               "ledger_url": f"sqlite:///{tmp_path / 'none.db'}",
                               "local_currency": "USD"}).render()
    assert not [line for line in lines if line.startswith("FAIL")]
    assert any(line.startswith("ok    account currencies: ") and "USD" in line for line in lines)
    assert not (tmp_path / "none.db").exists()  # the check never creates a ledger
