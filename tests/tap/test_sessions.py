"""Sessions: one login per run, cookies reused, transparent re-login, logout at the end."""

from __future__ import annotations

import pytest
from tap_helpers import config_for, page_requests, run_tap


def _kill_after_pages(sb, entity_set: str, pages: int, answer: str = "301"):
    """Kill every session when the page request number `pages + 1` arrives (once)."""
    seen = {"n": 0, "done": False}

    def callback(sandbox, record):
        if record.path.endswith("/" + entity_set) and record.query.get("$top") != "1":
            seen["n"] += 1
            if seen["n"] == pages + 1 and not seen["done"]:
                seen["done"] = True
                sandbox.kill_sessions(answer)

    sb.on_request(callback)
    return seen


def test_one_login_for_the_whole_run_and_logout_at_the_end(make_sandbox):
    sb = make_sandbox()
    run_tap(config_for(sb, page_size=20))
    logins = sb.count(path_contains="/Login", method="POST")
    assert logins == 1
    data = [r for r in sb.requests if r.method == "GET"]
    assert len({r.session_id for r in data}) == 1  # the B1SESSION cookie is reused
    assert sb.requests[-1].path.endswith("/Logout")
    assert sb.requests[-1].session_id == data[0].session_id


@pytest.mark.parametrize("answer,form", [("301", "nested"), ("301", "flat"), ("-5002", "nested")])
def test_relogin_mid_paging_loses_nothing(make_sandbox, answer, form):
    sb = make_sandbox(session_error_form=form)
    _kill_after_pages(sb, "Invoices", pages=2, answer=answer)
    out = run_tap(config_for(sb, page_size=10), streams=["invoices"])
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    assert sb.count(path_contains="/Login") == 2
    pages = page_requests(sb, "Invoices")
    rejected = [r for r in pages if r.status in (400, 401)]
    assert len(rejected) == 1
    repeated = pages[pages.index(rejected[0]) + 1]
    assert repeated.query == rejected[0].query  # the same page, asked again
    assert repeated.session_id != rejected[0].session_id


def test_idle_session_expiry_is_survived(make_sandbox):
    sb = make_sandbox(session_timeout=60)
    state = {"n": 0}

    def age_sessions(sandbox, record):
        if record.path.endswith("/Invoices") and record.query.get("$top") != "1":
            state["n"] += 1
            if state["n"] == 2:
                sandbox.clock.advance(120)  # the session idles past SessionTimeout

    sb.on_request(age_sessions)
    out = run_tap(config_for(sb, page_size=10), streams=["invoices"])
    assert len(out.records["invoices"]) == len(sb.all("Invoices"))
    assert sb.count(path_contains="/Login") == 2


def test_sessions_killed_on_every_request_fail_cleanly(make_sandbox):
    from tap_sapb1.errors import SapB1Error

    sb = make_sandbox()
    sb.on_request(lambda sandbox, record: sandbox.kill_sessions("301")
                  if record.path.endswith("/Invoices") else None)
    with pytest.raises(SapB1Error, match="rejecting fresh sessions"):
        run_tap(config_for(sb), streams=["invoices"])
