"""The tap's streams, in the order a run reads them."""

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
