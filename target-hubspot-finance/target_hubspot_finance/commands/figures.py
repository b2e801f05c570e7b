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
from decimal import Decimal, InvalidOperation
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
    """One invoice as either side holds it. `voided` invoices are left out of every figure."""

    card_code: str
    doc_num: str
    total: Decimal
    open_amount: Decimal
    voided: bool = False


@dataclass(frozen=True)
class PaymentRow:
    """One incoming payment: who paid, and on which day."""

    card_code: str
    paid_on: date | None
    voided: bool = False


@dataclass
class CustomerFigures:
    """What a finance user compares per customer."""

    invoices: int = 0
    total_invoiced: Decimal = Decimal(0)
    open_balance: Decimal = Decimal(0)
    last_payment: date | None = None
    doc_nums: set[str] = field(default_factory=set)


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
    """Per card code: count, total and open balance of live invoices, and the last payment day."""
    out: dict[str, CustomerFigures] = {}
    for inv in invoices:
        if inv.voided:
            continue
        fig = out.setdefault(inv.card_code, CustomerFigures())
        if inv.doc_num in fig.doc_nums:  # the same document twice (re-read boundary) counts once
            continue
        fig.doc_nums.add(inv.doc_num)
        fig.invoices += 1
        fig.total_invoiced += inv.total
        fig.open_balance += inv.open_amount
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


def compare(sap: dict[str, CustomerFigures], hubspot: dict[str, CustomerFigures],
            customers: Iterable[str] | None = None, tolerance: Decimal = CENT
            ) -> list[Difference]:
    """Every figure that differs, per customer, sorted by card code then figure.

    `customers` lists every card code to check (SAP's customers, so a customer with nothing in
    either system is still covered); amounts within `tolerance` are equal (rounding of 2-decimal
    currencies by HubSpot).
    """
    codes = set(customers or ()) | set(sap) | set(hubspot)
    found: list[Difference] = []
    for code in sorted(codes):
        left, right = sap.get(code, CustomerFigures()), hubspot.get(code, CustomerFigures())
        detail = _docs_detail(left.doc_nums - right.doc_nums, right.doc_nums - left.doc_nums)
        if left.invoices != right.invoices:
            found.append(Difference(code, "invoices", str(left.invoices), str(right.invoices),
                                    detail))
        for name in ("total_invoiced", "open_balance"):
            a, b = getattr(left, name), getattr(right, name)
            if abs(a - b) > tolerance:
                found.append(Difference(code, name, f"{a:.2f}", f"{b:.2f}", detail))
        if left.last_payment != right.last_payment:
            found.append(Difference(code, "last_payment", str(left.last_payment or "-"),
                                    str(right.last_payment or "-")))
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
