"""Reference sets, read whole each run (FULL_TABLE); also the source of enrichment names."""

from __future__ import annotations

from tap_sapb1.client import FullTableStream
from tap_sapb1.discovery import LiveSchema
from tap_sapb1.schemas import CHART_OF_ACCOUNTS, PAYMENT_TERMS_TYPES, PROFIT_CENTERS


class ChartOfAccountsStream(LiveSchema, FullTableStream):
    """G/L accounts (ChartOfAccounts, key Code)."""

    name = "chart_of_accounts"
    entity_set = "ChartOfAccounts"
    key_field = "Code"
    primary_keys = ("Code",)
    curated_schema = CHART_OF_ACCOUNTS


class ProfitCentersStream(LiveSchema, FullTableStream):
    """Profit centers (ProfitCenters, key CenterCode)."""

    name = "profit_centers"
    entity_set = "ProfitCenters"
    key_field = "CenterCode"
    primary_keys = ("CenterCode",)
    curated_schema = PROFIT_CENTERS


class PaymentTermsTypesStream(LiveSchema, FullTableStream):
    """Payment terms (PaymentTermsTypes, key GroupNumber)."""

    name = "payment_terms_types"
    entity_set = "PaymentTermsTypes"
    key_field = "GroupNumber"
    primary_keys = ("GroupNumber",)
    curated_schema = PAYMENT_TERMS_TYPES
