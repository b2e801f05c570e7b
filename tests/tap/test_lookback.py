"""Issue 12 items 1-4: a change is read by this run or the next, whatever SAP's clock and stamps
do (late commits, the DST fall-back hour, a clock set back, stamps in the future, no UpdateTime),
and a server that ignores `$filter` stops the run with one line instead of looping."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from tap_helpers import config_for, null_time_reads, page_requests, run_cli, run_tap

from sap_sandbox import DataSpec

SMALL = DataSpec(seed=5, customers=6, suppliers=0, leads=0, invoices=40, credit_notes=0,
                 payments=0)


def _sandbox(make_sandbox, data: DataSpec = SMALL, **options):
    return make_sandbox(data=data, **options)


def _template(sb) -> dict:
    first = sb.all("Invoices")[0]
    return {k: v for k, v in first.items()
            if k not in ("DocEntry", "DocNum", "UpdateDate", "UpdateTime")}


def _stamp(record: dict) -> str:
    return f"{record['UpdateDate'][:10]}T{record['UpdateTime'] or '00:00:00'}+00:00"


def _bookmark(out, stream: str = "invoices") -> str:
    return out.state["bookmarks"][stream]["replication_key_value"]


def _emitted(*outs) -> set[tuple]:
    return {(r["DocEntry"], r["sap_updated_at"]) for out in outs for r in out.records["invoices"]}


def _every_version_emitted(sb, *outs) -> None:
    final = {(r["DocEntry"], _stamp(r)) for r in sb.all("Invoices")}
    assert final <= _emitted(*outs), sorted(final - _emitted(*outs))


# --- item 1: look-back ---------------------------------------------------------------------------

def test_a_document_committed_late_is_read_by_the_next_run(make_sandbox):
    sb = _sandbox(make_sandbox)
    tx = sb.transaction()
    late = tx.create("Invoices", _template(sb))  # stamped now, invisible until commit
    sb.clock.advance(90)
    sb.create("Invoices", _template(sb))  # committed at once, 90 s later
    config = config_for(sb, page_size=10)
    first = run_tap(config, streams=["invoices"])
    assert late["DocEntry"] not in first.keys("invoices")
    assert _bookmark(first) > _stamp(late)  # the bookmark passed the late record's stamp
    tx.commit()
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert late["DocEntry"] in second.keys("invoices")
    _every_version_emitted(sb, first, second)


def test_a_commit_landing_mid_run_behind_the_read_is_read_by_the_next_run(make_sandbox):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=5)
    first = run_tap(config, streams=["invoices"])
    sb.clock.advance(60)
    tx = sb.transaction(commit_at_request=len(sb.requests) + 6)  # during run 2's paging
    late = tx.create("Invoices", _template(sb))
    sb.clock.advance(60)
    for key in [r["DocEntry"] for r in sb.all("Invoices")][:8]:
        sb.update("Invoices", key, {"Comments": "edited after the late one began"})
    second = run_tap(config, streams=["invoices"], state=first.state)
    third = run_tap(config, streams=["invoices"], state=second.state)
    assert late["DocEntry"] in second.keys("invoices") + third.keys("invoices")
    _every_version_emitted(sb, first, second, third)


def test_an_edit_in_the_dst_fall_back_hour_is_read(make_sandbox):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=10)
    keys = [r["DocEntry"] for r in sb.all("Invoices")]
    sb.update("Invoices", keys[0], {"Comments": "edited at 02:50 summer time"})
    first = run_tap(config, streams=["invoices"])
    sb.clock.step_back(3600)  # 03:00 summer time is 02:00 winter time again
    sb.clock.advance(120)
    edited = sb.update("Invoices", keys[1], {"Comments": "edited at 02:02 winter time"})
    assert _stamp(edited) < _bookmark(first)
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert (keys[1], _stamp(edited)) in _emitted(second)
    assert _bookmark(second) == _bookmark(first)  # a re-read never moves the bookmark back
    _every_version_emitted(sb, first, second)


def test_without_look_back_the_same_edit_is_lost(make_sandbox):
    """The control: lookback_minutes 0 is the old behaviour, and it loses the edit."""
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=10, lookback_minutes=0)
    keys = [r["DocEntry"] for r in sb.all("Invoices")]
    sb.update("Invoices", keys[0], {"Comments": "before the fall-back"})
    first = run_tap(config, streams=["invoices"])
    sb.clock.step_back(3600)
    edited = sb.update("Invoices", keys[1], {"Comments": "in the repeated hour"})
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert (keys[1], _stamp(edited)) not in _emitted(first, second)


def test_a_rerun_with_nothing_changed_costs_the_same_requests_and_rewrites_nothing(make_sandbox):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=100)
    first = run_tap(config, streams=["invoices"])
    sb.clear_requests()
    second = run_tap(config, streams=["invoices"], state=first.state)
    window = dt.timedelta(minutes=120)
    newest = dt.datetime.fromisoformat(_bookmark(first))
    expected = {(r["DocEntry"], _stamp(r)) for r in sb.all("Invoices")
                if dt.datetime.fromisoformat(_stamp(r)) >= newest - window}
    assert _emitted(second) == expected  # the look-back window, nothing else
    assert second.state == first.state
    assert len(page_requests(sb, "Invoices")) == 1  # one page holds the window
    assert len(null_time_reads(sb, "Invoices")) == 1


# --- item 2: stamps in the future -----------------------------------------------------------------

def test_a_future_stamp_is_emitted_and_reported_but_never_bookmarked(make_sandbox, caplog):
    sb = _sandbox(make_sandbox, data=DataSpec(**{**SMALL.__dict__, "future_stamps": 1}))
    [future] = [r for r in sb.all("Invoices") if r["UpdateDate"].startswith("2031")]
    config = config_for(sb, page_size=10)
    with caplog.at_level("WARNING"):
        first = run_tap(config, streams=["invoices"])
    assert future["DocEntry"] in first.keys("invoices")
    warned = [m for m in caplog.messages if "later than SAP's clock" in m]
    assert len(warned) == 1 and str(future["DocEntry"]) in warned[0] and "2031-01-01" in warned[0]
    assert _bookmark(first) < "2031"
    sb.clock.advance(30)
    normal = sb.update("Invoices", sb.all("Invoices")[3]["DocEntry"], {"Comments": "later edit"})
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert (normal["DocEntry"], _stamp(normal)) in _emitted(second)
    assert _bookmark(second) == _stamp(normal)


def _local_zone() -> str:
    offset = time.localtime().tm_gmtoff
    if offset % 3600:
        pytest.skip("the machine's zone is not a whole hour from GMT")
    return f"Etc/GMT{-offset // 3600:+d}" if offset else "UTC"


def test_with_the_server_zone_a_stamp_an_hour_ahead_counts_as_future(make_sandbox, caplog):
    sb = _sandbox(make_sandbox)
    ahead = sb.clock.now() + dt.timedelta(hours=1)
    early = sb.create("Invoices", {**_template(sb), "UpdateDate": ahead.strftime("%Y-%m-%d"),
                                   "UpdateTime": ahead.strftime("%H:%M:%S")})
    config = config_for(sb, page_size=10, server_timezone=_local_zone())
    with caplog.at_level("WARNING"):
        out = run_tap(config, streams=["invoices"])
    assert early["DocEntry"] in out.keys("invoices")
    assert any(str(early["DocEntry"]) in m and "later than SAP's clock" in m
               for m in caplog.messages)
    assert _bookmark(out) < _stamp(early)


# --- item 3: no UpdateTime ------------------------------------------------------------------------

def test_records_without_update_time_are_all_read_at_any_page_size(make_sandbox):
    sb = _sandbox(make_sandbox, data=DataSpec(**{**SMALL.__dict__, "null_update_times": 0.3}))
    untimed = [r["DocEntry"] for r in sb.all("Invoices") if r["UpdateTime"] is None]
    assert len(untimed) >= 5
    for size in (3, 7):
        out = run_tap(config_for(sb, page_size=size), streams=["invoices"])
        keys = out.keys("invoices")
        assert sorted(keys) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
        assert len(keys) == len(set(keys))
        stamps = [r["sap_updated_at"] for r in out.records["invoices"]]
        assert stamps == sorted(stamps)  # placed first in their day, bookmarks stay resumable


def test_a_record_saved_without_update_time_after_a_run_is_read_by_the_next(make_sandbox):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=10)
    sb.update("Invoices", sb.all("Invoices")[0]["DocEntry"], {"Comments": "today, 10 s ago"})
    first = run_tap(config, streams=["invoices"])
    day = _bookmark(first)[:10]
    untimed = sb.create("Invoices", {**_template(sb), "UpdateDate": day, "UpdateTime": None})
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert untimed["DocEntry"] in second.keys("invoices")
    [record] = [r for r in second.records["invoices"] if r["DocEntry"] == untimed["DocEntry"]]
    assert record["sap_updated_at"] == f"{day}T00:00:00+00:00"
    assert _bookmark(second) == _bookmark(first)


# --- item 4: a server that ignores $filter --------------------------------------------------------

@pytest.mark.parametrize("mode,needle", [("ignore-time", "ignores the UpdateTime part of $filter"),
                                         ("ignore-all", "ignores $filter")])
def test_a_server_ignoring_the_filter_stops_with_one_line(make_sandbox, tmp_path, mode, needle):
    sb = _sandbox(make_sandbox, filter_mode=mode)
    stamps = sorted(_stamp(r) for r in sb.all("Invoices"))
    start = stamps[len(stamps) // 2].replace("+00:00", "Z")
    run = run_cli(tmp_path, config_for(sb, page_size=5, start_date=start), streams=("invoices",),
                  timeout=60)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    [line] = run.error_lines()
    assert needle in line and "Invoices" in line
    assert sb.count(path_contains="Invoices") <= 6  # stopped at once: no loop


@pytest.mark.parametrize("crowd", [12, 60])
def test_an_honest_minute_precision_server_passes_the_page_checks(make_sandbox, crowd):
    sb = _sandbox(make_sandbox, time_filter_precision="minute")
    template = _template(sb)
    for n in range(crowd):  # 60 in a minute: too many keys to name, the minute is read by key
        sb.create("Invoices", {**template, "UpdateDate": "2024-02-03",
                               "UpdateTime": f"10:00:{n % 60:02d}"})
    out = run_tap(config_for(sb, page_size=5), streams=["invoices"])
    keys = out.keys("invoices")
    assert sorted(keys) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    assert len(keys) == len(set(keys))
    by_key = [r for r in page_requests(sb, "Invoices") if r.query.get("$orderby") == "DocEntry"]
    assert bool(by_key) == (crowd > 40)


def test_a_hand_set_bookmark_without_a_zone_still_gets_its_look_back(make_sandbox):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=10)
    first = run_tap(config, streams=["invoices"])
    naive = _bookmark(first).replace("+00:00", "")  # as `meltano state set` may be given it
    state = {"bookmarks": {"invoices": {"replication_key": "sap_updated_at",
                                        "replication_key_value": naive}}}
    second = run_tap(config, streams=["invoices"], state=state)
    newest = dt.datetime.fromisoformat(_bookmark(first))
    assert _emitted(second) == {(r["DocEntry"], _stamp(r)) for r in sb.all("Invoices")
                                if dt.datetime.fromisoformat(_stamp(r))
                                >= newest - dt.timedelta(minutes=120)}


def test_without_a_zone_a_stamp_hours_ahead_never_hides_later_normal_changes(make_sandbox):
    sb = _sandbox(make_sandbox)
    ahead = sb.clock.now() + dt.timedelta(hours=3)  # a wrong clock once; the server runs on GMT
    early = sb.create("Invoices", {**_template(sb), "UpdateDate": ahead.strftime("%Y-%m-%d"),
                                   "UpdateTime": ahead.strftime("%H:%M:%S")})
    config = {**config_for(sb, page_size=10), "server_timezone": None}
    first = run_tap(config, streams=["invoices"])
    assert early["DocEntry"] in first.keys("invoices")
    assert _bookmark(first) < _stamp(early)
    sb.clock.advance(600)
    normal = sb.update("Invoices", sb.all("Invoices")[3]["DocEntry"], {"Comments": "later edit"})
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert (normal["DocEntry"], _stamp(normal)) in _emitted(second)


def test_a_bookmark_an_older_release_left_in_the_future_is_read_again_from_start_date(
        make_sandbox, caplog):
    sb = _sandbox(make_sandbox)
    config = config_for(sb, page_size=10)
    state = {"bookmarks": {"invoices": {"replication_key": "sap_updated_at",
                                        "replication_key_value": "2031-01-01T08:00:00+00:00"}}}
    with caplog.at_level("WARNING"):
        out = run_tap(config, streams=["invoices"], state=state)
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    assert _bookmark(out) == max(_stamp(r) for r in sb.all("Invoices"))
    assert any("2031-01-01" in m and "start_date" in m for m in caplog.messages)


@pytest.mark.parametrize("precision", ["second", "minute"])
def test_a_crowded_minute_changing_while_it_pages_loses_nothing_by_the_next_run(make_sandbox,
                                                                                precision):
    sb = _sandbox(make_sandbox, time_filter_precision=precision)
    template = _template(sb)
    now = sb.clock.now()
    day, minute = now.strftime("%Y-%m-%d"), (now - dt.timedelta(minutes=3)).strftime("%H:%M")
    crowd = [sb.create("Invoices", {**template, "UpdateDate": day,
                                    "UpdateTime": f"{minute}:{n % 60:02d}"})["DocEntry"]
             for n in range(55)]  # > 40 keys: the minute is read by key on a minute server
    base = len(sb.requests)
    for n, key in enumerate(crowd[::6]):  # edits saved during the run, committed mid-paging
        tx = sb.transaction(commit_at_request=base + 3 + 2 * n)
        tx.update("Invoices", key, {"Comments": f"edit {n}"})
    config = config_for(sb, page_size=5)
    first = run_tap(config, streams=["invoices"])
    sb.clock.advance(30)
    second = run_tap(config, streams=["invoices"], state=first.state)
    _every_version_emitted(sb, first, second)
    assert _bookmark(second) >= _bookmark(first)


def _run_until_killed(config: dict, state: dict | None) -> dict | None:
    """A run that dies where the sandbox's fault stops it: the last STATE it wrote (what
    Meltano keeps), with a STATE after every record."""
    import contextlib
    import io

    from tap_helpers import catalog_for, parse

    from tap_sapb1.tap import TapSAPB1

    tap = TapSAPB1(config=config, state=state, catalog=catalog_for(config, ["invoices"]))
    tap.streams["invoices"].STATE_MSG_FREQUENCY = 1
    buffer = io.StringIO()
    with contextlib.suppress(Exception), contextlib.redirect_stdout(buffer):
        tap.sync_all()
    tap.close()
    out = parse(buffer.getvalue())
    return out.state or state, out


@pytest.mark.parametrize("kill_at", [3, 5, 8, 11])
def test_a_run_killed_at_any_page_loses_nothing_on_resume(make_sandbox, kill_at):
    data = DataSpec(**{**SMALL.__dict__, "null_update_times": 0.2})
    sb = _sandbox(make_sandbox, data=data, time_filter_precision="minute")
    template = _template(sb)
    now = sb.clock.now() - dt.timedelta(minutes=5)
    for n in range(12):  # a crowded minute across page boundaries
        sb.create("Invoices", {**template, "UpdateDate": now.strftime("%Y-%m-%d"),
                               "UpdateTime": now.strftime("%H:%M:") + f"{n * 4:02d}"})
    config = config_for(sb, page_size=3)
    first = run_tap(config, streams=["invoices"])
    for key in [r["DocEntry"] for r in sb.all("Invoices")][::5]:
        sb.update("Invoices", key, {"Comments": "changed before the killed run"})
    sb.add_fault("500", at=range(len(sb.requests) + kill_at, len(sb.requests) + kill_at + 50),
                 path_contains="Invoices")
    state, killed = _run_until_killed({**config, "max_retries": 0}, first.state)
    assert killed.records["invoices"] or kill_at <= 3  # the kill came mid-read
    sb.clear_faults()
    resumed = run_tap(config, streams=["invoices"], state=state)
    _every_version_emitted(sb, first, killed, resumed)
    assert _bookmark(resumed) >= _bookmark(first)


@pytest.mark.parametrize("lookback", [0, 120])
def test_untimed_and_timed_changes_just_after_midnight_are_read_by_the_next_run(make_sandbox,
                                                                               lookback):
    sb = _sandbox(make_sandbox)
    now = sb.clock.now()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time())
    sb.clock.advance((midnight - now).total_seconds() - 20)  # 23:59:40
    config = config_for(sb, page_size=3, lookback_minutes=lookback)
    sb.update("Invoices", sb.all("Invoices")[0]["DocEntry"], {"Comments": "23:59:40"})
    first = run_tap(config, streams=["invoices"])
    sb.clock.advance(40)  # 00:00:20 the next day
    timed = sb.update("Invoices", sb.all("Invoices")[1]["DocEntry"], {"Comments": "00:00:20"})
    untimed = sb.update("Invoices", sb.all("Invoices")[2]["DocEntry"],
                        {"Comments": "no time", "UpdateTime": None})
    assert untimed["UpdateDate"][:10] == midnight.strftime("%Y-%m-%d")
    second = run_tap(config, streams=["invoices"], state=first.state)
    assert {timed["DocEntry"], untimed["DocEntry"]} <= set(second.keys("invoices"))
    _every_version_emitted(sb, first, second)
