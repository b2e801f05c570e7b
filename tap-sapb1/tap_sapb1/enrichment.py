"""Names for codes, looked up once per run from the reference entity sets.

With `enrich_line_items`, document lines get AccountName (ChartOfAccounts) and ProfitCenterName
(ProfitCenters), and business partners PaymentTermsName (PaymentTermsTypes). The sets are read
the first time a record needs them, whether or not their own streams are selected; a selected
reference stream emits the rows its lookup read (see `FullTableStream.lookup_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# lookup name -> (stream name, key field, name field)
LOOKUPS: dict[str, tuple[str, str, str]] = {
    "accounts": ("chart_of_accounts", "Code", "Name"),
    "profit_centers": ("profit_centers", "CenterCode", "CenterName"),
    "payment_terms": ("payment_terms_types", "GroupNumber", "PaymentTermsGroupName"),
}


class ReferenceNames:
    """Code -> name maps, each read at most once per run."""

    def __init__(self, read: Callable[[str, list[str]], list[dict]]) -> None:
        self._read = read  # (stream name, fields) -> rows
        self._maps: dict[str, dict[Any, str | None]] = {}

    def names(self, lookup: str) -> dict[Any, str | None]:
        """The code -> name map for one lookup (read on first use)."""
        if lookup not in self._maps:
            stream, key, name = LOOKUPS[lookup]
            self._maps[lookup] = {row.get(key): row.get(name)
                                  for row in self._read(stream, [key, name])}
        return self._maps[lookup]

    def load_from(self, stream: str) -> None:
        """Read now the lookups whose rows come from `stream` (its own sync then reuses them)."""
        for lookup, (source, _key, _name) in LOOKUPS.items():
            if source == stream:
                self.names(lookup)

    def enrich_lines(self, lines: list[dict] | None) -> None:
        """Add AccountName and ProfitCenterName to each document line (None when unknown)."""
        if not lines:
            return
        accounts = self.names("accounts")
        centers = self.names("profit_centers")
        for line in lines:
            line["AccountName"] = accounts.get(line.get("AccountCode"))
            line["ProfitCenterName"] = centers.get(line.get("CostingCode"))

    def payment_terms_name(self, code: Any) -> str | None:
        """The PaymentTermsTypes name of a PayTermsGrpCode (None when unknown or empty)."""
        if code is None:
            return None
        return self.names("payment_terms").get(code)
