"""`meltano run`, both forms, from a fresh copy of the project against the two sandboxes: what
reaches HubSpot, what Meltano keeps as state, and that a rerun or a nightly full pass writes
nothing when SAP did not change."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

STATE_ID = "sandbox:tap-sapb1-to-target-hubspot-finance"
INCREMENTAL_STREAMS = {"business_partners", "invoices", "credit_notes", "incoming_payments"}
REFERENCE_STREAMS = {"chart_of_accounts", "profit_centers", "payment_terms_types"}


def customers(sap) -> list[dict]:
    return [bp for bp in sap.all("BusinessPartners") if bp["CardType"] == "cCustomer"]


def property_values(objects: list[dict]) -> set[str]:
    return {str(v) for o in objects for v in o["properties"].values() if v not in (None, "")}


def test_job_through_the_mapper_fills_hubspot_and_keeps_bookmarks(meltano_project, sap_sandbox,
                                                                   hubspot_sandbox):
    meltano_project.run("run", "sap-to-hubspot")

    companies = hubspot_sandbox.objects("companies")
    assert len(companies) == len(customers(sap_sandbox))  # suppliers and leads filtered out
    leaked = property_values(companies) & {
        bp["FederalTaxID"] for bp in sap_sandbox.all("BusinessPartners") if bp.get("FederalTaxID")}
    assert not leaked, f"FederalTaxID reached HubSpot: {sorted(leaked)[:3]}"

    invoices = hubspot_sandbox.objects("invoices")
    sap_invoices = {str(i["DocEntry"]): i for i in sap_sandbox.all("Invoices")
                    if i.get("CancelStatus") != "csCancellation"}  # SAP's reversal documents
    assert len(invoices) == len(sap_invoices)
    # The mapper's fields arrive: IsOverdue as sap_is_overdue, OpenAmount as the open balance
    # (in the invoice's own currency: SAP's Fc amounts on an EUR invoice of this USD company);
    # its dropped Comments never do.
    assert {i["properties"].get("sap_is_overdue") for i in invoices} == {"true", "false"}
    credited: dict[str, float] = {}  # per invoice, in its own currency (tax included)
    for note in sap_sandbox.all("CreditNotes"):
        if note.get("CancelStatus") in ("csYes", "csCancellation"):
            continue
        amount = note["DocTotalFc"] if note["DocCurrency"] != "USD" else note["DocTotal"]
        for entry in {str(ln["BaseEntry"]) for ln in note["DocumentLines"]
                      if ln.get("BaseType") == 13}:
            credited[entry] = credited.get(entry, 0.0) + amount
    for inv in invoices:
        props = inv["properties"]
        sap = sap_invoices[props["sap_doc_entry"]]
        foreign = sap["DocCurrency"] != "USD"
        total = sap["DocTotalFc"] if foreign else sap["DocTotal"]
        paid = sap["PaidToDateFC"] if foreign else sap["PaidToDate"]
        assert props["hs_currency"] == sap["DocCurrency"]
        owed = 0.0 if sap.get("CancelStatus") == "csYes" else total - paid  # cancelled: closed
        assert abs(float(props["sap_open_balance"]) - owed) < 0.01
        assert abs(float(props["hs_amount_billed"]) - total) < 0.05  # lines + tax, own currency
        # HubSpot's balance due: billed less payments and credits, all in the invoice's currency
        due = total - paid - credited.get(props["sap_doc_entry"], 0.0)
        assert abs(float(props["hs_balance_due"]) - due) < 0.05, (props, due)
        if sap.get("CancelStatus") == "csYes":  # draft while its customer has no contact
            assert props["hs_invoice_status"] in ("voided", "draft")
        assert not props.get("hs_comments")
    assert any(i["DocCurrency"] == "EUR" for i in sap_invoices.values())
    linked = {from_id for from_id, _, _ in hubspot_sandbox.associations("invoices", "companies")}
    assert linked == {inv["id"] for inv in invoices}
    assert hubspot_sandbox.associations("invoices", "line_items")
    assert hubspot_sandbox.count(status=429) == 0

    marks = meltano_project.bookmarks()
    assert set(marks) == INCREMENTAL_STREAMS  # reference streams stay unselected
    assert all(marks.values()), marks
    meltano_project.assert_no_secret(sap_sandbox)


def test_rerun_with_nothing_changed_writes_nothing(meltano_project, sap_sandbox,
                                                   hubspot_sandbox):
    meltano_project.run("run", "sap-to-hubspot")
    first_marks = meltano_project.bookmarks()
    writes = hubspot_sandbox.writes()

    meltano_project.run("run", "sap-to-hubspot")

    assert hubspot_sandbox.writes() == writes
    assert meltano_project.bookmarks().keys() == first_marks.keys()


def test_plain_pair_without_mapper_works_and_shares_the_state_id(meltano_project, sap_sandbox,
                                                                 hubspot_sandbox):
    meltano_project.run("run", "tap-sapb1", "target-hubspot-finance")

    invoices = hubspot_sandbox.objects("invoices")
    assert len(invoices) == len([i for i in sap_sandbox.all("Invoices")  # not SAP's reversals
                                 if i.get("CancelStatus") != "csCancellation"])
    assert len(hubspot_sandbox.objects("companies")) >= len(customers(sap_sandbox))
    # No mapper: no derived overdue flag, and SAP's comments pass as the target maps them.
    assert not any(i["properties"].get("sap_is_overdue") for i in invoices)
    assert any(i["properties"].get("hs_comments") for i in invoices)
    assert STATE_ID in meltano_project.run("state", "list").stdout
    assert set(meltano_project.bookmarks()) == INCREMENTAL_STREAMS
    meltano_project.assert_no_secret(sap_sandbox)


def test_nightly_full_pass_rereads_everything_and_writes_nothing(meltano_project, sap_sandbox,
                                                                 hubspot_sandbox):
    meltano_project.run("run", "sap-to-hubspot")
    writes = hubspot_sandbox.writes()
    events = meltano_project.ledger_events()

    meltano_project.run("schedule", "run", "sap-to-hubspot-nightly-full-pass")

    after = meltano_project.ledger_events()
    reread = sum(n - events.get(key, 0) for key, n in after.items() if key[0] == "invoices")
    assert reread >= len(sap_sandbox.all("Invoices"))  # the bookmark was ignored
    assert hubspot_sandbox.writes() == writes          # and the ledger skipped every write
    assert set(meltano_project.bookmarks()) == INCREMENTAL_STREAMS


def test_a_change_in_sap_reaches_hubspot_on_the_next_run(meltano_project, sap_sandbox,
                                                         hubspot_sandbox):
    meltano_project.run("run", "sap-to-hubspot")
    code = customers(sap_sandbox)[0]["CardCode"]
    sap_sandbox.update("BusinessPartners", code, {"CardName": "Renamed By E2E GmbH"})
    writes = hubspot_sandbox.writes()

    meltano_project.run("run", "sap-to-hubspot")

    assert hubspot_sandbox.writes() > writes
    names = {c["properties"].get("name") for c in hubspot_sandbox.objects("companies")}
    assert "Renamed By E2E GmbH" in names


def test_reference_streams_are_not_selected_for_hubspot(meltano_project):
    listing = meltano_project.run("select", "tap-sapb1", "--list").stdout
    for stream in INCREMENTAL_STREAMS:
        assert f"{stream}." in listing
    for stream in REFERENCE_STREAMS:
        assert f"{stream}." not in listing
