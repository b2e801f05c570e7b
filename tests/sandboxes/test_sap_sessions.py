"""SAP sandbox sessions: idle expiry, kill on demand (301 and -5002), restart, error shapes."""

from __future__ import annotations

import time

import pytest
import requests

from sap_sandbox import DataSpec, SapSandbox

SPEC = DataSpec(seed=3, customers=5, suppliers=1, leads=1, invoices=30, credit_notes=2, payments=10)


@pytest.fixture
def sb():
    with SapSandbox(data=SPEC, session_timeout=60) as sandbox:
        yield sandbox


def test_session_expires_after_idle_timeout_on_the_sap_clock(sb, sap_login):
    s = sap_login(sb.url)
    assert s.get(f"{sb.url}/ProfitCenters", timeout=5).status_code == 200
    sb.clock.advance(61)
    r = s.get(f"{sb.url}/ProfitCenters", timeout=5)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 301, "message": {
        "lang": "en-us", "value": "Invalid session or session already timeout."}}}


def test_session_expires_after_real_idle_time(sap_login):
    """Real seconds, not the sandbox clock's advance: a session used within the timeout lives,
    one idle past it is gone. The server's idle time between Login and the first GET is at most
    the client's time from sending Login to reading the GET's answer: that is measured, and a
    try the machine stalled past the timeout (a loaded CI box) logs in again instead of
    asserting on a gap nobody controlled. The expiry side needs no margin: the sleep starts
    after the server last touched the session."""
    timeout = 3.0
    with SapSandbox(data=SPEC, session_timeout=timeout) as sb:
        for _ in range(5):
            started = time.monotonic()
            s = sap_login(sb.url)
            alive = s.get(f"{sb.url}/ProfitCenters", timeout=5)
            if time.monotonic() - started < timeout:
                break
        else:
            pytest.fail("five Login-to-GET round trips each took longer than the 3 s timeout")
        assert alive.status_code == 200
        time.sleep(timeout + 0.5)
        assert s.get(f"{sb.url}/ProfitCenters", timeout=5).status_code == 401


def test_each_request_restarts_the_idle_timer(sb, sap_login):
    s = sap_login(sb.url)
    for _ in range(3):
        sb.clock.advance(40)
        assert s.get(f"{sb.url}/ProfitCenters", timeout=5).status_code == 200


def test_v2_invalid_session_uses_the_v2_error_shape(sb, sap_login):
    s = sap_login(sb.url_v2)
    sb.kill_sessions("301")
    r = s.get(f"{sb.url_v2}/Invoices", timeout=5)
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "301"
    assert err["message"] == "Invalid session or session already timeout."


def test_flat_session_error_form_for_v1():
    with SapSandbox(data=SPEC, session_error_form="flat") as sb:
        r = requests.get(f"{sb.url}/Invoices", timeout=5)
        assert r.json() == {"error": {"code": "301",
                                      "message": "Invalid session or session already timeout."}}


def test_kill_sessions_301_forgets_every_session(sb, sap_login):
    a, b = sap_login(sb.url), sap_login(sb.url)
    assert sb.kill_sessions("301") == 2
    assert a.get(f"{sb.url}/Invoices", timeout=5).status_code == 401
    assert b.get(f"{sb.url}/Invoices", timeout=5).json()["error"]["code"] == 301


def test_kill_sessions_5002_breaks_sessions_until_a_new_login(sb, sap_creds, sap_login):
    s = sap_login(sb.url)
    sb.kill_sessions(answer="-5002")
    r = s.get(f"{sb.url}/Invoices", timeout=5)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == -5002
    s.post(f"{sb.url}/Login", json=sap_creds, timeout=5)
    assert s.get(f"{sb.url}/Invoices", timeout=5).status_code == 200


def test_kill_sessions_rejects_an_unknown_answer(sb):
    with pytest.raises(ValueError, match="301"):
        sb.kill_sessions(answer="999")


def test_restart_keeps_port_and_data_but_loses_sessions(sb, sap_login):
    s = sap_login(sb.url)
    url, before = sb.url, sb.get("Invoices", 3)
    sb.restart()
    assert sb.url == url
    r = s.get(f"{sb.url}/Invoices(3)", timeout=5)
    assert r.status_code == 401
    s = sap_login(sb.url)
    assert s.get(f"{sb.url}/Invoices(3)", timeout=5).json()["DocTotal"] == before["DocTotal"]


def test_logged_session_ids_start_with_b1s(sb, sap_login):
    sap_login(sb.url)
    assert sb.requests[-1].session_id.startswith("b1s-")


def test_missing_login_fields_get_a_400(sb):
    r = requests.post(f"{sb.url}/Login", json={"CompanyDB": "SBODEMOUS"}, timeout=5)
    assert r.status_code == 400 and "error" in r.json()


def test_route_id_is_required_by_default_and_optional_when_asked(sap_creds):
    for required in (None, False, True):
        options = {} if required is None else {"require_route_id": required}
        required = required is not False  # load-balanced (required) unless switched off
        with SapSandbox(data=SPEC, **options) as sb:
            login = requests.post(f"{sb.url}/Login", json=sap_creds, timeout=5)
            session_only = {"Cookie": f"B1SESSION={login.cookies['B1SESSION']}"}
            both = {"Cookie": f"B1SESSION={login.cookies['B1SESSION']}; "
                              f"ROUTEID={login.cookies['ROUTEID']}"}
            r = requests.get(f"{sb.url}/ProfitCenters", headers=session_only, timeout=5)
            assert r.status_code == (401 if required else 200)
            if required:  # another node does not know the session: SAP's invalid-session answer
                assert r.json()["error"]["code"] == 301
            assert requests.get(f"{sb.url}/ProfitCenters", headers=both,
                                timeout=5).status_code == 200


def test_kill_sessions_defaults_to_the_sandbox_s_session_loss(sap_login):
    """-5002 unless `session_loss="301"` (the kinder, documented-for-timeouts form) is chosen."""
    with SapSandbox(data=SPEC) as sb:
        s = sap_login(sb.url)
        sb.kill_sessions()
        assert s.get(f"{sb.url}/Invoices", timeout=5).json()["error"]["code"] == -5002
    with SapSandbox(data=SPEC, session_loss="301") as sb:
        s = sap_login(sb.url)
        sb.kill_sessions()
        assert s.get(f"{sb.url}/Invoices", timeout=5).status_code == 401
    with pytest.raises(ValueError):
        SapSandbox(data=SPEC, session_loss="302")
