"""HubSpot's side of `reconcile`: every invoice and payment the target wrote, as figure rows.

Read with the target's own client and rate limiter (list pages of 100, only the compared
properties), so reconciling a large portal stays inside the limit a run uses. The list endpoint,
not search: search allows ~4 requests/s and at most 10,000 results per query, a list page costs
one ordinary call and has no cap. With `key_namespace`, only this SAP company's objects count
(their unique key starts with `<namespace>:`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from target_hubspot_finance import secrets
from target_hubspot_finance.commands.figures import InvoiceRow, PaymentRow, to_date, to_decimal
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.shared_limit import tool_limiter
from target_hubspot_finance.mapping import CREDIT_PAYMENT_PREFIX

# HubSpot's own figures (what a user sees and a customer is billed), plus the keys to match SAP.
INVOICE_PROPS = ["sap_doc_num", "sap_doc_entry", "sap_card_code", "hs_amount_billed",
                 "hs_balance_due", "hs_invoice_status", "hs_currency", "sap_open_balance",
                 "sap_cancelled"]
PAYMENT_PROPS = ["sap_payment_key", "sap_card_code", "hs_initiated_date", "sap_cancelled"]
COMPANY_PROPS = ["sap_card_code", "sap_last_payment_date"]
PAGE = 100  # the list endpoint's largest page


def client_for(config: dict) -> HubSpotClient:
    """The target's client with one rate limiter, as a run builds it (token decrypted)."""
    token = secrets.reveal(config.get("access_token") or "", setting="access_token")
    return HubSpotClient(config.get("api_base_url") or "https://api.hubapi.com", token,
                         tool_limiter(config, token),  # the runs' window: same token
                         timeout=float(config.get("request_timeout") or 30),
                         max_retries=int(config.get("max_retries", 5)))


def list_all(client: HubSpotClient, object_type: str, properties: list[str]
             ) -> Iterator[dict[str, Any]]:
    """The properties of every live object of a type, page by page (`after` cursor). A cursor
    HubSpot answers twice stops the read (it would loop and count objects twice)."""
    after: str | None = None
    seen: set[str] = set()
    while True:
        params: dict[str, Any] = {"limit": PAGE, "properties": ",".join(properties)}
        if after:
            params["after"] = after
        page = client.request("GET", f"/crm/v3/objects/{object_type}", params=params,
                              kind=f"{object_type}.list") or {}
        for item in page.get("results") or []:
            yield item.get("properties") or {}
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        if after in seen:
            raise RuntimeError(f"HubSpot answered the same page cursor twice listing "
                               f"{object_type}: stopped rather than count objects twice")
        seen.add(after)


def _own(value: object, namespace: str | None) -> str | None:
    """The key without this company's namespace; None when it belongs to another company."""
    text = str(value or "")
    if not namespace:
        return text or None
    prefix = f"{namespace}:"
    return text[len(prefix):] if text.startswith(prefix) else None


def _true(value: object) -> bool:
    return str(value).lower() in ("true", "1", "yes", "tyes")


def invoice_row(props: dict, namespace: str | None, balance_due: bool = True
                ) -> InvoiceRow | None:
    """An invoice as HubSpot shows it: billed amount (hs_amount_billed), balance due, status and
    currency are HubSpot's own properties, not the target's copies. Without payments objects
    (`payments_mode: properties`) HubSpot's balance due never falls, so the target's
    `sap_open_balance` is compared instead (`balance_due=False`). Only an invoice SAP cancelled
    (`sap_cancelled`) is left out of the figures, as on SAP's side: one voided by hand in
    HubSpot still counts, and its status differs. A draft (the target waits for a contact) has
    no status to compare; its amounts are."""
    doc_num = _own(props.get("sap_doc_num"), namespace)
    if doc_num is None:
        return None
    entry = str(props.get("sap_doc_entry") or "")
    if namespace and entry.startswith(f"{namespace}:"):
        entry = entry[len(namespace) + 1:]
    status = str(props.get("hs_invoice_status") or "")
    left = props.get("hs_balance_due") if balance_due else props.get("sap_open_balance")
    return InvoiceRow(card_code=str(props.get("sap_card_code") or ""), doc_num=doc_num,
                      total=to_decimal(props.get("hs_amount_billed")),
                      open_amount=to_decimal(left) if status in ("open", "draft") else
                      to_decimal(0),
                      voided=_true(props.get("sap_cancelled")), doc_entry=entry,
                      currency=str(props.get("hs_currency") or "").upper(),
                      status="" if status == "draft" else status)


def read_hubspot(config: dict, client: HubSpotClient | None = None
                 ) -> tuple[list[InvoiceRow], list[PaymentRow]]:
    """Invoice rows and payment rows of this SAP company from HubSpot."""
    client = client or client_for(config)
    namespace = config.get("key_namespace") or None
    commerce = (config.get("payments_mode") or "commerce_payments") == "commerce_payments"
    invoices = [row for p in list_all(client, "invoices", INVOICE_PROPS)
                if (row := invoice_row(p, namespace, balance_due=commerce)) is not None]
    payments: list[PaymentRow] = []
    if commerce:
        for p in list_all(client, "commerce_payments", PAYMENT_PROPS):
            own = _own(p.get("sap_payment_key"), namespace)
            # a credit note is a HubSpot payment too (it lowers the balance due), not a payment
            if own is not None and not own.startswith(CREDIT_PAYMENT_PREFIX):
                payments.append(PaymentRow(str(p.get("sap_card_code") or ""),
                                           to_date(p.get("hs_initiated_date")),
                                           voided=_true(p.get("sap_cancelled"))))
    else:  # payments_mode: properties keeps the last payment day on the company
        for p in list_all(client, "companies", COMPANY_PROPS):
            code = _own(p.get("sap_card_code"), namespace)
            if code is not None and p.get("sap_last_payment_date"):
                payments.append(PaymentRow(code, to_date(p.get("sap_last_payment_date"))))
    return invoices, payments
