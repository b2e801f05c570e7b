"""SAP Business One records → HubSpot properties: pure functions, no I/O.

Why pure: every mapping rule is unit-tested without a server, and the content hash of what
these functions return is what the ledger compares to skip unchanged records.

Defaults make `tap-sapb1 → target-hubspot-finance` work with no mapping written by the user.
Two settings change them:
- `object_map`: stream name → handler (`companies`, `invoices`, `payments`, `credit_notes`,
  `ignore`), for renamed streams (e.g. a mapper alias).
- `property_map`: per HubSpot object, default property name → another name (or null to drop
  it), and `"field:<SAP field>": "<property>"` to copy any further SAP field as text.
Unique key properties cannot be renamed or dropped (they are how upserts find objects).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

GROUP_NAME = "sap_business_one"
GROUP_LABEL = "SAP Business One"

DEFAULT_OBJECT_MAP = {
    "business_partners": "companies",
    "invoices": "invoices",
    "credit_notes": "credit_notes",
    "incoming_payments": "payments",
}
HANDLERS = ("companies", "invoices", "payments", "credit_notes", "ignore")

# Unique-value properties each object is upserted by (never renamed or dropped).
UNIQUE_KEYS = {
    "companies": "sap_card_code",
    "invoices": "sap_invoice_key",  # DocEntry: DocNum repeats across numbering series
    "line_items": "sap_line_key",
    "commerce_payments": "sap_payment_key",
    "contacts": "email",
}

# Default association type ids (HUBSPOT_DEFINED, api-facts.md) used inline on batch create.
INVOICE_TO = {"companies": 179, "contacts": 177, "line_items": 409, "deals": 175}

_YES = {"tyes", "y", "yes", "true", "1"}


@dataclass(frozen=True)
class PropertySpec:
    """A custom property the target creates if missing (in the "SAP Business One" group)."""

    name: str
    label: str
    type: str = "string"          # string | number | date | datetime | bool | enumeration
    field_type: str = "text"
    unique: bool = False

    def definition(self, name: str | None = None) -> dict:
        body: dict[str, Any] = {"name": name or self.name, "label": self.label,
                                "type": self.type, "fieldType": self.field_type,
                                "groupName": GROUP_NAME, "hasUniqueValue": self.unique}
        if self.type == "bool":
            body["options"] = [{"label": "Yes", "value": "true", "displayOrder": 0},
                               {"label": "No", "value": "false", "displayOrder": 1}]
        return body


def _s(name: str, label: str, unique: bool = False) -> PropertySpec:
    return PropertySpec(name, label, unique=unique)


def _n(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "number", "number")


def _d(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "date", "date")


def _b(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "bool", "booleancheckbox")


CUSTOM_PROPERTIES: dict[str, list[PropertySpec]] = {
    "companies": [
        _s("sap_card_code", "SAP customer code", unique=True), _s("sap_card_type", "SAP card type"),
        _s("sap_group_code", "SAP customer group"), _s("sap_currency", "SAP currency"),
        _n("sap_credit_limit", "SAP credit limit"), _n("sap_max_commitment", "SAP max commitment"),
        _n("sap_balance", "SAP account balance"),
        _n("sap_open_orders_balance", "SAP open orders balance"),
        _s("sap_payment_terms", "SAP payment terms"),
        _s("sap_payment_terms_code", "SAP payment terms code"),
        _s("sap_email", "SAP e-mail"), _s("sap_phone2", "SAP phone 2"),
        _s("sap_mobile", "SAP mobile phone"), _b("sap_frozen", "SAP frozen"),
        _b("sap_active", "SAP active"), _s("sap_sales_person_code", "SAP sales person"),
        _n("sap_paid_total", "SAP payments received"), _n("sap_payment_count", "SAP payment count"),
        _d("sap_last_payment_date", "SAP last payment date"),
    ],
    "contacts": [_s("sap_contact_key", "SAP contact person key"),
                 _s("sap_card_code", "SAP customer code")],
    "invoices": [
        _s("sap_invoice_key", "SAP invoice key (DocEntry)", unique=True),
        _s("sap_doc_num", "SAP document number"), _s("sap_doc_entry", "SAP DocEntry"),
        _s("sap_series", "SAP numbering series"),
        _s("sap_card_code", "SAP customer code"), _n("sap_doc_total", "SAP document total"),
        _n("sap_vat_sum", "SAP tax amount"), _n("sap_paid_to_date", "SAP paid to date"),
        _n("sap_open_balance", "SAP open balance"), _s("sap_document_status", "SAP status"),
        _b("sap_cancelled", "SAP cancelled"), _b("sap_is_overdue", "SAP overdue"),
        _n("sap_credited_amount", "SAP credited amount"),
        _s("sap_credit_note_numbers", "SAP credit notes"),
        _n("sap_payment_count", "SAP payment count"),
        _d("sap_last_payment_date", "SAP last payment date"),
        _n("sap_doc_total_local", "SAP document total (local currency)"),
        _n("sap_vat_sum_local", "SAP tax amount (local currency)"),
        _n("sap_paid_to_date_local", "SAP paid to date (local currency)"),
        _s("sap_local_currency", "SAP local currency"),
        _s("sap_cancel_status", "SAP cancel status"),
    ],
    "line_items": [
        _s("sap_line_key", "SAP line key", unique=True), _s("sap_doc_num", "SAP document number"),
        _n("sap_line_total", "SAP line total"), _s("sap_tax_code", "SAP tax code"),
        _s("sap_account_code", "SAP G/L account"), _s("sap_account_name", "SAP G/L account name"),
        _s("sap_profit_center", "SAP profit center"),
        _s("sap_profit_center_name", "SAP profit center name"),
        _n("sap_line_total_local", "SAP line total (local currency)"),
    ],
    "commerce_payments": [
        _s("sap_payment_key", "SAP payment key", unique=True),
        _s("sap_payment_doc_num", "SAP payment number"),
        _s("sap_card_code", "SAP customer code"),
        _s("sap_invoice_doc_entry", "SAP invoice DocEntry"),
        _n("sap_payment_total", "SAP payment total"), _b("sap_cancelled", "SAP cancelled"),
        _s("sap_applied_to", "SAP applied to"),
        _n("sap_applied_local", "SAP amount applied (local currency)"),
    ],
}


class MappingError(ValueError):
    """A record the target cannot map (the message says which field and why)."""


# What a malformed record can raise inside the mapping functions: the sinks catch these per
# record and dead-letter that record, so one bad payload never stops a run.
MAPPING_ERRORS = (MappingError, TypeError, AttributeError, KeyError, ValueError)


def describe(exc: Exception) -> str:
    """One line for the dead-letter: the mapping error's own text, else what was malformed."""
    if isinstance(exc, MappingError):
        return str(exc)
    return f"malformed record ({type(exc).__name__}: {exc})"[:300]


# -- value forms ---------------------------------------------------------------------------
def yes(value: Any) -> bool:
    """SAP's tYES/tNO (and plain booleans) as a Python bool."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in _YES


def sap_date(value: Any) -> str | None:
    """`YYYY-MM-DD` from SAP's `YYYY-MM-DD` or `YYYY-MM-DDT00:00:00Z` (HubSpot date form)."""
    if value in (None, ""):
        return None
    text = str(value)[:10]
    try:  # the calendar too: 2026-13-45 is refused here, not by HubSpot after a write call
        date.fromisoformat(text)
    except ValueError:
        raise MappingError(f"not a date: {value!r}") from None
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise MappingError(f"not a date: {value!r}")
    return text


def sap_datetime(value: Any) -> str | None:
    """An ISO datetime at UTC midnight for a SAP date (HubSpot datetime form)."""
    day = sap_date(value)
    return f"{day}T00:00:00.000Z" if day else None


def num(value: Any, name: str | None = None) -> float | None:
    """A JSON number (or numeric text) as float; None stays None.

    NaN and infinities are refused (MappingError, so the record is dead-lettered with the
    field named): HubSpot takes only valid JSON, and a NaN dropped silently would hide a
    broken SAP figure behind an older, still-shown value.
    """
    if value in (None, ""):
        return None
    where = f"{name}: " if name else ""
    if isinstance(value, bool):
        raise MappingError(f"{where}not a number: {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise MappingError(f"{where}not a number: {value!r}") from None
    if not math.isfinite(out):
        raise MappingError(f"{where}not a finite number: {value!r}")
    return out


def field_num(record: Mapping[str, Any], name: str) -> float | None:
    """`num` of one SAP field, naming the field in the error."""
    return num(record.get(name), name)


def text(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def boolean(value: Any) -> str:
    return "true" if yes(value) else "false"


def money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def namespaced(namespace: str | None, key: Any) -> str:
    """A unique key value, prefixed per SAP company when `key_namespace` is set."""
    return f"{namespace}:{key}" if namespace else str(key)


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: an absent SAP field never blanks a HubSpot property."""
    return {k: v for k, v in props.items() if v is not None}


def content_hash(payload: Any) -> str:
    """Stable hash of what would be written (sorted keys, floats as JSON writes them)."""
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- companies and contacts -----------------------------------------------------------------
def payment_terms_name(record: Mapping[str, Any]) -> str | None:
    """The name a person reads (tap enrichment), else SAP's code as text."""
    return text(record.get("PaymentTermsName")) or text(record.get("PayTermsGrpCode"))


def _bill_to(record: Mapping[str, Any]) -> Mapping[str, Any]:
    for address in record.get("BPAddresses") or []:
        if address.get("AddressType") == "bo_BillTo":
            return address
    return {}


def map_company(record: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
    """A business partner as company properties (upsert key `sap_card_code`)."""
    code = text(record.get("CardCode"))
    if not code:
        raise MappingError("business partner without CardCode")
    bill = _bill_to(record)
    return _clean({
        "sap_card_code": namespaced(namespace, code),
        "name": text(record.get("CardName")) or code,
        "phone": text(record.get("Phone1")),
        "website": text(record.get("Website")),
        "address": text(record.get("Address")) or text(bill.get("Street")),
        "city": text(record.get("City")) or text(bill.get("City")),
        "zip": text(record.get("ZipCode")) or text(bill.get("ZipCode")),
        "state": text(bill.get("State")),
        "country": text(record.get("Country")) or text(bill.get("Country")),
        "sap_card_type": text(record.get("CardType")),
        "sap_group_code": text(record.get("GroupCode")),
        "sap_currency": text(record.get("Currency")),
        "sap_credit_limit": money(field_num(record, "CreditLimit")),
        "sap_max_commitment": money(field_num(record, "MaxCommitment")),
        "sap_balance": money(field_num(record, "CurrentAccountBalance")),
        "sap_open_orders_balance": money(field_num(record, "OpenOrdersBalance")),
        "sap_payment_terms": payment_terms_name(record),
        "sap_payment_terms_code": text(record.get("PayTermsGrpCode")),
        "sap_email": text(record.get("EmailAddress")),
        "sap_phone2": text(record.get("Phone2")),
        "sap_mobile": text(record.get("Cellular")),
        "sap_frozen": boolean(record.get("Frozen")) if "Frozen" in record else None,
        "sap_active": boolean(record.get("Valid")) if "Valid" in record else None,
        "sap_sales_person_code": text(record.get("SalesPersonCode")),
    })


def stub_company(card_code: str, card_name: str | None,
                 namespace: str | None = None) -> dict[str, Any]:
    """The least a company needs when an invoice or payment arrives before its customer."""
    return {"sap_card_code": namespaced(namespace, card_code), "name": card_name or card_code}


def contact_key(card_code: str, internal_code: Any) -> str:
    """Ledger key of a SAP contact person: `<CardCode>/<InternalCode>`."""
    return f"{card_code}/{internal_code}"


def email_of(contact: Mapping[str, Any]) -> str | None:
    """A lower-cased e-mail that looks like an address, else None (no contact is made)."""
    email = (text(contact.get("E_Mail")) or "").lower()
    if "@" not in email or "." not in email.split("@")[-1] or " " in email:
        return None
    return email


def map_contact(contact: Mapping[str, Any], card_code: str) -> dict[str, Any] | None:
    """A SAP contact person as contact properties (upsert key `email`); None without e-mail
    or when the contact person is inactive."""
    email = email_of(contact)
    if not email or ("Active" in contact and not yes(contact.get("Active"))):
        return None
    first, last = text(contact.get("FirstName")), text(contact.get("LastName"))
    if not first and not last:
        last = text(contact.get("Name"))
    return _clean({
        "email": email, "firstname": first, "lastname": last,
        "phone": text(contact.get("Phone1")), "mobilephone": text(contact.get("MobilePhone")),
        "jobtitle": text(contact.get("Position")),
        "sap_contact_key": contact_key(card_code, contact.get("InternalCode")),
        "sap_card_code": card_code,
    })


# -- money: every amount in the document's own currency ------------------------------------
# SAP's unsuffixed amounts are in the company's local currency; the Fc/FC twins are in the
# document's currency (Service Layer `Document`/`DocumentLine`/`Payment`/`PaymentInvoice`,
# b1sl models; SDK help "Documents.DocTotalFc"). HubSpot shows an invoice, its lines and its
# payments in the invoice's `hs_currency`, so those take the twin on a foreign document.
FC_TWIN = {"DocTotal": "DocTotalFc", "VatSum": "VatSumFc", "PaidToDate": "PaidToDateFC",
           "LineTotal": "RowTotalFC", "SumApplied": "AppliedFC", "CashSum": "CashSumFC",
           "TotalDiscount": "TotalDiscountFC", "WitholdingTaxApplied": "WitholdingTaxAppliedFC"}
CANCELLED_DOC = "csYes"          # CancelStatus of a document that was cancelled
CANCELLATION_DOC = "csCancellation"  # CancelStatus of the document SAP made to cancel another


def is_foreign(record: Mapping[str, Any], local: str | None = None) -> bool:
    """Whether a SAP document is in a currency other than the company's local one.

    With `local_currency` set, by DocCurrency. Without it, by SAP's own marks: a local
    document has its Fc amounts at 0 and DocRate 1, a foreign one has neither.
    """
    currency = (text(record.get("DocCurrency")) or "").upper()
    if local and currency:
        return currency != local.upper()
    rate = field_num(record, "DocRate")
    return bool(field_num(record, "DocTotalFc") or field_num(record, "CashSumFC")
                or field_num(record, "AppliedFC") or rate not in (None, 0.0, 1.0))


def doc_amount(record: Mapping[str, Any], name: str, foreign: bool,
               what: str = "document") -> float | None:
    """SAP amount `name` in the document's currency: its Fc twin on a foreign document.

    A foreign document whose twin is missing (not selected, dropped by a mapper) or 0 while
    the local figure is not is refused: a local figure under a foreign currency code is the
    wrong money, worse than none.
    """
    if not foreign:
        return field_num(record, name)
    twin = FC_TWIN[name]
    value = field_num(record, twin)
    local_value = field_num(record, name)
    if not value:
        if not local_value:
            return value if value is not None else local_value
        raise MappingError(f"{what} in {text(record.get('DocCurrency')) or 'a foreign currency'}"
                           f" has no {twin} (its amount in that currency): select {twin}, or"
                           " set local_currency to the SAP company's local currency")
    return value


def check_local(record: Mapping[str, Any], local: str | None, what: str) -> None:
    """A document in the local currency whose Fc total is another figure means `local_currency`
    is not the SAP company's (SAP leaves Fc at 0, or equal, on a local document)."""
    if not local:
        return
    fc, total = field_num(record, "DocTotalFc"), field_num(record, "DocTotal")
    if fc and total is not None and abs(fc - total) > 0.005:
        raise MappingError(f"{what} is in {local.upper()} with a different DocTotalFc ({fc} vs "
                           f"{total}): local_currency {local.upper()} does not look like the SAP"
                           " company's local currency")


@dataclass(frozen=True)
class DocMoney:
    """An invoice's or credit note's figures in its own currency (`local_*`: SAP's local)."""

    currency: str | None
    foreign: bool
    total: float | None
    vat: float | None
    paid: float | None
    local_total: float | None
    local_vat: float | None
    local_paid: float | None


def document_money(record: Mapping[str, Any], local: str | None = None,
                   what: str = "document") -> DocMoney:
    foreign = is_foreign(record, local)
    if not foreign:
        check_local(record, local, what)
    return DocMoney(
        (text(record.get("DocCurrency")) or "").upper() or None, foreign,
        doc_amount(record, "DocTotal", foreign, what), doc_amount(record, "VatSum", foreign, what),
        doc_amount(record, "PaidToDate", foreign, what), field_num(record, "DocTotal"),
        field_num(record, "VatSum"), field_num(record, "PaidToDate"))


def is_cancelled(record: Mapping[str, Any]) -> bool:
    """Cancelled in SAP: `Cancelled` tYES, or `CancelStatus` csYes."""
    return yes(record.get("Cancelled")) or record.get("CancelStatus") == CANCELLED_DOC


def is_cancellation(record: Mapping[str, Any]) -> bool:
    """SAP's cancellation document (CancelStatus csCancellation): it reverses another document,
    which arrives itself as cancelled; it is neither an invoice nor a credit of its own."""
    return record.get("CancelStatus") == CANCELLATION_DOC


INVOICE_MONEY = "invoice"  # ledger applications kind holding an invoice's currency and total


def invoice_money_row(key: str, record: Mapping[str, Any], local: str | None) -> dict[str, Any]:
    """Ledger row (applications, kind `invoice`) of an invoice's currency (in `doc_num`) and
    total in that currency: read back by the payment and credit note sinks."""
    figures = document_money(record, local, f"invoice {record.get('DocNum')}")
    return {"source_key": key, "invoice_key": key, "card_code": text(record.get("CardCode")),
            "doc_num": figures.currency, "amount": money(figures.total) or 0.0,
            "applied_on": None}


# -- invoices and line items ---------------------------------------------------------------
def invoice_status(record: Mapping[str, Any], credited: float = 0.0,
                   local: str | None = None) -> str:
    """HubSpot status from SAP: cancelled or fully credited → voided; closed or paid in full →
    paid; else open. (Draft is decided later: HubSpot needs a contact and line items.)
    Amounts compared in the invoice's currency (credits are kept in it too)."""
    if is_cancelled(record):
        return "voided"
    figures = document_money(record, local, "invoice")
    total, paid = figures.total or 0.0, figures.paid or 0.0
    return status_for(total, paid, credited, record.get("DocumentStatus") == "bost_Close")


def status_for(total: float, paid: float, credited: float, closed: bool) -> str:
    """voided when credited in full, paid when closed or paid in full, else open: one rule for
    the invoice sink and the credit note sink. Credits are not added to `paid`: SAP reconciles
    a credit note based on an invoice into the invoice itself (its open amount falls, it closes
    when settled), so adding them again would call a part-open invoice paid."""
    if total > 0 and credited >= total - 0.005:
        return "voided"
    if closed or (total > 0 and paid >= total - 0.005):
        return "paid"
    return "open"


def map_invoice(record: Mapping[str, Any], namespace: str | None = None,
                credits: Any = None, payments: Any = None,
                local: str | None = None) -> dict[str, Any]:
    """An A/R invoice as invoice properties (upsert key `sap_doc_num`), amounts in its own
    currency (`sap_*_local`: SAP's local-currency figures, for finance).

    `credits`/`payments` are ledger totals (`Ledger.application_totals`) or None.
    """
    doc_num = text(record.get("DocNum"))
    if not doc_num:
        raise MappingError("invoice without DocNum")
    currency = text(record.get("DocCurrency"))
    if not currency:
        raise MappingError(f"invoice {doc_num} has no DocCurrency (HubSpot needs hs_currency)")
    figures = document_money(record, local, f"invoice {doc_num}")
    total, paid = figures.total, figures.paid or 0.0
    open_amount = field_num(record, "OpenAmount")
    if open_amount is None and total is not None:
        open_amount = total - paid
    if is_cancelled(record):  # closed by its cancellation document: nothing is owed on it
        open_amount = 0.0
    elif record.get("DocumentStatus") == "bost_Close":  # settled, e.g. by a payment net of a
        open_amount = 0.0  # cash discount / withholding that PaidToDate may leave out (README)
    credited = credits.amount if credits else 0.0
    entry = text(record.get("DocEntry"))
    if not entry:
        raise MappingError(f"invoice {doc_num} has no DocEntry")
    props = {
        "sap_invoice_key": namespaced(namespace, entry),
        "sap_doc_num": namespaced(namespace, doc_num),
        "sap_doc_entry": entry,
        "sap_series": text(record.get("Series")),
        "sap_card_code": text(record.get("CardCode")),
        "hs_currency": currency.upper(),
        "hs_invoice_date": sap_date(record.get("DocDate")),
        "hs_due_date": sap_date(record.get("DocDueDate")),
        "hs_title": f"SAP invoice {doc_num}",
        "hs_purchase_order_number": text(record.get("NumAtCard")),
        "hs_comments": text(record.get("Comments")),
        "hs_invoice_status": invoice_status(record, credited, local),
        "sap_doc_total": money(total),
        "sap_vat_sum": money(figures.vat),
        "sap_paid_to_date": money(paid),
        "sap_open_balance": money(open_amount),
        "sap_doc_total_local": money(figures.local_total),
        "sap_vat_sum_local": money(figures.local_vat),
        "sap_paid_to_date_local": money(figures.local_paid),
        "sap_local_currency": local.upper() if local else None,
        "sap_document_status": text(record.get("DocumentStatus")),
        "sap_cancelled": boolean(is_cancelled(record)),
        "sap_cancel_status": text(record.get("CancelStatus")),
        "sap_is_overdue": (boolean(record["IsOverdue"])
                           if record.get("IsOverdue") is not None else None),
    }
    if credits:
        props["sap_credited_amount"] = credits.amount
        props["sap_credit_note_numbers"] = ", ".join(credits.doc_nums) or None
    if payments:
        props["sap_payment_count"] = payments.count
        props["sap_last_payment_date"] = payments.last_date
    return _clean(props)


def line_key(record: Mapping[str, Any], line: Mapping[str, Any],
             namespace: str | None = None) -> str:
    """Unique line key `<DocEntry>-<LineNum>` (DocEntry is SAP's document key)."""
    return namespaced(namespace, f"{record.get('DocEntry')}-{line.get('LineNum')}")


def line_problem(line: Mapping[str, Any]) -> str | None:
    """Why a SAP line cannot be a HubSpot line item (checked before sending), else None."""
    if not text(line.get("ItemCode")) and not text(line.get("ItemDescription")):
        return "line has neither ItemCode nor ItemDescription"
    try:
        quantity = field_num(line, "Quantity")
        price = num(line.get("UnitPrice") if line.get("UnitPrice") is not None
                    else line.get("Price"), "UnitPrice")
        field_num(line, "LineTotal")
        field_num(line, "RowTotalFC")
        field_num(line, "DiscountPercent")
    except MappingError as exc:
        return str(exc)
    if quantity is None or price is None:
        return "line has no Quantity or price"
    return None


def map_line_item(record: Mapping[str, Any], line: Mapping[str, Any],
                  namespace: str | None = None, local: str | None = None) -> dict[str, Any]:
    """A document line as line item properties (upsert key `sap_line_key`), in the
    document's currency.

    HubSpot computes `amount` = quantity * price * (1 - discount %), which is SAP's line total
    when the price sent is SAP's UnitPrice (before discount) with DiscountPercent. SAP gives
    UnitPrice in the line's own `Currency`; a line priced in another currency than its
    document is sent at its document-currency total / quantity instead, no discount.
    """
    doc_currency = (text(record.get("DocCurrency")) or "").upper() or None
    foreign = is_foreign(record, local)
    row_total = doc_amount(line | {"DocCurrency": doc_currency}, "LineTotal", foreign,
                           f"line {line.get('LineNum')}")
    unit = line.get("UnitPrice") if line.get("UnitPrice") is not None else line.get("Price")
    price, discount = num(unit, "UnitPrice"), field_num(line, "DiscountPercent") or None
    quantity = field_num(line, "Quantity")
    line_currency = (text(line.get("Currency")) or "").upper()
    if line_currency and doc_currency and line_currency != doc_currency and quantity \
            and row_total is not None:
        price, discount = round(row_total / quantity, 6), None
        if not math.isfinite(price):  # a quantity too small to divide by: one unit of the total
            quantity, price = 1.0, row_total
    return _clean({
        "sap_line_key": line_key(record, line, namespace),
        "name": text(line.get("ItemDescription")) or text(line.get("ItemCode")),
        "hs_sku": text(line.get("ItemCode")),
        "quantity": quantity,
        "price": price,
        "hs_discount_percentage": discount,
        "hs_line_item_currency_code": doc_currency,
        "hs_position_on_quote": field_num(line, "LineNum"),
        "sap_doc_num": text(record.get("DocNum")),
        "sap_line_total": money(row_total),
        "sap_line_total_local": money(field_num(line, "LineTotal")),
        "sap_tax_code": text(line.get("TaxCode")),
        "sap_account_code": text(line.get("AccountCode")),
        "sap_account_name": text(line.get("AccountName")),
        "sap_profit_center": text(line.get("CostingCode")),
        "sap_profit_center_name": text(line.get("ProfitCenterName")),
    })


def map_tax_line(record: Mapping[str, Any], namespace: str | None = None,
                 local: str | None = None) -> dict[str, Any] | None:
    """SAP's tax (VatSum, or VatSumFc on a foreign document) as one more line item
    (`<DocEntry>-tax`), so HubSpot's billed amount and balance due equal SAP's total in the
    invoice's currency (document lines are net of tax). None without tax."""
    figures = document_money(record, local, f"invoice {record.get('DocNum')}")
    if not figures.vat:
        return None
    return _clean({
        "sap_line_key": namespaced(namespace, f"{record.get('DocEntry')}-tax"),
        "name": "Tax", "quantity": 1.0, "price": money(figures.vat),
        "hs_line_item_currency_code": figures.currency,
        "sap_doc_num": text(record.get("DocNum")), "sap_line_total": money(figures.vat),
        "sap_line_total_local": money(figures.local_vat),
    })


def line_amount(props: Mapping[str, Any]) -> float:
    """HubSpot's calculated line `amount`: quantity x (price - unit discount) x (1 - discount %)."""
    return ((props.get("quantity") or 0.0) * ((props.get("price") or 0.0)
            - (props.get("discount") or 0.0)) * (1 - (props.get("hs_discount_percentage") or 0.0)
                                                 / 100))


ADJUSTMENT_NAME = "Other charges and rounding (SAP document total)"
# A gap left below a tenth of a cent shows as SAP's total; smaller ones are the dust of prices
# sent with 6 decimals (a line priced in another currency), not worth a line item.
BILLED_TOLERANCE = 0.0005


def total_lines(record: Mapping[str, Any], lines: Mapping[str, dict[str, Any]],
                namespace: str | None = None, local: str | None = None) -> dict[str, dict]:
    """A document's line items (`lines`, from map_line_item) plus the tax line, made to add
    up to SAP's total in the invoice's currency, because HubSpot's billed amount and balance
    due are the sum of the line items' calculated amounts.

    SAP's total is lines - document discount + tax + freight +/- rounding (- down payments
    drawn), and its LineTotal is rounded where quantity x price is not: a document discount
    (header DiscountPercent) becomes part of each line's discount %, and what is left is one
    more line (`<DocEntry>-adjustment`) when positive, or taken off the tax line (else the
    largest line, as a unit discount) when negative: HubSpot refuses a negative price, so a
    negative SAP line (a discount item) is sent at price 0 and its amount taken off that way.
    """
    out = {k: dict(v) for k, v in lines.items()}
    for props in out.values():  # a negative line (a discount item): its amount comes off below
        if (props.get("price") or 0.0) < 0:
            props["price"] = 0.0
            props.pop("hs_discount_percentage", None)
    header = field_num(record, "DiscountPercent") or 0.0
    if header:
        for props in out.values():
            own = props.get("hs_discount_percentage") or 0.0
            props["hs_discount_percentage"] = round(100 - (100 - own) * (1 - header / 100), 6)
    tax = map_tax_line(record, namespace, local)
    if tax:
        if tax["price"] < 0:  # a negative tax (e.g. a reversed tax code): taken off below too
            tax["price"] = 0.0
        out[tax["sap_line_key"]] = tax
    total = document_money(record, local, f"invoice {record.get('DocNum')}").total
    if total is None or not out:
        return out
    gap = round(total - sum(line_amount(p) for p in out.values()), 6)
    if not math.isfinite(gap):
        raise MappingError(f"invoice {record.get('DocNum')}: line amounts too large to add up "
                           "(quantity x price overflows)")
    if gap >= BILLED_TOLERANCE:
        key = namespaced(namespace, f"{record.get('DocEntry')}-adjustment")
        out[key] = {"sap_line_key": key, "name": ADJUSTMENT_NAME, "quantity": 1.0,
                    "price": gap, "hs_line_item_currency_code": (
                        text(record.get("DocCurrency")) or "").upper() or None,
                    "sap_doc_num": text(record.get("DocNum")), "sap_line_total": money(gap)}
    elif gap <= -BILLED_TOLERANCE:
        if tax and tax["price"] + gap >= 0:
            tax["price"] = round(tax["price"] + gap, 6)
        else:
            _take_off_largest(out, -gap)
    return out


def _take_off_largest(lines: dict[str, dict], amount: float) -> None:
    """`amount` off the line items with the largest amounts, as unit discounts, none below 0
    (a down payment drawn may exceed any one line)."""
    for props in sorted(lines.values(), key=line_amount, reverse=True):
        per_unit = (props.get("quantity") or 0.0) * (1 - (props.get("hs_discount_percentage")
                                                          or 0.0) / 100)
        take = min(amount, line_amount(props))
        if per_unit <= 0 or take <= 0:
            continue
        props["discount"] = round((props.get("discount") or 0.0) + take / per_unit, 6)
        amount -= take
        if amount <= 0.000001:
            return


# -- payments and credit notes -------------------------------------------------------------
# What a PaymentInvoices line pays (BoRcptInvTypes). Only it_Invoice lines pay a HubSpot
# invoice; a credit note the payment uses only nets the money received; everything else is
# money received for another SAP document (a HubSpot payment without an invoice).
APPLIED_TO = {"it_Invoice": "invoice", "it_JournalEntry": "journal entry",
              "it_DownPayment": "down payment", "it_Return": "return",
              "it_OpeningBalance": "opening balance", "it_Receipt": "receipt",
              "it_ARCorrectionInvoice": "correction invoice",
              "it_CorrectionInvoice": "correction invoice", "it_TaxInvoice": "tax invoice"}
CREDIT_NOTE_LINE = "it_CredItnote"


@dataclass(frozen=True)
class Application:
    """One amount a SAP document applies: a payment to an invoice, a credit note to one.

    `amount` is in `currency`: the invoice's currency for a line paying an invoice, the
    payment's for other money. `local_amount` is SAP's local-currency figure.
    """

    source_key: str          # <DocEntry>-<LineNum> (or <DocEntry>-account)
    invoice_key: str | None  # the invoice's DocEntry, None for money not paying an invoice
    amount: float
    applied_on: str | None
    currency: str | None = None
    applied_to: str | None = None      # what a payment line paid: invoice, journal entry, ...
    local_amount: float | None = None
    method: str | None = None          # HubSpot payment method when not the SAP payment's

    def row(self, card_code: str | None, doc_num: str | None) -> dict[str, Any]:
        """Ledger row. Its amount is SAP's local figure when known (payment lines: a customer's
        `sap_paid_total` sums them, so one currency), else `amount` (credits: the invoice's).
        A payment's part that is no money received (a credit note it uses, a cash discount or
        withholding it settles: `method` set) counts 0, so the sums stay money received."""
        if self.method is not None and self.local_amount is not None:
            amount = 0.0
        elif self.local_amount is not None and not self.cancelled_zero:
            amount = round(self.local_amount, 2)
        else:
            amount = self.amount
        return {"source_key": self.source_key, "invoice_key": self.invoice_key or "",
                "card_code": card_code, "doc_num": doc_num, "amount": amount,
                "applied_on": self.applied_on}

    @property
    def cancelled_zero(self) -> bool:
        """A cancelled document's application (amount 0) stays 0 in every currency."""
        return self.amount == 0


def _payment_sums(record: Mapping[str, Any], foreign: bool) -> dict[str, float]:
    """Money received per method in the payment's currency (CashSum is local: SDK help
    "Payments.CashSum"; its twin CashSumFC is in the payment's currency)."""
    cash = field_num(record, "CashSumFC") if foreign else field_num(record, "CashSum")
    if foreign and cash is None:
        cash = doc_amount(record, "CashSum", foreign, f"payment {record.get('DocNum')}")
    sums = {"bank transfer": field_num(record, "TransferSum") or 0.0, "cash": cash or 0.0,
            "check": _rows_sum(record, "CheckSum", "PaymentChecks"),
            "credit card": _rows_sum(record, "CreditSum", "PaymentCreditCards")}
    if foreign and sums["bank transfer"]:
        sums["bank transfer"] = _foreign_transfer(record, sums)
    return sums


def _foreign_transfer(record: Mapping[str, Any], sums: Mapping[str, float]) -> float:
    """TransferSum of a foreign-currency payment in the payment's currency. SAP names no
    currency for it (SDK help "Payments.TransferSum"; the Service Layer's Payment has no FC
    twin): read as the payment's currency unless it is a local amount to the cent, closer than
    the FC reading (a small transfer beside other means fits both within rounding); then it is
    what the lines paid in the payment's currency (AppliedFC) less the other means. Local
    amount: the lines' SumApplied less the other means at DocRate, or what is left of AppliedFC
    at the payment's DocRate (paid at a later rate than its invoices', SAP may hold the lines
    at the invoices' rates: unsaid). Money on account with a local TransferSum stays ambiguous
    (read as the payment's)."""
    transfer, rate = sums["bank transfer"], field_num(record, "DocRate")
    lines = record.get("PaymentInvoices") or []
    if not rate or rate == 1.0 or not lines:
        return transfer
    def paid(name: str) -> float:  # a credit note used is no money, whichever its sign
        return sum(-abs(v) if li.get("InvoiceType") == CREDIT_NOTE_LINE else v  # (as in
                   for li in lines for v in [field_num(li, name) or 0.0])  # applications)

    paid_fc, paid_local = paid("AppliedFC"), paid("SumApplied")
    others = sum(v for k, v in sums.items() if k != "bank transfer")
    cents = 0.01 * (len(lines) + 1)  # each line's local amount is rounded on its own
    local_gap = min(abs(transfer + others * rate - paid_local),
                    abs(transfer - (paid_fc - others) * rate))
    if local_gap <= cents and local_gap < abs(transfer + others - paid_fc):
        return round(paid_fc - others, 2)
    return transfer


def _rows_sum(record: Mapping[str, Any], name: str, rows: str) -> float:
    """Check and card amounts: SAP's Payment holds them in `PaymentChecks[].CheckSum` and
    `PaymentCreditCards[].CreditSum` (b1sl models); a flat field (older tap output) counts too."""
    flat = field_num(record, name) or 0.0
    return flat + sum(field_num(row, name) or 0.0 for row in record.get(rows) or [])


def payment_method(record: Mapping[str, Any], local: str | None = None) -> str | None:
    sums = _payment_sums(record, is_foreign(record, local))
    best = max(sums, key=lambda k: sums[k])
    return best if sums[best] > 0 else None


def payment_total(record: Mapping[str, Any], local: str | None = None) -> float:
    """What the customer paid, in the payment's currency."""
    return round(sum(_payment_sums(record, is_foreign(record, local)).values()), 2)


def payment_applications(record: Mapping[str, Any], local: str | None = None,
                         invoice_currency: Mapping[str, str] | None = None
                         ) -> list[Application]:
    """One application per document line the payment pays; money on account as one more.

    Each it_Invoice line pays its invoice in the invoice's currency (AppliedFC when that is
    foreign, else SumApplied; `invoice_currency` maps invoice DocEntry → currency code, from
    the ledger). A line for any other document (journal entry, down payment, unknown type...)
    is money received for it: a HubSpot payment linked to no invoice. A credit note the payment
    uses (it_CredItnote) is no money: it is taken off the invoice lines it settles (in line
    order) and written as a `credit note` payment on those invoices (key
    <DocEntry>-<its LineNum>-<invoice DocEntry>). So the money payments of a SAP payment add up
    to the SAP payment, and every invoice is settled by what SAP applied to it. A cash
    discount or withholding tax an invoice line settles is one more application on that invoice
    (`_deductions`: no money, so it leaves the on-account rest alone).
    A cancelled payment applies 0, so HubSpot's balance due comes back.
    """
    entry = text(record.get("DocEntry"))
    if not entry:
        raise MappingError("payment without DocEntry")
    day = sap_date(record.get("DocDate"))
    cancelled = is_cancelled(record)
    pay_currency = (text(record.get("DocCurrency")) or "").upper() or None
    pay_foreign = is_foreign({k: record.get(k) for k in ("DocCurrency", "DocRate", "CashSumFC")},
                             local)
    what = f"payment {record.get('DocNum')}"
    slots: list[Application | dict] = []  # in line order; dicts: invoice lines, credits pending
    credits: list[tuple[Mapping[str, Any], float]] = []
    settled: list[Application] = []  # cash discounts and withholding tax the lines settle
    received = 0.0  # money the lines account for, in the payment's currency
    for line in record.get("PaymentInvoices") or []:
        kind = line.get("InvoiceType")
        where = f"{what} line {line.get('LineNum')}"
        in_payment = doc_amount(line | {"DocCurrency": pay_currency}, "SumApplied",
                                pay_foreign, where) or 0.0
        local_amount = field_num(line, "SumApplied")
        if kind == CREDIT_NOTE_LINE or in_payment < 0:
            received -= abs(in_payment)
            if kind == CREDIT_NOTE_LINE:
                credits.append((line, abs(in_payment)))
            continue
        received += in_payment
        key = f"{entry}-{line.get('LineNum')}"
        if kind == "it_Invoice":
            invoice = text(line.get("DocEntry"))
            amount, currency, foreign = _invoice_side(line, invoice, pay_currency, pay_foreign,
                                                      local, invoice_currency or {}, where)
            slots.append({"key": key, "invoice": invoice, "amount": amount, "pc": in_payment,
                          "local": local_amount or 0.0, "currency": currency})
            settled += _deductions(line, key, invoice, currency, foreign, day, cancelled, where)
        else:
            label = APPLIED_TO.get(str(kind), f"SAP document type {kind}" if kind
                                   else "SAP document of unknown type")
            slots.append(Application(key, None, 0.0 if cancelled else round(in_payment, 2), day,
                                     pay_currency, f"{label} {line.get('DocEntry')}",
                                     local_amount))
    used = _allocate_credits(entry, credits, [s for s in slots if isinstance(s, dict)], day,
                             cancelled)
    out = [s if isinstance(s, Application) else Application(
        s["key"], s["invoice"], 0.0 if cancelled else round(s["amount"], 2), day,
        s["currency"], "invoice", round(s["local"], 2)) for s in slots] + used + settled
    rest = round(payment_total(record, local) - received, 2)
    if rest > 0.005:
        rate = field_num(record, "DocRate") if pay_foreign else 1.0
        out.append(Application(f"{entry}-account", None, 0.0 if cancelled else rest, day,
                               pay_currency, "on account",  # local: at the payment's rate
                               round(rest * rate, 2) if rate else None))
    return out


def _allocate_credits(entry: str, credits: list[tuple[Mapping[str, Any], float]],
                      invoices: list[dict], day: str | None,
                      cancelled: bool) -> list[Application]:
    """Take each credit note a payment uses off its invoice lines, in order (amounts compared in
    the payment's currency, moved in each invoice's), as `credit note` applications."""
    out: list[Application] = []
    for line, credit in credits:
        for inv in invoices:
            take = min(credit, inv["pc"])
            if take <= 0.005:
                continue
            share = take / inv["pc"]
            moved, moved_local = inv["amount"] * share, inv["local"] * share
            inv["amount"] -= moved
            inv["local"] -= moved_local
            inv["pc"] -= take
            credit -= take
            out.append(Application(
                f"{entry}-{line.get('LineNum')}-{inv['invoice']}", inv["invoice"],
                0.0 if cancelled else round(moved, 2), day, inv["currency"],
                f"credit note {line.get('DocEntry')}", 0.0, CREDIT_NOTE_METHOD))
            if credit <= 0.005:
                break
    return out


def _invoice_side(line: Mapping[str, Any], invoice: str | None, pay_currency: str | None,
                  pay_foreign: bool, local: str | None, invoice_currency: Mapping[str, str],
                  where: str) -> tuple[float, str | None, bool]:
    """The amount a payment line pays and its currency, both the invoice's, and whether that
    currency is foreign."""
    currency = invoice_currency.get(str(invoice)) if invoice else None
    if currency and local:
        foreign = currency != local.upper()
    elif currency and currency == pay_currency:
        foreign = pay_foreign
    elif currency and pay_currency:  # SAP: a payment pays its own currency or the local one
        foreign = not pay_foreign
    else:
        rate = field_num(line, "DocRate")
        foreign = bool(field_num(line, "AppliedFC")) or rate not in (None, 0.0, 1.0)
    if not currency:
        if foreign == pay_foreign:
            currency = pay_currency
        elif not foreign and local:
            currency = local.upper()
        else:  # a local payment of a foreign invoice not synced yet: its amount (AppliedFC) is
            currency = ""  # known, its code is set when the invoice arrives (invoices sink)
    amount = doc_amount(line | {"DocCurrency": currency}, "SumApplied", foreign, where) or 0.0
    return amount, currency, foreign


# What a payment line settles besides the money (SumApplied): SAP's PaymentInvoice fields (SDK
# help Payments_Invoices.TotalDiscount, .WitholdingTaxApplied), key suffix, HubSpot method.
DEDUCTIONS = (("TotalDiscount", "discount", "cash discount"),
              ("WitholdingTaxApplied", "withholding", "withholding tax"))
DEDUCTION_METHODS = tuple(method for _, _, method in DEDUCTIONS)
SETTLED = "settled"  # ledger kind: what payment lines settle on invoices, in their currency


def _deductions(line: Mapping[str, Any], key: str, invoice: str | None, currency: str | None,
                foreign: bool, day: str | None, cancelled: bool,
                where: str) -> list[Application]:
    """The cash discount and withholding tax a payment line settles on its invoice, each as its
    own application (key <line key>-discount / -withholding, method `cash discount` /
    `withholding tax`), in the invoice's currency.

    Why: SAP closes the invoice when SumApplied + discount + withholding cover it, while HubSpot's
    balance due is billed minus the associated payments: without these the discount would stay
    due in HubSpot. The money payment stays SumApplied (what the customer paid)."""
    out = []
    for name, suffix, method in DEDUCTIONS:
        value = doc_amount(line | {"DocCurrency": currency}, name, foreign, where) or 0.0
        if value > 0.005:
            out.append(Application(
                f"{key}-{suffix}", invoice, 0.0 if cancelled else round(value, 2), day,
                currency, f"{method} on invoice {invoice}",
                round(field_num(line, name) or 0.0, 2), method))
    return out


def payment_hash(mode: str, bodies: Mapping[str, Mapping[str, Any]]) -> str:
    """Ledger hash of a SAP payment's HubSpot payments, leaving out `hs_currency_code`: a line
    follows its invoice's currency, which the target may learn only after writing the line
    (payment before invoice; the invoices sink sets it then), so knowing it later is no change
    to write again."""
    return content_hash([mode, {key: {p: v for p, v in body.items() if p != "hs_currency_code"}
                                for key, body in bodies.items()}])


def map_payment(record: Mapping[str, Any], app: Application,
                namespace: str | None = None, local: str | None = None) -> dict[str, Any]:
    """A payment application as a commerce payment (upsert key `sap_payment_key`), in the
    currency of the invoice it pays (else the payment's). Paying an invoice whose currency the
    target has not seen yet (`app.currency` ""), the currency is left unset here and set when
    the invoice is synced (sinks/invoices.py, with the pending link)."""
    currency = app.currency if app.currency is not None else text(record.get("DocCurrency"))
    cancelled = is_cancelled(record)
    return _clean({
        "sap_payment_key": namespaced(namespace, app.source_key),
        "hs_initial_amount": app.amount,
        "hs_initiated_date": sap_datetime(record.get("DocDate")),
        "hs_currency_code": currency.upper() if currency else None,
        "hs_payment_method": app.method or payment_method(record, local),
        "hs_reference_number": text(record.get("TransferReference")),
        "hs_latest_status": "succeeded",
        "hs_internal_comment": (f"Cancelled in SAP (payment {text(record.get('DocNum'))})"
                                if cancelled else None),
        "sap_payment_doc_num": text(record.get("DocNum")),
        "sap_card_code": text(record.get("CardCode")),
        "sap_invoice_doc_entry": app.invoice_key,
        "sap_payment_total": payment_total(record, local),
        "sap_applied_to": app.applied_to,
        "sap_applied_local": money(app.local_amount),
        "sap_cancelled": boolean(cancelled),
    })


CREDIT_PAYMENT_PREFIX = "credit-"  # sap_payment_key of a credit as a HubSpot payment
CREDIT_NOTE_METHOD = "credit note"


def map_credit_payment(record: Mapping[str, Any], app: Application,
                       namespace: str | None = None) -> dict[str, Any]:
    """A credit note's amount on one invoice as a HubSpot payment (method `credit note`,
    upsert key `sap_payment_key` = credit-<CN DocEntry>-<invoice DocEntry>), in the invoice's
    currency. Why a payment: HubSpot has no credit note object, and a payment associated with
    an invoice is what lowers the invoice's balance due (payments guide)."""
    doc_num = text(record.get("DocNum"))
    return _clean({
        "sap_payment_key": namespaced(namespace, CREDIT_PAYMENT_PREFIX + app.source_key),
        "hs_initial_amount": app.amount,
        "hs_initiated_date": sap_datetime(record.get("DocDate")),
        "hs_currency_code": app.currency or None,
        "hs_payment_method": CREDIT_NOTE_METHOD,
        "hs_latest_status": "succeeded",
        "hs_internal_comment": (f"Cancelled in SAP (credit note {doc_num})"
                                if is_cancelled(record) else None),
        "sap_card_code": text(record.get("CardCode")),
        "sap_invoice_doc_entry": app.invoice_key,
        "sap_applied_to": f"credit note {doc_num}",
        "sap_cancelled": boolean(is_cancelled(record)),
    })


def credit_applications(record: Mapping[str, Any],
                        local: str | None = None) -> list[Application]:
    """How much of a credit note goes to each invoice it is based on (BaseType 13), in the
    credit note's currency (which is its base invoice's).

    Lines are summed per base invoice and grossed up by the total / sum of line totals, so
    tax is credited in the same proportion. A cancelled credit note credits nothing; SAP's
    cancellation document (csCancellation) is no credit at all (empty list).
    """
    entry = text(record.get("DocEntry"))
    if not entry:
        raise MappingError("credit note without DocEntry")
    if is_cancellation(record):
        return []
    what = f"credit note {record.get('DocNum')}"
    foreign = is_foreign(record, local)
    currency = (text(record.get("DocCurrency")) or "").upper() or None
    per_invoice: dict[str, float] = {}
    lines_total = 0.0
    for line in record.get("DocumentLines") or []:
        amount = doc_amount(line | {"DocCurrency": currency}, "LineTotal", foreign,
                            f"{what} line {line.get('LineNum')}") or 0.0
        lines_total += amount
        if str(line.get("BaseType")) == "13" and line.get("BaseEntry") is not None:
            key = str(line.get("BaseEntry"))
            per_invoice[key] = per_invoice.get(key, 0.0) + amount
    total = document_money(record, local, what).total or lines_total
    factor = total / lines_total if lines_total else 1.0
    day = sap_date(record.get("DocDate"))
    cancelled = is_cancelled(record)
    return [Application(f"{entry}-{key}", key, 0.0 if cancelled else round(v * factor, 2), day,
                        currency)
            for key, v in sorted(per_invoice.items())]


# -- settings-driven renames -----------------------------------------------------------------
def apply_property_map(object_type: str, props: dict[str, Any], record: Mapping[str, Any],
                       property_map: Mapping[str, Mapping[str, str | None]] | None
                       ) -> dict[str, Any]:
    """Rename/drop default properties and copy extra SAP fields, per `property_map`."""
    rules = (property_map or {}).get(object_type) or {}
    if not rules:
        return props
    out = dict(props)
    for source, target in rules.items():
        if source.startswith("field:"):
            value = record.get(source[len("field:"):])
            if target and value is not None:
                if isinstance(value, float) and not math.isfinite(value):
                    raise MappingError(f"{source[len('field:'):]}: not a finite number: {value!r}")
                out[target] = text(value) if not isinstance(value, int | float) else value
            continue
        if source == UNIQUE_KEYS.get(object_type) or source not in out:
            continue
        value = out.pop(source)
        if target:
            out[target] = value
    return out


def validate_local_currency(value: Any) -> list[str]:
    """The `local_currency` setting, checked before the first record (one line when wrong)."""
    if value in (None, ""):
        return []
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        return [f"local_currency: {value!r} is not a currency code; set the SAP company's local "
                "currency as three letters (e.g. USD), or leave it unset"]
    return []


def validate_maps(object_map: Mapping[str, str], property_map: Mapping[str, Any]) -> list[str]:
    """Problems with the two map settings, one line each (empty when fine)."""
    problems = [f"object_map: stream {s!r} maps to {h!r}; use one of {', '.join(HANDLERS)}"
                for s, h in object_map.items() if h not in HANDLERS]
    for obj, rules in (property_map or {}).items():
        if obj not in CUSTOM_PROPERTIES:
            problems.append(f"property_map: unknown HubSpot object {obj!r}; use one of "
                            f"{', '.join(CUSTOM_PROPERTIES)}")
            continue
        if not isinstance(rules, Mapping):
            problems.append(f"property_map.{obj} must be an object of name → name")
            continue
        if UNIQUE_KEYS.get(obj) in rules:
            problems.append(f"property_map.{obj}: {UNIQUE_KEYS[obj]} is the upsert key and "
                            "cannot be renamed or dropped")
    return problems


def custom_definitions(object_type: str,
                       property_map: Mapping[str, Mapping[str, str | None]] | None
                       ) -> list[dict]:
    """Definitions of every custom property the map writes for one object type."""
    rules = (property_map or {}).get(object_type) or {}
    out: dict[str, dict] = {}
    for spec in CUSTOM_PROPERTIES.get(object_type, []):
        keep = spec.name not in rules or spec.name == UNIQUE_KEYS.get(object_type)
        name = spec.name if keep else rules[spec.name]
        if name:
            out[name] = spec.definition(name)
    for source, target in rules.items():
        if source.startswith("field:") and target and target not in out:
            out[target] = PropertySpec(target, source[len("field:"):]).definition(target)
    return list(out.values())
