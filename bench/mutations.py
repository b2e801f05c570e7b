"""`python -m bench.mutations`: break the code on purpose and show which test notices.

Each mutation is a text edit of one package file. It is applied to a copy of that package in a
temp folder put first on PYTHONPATH (the repository is never edited; the editable installs
come after PYTHONPATH), then the tests named to catch it run under pytest. A mutation is
"caught" when those tests fail with it and pass without it (the baseline). Prints a table:
mutation → caught by which test.

    .venv/bin/python -m bench.mutations            # every mutation (a few minutes)
    .venv/bin/python -m bench.mutations --list     # names only
    .venv/bin/python -m bench.mutations mapping-raises-typeerror replay-zero-lock-wait
    .venv/bin/python -m bench.mutations --slow      # also the chaos-suite ones (slower)

Exit 1 when a mutation slips through (or a baseline fails).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"target_hubspot_finance": REPO / "target-hubspot-finance",
            "tap_sapb1": REPO / "tap-sapb1",
            "hubspot_sandbox": REPO / "tests" / "sandbox",
            "sap_sandbox": REPO / "tests" / "sandbox"}


@dataclass(frozen=True)
class Mutation:
    """`old` (which must occur in `path`) becomes `new`; `tests` must then fail."""

    name: str
    issue_item: str
    path: str          # e.g. "target_hubspot_finance/mapping.py"
    old: str
    new: str
    tests: tuple[str, ...]
    slow: bool = False
    append: bool = False  # `new` is appended to the file (old must still occur)


MAPPERS = ("map_company", "map_contact", "map_invoice", "map_line_item", "map_tax_line",
           "payment_applications", "map_payment", "credit_applications", "line_problem")

PROPS = "tests/target/test_mapping_properties.py::"
WELL_FORMED = tuple(PROPS + t for t in (
    "test_every_well_formed_business_partner_maps_to_properties_hubspot_accepts",
    "test_every_well_formed_invoice_and_line_maps_to_properties_hubspot_accepts",
    "test_every_well_formed_payment_maps_to_properties_hubspot_accepts"))
NON_FINITE = tuple(PROPS + f"test_a_non_finite_{t}_amount_is_refused"
                   for t in ("company", "invoice", "line", "payment"))

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "mapping-raises-typeerror", "14.1",
        "target_hubspot_finance/mapping.py", "def map_company(",
        "\n\ndef _mutant(*args, **kwargs):\n    raise TypeError('mutant')\n\n\n"
        f"for _name in {MAPPERS!r}:\n    globals()[_name] = _mutant\n",
        WELL_FORMED, append=True),
    Mutation(
        "mapping-passes-nan", "14.1",
        "target_hubspot_finance/mapping.py", "def num(",
        "\n\ndef num(value):\n    if value in (None, ''):\n        return None\n"
        "    if isinstance(value, bool):\n        raise MappingError(f'not a number: {value!r}')\n"
        "    try:\n        return float(value)\n    except (TypeError, ValueError):\n"
        "        raise MappingError(f'not a number: {value!r}') from None\n",
        NON_FINITE, append=True),
    Mutation(
        "mapping-money-as-text-object", "14.1",
        "target_hubspot_finance/mapping.py", "def money(",
        "\n\n_money = money\n\n\n"
        "def money(value):\n    out = _money(value)\n"
        "    return None if out is None else __import__('decimal').Decimal(str(out))\n",
        WELL_FORMED, append=True),
    Mutation(
        "replay-zero-lock-wait", "14.2",
        "target_hubspot_finance/ledger.py", '{"timeout": 30}', '{"timeout": 0}',
        ("tests/tools/test_deadletter_claims.py",)),
    Mutation(
        "replay-claims-everything", "14.2",
        "target_hubspot_finance/commands/claims.py",
        "        except IntegrityError:\n            continue\n",
        "        except IntegrityError:\n            pass\n",
        ("tests/tools/test_deadletter_claims.py",)),
    Mutation(
        "standard-target-companies-never-written", "14.5",
        "target_hubspot_finance/sinks/companies.py",
        "        if changed:\n            rt.ensure_ready()",
        "        changed = {}\n        if changed:\n            rt.ensure_ready()",
        ("tests/target/test_standard_target.py",)),
)


def copy_with(mutation: Mutation | None, into: Path) -> None:
    """Copy the package the mutation edits into `into` and apply the edit there."""
    if mutation is None:
        return
    package = mutation.path.split("/", 1)[0]
    shutil.copytree(PACKAGES[package] / package, into / package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = into / mutation.path
    source = target.read_text()
    if mutation.old not in source:
        raise SystemExit(f"{mutation.name}: the code it mutates has changed "
                         f"({mutation.old!r} not in {mutation.path}); update bench/mutations.py")
    edited = source + mutation.new if mutation.append else source.replace(mutation.old,
                                                                          mutation.new, 1)
    target.write_text(edited)


def run_tests(mutation: Mutation | None, tests: tuple[str, ...]) -> tuple[bool, list[str]]:
    """(passed, failing test ids) for `tests` with the mutation applied (None: baseline)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy_with(mutation, Path(tmp))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [tmp, *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
             "--hypothesis-seed=0", *tests],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False)
    failed = sorted({line.split()[1].split("::", 1)[-1].split("[")[0]
                     for line in result.stdout.splitlines()
                     if line.startswith(("FAILED ", "ERROR "))})
    if result.returncode not in (0, 1):
        failed = failed or [f"pytest exit {result.returncode}: {result.stdout[-300:]}"]
    return result.returncode == 0, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only these mutations")
    parser.add_argument("--slow", action="store_true", help="include the chaos-suite ones")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if (not args.names or m.name in args.names)
              and (args.slow or not m.slow or m.name in args.names)]
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:42} issue {m.issue_item:5} {m.path}{'  (slow)' if m.slow else ''}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(sorted(unknown))}")

    rows: list[tuple[str, str, str, str]] = []
    baselines: dict[tuple[str, ...], tuple[bool, list[str]]] = {}
    for m in chosen:
        if m.tests not in baselines:
            baselines[m.tests] = run_tests(None, m.tests)
        base_ok, base_failed = baselines[m.tests]
        ok, failed = run_tests(m, m.tests)
        if not base_ok:
            verdict, by = "BASELINE FAILS", ", ".join(base_failed) or "?"
        elif ok:
            verdict, by = "SLIPPED THROUGH", "-"
        else:
            verdict, by = "caught", ", ".join(failed[:3]) + (
                f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
        rows.append((m.name, m.issue_item, verdict, by))
        print(f"  {m.name}: {verdict}", file=sys.stderr, flush=True)

    width = max([len(r[0]) for r in rows] + [8])
    print(f"{'mutation':{width}}  item   verdict          caught by")
    for name, item, verdict, by in rows:
        print(f"{name:{width}}  {item:5}  {verdict:15}  {by}")
    return 0 if all(r[2] == "caught" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
