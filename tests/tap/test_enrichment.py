"""enrich_line_items: names looked up once per run, whether or not reference streams run."""

from __future__ import annotations

from tap_helpers import config_for, page_requests, run_tap


def test_lines_and_partners_carry_names_from_the_reference_sets(make_sandbox):
    sb = make_sandbox()
    accounts = {r["Code"]: r["Name"] for r in sb.all("ChartOfAccounts")}
    centers = {r["CenterCode"]: r["CenterName"] for r in sb.all("ProfitCenters")}
    terms = {r["GroupNumber"]: r["PaymentTermsGroupName"] for r in sb.all("PaymentTermsTypes")}
    out = run_tap(config_for(sb, enrich_line_items=True, page_size=20),
                  streams=["business_partners", "invoices", "credit_notes"])
    lines = [line for stream in ("invoices", "credit_notes") for r in out.records[stream]
             for line in r["DocumentLines"]]
    assert lines
    for line in lines:
        assert line["AccountName"] == accounts.get(line["AccountCode"])
        assert line["ProfitCenterName"] == centers.get(line["CostingCode"])
    assert any(line["AccountName"] for line in lines)
    for partner in out.records["business_partners"]:
        assert partner["PaymentTermsName"] == terms.get(partner["PayTermsGrpCode"])
    # each reference set read once, though none of their streams was selected
    for entity_set in ("ChartOfAccounts", "ProfitCenters", "PaymentTermsTypes"):
        assert len(page_requests(sb, entity_set)) == 1


def test_without_enrichment_no_names_and_no_lookups(make_sandbox):
    sb = make_sandbox()
    out = run_tap(config_for(sb), streams=["invoices", "business_partners"])
    line = out.records["invoices"][0]["DocumentLines"][0]
    assert "AccountName" not in line and "ProfitCenterName" not in line
    assert "PaymentTermsName" not in out.records["business_partners"][0]
    assert sb.count(path_contains="ChartOfAccounts") == 0


def test_a_selected_reference_stream_reuses_the_rows_its_lookup_read(make_sandbox):
    # singer-sdk syncs by name: chart_of_accounts before invoices, profit_centers after
    sb = make_sandbox()
    out = run_tap(config_for(sb, enrich_line_items=True, page_size=5),
                  streams=["invoices", "chart_of_accounts", "profit_centers"])
    assert any(line["AccountName"] for r in out.records["invoices"]
               for line in r["DocumentLines"])
    for stream, entity_set, key in (("chart_of_accounts", "ChartOfAccounts", "Code"),
                                    ("profit_centers", "ProfitCenters", "CenterCode")):
        fields = out.schemas[stream]["properties"]
        stored = sorted(({k: v for k, v in row.items() if k in fields}
                         for row in sb.all(entity_set)), key=lambda row: row[key])
        assert out.records[stream] == stored  # every row and schema field, in key order
        assert len(page_requests(sb, entity_set)) == 1  # the lookup's read, not a second one


def test_lookups_page_with_skip_when_the_server_ignores_the_page_size(make_sandbox):
    sb = make_sandbox(honour_page_size=False)  # fixed pages of 20; 22 accounts
    out = run_tap(config_for(sb, enrich_line_items=True), streams=["invoices"])
    accounts = {r["Code"]: r["Name"] for r in sb.all("ChartOfAccounts")}
    lines = [line for r in out.records["invoices"] for line in r["DocumentLines"]]
    assert all(line["AccountName"] == accounts.get(line["AccountCode"]) for line in lines)
    pages = page_requests(sb, "ChartOfAccounts")
    assert [(r.query.get("$top"), r.query.get("$skip")) for r in pages] == [
        (None, None), ("1000", "20")]
