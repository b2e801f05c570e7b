"""`hubspot-sandbox`: run the HubSpot double on its own and print its URL (Ctrl-C stops it).

    hubspot-sandbox --port 8091 --rate-limit 100 --fault 503@3,7 --fault "500:rate=0.05:path=/batch"

A fault is KIND[@N,N...][:rate=R][:path=TEXT][:method=M][:times=T][:delay=S][:seed=S], KIND one
of 500, 502, 503, 423, 429, timeout, drop. The token comes from --token or
$HUBSPOT_SANDBOX_TOKEN (default: the fixed test token); it is never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from .faults import KINDS
from .sandbox import HubSpotSandbox

DEFAULT_TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def parse_fault(text: str) -> dict[str, Any]:
    """Turn `503@3,7:path=/batch` into add_fault() keyword arguments."""
    head, *options = text.split(":")
    kind, _, numbers = head.partition("@")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"fault kind must be one of {', '.join(KINDS)}: {text}")
    out: dict[str, Any] = {"kind": kind}
    try:
        if numbers:
            out["at"] = [int(n) for n in numbers.split(",") if n]
        for option in options:
            key, _, value = option.partition("=")
            if key == "rate":
                out["rate"] = float(value)
            elif key in ("times", "seed"):
                out[key] = int(value)
            elif key == "delay":
                out["delay"] = float(value)
            elif key == "path":
                out["path_contains"] = value
            elif key == "method":
                out["method"] = value.upper()
            else:
                raise argparse.ArgumentTypeError(f"unknown fault option {key!r} in {text}")
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad number in fault {text}") from None
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubspot-sandbox",
                                     description="A local HubSpot CRM API double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (default)")
    parser.add_argument("--token", default=os.environ.get("HUBSPOT_SANDBOX_TOKEN", DEFAULT_TOKEN))
    parser.add_argument("--portal-id", type=int, default=12345678)
    parser.add_argument("--rate-limit", type=int, default=190, help="requests per 10 s window")
    parser.add_argument("--daily-limit", type=int, default=650_000)
    parser.add_argument("--search-per-second", type=int, default=5)
    parser.add_argument("--scopes", default=None,
                        help="comma-separated scopes the token holds (default: all)")
    parser.add_argument("--no-payments", action="store_true",
                        help="answer as a portal without the commerce payments object")
    parser.add_argument("--search-lag", type=float, default=0.0,
                        help="seconds before a new record shows up in search")
    parser.add_argument("--keep-order", action="store_true",
                        help="return batch results in input order (HubSpot does not)")
    parser.add_argument("--company-currency", default="USD")
    parser.add_argument("--currencies", default=None,
                        help="comma-separated additional account currencies (default: all)")
    parser.add_argument("--unset-currency", choices=("refuse", "accept"), default="refuse",
                        help="an invoice in a currency the account has not set up")
    parser.add_argument("--refuse-open-on-create", action="store_true",
                        help="refuse an invoice created with a status other than draft")
    parser.add_argument("--refuse-paid", action="store_true",
                        help="refuse hs_invoice_status paid written directly")
    parser.add_argument("--no-payment-properties", action="store_true",
                        help="refuse custom properties on payments")
    parser.add_argument("--fault", action="append", type=parse_fault, default=[],
                        help="KIND[@N,N][:rate=R][:path=P][:method=M][:times=T][:delay=S]")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scopes = {s.strip() for s in args.scopes.split(",") if s.strip()} if args.scopes else None
    sandbox = HubSpotSandbox(token=args.token, portal_id=args.portal_id,
                             rate_limit_per_10s=args.rate_limit, daily_limit=args.daily_limit,
                             search_per_second=args.search_per_second, scopes=scopes,
                             payments_enabled=not args.no_payments, search_lag=args.search_lag,
                             shuffle_results=not args.keep_order,
                             host=args.host, port=args.port,
                             company_currency=args.company_currency,
                             currencies=tuple(c.strip() for c in args.currencies.split(",")
                                              if c.strip()) if args.currencies is not None
                             else None, unset_currency=args.unset_currency,
                             open_on_create=not args.refuse_open_on_create,
                             paid_settable=not args.refuse_paid,
                             payment_custom_properties=not args.no_payment_properties)
    try:
        for fault in args.fault:
            sandbox.add_fault(**fault)
    except ValueError as exc:  # a spec that parses but cannot fire (no @N nor rate, rate > 1)
        print(f"hubspot-sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sandbox.start()
    except OSError as exc:
        print(f"hubspot-sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    print(sandbox.url, flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
