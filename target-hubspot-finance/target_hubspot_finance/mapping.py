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
from collections.abc import Mapping
from dataclasses import dataclass
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
    "invoices": "sap_doc_num",
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
        _s("sap_doc_num", "SAP document number", unique=True), _s("sap_doc_entry", "SAP DocEntry"),
        _s("sap_card_code", "SAP customer code"), _n("sap_doc_total", "SAP document total"),
        _n("sap_vat_sum", "SAP tax amount"), _n("sap_paid_to_date", "SAP paid to date"),
        _n("sap_open_balance", "SAP open balance"), _s("sap_document_status", "SAP status"),
        _b("sap_cancelled", "SAP cancelled"), _b("sap_is_overdue", "SAP overdue"),
        _n("sap_credited_amount", "SAP credited amount"),
        _s("sap_credit_note_numbers", "SAP credit notes"),
        _n("sap_payment_count", "SAP payment count"),
        _d("sap_last_payment_date", "SAP last payment date"),
    ],
    "line_items": [
        _s("sap_line_key", "SAP line key", unique=True), _s("sap_doc_num", "SAP document number"),
        _n("sap_line_total", "SAP line total"), _s("sap_tax_code", "SAP tax code"),
        _s("sap_account_code", "SAP G/L account"), _s("sap_account_name", "SAP G/L account name"),
        _s("sap_profit_center", "SAP profit center"),
        _s("sap_profit_center_name", "SAP profit center name"),
    ],
    "commerce_payments": [
        _s("sap_payment_key", "SAP payment key", unique=True),
        _s("sap_payment_doc_num", "SAP payment number"),
        _s("sap_card_code", "SAP customer code"),
        _s("sap_invoice_doc_entry", "SAP invoice DocEntry"),
        _n("sap_payment_total", "SAP payment total"), _b("sap_cancelled", "SAP cancelled"),
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
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise MappingError(f"not a date: {value!r}")
    return text


def sap_datetime(value: Any) -> str | None:
    """An ISO datetime at UTC midnight for a SAP date (HubSpot datetime form)."""
    day = sap_date(value)
    return f"{day}T00:00:00.000Z" if day else None


def num(value: Any) -> float | None:
    """A JSON number (or numeric text) as float; None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise MappingError(f"not a number: {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MappingError(f"not a number: {value!r}") from None


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
        "sap_credit_limit": money(num(record.get("CreditLimit"))),
        "sap_max_commitment": money(num(record.get("MaxCommitment"))),
        "sap_balance": money(num(record.get("CurrentAccountBalance"))),
        "sap_open_orders_balance": money(num(record.get("OpenOrdersBalance"))),
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


# -- invoices and line items ---------------------------------------------------------------
def invoice_status(record: Mapping[str, Any], credited: float = 0.0) -> str:
    """HubSpot status from SAP: cancelled or fully credited → voided; closed or paid in full →
    paid; else open. (Draft is decided later: HubSpot needs a contact and line items.)"""
    total = num(record.get("DocTotal")) or 0.0
    paid = num(record.get("PaidToDate")) or 0.0
    if yes(record.get("Cancelled")):
        return "voided"
    if total > 0 and credited >= total - 0.005:
        return "voided"
    if record.get("DocumentStatus") == "bost_Close" or (total > 0 and paid >= total - 0.005):
        return "paid"
    return "open"


def map_invoice(record: Mapping[str, Any], namespace: str | None = None,
                credits: Any = None, payments: Any = None) -> dict[str, Any]:
    """An A/R invoice as invoice properties (upsert key `sap_doc_num`).

    `credits`/`payments` are ledger totals (`Ledger.application_totals`) or None.
    """
    doc_num = text(record.get("DocNum"))
    if not doc_num:
        raise MappingError("invoice without DocNum")
    currency = text(record.get("DocCurrency"))
    if not currency:
        raise MappingError(f"invoice {doc_num} has no DocCurrency (HubSpot needs hs_currency)")
    total = num(record.get("DocTotal"))
    paid = num(record.get("PaidToDate")) or 0.0
    open_amount = num(record.get("OpenAmount"))
    if open_amount is None and total is not None:
        open_amount = total - paid
    credited = credits.amount if credits else 0.0
    props = {
        "sap_doc_num": namespaced(namespace, doc_num),
        "sap_doc_entry": text(record.get("DocEntry")),
        "sap_card_code": text(record.get("CardCode")),
        "hs_currency": currency.upper(),
        "hs_invoice_date": sap_date(record.get("DocDate")),
        "hs_due_date": sap_date(record.get("DocDueDate")),
        "hs_title": f"SAP invoice {doc_num}",
        "hs_purchase_order_number": text(record.get("NumAtCard")),
        "hs_comments": text(record.get("Comments")),
        "hs_invoice_status": invoice_status(record, credited),
        "sap_doc_total": money(total),
        "sap_vat_sum": money(num(record.get("VatSum"))),
        "sap_paid_to_date": money(paid),
        "sap_open_balance": money(open_amount),
        "sap_document_status": text(record.get("DocumentStatus")),
        "sap_cancelled": boolean(record.get("Cancelled")),
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
        quantity = num(line.get("Quantity"))
        price = num(line.get("UnitPrice") if line.get("UnitPrice") is not None
                    else line.get("Price"))
    except MappingError as exc:
        return str(exc)
    if quantity is None or price is None:
        return "line has no Quantity or price"
    return None


def map_line_item(record: Mapping[str, Any], line: Mapping[str, Any],
                  namespace: str | None = None) -> dict[str, Any]:
    """A document line as line item properties (upsert key `sap_line_key`).

    HubSpot computes `amount` = quantity * price * (1 - discount %), which is SAP's LineTotal
    when the price sent is SAP's UnitPrice (before discount) with DiscountPercent.
    """
    unit = line.get("UnitPrice") if line.get("UnitPrice") is not None else line.get("Price")
    return _clean({
        "sap_line_key": line_key(record, line, namespace),
        "name": text(line.get("ItemDescription")) or text(line.get("ItemCode")),
        "hs_sku": text(line.get("ItemCode")),
        "quantity": num(line.get("Quantity")),
        "price": num(unit),
        "hs_discount_percentage": num(line.get("DiscountPercent")) or None,
        "hs_line_item_currency_code": (text(line.get("Currency"))
                                       or text(record.get("DocCurrency")) or "").upper() or None,
        "hs_position_on_quote": num(line.get("LineNum")),
        "sap_doc_num": text(record.get("DocNum")),
        "sap_line_total": money(num(line.get("LineTotal"))),
        "sap_tax_code": text(line.get("TaxCode")),
        "sap_account_code": text(line.get("AccountCode")),
        "sap_account_name": text(line.get("AccountName")),
        "sap_profit_center": text(line.get("CostingCode")),
        "sap_profit_center_name": text(line.get("ProfitCenterName")),
    })


def map_tax_line(record: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any] | None:
    """SAP's VatSum as one more line item (`<DocEntry>-tax`), so HubSpot's billed amount and
    balance due equal SAP's DocTotal (document lines are net of tax). None without tax."""
    vat = num(record.get("VatSum"))
    if not vat:
        return None
    currency = text(record.get("DocCurrency"))
    return _clean({
        "sap_line_key": namespaced(namespace, f"{record.get('DocEntry')}-tax"),
        "name": "Tax", "quantity": 1.0, "price": money(vat),
        "hs_line_item_currency_code": currency.upper() if currency else None,
        "sap_doc_num": text(record.get("DocNum")), "sap_line_total": money(vat),
    })


# -- payments and credit notes -------------------------------------------------------------
@dataclass(frozen=True)
class Application:
    """One amount a SAP document applies: a payment to an invoice, a credit note to one."""

    source_key: str          # <DocEntry>-<LineNum> (or <DocEntry>-account)
    invoice_key: str | None  # the invoice's DocEntry, None for on-account money
    amount: float
    applied_on: str | None

    def row(self, card_code: str | None, doc_num: str | None) -> dict[str, Any]:
        return {"source_key": self.source_key, "invoice_key": self.invoice_key or "",
                "card_code": card_code, "doc_num": doc_num, "amount": self.amount,
                "applied_on": self.applied_on}


def payment_method(record: Mapping[str, Any]) -> str | None:
    sums = {"bank transfer": num(record.get("TransferSum")) or 0.0,
            "cash": num(record.get("CashSum")) or 0.0,
            "check": num(record.get("CheckSum")) or 0.0,
            "credit card": num(record.get("CreditSum")) or 0.0}
    best = max(sums, key=lambda k: sums[k])
    return best if sums[best] > 0 else None


def payment_total(record: Mapping[str, Any]) -> float:
    return round(sum(num(record.get(k)) or 0.0
                     for k in ("CashSum", "TransferSum", "CheckSum", "CreditSum")), 2)


def payment_applications(record: Mapping[str, Any]) -> list[Application]:
    """One application per invoice the payment pays; on-account money as one more.

    Lines against credit notes (`it_CredItnote`) only net the amount and are not HubSpot
    payments. A cancelled payment applies 0, so HubSpot's balance due comes back.
    """
    entry = text(record.get("DocEntry"))
    if not entry:
        raise MappingError("payment without DocEntry")
    day = sap_date(record.get("DocDate"))
    cancelled = yes(record.get("Cancelled"))
    out: list[Application] = []
    applied = 0.0
    for line in record.get("PaymentInvoices") or []:
        amount = num(line.get("SumApplied")) or 0.0
        if line.get("InvoiceType", "it_Invoice") != "it_Invoice":
            applied -= amount
            continue
        applied += amount
        out.append(Application(f"{entry}-{line.get('LineNum')}", text(line.get("DocEntry")),
                               0.0 if cancelled else round(amount, 2), day))
    rest = round(payment_total(record) - applied, 2)
    if rest > 0.005:
        out.append(Application(f"{entry}-account", None, 0.0 if cancelled else rest, day))
    return out


def map_payment(record: Mapping[str, Any], app: Application,
                namespace: str | None = None) -> dict[str, Any]:
    """A payment application as a commerce payment (upsert key `sap_payment_key`)."""
    currency = text(record.get("DocCurrency"))
    return _clean({
        "sap_payment_key": namespaced(namespace, app.source_key),
        "hs_initial_amount": app.amount,
        "hs_initiated_date": sap_datetime(record.get("DocDate")),
        "hs_currency_code": currency.upper() if currency else None,
        "hs_payment_method": payment_method(record),
        "hs_reference_number": text(record.get("TransferReference")),
        "hs_latest_status": "succeeded",
        "sap_payment_doc_num": text(record.get("DocNum")),
        "sap_card_code": text(record.get("CardCode")),
        "sap_invoice_doc_entry": app.invoice_key,
        "sap_payment_total": payment_total(record),
        "sap_cancelled": boolean(record.get("Cancelled")),
    })


def credit_applications(record: Mapping[str, Any]) -> list[Application]:
    """How much of a credit note goes to each invoice it is based on (BaseType 13).

    Lines are summed per base invoice and grossed up by DocTotal / sum(LineTotal), so tax is
    credited in the same proportion. A cancelled credit note credits nothing.
    """
    entry = text(record.get("DocEntry"))
    if not entry:
        raise MappingError("credit note without DocEntry")
    per_invoice: dict[str, float] = {}
    lines_total = 0.0
    for line in record.get("DocumentLines") or []:
        amount = num(line.get("LineTotal")) or 0.0
        lines_total += amount
        if str(line.get("BaseType")) == "13" and line.get("BaseEntry") is not None:
            key = str(line.get("BaseEntry"))
            per_invoice[key] = per_invoice.get(key, 0.0) + amount
    total = num(record.get("DocTotal")) or lines_total
    factor = total / lines_total if lines_total else 1.0
    day = sap_date(record.get("DocDate"))
    cancelled = yes(record.get("Cancelled"))
    return [Application(f"{entry}-{key}", key, 0.0 if cancelled else round(v * factor, 2), day)
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
                out[target] = text(value) if not isinstance(value, int | float) else value
            continue
        if source == UNIQUE_KEYS.get(object_type) or source not in out:
            continue
        value = out.pop(source)
        if target:
            out[target] = value
    return out


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
