"""One sink per kind of SAP document; `SINKS` maps the `object_map` handler names to them."""

from target_hubspot_finance.sinks.base import HubSpotSink
from target_hubspot_finance.sinks.companies import CompaniesSink
from target_hubspot_finance.sinks.credit_notes import CreditNotesSink
from target_hubspot_finance.sinks.ignored import IgnoredSink
from target_hubspot_finance.sinks.invoices import InvoicesSink
from target_hubspot_finance.sinks.payments import PaymentsSink

SINKS: dict[str, type[HubSpotSink]] = {
    "companies": CompaniesSink,
    "invoices": InvoicesSink,
    "credit_notes": CreditNotesSink,
    "payments": PaymentsSink,
    "ignore": IgnoredSink,
}

__all__ = ["SINKS", "HubSpotSink"]
