"""Bad config and foreseeable failures: one line naming what to fix, exit 1, no traceback."""

from __future__ import annotations

import pytest
from tap_helpers import SAP_PASSWORD, config_for, free_port, run_cli


def _assert_one_clear_line(run, *needles: str) -> None:
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr[-3000:]
    assert all(n in errors[0] for n in needles), errors


BASE = {"service_layer_url": "http://127.0.0.1:9/b1s/v1", "company_db": "SBODEMOUS",
        "username": "manager", "password": SAP_PASSWORD}


@pytest.mark.parametrize("change,needle", [
    ({"password": None}, "password"),
    ({"service_layer_url": "sap.example.com/b1s/v1"}, "service_layer_url"),
    ({"service_layer_url": "https://sap.example.com:50000/api"}, "/b1s/v1 or /b1s/v2"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": "big"}, "page_size"),
    ({"max_retries": -1}, "max_retries"),
    ({"request_timeout": 0}, "request_timeout"),
    ({"start_date": "last tuesday"}, "start_date"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
    ({"verify_ssl": "maybe"}, "verify_ssl"),
])
def test_invalid_settings_are_named(tmp_path, change, needle):
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    _assert_one_clear_line(run_cli(tmp_path, config), needle)


@pytest.mark.parametrize("change,needle", [({"password": None}, "password"),
                                           ({"page_size": 0}, "page_size")])
def test_connection_test_names_invalid_settings_too(tmp_path, change, needle):
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    _assert_one_clear_line(run_cli(tmp_path, config, "--test"), needle)


def test_discovery_needs_no_connection_settings(tmp_path):
    run = run_cli(tmp_path, {"page_size": 5}, "--discover")
    assert run.returncode == 0, run.stderr[-2000:]
    import json

    streams = {s["tap_stream_id"] for s in json.loads(run.stdout)["streams"]}
    assert streams == {"business_partners", "invoices", "credit_notes", "incoming_payments",
                       "chart_of_accounts", "profit_centers", "payment_terms_types"}


def test_connection_refused(tmp_path):
    config = {**BASE, "service_layer_url": f"http://127.0.0.1:{free_port()}/b1s/v1",
              "max_retries": 0}
    _assert_one_clear_line(run_cli(tmp_path, config, "--test"), "cannot reach the Service Layer")


def test_unknown_host(tmp_path):
    config = {**BASE, "service_layer_url": "http://sap.invalid:50000/b1s/v1", "max_retries": 0,
              "request_timeout": 3}
    _assert_one_clear_line(run_cli(tmp_path, config, "--test"), "cannot reach the Service Layer",
                           "service_layer_url")


def test_wrong_password(sap_sandbox, tmp_path):
    config = config_for(sap_sandbox, password="not-the-password")
    run = run_cli(tmp_path, config, "--test")
    _assert_one_clear_line(run, "SAP refused the login", "username and password")
    assert "not-the-password" not in run.stderr


def test_unknown_company(sap_sandbox, tmp_path):
    config = config_for(sap_sandbox, company_db="NOSUCHDB")
    _assert_one_clear_line(run_cli(tmp_path, config, "--test"), "company_db", "NOSUCHDB")


def test_a_query_sap_rejects_is_one_line(sap_sandbox, tmp_path):
    # The sandbox forgets a field, so the tap's $select names one SAP does not know (400).
    sap_sandbox._store.entity_set("Invoices").fields.pop("VatSum")
    run = run_cli(tmp_path, config_for(sap_sandbox), streams=("invoices",))
    _assert_one_clear_line(run, "SAP answered 400 for Invoices", "VatSum")


def test_connection_test_reads_one_record_per_stream(sap_sandbox, tmp_path):
    run = run_cli(tmp_path, config_for(sap_sandbox), "--test")
    assert run.returncode == 0, run.stderr[-2000:]
    counts = {stream: len(rows) for stream, rows in run.output.records.items()}
    assert counts == dict.fromkeys(counts, 1) and len(counts) == 7
    assert sap_sandbox.count(path_contains="/Login") == 1
    assert sap_sandbox.requests[-1].path.endswith("/Logout")
    assert all(r.query.get("$top") in (None, "1") for r in sap_sandbox.requests)


def test_a_record_without_a_valid_stamp_stops_the_run_with_its_key(sap_sandbox, tmp_path):
    key = sap_sandbox.all("Invoices")[0]["DocEntry"]
    sap_sandbox.update("Invoices", key, {"UpdateDate": "2024-13-45", "UpdateTime": "10:00:00"})
    run = run_cli(tmp_path, config_for(sap_sandbox), streams=("invoices",))
    _assert_one_clear_line(run, "Invoices DocEntry", str(key), "cannot be bookmarked")
    bookmarks = [s["bookmarks"].get("invoices", {}) for s in run.output.states]
    assert all("2024-13-45" not in str(b) for b in bookmarks)
