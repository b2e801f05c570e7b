"""The ledger's "this portal has our custom properties" memo: keyed by HubSpot portal id, and
repaired within the run when HubSpot says a property is missing after all.

A ledger's HubSpot ids belong to one portal: a ledger that meets a second portal is refused
with one line before any write (tests/target/test_ledger_portal.py).
"""

from __future__ import annotations

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows, settled

from hubspot_sandbox import HubSpotSandbox
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import missing_property_names
from target_hubspot_finance.hubspot.properties import ensure_properties
from target_hubspot_finance.hubspot.rate_limit import RateLimiter
from target_hubspot_finance.ledger import LedgerMismatchError

TOKEN_B = "pat-sandbox-1111-other-portal-token"


def _records(first: int = 1) -> str:
    """Two customers, an invoice each and a payment of the first invoice, from SAP key `first`.

    Tests that move a ledger to another portal send records that portal has not seen: the
    ledger's ids of already-synced objects belong to the first portal (see the module doc).
    """
    a, b = first, first + 1
    return messages(("business_partners", [customer(a), customer(b)]),
                    ("invoices", [invoice(a, card=a), invoice(b, card=b)]),
                    ("incoming_payments", [payment(a, card=a, applies=[(a, 220.0)])]))


def _synced(hs: HubSpotSandbox, first: int) -> None:
    a, b = first, first + 1
    assert set(by(hs, "companies", "sap_card_code")) == {f"C{a:05d}", f"C{b:05d}"}
    assert set(by(hs, "invoices", "sap_doc_num")) == {str(4000 + a), str(4000 + b)}
    assert set(by(hs, "commerce_payments", "sap_payment_key")) == {f"{a}-0"}
    assert len(hs.associations("invoices", "companies")) == 2


def test_the_memo_is_keyed_by_portal_id_never_by_url_or_token(hubspot_sandbox, target_config):
    run(cfg(target_config), _records())
    memo = [r for r in ledger_rows(target_config, "synced_objects")
            if r["object_type"] == "_properties"]
    assert [r["sap_key"] for r in memo] == [f"portal:{hubspot_sandbox.portal_id}"]
    assert hubspot_sandbox.token not in str(memo)


def test_a_ledger_moved_to_another_portal_is_refused_before_any_write(
        hubspot_sandbox, target_config):
    run(cfg(target_config), _records(1))
    with HubSpotSandbox(token=TOKEN_B, portal_id=87654321) as other:
        with pytest.raises(LedgerMismatchError, match=r"portal 12345678.*portal 87654321"):
            run(cfg(target_config, api_base_url=other.url, access_token=TOKEN_B), _records(3))
        assert other.writes() == 0


def test_a_reset_portal_with_the_same_id_is_repaired_in_the_run_and_synced(
        hubspot_sandbox, target_config):
    """Same portal id, properties gone (a reset sandbox portal): the memo says "ready", the first
    upsert is refused as by a non-unique property, the target creates them and resends once."""
    run(cfg(target_config), _records(1))
    with HubSpotSandbox(token=TOKEN_B, portal_id=hubspot_sandbox.portal_id) as fresh:
        config = cfg(target_config, api_base_url=fresh.url, access_token=TOKEN_B)
        target, _ = run(config, _records(3))
        _synced(fresh, 3)
        assert fresh.count(status=400) == 1  # the one refused companies upsert
        assert target.runtime.client.calls["companies.upsert"] == 2
        assert ledger_rows(target_config, "dead_letter") == []
        before = settled(fresh)
        target, _ = run(config, _records(3))  # nothing changed: not one call, not even reads
        assert settled(fresh) == before == fresh.count()
        assert sum(target.runtime.client.calls.values()) == 0


def test_a_batch_still_refused_after_the_repair_is_dead_lettered_not_retried_again(
        hubspot_sandbox, target_config, monkeypatch):
    """The repair is tried, but HubSpot keeps refusing (here: the repair does nothing): the
    batch is sent exactly twice and the records go to the dead-letter as usual."""
    run(cfg(target_config), messages(("business_partners", [customer(1)])))
    hubspot_sandbox.client().delete("/crm/v3/properties/companies/sap_balance")
    monkeypatch.setattr("target_hubspot_finance.runtime.ensure_properties",
                        lambda *args, **kwargs: {})
    target, _ = run(cfg(target_config),
                    messages(("business_partners", [customer(1, CurrentAccountBalance=5.0)])))
    assert target.runtime.client.calls["companies.upsert"] == 2
    dead = ledger_rows(target_config, "dead_letter")
    assert [d["sap_key"] for d in dead] == ["C00001"]
    assert "PROPERTY_DOESNT_EXIST" in str(dead[0]["error"])
    stale = [r for r in ledger_rows(target_config, "synced_objects")
             if r["object_type"] == "_properties"]
    assert [r["hubspot_id"] for r in stale] == ["stale"]  # checked again on the next run


def test_a_missing_property_that_is_not_ours_is_not_repaired(hubspot_sandbox):
    """A user's own property (not one the target defines) cannot be fixed by creating ours."""
    asked: list[tuple[str, set[str]]] = []
    client = HubSpotClient(hubspot_sandbox.url, hubspot_sandbox.token, RateLimiter(190))
    ensure_properties(client, ["companies"])
    client.on_missing_properties = lambda t, names: asked.append((t, names)) or False
    result = client.batch("companies", "upsert", [
        {"idProperty": "sap_card_code", "id": "C1", "objectWriteTraceId": "k",
         "properties": {"sap_card_code": "C1", "users_own_field": "x"}}])
    assert asked == [("companies", {"users_own_field"})]
    assert missing_property_names(result.errors["k"]) == {"users_own_field"}
    assert client.calls["companies.upsert"] == 1


@pytest.mark.parametrize("error, names", [
    ({"status": 400, "body": {"category": "VALIDATION_ERROR", "message":
        "Unable to perform update/upsert by non-unique 0-2 property sap_card_code in portal "
        "ID 1"}}, {"sap_card_code"}),
    ({"status": "error", "category": "VALIDATION_ERROR", "message":
        'Property values were not valid: [{"isValid":false,"message":"Property \\"sap_balance'
        '\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"sap_balance"}]'},
     {"sap_balance"}),
    ({"status": "error", "category": "VALIDATION_ERROR", "message": "bad value",
      "errors": [{"code": "INVALID_INTEGER", "context": {"propertyName": ["x"]}}]}, set()),
    ("text", set()),
])
def test_missing_property_names_reads_both_hubspot_error_shapes(error, names):
    assert missing_property_names(error) == names
