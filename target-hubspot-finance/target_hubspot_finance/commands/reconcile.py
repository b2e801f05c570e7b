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
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from target_hubspot_finance.commands import settings
from target_hubspot_finance.commands.figures import (
    CENT,
    InvoiceRow,
    PaymentRow,
    compare,
    fold,
    to_date,
    to_decimal,
    write_csv,
)
from target_hubspot_finance.commands.settings import config_option

SAP_INVOICE_FIELDS = ["DocEntry", "DocNum", "CardCode", "DocCurrency", "DocRate", "DocTotal",
                      "DocTotalFc", "PaidToDate", "PaidToDateFC", "DocumentStatus", "Cancelled",
                      "CancelStatus", "UpdateDate"]
DATE_FIELDS = {"DocDate", "UpdateDate"}
# SAP's Payment has no UpdateDate: the tap's first run takes payments by DocDate >= start_date.
SAP_PAYMENT_FIELDS = ["DocEntry", "DocNum", "CardCode", "DocDate", "Cancelled"]


@dataclass
class SapSide:
    """SAP's rows inside the compared window, and the documents left out by it."""

    customers: list[str]
    invoices: list[InvoiceRow]
    payments: list[PaymentRow]
    outside_window: set[str] = field(default_factory=set)  # DocEntry of invoices before start


def document_amounts(doc: dict, local_currency: str | None = None) -> tuple[str, Decimal, Decimal]:
    """(currency, total, paid) of an SAP document in the document's own currency.

    SAP keeps DocTotal/PaidToDate in the company's local currency and DocTotalFc in the document
    currency when that is foreign (DocTotalFc is 0 on a local-currency document). The paid part
    of a foreign document is PaidToDateFC when the server gives it, else PaidToDate / DocRate.
    """
    currency = str(doc.get("DocCurrency") or "").upper()
    total_fc = to_decimal(doc.get("DocTotalFc"))
    foreign = (currency != local_currency.upper()) if local_currency and currency else \
        total_fc != 0
    if not foreign:
        return currency, to_decimal(doc.get("DocTotal")), to_decimal(doc.get("PaidToDate"))
    if doc.get("PaidToDateFC") is not None:
        paid = to_decimal(doc.get("PaidToDateFC"))
    else:
        rate = to_decimal(doc.get("DocRate")) or Decimal(1)
        paid = (to_decimal(doc.get("PaidToDate")) / rate).quantize(CENT)
    return currency, total_fc, paid


def sap_invoice_row(doc: dict, local_currency: str | None = None) -> InvoiceRow:
    """An SAP invoice as a row, in its own currency: the open amount is what is left to pay on an
    open invoice. Its status is what HubSpot may show: voided when cancelled; paid when closed
    and paid in full; `paid|voided` when closed without full payment (a credit note closed it,
    which HubSpot shows as voided once fully credited); else open. Only a cancelled invoice is
    left out of the figures (on both sides, by SAP's mark)."""
    currency, total, paid = document_amounts(doc, local_currency)
    cancelled = doc.get("Cancelled") == "tYES" or doc.get("CancelStatus") == "csYes"
    left = total - paid
    is_open = doc.get("DocumentStatus") == "bost_Open" and left > CENT / 2
    status = ("voided" if cancelled else "open" if is_open else
              "paid" if left <= CENT / 2 else "paid|voided")
    return InvoiceRow(card_code=str(doc.get("CardCode") or ""), doc_num=str(doc.get("DocNum")),
                      total=total, open_amount=left if is_open else to_decimal(0),
                      voided=cancelled, doc_entry=str(doc.get("DocEntry") or ""),
                      currency=currency, status=status)


def is_cancellation(doc: dict) -> bool:
    """SAP's cancellation document (CancelStatus csCancellation) reverses another invoice; it is
    no invoice of its own (the target skips it)."""
    return doc.get("CancelStatus") == "csCancellation"


def sap_payment_row(doc: dict) -> PaymentRow:
    return PaymentRow(card_code=str(doc.get("CardCode") or ""), paid_on=to_date(doc.get("DocDate")),
                      voided=doc.get("Cancelled") == "tYES")


def window_start(tap_config: dict) -> date | None:
    """The first day the pipeline loads (tap-sapb1's `start_date`), or None for all history."""
    return to_date(tap_config.get("start_date"))


def _in_window(doc: dict, start: date | None) -> bool:
    """Like the tap's first run: a document last updated before `start_date` is not loaded."""
    if start is None:
        return True
    updated = to_date(doc.get("UpdateDate"))
    return updated is None or updated >= start


def read_sap(tap_config: dict, local_currency: str | None = None) -> SapSide:
    """Customers, invoices and payments from SAP through tap-sapb1's session and paging, cut to
    the pipeline's window (`start_date`)."""
    from tap_sapb1.paging import sap_date
    from tap_sapb1.tap import TapSAPB1

    tap = TapSAPB1(config=tap_config, validate_config=True)
    try:
        def read(stream: str, fields: list[str]) -> list[dict]:
            # The tap's whole-entity-set reader (paging, retries, re-login), on any of its streams;
            # dates as YYYY-MM-DD whatever form SAP serves them in (ISO or /Date(ms)/).
            rows = tap.streams[stream].read_all(fields)
            for row in rows:
                for name in DATE_FIELDS & row.keys():
                    row[name] = sap_date(row[name])
            return rows

        partners = read("business_partners", ["CardCode", "CardType"])
        # one row per SAP document, however the pages were read (figures count every row)
        invoices = list({str(d.get("DocEntry")): d
                         for d in read("invoices", SAP_INVOICE_FIELDS)}.values())
        payments = read("incoming_payments", SAP_PAYMENT_FIELDS)
    finally:
        tap.close()
    start = window_start(tap_config)
    customers = [str(p["CardCode"]) for p in partners if p.get("CardType") == "cCustomer"]
    return SapSide(
        customers,
        [sap_invoice_row(d, local_currency) for d in invoices
         if _in_window(d, start) and not is_cancellation(d)],
        [sap_payment_row(d) for d in payments],  # windowed by DocDate in reconcile()
        {str(d.get("DocEntry")) for d in invoices if not _in_window(d, start)})


def scope_line(config: dict, tap_config: dict) -> str:
    """What is compared, said once before the differences."""
    start = window_start(tap_config)
    company = tap_config.get("company_db") or "?"
    namespace = config.get("key_namespace")
    since = f"updated since {start} (start_date)" if start else "of all dates (no start_date)"
    ours = f"with key_namespace {namespace}" if namespace else "without key_namespace"
    return (f"comparing SAP company {company}: documents {since}, amounts in each invoice's "
            f"currency; HubSpot invoices {ours}: billed amount, balance due, status, currency")


def reconcile(config: dict, tap_config: dict, csv_path: Path | None = None,
              hubspot_reader: Any = None, sap_reader: Any = None) -> list[str]:
    """The difference lines (empty when SAP and HubSpot agree); writes the CSV when asked."""
    from target_hubspot_finance.commands import hubspot_side

    local = config.get("local_currency") or None
    sap = sap_reader(tap_config) if sap_reader else read_sap(tap_config, local)
    hs_invoices, hs_payments = (hubspot_reader or hubspot_side.read_hubspot)(config)
    # A HubSpot invoice of a document before the window was loaded by an older run: not compared.
    hs_invoices = [r for r in hs_invoices if r.identity not in sap.outside_window]
    start = window_start(tap_config)
    if start is not None:
        hs_payments = [p for p in hs_payments if p.paid_on is None or p.paid_on >= start]
        sap_payments = [p for p in sap.payments if p.paid_on is None or p.paid_on >= start]
    else:
        sap_payments = sap.payments
    diffs = compare(fold(sap.invoices, sap_payments), fold(hs_invoices, hs_payments),
                    customers=sap.customers)
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
    """tap-sapb1 settings: files, ENV (TAP_SAPB1_* variables, typed by the tap's schema), or
    meltano:<plugin> (what Meltano resolves for that extractor)."""
    from tap_sapb1.tap import TapSAPB1

    schema = TapSAPB1.config_jsonschema
    args = list(args)
    merged = settings.load([a for a in args if a != "ENV" and not a.startswith("meltano:")],
                           schema=schema)
    for arg in args:
        if arg.startswith("meltano:"):
            merged |= _meltano_settings(arg.split(":", 1)[1])
    if "ENV" in args:
        merged |= settings.typed_env(schema, "TAP_SAPB1_")
    return settings.typed(schema, merged)


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
        config, tap_config = settings.load(config_args), _tap_settings(tap_args)
        click.echo(scope_line(config, tap_config))
        lines = reconcile(config, tap_config, csv_path)
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
