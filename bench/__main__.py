"""`python -m bench`: measure the connector against the sandboxes and print the tables.

Default (`make bench`): 1k and 10k invoices at HubSpot's 190 requests/10 s, plus 10k at a high
sandbox limit for a throughput figure that the rate limit does not cap. `--quick`: 1k only.
`--sizes 1000,10000,100000` and `--fast-sizes` choose the sizes for each limit.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.report import render
from bench.runner import measure


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure each size, print the tables; exit 1 if a run failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k invoices only")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000],
                        help="invoice counts at the real limit (default 1000,10000)")
    parser.add_argument("--rate-limit", type=int, default=190, help="HubSpot requests/10 s")
    parser.add_argument("--fast-sizes", type=_sizes, default=[10000],
                        help="invoice counts at --fast-limit (throughput figure)")
    parser.add_argument("--fast-limit", type=int, default=5000,
                        help="sandbox limit for the throughput runs")
    parser.add_argument("--page-size", type=int, default=1000, help="tap page_size")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep logs and ledgers here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.fast_sizes = [1000], []

    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-"))
    figures = []
    plan = [(n, args.rate_limit, False) for n in args.sizes]
    plan += [(n, args.fast_limit, True) for n in args.fast_sizes]
    for invoices, limit, set_rate in plan:
        print(f"measuring {invoices} invoices at {limit} requests/10s ...", file=sys.stderr,
              flush=True)
        figures.append(measure(invoices, limit, args.page_size,
                               root / f"inv{invoices}-limit{limit}", set_target_rate=set_rate))
    text = render(figures)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
