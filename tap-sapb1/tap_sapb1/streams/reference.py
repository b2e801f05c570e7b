"""Reference sets, read whole each run (FULL_TABLE); also the source of enrichment names."""

from __future__ import annotations

from tap_sapb1.client import FullTableStream
from tap_sapb1.schemas import CHART_OF_ACCOUNTS, PAYMENT_TERMS_TYPES, PROFIT_CENTERS


class ChartOfAccountsStream(FullTableStream):
    """G/L accounts (ChartOfAccounts, key Code)."""

    name = "chart_of_accounts"
    entity_set = "ChartOfAccounts"
    key_field = "Code"
    primary_keys = ("Code",)
    schema = CHART_OF_ACCOUNTS


class ProfitCentersStream(FullTableStream):
    """Profit centers (ProfitCenters, key CenterCode)."""

    name = "profit_centers"
    entity_set = "ProfitCenters"
    key_field = "CenterCode"
    primary_keys = ("CenterCode",)
    schema = PROFIT_CENTERS


class PaymentTermsTypesStream(FullTableStream):
    """Payment terms (PaymentTermsTypes, key GroupNumber)."""

    name = "payment_terms_types"
    entity_set = "PaymentTermsTypes"
    key_field = "GroupNumber"
    primary_keys = ("GroupNumber",)
    schema = PAYMENT_TERMS_TYPES
