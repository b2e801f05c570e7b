"""Payments dated before start_date that pay invoices the tap emits (streams/early_payments.py).

HubSpot computes an invoice's balance due from the payments associated with it, so a payment
the tap never reads leaves HubSpot showing money owed that SAP has received.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from tap_helpers import catalog_for, parse, run_cli, run_tap
from test_udf_to_hubspot import last_state, load, tap_output

from tap_sapb1.streams.early_payments import CHECKED_SINCE, PAID_EARLY
from tap_sapb1.tap import TapSAPB1

PASSWORD = "S3cr3t-B1-passw0rd!"
START = "2026-01-01"
STREAMS = ("business_partners", "invoices", "incoming_payments")


def make_sap():
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=40, credit_notes=0,
                    payments=0)
    return SapSandbox(data=spec, password=PASSWORD)


def config(sb) -> dict:
    return {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
            "password": PASSWORD, "request_timeout": 5, "backoff_seconds": 0.01,
            "start_date": f"{START}T00:00:00Z"}


def old_open_invoices(sb) -> list[dict]:
    """Open invoices dated before start_date, nothing paid yet."""
    return [i for i in sb.all("Invoices") if i["DocDate"][:10] < START
            and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
            and not i["PaidToDate"]]


def pay_early(sb, invoice: dict, share: float, day: str) -> dict:
    """A payment dated `day` (before start_date) of `share` of the invoice; SAP re-stamps the
    invoice, so the invoices stream emits it with the payment in its PaidToDate."""
    return sb.post_payment(invoice["CardCode"], [
        {"DocEntry": invoice["DocEntry"], "SumApplied": round(invoice["DocTotal"] * share, 2)}],
        doc_date=day)


def hubspot_invoice(hs, entry: int) -> dict:
    return next(o["properties"] for o in hs.objects("invoices")
                if str(o["properties"].get("sap_doc_entry")) == str(entry))


def sap_balance(sb, entry: int) -> float:
    """SAP's open amount in the invoice's own currency (the FC figures on a foreign one)."""
    inv = sb.get("Invoices", entry)
    if inv["DocCurrency"] != "USD":
        return inv["DocTotalFc"] - inv["PaidToDateFC"]
    return inv["DocTotal"] - inv["PaidToDate"]


def test_hubspot_balance_due_counts_payments_dated_before_start_date(hubspot_sandbox,
                                                                       target_config):
    """A USD and a EUR invoice dated before start_date, part paid before it (SAP's example:
    invoice 2025-12-10, payment 2025-12-20, start 2026-01-01): HubSpot's balance due is SAP's
    open amount in the invoice's currency; a rerun from the state writes nothing, and a
    replay of the whole first load (no state) holds each payment once (no double count)."""
    with make_sap() as sb:
        olds = old_open_invoices(sb)
        usd = next(i for i in olds if i["DocCurrency"] == "USD")
        eur = next(i for i in olds if i["DocCurrency"] == "EUR")
        pay_early(sb, usd, 0.5, "2025-12-20")
        pay_early(sb, eur, 1 / 3, "2025-12-21")
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        for inv in (usd, eur):
            hs_inv = hubspot_invoice(hubspot_sandbox, inv["DocEntry"])
            assert sap_balance(sb, inv["DocEntry"]) < inv["DocTotal"] - 1  # the case exists
            assert float(hs_inv["hs_balance_due"]) == pytest.approx(
                sap_balance(sb, inv["DocEntry"]), abs=0.02), inv["DocCurrency"]
            assert hs_inv["hs_invoice_status"] in ("open", "draft")  # draft: no contact
        payments = len(hubspot_sandbox.objects("commerce_payments"))
        writes = hubspot_sandbox.writes()

        load(target_config, tap_output(config(sb), STREAMS, state=last_state(first)))
        assert hubspot_sandbox.writes() == writes, "a rerun with nothing changed wrote"
        load(target_config, first)  # replayed: the same payments, upserted by their keys
        assert len(hubspot_sandbox.objects("commerce_payments")) == payments
        assert float(hubspot_invoice(hubspot_sandbox, usd["DocEntry"])["hs_balance_due"]) == (
            pytest.approx(sap_balance(sb, usd["DocEntry"]), abs=0.02))


def test_an_early_payment_cancelled_later_reopens_its_invoice_in_hubspot(hubspot_sandbox,
                                                                         target_config):
    """SAP reopens and re-stamps the invoice of a cancelled payment: the next run's check
    finds that invoice, emits the payment again cancelled, and HubSpot's balance due is back
    to SAP's (the payment is outside the payments_reread_days window)."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = pay_early(sb, invoice, 0.5, "2025-12-20")
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        paid_half = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])["hs_balance_due"]
        assert float(paid_half) == pytest.approx(sap_balance(sb, invoice["DocEntry"]), abs=0.02)
        sb.clock.advance(2 * 86400)
        sb.cancel_payment(early["DocEntry"])
        load(target_config, tap_output(config(sb), STREAMS, state=last_state(first)))
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert sap_balance(sb, invoice["DocEntry"]) == pytest.approx(invoice["DocTotal"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(invoice["DocTotal"], abs=0.02)


def test_only_early_payments_of_invoices_the_run_emits_are_read(hubspot_sandbox):
    """An early payment of an invoice not stamped since start_date (so not emitted) stays
    unread; the DocEntry bookmark is the in-scope payments' alone."""
    with make_sap() as sb:
        olds = old_open_invoices(sb)
        emitted, quiet = olds[0], next(i for i in olds if i["CardCode"] != olds[0]["CardCode"])
        wanted = pay_early(sb, emitted, 0.5, "2025-12-20")
        unwanted = pay_early(sb, quiet, 0.5, "2025-12-20")
        sb.update("Invoices", quiet["DocEntry"], {"UpdateDate": "2025-12-20",
                                                  "UpdateTime": "10:00:00"})
        recent = sb.post_payment(emitted["CardCode"], [
            {"DocEntry": emitted["DocEntry"], "SumApplied": 1.0}])  # dated today
        out = run_tap(config(sb), ["incoming_payments"])
    keys = out.keys("incoming_payments")
    assert wanted["DocEntry"] in keys
    assert unwanted["DocEntry"] not in keys
    bookmark = out.state["bookmarks"]["incoming_payments"]
    assert bookmark["replication_key_value"] == recent["DocEntry"]
    assert bookmark[CHECKED_SINCE] >= START


def test_an_old_invoice_changed_in_a_later_run_brings_its_early_payments(hubspot_sandbox,
                                                                          target_config):
    """Not only the first run: an invoice dated and last stamped before start_date is not
    loaded then; edited months later it is, and so is the payment that part paid it."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = pay_early(sb, invoice, 0.25, "2025-12-20")
        sb.update("Invoices", invoice["DocEntry"], {"UpdateDate": "2025-12-20",
                                                    "UpdateTime": "10:00:00"})
        first = tap_output(config(sb), STREAMS)
        load(target_config, first)
        assert early["DocEntry"] not in emitted(first, "incoming_payments")
        sb.clock.advance(120)
        sb.update("Invoices", invoice["DocEntry"], {"Comments": "address corrected"})
        second = tap_output(config(sb), STREAMS, state=last_state(first))
        load(target_config, second)
        hs_inv = hubspot_invoice(hubspot_sandbox, invoice["DocEntry"])
        assert float(hs_inv["hs_balance_due"]) == pytest.approx(
            sap_balance(sb, invoice["DocEntry"]), abs=0.02)


@pytest.mark.parametrize("bookmarked", [True, False])
def test_a_later_run_with_no_old_invoice_changed_asks_for_no_early_payment(hubspot_sandbox,
                                                                           bookmarked):
    """The check's mark follows SAP's clock (its Date header less the look-back), not the
    newest invoice seen: once a run has checked days after the last change, the next asks for
    one empty invoice page and no payments (a mark left at the last change would query that
    customer's payments on every run for ever); two when no payment dated since start_date
    was ever read (no DocEntry bookmark: the check takes invoices of any date, those dated
    before start_date told apart by SAP's filter)."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = pay_early(sb, invoice, 0.5, "2025-12-20")
        if bookmarked:  # dated today
            sb.post_payment(invoice["CardCode"], [
                {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        first = run_tap(config(sb), ["incoming_payments"])
        assert early["DocEntry"] in first.keys("incoming_payments")
        sb.clock.advance(3 * 86400)
        checked = run_tap(config(sb), ["incoming_payments"], state=first.state)
        before = len(sb.requests)
        later = run_tap(config(sb), ["incoming_payments"], state=checked.state)
        asked = sb.requests[before:]
    assert [k for k in later.keys("incoming_payments") if k == early["DocEntry"]] == []
    early_queries = [r for r in asked if r.path.endswith("/IncomingPayments")
                     and "CardCode" in r.query.get("$filter", "")]
    assert early_queries == []
    checks = [r for r in asked if r.path.endswith("/Invoices")]
    assert len(checks) == (1 if bookmarked else 2)
    mark = later.state["bookmarks"]["incoming_payments"][CHECKED_SINCE]
    assert mark > first.state["bookmarks"]["incoming_payments"][CHECKED_SINCE]


def test_a_run_killed_while_reading_early_payments_reads_them_when_resumed(
        hubspot_sandbox, monkeypatch):
    """A run that dies between two early payments (a STATE after each record) resumes from its
    last STATE and reads the second one: the check's mark moves only with the STATE after its
    payments, and an early payment never moves the DocEntry bookmark."""
    from singer_sdk.exceptions import RetriableAPIError

    from tap_sapb1.streams.payments import IncomingPaymentsStream

    monkeypatch.setattr(IncomingPaymentsStream, "STATE_MSG_FREQUENCY", 1)
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = [pay_early(sb, invoice, 0.25, day)["DocEntry"]
                 for day in ("2025-12-20", "2025-12-22")]
        cfg = {**config(sb), "page_size": 1, "max_retries": 1}
        # IncomingPayments requests: 1 = in-scope payments (none), 2 = first early page
        sb.add_fault("500", at=range(3, 40), path_contains="/IncomingPayments")
        tap = TapSAPB1(config=cfg, catalog=catalog_for(cfg, ["incoming_payments"]))
        buffer = io.StringIO()
        with redirect_stdout(buffer), pytest.raises(RetriableAPIError):
            tap.sync_all()
        tap.close()
        killed = parse(buffer.getvalue())
        assert killed.keys("incoming_payments") == early[:1]  # killed between the two
        assert killed.state  # a STATE followed the first early payment
        sb.clear_faults()
        resumed = run_tap(cfg, ["incoming_payments"], state=killed.state)
    assert early[1] in resumed.keys("incoming_payments")


def emitted(messages: str, stream: str) -> list[int]:
    """DocEntries of `stream`'s records in a tap's output."""
    return [m["record"]["DocEntry"] for m in map(json.loads, filter(None, messages.splitlines()))
            if m["type"] == "RECORD" and m["stream"] == stream]


def test_a_new_payment_dated_before_start_date_is_emitted_once_in_a_run(hubspot_sandbox):
    """A payment added after the first run but back-dated before start_date is new (DocEntry
    past the bookmark), and it re-stamps the old invoice it pays: the in-scope read and the
    early check both find it, yet a run emits each record once (a generic Singer target such
    as target-jsonl or target-postgres would store it twice)."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        pay_early(sb, invoice, 0.25, "2025-12-20")
        sb.post_payment(invoice["CardCode"], [  # dated today: the run sets a DocEntry bookmark
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        first = run_tap(config(sb), ["incoming_payments"])
        assert first.state["bookmarks"]["incoming_payments"]["replication_key_value"]
        sb.clock.advance(120)
        late = pay_early(sb, invoice, 0.25, "2025-12-22")
        second = run_tap(config(sb), ["incoming_payments"], state=first.state)
    keys = second.keys("incoming_payments")
    assert late["DocEntry"] in keys
    assert sorted(set(keys)) == sorted(keys), keys
    # its invoice is dated before start_date: the check takes it by date, nothing to track
    assert second.state["bookmarks"]["incoming_payments"][PAID_EARLY] == []


def test_an_early_payment_within_the_reread_window_cancelled_later_is_emitted_again():
    """start_date 10 days ago: a payment dated 15 days ago (before start_date, within
    payments_reread_days) of an old invoice is loaded by the early check. Cancelled later on a
    SAP that does not re-stamp the invoice (undocumented: the sandbox's switch), only a re-read
    of the payment brings the cancellation, as the re-read window does for every payment dated
    within it."""
    import datetime as dt

    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=40, credit_notes=0,
                    payments=0, restamp_on_payment_cancel=False)
    with SapSandbox(data=spec, password=PASSWORD) as sb:
        today = sb.clock.now().date()
        start = (today - dt.timedelta(days=10)).isoformat()
        paid_on = (today - dt.timedelta(days=15)).isoformat()
        invoice = next(i for i in sb.all("Invoices") if i["DocDate"][:10] < paid_on
                       and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and not i["PaidToDate"])
        early = pay_early(sb, invoice, 0.5, paid_on)
        quiet = next(i for i in sb.all("Invoices") if i["DocDate"][:10] < paid_on
                     and i["CardCode"] != invoice["CardCode"] and not i["PaidToDate"]
                     and i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo")
        unloaded = pay_early(sb, quiet, 0.5, paid_on)  # its invoice is never loaded:
        sb.update("Invoices", quiet["DocEntry"], {"UpdateDate": paid_on, "UpdateTime": "10:00:00"})
        cfg = {**config(sb), "start_date": f"{start}T00:00:00Z"}
        before = len(sb.requests)
        first = run_tap(cfg, ["incoming_payments"])
        assert early["DocEntry"] in first.keys("incoming_payments")
        reads = [r for r in sb.requests[before:] if r.path.endswith("/IncomingPayments")]
        assert len(reads) == 2  # in scope + the check from start_date (covers the window)
        sb.clock.advance(3 * 86400)
        checked = run_tap(cfg, ["incoming_payments"], state=first.state)  # days after
        sb.cancel_payment(early["DocEntry"])
        second = run_tap(cfg, ["incoming_payments"], state=checked.state)
    again = [r for r in second.records["incoming_payments"] if r["DocEntry"] == early["DocEntry"]]
    assert [r["Cancelled"] for r in again] == ["tYES"]
    runs = (first, checked, second)
    assert all(unloaded["DocEntry"] not in run.keys("incoming_payments") for run in runs)
    assert all(len(set(run.keys("incoming_payments"))) == len(run.keys("incoming_payments"))
               for run in runs), "a payment emitted twice in a run"


@pytest.mark.parametrize("deselected", ["CardCode", "PaymentInvoices"])
def test_early_payments_do_not_depend_on_the_catalog_selecting_what_the_check_reads(
        hubspot_sandbox, deselected):
    """The check finds payments by CardCode and PaymentInvoices: a catalog that leaves either
    out still gets its early payments (without the field), not silently none."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = pay_early(sb, invoice, 0.5, "2025-12-20")
        catalog = catalog_for(config(sb), ["incoming_payments"])
        entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "incoming_payments")
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == ["properties", deselected]:
                meta["metadata"]["selected"] = False
        out = run_tap(config(sb), catalog=catalog)
    assert out.keys("incoming_payments") == [early["DocEntry"]]
    assert deselected not in out.records["incoming_payments"][0]


@pytest.mark.parametrize("mark", ["2031-01-01", "not-a-date"])
def test_a_check_mark_past_sap_s_clock_or_unreadable_checks_again_from_start_date(
        hubspot_sandbox, caplog, mark):
    """A mark more than a day past SAP's clock (a Service Layer clock once set wrong, a
    hand-edited state) would hide every old invoice's change until that day; an unreadable
    one goes to SAP as a query. Either is dropped with one warning and the check runs from
    start_date, like the invoices bookmark (incremental.py)."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        early = pay_early(sb, invoice, 0.5, "2025-12-20")
        state = {"bookmarks": {"incoming_payments": {CHECKED_SINCE: mark, PAID_EARLY: []}}}
        out = run_tap(config(sb), ["incoming_payments"], state=state)
    assert out.keys("incoming_payments") == [early["DocEntry"]]
    assert out.state["bookmarks"]["incoming_payments"][CHECKED_SINCE] < "2030-01-01"
    assert sum(CHECKED_SINCE in m and mark in m for m in caplog.messages) == 1


@pytest.mark.parametrize("kept", ["12", ["12 or DocEntry gt 0"], 12])
def test_a_hand_edited_list_of_early_paid_invoices_is_not_sent_to_sap(hubspot_sandbox, kept):
    """`early_paid_invoices` that is not a list of DocEntries (a hand-edited state) is read as
    empty: no query built from it, the run ends normally and the old invoice's early payment
    still comes."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        sb.post_payment(invoice["CardCode"], [  # dated today: the run sets a DocEntry bookmark
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        first = run_tap(config(sb), ["incoming_payments"])
        sb.clock.advance(3 * 86400)
        early = pay_early(sb, invoice, 0.25, "2025-12-20")
        state = json.loads(json.dumps(first.state))
        state["bookmarks"]["incoming_payments"][PAID_EARLY] = kept
        before = len(sb.requests)
        out = run_tap(config(sb), ["incoming_payments"], state=state)
        asked = [r.query.get("$filter", "") for r in sb.requests[before:]]
    assert early["DocEntry"] in out.keys("incoming_payments")
    assert not any("DocEntry eq" in q for q in asked)


@pytest.mark.parametrize("page", [1, 2])  # the DocEntry read's page, the early check's page
def test_a_payment_dated_out_of_range_is_one_line_not_a_traceback(tmp_path, page):
    """A payment whose DocDate is no date (`/Date(ms)/` past any datetime) stops the run with
    one line naming it, on the DocEntry read's page and on the early check's page alike."""
    with make_sap() as sb:
        invoice = old_open_invoices(sb)[0]
        pay_early(sb, invoice, 0.5, "2025-12-20")
        sb.post_payment(invoice["CardCode"], [  # dated today: a page for the DocEntry read
            {"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}])
        sb.add_fault("bad-date", at=page, path_contains="IncomingPayments")
        run = run_cli(tmp_path, {**config(sb), "max_retries": 1},
                      streams=("incoming_payments",))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1 and "IncomingPayments DocEntry" in errors[0], run.stderr[-2000:]
    assert "not a date" in errors[0]
