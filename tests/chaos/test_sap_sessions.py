"""The SAP session dies under the tap (killed mid-page, idle-expired, server restart): nothing lost.

Each scenario is triggered from the SAP sandbox's request hook at a chosen invoice page, and each
test first proves the scenario really happened (a 401 was served, or a second login was needed),
so a test cannot pass by never reaching its fault.
"""

from __future__ import annotations

import threading

from bench.verdicts import leak_problems, make_pipeline, problems_now


def _invoice_pages(w: object) -> int:
    return sum(1 for r in w.sap.requests if r.method == "GET" and "Invoices" in r.path)


def _logins(w: object) -> int:
    return sum(1 for r in w.sap.requests if r.method == "POST" and r.path.endswith("/Login"))


def _run_clean(w: object, pipe: object) -> None:
    result = pipe.run(timeout=240)
    assert result.ok, result.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)


def test_sessions_killed_mid_page_are_renewed_and_nothing_is_lost(make_world) -> None:
    w = make_world(400, rate_limit=2000, set_target_rate=True, page_size=50)
    pipe = make_pipeline(w)
    seen = {"pages": 0}

    def kill_on_pages(sb, req) -> None:
        if req.method == "GET" and "Invoices" in req.path:
            seen["pages"] += 1
            if seen["pages"] in (2, 5):
                sb.kill_sessions()  # SAP's -5002 session loss, before this page's response

    w.sap.on_request(kill_on_pages)
    _run_clean(w, pipe)
    assert seen["pages"] >= 5, "the run read too few invoice pages to hit the kills"
    assert _logins(w) >= 3, "the tap never logged in again after its session was killed"
    assert any(r.status == 400 for r in w.sap.requests), "no request met the broken session"


def test_a_session_expired_by_idle_time_is_renewed_and_nothing_is_lost(make_world) -> None:
    # Expiry comes from the SAP clock alone: with a real 1 s timeout a loaded box that took
    # over 1 s from a Login to the repeated request expired each fresh session in turn and the
    # tap gave up ("SAP keeps rejecting fresh sessions").
    w = make_world(300, rate_limit=2000, set_target_rate=True, page_size=50, session_timeout=60)
    pipe = make_pipeline(w, tap={"request_timeout": 10})
    seen = {"pages": 0}

    def idle_past_timeout(sb, req) -> None:
        if req.method == "GET" and "Invoices" in req.path:
            seen["pages"] += 1
            if seen["pages"] == 2:
                sb.clock.advance(61)  # the server's clock moves past the idle timeout

    w.sap.on_request(idle_past_timeout)
    _run_clean(w, pipe)
    assert any(r.status == 401 for r in w.sap.requests), "the session never expired"
    assert _logins(w) >= 2


def test_a_service_layer_restart_mid_run_loses_nothing(make_world) -> None:
    w = make_world(400, rate_limit=2000, set_target_rate=True, page_size=50)
    pipe = make_pipeline(w)
    seen = {"pages": 0}
    restarts: list[threading.Thread] = []

    def restart_on_page(sb, req) -> None:
        if req.method == "GET" and "Invoices" in req.path:
            seen["pages"] += 1
            if seen["pages"] == 3 and not restarts:
                restarts.append(threading.Thread(target=sb.restart, daemon=True))
                restarts[0].start()  # from another thread: the server cannot stop itself

    w.sap.on_request(restart_on_page)
    _run_clean(w, pipe)
    for thread in restarts:
        thread.join(timeout=30)
    assert restarts, "the run never reached the restart point"
    assert _logins(w) >= 2, "no new login after the restart dropped every session"
