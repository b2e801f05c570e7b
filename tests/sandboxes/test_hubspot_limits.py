"""HubSpot sandbox: token check, scopes, rate limits and their headers, faults, request log."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import requests

from hubspot_sandbox import HubSpotSandbox

COMPANIES = "/crm/v3/objects/companies"


def test_bad_or_missing_token_is_hubspots_401(hubspot_sandbox):
    client = hubspot_sandbox.client(token="pat-wrong")
    r = client.get(COMPANIES)
    assert r.status_code == 401
    assert r.json()["category"] == "INVALID_AUTHENTICATION"
    assert requests.get(hubspot_sandbox.url + COMPANIES, timeout=5).status_code == 401
    client.close()


def test_every_response_carries_rate_limit_headers(api):
    r = api.get(COMPANIES)
    assert r.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert r.headers["X-HubSpot-RateLimit-Remaining"] == "189"
    assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert r.headers["X-HubSpot-RateLimit-Daily"] == "650000"
    assert r.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "649999"


def test_window_limit_answers_429_with_policy_and_recovers(hubspot_token):
    # A 60 s window: the burst stays inside it however slow the machine is.
    with HubSpotSandbox(token=hubspot_token, rate_limit_per_10s=5, window_seconds=60.0) as hs:
        client = hs.client()
        codes = [client.get(COMPANIES).status_code for _ in range(7)]
        assert codes == [200] * 5 + [429] * 2
        r = client.get(COMPANIES)
        assert r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert r.json()["errorType"] == "RATE_LIMIT"
        assert r.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"
        assert hs.count(status=429) == 3
        client.close()
    # Recovery: a request once the window has passed is admitted again (waiting longer than the
    # window only makes that surer on a busy machine).
    with HubSpotSandbox(token=hubspot_token, rate_limit_per_10s=1, window_seconds=1.0) as hs:
        client = hs.client()
        assert client.get(COMPANIES).status_code == 200
        time.sleep(1.5)
        assert client.get(COMPANIES).status_code == 200
        client.close()


def test_set_rate_limit_mid_run_takes_effect(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, rate_limit_per_10s=100) as hs:
        client = hs.client()
        assert client.get(COMPANIES).headers["X-HubSpot-RateLimit-Max"] == "100"
        hs.set_rate_limit(2)
        assert [client.get(COMPANIES).status_code for _ in range(2)] == [200, 429]
        client.close()


def test_daily_limit_answers_daily_policy(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, daily_limit=2) as hs:
        client = hs.client()
        assert [client.get(COMPANIES).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get(COMPANIES).json()["policyName"] == "DAILY"
        client.close()


def test_search_has_its_own_per_second_limit_without_window_headers(hubspot_token, monkeypatch):
    # The limiter's clock stands still: the six searches fall in one second however slowly a
    # loaded machine sends them (at one per 0.5 s each found its second free: no 429).
    monkeypatch.setattr("hubspot_sandbox.ratelimit.time", SimpleNamespace(monotonic=lambda: 1e6))
    with HubSpotSandbox(token=hubspot_token, search_per_second=2) as hs:
        client = hs.client()
        answers = [client.post(f"{COMPANIES}/search", json={}) for _ in range(6)]
        assert [a.status_code for a in answers[:2]] == [200, 200]
        refused = [a for a in answers if a.status_code == 429]
        assert refused and refused[0].json()["policyName"] == "SECONDLY"
        assert "X-HubSpot-RateLimit-Max" not in answers[0].headers
        ok = client.get(COMPANIES)
        assert ok.status_code == 200 and ok.headers["X-HubSpot-RateLimit-Remaining"] == "189"
        client.close()


def test_token_without_scope_gets_403_naming_the_missing_scope(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, scopes={"crm.objects.companies.read"}) as hs:
        client = hs.client()
        assert client.get(COMPANIES).status_code == 200
        r = client.post("/crm/v3/objects/invoices/batch/create", json={"inputs": []})
        assert r.status_code == 403
        body = r.json()
        assert body["category"] == "MISSING_SCOPES"
        assert body["errors"][0]["context"]["requiredGranularScopes"] == [
            "crm.objects.invoices.write"]
        r = client.post("/crm/v3/properties/companies", json={})
        assert r.json()["errors"][0]["context"]["requiredGranularScopes"] == [
            "crm.schemas.companies.write"]
        client.close()


def test_line_items_accept_the_legacy_e_commerce_scope(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, scopes={"e-commerce"}) as hs:
        client = hs.client()
        r = client.post("/crm/v3/objects/line_items", json={"properties": {"name": "x"}})
        assert r.status_code == 201
        client.close()


def test_portal_without_payments_does_not_know_commerce_payments(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, payments_enabled=False) as hs:
        client = hs.client()
        r = client.post("/crm/v3/objects/commerce_payments/batch/upsert", json={"inputs": []})
        assert r.status_code == 400
        assert r.json()["message"] == "Unable to infer object type from: commerce_payments"
        assert client.get("/crm/v3/objects/0-101").status_code == 400
        client.close()


@pytest.mark.parametrize("code", [500, 502, 503])
def test_5xx_fault_at_request_number_with_hubspot_body(api, hubspot_sandbox, code):
    hubspot_sandbox.add_fault(str(code), at=[2])
    assert api.get(COMPANIES).status_code == 200
    r = api.get(COMPANIES)
    assert r.status_code == code and r.json()["status"] == "error"
    assert api.get(COMPANIES).status_code == 200


def test_fault_path_filter_counts_only_matching_requests_and_nothing_is_written(
        api, hubspot_sandbox):
    hubspot_sandbox.add_fault("503", at=[1], path_contains="/batch/create")
    api.get(COMPANIES)
    r = api.post(f"{COMPANIES}/batch/create", json={"inputs": [{"properties": {"name": "a"}}]})
    assert r.status_code == 503
    assert hubspot_sandbox.objects("companies") == []
    r = api.post(f"{COMPANIES}/batch/create", json={"inputs": [{"properties": {"name": "a"}}]})
    assert r.status_code == 201


def test_drop_closes_the_connection_without_an_answer(api, hubspot_sandbox):
    hubspot_sandbox.add_fault("drop", at=[1])
    with pytest.raises(requests.ConnectionError):
        api.get(COMPANIES)
    assert api.get(COMPANIES).status_code == 200
    assert hubspot_sandbox.requests[0].status == 0


def test_timeout_holds_the_answer_past_the_client_timeout(hubspot_sandbox):
    hubspot_sandbox.add_fault("timeout", at=[1], delay=600)  # held until the sandbox stops
    client = hubspot_sandbox.client(timeout=3)
    with pytest.raises(requests.Timeout):
        client.get(COMPANIES)
    assert client.get(COMPANIES).status_code == 200
    client.close()


def test_seeded_rate_faults_repeat_exactly(hubspot_token):
    def run() -> list[int]:
        with HubSpotSandbox(token=hubspot_token) as hs:
            hs.add_fault("500", rate=0.3, seed=42)
            client = hs.client()
            codes = [client.get(COMPANIES).status_code for _ in range(20)]
            client.close()
            return codes

    first = run()
    assert first == run()
    assert 500 in first and 200 in first


def test_times_caps_how_often_a_fault_fires(api, hubspot_sandbox):
    hubspot_sandbox.add_fault("503", rate=1.0, times=2)
    assert [api.get(COMPANIES).status_code for _ in range(3)] == [503, 503, 200]
    hubspot_sandbox.clear_faults()


def test_request_log_counts_and_writes(api, hubspot_sandbox):
    api.post(f"{COMPANIES}/batch/create", json={"inputs": [{"properties": {"name": "a"}}]})
    api.post(f"{COMPANIES}/batch/read", json={"inputs": [{"id": "1"}]})
    api.post(f"{COMPANIES}/search", json={})
    api.get(COMPANIES)
    assert hubspot_sandbox.count(method="POST", path_contains="/batch/") == 2
    assert hubspot_sandbox.writes() == 1
    rec = hubspot_sandbox.requests[0]
    assert (rec.method, rec.path, rec.status) == ("POST", f"{COMPANIES}/batch/create", 201)
    assert rec.body == {"inputs": [{"properties": {"name": "a"}}]}


def test_token_never_reaches_the_request_log(api, hubspot_sandbox, hubspot_token):
    api.get(COMPANIES)
    assert hubspot_token not in repr(hubspot_sandbox.requests)


def test_injected_423_and_429_faults(api, hubspot_sandbox):
    hubspot_sandbox.add_fault("423", at=[1])
    hubspot_sandbox.add_fault("429", at=[2])
    first, second = api.get(COMPANIES), api.get(COMPANIES)
    assert first.status_code == 423 and first.json()["category"] == "LOCKED"
    assert second.status_code == 429 and second.json()["policyName"] == "TEN_SECONDLY_ROLLING"


def test_restart_keeps_data_and_port_and_cuts_open_connections(api, hubspot_sandbox):
    api.post(COMPANIES, json={"properties": {"name": "kept"}})
    url = hubspot_sandbox.url
    hubspot_sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        api.get(COMPANIES)
    hubspot_sandbox.start()
    assert hubspot_sandbox.url == url
    page = api.get(COMPANIES, params={"properties": "name"}).json()
    assert [o["properties"]["name"] for o in page["results"]] == ["kept"]
    hubspot_sandbox.restart()
    assert api.get(COMPANIES).status_code == 200


def test_inspection_of_an_unknown_or_disabled_type_raises_value_error(hubspot_token):
    with HubSpotSandbox(token=hubspot_token, payments_enabled=False) as hs:
        with pytest.raises(ValueError, match="commerce_payments"):
            hs.objects("commerce_payments")
        with pytest.raises(ValueError, match="widgets"):
            hs.associations("invoices", "widgets")


def test_timed_out_write_is_applied_though_the_client_never_sees_the_answer(hubspot_sandbox):
    hubspot_sandbox.add_fault("timeout", at=[1], delay=600, method="POST")  # held until stop
    client = hubspot_sandbox.client(timeout=3)
    with pytest.raises(requests.Timeout):
        client.post(COMPANIES, json={"properties": {"name": "applied"}})
    # The client gave up after 3 s whether or not the server's thread had run yet (a loaded
    # box can start it later): the write must land while its answer is held, so wait for it.
    deadline = time.monotonic() + 30
    while not hubspot_sandbox.objects("companies") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [o["properties"]["name"] for o in hubspot_sandbox.objects("companies")] == ["applied"]
    assert hubspot_sandbox.requests == []  # its answer is still held: never sent
    client.close()


def test_add_fault_refuses_unknown_kinds_and_faults_that_never_fire(hubspot_sandbox):
    with pytest.raises(ValueError, match="kind"):
        hubspot_sandbox.add_fault("418", at=[1])
    with pytest.raises(ValueError, match="`at`"):
        hubspot_sandbox.add_fault("500")
