"""business_partners: customers, suppliers and leads (BusinessPartners, key CardCode)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_sapb1.client import IncrementalStream
from tap_sapb1.schemas import BUSINESS_PARTNER

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class BusinessPartnersStream(IncrementalStream):
    """BusinessPartners with ContactEmployees and BPAddresses nested."""

    name = "business_partners"
    entity_set = "BusinessPartners"
    key_field = "CardCode"
    primary_keys = ("CardCode",)
    schema = BUSINESS_PARTNER
    derived_fields = ("sap_updated_at", "PaymentTermsName")

    @property
    def needed_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        """UpdateDate/UpdateTime always; PayTermsGrpCode too when names are added."""
        extra = ("PayTermsGrpCode",) if self.config.get("enrich_line_items") else ()
        return ("UpdateDate", "UpdateTime", *extra)

    def post_process(self, row: dict, context: Context | None = None) -> dict[str, Any] | None:
        """Add sap_updated_at and, with enrich_line_items, PaymentTermsName."""
        row = super().post_process(row, context) or row
        if self.config.get("enrich_line_items"):
            names = self._sap_tap.reference_names
            row["PaymentTermsName"] = names.payment_terms_name(row.get("PayTermsGrpCode"))
        return row
