"""Per-customer finance figures and their comparison: the pure core of `reconcile`.

Both sides are first reduced to the same rows (one per invoice, one per payment), then folded by
the same function, so SAP and HubSpot figures can only differ because the data differs, never
because they were summed by two different rules.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import IO

CENT = Decimal("0.01")
FIELDS = ("invoices", "total_invoiced", "open_balance", "last_payment")


def to_decimal(value: object) -> Decimal:
    """An amount from SAP (JSON number) or HubSpot (string); empty or bad values count as 0."""
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_date(value: object) -> date | None:
    """A day from `YYYY-MM-DD...` text, an epoch-milliseconds string (HubSpot), or None."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.isdigit():  # HubSpot date/datetime properties may come back as epoch ms
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class InvoiceRow:
    """One invoice as either side holds it. `voided` invoices are left out of every figure.

    Amounts are in the invoice's own `currency`; `doc_entry` is the SAP document's identity
    (DocNum repeats across numbering series, so it is only shown, never counted); `status` is
    HubSpot's hs_invoice_status (open | paid | voided), or on SAP's side the statuses HubSpot may
    rightly show joined by `|` (e.g. `paid|voided`); empty: not compared (a draft).
    """

    card_code: str
    doc_num: str
    total: Decimal
    open_amount: Decimal
    voided: bool = False
    doc_entry: str = ""
    currency: str = ""
    status: str = ""

    @property
    def identity(self) -> str:
        return self.doc_entry or self.doc_num


@dataclass(frozen=True)
class PaymentRow:
    """One incoming payment: who paid, and on which day."""

    card_code: str
    paid_on: date | None
    voided: bool = False


@dataclass
class CustomerFigures:
    """What a finance user compares per customer; amounts per currency (never summed across)."""

    invoices: int = 0
    total_invoiced: dict[str, Decimal] = field(default_factory=dict)
    open_balance: dict[str, Decimal] = field(default_factory=dict)
    last_payment: date | None = None
    documents: dict[str, InvoiceRow] = field(default_factory=dict)  # identity -> row
    voided: dict[str, InvoiceRow] = field(default_factory=dict)  # left out of every figure
    copies: dict[str, int] = field(default_factory=dict)  # identity -> times held, when > 1

    @property
    def doc_nums(self) -> set[str]:
        return {row.doc_num for row in self.documents.values()}


@dataclass(frozen=True)
class Difference:
    """One figure that is not the same in SAP and HubSpot for one customer."""

    card_code: str
    figure: str
    sap: str
    hubspot: str
    detail: str = ""

    def line(self) -> str:
        """One human line: what differs, both values, and which documents explain it."""
        text = f"{self.card_code}: {self.figure} SAP={self.sap} HubSpot={self.hubspot}"
        return f"{text} ({self.detail})" if self.detail else text


def fold(invoices: Iterable[InvoiceRow], payments: Iterable[PaymentRow]
         ) -> dict[str, CustomerFigures]:
    """Per card code: count, total and open balance (per currency) of live invoices, and the
    last payment day. Every row counts: one SAP document (DocEntry) held twice in HubSpot bills
    its customer twice, so it counts twice and `copies` names it (SAP's side is read once per
    DocEntry). Copies voided by hand beside a live one are a duplicate already settled in
    HubSpot (open invoices can only be voided there): only the live copies count."""
    out: dict[str, CustomerFigures] = {}
    copies: dict[tuple[str, str], list[InvoiceRow]] = {}
    for inv in invoices:
        fig = out.setdefault(inv.card_code, CustomerFigures())
        if inv.voided:
            fig.voided[inv.identity] = inv
        else:
            copies.setdefault((inv.card_code, inv.identity), []).append(inv)
    for (code, identity), rows in copies.items():
        fig = out[code]
        live = [row for row in rows if row.status != "voided"]
        rows = live if live else rows
        fig.documents[identity] = rows[0]
        if len(rows) > 1:
            fig.copies[identity] = len(rows)
        for inv in rows:
            fig.invoices += 1
            # each document to the cent first: HubSpot's billed amount is a sum of line items
            # that may carry a third decimal (347.612); SAP's document total is in cents
            cur = inv.currency
            fig.total_invoiced[cur] = fig.total_invoiced.get(cur, Decimal(0)) + _cents(inv.total)
            fig.open_balance[cur] = (fig.open_balance.get(cur, Decimal(0))
                                     + _cents(inv.open_amount))
    for pay in payments:
        if pay.voided or pay.paid_on is None:
            continue
        fig = out.setdefault(pay.card_code, CustomerFigures())
        if fig.last_payment is None or pay.paid_on > fig.last_payment:
            fig.last_payment = pay.paid_on
    return out


def _docs_detail(only_sap: set[str], only_hubspot: set[str], limit: int = 5) -> str:
    """Which document numbers one side has and the other lacks (the first few of each)."""
    parts = []
    for label, docs in (("missing in HubSpot", only_sap), ("only in HubSpot", only_hubspot)):
        if docs:
            shown = sorted(docs, key=lambda d: (len(d), d))[:limit]
            more = f" +{len(docs) - limit} more" if len(docs) > limit else ""
            parts.append(f"{label}: {', '.join(shown)}{more}")
    return "; ".join(parts)


def _copies_detail(fig: CustomerFigures, side: str, limit: int = 5) -> str:
    """The documents one side holds more than once (e.g. an invoice created twice)."""
    if not fig.copies:
        return ""
    shown = [f"{fig.documents[i].doc_num or i} ({n} times)"
             for i, n in sorted(fig.copies.items(), key=lambda kv: (len(kv[0]), kv[0]))]
    more = f" +{len(shown) - limit} more" if len(shown) > limit else ""
    return f"more than once in {side}: {', '.join(shown[:limit])}{more}"


def _names(rows: dict[str, InvoiceRow], identities: set[str]) -> set[str]:
    """Document numbers of these documents (the number an accountant looks up)."""
    return {rows[i].doc_num or i for i in identities}


def compare(sap: dict[str, CustomerFigures], hubspot: dict[str, CustomerFigures],
            customers: Iterable[str] | None = None, tolerance: Decimal = CENT
            ) -> list[Difference]:
    """Every figure that differs, per customer, sorted by card code then figure.

    `customers` lists every card code to check (SAP's customers, so a customer with nothing in
    either system is still covered); sums of documents rounded to the cent are equal within
    `tolerance`. Sums are per currency: `total_invoiced EUR`.
    """
    codes = set(customers or ()) | set(sap) | set(hubspot)
    found: list[Difference] = []
    for code in sorted(codes):
        left, right = sap.get(code, CustomerFigures()), hubspot.get(code, CustomerFigures())
        # a document voided on one side only is named by the status line, not as missing
        only_sap = set(left.documents) - set(right.documents) - set(right.voided)
        only_hs = set(right.documents) - set(left.documents) - set(left.voided)
        detail = "; ".join(filter(None, [
            _docs_detail(_names(left.documents, only_sap), _names(right.documents, only_hs)),
            _copies_detail(left, "SAP"), _copies_detail(right, "HubSpot")]))
        if left.invoices != right.invoices:
            found.append(Difference(code, "invoices", str(left.invoices), str(right.invoices),
                                    detail))
        for name in ("total_invoiced", "open_balance"):
            a_side, b_side = getattr(left, name), getattr(right, name)
            for cur in sorted(set(a_side) | set(b_side)):
                a, b = a_side.get(cur, Decimal(0)), b_side.get(cur, Decimal(0))
                if abs(a - b) > tolerance:
                    label = f"{name} {cur}" if cur else name
                    found.append(Difference(code, label, f"{a:.2f}", f"{b:.2f}", detail))
        found += _document_differences(code, left, right)
        if left.last_payment != right.last_payment:
            found.append(Difference(code, "last_payment", str(left.last_payment or "-"),
                                    str(right.last_payment or "-")))
    return found


def _document_differences(code: str, left: CustomerFigures, right: CustomerFigures
                          ) -> list[Difference]:
    """Per document both sides hold: a different currency or status (e.g. voided by hand)."""
    found = []
    mine, theirs = left.documents | left.voided, right.documents | right.voided
    for ident in sorted(set(mine) & set(theirs), key=lambda i: (len(i), i)):
        a, b = mine[ident], theirs[ident]
        where = f"document {a.doc_num or ident}"
        if a.currency and b.currency and a.currency != b.currency:
            found.append(Difference(code, "currency", a.currency, b.currency, where))
        if a.status and b.status and b.status not in a.status.split("|"):
            found.append(Difference(code, "status", a.status, b.status, where))
    return found


def write_csv(differences: Iterable[Difference], target: Path | IO[str]) -> None:
    """The differences as CSV (card_code, figure, sap, hubspot, detail) for a spreadsheet."""
    def _write(handle: IO[str]) -> None:
        writer = csv.writer(handle)
        writer.writerow(["card_code", "figure", "sap", "hubspot", "detail"])
        for d in differences:
            writer.writerow([d.card_code, d.figure, d.sap, d.hubspot, d.detail])

    if isinstance(target, Path):
        with target.open("w", newline="", encoding="utf-8") as handle:
            _write(handle)
    else:
        _write(target)
