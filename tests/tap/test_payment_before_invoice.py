"""Payments dated before the invoice they pay: SAP's rule is undocumented, so the SAP sandbox
has a switch (`DataSpec(payment_before_invoice="allow"|"refuse")`) and the tap must give the
right result under both (streams/early_payments.py reads pre-start payments with no lower date
bound because SAP may allow them)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from tap_helpers import catalog_for, parse, run_tap
from test_early_payments import (
    PASSWORD,
    START,
    STREAMS,
    config,
    emitted,
    hubspot_invoice,
    old_open_invoices,
    sap_balance,
)
from test_udf_to_hubspot import last_state, load, tap_output

from tap_sapb1.streams.early_payments import PAID_EARLY
from tap_sapb1.tap import TapSAPB1


def make_sap(rule: str):
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=40, credit_notes=0,
                    payments=0, payment_before_invoice=rule)
    return SapSandbox(data=spec, password=PASSWORD)


def day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day[:10]) - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("rule", ["allow", "refuse"])
def test_hubspot_balance_due_is_sap_s_whether_sap_allows_a_payment_before_its_invoice(
        hubspot_sandbox, target_config, rule):
    """An invoice dated before start_date, paid by a payment dated the day before the invoice:
    SAP may take it (allow: the tap's early check, with no lower date bound, loads it) or refuse
    it (400, -5002: nothing posted, then paid on the invoice's own day). Either way HubSpot's
    balance due is SAP's open amount and the payment SAP holds is in HubSpot."""
    from sap_sandbox.errors import SapError

    with make_sap(rule) as sb:
        invoice = old_open_invoices(sb)[0]
        lines = [{"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] / 2, 2)}]
        early_day = day_before(invoice["DocDate"])
        assert early_day < START
        if rule == "allow":
            payment = sb.post_payment(invoice["CardCode"], lines, doc_date=early_day)
        else:
            with pytest.raises(SapError) as refused:
                sb.post_payment(invoice["CardCode"], lines, doc_date=early_day)
            assert (refused.value.status, refused.value.code) == (400, -5002)
            assert sb.get("Invoices", invoice["DocEntry"])["PaidToDate"] == 0  # nothing posted
            payment = sb.post_payment(invoice["CardCode"], lines,
                                      doc_date=invoice["DocDate"][:10])
        assert sap_balance(sb, invoice["DocEntry"]) < invoice["DocTotal"] - 1  # the case exists
        load(target_config, tap_output(config(sb), STREAMS))
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(
            sap_balance(sb, invoice["DocEntry"]), abs=0.02)
        keys = {o["properties"]["sap_payment_key"]
                for o in hubspot_sandbox.objects("commerce_payments")}
        assert f"{payment['DocEntry']}-0" in keys


def test_a_refused_early_payment_over_http_is_sap_s_business_error():
    """`payment_before_invoice="refuse"` answers through the sandbox's own API as SAP's
    business errors do (HTTP 400, code -5002, the invoice named), and a payment on or after
    the invoice's date is still taken."""
    from sap_sandbox.errors import SapError

    with make_sap("refuse") as sb:
        invoice = old_open_invoices(sb)[0]
        lines = [{"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}]
        with pytest.raises(SapError, match=f"invoice {invoice['DocEntry']}"):
            sb.post_payment(invoice["CardCode"], lines, doc_date=day_before(invoice["DocDate"]))
        assert sb.post_payment(invoice["CardCode"], lines,
                               doc_date=invoice["DocDate"][:10])["DocEntry"]


def test_with_allow_a_pre_start_payment_of_an_in_scope_invoice_reaches_hubspot(
        hubspot_sandbox, target_config):
    """Where SAP allows it, a payment dated before start_date may pay an invoice dated on or
    after it. Made before the first run, it is in no DocEntry read (the first reads payments
    dated from start_date) and pays no invoice dated before start_date: the first run's early
    check, from start_date, also takes the invoices dated after it, so HubSpot's balance due
    is SAP's open amount."""
    with make_sap("allow") as sb:
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] >= START
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] / 2, 2)}],
            doc_date=day_before(START))
        load(target_config, tap_output(config(sb), STREAMS))
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(
            sap_balance(sb, invoice["DocEntry"]), abs=0.02)


@pytest.mark.parametrize("bookmarked", [True, False])
def test_with_allow_a_pre_start_payment_made_after_the_first_run_reaches_hubspot_once(
        hubspot_sandbox, target_config, bookmarked):
    """Made after the first run, such a payment is new: with a DocEntry bookmark (a payment
    dated since start_date was read) the DocEntry read brings it; with none yet the next run
    reads payments dated from start_date again, so the early check runs from start_date again.
    Either way HubSpot's balance due is SAP's and the payment is in HubSpot once."""
    with make_sap("allow") as sb:
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] >= START
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        if bookmarked:  # dated today: the first run sets a DocEntry bookmark
            sb.post_payment(invoice["CardCode"], [
                {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        assert ("replication_key_value" in last_state(first)["bookmarks"]["incoming_payments"]
                ) is bookmarked
        sb.clock.advance(120)
        late = sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] / 2, 2)}],
            doc_date=day_before(START))
        second = tap_output(config(sb), STREAMS, state=last_state(first))
        load(target_config, second)
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(
            sap_balance(sb, invoice["DocEntry"]), abs=0.02)
    assert emitted(second, "incoming_payments").count(late["DocEntry"]) == 1
    keys = [o["properties"]["sap_payment_key"]
            for o in hubspot_sandbox.objects("commerce_payments")]
    assert keys.count(f"{late['DocEntry']}-0") == 1


def test_with_allow_a_pre_start_payment_of_an_in_scope_invoice_cancelled_later_reopens_it(
        hubspot_sandbox, target_config):
    """The first run loads such a payment (dated before start_date, paying an invoice dated
    after it) and keeps its invoice in the state (PAID_EARLY): the later checks take it when
    stamped, at one invoice query a run (none where SAP refuses such payments). Cancelled
    later (SAP re-stamps the invoice it reopens), the next run re-reads it cancelled and
    HubSpot's balance due is back to SAP's."""
    with make_sap("allow") as sb:
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] >= START
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        sb.post_payment(invoice["CardCode"], [  # dated today: the first run sets a bookmark
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        early = sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] / 2, 2)}],
            doc_date=day_before(START))
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        assert early["DocEntry"] in emitted(first, "incoming_payments")
        marks = last_state(first)["bookmarks"]["incoming_payments"]
        assert marks[PAID_EARLY] == [invoice["DocEntry"]]
        sb.clock.advance(3 * 86400)
        checked = tap_output(config(sb), STREAMS, state=last_state(first))  # days after
        load(target_config, checked)
        asked = len(sb.requests)
        checked = tap_output(config(sb), STREAMS, state=last_state(checked))
        load(target_config, checked)
        early_queries = [r for r in sb.requests[asked:] if r.path.endswith("/IncomingPayments")
                         and "CardCode" in r.query.get("$filter", "")]
        tracked = [r for r in sb.requests[asked:] if r.path.endswith("/Invoices")
                   and "DocEntry eq" in r.query.get("$filter", "")]
        assert (len(early_queries), len(tracked)) == (0, 1)  # nothing changed: one query more
        sb.cancel_payment(early["DocEntry"])
        second = tap_output(config(sb), STREAMS, state=last_state(checked))
        load(target_config, second)
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(
            sap_balance(sb, invoice["DocEntry"]), abs=0.02)


def test_with_refuse_nothing_is_kept_for_later_checks():
    """Where SAP refuses a payment dated before its invoice, a payment dated before start_date
    pays only invoices dated before it, which every check takes by date: the first run keeps
    no invoice for later checks (no query more per run), even for an invoice dated on the eve
    of start_date."""
    with make_sap("refuse") as sb:
        invoice = old_open_invoices(sb)[0]
        eve = day_before(START)
        sb.update("Invoices", invoice["DocEntry"], {"DocDate": eve})
        assert sb.get("Invoices", invoice["DocEntry"])["DocDate"][:10] == eve
        early = sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}], doc_date=eve)
        out = run_tap(config(sb), ["incoming_payments"])
    assert early["DocEntry"] in out.keys("incoming_payments")
    assert out.state["bookmarks"]["incoming_payments"][PAID_EARLY] == []


def test_with_allow_a_state_from_before_early_paid_invoices_checks_from_start_date_once():
    """A state written before `early_paid_invoices` existed (a DocEntry bookmark and a check
    mark, no list) comes from runs that never read a payment dated before start_date paying
    an invoice dated after it (the check took invoices dated before start_date only): the
    first run on it checks from start_date once, so such a payment made before the upgrade
    is emitted, and the next run with nothing changed asks for no early payment."""
    with make_sap("allow") as sb:
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] >= START
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        early = sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] / 2, 2)}],
            doc_date=day_before(START))
        sb.post_payment(invoice["CardCode"], [  # dated today, a DocEntry past the early one's:
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])  # the bookmark passes it
        first = run_tap(config(sb), ["incoming_payments"])
        old = first.state
        old["bookmarks"]["incoming_payments"].pop(PAID_EARLY)  # as an older tap wrote it
        sb.clock.advance(3 * 86400)
        upgraded = run_tap(config(sb), ["incoming_payments"], state=old)
        assert early["DocEntry"] in upgraded.keys("incoming_payments")
        assert upgraded.state["bookmarks"]["incoming_payments"][PAID_EARLY] == [
            invoice["DocEntry"]]
        asked = len(sb.requests)
        run_tap(config(sb), ["incoming_payments"], state=upgraded.state)
        early_queries = [r for r in sb.requests[asked:] if r.path.endswith("/IncomingPayments")
                         and "CardCode" in r.query.get("$filter", "")]
    assert early_queries == []


def test_a_killed_upgrade_run_checks_from_start_date_again_when_resumed(monkeypatch):
    """The first run on a state from before `early_paid_invoices` dies between two such
    payments; Meltano merges its last STATE over the old one (a partial state's keys win), and
    the resumed run still checks from start_date and reads the second payment."""
    from singer_sdk.exceptions import RetriableAPIError

    from tap_sapb1.streams.payments import IncomingPaymentsStream

    monkeypatch.setattr(IncomingPaymentsStream, "STATE_MSG_FREQUENCY", 1)
    with make_sap("allow") as sb:
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] >= START
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        early = [sb.post_payment(invoice["CardCode"], [
            {"DocEntry": invoice["DocEntry"], "SumApplied": 5.0}], doc_date=day)["DocEntry"]
            for day in ("2025-12-20", "2025-12-22")]
        sb.post_payment(invoice["CardCode"], [  # dated today: the bookmark passes both
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        sb.clock.advance(3 * 86400)  # the invoice's stamp is before the old check's mark
        cfg = {**config(sb), "page_size": 1, "max_retries": 1}
        old = run_tap(cfg, ["incoming_payments"]).state
        old["bookmarks"]["incoming_payments"].pop(PAID_EARLY)  # as an older tap wrote it
        sb.clock.advance(3 * 86400)
        # IncomingPayments requests: 1 = in-scope (today's payment), 2 = first early page
        sb.add_fault("500", at=range(3, 40), path_contains="/IncomingPayments")
        tap = TapSAPB1(config=cfg, catalog=catalog_for(cfg, ["incoming_payments"]), state=old)
        buffer = io.StringIO()
        with redirect_stdout(buffer), pytest.raises(RetriableAPIError):
            tap.sync_all()
        tap.close()
        killed = parse(buffer.getvalue())
        assert early[0] in killed.keys("incoming_payments")
        assert early[1] not in killed.keys("incoming_payments")
        merged = json.loads(json.dumps(old))
        merged["bookmarks"]["incoming_payments"].update(
            killed.state["bookmarks"]["incoming_payments"])
        sb.clear_faults()
        resumed = run_tap(cfg, ["incoming_payments"], state=merged)
    assert early[1] in resumed.keys("incoming_payments")
