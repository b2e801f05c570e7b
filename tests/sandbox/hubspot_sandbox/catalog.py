"""What a fresh HubSpot portal holds: object types, built-in properties, default association types.

Facts come from developers.hubspot.com (object type ids, required properties, scopes) and from
/work/shared/reference/api-facts.md; README.md lists the source of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type and the names HubSpot gives it in paths, errors and scopes."""

    name: str  # path name, e.g. "companies"
    type_id: str  # e.g. "0-2"
    upper: str  # label used in HubSpot error messages, e.g. "COMPANY"
    singular: str  # e.g. "Company" (409 CONFLICT message)
    scope: str  # scope stem: crm.objects.<scope>.read / crm.schemas.<scope>.write
    create_prop: str  # system property holding the create date
    modified_prop: str  # system property holding the last-modified date
    default_group: str
    default_read: tuple[str, ...]  # properties returned when a read names none
    extra_write_scopes: tuple[str, ...] = field(default=())  # legacy scopes also accepted


OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType("companies", "0-2", "COMPANY", "Company", "companies", "createdate",
                   "hs_lastmodifieddate", "companyinformation",
                   ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name")),
        ObjectType("contacts", "0-1", "CONTACT", "Contact", "contacts", "createdate",
                   "lastmodifieddate", "contactinformation",
                   ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
                    "lastname")),
        ObjectType("deals", "0-3", "DEAL", "Deal", "deals", "createdate", "hs_lastmodifieddate",
                   "dealinformation",
                   ("amount", "closedate", "createdate", "dealname", "dealstage",
                    "hs_lastmodifieddate", "hs_object_id", "pipeline")),
        ObjectType("invoices", "0-53", "INVOICE", "Invoice", "invoices", "hs_createdate",
                   "hs_lastmodifieddate", "invoiceinformation",
                   ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")),
        ObjectType("line_items", "0-8", "LINE_ITEM", "Line item", "line_items", "createdate",
                   "hs_lastmodifieddate", "lineiteminformation",
                   ("createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price",
                    "quantity"),
                   extra_write_scopes=("e-commerce",)),
        # Scope stem `commercepayments`: HubSpot's payments API reference lists
        # crm.objects.commercepayments.read/.write (api-facts.md, "Payments").
        ObjectType("commerce_payments", "0-101", "COMMERCE_PAYMENT", "Payment",
                   "commercepayments", "hs_createdate", "hs_lastmodifieddate",
                   "paymentinformation",
                   ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")),
    )
}

_ALIASES: dict[str, str] = {}
for _t in OBJECT_TYPES.values():
    for _alias in (_t.name, _t.type_id, _t.name.rstrip("s"), _t.upper.lower()):
        _ALIASES[_alias.lower()] = _t.name
_ALIASES["company"] = "companies"
_ALIASES["line_item"] = "line_items"
_ALIASES["lineitems"] = "line_items"
_ALIASES["payments"] = "commerce_payments"
_ALIASES["commerce_payment"] = "commerce_payments"


def resolve_type(raw: str) -> ObjectType | None:
    """Map a path segment (name, singular, or type id such as 0-53) to its object type."""
    name = _ALIASES.get(raw.lower())
    return OBJECT_TYPES[name] if name else None


# ISO 4217 codes offered by hs_currency / hs_currency_code (a portal lists the currencies it
# enabled; the sandbox enables the common ones so SAP documents in any of them validate).
CURRENCIES = (
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "HKD", "SGD", "INR", "BRL",
    "MXN", "ZAR", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "ILS", "AED", "SAR", "TRY", "KRW",
    "RON", "BGN", "THB", "MYR", "IDR", "PHP", "ARS", "CLP", "COP", "PEN",
)


def _prop(name: str, label: str, type_: str = "string", field_type: str | None = None,
          options: tuple[str, ...] = (), read_only: bool = False, unique: bool = False,
          calculated: bool = False) -> dict:
    """A property definition in the shape the properties API returns."""
    default_field = {"string": "text", "number": "number", "date": "date", "datetime": "date",
                     "enumeration": "select", "bool": "booleancheckbox",
                     "phone_number": "phonenumber"}[type_]
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type or default_field,
        "description": "",
        "options": [
            {"label": o, "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "hasUniqueValue": unique,
        "hidden": False,
        "hubspotDefined": True,
        "calculated": calculated,
        "externalOptions": False,
        "formField": not read_only,
        "displayOrder": -1,
        "modificationMetadata": {"archivable": False, "readOnlyDefinition": True,
                                 "readOnlyValue": read_only},
    }


def _system(create_prop: str, modified_prop: str) -> list[dict]:
    return [
        _prop("hs_object_id", "Record ID", "number", read_only=True),
        _prop(create_prop, "Create Date", "datetime", read_only=True),
        _prop(modified_prop, "Last Modified Date", "datetime", read_only=True),
    ]


LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
             "customer", "evangelist", "other")
DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")
INVOICE_STATUSES = ("draft", "open", "paid", "voided")


def builtin_properties() -> dict[str, list[dict]]:
    """Built-in properties per object type (a fresh copy each call: sandboxes mutate them)."""
    return {
        "companies": [*_system("createdate", "hs_lastmodifieddate"),
            _prop("name", "Company name"),
            _prop("domain", "Company Domain Name"),
            _prop("website", "Website URL"),
            _prop("phone", "Phone Number", "string", "phonenumber"),
            _prop("address", "Street Address"),
            _prop("city", "City"),
            _prop("state", "State/Region"),
            _prop("zip", "Postal Code"),
            _prop("country", "Country/Region"),
            _prop("description", "Description", field_type="textarea"),
            _prop("industry", "Industry", "enumeration",
                  options=("ACCOUNTING", "BANKING", "COMPUTER_SOFTWARE", "CONSTRUCTION",
                           "CONSUMER_GOODS", "FINANCIAL_SERVICES",
                           "INFORMATION_TECHNOLOGY_AND_SERVICES", "MACHINERY", "RETAIL",
                           "WHOLESALE")),
            _prop("type", "Type", "enumeration",
                  options=("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
            _prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE),
            _prop("numberofemployees", "Number of Employees", "number"),
            _prop("annualrevenue", "Annual Revenue", "number"),
        ],
        "contacts": [*_system("createdate", "lastmodifieddate"),
            _prop("email", "Email", unique=True),
            _prop("firstname", "First Name"),
            _prop("lastname", "Last Name"),
            _prop("phone", "Phone Number", "string", "phonenumber"),
            _prop("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
            _prop("jobtitle", "Job Title"),
            _prop("company", "Company Name"),
            _prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE),
        ],
        "deals": [*_system("createdate", "hs_lastmodifieddate"),
            _prop("dealname", "Deal Name"),
            _prop("amount", "Amount", "number"),
            _prop("closedate", "Close Date", "datetime"),
            _prop("pipeline", "Pipeline", "enumeration", options=("default",)),
            _prop("dealstage", "Deal Stage", "enumeration", "radio", DEAL_STAGES),
            _prop("deal_currency_code", "Currency", "enumeration", options=CURRENCIES),
        ],
        "invoices": [*_system("hs_createdate", "hs_lastmodifieddate"),
            _prop("hs_currency", "Currency", "enumeration", options=CURRENCIES),
            _prop("hs_invoice_status", "Invoice status", "enumeration", options=INVOICE_STATUSES),
            _prop("hs_invoice_date", "Invoice date", "date"),
            _prop("hs_due_date", "Due date", "date"),
            _prop("hs_title", "Title"),
            _prop("hs_number", "Invoice number"),
            _prop("hs_purchase_order_number", "Purchase order number"),
            _prop("hs_comments", "Comments", field_type="textarea"),
            _prop("hs_tax_id", "Tax ID"),
            _prop("hs_allow_partial_payments", "Allow partial payments", "bool"),
            _prop("hs_amount_billed", "Amount billed", "number", read_only=True, calculated=True),
            _prop("hs_amount_paid", "Amount paid", "number", read_only=True, calculated=True),
            _prop("hs_balance_due", "Balance due", "number", read_only=True, calculated=True),
        ],
        "line_items": [*_system("createdate", "hs_lastmodifieddate"),
            _prop("name", "Name"),
            _prop("description", "Description", field_type="textarea"),
            _prop("quantity", "Quantity", "number"),
            _prop("price", "Unit price", "number"),
            _prop("amount", "Net price", "number", read_only=True, calculated=True),
            _prop("hs_sku", "SKU"),
            _prop("hs_product_id", "Product ID", "number"),
            _prop("discount", "Unit discount", "number"),
            _prop("hs_discount_percentage", "Discount percentage", "number"),
            _prop("hs_line_item_currency_code", "Currency", "enumeration", options=CURRENCIES),
            _prop("hs_position_on_quote", "Position on quote", "number"),
        ],
        "commerce_payments": [*_system("hs_createdate", "hs_lastmodifieddate"),
            _prop("hs_initial_amount", "Gross amount", "number"),
            _prop("hs_initiated_date", "Payment date", "datetime"),
            _prop("hs_currency_code", "Currency", "enumeration", options=CURRENCIES),
            _prop("hs_payment_method", "Payment method"),
            _prop("hs_reference_number", "Reference number"),
            _prop("hs_internal_comment", "Internal comment", field_type="textarea"),
            _prop("hs_latest_status", "Status", "enumeration",
                  options=("succeeded", "processing", "failed", "refunded")),
        ],
    }


DEFAULT_GROUPS = {
    t.name: [{"name": t.default_group, "label": f"{t.singular} information",
              "displayOrder": -1, "archived": False}]
    for t in OBJECT_TYPES.values()
}

# HubSpot-defined default (unlabelled) association type ids, (from, to) -> type id; the reverse
# direction is the (to, from) entry. These are what `.../associate/default` writes.
DEFAULT_ASSOCIATIONS: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279, ("companies", "contacts"): 280,
    ("deals", "contacts"): 3, ("contacts", "deals"): 4,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("invoices", "contacts"): 177, ("contacts", "invoices"): 178,
    ("invoices", "companies"): 179, ("companies", "invoices"): 180,
    ("invoices", "deals"): 175, ("deals", "invoices"): 176,
    ("invoices", "line_items"): 409, ("line_items", "invoices"): 410,
    ("deals", "line_items"): 19, ("line_items", "deals"): 20,
    ("invoices", "commerce_payments"): 541, ("commerce_payments", "invoices"): 542,
    ("companies", "commerce_payments"): 390, ("commerce_payments", "companies"): 389,
    ("contacts", "commerce_payments"): 387, ("commerce_payments", "contacts"): 388,
}

# Labelled HubSpot-defined types: (from, to, type id, reverse id, label).
LABELLED_ASSOCIATIONS: tuple[tuple[str, str, int, int, str], ...] = (
    ("contacts", "companies", 1, 2, "Primary"),
    ("deals", "companies", 5, 6, "Primary"),
)


def association_pair(from_type: str, to_type: str, type_id: int) -> int | None:
    """The reverse type id HubSpot writes for the other direction, or None if unknown."""
    if DEFAULT_ASSOCIATIONS.get((from_type, to_type)) == type_id:
        return DEFAULT_ASSOCIATIONS.get((to_type, from_type))
    for f, t, tid, rev, _label in LABELLED_ASSOCIATIONS:
        if (f, t, tid) == (from_type, to_type, type_id):
            return rev
        if (t, f, rev) == (from_type, to_type, type_id):
            return tid
    return None


def association_target(from_type: str, type_id: int) -> str | None:
    """The object type a HubSpot-defined association type id points to from `from_type`."""
    for (f, t), tid in DEFAULT_ASSOCIATIONS.items():
        if f == from_type and tid == type_id:
            return t
    for f, t, tid, rev, _label in LABELLED_ASSOCIATIONS:
        if f == from_type and tid == type_id:
            return t
        if t == from_type and rev == type_id:
            return f
    return None


def association_label(from_type: str, to_type: str, type_id: int) -> str | None:
    for f, t, tid, rev, label in LABELLED_ASSOCIATIONS:
        if (f, t, tid) == (from_type, to_type, type_id) or (t, f, rev) == (
                from_type, to_type, type_id):
            return label
    return None
