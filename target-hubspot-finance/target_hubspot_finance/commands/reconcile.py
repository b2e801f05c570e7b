"""`target-hubspot-finance-reconcile`: does HubSpot hold what SAP holds, customer by customer?

SAP is read with tap-sapb1's own session and paging code (one login, the largest page the server
grants, `$select` of the few fields compared); HubSpot with the target's client and its rate
limiter (list pages of 100 with only the compared properties). Both sides are reduced to the same
rows and folded by one rule (figures.py); every difference is one line, exit 1 when any.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from target_hubspot_finance.commands import settings
from target_hubspot_finance.commands.figures import (
    InvoiceRow,
    PaymentRow,
    compare,
    fold,
    to_date,
    to_decimal,
    write_csv,
)
from target_hubspot_finance.commands.settings import config_option

SAP_INVOICE_FIELDS = ["DocEntry", "DocNum", "CardCode", "DocTotal", "PaidToDate",
                      "DocumentStatus", "Cancelled"]
SAP_PAYMENT_FIELDS = ["DocEntry", "DocNum", "CardCode", "DocDate", "Cancelled"]


def sap_invoice_row(doc: dict) -> InvoiceRow:
    """An SAP invoice as a row: open amount is what is left to pay on an open invoice."""
    total = to_decimal(doc.get("DocTotal"))
    is_open = doc.get("DocumentStatus") == "bost_Open"
    return InvoiceRow(card_code=str(doc.get("CardCode") or ""), doc_num=str(doc.get("DocNum")),
                      total=total,
                      open_amount=total - to_decimal(doc.get("PaidToDate")) if is_open else
                      to_decimal(0),
                      voided=doc.get("Cancelled") == "tYES")


def sap_payment_row(doc: dict) -> PaymentRow:
    return PaymentRow(card_code=str(doc.get("CardCode") or ""), paid_on=to_date(doc.get("DocDate")),
                      voided=doc.get("Cancelled") == "tYES")


def read_sap(tap_config: dict) -> tuple[list[str], list[InvoiceRow], list[PaymentRow]]:
    """Customers, invoices and payments from SAP through tap-sapb1's session and paging."""
    from tap_sapb1.tap import TapSAPB1

    tap = TapSAPB1(config=tap_config, validate_config=True)
    try:
        def read(stream: str, fields: list[str]) -> list[dict]:
            # The tap's whole-entity-set reader (paging, retries, re-login), on any of its streams.
            return tap.streams[stream].read_all(fields)

        partners = read("business_partners", ["CardCode", "CardType"])
        invoices = read("invoices", SAP_INVOICE_FIELDS)
        payments = read("incoming_payments", SAP_PAYMENT_FIELDS)
    finally:
        tap.close()
    customers = [str(p["CardCode"]) for p in partners if p.get("CardType") == "cCustomer"]
    return (customers, [sap_invoice_row(d) for d in invoices],
            [sap_payment_row(d) for d in payments])


def reconcile(config: dict, tap_config: dict, csv_path: Path | None = None,
              hubspot_reader: Any = None, sap_reader: Any = None) -> list[str]:
    """The difference lines (empty when SAP and HubSpot agree); writes the CSV when asked."""
    from target_hubspot_finance.commands import hubspot_side

    customers, sap_invoices, sap_payments = (sap_reader or read_sap)(tap_config)
    hs_invoices, hs_payments = (hubspot_reader or hubspot_side.read_hubspot)(config)
    diffs = compare(fold(sap_invoices, sap_payments), fold(hs_invoices, hs_payments),
                    customers=customers)
    if csv_path is not None:
        write_csv(diffs, csv_path)
    return [d.line() for d in diffs]


def _meltano_settings(plugin: str) -> dict:
    """A plugin's settings as Meltano resolves them (`meltano config --unsafe print`), for a
    reconcile run as a plugin command of the target, whose environment holds only its own."""
    exe = shutil.which("meltano")
    if exe is None:
        raise click.ClickException(f"--tap-config meltano:{plugin} needs `meltano` on PATH; "
                                   "pass a settings file instead")
    args = [exe, "config", "--unsafe", "print", plugin]
    if os.environ.get("MELTANO_ENVIRONMENT"):
        args[1:1] = [f"--environment={os.environ['MELTANO_ENVIRONMENT']}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          cwd=os.environ.get("MELTANO_PROJECT_ROOT") or None)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise click.ClickException(f"`meltano config print {plugin}` failed: {last}")
    return json.loads(done.stdout)


def _tap_settings(args: Iterable[str]) -> dict:
    """tap-sapb1 settings: files, ENV (TAP_SAPB1_* variables, parsed by the tap itself), or
    meltano:<plugin> (what Meltano resolves for that extractor)."""
    args = list(args)
    merged = settings.load([a for a in args if a != "ENV" and not a.startswith("meltano:")])
    for arg in args:
        if arg.startswith("meltano:"):
            merged |= _meltano_settings(arg.split(":", 1)[1])
    if "ENV" in args:
        from tap_sapb1.tap import TapSAPB1

        merged |= dict(TapSAPB1._env_var_config)
    return merged


@click.command(name="reconcile")
@config_option
@click.option("--tap-config", "tap_args", multiple=True, default=("ENV",), show_default=True,
              help="tap-sapb1 settings: a JSON file, ENV (TAP_SAPB1_* variables) or "
                   "meltano:<extractor> (Meltano's resolved settings); repeatable.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the differences to this CSV file.")
def main(config_args: tuple[str, ...], tap_args: tuple[str, ...], csv_path: Path | None) -> None:
    """Compare invoices, totals, open balance and last payment per customer; exit 1 on any
    difference."""
    try:
        lines = reconcile(settings.load(config_args), _tap_settings(tap_args), csv_path)
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"reconcile reads SAP through tap-sapb1, which is not installed here ({exc.name}): "
            "install ./tap-sapb1 beside the target (see docs/OPERATIONS.md)") from None
    except click.ClickException:
        raise
    except Exception as exc:  # SAP or HubSpot refused: one line, never a traceback
        errors = getattr(exc, "errors", None)
        text = "; ".join(errors) if errors else (str(exc).splitlines() or [type(exc).__name__])[0]
        raise click.ClickException(f"reconcile stopped: {text}") from None
    for line in lines:
        click.echo(line)
    if lines:
        click.echo(f"{len(lines)} difference(s) between SAP and HubSpot")
        sys.exit(1)
    click.echo("SAP and HubSpot agree for every customer")


if __name__ == "__main__":
    main()
