"""The HubSpot client against the sandbox: what is retried, what is not, what errors hold."""

from __future__ import annotations

import pytest
from target_hubspot_finance_testutil import settled

from target_hubspot_finance.hubspot import batches
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import FatalHubSpotError, RetryableError
from target_hubspot_finance.hubspot.rate_limit import RateLimiter

TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def client_for(hs, token: str = TOKEN, **kw) -> HubSpotClient:
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("timeout", 5.0)
    return HubSpotClient(hs.url, token, RateLimiter(190), **kw)


def upsert_one(client, name="Acme", code="C1"):
    return batches.upsert(client, "companies", "sap_card_code",
                          {code: (code, {"sap_card_code": code, "name": name})})


@pytest.fixture
def ready(hubspot_sandbox):
    client = client_for(hubspot_sandbox)
    client.create_properties("companies", [{"name": "sap_card_code", "label": "k",
                                            "type": "string", "fieldType": "text",
                                            "groupName": "companyinformation",
                                            "hasUniqueValue": True}])
    return hubspot_sandbox


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "423"])
def test_throttling_and_server_errors_are_retried_until_written(ready, kind):
    client = client_for(ready)
    ready.add_fault(kind=kind, at=[1, 2], path_contains="/batch/upsert")
    written = upsert_one(client)
    assert list(written.ids) == ["C1"]
    assert client.retries == 2
    assert len(ready.objects("companies")) == 1


# A "timeout" fault holds HubSpot's answer until the sandbox stops (delay 600 s): the client's
# timeout (3 s) always fires first, however busy the machine, and nothing waits on a wall clock.
HELD = 600.0


def test_a_timeout_and_a_dropped_connection_are_retried(ready):
    client = client_for(ready, timeout=3.0)
    ready.add_fault(kind="timeout", at=[1], delay=HELD, path_contains="/batch/upsert")
    ready.add_fault(kind="drop", at=[2], path_contains="/batch/upsert")
    written = upsert_one(client)
    assert client.retries == 2  # the held answer is logged only when the sandbox stops
    [company] = ready.objects("companies")  # the timed-out write was not doubled...
    assert written.ids["C1"] == company["id"]
    assert written.new["C1"] is False  # ...though it did create the company: the retry found it


def test_a_timed_out_create_is_not_doubled_by_its_retry(ready):
    """A create HubSpot applied but never answered: the retry meets the unique key taken and
    reports that very object (`conflicts`), so the caller updates it instead of making another."""
    client = client_for(ready, timeout=3.0)
    ready.add_fault(kind="timeout", at=[1], delay=HELD, path_contains="/batch/create")
    written = batches.create(client, "companies",
                             {"C1": ({"sap_card_code": "C1", "name": "Acme"}, [])},
                             key_property="sap_card_code")
    [company] = ready.objects("companies")
    assert client.retries == 1
    assert written.conflicts == {"C1": company["id"]} and written.failed == {}


def test_retries_stop_at_max_retries_with_a_clear_error_and_no_token(ready):
    client = client_for(ready, max_retries=2)
    ready.add_fault(kind="503", rate=1.0, path_contains="/batch/upsert")
    with pytest.raises(RetryableError) as err:
        upsert_one(client)
    settled(ready)
    assert ready.count(path_contains="/batch/upsert") == 3
    assert "503" in str(err.value) and TOKEN not in str(err.value)


def test_a_validation_error_is_reported_per_input_and_never_retried(ready):
    client = client_for(ready)
    written = batches.upsert(client, "companies", "sap_card_code", {
        "C1": ("C1", {"sap_card_code": "C1", "name": "Good"}),
        "C2": ("C2", {"sap_card_code": "C2", "name": "Bad", "no_such_property": "x"})})
    assert client.calls["companies.upsert"] == 1
    settled(ready)
    assert ready.count(path_contains="/batch/upsert") == 1
    assert "C1" in written.ids
    assert "C2" in written.failed and "no_such_property" in str(written.failed["C2"])
    assert client.retries == 0


def test_a_bad_token_is_fatal_and_the_error_never_shows_it(hubspot_sandbox):
    wrong = "pat-test1-11111111-2222-3333-4444-555555555555"
    client = client_for(hubspot_sandbox, token=wrong)
    with pytest.raises(FatalHubSpotError) as err:
        client.get_properties("companies")
    assert err.value.status == 401
    assert wrong not in str(err.value) and wrong not in repr(err.value.as_json())
    assert client.retries == 0


def test_upsert_reports_created_versus_updated_from_the_new_flag(ready):
    client = client_for(ready)
    assert upsert_one(client).new == {"C1": True}
    assert upsert_one(client, name="Acme 2").new == {"C1": False}
    assert [o["properties"]["name"] for o in ready.objects("companies")] == ["Acme 2"]
