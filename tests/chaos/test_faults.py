"""Faulty networks: 10% of requests to either API fail; faults past max_retries fail cleanly.

A run through 5xx answers, timeouts and dropped connections must complete with nothing lost; a run
whose faults outlast the retries must stop with one clear line (no traceback, no secret) and a
rerun must then complete with nothing lost and nothing doubled.
"""

from __future__ import annotations

from bench.verdicts import error_lines, leak_problems, make_pipeline, problems_now

SAP_FAULTS = (("500", 0.03), ("503", 0.03), ("timeout", 0.02), ("drop", 0.02))
HUBSPOT_FAULTS = (("500", 0.02), ("502", 0.02), ("503", 0.02), ("timeout", 0.02), ("drop", 0.02))


def test_ten_percent_faults_on_both_apis_complete_with_nothing_lost(make_world) -> None:
    w = make_world(600, rate_limit=2000, set_target_rate=True, page_size=50)
    for kind, rate in SAP_FAULTS:
        w.sap.add_fault(kind=kind, rate=rate)
    for kind, rate in HUBSPOT_FAULTS:
        w.hubspot.add_fault(kind=kind, rate=rate)
    pipe = make_pipeline(w, tap={"request_timeout": 2, "max_retries": 8},
                         target={"request_timeout": 2, "max_retries": 8})
    result = pipe.run(timeout=400)
    assert result.ok, result.describe()
    faulted = sum(1 for r in w.hubspot.requests if r.status >= 500 or r.status == 0)
    assert faulted, "no HubSpot fault was served: the test proved nothing"
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)


def test_sap_faults_beyond_max_retries_fail_with_one_clear_line_and_a_rerun_completes(
        make_world) -> None:
    w = make_world(300, rate_limit=2000, set_target_rate=True, page_size=50)
    w.sap.add_fault(kind="503", rate=1.0, path_contains="/Invoices", times=10_000)
    pipe = make_pipeline(w, tap={"max_retries": 2})
    failed = pipe.run(timeout=240)
    assert failed.tap_rc not in (0, None), failed.describe()
    lines = error_lines(failed.tap_stderr)
    assert "Traceback" not in failed.tap_stderr + failed.target_stderr, failed.describe()
    assert len(lines) == 1, f"expected one clear error line, got: {lines}"
    # what failed (SAP, after its retries), how (503) and where (the Invoices entity set)
    assert "SAP kept failing after all retries" in lines[0], lines[0]
    assert "503" in lines[0] and "Invoices" in lines[0], lines[0]

    w.sap.clear_faults()
    rerun = pipe.run(timeout=240)
    assert rerun.ok, rerun.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)


def test_hubspot_faults_beyond_max_retries_fail_with_one_clear_line_and_a_rerun_completes(
        make_world) -> None:
    w = make_world(300, rate_limit=2000, set_target_rate=True, page_size=50)
    w.hubspot.add_fault(kind="503", rate=1.0, path_contains="/batch/", times=10_000)
    pipe = make_pipeline(w, target={"max_retries": 2})
    failed = pipe.run(timeout=240)
    assert not failed.ok and failed.target_rc not in (0, None), failed.describe()
    assert "Traceback" not in failed.tap_stderr + failed.target_stderr, failed.describe()
    lines = error_lines(failed.target_stderr)
    assert len(lines) == 1, f"expected one clear error line, got: {lines}"
    assert "target-hubspot-finance stopped: HubSpot answered 503 to POST" in lines[0], lines[0]
    assert "/batch/" in lines[0] and "rerun" in lines[0], lines[0]

    w.hubspot.clear_faults()
    rerun = pipe.run(timeout=240)
    assert rerun.ok, rerun.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)
