"""Invoice rules from HubSpot's invoices guide: `hs_currency` is required to create one, it
starts as a draft, and it can leave draft (open, paid, voided) only once a contact and at least one
line item are associated (developers.hubspot.com,
guides/api/crm/commerce/create-update-delete-invoices).

HubSpot publishes no error text for these two rules; the sandbox answers with its usual
`Property values were not valid` VALIDATION_ERROR naming the property (README.md says so).
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
    status = plan.props.get("hs_invoice_status")
    current = "draft" if creating else plan.record.properties.get("hs_invoice_status", "draft")
    if status and status != "draft" and current == "draft":
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
