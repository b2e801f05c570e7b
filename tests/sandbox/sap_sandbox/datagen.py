"""Deterministic, realistic SAP Business One data of any size, from a seed.

Consistency the tap and the target rely on: payments apply to real invoices of the same customer,
an invoice paid in full is bost_Close with PaidToDate = DocTotal, cancelled invoices are closed and
unpaid, credit notes point at the invoice they credit (BaseType 13 + BaseEntry/BaseLine), lines
use real ChartOfAccounts codes and ProfitCenters, a BP's CurrentAccountBalance is its open invoice
amount. Update stamps spread over the history window and many records share one second (batch
postings), so boundary handling is exercised.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sap_sandbox import reference_data as ref
from sap_sandbox.rows import Rows

Record = dict[str, Any]
# DocumentLines fields, in the order SAP lists them for the ones the contract names.
LINE_FIELDS = ("LineNum", "ItemCode", "ItemDescription", "Quantity", "UnitPrice", "Price",
               "Currency", "DiscountPercent", "LineTotal", "TaxCode", "AccountCode",
               "CostingCode", "LineStatus", "BaseType", "BaseEntry", "BaseLine")
T = TypeVar("T")


@dataclass(frozen=True)
class DataSpec:
    """How much data to generate and from which seed (same seed and anchor, same records)."""

    seed: int = 1
    customers: int = 50
    suppliers: int = 5
    leads: int = 5
    invoices: int = 400
    credit_notes: int = 10
    payments: int = 200
    lines_per_invoice: tuple[int, int] = (1, 5)
    history_days: int = 730
    anchor: datetime | None = None  # end of the history window; None = today's local midnight


class _Moments:
    """Second offsets in the history window; ~60% land on shared "busy" seconds (batch postings)."""

    def __init__(self, rng: random.Random, start: datetime, span: int, expected: int) -> None:
        self._rng = rng
        self._start = start
        self.span = span
        self._busy = sorted(rng.randrange(span) for _ in range(max(1, expected // 5)))
        self._base = start.hour * 3600 + start.minute * 60 + start.second
        self._day0 = start.date().toordinal()
        self._days: dict[int, str] = {}

    def draw(self, not_before: int = 0) -> int:
        """A moment at or after not_before, often one that other records share."""
        rng = self._rng
        if not_before >= self.span - 1:
            return self.span - 1
        if rng.random() < 0.6:
            busy = _pick(rng, self._busy)
            if busy >= not_before:
                return busy
        return rng.randrange(not_before, self.span)

    def day(self, ordinal: int) -> str:
        """YYYY-MM-DD for a proleptic ordinal, memoised (a few hundred distinct days)."""
        text = self._days.get(ordinal)
        if text is None:
            text = self._days[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def stamp(self, moment: int) -> tuple[str, str]:
        """(date, time) strings for a moment (naive local time, as SAP stores it)."""
        days, sod = divmod(moment + self._base, 86400)
        hours, rest = divmod(sod, 3600)
        return self.day(self._day0 + days), f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def due(self, moment: int, days: int, months: int) -> str:
        """The day `months` months and `days` days after a moment's day (payment terms)."""
        ordinal = self._day0 + (moment + self._base) // 86400
        if months:
            d = date.fromordinal(ordinal)
            month = d.month - 1 + months
            ordinal = d.replace(year=d.year + month // 12, month=month % 12 + 1,
                                day=min(d.day, 28)).toordinal()
        return self.day(ordinal + days)


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    """seq[random index]; cheaper than rng.choice/randrange, and just as deterministic."""
    return seq[int(rng.random() * len(seq))]


def _company_name(rng: random.Random, n: int) -> str:
    a = _pick(rng, ref.COMPANY_WORDS_A)
    b = _pick(rng, ref.COMPANY_WORDS_B)
    s = _pick(rng, ref.COMPANY_SUFFIXES)
    return f"{a} {b} {s}" if n % 7 else f"{a} {b} {n} {s}"


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"


class _Generator:
    def __init__(self, spec: DataSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        anchor = spec.anchor or datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        span = max(spec.history_days, 1) * 86400
        self.start = anchor - timedelta(seconds=span)
        total = spec.customers + spec.suppliers + spec.leads + spec.invoices + spec.payments
        self.moments = _Moments(self.rng, self.start, span, total + spec.credit_notes)
        self.next_contact = 1
        self.terms = {t[0]: t for t in ref.PAYMENT_TERMS}

    # -- business partners -------------------------------------------------------------------
    def partners(self) -> list[Record]:
        spec = self.spec
        out: list[Record] = []
        for prefix, kind, count in (("C", "cCustomer", spec.customers),
                                    ("V", "cSupplier", spec.suppliers), ("L", "cLid", spec.leads)):
            for n in range(1, count + 1):
                out.append(self._partner(f"{prefix}{n:05d}", kind, n))
        return out

    def _partner(self, code: str, kind: str, n: int) -> Record:
        rng = self.rng
        name = _company_name(rng, n)
        word = "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum())
        domain = f"{word}{n}.example.com"
        city, state, zip_prefix = _pick(rng, ref.CITIES)
        street = f"{rng.randint(1, 9800)} {_pick(rng, ref.STREETS)}"
        zip_code = f"{zip_prefix}{rng.randint(0, 99):02d}"
        created = self.moments.draw()
        updated = created if rng.random() < 0.5 else self.moments.draw(created)
        create_date, _ = self.moments.stamp(created)
        update_date, update_time = self.moments.stamp(updated)
        if kind == "cCustomer":
            n_contacts = 0 if rng.random() < 0.15 else rng.randint(1, 3)
        elif kind == "cSupplier":
            n_contacts = rng.randint(0, 2)
        else:
            n_contacts = rng.randint(0, 1)
        contacts = [self._contact(code, domain) for _ in range(n_contacts)]
        terms = _pick(rng, ref.PAYMENT_TERMS)[0]
        addresses = [{"AddressName": "Bill To", "AddressType": "bo_BillTo", "Street": street,
                      "City": city, "ZipCode": zip_code, "State": state, "Country": "US",
                      "BPCode": code, "RowNum": 0}]
        if rng.random() < 0.6:
            addresses.append({"AddressName": "Ship To", "AddressType": "bo_ShipTo",
                              "Street": f"{rng.randint(1, 9800)} {ref.STREETS[rng.randrange(10)]}",
                              "City": city, "ZipCode": zip_code, "State": state, "Country": "US",
                              "BPCode": code, "RowNum": 1})
        return {
            "CardCode": code, "CardName": name, "CardType": kind,
            "GroupCode": {"cCustomer": 100, "cSupplier": 101, "cLid": 102}[kind],
            "Currency": "##" if rng.random() < 0.2 else "USD",
            "Phone1": _phone(rng), "Phone2": _phone(rng) if rng.random() < 0.3 else None,
            "Cellular": _phone(rng) if rng.random() < 0.5 else None,
            "EmailAddress": f"info@{domain}" if rng.random() < 0.8 else None,
            "Website": f"https://www.{domain}" if rng.random() < 0.6 else None,
            "FederalTaxID": f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
            "Address": street, "City": city, "ZipCode": zip_code, "County": None, "Country": "US",
            "CreditLimit": float(_pick(rng, (0, 5000, 10000, 25000, 50000))),
            "MaxCommitment": float(_pick(rng, (0, 10000, 50000))),
            "CurrentAccountBalance": 0.0, "OpenOrdersBalance": 0.0,
            "PayTermsGrpCode": terms, "SalesPersonCode": _pick(rng, (-1, 1, 2, 3, 4)),
            "Frozen": "tYES" if rng.random() < 0.03 else "tNO", "Valid": "tYES",
            "Notes": None if rng.random() < 0.8 else "Key account",
            "CreateDate": create_date, "UpdateDate": update_date, "UpdateTime": update_time,
            "ContactEmployees": contacts, "BPAddresses": addresses,
        }

    def _contact(self, card_code: str, domain: str) -> Record:
        rng = self.rng
        first = _pick(rng, ref.FIRST_NAMES)
        last = _pick(rng, ref.LAST_NAMES)
        code = self.next_contact
        self.next_contact += 1
        return {"CardCode": card_code, "InternalCode": code, "Name": f"{first} {last}",
                "FirstName": first, "LastName": last,
                "E_Mail": f"{first}.{last}{code}@{domain}".lower() if rng.random() < 0.9 else None,
                "Phone1": _phone(rng), "MobilePhone": _phone(rng) if rng.random() < 0.5 else None,
                "Position": _pick(rng, ref.POSITIONS), "Active": "tYES"}

    # -- documents ----------------------------------------------------------------------------
    def invoices(self, customers: list[Record]) -> tuple[list[Record], list[int]]:
        """Invoices plus each one's creation moment (payments and credit notes come after it)."""
        spec, rng, moments = self.spec, self.rng, self.moments
        lo, hi = spec.lines_per_invoice
        out: list[Record] = []
        created_at: list[int] = []
        if not customers:
            return out, created_at
        for i in range(spec.invoices):
            bp = _pick(rng, customers)
            created = moments.draw()
            day, time = moments.stamp(created)
            terms = self.terms[bp["PayTermsGrpCode"]]
            foreign = rng.random() < 0.15
            rate = round(rng.uniform(1.04, 1.16), 4) if foreign else 1.0
            lines, net, vat = self._lines(rng.randint(lo, hi), rate, foreign)
            total = round(net + vat, 2)
            contacts = bp["ContactEmployees"]
            entry = i + 1
            out.append({
                "DocEntry": entry, "DocNum": 4000 + entry, "DocType": "dDocument_Items",
                "DocDate": day, "DocDueDate": moments.due(created, terms[2], terms[3]),
                "TaxDate": day,
                "CardCode": bp["CardCode"], "CardName": bp["CardName"],
                "NumAtCard": f"PO-{rng.randint(10000, 99999)}" if rng.random() < 0.4 else None,
                "DocCurrency": "EUR" if foreign else "USD", "DocRate": rate,
                "DocTotal": total, "DocTotalFc": round(total / rate, 2) if foreign else 0.0,
                "VatSum": round(vat, 2), "PaidToDate": 0.0, "DocumentStatus": "bost_Open",
                "Cancelled": "tNO", "Comments": None if rng.random() < 0.7 else "Based on quote",
                "SalesPersonCode": bp["SalesPersonCode"], "PaymentGroupCode": terms[0],
                "ContactPersonCode": _pick(rng, contacts)["InternalCode"]
                if contacts else None,
                "U_HubSpotDealId": str(rng.randint(10**10, 10**11))
                if rng.random() < 0.03 else None,
                "CreationDate": day, "UpdateDate": day, "UpdateTime": time,
                "DocumentLines": lines,
            })
            created_at.append(created)
            if rng.random() < 0.25:  # edited later (comments, due date ...)
                self._touch(out[-1], moments.draw(created))
        return out, created_at

    def _lines(self, count: int, rate: float, foreign: bool) -> tuple[Any, float, float]:
        rng = self.rng
        rows: list[tuple[Any, ...]] = []
        net = vat = 0.0
        currency = "EUR" if foreign else "USD"
        tax_code, tax_rate = _pick(rng, ref.TAX_CODES)
        for num in range(count):
            code, desc, base_price, account = _pick(rng, ref.ITEMS)
            qty = float(_pick(rng, (1, 1, 1, 2, 2, 3, 5, 10, 12, 20)))
            price = round(base_price * rng.uniform(0.9, 1.1), 2)
            disc = _pick(rng, (0.0, 0.0, 0.0, 5.0, 10.0))
            line_total = round(qty * price * (1 - disc / 100) * rate, 2)
            net += line_total
            vat += line_total * tax_rate
            rows.append((num, code, desc, qty, price, round(price * (1 - disc / 100), 2),
                         currency, disc, line_total, tax_code, account,
                         _pick(rng, ref.PROFIT_CENTERS)[0], "bost_Open", -1, None, None))
        return Rows(LINE_FIELDS, tuple(rows)), net, vat

    def _touch(self, record: Record, moment: int) -> None:
        date, time = self.moments.stamp(moment)
        if (date, time) > (record["UpdateDate"], record["UpdateTime"]):
            record["UpdateDate"], record["UpdateTime"] = date, time

    def cancel_some(self, invoices: list[Record], created_at: list[int]) -> None:
        """About 2% of invoices are cancelled: closed, unpaid, stamped when cancelled."""
        rng = self.rng
        for i in rng.sample(range(len(invoices)), k=len(invoices) // 50):
            inv = invoices[i]
            inv["Cancelled"], inv["DocumentStatus"] = "tYES", "bost_Close"
            inv["DocumentLines"] = _closed(inv["DocumentLines"])
            self._touch(inv, self.moments.draw(created_at[i]))

    def credit_notes(self, invoices: list[Record], created_at: list[int]) -> list[Record]:
        """Credit notes copying one line of an invoice (the invoice is left as it was)."""
        rng, out = self.rng, []
        eligible = [i for i, inv in enumerate(invoices) if inv["Cancelled"] == "tNO"]
        for n in range(min(self.spec.credit_notes, len(eligible))):
            i = _pick(rng, eligible)
            inv = invoices[i]
            src = inv["DocumentLines"][rng.randrange(len(inv["DocumentLines"]))]
            moment = self.moments.draw(created_at[i])
            day, time = self.moments.stamp(moment)
            qty = max(1.0, float(int(src["Quantity"] // 2)))
            line_total = round(src["LineTotal"] / src["Quantity"] * qty, 2)
            tax_rate = dict(ref.TAX_CODES)[src["TaxCode"]]
            vat = round(line_total * tax_rate, 2)
            total = round(line_total + vat, 2)
            line = dict(src, Quantity=qty, LineTotal=line_total, LineNum=0, LineStatus="bost_Close",
                        BaseType=13, BaseEntry=inv["DocEntry"], BaseLine=src["LineNum"],
                        AccountCode="440000")
            entry = n + 1
            rate = inv["DocRate"]
            out.append({
                "DocEntry": entry, "DocNum": 7000 + entry, "DocType": "dDocument_Items",
                "DocDate": day, "DocDueDate": day, "TaxDate": day,
                "CardCode": inv["CardCode"], "CardName": inv["CardName"],
                "NumAtCard": inv["NumAtCard"], "DocCurrency": inv["DocCurrency"], "DocRate": rate,
                "DocTotal": total, "DocTotalFc": round(total / rate, 2) if rate != 1.0 else 0.0,
                "VatSum": vat, "PaidToDate": total, "DocumentStatus": "bost_Close",
                "Cancelled": "tNO", "Comments": f"Based on A/R Invoice {inv['DocNum']}.",
                "SalesPersonCode": inv["SalesPersonCode"],
                "PaymentGroupCode": inv["PaymentGroupCode"],
                "ContactPersonCode": inv["ContactPersonCode"], "U_HubSpotDealId": None,
                "CreationDate": day, "UpdateDate": day, "UpdateTime": time,
                "DocumentLines": Rows.pack([line]),
            })
        return out

    def payments(self, invoices: list[Record], created_at: list[int]) -> list[Record]:
        """Incoming payments applied to open invoices of one customer (full ~75%, else partial).

        Stops early if every invoice is paid before `payments` are made."""
        rng, moments, out = self.rng, self.moments, []
        open_by_card: dict[str, list[int]] = {}
        for i, inv in enumerate(invoices):
            if inv["Cancelled"] == "tNO":
                open_by_card.setdefault(inv["CardCode"], []).append(i)
        cards = list(open_by_card)
        for n in range(self.spec.payments):
            pool: list[int] = []
            while cards:
                card = _pick(rng, cards)
                pool = open_by_card[card]
                if pool:
                    break
                cards.remove(card)  # fully paid customer: rare, so a list scan is fine
            if not pool:
                break  # every invoice is paid: fewer payments than asked
            picks = [_pick(rng, pool)]
            if len(pool) > 1 and rng.random() < 0.2:
                other = _pick(rng, pool)
                if other != picks[0]:
                    picks.append(other)
            moment = moments.draw(max(created_at[i] for i in picks))
            day, time = moments.stamp(moment)
            applied: list[Record] = []
            total = 0.0
            for line_num, i in enumerate(picks):
                inv = invoices[i]
                due = round(inv["DocTotal"] - inv["PaidToDate"], 2)
                amount = due if rng.random() < 0.75 else round(due * rng.uniform(0.3, 0.7), 2)
                inv["PaidToDate"] = round(inv["PaidToDate"] + amount, 2)
                if inv["PaidToDate"] >= inv["DocTotal"]:
                    inv["PaidToDate"], inv["DocumentStatus"] = inv["DocTotal"], "bost_Close"
                    inv["DocumentLines"] = _closed(inv["DocumentLines"])
                    pool.remove(i)
                self._touch(inv, moment)
                rate = inv["DocRate"]
                applied.append({"LineNum": line_num, "DocEntry": inv["DocEntry"],
                                "SumApplied": amount,
                                "AppliedFC": round(amount / rate, 2) if rate != 1.0 else 0.0,
                                "InvoiceType": "it_Invoice", "DocLine": 0})
                total += amount
            total = round(total, 2)
            how = rng.random()
            entry = n + 1
            out.append({
                "DocEntry": entry, "DocNum": 9000 + entry, "DocType": "rCustomer", "DocDate": day,
                "CardCode": card, "CardName": invoices[picks[0]]["CardName"], "DocCurrency": "USD",
                "CashSum": total if how < 0.2 else 0.0,
                "TransferSum": total if 0.2 <= how < 0.9 else 0.0,
                "CheckSum": total if how >= 0.9 else 0.0, "CreditSum": 0.0,
                "TransferDate": day if 0.2 <= how < 0.9 else None,
                "TransferReference": f"WT{rng.randint(100000, 999999)}"
                if 0.2 <= how < 0.9 else None,
                "Cancelled": "tNO", "Remarks": None, "UpdateDate": day, "UpdateTime": time,
                "PaymentInvoices": Rows.pack(applied),
            })
        return out


def _closed(lines: Any) -> Any:
    if isinstance(lines, Rows):
        return lines.with_field("LineStatus", "bost_Close")
    return [dict(line, LineStatus="bost_Close") for line in lines]


def generate(spec: DataSpec) -> dict[str, list[Record]]:
    """All seven entity sets, each a list in key order (nested document arrays as `Rows`)."""
    gen = _Generator(spec)
    partners = gen.partners()
    customers = [bp for bp in partners if bp["CardType"] == "cCustomer"]
    invoices, created_at = gen.invoices(customers)
    gen.cancel_some(invoices, created_at)
    credit_notes = gen.credit_notes(invoices, created_at)
    payments = gen.payments(invoices, created_at)
    balance: dict[str, float] = {}
    for inv in invoices:
        if inv["DocumentStatus"] == "bost_Open":
            balance[inv["CardCode"]] = balance.get(inv["CardCode"], 0.0) + inv["DocTotal"] - inv[
                "PaidToDate"]
    for bp in customers:
        bp["CurrentAccountBalance"] = round(balance.get(bp["CardCode"], 0.0), 2)
    return {
        "BusinessPartners": partners,
        "Invoices": invoices,
        "CreditNotes": credit_notes,
        "IncomingPayments": payments,
        "ChartOfAccounts": ref.chart_of_accounts(),
        "ProfitCenters": ref.profit_centers(),
        "PaymentTermsTypes": ref.payment_terms_types(),
    }
