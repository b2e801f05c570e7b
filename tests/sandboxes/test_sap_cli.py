"""`sap-sandbox` runs on its own, prints its URL and credentials, and stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from sap_sandbox.__main__ import parse_fault


def test_cli_serves_and_stops_cleanly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sap_sandbox", "--invoices", "25", "--customers", "4",
         "--payments", "5", "--credit-notes", "1", "--seed", "9", "--max-page-size", "10",
         "--fault", "503@2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("SAP Service Layer sandbox at http://127.0.0.1:")
        url = first.split()[5]
        creds = proc.stdout.readline()
        assert "CompanyDB=SBODEMOUS" in creds and "Password=" in creds
        s = requests.Session()
        r = s.post(f"{url}/Login", json={"CompanyDB": "SBODEMOUS", "UserName": "manager",
                                         "Password": "S3cr3t-B1-passw0rd!"}, timeout=5)
        assert r.status_code == 200
        assert s.get(f"{url}/Invoices", timeout=5).status_code == 503  # the --fault
        body = s.get(f"{url}/Invoices", headers={"Prefer": "odata.maxpagesize=50"},
                     timeout=5).json()
        assert len(body["value"]) == 10  # --max-page-size
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_bad_fault_option_is_one_clear_line():
    proc = subprocess.run([sys.executable, "-m", "sap_sandbox", "--fault", "oops"],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2
    assert "bad --fault 'oops'" in proc.stderr and "Traceback" not in proc.stderr


def test_fault_spec_parsing():
    assert parse_fault("timeout@2,5:path=Invoices:delay=8:times=1") == {
        "kind": "timeout", "at": [2, 5], "path_contains": "Invoices", "delay": 8.0, "times": 1}
    assert parse_fault("drop%0.05") == {"kind": "drop", "rate": 0.05}


def test_busy_port_is_one_clear_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "sap_sandbox", "--port", str(port),
                               "--invoices", "5"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_udf_option_gives_the_company_those_fields():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sap_sandbox", "--invoices", "5", "--customers", "2",
         "--payments", "1", "--credit-notes", "0", "--udf", "Document.U_HubSpotDealId",
         "--udf", "BusinessPartner.U_Rating=Int32", "--numbering", "yearly"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[5]
        s = requests.Session()
        s.post(f"{url}/Login", json={"CompanyDB": "SBODEMOUS", "UserName": "manager",
                                     "Password": "S3cr3t-B1-passw0rd!"}, timeout=5)
        inv = s.get(f"{url}/Invoices", timeout=5).json()["value"][0]
        bp = s.get(f"{url}/BusinessPartners", timeout=5).json()["value"][0]
        meta = s.get(f"{url}/$metadata", timeout=5).text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert "U_HubSpotDealId" in inv and "U_Segment" not in bp and bp["U_Rating"] is None
    assert '<Property Name="U_Rating" Type="Edm.Int32"/>' in meta


def test_bad_udf_option_is_one_clear_line():
    proc = subprocess.run([sys.executable, "-m", "sap_sandbox", "--udf", "Document.DealId"],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2
    assert "bad --udf 'Document.DealId'" in proc.stderr and "Traceback" not in proc.stderr


def test_restamp_on_payment_cancel_is_on_unless_switched_off():
    from sap_sandbox.__main__ import _parser

    assert _parser().parse_args([]).restamp_on_payment_cancel is True
    assert _parser().parse_args(
        ["--no-restamp-on-payment-cancel"]).restamp_on_payment_cancel is False


def test_fc_payment_and_payment_date_switches_reach_the_data_spec():
    from sap_sandbox.__main__ import _parser

    args = _parser().parse_args([])
    assert (args.fc_payments, args.fc_cash_sum, args.payment_before_invoice) == (
        0.5, "local", "allow")
    args = _parser().parse_args(["--fc-payments", "1", "--fc-cash-sum", "payment",
                                 "--payment-before-invoice", "refuse"])
    assert (args.fc_payments, args.fc_cash_sum, args.payment_before_invoice) == (
        1.0, "payment", "refuse")


def test_fc_payment_and_payment_date_switches_reach_the_sandbox_s_data(monkeypatch):
    """main() hands every FC/payment-date switch to the DataSpec (a dropped keyword would serve
    the default way silently)."""
    import sap_sandbox.__main__ as cli

    seen = []

    class Stop(Exception):
        pass

    def fake_sandbox(data, **_):
        seen.append(data)
        raise Stop

    monkeypatch.setattr(cli, "SapSandbox", fake_sandbox)
    with pytest.raises(Stop):
        cli.main(["--fc-payments", "1", "--fc-cash-sum", "payment", "--fc-transfer-sum",
                  "local", "--payment-before-invoice", "refuse"])
    (spec,) = seen
    assert (spec.fc_payments, spec.fc_cash_sum, spec.fc_transfer_sum,
            spec.payment_before_invoice) == (1.0, "payment", "local", "refuse")
