"""The password and SAP session ids never reach stdout or stderr, even at DEBUG level."""

from __future__ import annotations

import pytest
from tap_helpers import SAP_PASSWORD, config_for, run_cli


def _assert_clean(run, sandbox) -> None:
    text = run.stdout + run.stderr
    assert SAP_PASSWORD not in text
    session_ids = {r.session_id for r in sandbox.requests if r.session_id}
    assert session_ids  # the check below means something
    assert all(sid not in text for sid in session_ids)
    assert "b1s-" not in text


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_run_with_relogin_and_retries_leaks_no_secret(make_sandbox, tmp_path, level):
    sb = make_sandbox()
    seen = {"n": 0}

    def kill_once(sandbox, record):
        if record.path.endswith("/Invoices"):
            seen["n"] += 1
            if seen["n"] == 3:
                sandbox.kill_sessions()

    sb.on_request(kill_once)
    sb.add_fault("500", at=[2], path_contains="/BusinessPartners")
    run = run_cli(tmp_path, config_for(sb, page_size=10, enrich_line_items=True),
                  env={"LOGLEVEL": level})
    assert run.returncode == 0, run.stderr[-2000:]
    assert sb.count(path_contains="/Login") == 2
    _assert_clean(run, sb)


def test_a_failed_run_leaks_no_secret(make_sandbox, tmp_path):
    sb = make_sandbox()
    sb.add_fault("503", rate=1.0, path_contains="/Invoices")
    run = run_cli(tmp_path, config_for(sb, max_retries=1), streams=("invoices",),
                  env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 1
    _assert_clean(run, sb)


def test_a_mistyped_password_is_not_quoted_in_the_config_error(tmp_path):
    config = {"service_layer_url": "http://127.0.0.1:9/b1s/v1", "company_db": "SBODEMOUS",
              "username": "manager", "password": 73198246551}
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    assert "73198246551" not in run.stdout + run.stderr
    assert any("password" in line or "***" in line for line in run.error_lines())
