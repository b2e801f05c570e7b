"""SAP sandbox faults: 500/503 with SAP's body, answers past a client timeout, dropped sockets."""

from __future__ import annotations

import time

import pytest
import requests

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=5, customers=5, suppliers=1, leads=1, invoices=30, credit_notes=2, payments=10)


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC) as sandbox:
        yield sandbox


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503)])
def test_server_error_at_a_chosen_request_number(sb, http, kind, status):
    sb.add_fault(kind, at=[2], path_contains="Invoices")
    codes = [http.get(f"{sb.url}/Invoices", timeout=5).status_code for _ in range(3)]
    assert codes == [200, status, 200]
    r = sb.requests[-2]
    assert (r.status, r.fault) == (status, kind)


def test_server_error_body_is_sap_shaped(sb, http):
    sb.add_fault("503", at=1)
    body = http.get(f"{sb.url}/Invoices", timeout=5).json()
    assert isinstance(body["error"]["code"], int)
    assert body["error"]["message"]["lang"] == "en-us"


def test_times_bounds_a_rate_fault(sb, http):
    sb.add_fault("503", rate=1.0, times=2)
    codes = [http.get(f"{sb.url}/ProfitCenters", timeout=5).status_code for _ in range(4)]
    assert codes == [503, 503, 200, 200]


def test_path_contains_limits_a_fault_to_matching_requests(sb, http):
    sb.add_fault("500", rate=1.0, path_contains="CreditNotes")
    assert http.get(f"{sb.url}/Invoices", timeout=5).status_code == 200
    assert http.get(f"{sb.url}/CreditNotes", timeout=5).status_code == 500


def test_seeded_rate_faults_replay_identically(sap_login):
    def pattern():
        with SapSandbox(data=SPEC) as sb:
            sb.add_fault("503", rate=0.3, path_contains="ProfitCenters")
            s = sap_login(sb.url)
            return [s.get(f"{sb.url}/ProfitCenters", timeout=5).status_code for _ in range(30)]

    first = pattern()
    assert first == pattern()
    assert 0 < first.count(503) < 30


def test_timeout_fault_answers_after_the_client_gave_up(sb, http):
    sb.add_fault("timeout", at=1, path_contains="Invoices", delay=600)  # held until stop
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{sb.url}/Invoices", timeout=3)
    assert time.monotonic() - started < 60  # the client gave up; the answer never came
    assert http.get(f"{sb.url}/Invoices", timeout=5).status_code == 200


def test_drop_fault_closes_the_socket_without_an_answer(sb, http):
    sb.add_fault("drop", at=1, path_contains="Invoices")
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{sb.url}/Invoices", timeout=5)
    dropped = [r for r in sb.requests if r.fault == "drop"]
    assert len(dropped) == 1 and dropped[0].status == 0
    assert http.get(f"{sb.url}/Invoices", timeout=5).status_code == 200


def test_clear_faults_stops_them(sb, http):
    sb.add_fault("500", rate=1.0)
    sb.clear_faults()
    assert http.get(f"{sb.url}/Invoices", timeout=5).status_code == 200


def test_fault_needs_a_trigger_and_a_known_kind(sb):
    with pytest.raises(ValueError, match="kind"):
        sb.add_fault("418", at=1)
    with pytest.raises(ValueError, match="rate"):
        sb.add_fault("500")


def test_stop_does_not_wait_for_a_sleeping_timeout_fault(sap_creds):
    sb = SapSandbox(data=SPEC).start()
    sb.add_fault("timeout", at=1, delay=600)
    s = requests.Session()
    with pytest.raises(requests.exceptions.ReadTimeout):
        s.post(f"{sb.url}/Login", json=sap_creds, timeout=3)
    started = time.monotonic()
    sb.stop()
    assert time.monotonic() - started < 60  # not the 600 s the held answer would take
