"""SAP sandbox HTTPS: a certificate generated at start that only its own CA file makes trusted."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from sap_sandbox import DataSpec, SapSandbox


@pytest.fixture(scope="module")
def sb():
    with SapSandbox(data=DataSpec(seed=2, customers=3, invoices=5, payments=2, credit_notes=1),
                    tls=True) as sandbox:
        yield sandbox


def test_https_url_and_ca_file(sb):
    assert sb.url.startswith("https://127.0.0.1:")
    assert Path(sb.ca_cert_path).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_client_trusting_the_ca_file_logs_in(sb, sap_creds):
    r = requests.post(f"{sb.url}/Login", json=sap_creds, verify=sb.ca_cert_path, timeout=5)
    assert r.status_code == 200


def test_default_verification_rejects_the_private_ca(sb, sap_creds):
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(f"{sb.url}/Login", json=sap_creds, timeout=5)


def test_failed_handshake_does_not_break_the_server(sb, sap_creds):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sb.url}/Invoices", timeout=5)
    assert requests.post(f"{sb.url}/Login", json=sap_creds, verify=sb.ca_cert_path,
                         timeout=5).status_code == 200
    assert sb.server_errors == []


def test_stop_removes_the_generated_key():
    sb = SapSandbox(data=DataSpec(seed=2, customers=1, invoices=1, payments=0, credit_notes=0),
                    tls=True).start()
    folder = Path(sb.ca_cert_path).parent
    assert (folder / "server.key").exists()
    sb.stop()
    assert not folder.exists()
