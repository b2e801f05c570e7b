"""incoming_payments: customer payments with PaymentInvoices nested (key DocEntry)."""

from __future__ import annotations

from tap_sapb1.client import IncrementalStream
from tap_sapb1.schemas import INCOMING_PAYMENT


class IncomingPaymentsStream(IncrementalStream):
    """IncomingPayments; each PaymentInvoices item names the invoice (DocEntry) it settles."""

    name = "incoming_payments"
    entity_set = "IncomingPayments"
    key_field = "DocEntry"
    primary_keys = ("DocEntry",)
    schema = INCOMING_PAYMENT
