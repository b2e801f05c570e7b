"""SAP-shaped Singer records (docs/CONTRACTS.md, "SAP record shapes") and a target runner."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable

from target_hubspot_finance.target import TargetHubSpotFinance

KEYS = {"business_partners": ["CardCode"], "invoices": ["DocEntry"],
        "credit_notes": ["DocEntry"], "incoming_payments": ["DocEntry"],
        "chart_of_accounts": ["Code"]}


def customer(n: int, contacts: int = 1, **over) -> dict:
    code = f"C{n:05d}"
    rec = {
        "CardCode": code, "CardName": f"Customer {n} Ltd", "CardType": "cCustomer",
        "GroupCode": 100, "Currency": "##", "Phone1": "+1 555-0100", "Phone2": None,
        "Cellular": None, "EmailAddress": f"ap@c{n}.example.com", "Website": None,
        "Address": "1 Main St", "City": "Denver", "ZipCode": "80227", "Country": "US",
        "CreditLimit": 5000.0, "MaxCommitment": 0.0, "CurrentAccountBalance": 1234.5,
        "OpenOrdersBalance": 0.0, "PayTermsGrpCode": 2, "PaymentTermsName": "Net 30",
        "SalesPersonCode": -1, "Frozen": "tNO", "Valid": "tYES",
        "UpdateDate": "2026-01-02", "UpdateTime": "10:00:00",
        "sap_updated_at": "2026-01-02T10:00:00+00:00",
        "ContactEmployees": [
            {"CardCode": code, "InternalCode": i + 1, "Name": f"Person {i}",
             "FirstName": f"First{i}", "LastName": f"Last{n}", "E_Mail": f"p{i}.c{n}@example.com",
             "Phone1": None, "MobilePhone": None, "Position": "AP", "Active": "tYES"}
            for i in range(contacts)],
        "BPAddresses": [],
    }
    rec.update(over)
    return rec


def invoice(n: int, card: int = 1, lines: int = 2, **over) -> dict:
    doc_lines = [{"LineNum": i, "ItemCode": f"I{i:03d}", "ItemDescription": f"Item {i}",
                  "Quantity": 2.0, "UnitPrice": 50.0, "Price": 50.0, "Currency": "USD",
                  "DiscountPercent": 0.0, "LineTotal": 100.0, "TaxCode": "TX10",
                  "AccountCode": "410000", "CostingCode": "SALES", "LineStatus": "bost_Open",
                  "BaseType": -1, "BaseEntry": None, "BaseLine": None} for i in range(lines)]
    total = 110.0 * lines
    rec = {
        "DocEntry": n, "DocNum": 4000 + n, "DocType": "dDocument_Items", "DocDate": "2026-01-05",
        "DocDueDate": "2026-02-04", "TaxDate": "2026-01-05", "CardCode": f"C{card:05d}",
        "CardName": f"Customer {card} Ltd", "NumAtCard": None, "DocCurrency": "USD",
        "DocRate": 1.0, "DocTotal": total, "DocTotalFc": 0.0, "VatSum": 10.0 * lines,
        "PaidToDate": 0.0, "DocumentStatus": "bost_Open", "Cancelled": "tNO", "Comments": None,
        "SalesPersonCode": -1, "PaymentGroupCode": 2, "ContactPersonCode": 1,
        "U_HubSpotDealId": None, "CreationDate": "2026-01-05", "UpdateDate": "2026-01-05",
        "UpdateTime": "11:00:00", "sap_updated_at": "2026-01-05T11:00:00+00:00",
        "DocumentLines": doc_lines,
    }
    rec.update(over)
    return rec


def payment(n: int, card: int = 1, applies: Iterable[tuple[int, float]] = ((1, 220.0),),
            **over) -> dict:
    applies = list(applies)
    rec = {
        "DocEntry": n, "DocNum": 9000 + n, "DocType": "rCustomer", "DocDate": "2026-02-01",
        "CardCode": f"C{card:05d}", "CardName": f"Customer {card} Ltd", "DocCurrency": "USD",
        "CashSum": 0.0, "TransferSum": sum(a for _, a in applies), "CheckSum": 0.0,
        "CreditSum": 0.0, "TransferDate": "2026-02-01", "TransferReference": f"WT{n}",
        "Cancelled": "tNO", "UpdateDate": "2026-02-01", "UpdateTime": "09:00:00",
        "sap_updated_at": "2026-02-01T09:00:00+00:00",
        "PaymentInvoices": [{"LineNum": i, "DocEntry": e, "SumApplied": a, "AppliedFC": 0.0,
                             "InvoiceType": "it_Invoice"} for i, (e, a) in enumerate(applies)],
    }
    rec.update(over)
    return rec


def credit_note(n: int, invoice_entry: int, amount: float = 100.0, card: int = 1) -> dict:
    return {
        "DocEntry": n, "DocNum": 7000 + n, "DocDate": "2026-02-10", "CardCode": f"C{card:05d}",
        "CardName": f"Customer {card} Ltd", "DocCurrency": "USD", "DocTotal": amount * 1.1,
        "VatSum": amount * 0.1, "PaidToDate": 0.0, "DocumentStatus": "bost_Close",
        "Cancelled": "tNO", "UpdateDate": "2026-02-10", "UpdateTime": "08:00:00",
        "sap_updated_at": "2026-02-10T08:00:00+00:00",
        "DocumentLines": [{"LineNum": 0, "ItemCode": "I000", "ItemDescription": "Item 0",
                           "Quantity": 1.0, "UnitPrice": amount, "Price": amount,
                           "LineTotal": amount, "BaseType": 13, "BaseEntry": invoice_entry,
                           "BaseLine": 0}],
    }


def messages(*batches: tuple[str, list[dict]], state: dict | None = None,
             state_every: int = 0) -> str:
    """SCHEMA + RECORD lines per stream (permissive schema), with optional STATE messages."""
    lines: list[str] = []
    seen: set[str] = set()
    count = 0
    for stream, records in batches:
        if stream not in seen:
            seen.add(stream)
            names = sorted({k for r in records for k in r})
            lines.append(json.dumps({"type": "SCHEMA", "stream": stream,
                                     "schema": {"type": "object",
                                                "properties": {k: {} for k in names}},
                                     "key_properties": KEYS.get(stream, [])}))
        for rec in records:
            lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": rec}))
            count += 1
            if state_every and count % state_every == 0:
                lines.append(json.dumps({"type": "STATE", "value": {"n": count}}))
    if state is not None:
        lines.append(json.dumps({"type": "STATE", "value": state}))
    return "\n".join(lines) + "\n"


def run(config: dict, text: str) -> tuple[TargetHubSpotFinance, list[dict]]:
    """Feed Singer text to a fresh target in-process; return it and the STATE values it wrote."""
    out = io.StringIO()
    target = TargetHubSpotFinance(config=config, validate_config=True)
    with contextlib.redirect_stdout(out):
        target.listen(io.StringIO(text))
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return target, states
