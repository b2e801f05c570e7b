"""What a portal supports where HubSpot's documentation is silent or conditional, asked of it.

Why: the invoices guide documents one path (create a draft, associate a contact and line items,
then set the status to open); creating an invoice already open and writing `paid` directly are
undocumented. The payments object exists only where HubSpot payments or Stripe is set up, and
custom properties on payments are undocumented. An invoice's currency must be one the account
set up (knowledge base), whether the API refuses another is undocumented. So the target asks,
falls back to the documented form, and remembers per portal what worked (`Memo`).

Scope names come from HubSpot's pages (api-facts.md): `crm.objects.<object>.read/.write`
(developers.hubspot.com "Scopes"), payments `crm.objects.commercepayments.read/.write` (the
payments API reference, api-reference/.../objects/commerce-payments/guide: not
`commerce_payments`), account currencies `settings.currencies.read`
(api-reference/.../account/settings/multicurrency/guide).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot.errors import FatalHubSpotError, HubSpotError
from target_hubspot_finance.ledger import applications, default_ledger_url

if TYPE_CHECKING:
    from target_hubspot_finance.hubspot.client import HubSpotClient
    from target_hubspot_finance.ledger import Ledger

# Object name in paths -> the stem of its scope names, where they differ.
SCOPE_STEMS = {"commerce_payments": "commercepayments"}
CURRENCY_SCOPE = "settings.currencies.read"
COMPANY_CURRENCY_PATH = "/settings/v3/currencies/company-currency"
EXCHANGE_RATES_PATH = "/settings/v3/currencies/exchange-rates"
PAYMENTS_PROBE_PATH = "/crm/v3/objects/commerce_payments"
PAYMENT_KEY = "sap_payment_key"
MEMO_TYPE = "_capabilities"  # synced_objects rows: sap_key "<portal key>:<capability>"

# Capabilities remembered per portal (value "yes" / "no").
OPEN_ON_CREATE = "invoice_open_on_create"
PAID_SETTABLE = "invoice_paid_settable"


def object_scope(obj: str, access: str) -> str:
    """`crm.objects.<stem>.<access>` with HubSpot's documented stem (payments: commercepayments)."""
    return f"crm.objects.{SCOPE_STEMS.get(obj, obj)}.{access}"


def schema_scope(obj: str, access: str) -> str | None:
    """`crm.schemas.<obj>.<access>`; None for payments (no HubSpot page names one, api-facts)."""
    if obj in SCOPE_STEMS:
        return None
    return f"crm.schemas.{obj}.{access}"


# -- payments ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentsSupport:
    """What a portal offers for payments and the `payments_mode` that fits it."""

    object_available: bool
    custom_properties: bool | None  # None: not known until the target creates its own
    mode: str                       # commerce_payments | properties
    detail: str


def payments_support(client: HubSpotClient) -> PaymentsSupport:
    """Read-only probe: does the payments object exist, do the target's payment properties?

    The object: one list call (a portal without HubSpot payments or Stripe answers 400/404
    "Unable to infer object type"). Custom properties: the target's unique key property
    `sap_payment_key` is there (an earlier run made it) or not yet known; a portal that refuses
    custom properties on payments is found when the target creates it at start-up, which stops
    the run with the same advice (`PaymentsModeError`).
    """
    try:
        client.request("GET", PAYMENTS_PROBE_PATH, params={"limit": 1}, kind="probe.payments")
    except FatalHubSpotError:
        raise
    except HubSpotError as exc:
        if exc.status in (400, 404):
            return PaymentsSupport(False, None, "properties",
                                   "this portal has no payments object (HubSpot payments or "
                                   "Stripe is not set up): use payments_mode: properties")
        raise
    try:
        props = {p.get("name"): p for p in client.get_properties("commerce_payments")}
    except FatalHubSpotError:
        raise
    except HubSpotError:
        props = {}
    key = props.get(PAYMENT_KEY)
    if key is not None and key.get("hasUniqueValue"):
        return PaymentsSupport(True, True, "commerce_payments",
                               "payments object and the target's payment properties present: "
                               "payments_mode: commerce_payments")
    return PaymentsSupport(True, None, "commerce_payments",
                           "payments object available: payments_mode: commerce_payments "
                           "(the target creates its payment properties at start; a portal "
                           "that refuses custom properties on payments stops that run with "
                           "one line: then use payments_mode: properties)")


class PaymentsModeError(Exception):
    """The portal cannot take the configured `payments_mode` (one line, at start)."""


def payments_mode_problem(exc: HubSpotError) -> str:
    """The one line for a start-up refusal on the payments object or its properties."""
    if exc.status in (400, 404) and "infer object type" in _message(exc):
        return ("payments_mode is commerce_payments but this portal has no payments object "
                "(HubSpot payments or Stripe is not set up): set payments_mode: properties, or "
                "set up payments in HubSpot")
    return (f"this portal refused the target's custom properties on payments ({exc.status}: "
            f"{_message(exc)[:160]}): set payments_mode: properties")


# -- currencies ----------------------------------------------------------------------------------
def account_currencies(client: HubSpotClient) -> set[str]:
    """The account's currencies: the company currency plus each with an exchange rate."""
    home = client.request("GET", COMPANY_CURRENCY_PATH, kind="settings.currency.read") or {}
    rates = client.request("GET", EXCHANGE_RATES_PATH, kind="settings.currency.read") or {}
    return currencies_from(home, rates)


def currencies_from(home: Any, rates: Any) -> set[str]:
    """Codes from the company-currency answer (`id`, the code) and the exchange-rates answer."""
    found = {str(home.get("id") or home.get("currencyCode") or "").upper()
             if isinstance(home, dict) else ""}
    for rate in (rates.get("results") if isinstance(rates, dict) else None) or []:
        if isinstance(rate, dict):
            found.add(str(rate.get("fromCurrencyCode") or "").upper())
    return {c for c in found if c}


def sap_currencies(config: Mapping[str, Any]) -> set[str]:
    """The SAP currencies the target knows of: `local_currency` and the currency of every
    invoice its ledger has seen (read only; a ledger that does not exist yet is not created)."""
    found = {str(config["local_currency"]).upper()} if config.get("local_currency") else set()
    try:
        url = config.get("ledger_url") or default_ledger_url()
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database and (
                parsed.database != ":memory:") and not Path(parsed.database).exists():
            return found
        engine = create_engine(url)
        try:
            if inspect(engine).has_table("applications"):
                with engine.connect() as conn:
                    found |= {str(c).upper() for (c,) in conn.execute(
                        select(applications.c.doc_num).distinct().where(
                            applications.c.kind == mapping.INVOICE_MONEY)) if c}
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError, LookupError, OSError, RuntimeError):
        pass  # no ledger to read (or another one's): the local currency alone
    return found


def unset_currencies(client: HubSpotClient, wanted: Iterable[str]) -> list[str]:
    """The currencies in `wanted` (e.g. the SAP documents' DocCurrency) the account lacks."""
    have = account_currencies(client)
    return sorted({c.upper() for c in wanted if c} - have)


def refused_currency(error: Any) -> str | None:
    """The currency HubSpot named when it refused an invoice's `hs_currency`, else None."""
    for item in _property_errors(error):
        if item.get("name") == "hs_currency":
            value = item.get("propertyValue") or item.get("value")
            if value:
                return str(value)
            text = str(item.get("message") or "")
            return text.split(" ", 1)[0] or None
    return None


def refuses_status(error: Any) -> bool:
    """True when HubSpot's refusal of a write names `hs_invoice_status` (any wording)."""
    if any(item.get("name") == "hs_invoice_status" for item in _property_errors(error)):
        return True
    return "hs_invoice_status" in json.dumps(error, default=str)


def _property_errors(error: Any) -> list[dict]:
    """The JSON list inside `Property values were not valid: [...]`, or [] when absent."""
    if not isinstance(error, dict):
        return []
    body = error.get("body") if isinstance(error.get("body"), dict) else error
    message = str(body.get("message") or "")
    _, sep, listed = message.partition("Property values were not valid: ")
    if not sep:
        return []
    try:
        items = json.loads(listed)
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _message(exc: HubSpotError) -> str:
    body = exc.as_json()
    inner = body.get("body") if isinstance(body.get("body"), dict) else body
    return str(inner.get("message") or inner)


# -- per-portal memo -----------------------------------------------------------------------------
class Memo:
    """Per-portal answers (`yes`/`no`) kept in the ledger's synced_objects table, so a later run
    takes the path that worked without paying for the refusal again. Without a portal id (HubSpot
    did not say it) they are kept for this run only: another portal must not inherit them."""

    def __init__(self, ledger: Ledger, portal_key: str) -> None:
        self.ledger = ledger
        self.portal_key = portal_key
        self._cache: dict[str, bool | None] = {}
        self._values: dict[str, str] = {}  # text answers, for a portal without an id
        self.warned: set[str] = set()  # one-time warnings of this run

    def _key(self, name: str) -> str:
        return f"{self.portal_key}:{name}"

    def get(self, name: str) -> bool | None:
        """True / False as remembered, None when this portal has not answered yet."""
        if name not in self._cache:
            row = (self.ledger.lookup(MEMO_TYPE, [self._key(name)]).get(self._key(name))
                   if self.portal_key else None)
            self._cache[name] = None if row is None else row.hubspot_id == "yes"
        return self._cache[name]

    def value(self, name: str) -> str | None:
        """A remembered text answer (e.g. an association type id), None when not asked yet."""
        if not self.portal_key:
            return self._values.get(name)
        row = self.ledger.lookup(MEMO_TYPE, [self._key(name)]).get(self._key(name))
        return None if row is None else row.hubspot_id

    def set_value(self, name: str, value: str) -> None:
        if not self.portal_key:
            self._values[name] = value
            return
        self.ledger.record_synced(MEMO_TYPE, [(self._key(name), value, None)])

    def set(self, name: str, value: bool) -> None:
        if self._cache.get(name) is value:
            return
        self._cache[name] = value
        if self.portal_key:
            self.ledger.record_synced(MEMO_TYPE, [(self._key(name), "yes" if value else "no",
                                                   None)])
