"""business_partners: customers, suppliers and leads (BusinessPartners, key CardCode)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_sapb1.discovery import LiveSchema
from tap_sapb1.incremental import IncrementalStream
from tap_sapb1.schemas import BUSINESS_PARTNER

if TYPE_CHECKING:
    from tap_sapb1.enrichment import ReferenceNames


class BusinessPartnersStream(LiveSchema, IncrementalStream):
    """BusinessPartners with ContactEmployees and BPAddresses nested."""

    name = "business_partners"
    entity_set = "BusinessPartners"
    key_field = "CardCode"
    primary_keys = ("CardCode",)
    curated_schema = BUSINESS_PARTNER
    derived_fields = ("sap_updated_at", "PaymentTermsName")
    enrichment_wanted = ("PayTermsGrpCode",)

    def enrich(self, row: dict, names: ReferenceNames) -> None:
        """PaymentTermsName from the partner's PayTermsGrpCode."""
        row["PaymentTermsName"] = names.payment_terms_name(row.get("PayTermsGrpCode"))
