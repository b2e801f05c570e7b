"""The SAP sandbox shrugs off rude clients: no traceback on stderr, no inner error, serving on."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys

import pytest
import requests


def _raw(port: int, payload: bytes, read: bool = False) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(payload)
        if read:
            with contextlib.suppress(OSError):
                sock.recv(10)  # read a little of the answer, then hang up mid-body


@pytest.mark.parametrize("tls", [False, True])
def test_disconnects_and_garbage_leave_stderr_clean(tls, sap_creds):
    args = [sys.executable, "-m", "sap_sandbox", "--invoices", "3000", "--customers", "20",
            "--payments", "50", "--fault", "drop@1:path=CreditNotes",
            "--fault", "timeout@1:path=IncomingPayments:delay=2"]
    proc = subprocess.Popen(args + (["--tls"] if tls else []), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[5]
        proc.stdout.readline()
        ca = proc.stdout.readline().split()[-1] if tls else None
        port = int(url.split(":")[2].split("/")[0])
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides s.verify
        s.verify = ca if tls else True
        assert s.post(f"{url}/Login", json=sap_creds, timeout=5).status_code == 200
        cookie = f"B1SESSION={s.cookies['B1SESSION']}"
        big = (f"GET /b1s/v1/Invoices HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
               "Prefer: odata.maxpagesize=3000\r\n\r\n").encode()
        _raw(port, big, read=True)  # hang up mid-answer (on TLS: plain text, a failed handshake)
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"{url}/CreditNotes", timeout=5)  # dropped
        with pytest.raises(requests.exceptions.ReadTimeout):
            s.get(f"{url}/IncomingPayments", timeout=0.3)  # answered after the client left
        _raw(port, b"NOT-HTTP\r\n\r\n")
        _raw(port, b"POST /b1s/v1/Login HTTP/1.1\r\nContent-Length: abc\r\n\r\n", read=True)
        _raw(port, b"GET /b1s/v1/Invoices HTTP/1.1\r\nContent-Length: 50\r\n\r\nshort")
        _raw(port, b"")
        assert s.get(f"{url}/ProfitCenters", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert err == ""
    assert proc.returncode == 0


def test_in_process_rude_clients_leave_no_server_errors(sap_login):
    from sap_sandbox import DataSpec, SapSandbox

    with SapSandbox(data=DataSpec(seed=1, customers=5, invoices=500, payments=10)) as sb:
        s = sap_login(sb.url)
        cookie = f"B1SESSION={s.cookies['B1SESSION']}"
        for _ in range(5):
            _raw(sb.port, (f"GET /b1s/v1/Invoices HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                           "Prefer: odata.maxpagesize=500\r\n\r\n").encode(), read=True)
        _raw(sb.port, b"POST /b1s/v1/Login HTTP/1.1\r\nContent-Length: x\r\n\r\n", read=True)
        assert s.get(f"{sb.url}/Invoices", timeout=5).status_code == 200
        assert sb.server_errors == []
        assert sb.requests[-2].status == 400  # the unreadable Login got an answer
