"""`sap-sandbox`: run the Service Layer double on its own and print how to reach it."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from datetime import datetime
from typing import Any

from sap_sandbox.datagen import DataSpec
from sap_sandbox.sandbox import SapSandbox
from sap_sandbox.schema import HUBSPOT_UDFS, parse_udf


def parse_fault(spec: str) -> dict[str, Any]:
    """`KIND@N,M` or `KIND%RATE`, then optional `:path=TEXT`, `:times=N`, `:delay=SECONDS`,
    `:message=TEXT` (the "5002" fault's text)."""
    head, *options = spec.split(":")
    fault: dict[str, Any] = {}
    try:
        if "@" in head:
            kind, points = head.split("@", 1)
            fault["at"] = [int(p) for p in points.split(",") if p]
        elif "%" in head:
            kind, rate = head.split("%", 1)
            fault["rate"] = float(rate)
        else:
            raise ValueError("missing @N or %RATE")
        fault["kind"] = kind
        for option in options:
            name, value = option.split("=", 1)
            if name == "path":
                fault["path_contains"] = value
            elif name == "times":
                fault["times"] = int(value)
            elif name == "delay":
                fault["delay"] = float(value)
            elif name == "message":
                fault["message"] = value
            else:
                raise ValueError(f"unknown option {name!r}")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad --fault {spec!r}: {exc}") from None
    return fault


def _udf(text: str) -> tuple[str, str, str]:
    try:
        return parse_udf(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad --udf {text!r}: {exc}") from None


def _day(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sap-sandbox", description=(
        "A local SAP Business One Service Layer (v1 and v2) with seeded data, "
        "for tests and demos."))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--seed", type=int, default=1, help="data generator seed (default 1)")
    p.add_argument("--anchor", type=_day, default=None, metavar="YYYY-MM-DD",
                   help="end of the generated history (default: today), for identical data "
                        "across days")
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
    p.add_argument("--time-filter-precision", choices=("second", "minute"), default="minute",
                   help="compare $filter times to the minute as SAP documents (default), or to "
                        "the second (kinder)")
    p.add_argument("--route-id", choices=("required", "optional"), default="required",
                   help="a request without Login's ROUTEID cookie is an unknown session, as on a "
                        "load-balanced Service Layer (default), or is accepted (single node)")
    p.add_argument("--session-error-form", choices=("nested", "flat"), default="nested",
                   help="v1 body for an invalid session: nested message object, or flat strings")
    p.add_argument("--date-form", choices=("sap", "iso", "iso-datetime", "epoch-ms"),
                   default="sap",
                   help="how dates are served: sap (default: v1 /Date(ms)/, v2 2024-03-05), "
                        "iso 2024-03-05, iso-datetime 2024-03-05T00:00:00Z, epoch-ms /Date(ms)/")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC", type=parse_fault,
                   help="inject a fault, e.g. 503@3,7 (requests 3 and 7), drop%%0.05 (5%% of "
                        "requests), timeout@2:path=Invoices:delay=8:times=1; repeatable")
    p.add_argument("--filter-mode", choices=("apply", "ignore-time", "ignore-all"),
                   default="apply", help="apply $filter (default), ignore its *Time comparisons, "
                                         "or ignore it entirely (robustness switches)")
    p.add_argument("--null-update-times", type=float, default=0.0, metavar="SHARE",
                   help="share of partners and documents with a null UpdateTime (default 0)")
    p.add_argument("--future-stamps", type=int, default=0, metavar="N",
                   help="N invoices stamped 2031-01-01 08:00:00 (default 0)")
    p.add_argument("--credit-notes-reconcile", action="store_true",
                   help="a credit note based on an invoice raises that invoice's PaidToDate and "
                        "closes it when covered (default: the invoice is left as it was; SAP "
                        "documents neither, a client must work either way)")
    p.add_argument("--no-restamp-on-payment-cancel", dest="restamp_on_payment_cancel",
                   action="store_false",
                   help="cancelling a payment leaves the UpdateDate/UpdateTime of the invoices it "
                        "reopens (default: re-stamped; SAP documents neither, a client must work "
                        "either way)")
    p.add_argument("--paid-to-date-money-only", dest="paid_to_date_counts_deductions",
                   action="store_false",
                   help="a payment line's cash discount and withholding tax close the invoice "
                        "without entering its PaidToDate (default: PaidToDate counts them; SAP "
                        "documents neither, a client must work either way)")
    p.add_argument("--fc-payments", type=float, default=0.5, metavar="SHARE",
                   help="share of the payments of EUR invoices made in EUR (default 0.5)")
    p.add_argument("--fc-cash-sum", choices=("local", "payment"), default="local",
                   help="what CashSum holds on a foreign-currency payment: the local amount "
                        "(default, SDK help's wording) or the payment-currency amount")
    p.add_argument("--fc-transfer-sum", choices=("local", "payment"), default="payment",
                   help="what TransferSum holds on a foreign-currency payment: the "
                        "payment-currency amount (default) or the local amount")
    p.add_argument("--payment-before-invoice", choices=("allow", "refuse"), default="allow",
                   help="whether a payment dated before an invoice it pays is refused "
                        "(400, -5002); SAP documents neither")
    p.add_argument("--numbering", choices=("single", "yearly"), default="single",
                   help="document numbering: one series per type (default), or two series a "
                        "year each numbering from 1 (DocNum repeats across series)")
    p.add_argument("--udf", action="append", default=[], type=_udf, metavar="TYPE.U_NAME[=TYPE]",
                   help="a user-defined field the company has, e.g. Document.U_HubSpotDealId or "
                        "BusinessPartner.U_Rating=Int32; repeatable (default: none, a standard "
                        "company)")
    p.add_argument("--hubspot-udfs", action="store_true",
                   help="the demo company's UDFs: Document.U_HubSpotDealId, "
                        "BusinessPartner.U_Segment")
    p.add_argument("--company-db", default="SBODEMOUS")
    p.add_argument("--username", default="manager")
    p.add_argument("--password", default="S3cr3t-B1-passw0rd!")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    spec = DataSpec(seed=args.seed, customers=args.customers, suppliers=args.suppliers,
                    leads=args.leads, invoices=args.invoices, credit_notes=args.credit_notes,
                    payments=args.payments, anchor=args.anchor, numbering=args.numbering,
                    null_update_times=args.null_update_times, future_stamps=args.future_stamps,
                    credit_notes_reconcile=args.credit_notes_reconcile,
                    restamp_on_payment_cancel=args.restamp_on_payment_cancel,
                    paid_to_date_counts_deductions=args.paid_to_date_counts_deductions,
                    fc_payments=args.fc_payments, fc_cash_sum=args.fc_cash_sum,
                    fc_transfer_sum=args.fc_transfer_sum,
                    payment_before_invoice=args.payment_before_invoice)
    udfs: dict[str, dict[str, str]] = {}
    for type_name, fields in (HUBSPOT_UDFS if args.hubspot_udfs else {}).items():
        udfs.setdefault(type_name, {}).update(fields)
    for type_name, field, edm in args.udf:
        udfs.setdefault(type_name, {})[field] = edm
    sb = SapSandbox(data=spec, max_page_size=args.max_page_size,
                    honour_page_size=not args.ignore_page_size,
                    session_timeout=args.session_timeout, tls=args.tls,
                    company_db=args.company_db, username=args.username, password=args.password,
                    host=args.host, port=args.port,
                    time_filter_precision=args.time_filter_precision,
                    session_error_form=args.session_error_form, date_form=args.date_form,
                    udfs=udfs or None, filter_mode=args.filter_mode,
                    require_route_id=args.route_id == "required")
    try:
        for fault in args.fault:
            sb.add_fault(**fault)
    except ValueError as exc:
        print(f"sap-sandbox: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        sb.start()
    except OSError as exc:
        print(f"sap-sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    with sb:
        print(f"SAP Service Layer sandbox at {sb.url}  (v2: {sb.url_v2})", flush=True)
        print(f"Login: CompanyDB={sb.company_db} UserName={sb.username} "
              f"Password={sb.password}   (test credentials of this sandbox only)", flush=True)
        if sb.ca_cert_path:
            print(f"CA certificate to trust: {sb.ca_cert_path}", flush=True)
        for fault in args.fault:
            print(f"Fault: {fault}", flush=True)
        for type_name, fields in udfs.items():
            print(f"UDFs of {type_name}: {', '.join(fields)}", flush=True)
        print("Stop with Ctrl-C (or SIGTERM).", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
