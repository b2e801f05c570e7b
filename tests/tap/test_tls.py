"""TLS: verified by default; a private CA via ca_bundle; verify_ssl false as the last resort."""

from __future__ import annotations

import pytest
from tap_helpers import config_for, run_cli, run_tap


@pytest.fixture
def tls_sandbox(make_sandbox):
    return make_sandbox(tls=True)


def test_self_signed_certificate_fails_by_default_with_a_hint(tls_sandbox, tmp_path):
    run = run_cli(tmp_path, config_for(tls_sandbox, max_retries=0), "--test")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    [line] = run.error_lines()
    assert "TLS certificate check failed" in line
    assert "ca_bundle" in line and "verify_ssl" in line
    assert tls_sandbox.count() == 0  # nothing got through the handshake


def test_ca_bundle_makes_the_certificate_trusted(tls_sandbox):
    config = config_for(tls_sandbox, ca_bundle=tls_sandbox.ca_cert_path)
    assert config["service_layer_url"].startswith("https://")
    out = run_tap(config, streams=["profit_centers"])
    assert len(out.records["profit_centers"]) == len(tls_sandbox.all("ProfitCenters"))


def test_verify_ssl_false_skips_the_check(tls_sandbox):
    out = run_tap(config_for(tls_sandbox, verify_ssl=False), streams=["profit_centers"])
    assert len(out.records["profit_centers"]) == len(tls_sandbox.all("ProfitCenters"))
