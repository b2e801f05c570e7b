"""incoming_payments without UpdateDate: a DocEntry bookmark plus a DocDate re-read window.

A payment cancelled in SAP changes no stamp, so the tap re-reads the payments dated within
`payments_reread_days` each run; new payments come by DocEntry (issue 10 item 3).
"""

from __future__ import annotations

import datetime as dt
import io
from contextlib import redirect_stdout

import pytest
from singer_sdk.exceptions import RetriableAPIError
from tap_helpers import Output, TapSAPB1, config_for, parse, run_cli, run_tap

STREAMS = ["incoming_payments", "invoices"]


def open_invoice(sb, exclude: tuple[int, ...] = ()) -> dict:
    """An open, uncancelled invoice in the company's currency with something left to pay."""
    return next(i for i in sb.all("Invoices")
                if i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                and i["DocCurrency"] == "USD" and i["DocTotal"] - i["PaidToDate"] > 10
                and i["DocEntry"] not in exclude)


def pay(sb, invoice: dict, amount: float = 10.0, doc_date: str | None = None) -> dict:
    return sb.post_payment(invoice["CardCode"], [{"DocEntry": invoice["DocEntry"],
                                                  "SumApplied": amount}], doc_date=doc_date)


def bookmark(out: Output) -> int:
    return out.state["bookmarks"]["incoming_payments"]["replication_key_value"]


def by_key(out: Output, stream: str) -> dict:
    return {r["DocEntry"]: r for r in out.records[stream]}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_payments_created_and_cancelled_between_runs_reach_the_next_run(make_sandbox, version):
    sb = make_sandbox()
    config = config_for(sb, url=sb.url if version == "v1" else sb.url_v2, lookback_minutes=0)
    first_invoice = open_invoice(sb)
    paid = pay(sb, first_invoice, 25.0)
    first = run_tap(config, STREAMS)
    assert by_key(first, "incoming_payments")[paid["DocEntry"]]["Cancelled"] == "tNO"
    assert bookmark(first) == max(p["DocEntry"] for p in sb.all("IncomingPayments"))

    new = pay(sb, open_invoice(sb, exclude=(first_invoice["DocEntry"],)), 12.5)
    sb.cancel_payment(paid["DocEntry"])
    second = run_tap(config, STREAMS, state=first.state)

    payments = by_key(second, "incoming_payments")
    assert payments[new["DocEntry"]]["Cancelled"] == "tNO"
    cancelled = payments[paid["DocEntry"]]
    assert (cancelled["Cancelled"], cancelled["CancelStatus"]) == ("tYES", "csYes")
    reopened = by_key(second, "invoices")[first_invoice["DocEntry"]]
    assert reopened["PaidToDate"] == pytest.approx(first_invoice["PaidToDate"])
    assert reopened["DocumentStatus"] == "bost_Open"
    assert bookmark(second) == new["DocEntry"]


def test_a_rerun_re_reads_only_the_window_and_never_moves_the_bookmark_back(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb, payments_reread_days=30)
    first = run_tap(config, ["incoming_payments"])
    second = run_tap(config, ["incoming_payments"], state=first.state)
    since = TapSAPB1(config=config).streams["incoming_payments"].window_start()
    expected = sorted(p["DocEntry"] for p in sb.all("IncomingPayments")
                      if p["DocDate"][:10] >= since)
    assert sorted(second.keys("incoming_payments")) == expected
    assert len(expected) < len(sb.all("IncomingPayments"))
    assert bookmark(second) == bookmark(first)
    query = [r.query["$filter"] for r in sb.requests if r.path.endswith("/IncomingPayments")][-1]
    assert query.startswith(f"DocEntry gt {bookmark(first)} or DocDate ge '{since}'")


def test_a_payment_committed_after_a_higher_doc_entry_is_read_by_the_window(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb)
    start = run_tap(config, ["incoming_payments"])
    invoice = open_invoice(sb)
    today = sb.clock.stamp()[0]
    late = sb.transaction()  # a payment saved in a long transaction: DocEntry now, visible later
    low = late.create("IncomingPayments", {
        "DocType": "rCustomer", "DocDate": today, "CardCode": invoice["CardCode"],
        "DocCurrency": "USD", "CashSum": 5.0, "Cancelled": "tNO", "CancelStatus": "csNo",
        "PaymentInvoices": []})
    high = pay(sb, invoice)
    assert low["DocEntry"] < high["DocEntry"]
    middle = run_tap(config, ["incoming_payments"], state=start.state)
    assert high["DocEntry"] in middle.keys("incoming_payments")
    assert low["DocEntry"] not in middle.keys("incoming_payments")
    assert bookmark(middle) == high["DocEntry"]
    late.commit()

    without_window = run_tap({**config, "payments_reread_days": 0}, ["incoming_payments"],
                             state=middle.state)
    assert low["DocEntry"] not in without_window.keys("incoming_payments")  # DocEntry alone
    with_window = run_tap(config, ["incoming_payments"], state=middle.state)
    assert low["DocEntry"] in with_window.keys("incoming_payments")


def test_an_old_cancelled_payment_is_left_to_the_full_pass(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb, payments_reread_days=30)
    invoice = open_invoice(sb)
    old_day = (dt.date.fromisoformat(sb.clock.stamp()[0]) - dt.timedelta(days=90)).isoformat()
    old = pay(sb, invoice, doc_date=old_day)
    first = run_tap(config, ["incoming_payments"])
    sb.cancel_payment(old["DocEntry"])
    incremental = run_tap(config, ["incoming_payments"], state=first.state)
    assert old["DocEntry"] not in incremental.keys("incoming_payments")
    full_pass = run_tap(config, ["incoming_payments"])  # --full-refresh: no state
    assert by_key(full_pass, "incoming_payments")[old["DocEntry"]]["Cancelled"] == "tYES"


def test_a_run_killed_mid_read_loses_no_payment_when_resumed(make_sandbox):
    """An incremental run (from a real bookmark) killed mid-read, then the next run from the
    last STATE it wrote: every payment posted since the bookmark arrives. (Started from no
    state, the 'resume' was a full first run that proved nothing about resuming.)"""
    sb = make_sandbox()
    config = config_for(sb, page_size=5, max_retries=1, payments_reread_days=0)
    first = run_tap(config, ["incoming_payments"])
    invoice = open_invoice(sb)
    posted = {pay(sb, invoice, 0.5)["DocEntry"] for _ in range(14)}  # three pages and more
    sb.add_fault("500", at=range(3, 40), path_contains="/IncomingPayments")  # pages 3+ fail
    tap = TapSAPB1(config=config, catalog=_catalog(config), state=first.state)
    buffer = io.StringIO()
    with redirect_stdout(buffer), pytest.raises(RetriableAPIError):  # SAP kept answering 500
        tap.sync_all()
    tap.close()
    killed = parse(buffer.getvalue())
    got = set(killed.keys("incoming_payments"))
    assert got and got < posted  # killed mid-read: some of the new payments, not all
    if killed.state:  # a STATE the killed run wrote never points past what it emitted
        assert bookmark(killed) <= max(got)
    sb.clear_faults()
    resumed = run_tap(config, ["incoming_payments"], state=killed.state or first.state)
    assert posted <= got | set(resumed.keys("incoming_payments"))


def test_state_from_the_update_date_version_reads_payments_again_in_full(make_sandbox):
    sb = make_sandbox()
    old_state = {"bookmarks": {"incoming_payments": {
        "replication_key": "sap_updated_at", "replication_key_value": "2099-01-01T00:00:00+00:00"}}}
    out = run_tap(config_for(sb), ["incoming_payments"], state=old_state)
    assert len(out.records["incoming_payments"]) == len(sb.all("IncomingPayments"))
    assert out.state["bookmarks"]["incoming_payments"]["replication_key"] == "DocEntry"


def _catalog(config: dict) -> dict:
    from tap_helpers import catalog_for

    return catalog_for(config, ["incoming_payments"])


@pytest.mark.parametrize("state", ["first run", "incremental"])
def test_a_server_ignoring_the_filter_stops_payments_with_one_line(make_sandbox, tmp_path, state):
    """A keyset page that repeats what it was asked to skip would loop forever: one line."""
    sb = make_sandbox(filter_mode="ignore-all")
    config = config_for(sb, page_size=5, payments_reread_days=1)
    old = {"bookmarks": {"incoming_payments": {"replication_key": "DocEntry",
                                               "replication_key_value": 10**6}}}
    run = run_cli(tmp_path, config, state=old if state == "incremental" else None,
                  streams=("incoming_payments",), timeout=60)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    [line] = run.error_lines()
    assert "ignores" in line and "IncomingPayments" in line
    assert sb.count(path_contains="IncomingPayments") <= 3  # stopped at once: no loop


def _payments_stream(**settings):
    tap = TapSAPB1(config={"service_layer_url": "https://127.0.0.1:9/b1s/v1", "company_db": "X",
                           "username": "u", "password": "p", **settings}, validate_config=False)
    return tap.streams["incoming_payments"]


@pytest.mark.parametrize("zone", ["America/Los_Angeles", None])
def test_the_re_read_window_counts_days_on_saps_calendar_not_the_taps(zone):
    """DocDate is SAP's local date: at 05:00 UTC it is still yesterday in California, so a
    one-day window must reach back to the day before that (unknown zone: the westernmost)."""
    stream = _payments_stream(payments_reread_days=1,
                              **({"server_timezone": zone} if zone else {}))
    now = dt.datetime(2026, 3, 10, 5, 0, tzinfo=dt.UTC)  # 2026-03-09 21:00 in Los Angeles
    assert stream.window_start(now) == "2026-03-08"


def test_the_re_read_window_starts_no_earlier_than_start_date():
    """The first run reads payments dated from start_date: later runs' window stays inside."""
    stream = _payments_stream(payments_reread_days=60, start_date="2026-03-01T00:00:00Z")
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    assert stream.window_start(now) == "2026-03-01"
    assert _payments_stream(payments_reread_days=0,
                            start_date="2026-03-01T00:00:00Z").window_start(now) is None


def test_an_interrupted_run_of_the_update_date_version_leaves_no_date_bookmark(make_sandbox):
    """An old state may also hold progress markers (a run of the old version that was cut
    short): singer-sdk would promote them over the new DocEntry bookmark at the end."""
    sb = make_sandbox()
    old_state = {"bookmarks": {"incoming_payments": {
        "replication_key": "sap_updated_at", "replication_key_value": "2020-01-01T00:00:00+00:00",
        "progress_markers": {"Note": "Progress is not resumable if interrupted.",
                             "replication_key": "sap_updated_at",
                             "replication_key_value": "2099-01-01T00:00:00+00:00"}}}}
    out = run_tap(config_for(sb), ["incoming_payments"], state=old_state)
    assert len(out.records["incoming_payments"]) == len(sb.all("IncomingPayments"))
    assert out.state["bookmarks"]["incoming_payments"]["replication_key"] == "DocEntry"
    assert bookmark(out) == max(p["DocEntry"] for p in sb.all("IncomingPayments"))
    again = run_tap(config_for(sb), ["incoming_payments"], state=out.state)
    assert bookmark(again) == bookmark(out)


def test_the_page_check_allows_a_day_of_slack_for_saps_local_midnight():
    """A v1 `/Date(ms)/` of SAP's local midnight east of Greenwich reads as the day before in
    UTC: a payment dated on the window's first day must not look like an ignored filter."""
    stream = _payments_stream(payments_reread_days=10)
    stream._floor, stream._since = 100, "2026-03-01"
    assert stream._in_scope(50, "2026-02-28")
    assert not stream._in_scope(50, "2026-02-20")
    assert stream._in_scope(101, "2020-01-01")
