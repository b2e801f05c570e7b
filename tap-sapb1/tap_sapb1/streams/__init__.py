"""The tap's streams; STREAM_TYPES is the order they sync in (TapSAPB1.load_streams)."""

from tap_sapb1.streams.business_partners import BusinessPartnersStream
from tap_sapb1.streams.documents import CreditNotesStream, InvoicesStream
from tap_sapb1.streams.payments import IncomingPaymentsStream
from tap_sapb1.streams.reference import (
    ChartOfAccountsStream,
    PaymentTermsTypesStream,
    ProfitCentersStream,
)

STREAM_TYPES = (
    BusinessPartnersStream, InvoicesStream, CreditNotesStream, IncomingPaymentsStream,
    ChartOfAccountsStream, ProfitCentersStream, PaymentTermsTypesStream,
)

__all__ = ["STREAM_TYPES"]
