"""What every sink of one run shares: settings, the HubSpot client and its one rate limiter,
the ledger, the report, and the company resolver (invoices and payments both need it).

Why one object: the rate limit is per portal, so the limiter must be shared; the ledger
connection pool and the property set-up happen once. Sinks reach it through the target.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot import batches
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.properties import ensure_properties
from target_hubspot_finance.hubspot.rate_limit import RateLimiter
from target_hubspot_finance.ledger import Ledger
from target_hubspot_finance.report import Report

LOGGER = logging.getLogger("target_hubspot_finance")
ALL_OBJECTS = ("companies", "contacts", "invoices", "line_items", "commerce_payments")


@dataclass
class Runtime:
    """Shared state of one run. Build with `Runtime.from_config(config)`."""

    config: Mapping[str, Any]
    ledger: Ledger
    client: HubSpotClient
    report: Report
    _properties_ready: bool = field(default=False, init=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Runtime:
        if config.get("dry_run"):  # reads only; writes simulated and counted (dryrun.py)
            from target_hubspot_finance import dryrun

            return dryrun.build_runtime(cls, config)
        limiter = RateLimiter(int(config.get("rate_limit_per_10s") or 190))
        client = HubSpotClient(
            config.get("api_base_url") or "https://api.hubapi.com", config["access_token"],
            limiter, timeout=float(config.get("request_timeout") or 30),
            max_retries=int(config.get("max_retries", 5)),
            backoff_base=float(config.get("backoff_base_seconds") or 1.0))
        report = Report(float(config.get("progress_interval_seconds") or 30))
        client.on_call = report.tick  # a progress line even inside one long drain
        return cls(config=config, ledger=Ledger(config.get("ledger_url")), client=client,
                   report=report)

    # -- settings ---------------------------------------------------------------------------
    @property
    def namespace(self) -> str | None:
        return self.config.get("key_namespace") or None

    def key(self, value: Any) -> str:
        """A ledger / unique key, namespaced per SAP company when `key_namespace` is set."""
        return mapping.namespaced(self.namespace, value)

    @cached_property
    def property_map(self) -> dict:
        return dict(self.config.get("property_map") or {})

    @property
    def payments_mode(self) -> str:
        return self.config.get("payments_mode") or "commerce_payments"

    def object_types(self) -> list[str]:
        types = list(ALL_OBJECTS)
        if self.payments_mode != "commerce_payments":
            types.remove("commerce_payments")
        return types

    # -- start-up ---------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        """Create the property group and custom properties, once, before the first write.

        The ledger remembers that a portal got this exact set, so a later run that has
        something to write does not read the property lists again (and a run with nothing
        to write makes no HubSpot call at all).
        """
        if self._properties_ready:
            return
        wanted = {t: mapping.custom_definitions(t, self.property_map)
                  for t in self.object_types()}
        memo_key = self.client.base_url
        memo_hash = mapping.content_hash(wanted)
        known = self.ledger.lookup("_properties", [memo_key]).get(memo_key)
        if known is None or known.content_hash != memo_hash:
            ensure_properties(self.client, self.object_types(), self.property_map)
            self.ledger.record_synced("_properties", [(memo_key, "ok", memo_hash)])
        self._properties_ready = True

    def forget_properties(self) -> None:
        """A write met PROPERTY_DOESNT_EXIST (someone deleted one): check them all next run."""
        self.ledger.record_synced("_properties", [(self.client.base_url, "stale", None)])

    # -- companies for invoices and payments -----------------------------------------------
    def resolve_companies(self, names: Mapping[str, str | None]) -> dict[str, str]:
        """HubSpot company ids for SAP CardCodes, without per-record look-ups.

        Order: the ledger; then one batch read per 100 by `sap_card_code`; then, with
        `auto_create_companies`, one upsert per 100 of a minimal company (the full one
        follows when the business partner record arrives). Codes left out are missing.
        """
        codes = {c for c in names if c}
        keys = {self.key(c): c for c in codes}
        known = self.ledger.lookup("companies", keys)
        found = {keys[k]: s.hubspot_id for k, s in known.items()}
        todo = [k for k in keys if keys[k] not in found]
        if todo:
            self.ensure_ready()
            read = batches.read_by(self.client, "companies", "sap_card_code", todo)
            self.ledger.record_synced("companies", [(k, i, None) for k, i in read.items()])
            found.update({keys[k]: i for k, i in read.items()})
            todo = [k for k in todo if k not in read]
        if todo and self.config.get("auto_create_companies", True):
            stubs = {k: (k, mapping.stub_company(keys[k], names.get(keys[k]), self.namespace))
                     for k in todo}
            done = batches.upsert(self.client, "companies", "sap_card_code", stubs)
            self.ledger.record_synced("companies", [(k, i, None) for k, i in done.ids.items()])
            for key, hid in done.ids.items():
                found[keys[key]] = hid
                LOGGER.info("Created company %s in HubSpot (id %s) for a document that "
                            "arrived before its customer", keys[key], hid)
        return found

    def contacts_of(self, card_codes: Iterable[str]) -> dict[str, dict[str, str]]:
        """Per CardCode: {InternalCode: HubSpot contact id} from the ledger."""
        prefixes = {self.key(mapping.contact_key(c, "")): c for c in card_codes if c}
        found = self.ledger.lookup_prefix("contacts", prefixes)
        out: dict[str, dict[str, str]] = {}
        for key, synced in found.items():
            for prefix, code in prefixes.items():
                if key.startswith(prefix):
                    out.setdefault(code, {})[key[len(prefix):]] = synced.hubspot_id
        return out
