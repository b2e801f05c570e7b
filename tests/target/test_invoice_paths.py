"""Invoices reach their SAP status whichever way a portal answers the undocumented writes.

HubSpot documents create-as-draft → associate → open; creating an invoice open in one call and
writing `paid` directly are undocumented (sandbox switches `open_on_create`, `paid_settable`).
Through the real target, each way: every invoice exists once, with its status (paid ones via
their payments where `paid` is refused), nothing is dead-lettered, a rerun writes nothing, and a
later load on a refusing portal does not pay the refusal again (the per-portal memo).
"""

from __future__ import annotations

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import ledger_rows

from hubspot_sandbox import HubSpotSandbox
from target_hubspot_finance.hubspot.capabilities import unset_currencies
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import HubSpotError
from target_hubspot_finance.hubspot.rate_limit import RateLimiter

TOKEN = "pat-sandbox-0000-test-token-do-not-log"

N = 30  # invoices 1..N; every third is paid in full in SAP (PaidToDate = DocTotal)


def _invoices(first: int, last: int) -> list[dict]:
    out = []
    for n in range(first, last + 1):
        paid = n % 3 == 0
        out.append(invoice(n, card=n % 4 + 1, PaidToDate=220.0 if paid else 0.0,
                           DocumentStatus="bost_Close" if paid else "bost_Open"))
    return out


def _payments(first: int, last: int) -> list[dict]:
    return [payment(n, card=n % 4 + 1, applies=[(n, 220.0)])
            for n in range(first, last + 1) if n % 3 == 0]


def _load(config: dict, first: int, last: int) -> None:
    run(config, messages(("business_partners", [customer(c) for c in range(1, 5)]),
                         ("invoices", _invoices(first, last)),
                         ("incoming_payments", _payments(first, last)),
                         state={"bookmarks": {"invoices": last}}))


def _refusals(hs) -> int:
    """Invoice batch writes HubSpot refused in part (207) or whole (400): in these loads only
    the refusals of the undocumented status writes."""
    return sum(1 for r in hs.requests if "/objects/invoices/batch/" in r.path
               and r.status in (207, 400))


@pytest.mark.parametrize("paid_settable", [True, False], ids=["paid-accepted", "paid-refused"])
@pytest.mark.parametrize("open_on_create", [True, False],
                         ids=["open-on-create-accepted", "open-on-create-refused"])
def test_every_invoice_reaches_its_status_once_whichever_path_the_portal_takes(
        hubspot_sandbox, target_config, open_on_create: bool, paid_settable: bool) -> None:
    hs = hubspot_sandbox
    hs.switches.open_on_create = open_on_create
    hs.switches.paid_settable = paid_settable

    _load(target_config, 1, N)

    invoices = {int(o["properties"]["sap_doc_entry"]): o["properties"]
                for o in hs.objects("invoices")}
    assert sorted(invoices) == list(range(1, N + 1))  # each once
    for n, props in invoices.items():
        assert props["hs_invoice_status"] == ("paid" if n % 3 == 0 else "open"), n
    assert ledger_rows(target_config, "dead_letter") == []

    writes = hs.writes()
    _load(target_config, 1, N)  # nothing changed: nothing written
    assert hs.writes() == writes

    refused_before = _refusals(hs)
    assert (refused_before == 0) == (open_on_create and paid_settable)
    _load(target_config, N + 1, N + 9)  # new invoices on a portal the target now knows
    assert _refusals(hs) == refused_before
    statuses = {int(o["properties"]["sap_doc_entry"]): o["properties"]["hs_invoice_status"]
                for o in hs.objects("invoices")}
    assert len(statuses) == N + 9
    assert all(statuses[n] == ("paid" if n % 3 == 0 else "open") for n in range(N + 1, N + 10))


@pytest.mark.parametrize("way", ["refuse", "accept"])
def test_an_invoice_in_a_currency_the_account_lacks(tmp_path, way: str) -> None:
    """USD-only account: HubSpot refusing the EUR invoice dead-letters it alone, with a reason
    that names EUR; an account that accepts it gets it. The probe `check` uses lists EUR."""
    with HubSpotSandbox(token=TOKEN, currencies=(), unset_currency=way) as hs:
        config = {"access_token": TOKEN, "api_base_url": hs.url,
                  "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"}
        eur = invoice(2, DocCurrency="EUR", DocRate=1.1, DocTotalFc=200.0, VatSumFc=18.18,
                      PaidToDateFC=0.0)
        for line in eur["DocumentLines"]:
            line.update(Currency="EUR", RowTotalFC=90.91)
        run(config, messages(("business_partners", [customer(1)]),
                             ("invoices", [invoice(1), eur])))
        written = sorted(o["properties"]["hs_currency"] for o in hs.objects("invoices"))
        lacking = unset_currencies(HubSpotClient(hs.url, TOKEN, RateLimiter(100)),
                                   ["USD", "EUR", "eur", None])
    assert lacking == ["EUR"]
    dead = ledger_rows(config, "dead_letter")
    if way == "refuse":
        assert written == ["USD"]
        assert [d["doc_num"] for d in dead] == ["4002"]
        assert "HubSpot refused currency EUR" in str(dead[0]["error"])
    else:
        assert written == ["EUR", "USD"] and dead == []


def test_documented_path_stopped_between_draft_and_status_is_finished_once_by_the_rerun(
        hubspot_sandbox, target_config) -> None:
    """A portal refusing open-on-create; the run dies after the drafts were created and before
    their status update: no bookmark moves, and the rerun opens those same drafts (HubSpot's 409
    on sap_doc_num leads to them), never a second invoice."""
    hs = hubspot_sandbox
    hs.switches.open_on_create = False
    hs.add_fault("503", rate=1.0, path_contains="/objects/invoices/batch/update", times=50)
    config = {**target_config, "max_retries": 1, "backoff_base_seconds": 0.01}
    text = messages(("business_partners", [customer(c) for c in range(1, 5)]),
                    ("invoices", _invoices(1, 12)), state={"bookmarks": {"invoices": 12}})
    with pytest.raises(HubSpotError):  # the CLI makes it one line and exit 1
        run(config, text)
    drafts = hs.objects("invoices")
    assert len(drafts) == 12 and {d["properties"]["hs_invoice_status"] for d in drafts} == {
        "draft"}
    hs.clear_faults()
    _, states = run(config, text)
    invoices = hs.objects("invoices")
    assert sorted(int(o["properties"]["sap_doc_entry"]) for o in invoices) == list(range(1, 13))
    assert {o["id"] for o in invoices} == {d["id"] for d in drafts}  # the same objects
    assert all(o["properties"]["hs_invoice_status"] == ("paid" if int(
        o["properties"]["sap_doc_entry"]) % 3 == 0 else "open") for o in invoices)
    assert states[-1] == {"bookmarks": {"invoices": 12}}


def test_drafts_finished_when_their_customer_arrives_take_the_portals_path(
        hubspot_sandbox, target_config) -> None:
    """Invoices before their customer stay draft (no contact yet); when the customer and its
    contact arrive they leave draft. On a portal refusing `paid`, a paid one is opened and its
    payment makes it paid, instead of staying draft."""
    hs = hubspot_sandbox
    hs.switches.paid_settable = False
    run(target_config, messages(("invoices", _invoices(1, 6))))
    assert {o["properties"]["hs_invoice_status"] for o in hs.objects("invoices")} == {"draft"}
    run(target_config, messages(("business_partners", [customer(c) for c in range(1, 5)])))
    run(target_config, messages(("incoming_payments", _payments(1, 6))))
    statuses = {int(o["properties"]["sap_doc_entry"]): o["properties"]["hs_invoice_status"]
                for o in hs.objects("invoices")}
    assert statuses == {n: "paid" if n % 3 == 0 else "open" for n in range(1, 7)}
    assert ledger_rows(target_config, "dead_letter") == []


def test_a_whole_call_refusal_of_the_status_resends_every_invoice_of_that_call_as_a_draft(
        monkeypatch) -> None:
    """Where HubSpot fails a whole batch for one input's status (no per-input answer), every
    input carries that error: the drafts of the same call are as unwritten as the open ones
    and are sent again with them, not dead-lettered for another invoice's status."""
    from types import SimpleNamespace

    from target_hubspot_finance.hubspot import batches, invoice_paths

    whole = {"status": "error", "category": "VALIDATION_ERROR", "message": (
        'Property values were not valid: [{"isValid":false,"message":"An invoice is created as '
        'draft","error":"INVALID_INVOICE_STATUS","name":"hs_invoice_status"}]')}
    sent: list[dict[str, str]] = []

    def create(_client, _type, items, *_args):
        sent.append({k: p["hs_invoice_status"] for k, (p, _) in items.items()})
        out = batches.Written()
        refuse = any(p["hs_invoice_status"] != "draft" for p, _ in items.values())
        for key in items:
            if refuse:
                out.failed[key] = whole
            else:
                out.ids[key] = f"id-{key}"
        return out

    def update(_client, _type, items):
        out = batches.Written()
        out.ids.update({k: i for k, (i, _) in items.items()})
        return out

    class Memo(dict):
        def set(self, name, value):
            self[name] = value

    monkeypatch.setattr(batches, "create", create)
    monkeypatch.setattr(batches, "update", update)
    rt = SimpleNamespace(capabilities=Memo(), client=None)
    written = invoice_paths.create(rt, {"a": ({"hs_invoice_status": "open"}, []),
                                        "b": ({"hs_invoice_status": "draft"}, [])})
    assert written.failed == {}
    assert set(written.ids) == {"a", "b"}
    assert sent[-1] == {"a": "draft", "b": "draft"}


def test_a_portal_that_did_not_say_its_id_leaves_no_path_memo_for_other_portals() -> None:
    """Without HubSpot's portal id (account details unreadable) the answers are kept for the
    run only: stored under a shared 'unknown' key they steered the next portal the ledger met."""
    from target_hubspot_finance.hubspot.capabilities import OPEN_ON_CREATE, PAID_SETTABLE, Memo
    from target_hubspot_finance.ledger import Ledger

    ledger = Ledger("sqlite://")
    unknown = Memo(ledger, "")
    unknown.set(PAID_SETTABLE, False)
    unknown.set_value("assoc_type:a->b", "7")
    assert unknown.get(PAID_SETTABLE) is False  # this run remembers it
    later = Memo(ledger, "")
    assert later.get(PAID_SETTABLE) is None and later.value("assoc_type:a->b") is None
    known = Memo(ledger, "portal:42")
    known.set(OPEN_ON_CREATE, False)
    assert Memo(ledger, "portal:42").get(OPEN_ON_CREATE) is False


def test_a_status_refusal_that_is_not_about_paid_is_not_remembered_as_paid_refused(
        monkeypatch) -> None:
    """HubSpot refuses leaving draft without a contact and line items with the same property
    error as `paid`; when `open` is refused too, the refusal was not about `paid` and the
    portal is not remembered as refusing it (that memo writes every later paid invoice as
    open, which only payments can then settle)."""
    from types import SimpleNamespace

    from target_hubspot_finance.hubspot import batches, invoice_paths
    from target_hubspot_finance.hubspot.capabilities import PAID_SETTABLE

    refusal = {"status": "error", "category": "VALIDATION_ERROR", "message": (
        'Property values were not valid: [{"isValid":false,"message":"An invoice can only '
        'leave draft once a contact and at least one line item are associated","error":'
        '"INVALID_INVOICE_STATUS","name":"hs_invoice_status"}]')}

    def update(_client, _type, items):
        out = batches.Written()
        out.failed.update({k: refusal for k in items})
        return out

    class Memo(dict):
        def set(self, name, value):
            self[name] = value

    monkeypatch.setattr(batches, "update", update)
    rt = SimpleNamespace(capabilities=Memo(), client=None)
    written = invoice_paths.update(rt, {"a": ("1", {"hs_invoice_status": "paid"})})
    assert "a" in written.failed
    assert rt.capabilities.get(PAID_SETTABLE) is None


def test_a_portal_refusing_paid_without_hubspot_payments_is_said_in_one_warning(
        hubspot_sandbox, target_config, caplog) -> None:
    """`paid` refused and payments_mode properties (no HubSpot payment to settle the invoice):
    SAP's paid invoices stay open in HubSpot, with SAP's figures in sap_paid_to_date and
    sap_open_balance. The run says so once instead of leaving sales to find it."""
    hubspot_sandbox.switches.paid_settable = False
    config = {**target_config, "payments_mode": "properties"}
    with caplog.at_level("WARNING", logger="target_hubspot_finance"):
        _load(config, 1, 6)
    statuses = {int(o["properties"]["sap_doc_entry"]): o["properties"]["hs_invoice_status"]
                for o in hubspot_sandbox.objects("invoices")}
    assert statuses[3] == "open" and statuses[6] == "open"  # paid in SAP, open in HubSpot
    said = [r.getMessage() for r in caplog.records if "refuses hs_invoice_status paid" in
            r.getMessage()]
    assert len(said) == 1 and "payments_mode" in said[0], said
