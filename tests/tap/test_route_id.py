"""Behind SAP's load balancer, a request without Login's ROUTEID cookie lands on a node that
never saw the session: the tap must send both cookies, also after a re-login."""

from __future__ import annotations

from tap_helpers import config_for, run_tap


def test_every_request_carries_routeid_so_a_balanced_service_layer_reads_everything(make_sandbox):
    sb = make_sandbox(require_route_id=True)
    out = run_tap(config_for(sb, page_size=10), streams=["invoices", "business_partners"])
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    assert not [r for r in sb.requests if r.status == 401]


def test_relogin_keeps_sending_the_new_routeid(make_sandbox):
    sb = make_sandbox(require_route_id=True)
    seen = {"n": 0}

    def kill_on_third_page(sandbox, record):
        if record.path.endswith("/Invoices") and record.query.get("$top") != "1":
            seen["n"] += 1
            if seen["n"] == 3:
                sandbox.kill_sessions()

    sb.on_request(kill_on_third_page)
    out = run_tap(config_for(sb, page_size=10), streams=["invoices"])
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    assert sb.count(path_contains="/Login", method="POST") == 2
