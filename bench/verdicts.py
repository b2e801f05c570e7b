"""Verdicts the chaos suite asserts (and the benchmarks print): is HubSpot a faithful copy of SAP?

`problems_now(world)` lists every way HubSpot differs from SAP that the target's default mapping
promises not to: a record missing or doubled, an object holding stale values, an association to
the wrong company or a missing line item. An empty list is the pass verdict.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import reconcile
from bench.leaks import find_leaks, sqlite_dump
from bench.pipeline import Pipeline
from bench.reconcile import KeySpec
from bench.world import SECRETS, World
from target_hubspot_finance.mapping import CREDIT_NOTE_METHOD, DEDUCTION_METHODS

SELECTED = ["business_partners", "invoices", "credit_notes", "incoming_payments"]


def _money(value: object) -> float | None:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _invoice_current(record: dict, obj: dict) -> bool:
    """The HubSpot invoice carries SAP's latest total (the field the chaos edits change)."""
    props = obj.get("properties") or {}
    # in the invoice's own currency: SAP's DocTotalFc on a foreign document (0 on a local one)
    total = record.get("DocTotalFc") or record.get("DocTotal")
    for name in ("sap_doc_total", "hs_amount_billed", "amount"):
        if name in props:
            return _money(props[name]) == _money(total)
    return True


def _company_current(record: dict, obj: dict) -> bool:
    """The HubSpot company carries SAP's latest name."""
    props = obj.get("properties") or {}
    return props.get("name") in (None, record.get("CardName"))


def _reversal(document: dict) -> bool:
    """SAP's cancellation document (CancelStatus csCancellation): no HubSpot object of its own."""
    return document.get("CancelStatus") == "csCancellation"


_NOT_SAP_PAYMENTS = (CREDIT_NOTE_METHOD, *DEDUCTION_METHODS)


def _sap_objects(w: World, object_type: str) -> list[dict]:
    """HubSpot objects standing for SAP records: credits and payment deductions the target
    writes as payments of their own (methods `credit note`, `cash discount`, `withholding
    tax`: no SAP payment of their own behind them) are left out."""
    return [o for o in w.hubspot.objects(object_type)
            if (o.get("properties") or {}).get("hs_payment_method") not in _NOT_SAP_PAYMENTS]


def _stamped(parent: dict, **fields: object) -> dict:
    """A child record carrying its parent's change stamp and DocEntry (for bookmark checks:
    payments are bookmarked by DocEntry)."""
    return {"UpdateDate": parent.get("UpdateDate"), "UpdateTime": parent.get("UpdateTime"),
            "DocEntry": parent.get("DocEntry"), **fields}


def _lines(invoice: dict) -> list[dict]:
    """One line item per SAP document line (`<DocEntry>-<LineNum>`), plus `<DocEntry>-tax` for
    VatSum (the target's README: HubSpot's billed amount must equal SAP's DocTotal)."""
    rows = [_stamped(invoice, key=f"{invoice['DocEntry']}-{line['LineNum']}", line=line)
            for line in invoice.get("DocumentLines") or []]
    if float(invoice.get("VatSum") or 0):
        rows.append(_stamped(invoice, key=f"{invoice['DocEntry']}-tax", line=None))
    if rows and _billed_short(invoice):
        rows.append(_stamped(invoice, key=f"{invoice['DocEntry']}-adjustment", line=None))
    return rows


def _billed_short(invoice: dict) -> bool:
    """Whether the lines as HubSpot prices them (quantity x UnitPrice x (1 - discount %)) plus
    tax fall short of SAP's total in the document's currency: the target then adds a line
    item `<DocEntry>-adjustment` (freight, rounding, line totals rounded up; its README)."""
    foreign = bool(float(invoice.get("DocTotalFc") or 0))
    total = float(invoice.get("DocTotalFc" if foreign else "DocTotal") or 0)
    vat = float(invoice.get("VatSumFc" if foreign else "VatSum") or 0)
    lines = sum(float(ln.get("Quantity") or 0) * float(ln.get("UnitPrice") or 0)
                * (1 - float(ln.get("DiscountPercent") or 0) / 100)
                for ln in invoice.get("DocumentLines") or [])
    return round(total - lines - vat, 6) >= 0.0005  # the target's BILLED_TOLERANCE


def _applications(payment: dict) -> list[dict]:
    """One HubSpot payment per invoice a SAP payment pays, plus one for on-account money.

    Derived here from SAP's fields, independently of the target's code (see its README).
    """
    rows, applied = [], 0.0
    for line in payment.get("PaymentInvoices") or []:
        amount = float(line.get("SumApplied") or 0)
        kind = line.get("InvoiceType")
        if kind == "it_CredItnote" or amount < 0:  # a credit note used: nets the money
            applied -= abs(amount)
            continue
        applied += amount  # an invoice, or another document (journal entry...): one payment
        rows.append(_stamped(payment, key=f"{payment['DocEntry']}-{line.get('LineNum')}",
                             invoice=line.get("DocEntry") if kind == "it_Invoice" else None))
    total = sum(float(payment.get(k) or 0) for k in ("CashSum", "TransferSum", "CheckSum",
                                                        "CreditSum"))
    total += sum(float(r.get("CheckSum") or 0) for r in payment.get("PaymentChecks") or [])
    total += sum(float(r.get("CreditSum") or 0) for r in payment.get("PaymentCreditCards") or [])
    if round(total - applied, 2) > 0.005:
        rows.append(_stamped(payment, key=f"{payment['DocEntry']}-account", invoice=None))
    return rows


KEY_SPECS = [
    KeySpec("business_partners", "BusinessPartners", "CardCode", "companies", "sap_card_code",
            include=lambda r: r.get("CardType") == "cCustomer", same=_company_current),
    KeySpec("invoices", "Invoices", "DocNum", "invoices", "sap_doc_num", same=_invoice_current,
            include=lambda r: not _reversal(r)),
    KeySpec("invoices", "Invoices", "key", "line_items", "sap_line_key", expand=_lines,
            include=lambda r: not _reversal(r)),
    KeySpec("incoming_payments", "IncomingPayments", "key", "commerce_payments",
            "sap_payment_key", expand=_applications),
]


def make_pipeline(w: World, name: str = "pipe", tap: dict | None = None,
                  target: dict | None = None) -> Pipeline:
    """A pipeline over world `w` selecting what meltano.yml selects."""
    return Pipeline(w.workdir / name, w.tap_config(**(tap or {})),
                    w.target_config(**(target or {})), select=SELECTED)


def problems_now(w: World) -> list[str]:
    """Everything that keeps HubSpot from being exactly one current object per SAP record."""
    problems: list[str] = []
    for spec in KEY_SPECS:
        problems += reconcile.exactly_once(spec, w.sap.all(spec.entity),
                                           _sap_objects(w, spec.object_type))
    problems += association_problems(w)
    problems += dead_letter_problems(w.ledger_path)
    return problems


def bookmark_problems_now(w: World, state: dict | None) -> list[str]:
    """Bookmarks in `state` that claim records HubSpot does not hold."""
    problems: list[str] = []
    for spec in KEY_SPECS:
        problems += reconcile.bookmark_problems(state, spec, w.sap.all(spec.entity),
                                                w.hubspot.objects(spec.object_type))
    return problems


def association_problems(w: World) -> list[str]:
    """Invoices linked to their customer's company and to one line item per SAP line."""
    companies = {str(o["properties"].get("sap_card_code")): o["id"]
                 for o in w.hubspot.objects("companies") if not o.get("archived")}
    invoices = {str(o["properties"].get("sap_doc_num")): o["id"]
                for o in w.hubspot.objects("invoices") if not o.get("archived")}
    to_company: dict[str, set[str]] = {}
    for src, dst, _type in w.hubspot.associations("invoices", "companies"):
        to_company.setdefault(str(src), set()).add(str(dst))
    to_lines: dict[str, set[str]] = {}
    for src, dst, _type in w.hubspot.associations("invoices", "line_items"):
        to_lines.setdefault(str(src), set()).add(str(dst))
    wrong_company, wrong_lines = [], []
    for inv in w.sap.all("Invoices"):
        hs_id = invoices.get(str(inv["DocNum"]))
        if hs_id is None:
            continue  # reported as missing by exactly_once
        want = companies.get(str(inv["CardCode"]))
        if to_company.get(str(hs_id), set()) != ({str(want)} if want else set()):
            wrong_company.append(inv["DocNum"])
        if len(to_lines.get(str(hs_id), set())) != len(_lines(inv)):
            wrong_lines.append(inv["DocNum"])
    problems = payment_link_problems(w, invoices)
    if wrong_company:
        problems.append(f"invoices: {len(wrong_company)} not linked to exactly their company "
                        f"(e.g. DocNum {wrong_company[:5]})")
    if wrong_lines:
        problems.append(f"invoices: {len(wrong_lines)} without one line item per SAP line "
                        f"(e.g. DocNum {wrong_lines[:5]})")
    return problems


def payment_link_problems(w: World, invoices_by_num: dict[str, str]) -> list[str]:
    """Each HubSpot payment for an invoice is linked to that invoice (and only that one)."""
    by_entry = {str(inv["DocEntry"]): invoices_by_num.get(str(inv["DocNum"]))
                for inv in w.sap.all("Invoices")}
    payments = {str(o["properties"].get("sap_payment_key")): o["id"]
                for o in w.hubspot.objects("commerce_payments") if not o.get("archived")}
    links: dict[str, set[str]] = {}
    for src, dst, _type in w.hubspot.associations("commerce_payments", "invoices"):
        links.setdefault(str(src), set()).add(str(dst))
    wrong = []
    for payment in w.sap.all("IncomingPayments"):
        for app in _applications(payment):
            hs_id = payments.get(app["key"])
            if hs_id is None or app["invoice"] is None:
                continue
            want = by_entry.get(str(app["invoice"]))
            if want is not None and links.get(str(hs_id), set()) != {str(want)}:
                wrong.append(app["key"])
    if wrong:
        return [f"payments: {len(wrong)} not linked to exactly the invoice they pay "
                f"(e.g. {wrong[:5]})"]
    return []


def dead_letter_problems(ledger: Path) -> list[str]:
    """Valid chaos data must never end in the dead-letter table."""
    dump = sqlite_dump(ledger)
    rows = [line for line in dump.splitlines() if line.startswith("dead_letter:")]
    return [f"dead_letter holds {len(rows)} records: {rows[:2]}"] if rows else []


def leak_problems(pipe: Pipeline, w: World) -> list[str]:
    """Secrets or session ids in any log, state, ledger row or HubSpot request body."""
    texts = {
        "logs and states": pipe.all_outputs(),
        "ledger": sqlite_dump(w.ledger_path),
        "HubSpot request bodies": "\n".join(str(r.body) for r in w.hubspot.requests),
    }
    return [f"{leak} found in {where}" for where, text in texts.items()
            for leak in find_leaks(text, SECRETS)]


def error_lines(stderr: str) -> list[str]:
    """The lines a person reads when a run fails: those logged at ERROR or CRITICAL."""
    return [line for line in stderr.splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith(("ERROR", "error:"))]


def mutate_sap(w: World, rng: random.Random, updates: int = 5, creates: int = 2,
               partners: int = 1) -> int:
    """Change SAP behind the pipeline's back: new totals, new invoices, renamed customers."""
    invoices = w.sap.all("Invoices")
    changes = 0
    for inv in rng.sample(invoices, min(updates, len(invoices))):
        bump = rng.randint(1, 99)
        change = {"DocTotal": round(float(inv["DocTotal"]) + bump, 2)}
        if inv.get("DocTotalFc"):  # a foreign invoice: its own-currency total moves too
            change["DocTotalFc"] = round(float(inv["DocTotalFc"]) + bump, 2)
        w.sap.update("Invoices", inv["DocEntry"], change)
        changes += 1
    for _ in range(creates):
        template = rng.choice(invoices)
        # SAP stamps a new document itself: drop the template's key, number and stamps.
        fresh = {k: v for k, v in template.items()
                 if k not in ("DocEntry", "DocNum", "UpdateDate", "UpdateTime", "CreationDate")}
        w.sap.create("Invoices", fresh)
        changes += 1
    customers = [bp for bp in w.sap.all("BusinessPartners") if bp.get("CardType") == "cCustomer"]
    for bp in rng.sample(customers, min(partners, len(customers))):
        w.sap.update("BusinessPartners", bp["CardCode"],
                     {"CardName": f"{bp['CardName'].split(' #')[0]} #{rng.randint(1, 10**6)}"})
        changes += 1
    return changes
