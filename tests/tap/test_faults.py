"""Faults: 5xx, timeouts and dropped connections are retried; beyond max_retries the run stops
with one clear line, and a rerun completes."""

from __future__ import annotations

import pytest
from tap_helpers import config_for, page_requests, run_cli, run_tap


@pytest.mark.parametrize("kind", ["500", "503", "timeout", "drop"])
def test_each_fault_kind_is_retried_without_losing_records(make_sandbox, kind):
    sb = make_sandbox()
    # a "timeout" holds the answer until the sandbox stops: the 3 s client timeout always fires
    fault = sb.add_fault(kind, at=[2, 3], path_contains="/Invoices", delay=600)
    out = run_tap(config_for(sb, page_size=15, request_timeout=3, max_retries=3),
                  streams=["invoices"])
    assert fault.fired == 2
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))


def test_login_is_retried_after_a_server_error(make_sandbox):
    sb = make_sandbox()
    sb.add_fault("503", at=[1], path_contains="/Login")
    out = run_tap(config_for(sb), streams=["profit_centers"])
    assert len(out.records["profit_centers"]) == len(sb.all("ProfitCenters"))
    assert sb.count(path_contains="/Login") == 2


def test_retries_are_bounded_by_max_retries(make_sandbox):
    from singer_sdk.exceptions import RetriableAPIError

    sb = make_sandbox()
    sb.add_fault("500", rate=1.0, path_contains="/ProfitCenters")
    with pytest.raises(RetriableAPIError):
        run_tap(config_for(sb, max_retries=2), streams=["profit_centers"])
    assert len(page_requests(sb, "ProfitCenters")) == 3  # one try + two retries


def test_sap_down_beyond_retries_fails_in_one_line_and_a_rerun_completes(make_sandbox,
                                                                          tmp_path):
    sb = make_sandbox()
    config = config_for(sb, page_size=10, max_retries=1)
    sb.add_fault("503", rate=1.0, path_contains="/Invoices")
    failed = run_cli(tmp_path, config, streams=("business_partners", "invoices"))
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert failed.error_lines() == [last]  # one ERROR line, the last one
    assert "SAP kept failing after all retries" in last and "503" in last
    assert failed.output.records["business_partners"]  # the stream before it was read

    sb.clear_faults()
    rerun = run_cli(tmp_path, config, streams=("business_partners", "invoices"),
                    state=failed.output.state)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert sorted(rerun.output.keys("invoices")) == sorted(r["DocEntry"]
                                                           for r in sb.all("Invoices"))
