"""`sap-sandbox`: run the Service Layer double on its own and print how to reach it."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from sap_sandbox.datagen import DataSpec
from sap_sandbox.sandbox import SapSandbox


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sap-sandbox", description=(
        "A local SAP Business One Service Layer (v1 and v2) with seeded data, "
        "for tests and demos."))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--seed", type=int, default=1, help="data generator seed (default 1)")
    p.add_argument("--customers", type=int, default=50)
    p.add_argument("--suppliers", type=int, default=5)
    p.add_argument("--leads", type=int, default=5)
    p.add_argument("--invoices", type=int, default=400)
    p.add_argument("--credit-notes", type=int, default=10)
    p.add_argument("--payments", type=int, default=200)
    p.add_argument("--max-page-size", type=int, default=0,
                   help="cap on odata.maxpagesize (0 = honour any size)")
    p.add_argument("--ignore-page-size", action="store_true",
                   help="ignore Prefer/B1S-PageSize and always serve 20 per page")
    p.add_argument("--session-timeout", type=float, default=1800,
                   help="seconds of idle before a session dies (default 1800 = 30 min)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a generated certificate")
    p.add_argument("--company-db", default="SBODEMOUS")
    p.add_argument("--username", default="manager")
    p.add_argument("--password", default="S3cr3t-B1-passw0rd!")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    spec = DataSpec(seed=args.seed, customers=args.customers, suppliers=args.suppliers,
                    leads=args.leads, invoices=args.invoices, credit_notes=args.credit_notes,
                    payments=args.payments)
    sb = SapSandbox(data=spec, max_page_size=args.max_page_size,
                    honour_page_size=not args.ignore_page_size,
                    session_timeout=args.session_timeout, tls=args.tls,
                    company_db=args.company_db, username=args.username, password=args.password,
                    host=args.host, port=args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sb:
        print(f"SAP Service Layer sandbox at {sb.url}  (v2: {sb.url_v2})", flush=True)
        print(f"Login: CompanyDB={sb.company_db} UserName={sb.username} "
              f"Password={sb.password}   (test credentials of this sandbox only)", flush=True)
        if sb.ca_cert_path:
            print(f"CA certificate to trust: {sb.ca_cert_path}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
