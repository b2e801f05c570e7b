"""Paging: the fewest requests the server allows, v1 and v2, with and without maxpagesize."""

from __future__ import annotations

import pytest
from tap_helpers import config_for, page_requests, pages_needed, run_tap


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_full_read_takes_one_request_per_granted_page(make_sandbox, version):
    sb = make_sandbox()
    url = sb.url if version == "v1" else sb.url_v2
    n = len(sb.all("Invoices"))
    out = run_tap(config_for(sb, url=url, page_size=25), streams=["invoices"])
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    pages = page_requests(sb, "Invoices")
    assert len(pages) == pages_needed(n, 25)
    assert all(r.version == version for r in pages)


def test_server_cap_below_page_size_is_followed(make_sandbox):
    sb = make_sandbox(max_page_size=15)
    n = len(sb.all("Invoices"))
    out = run_tap(config_for(sb, page_size=1000), streams=["invoices"])
    assert len(out.records["invoices"]) == n
    assert len(page_requests(sb, "Invoices")) == pages_needed(n, 15)


def test_server_ignoring_maxpagesize_falls_back_to_top(make_sandbox):
    sb = make_sandbox(honour_page_size=False)
    out = run_tap(config_for(sb, page_size=30), streams=["invoices"])
    assert sorted(out.keys("invoices")) == sorted(r["DocEntry"] for r in sb.all("Invoices"))
    pages = page_requests(sb, "Invoices")
    assert len(pages) == pages_needed(len(sb.all("Invoices")), 20)  # the server's fixed page
    assert "$top" not in pages[0].query  # the first page shows the server ignores Prefer
    assert all(r.query.get("$top") == "30" for r in pages[1:])  # then $top=30 on each page


def test_reference_streams_follow_next_link(make_sandbox):
    sb = make_sandbox()
    n = len(sb.all("ChartOfAccounts"))
    out = run_tap(config_for(sb, page_size=5), streams=["chart_of_accounts"])
    assert sorted(out.keys("chart_of_accounts")) == sorted(r["Code"] for r in
                                                           sb.all("ChartOfAccounts"))
    pages = page_requests(sb, "ChartOfAccounts")
    assert len(pages) == pages_needed(n, 5)
    assert all("$skip" in r.query for r in pages[1:])  # SAP's nextLink carries $skip


def test_reference_streams_page_with_skip_when_page_size_is_ignored(make_sandbox):
    sb = make_sandbox(honour_page_size=False)
    out = run_tap(config_for(sb, page_size=100), streams=["chart_of_accounts"])
    assert sorted(out.keys("chart_of_accounts")) == sorted(r["Code"] for r in
                                                           sb.all("ChartOfAccounts"))
    pages = page_requests(sb, "ChartOfAccounts")
    assert len(pages) >= 2  # 22 accounts, the server's fixed page of 20
    assert [(r.query.get("$top"), r.query.get("$skip")) for r in pages[1:]] == [("100", "20")]


def test_select_asks_only_for_schema_fields(make_sandbox):
    sb = make_sandbox()
    run_tap(config_for(sb), streams=["invoices"])
    select = page_requests(sb, "Invoices")[0].query["$select"].split(",")
    assert "DocEntry" in select and "DocumentLines" in select
    assert "sap_updated_at" not in select  # added by the tap
    assert len(select) == len(set(select))
