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
from target_hubspot_finance.hubspot.capabilities import Memo
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import FatalHubSpotError, HubSpotError
from target_hubspot_finance.hubspot.properties import ensure_properties
from target_hubspot_finance.hubspot.shared_limit import shared_limiter
from target_hubspot_finance.ledger import Ledger, lock_timeout
from target_hubspot_finance.report import Report

LOGGER = logging.getLogger("target_hubspot_finance")
ALL_OBJECTS = ("companies", "contacts", "invoices", "line_items", "commerce_payments")
ACCOUNT_PATH = "/account-info/v3/details"
MEMO_TYPE = "_properties"  # synced_objects rows: sap_key "portal:<portalId>", hash of the set
MAX_REPAIRS = 3  # property repairs per run; a batch is sent again once after each


@dataclass
class Runtime:
    """Shared state of one run. Build with `Runtime.from_config(config)`."""

    config: Mapping[str, Any]
    ledger: Ledger
    client: HubSpotClient
    report: Report
    _properties_ready: bool = field(default=False, init=False)
    _memo_key: str | None = field(default=None, init=False)  # "" when the portal is unknown
    _repairs: int = field(default=0, init=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Runtime:
        if config.get("dry_run"):  # reads only; writes simulated and counted (dryrun.py)
            from target_hubspot_finance import dryrun

            return dryrun.build_runtime(cls, config)
        ledger = Ledger(config.get("ledger_url"),
                        lock_timeout=lock_timeout(config))
        # One window for every process on this token, kept in the ledger's database.
        limiter = shared_limiter(config, ledger.engine)
        client = HubSpotClient(
            config.get("api_base_url") or "https://api.hubapi.com", config["access_token"],
            limiter, timeout=float(config.get("request_timeout") or 30),
            max_retries=int(config.get("max_retries", 5)),
            backoff_base=float(config.get("backoff_base_seconds") or 1.0))
        report = Report(float(config.get("progress_interval_seconds") or 30))
        client.on_call = report.tick  # a progress line even inside one long drain
        runtime = cls(config=config, ledger=ledger, client=client,
                      report=report)
        client.on_missing_properties = runtime.repair_properties
        moving = runtime.ledger.bind_namespace(  # a renamed namespace: one line, stop
            runtime.namespace, bool(config.get("new_key_namespace")),
            bool(config.get("migrate_key_namespace")))
        if moving is not None:  # told to move the ledger's namespace: rename keys in place
            from target_hubspot_finance import namespace_move

            namespace_move.move(runtime, moving[0], runtime.namespace or "", moving[1])
        return runtime

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

    @cached_property
    def capabilities(self) -> Memo:
        """What this portal answered where HubSpot's docs are silent (hubspot/capabilities.py)."""
        return Memo(self.ledger, self._portal_memo_key())

    # -- start-up ---------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        """Create the property group and custom properties, once, before the first write.

        The ledger remembers, per HubSpot portal id, that the portal got this exact set, so a
        later run that has something to write reads one account-details call instead of every
        property list (and a run with nothing to write makes no HubSpot call at all). Keyed by
        portal, not by URL or token: one ledger may meet another portal at the same URL.
        """
        if self._properties_ready:
            return
        memo_key = self._portal_memo_key()
        memo_hash = mapping.content_hash(self._wanted_properties())
        known = self.ledger.lookup(MEMO_TYPE, [memo_key]).get(memo_key) if memo_key else None
        if known is None or known.content_hash != memo_hash:
            self._create_properties(memo_key, memo_hash)
        self._properties_ready = True

    def forget_properties(self) -> None:
        """A write still met a missing property: check them all again (next run or repair)."""
        self._properties_ready = False
        if self._memo_key:
            self.ledger.record_synced(MEMO_TYPE, [(self._memo_key, "stale", None)])

    def repair_properties(self, object_type: str, names: set[str]) -> bool:
        """HubSpot said properties are missing (non-unique idProperty / PROPERTY_DOESNT_EXIST):
        if any is one of ours, forget the memo and create them now; True means the caller
        sends its batch once more. Other properties (a user's mapping) are not ours to fix."""
        ours = {d["name"] for d in mapping.custom_definitions(object_type, self.property_map)}
        found = sorted(names & ours)
        if not found or self._repairs >= MAX_REPAIRS:
            return False
        self._repairs += 1
        LOGGER.warning("HubSpot %s lacks the target's propert%s %s (another portal, or deleted "
                       "in HubSpot): creating the missing properties and sending the batch "
                       "again", object_type, "y" if len(found) == 1 else "ies", ", ".join(found))
        self.forget_properties()
        self._create_properties(self._portal_memo_key(),
                                mapping.content_hash(self._wanted_properties()))
        self._properties_ready = True
        return True

    def _wanted_properties(self) -> dict[str, list[dict]]:
        return {t: mapping.custom_definitions(t, self.property_map) for t in self.object_types()}

    def _create_properties(self, memo_key: str, memo_hash: str) -> None:
        ensure_properties(self.client, self.object_types(), self.property_map)
        if memo_key:
            self.ledger.record_synced(MEMO_TYPE, [(memo_key, "ok", memo_hash)])

    def _portal_memo_key(self) -> str:
        """`portal:<portalId>` from HubSpot's account details, read once per run; "" (no memo:
        properties are checked every run) when HubSpot does not say."""
        if self._memo_key is None:  # set only once the ledger's portal check has passed
            why = "its answer names no portalId"
            try:
                answer = self.client.request("GET", ACCOUNT_PATH, kind="account.read") or {}
            except HubSpotError as exc:
                if isinstance(exc, FatalHubSpotError) and exc.status == 401:
                    raise  # a bad token: no write would pass either
                LOGGER.warning("Could not read the HubSpot portal id (%s): checking the custom "
                               "properties on every run", exc)
                answer, why = {}, exc.summary()
            portal = answer.get("portalId") if isinstance(answer, dict) else None
            if portal is None:  # a ledger with ids is not used blind (another portal?)
                self.ledger.refuse_unknown_portal(why)
                self._memo_key = ""
            else:
                self.ledger.bind_portal(str(portal))  # another portal's ledger: one line, stop
                self._memo_key = f"portal:{portal}"
        return self._memo_key

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
