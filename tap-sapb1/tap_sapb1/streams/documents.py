"""invoices and credit_notes: A/R documents with DocumentLines nested (key DocEntry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_sapb1.discovery import LiveSchema
from tap_sapb1.incremental import IncrementalStream
from tap_sapb1.schemas import DOCUMENT

if TYPE_CHECKING:
    from tap_sapb1.enrichment import ReferenceNames


class _DocumentStream(LiveSchema, IncrementalStream):
    """An SAP marketing document; lines carry account and profit center names when enriched."""

    key_field = "DocEntry"
    primary_keys = ("DocEntry",)
    curated_schema = DOCUMENT
    enrichment_wanted = ("DocumentLines",)

    def enrich(self, row: dict, names: ReferenceNames) -> None:
        """AccountName and ProfitCenterName on each line."""
        names.enrich_lines(row.get("DocumentLines"))


class InvoicesStream(_DocumentStream):
    """A/R invoices (Invoices)."""

    name = "invoices"
    entity_set = "Invoices"


class CreditNotesStream(_DocumentStream):
    """A/R credit notes (CreditNotes); lines with BaseType 13 point at the credited invoice."""

    name = "credit_notes"
    entity_set = "CreditNotes"
