"""invoices and credit_notes: A/R documents with DocumentLines nested (key DocEntry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_sapb1.client import IncrementalStream
from tap_sapb1.schemas import DOCUMENT

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class _DocumentStream(IncrementalStream):
    """An SAP marketing document; lines carry account and profit center names when enriched."""

    key_field = "DocEntry"
    primary_keys = ("DocEntry",)
    schema = DOCUMENT

    @property
    def needed_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        """UpdateDate/UpdateTime always; the lines too when their names are added."""
        extra = ("DocumentLines",) if self.config.get("enrich_line_items") else ()
        return ("UpdateDate", "UpdateTime", *extra)

    def post_process(self, row: dict, context: Context | None = None) -> dict[str, Any] | None:
        """Add sap_updated_at and, with enrich_line_items, the names on each line."""
        row = super().post_process(row, context) or row
        if self.config.get("enrich_line_items"):
            self._sap_tap.reference_names.enrich_lines(row.get("DocumentLines"))
        return row


class InvoicesStream(_DocumentStream):
    """A/R invoices (Invoices)."""

    name = "invoices"
    entity_set = "Invoices"


class CreditNotesStream(_DocumentStream):
    """A/R credit notes (CreditNotes); lines with BaseType 13 point at the credited invoice."""

    name = "credit_notes"
    entity_set = "CreditNotes"
