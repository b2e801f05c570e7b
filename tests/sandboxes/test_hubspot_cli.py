"""HubSpot sandbox CLI: `hubspot-sandbox` prints its URL, honours options, stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests


def test_cli_prints_url_and_serves_with_rate_limit_and_fault(hubspot_token):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubspot_sandbox", "--port", "0", "--rate-limit", "7",
         "--fault", "503@1:path=/companies"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {hubspot_token}"}
        first = requests.get(f"{url}/crm/v3/objects/companies", headers=headers, timeout=5)
        assert first.status_code == 503
        second = requests.get(f"{url}/crm/v3/objects/companies", headers=headers, timeout=5)
        assert second.status_code == 200
        assert second.headers["X-HubSpot-RateLimit-Max"] == "7"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert hubspot_token not in out + err


def test_cli_rejects_a_bad_fault_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "hubspot_sandbox", "--fault", "418@1"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "fault kind must be one of" in proc.stderr


def test_cli_refuses_a_fault_that_could_never_fire_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "hubspot_sandbox", "--fault", "503"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "a fault needs" in proc.stderr and "Traceback" not in proc.stderr
