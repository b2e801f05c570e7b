"""`tap-sapb1 --test` as issue 6 asks: SAP login and one record per stream; each failure is one
line that says what to fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tools_pipeline import SAP_PASSWORD

BIN = Path(sys.executable).parent
STREAMS = {"business_partners", "invoices", "credit_notes", "incoming_payments",
           "chart_of_accounts", "profit_centers", "payment_terms_types"}


def tap_test(tmp_path, config: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "tap.json"
    path.write_text(json.dumps(config))
    return subprocess.run([str(BIN / "tap-sapb1"), "--config", str(path), "--test"],
                          capture_output=True, text=True, timeout=120)


def test_passes_with_one_record_per_stream_and_a_closing_line(tap_config, tmp_path):
    result = tap_test(tmp_path, tap_config)
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()
               if json.loads(line).get("type") == "RECORD"]
    assert {r["stream"] for r in records} == STREAMS
    assert len(records) == len(STREAMS)
    assert "connection test passed: logged in to SAP company SBODEMOUS" in result.stderr
    assert SAP_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(("change", "says"), [
    ({"password": "wrong"}, "check username and password"),
    ({"company_db": "NOPE"}, "company_db"),
    ({"service_layer_url": "http://127.0.0.1:9/b1s/v1", "max_retries": 0},
     "check service_layer_url"),
])
def test_each_failure_is_one_line_naming_what_to_fix(tap_config, tmp_path, change, says):
    result = tap_test(tmp_path, {**tap_config, **change})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert says in errors[0]
    assert "Traceback" not in result.stderr
    assert SAP_PASSWORD not in result.stdout + result.stderr
