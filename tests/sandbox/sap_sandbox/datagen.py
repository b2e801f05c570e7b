"""Deterministic, realistic SAP Business One data of any size, from a seed.

Consistency the tap and the target rely on: payments apply to real invoices of the same customer,
an invoice paid in full is bost_Close with PaidToDate = DocTotal (PaidToDateFC = DocTotalFc for a
foreign-currency one), a cancelled invoice is closed, unpaid, CancelStatus csYes, and has its
cancellation document (CancelStatus csCancellation) as SAP creates one; credit notes point at the
invoice they credit (BaseType 13 + BaseEntry/BaseLine), lines use real ChartOfAccounts codes and
ProfitCenters, a BP's CurrentAccountBalance is its open invoice amount. Update stamps spread over
the history window and many records share one second (batch postings), so boundary handling is
exercised. Every property is one SAP's metadata has (`schema.py`); UDFs only when configured.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sap_sandbox import reference_data as ref
from sap_sandbox.rows import Rows
from sap_sandbox.schema import Schema

Record = dict[str, Any]
# DocumentLines fields, in the order SAP lists them for the ones the contract names.
LINE_FIELDS = ("LineNum", "ItemCode", "ItemDescription", "Quantity", "UnitPrice", "Price",
               "Currency", "DiscountPercent", "LineTotal", "RowTotalFC", "TaxCode",
               "AccountCode", "CostingCode", "LineStatus", "BaseType", "BaseEntry", "BaseLine")
NUMBERINGS = ("single", "yearly")
# Series numbers of the one-series company (SAP's "Primary" series; the numbers are a choice).
SINGLE_SERIES = {"Invoices": 4, "CreditNotes": 14, "IncomingPayments": 15}
DOC_NUM_BASE = {"Invoices": 4000, "CreditNotes": 7000, "IncomingPayments": 9000}
SEGMENTS = ("Enterprise", "Mid-Market", "SMB", "Public Sector")
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
    # "single": one numbering series per document type, DocNum = base + DocEntry.
    # "yearly": two series a year (domestic / foreign currency), each numbering from 1, so one
    # DocNum belongs to several documents of a type (SAP's per-period series).
    numbering: str = "single"
    # Shapes a client must survive (issue 12): the share of business partners and documents
    # whose UpdateTime is null (UpdateDate kept), and how many invoices carry a stamp in the
    # future (FUTURE_STAMP: a wrong clock once, imported data). Drawn from their own RNG, so the
    # rest of the data is the same with or without them.
    null_update_times: float = 0.0
    future_stamps: int = 0
    # How a credit note based on an invoice moves that invoice (SAP's help calls the credit memo
    # "the clearing document for the invoice" but documents no PaidToDate rule): False leaves the
    # invoice as it was; True reconciles the credit into it as a payment would (PaidToDate and
    # PaidToDateFC raised, closed when covered, re-stamped). A client must work either way.
    credit_notes_reconcile: bool = False
    # Whether cancelling a payment re-stamps (UpdateDate/UpdateTime) the invoices it reopens: no
    # public SAP page says. True (issue 10's reading) re-stamps them; False leaves their stamps,
    # so an incremental reader sees only the cancelled payment. A client must work either way.
    restamp_on_payment_cancel: bool = True
    # Whether an invoice's PaidToDate(FC) counts the cash discount (PaymentInvoices TotalDiscount)
    # and withholding tax (WitholdingTaxApplied) a payment line settles besides SumApplied: SAP's
    # SDK help documents those fields, not the PaidToDate rule. Either way the invoice closes when
    # SumApplied + discount + withholding cover its balance. A client must work either way.
    paid_to_date_counts_deductions: bool = True
    # Share of the payments of foreign-currency invoices made in the invoice's currency (EUR,
    # DocRate = the invoice's); the rest are local (USD) payments of them. Own RNG, so every
    # other value is the same whatever the share.
    fc_payments: float = 0.5
    # What CashSum holds on a foreign-currency payment (undocumented in practice: SDK help
    # "Payments.CashSum" says local currency, DI API code sets it in the payment's currency):
    # "local" (DocRate x CashSumFC) or "payment" (the same as CashSumFC). CashSumFC is always
    # in the payment's currency (SDK help "Payments.CashSumFC").
    fc_cash_sum: str = "local"
    # What TransferSum holds on a foreign-currency payment (SDK help "Payments.TransferSum" names
    # no currency; the Service Layer's Payment has no FC twin for it): "payment" (the amount in
    # the payment's currency) or "local" (DocRate x that amount).
    fc_transfer_sum: str = "payment"
    # Whether SAP refuses a payment dated before an invoice it pays (no public SAP page says):
    # "allow" or "refuse" (sb.post_payment answers 400, -5002).
    payment_before_invoice: str = "allow"

    def __post_init__(self) -> None:
        if self.fc_cash_sum not in FC_CASH_SUMS:
            raise ValueError(f"fc_cash_sum must be one of {', '.join(FC_CASH_SUMS)}")
        if self.fc_transfer_sum not in FC_CASH_SUMS:
            raise ValueError(f"fc_transfer_sum must be one of {', '.join(FC_CASH_SUMS)}")
        if self.payment_before_invoice not in ("allow", "refuse"):
            raise ValueError("payment_before_invoice must be allow or refuse")


FUTURE_STAMP = ("2031-01-01", "08:00:00")
FC_CASH_SUMS = ("local", "payment")


def series_of(entity_set: str, doc_date: str | None, foreign: bool, numbering: str) -> int:
    """The numbering series a new document of `entity_set` goes to."""
    if numbering == "single" or not doc_date:
        return SINGLE_SERIES[entity_set]
    base = {"Invoices": 100, "CreditNotes": 300, "IncomingPayments": 500}[entity_set]
    return base + (int(doc_date[:4]) - 2000) * 2 + int(foreign)


def number_documents(entity_set: str, docs: list[Record], numbering: str) -> None:
    """Series and DocNum for generated documents, in DocEntry order within each series."""
    counters: dict[int, int] = {}
    for doc in docs:
        foreign = doc.get("DocCurrency") not in (None, "USD")
        series = series_of(entity_set, doc["DocDate"], foreign, numbering)
        if numbering == "single":
            doc["Series"], doc["DocNum"] = series, DOC_NUM_BASE[entity_set] + doc["DocEntry"]
        else:
            counters[series] = counters.get(series, 0) + 1
            doc["Series"], doc["DocNum"] = series, counters[series]


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
    def __init__(self, spec: DataSpec, schema: Schema) -> None:
        if spec.numbering not in NUMBERINGS:
            raise ValueError(f"numbering must be one of {', '.join(NUMBERINGS)}")
        self.spec = spec
        self.schema = schema
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
        segment = _pick(rng, SEGMENTS)
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
        } | self._udfs("BusinessPartner", U_Segment=segment)

    def _udfs(self, type_name: str, **known: Any) -> Record:
        """The company's UDFs of a type: a known one with its generated value, others null."""
        return {name: known.get(name) for name in self.schema.udfs.get(type_name, {})}

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
    def invoices(self, customers: list[Record], count: int) -> tuple[list[Record], list[int]]:
        """Invoices plus each one's creation moment (payments and credit notes come after it)."""
        spec, rng, moments = self.spec, self.rng, self.moments
        lo, hi = spec.lines_per_invoice
        out: list[Record] = []
        created_at: list[int] = []
        if not customers:
            return out, created_at
        for i in range(count):
            bp = _pick(rng, customers)
            created = moments.draw()
            day, time = moments.stamp(created)
            terms = self.terms[bp["PayTermsGrpCode"]]
            foreign = rng.random() < 0.15
            rate = round(rng.uniform(1.04, 1.16), 4) if foreign else 1.0
            lines, net, vat, net_fc, vat_fc = self._lines(rng.randint(lo, hi), rate, foreign)
            total = round(net + vat, 2)
            contacts = bp["ContactEmployees"]
            entry = i + 1
            deal = str(rng.randint(10**10, 10**11)) if rng.random() < 0.03 else None
            out.append({
                "DocEntry": entry, "DocNum": 0, "Series": 0, "DocType": "dDocument_Items",
                "DocDate": day, "DocDueDate": moments.due(created, terms[2], terms[3]),
                "TaxDate": day,
                "CardCode": bp["CardCode"], "CardName": bp["CardName"],
                "NumAtCard": f"PO-{rng.randint(10000, 99999)}" if rng.random() < 0.4 else None,
                "DocCurrency": "EUR" if foreign else "USD", "DocRate": rate,
                "DocTotal": total, "DocTotalFc": round(net_fc + vat_fc, 2) if foreign else 0.0,
                "VatSum": round(vat, 2), "VatSumFc": round(vat_fc, 2) if foreign else 0.0,
                "PaidToDate": 0.0, "PaidToDateFC": 0.0, "DocumentStatus": "bost_Open",
                "Cancelled": "tNO", "CancelStatus": "csNo",
                "Comments": None if rng.random() < 0.7 else "Based on quote",
                "SalesPersonCode": bp["SalesPersonCode"], "PaymentGroupCode": terms[0],
                "ContactPersonCode": _pick(rng, contacts)["InternalCode"]
                if contacts else None,
                "CreationDate": day, "UpdateDate": day, "UpdateTime": time,
                "DocumentLines": lines,
            } | self._udfs("Document", U_HubSpotDealId=deal))
            created_at.append(created)
            if rng.random() < 0.25:  # edited later (comments, due date ...)
                self._touch(out[-1], moments.draw(created))
        return out, created_at

    def _lines(self, count: int, rate: float,
               foreign: bool) -> tuple[Any, float, float, float, float]:
        """Lines plus (net, VAT) in local currency and in the document's currency."""
        rng = self.rng
        rows: list[tuple[Any, ...]] = []
        net = vat = net_fc = vat_fc = 0.0
        currency = "EUR" if foreign else "USD"
        tax_code, tax_rate = _pick(rng, ref.TAX_CODES)
        for num in range(count):
            code, desc, base_price, account = _pick(rng, ref.ITEMS)
            qty = float(_pick(rng, (1, 1, 1, 2, 2, 3, 5, 10, 12, 20)))
            price = round(base_price * rng.uniform(0.9, 1.1), 2)
            disc = _pick(rng, (0.0, 0.0, 0.0, 5.0, 10.0))
            row_fc = round(qty * price * (1 - disc / 100), 2)
            line_total = round(row_fc * rate, 2)  # LineTotal: local currency (USD)
            net += line_total
            vat += line_total * tax_rate
            net_fc += row_fc
            vat_fc += row_fc * tax_rate
            rows.append((num, code, desc, qty, price, round(price * (1 - disc / 100), 2),
                         currency, disc, line_total, row_fc if foreign else 0.0, tax_code,
                         account, _pick(rng, ref.PROFIT_CENTERS)[0], "bost_Open", -1, None,
                         None))
        return Rows(LINE_FIELDS, tuple(rows)), net, vat, net_fc, vat_fc

    def _touch(self, record: Record, moment: int) -> None:
        date, time = self.moments.stamp(moment)
        if (date, time) > (record["UpdateDate"], record["UpdateTime"]):
            record["UpdateDate"], record["UpdateTime"] = date, time

    def cancel_some(self, invoices: list[Record], created_at: list[int], count: int) -> None:
        """Cancel `count` invoices as SAP does: the original closed, unpaid, Cancelled tYES,
        CancelStatus csYes; a cancellation document (csCancellation) appended after them."""
        rng = self.rng
        for i in sorted(rng.sample(range(len(invoices)), k=count)):
            moment = self.moments.draw(created_at[i])
            cancellation = cancel_document(invoices[i], len(invoices) + 1,
                                           self.moments.stamp(moment))
            self._touch(invoices[i], moment)
            invoices.append(cancellation)
            created_at.append(moment)

    def credit_notes(self, invoices: list[Record], created_at: list[int]) -> list[Record]:
        """Credit notes copying one line of an open invoice; with `credit_notes_reconcile` the
        credit is reconciled into that invoice (else the invoice is left as it was)."""
        rng, out = self.rng, []
        reconcile = self.spec.credit_notes_reconcile
        eligible = [i for i, inv in enumerate(invoices) if inv["CancelStatus"] == "csNo"]
        for _ in range(min(self.spec.credit_notes, len(eligible))):
            i = _pick(rng, eligible)
            inv = invoices[i]
            src = inv["DocumentLines"][rng.randrange(len(inv["DocumentLines"]))]
            moment = self.moments.draw(created_at[i])
            day, time = self.moments.stamp(moment)
            qty = max(1.0, float(int(src["Quantity"] // 2)))
            note = credit_note_for(inv, src, qty, (day, time))
            if reconcile:
                # SAP bases a credit memo only on an open invoice, for at most its open amount
                if (inv["DocumentStatus"] != "bost_Open"
                        or note["DocTotal"] > round(inv["DocTotal"] - inv["PaidToDate"], 2)):
                    continue
                reconcile_credit(inv, note)
                self._touch(inv, moment)
            note["DocEntry"] = len(out) + 1
            out.append(note | self._udfs("Document"))
        return out

    def payments(self, invoices: list[Record], created_at: list[int]) -> list[Record]:
        """Incoming payments applied to open invoices of one customer (full ~75%, else partial).

        Stops early if every invoice is paid before `payments` are made."""
        rng, moments, out = self.rng, self.moments, []
        open_by_card: dict[str, list[int]] = {}
        for i, inv in enumerate(invoices):
            if inv["CancelStatus"] == "csNo" and inv["DocumentStatus"] == "bost_Open":
                open_by_card.setdefault(inv["CardCode"], []).append(i)
        cards = list(open_by_card)
        in_fc = random.Random(self.spec.seed * 104729 + 3)  # own RNG: other values unchanged
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
            day, _ = moments.stamp(moment)
            first = invoices[picks[0]]
            foreign = first["DocCurrency"] != "USD" and all(
                invoices[i]["DocCurrency"] == first["DocCurrency"]
                and invoices[i]["DocRate"] == first["DocRate"] for i in picks
            ) and in_fc.random() < self.spec.fc_payments
            applied: list[Record] = []
            total = total_fc = 0.0
            for line_num, i in enumerate(picks):
                inv = invoices[i]
                due = round(inv["DocTotal"] - inv["PaidToDate"], 2)
                amount = due if rng.random() < 0.75 else round(due * rng.uniform(0.3, 0.7), 2)
                applied_fc = apply_to_invoice(inv, amount)
                if inv["DocumentStatus"] == "bost_Close":
                    pool.remove(i)
                self._touch(inv, moment)
                applied.append({"LineNum": line_num, "DocEntry": inv["DocEntry"],
                                "SumApplied": amount, "AppliedFC": applied_fc,
                                "InvoiceType": "it_Invoice", "DocLine": 0}
                               | ({"DocRate": inv["DocRate"]} if foreign else {}))
                total += amount
                total_fc += applied_fc
            total = round(total, 2)
            how = rng.random()
            entry = n + 1
            transfer = 0.2 <= how < 0.8
            way = "cash" if how < 0.2 else "transfer" if transfer else (
                "check" if how < 0.9 else "card")
            currency = first["DocCurrency"] if foreign else "USD"
            paid = round(total_fc, 2) if foreign else total  # in the payment's currency
            out.append({
                "DocEntry": entry, "DocNum": 0, "Series": 0, "DocType": "rCustomer",
                "DocDate": day, "TaxDate": day, "CardCode": card,
                "CardName": first["CardName"], "DocCurrency": currency,
                "DocRate": first["DocRate"] if foreign else 1.0,
                **payment_sums(way, total, paid if foreign else None, self.spec.fc_cash_sum,
                               self.spec.fc_transfer_sum),
                "TransferDate": day if transfer else None,
                "TransferReference": f"WT{rng.randint(100000, 999999)}" if transfer else None,
                "Cancelled": "tNO", "CancelStatus": "csNo", "Remarks": None,
                "PaymentInvoices": Rows.pack(applied),
                "PaymentChecks": [check_line(day, paid, 100000 + entry, currency)]
                if way == "check" else [],
                "PaymentCreditCards": [card_line(paid, f"{rng.randint(0, 9999):04d}", currency)]
                if way == "card" else [],
            } | self._udfs("Payment"))
        return out


def credit_note_for(inv: Record, src: Record, qty: float, stamp: tuple[str, str]) -> Record:
    """A closed credit note crediting `qty` of invoice line `src` (BaseType 13 + BaseEntry/
    BaseLine), amounts in both currencies as the invoice's; DocEntry/DocNum/Series left to set."""
    day, time = stamp
    line_total = round(src["LineTotal"] / src["Quantity"] * qty, 2)
    tax_rate = dict(ref.TAX_CODES)[src["TaxCode"]]
    vat = round(line_total * tax_rate, 2)
    total = round(line_total + vat, 2)
    foreign = inv["DocCurrency"] != "USD"
    row_fc = round(src["RowTotalFC"] / src["Quantity"] * qty, 2) if foreign else 0.0
    line = dict(src, Quantity=qty, LineTotal=line_total, RowTotalFC=row_fc, LineNum=0,
                LineStatus="bost_Close", BaseType=13, BaseEntry=inv["DocEntry"],
                BaseLine=src["LineNum"], AccountCode="440000")
    vat_fc = round(row_fc * tax_rate, 2)
    return {
        "DocEntry": 0, "DocNum": 0, "Series": 0, "DocType": "dDocument_Items",
        "DocDate": day, "DocDueDate": day, "TaxDate": day,
        "CardCode": inv["CardCode"], "CardName": inv["CardName"],
        "NumAtCard": inv["NumAtCard"], "DocCurrency": inv["DocCurrency"], "DocRate": inv["DocRate"],
        "DocTotal": total, "DocTotalFc": round(row_fc + vat_fc, 2) if foreign else 0.0,
        "VatSum": vat, "VatSumFc": vat_fc, "PaidToDate": total,
        "PaidToDateFC": round(row_fc + vat_fc, 2) if foreign else 0.0,
        "DocumentStatus": "bost_Close", "Cancelled": "tNO", "CancelStatus": "csNo",
        "Comments": f"Based on A/R Invoice {inv['DocNum']}.",
        "SalesPersonCode": inv["SalesPersonCode"],
        "PaymentGroupCode": inv["PaymentGroupCode"],
        "ContactPersonCode": inv["ContactPersonCode"],
        "CreationDate": day, "UpdateDate": day, "UpdateTime": time,
        "DocumentLines": Rows.pack([line]),
    }


def reconcile_credit(inv: Record, note: Record) -> None:
    """Reconcile a credit note into its base invoice like a payment (`credit_notes_reconcile`):
    PaidToDate/PaidToDateFC raised by its total, closed when covered. `inv` is changed."""
    foreign = inv.get("DocCurrency") not in (None, "USD")
    apply_to_invoice(inv, note["DocTotal"], note["DocTotalFc"] if foreign else None)


def _closed(lines: Any, status: str = "bost_Close") -> Any:
    if isinstance(lines, Rows):
        return lines.with_field("LineStatus", status)
    return [dict(line, LineStatus=status) for line in lines]


def payment_sums(way: str, local: float, fc: float | None, fc_cash_sum: str,
                 fc_transfer_sum: str = "payment") -> Record:
    """A payment's CashSum / TransferSum (and CashSumFC on a foreign-currency one) for `way`.

    `local` is the amount in local currency, `fc` the amount in the payment's currency (None
    for a local payment). CashSumFC is SAP's FC twin (SDK help "Payments.CashSumFC"); what
    CashSum holds on a foreign payment is `fc_cash_sum`, TransferSum (no FC twin in the Service
    Layer's Payment; SDK help names no currency) `fc_transfer_sum` (DataSpec)."""
    paid = local if fc is None else fc
    cash = way == "cash"
    sums: Record = {"CashSum": (local if fc_cash_sum == "local" else paid) if cash else 0.0}
    if fc is not None:
        sums["CashSumFC"] = fc if cash else 0.0
    sums["TransferSum"] = ((local if fc_transfer_sum == "local" else paid)
                           if way == "transfer" else 0.0)
    return sums


def check_line(day: str, amount: float, number: int, currency: str = "USD") -> Record:
    """A PaymentChecks row: a check for `amount` in `currency` (a payment's check amount
    lives here, in the check's Currency)."""
    return {"LineNum": 0, "DueDate": day, "CheckNumber": number, "BankCode": "BOA",
            "CountryCode": "US", "CheckSum": amount, "Currency": currency,
            "CheckAccount": "111000", "ManualCheck": "tNO", "Trnsfrable": "tNO"}


def card_line(amount: float, last4: str, currency: str = "USD") -> Record:
    """A PaymentCreditCards row: a card payment of `amount` in `currency` (CreditCur)."""
    return {"LineNum": 0, "CreditCard": 1, "CreditAcct": "111000", "CreditCardNumber": last4,
            "CardValidUntil": "2029-12-31", "VoucherNum": f"V{last4}", "PaymentMethodCode": 1,
            "NumOfPayments": 1, "FirstPaymentSum": amount, "CreditSum": amount,
            "CreditCur": currency, "NumOfCreditPayments": 1, "CreditType": "cr_Regular"}


def apply_to_invoice(inv: Record, amount: float, applied_fc: float | None = None) -> float:
    """Add a payment of `amount` (local currency; negative to take one back) to an invoice, as
    SAP does; returns the document-currency part (AppliedFC, 0 for a local-currency invoice;
    computed at DocRate unless given). `inv` is changed."""
    foreign = inv.get("DocCurrency") not in (None, "USD")
    if applied_fc is None:
        applied_fc = round(amount / inv["DocRate"], 2) if foreign else 0.0
    inv["PaidToDate"] = round(inv["PaidToDate"] + amount, 2)
    inv["PaidToDateFC"] = round((inv.get("PaidToDateFC") or 0.0) + applied_fc, 2)
    if round(inv["PaidToDate"], 2) >= inv["DocTotal"] and amount > 0:
        inv["PaidToDate"], inv["DocumentStatus"] = inv["DocTotal"], "bost_Close"
        if foreign:  # paid in full: the FC part is what was still due, whatever the rounding
            applied_fc = round(inv["DocTotalFc"] - inv["PaidToDateFC"] + applied_fc, 2)
            inv["PaidToDateFC"] = inv["DocTotalFc"]
        inv["DocumentLines"] = _closed(inv["DocumentLines"])
    elif amount < 0 and inv["DocumentStatus"] == "bost_Close" and inv["CancelStatus"] == "csNo":
        inv["DocumentStatus"] = "bost_Open"  # a cancelled payment reopens what it paid
        inv["DocumentLines"] = _closed(inv["DocumentLines"], "bost_Open")
    return applied_fc


def cancel_document(doc: Record, entry: int, stamp: tuple[str, str]) -> Record:
    """Cancel `doc` in place (Cancelled tYES, CancelStatus csYes, closed) and return SAP's
    cancellation document for it (CancelStatus csCancellation, closed, dated `stamp`)."""
    doc["Cancelled"], doc["CancelStatus"], doc["DocumentStatus"] = "tYES", "csYes", "bost_Close"
    doc["DocumentLines"] = _closed(doc["DocumentLines"])
    day, time = stamp
    return dict(doc, DocEntry=entry, DocNum=0, Cancelled="tNO", CancelStatus="csCancellation",
                DocDate=day, TaxDate=day, CreationDate=day, UpdateDate=day, UpdateTime=time,
                Comments=f"Cancellation of document {doc['DocNum']}")


def generate(spec: DataSpec, schema: Schema | None = None) -> dict[str, list[Record]]:
    """All seven entity sets, each a list in key order (nested document arrays as `Rows`).

    `schema` says which UDFs the company has (none by default); their values are drawn either
    way, so adding UDFs leaves every other value as it was."""
    gen = _Generator(spec, schema or Schema())
    partners = gen.partners()
    customers = [bp for bp in partners if bp["CardType"] == "cCustomer"]
    cancels = spec.invoices // 51  # about 2% of originals, each with its cancellation document
    invoices, created_at = gen.invoices(customers, spec.invoices - cancels)
    number_documents("Invoices", invoices, spec.numbering)
    gen.cancel_some(invoices, created_at, cancels)
    number_documents("Invoices", invoices, spec.numbering)
    credit_notes = gen.credit_notes(invoices, created_at)
    number_documents("CreditNotes", credit_notes, spec.numbering)
    payments = gen.payments(invoices, created_at)
    number_documents("IncomingPayments", payments, spec.numbering)
    odd = random.Random(spec.seed * 7919 + 17)
    if spec.null_update_times:
        for rec in partners + invoices + credit_notes:
            if odd.random() < spec.null_update_times:
                rec["UpdateTime"] = None
    for rec in odd.sample(invoices, k=min(spec.future_stamps, len(invoices))):
        rec["UpdateDate"], rec["UpdateTime"] = FUTURE_STAMP
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
