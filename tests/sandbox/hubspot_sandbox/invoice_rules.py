"""Invoice rules from HubSpot's invoices guide: `hs_currency` is required to create one, it
starts as a draft, and it can leave draft (open, paid, voided) only once a contact and at least one
line item are associated (developers.hubspot.com,
guides/api/crm/commerce/create-update-delete-invoices).

HubSpot publishes no error text for these two rules; the sandbox answers with its usual
`Property values were not valid` VALIDATION_ERROR naming the property (README.md says so).

Undocumented either way, so switched (`store.Switches`, README.md "Switches"): creating an
invoice already open in one call, writing `paid` directly, and an `hs_currency` that is a
HubSpot currency but not one of the account's (knowledge base: an invoice's currency is one set
up for the account). Refusals use the same VALIDATION_ERROR body naming the property.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors

if TYPE_CHECKING:
    from .catalog import ObjectType
    from .objects_api import Plan
    from .store import Portal


def check(portal: Portal, otype: ObjectType, plan: Plan) -> None:
    if otype.name != "invoices":
        return
    problems: list[dict] = []
    creating = plan.record is None
    if creating and not plan.props.get("hs_currency"):
        problems.append({"name": "hs_currency", "error": "REQUIRED_PROPERTY",
                         "message": "hs_currency is required to create an invoice"})
    currency = plan.props.get("hs_currency")
    if (currency and currency not in portal.currencies
            and portal.switches.unset_currency == "refuse"):
        problems.append({"name": "hs_currency", "error": "INVALID_OPTION", "value": currency,
                         "message": f"{currency} was not one of the allowed options: "
                                    f"[{', '.join(portal.currencies)}]"})
    status = plan.props.get("hs_invoice_status")
    current = "draft" if creating else plan.record.properties.get("hs_invoice_status", "draft")
    if creating and status and status != "draft" and not portal.switches.open_on_create:
        problems.append({
            "name": "hs_invoice_status", "error": "INVALID_INVOICE_STATUS", "value": status,
            "message": "An invoice is created as draft: create it, associate a contact and line "
                       "items, then update hs_invoice_status"})
    elif status == "paid" and current != "paid" and not portal.switches.paid_settable:
        problems.append({
            "name": "hs_invoice_status", "error": "INVALID_INVOICE_STATUS", "value": status,
            "message": "hs_invoice_status cannot be set to paid: an invoice is paid when payments "
                       "covering its balance are recorded"})
    if status and status != "draft" and current == "draft" and not any(
            p["name"] == "hs_invoice_status" for p in problems):
        linked = {t for t, _id, _type in plan.associations}
        if not creating:
            for to_type in ("contacts", "line_items"):
                if portal.associated("invoices", plan.record.id, to_type):
                    linked.add(to_type)
        missing = [t for t in ("contacts", "line_items") if t not in linked]
        if missing:
            problems.append({
                "name": "hs_invoice_status", "error": "INVALID_INVOICE_STATUS", "value": status,
                "message": f"An invoice can only leave draft once a contact and at least one line "
                           f"item are associated (missing: {', '.join(missing)})"})
    if problems:
        raise errors.property_errors(problems, portal.portal_id)


def _amount(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def recompute(portal: Portal, invoice_id: int) -> None:
    """Keep an invoice's calculated amounts in step with its line items and payments.

    hs_amount_billed = sum of associated line items' amount; hs_amount_paid = sum of associated
    payments' hs_initial_amount; hs_balance_due = billed - paid. An open invoice whose balance
    reaches zero becomes paid: HubSpot's payments guide says associating an external payment
    with an invoice is how it is marked paid.
    """
    rec = portal.types["invoices"].records.get(invoice_id)
    if rec is None:
        return
    lines = portal.types["line_items"].records
    payments = portal.types["commerce_payments"].records
    billed = sum(_amount(lines[i].properties.get("amount"))
                 for i in portal.associated("invoices", invoice_id, "line_items") if i in lines)
    paid = sum(_amount(payments[i].properties.get("hs_initial_amount"))
               for i in portal.associated("invoices", invoice_id, "commerce_payments")
               if i in payments)
    props = rec.properties
    props["hs_amount_billed"] = _fmt(billed)
    props["hs_amount_paid"] = _fmt(paid)
    props["hs_balance_due"] = _fmt(billed - paid)
    if props.get("hs_invoice_status") == "open" and paid > 0 and billed - paid <= 1e-9:
        props["hs_invoice_status"] = "paid"


def _fmt(value: float) -> str:
    rounded = round(float(value), 6)
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)
