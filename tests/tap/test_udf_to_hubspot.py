"""A company's UDFs travel to HubSpot: discovered by the tap, copied by the target's
`property_map`, and the deal link (`deal_id_field`) used where the UDF exists (issue 10 item 2)."""

from __future__ import annotations

import contextlib
import io
import json
import logging

import pytest
import requests
from tap_helpers import sandbox_zone

from tap_sapb1.tap import TapSAPB1
from target_hubspot_finance.target import TargetHubSpotFinance

HUBSPOT_TOKEN = "pat-sandbox-0000-test-token-do-not-log"
UDFS = {"Document": {"U_HubSpotDealId": "Edm.String"},
        "BusinessPartner": {"U_Segment": "Edm.String"}}


class NameOrderTap(TapSAPB1):
    """The tap syncing in singer-sdk's name order (payments before invoices), as another tap
    or an older tap-sapb1 would: the target must cope with that order too."""

    def load_streams(self) -> list:
        return sorted(super().load_streams(), key=lambda s: s.name)


def tap_output(tap_config: dict, streams: tuple[str, ...], state: dict | None = None,
               tap_class: type[TapSAPB1] = TapSAPB1) -> str:
    """The tap's Singer output with `streams` selected (schemas discovered from the server)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap = tap_class(config=tap_config, state=state)
        try:
            for name, stream in tap.streams.items():
                stream.selected = name in streams
            tap.sync_all()
        finally:
            tap.close()
    return out.getvalue()


def load(target_config: dict, messages: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        TargetHubSpotFinance(config=target_config).listen(io.StringIO(messages))


def make_sap(udfs: dict | None):
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=12, credit_notes=0,
                    payments=0)
    return SapSandbox(data=spec, udfs=udfs, password="S3cr3t-B1-passw0rd!")


def tap_config(sb) -> dict:
    return {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
            "password": "S3cr3t-B1-passw0rd!", "request_timeout": 5, "backoff_seconds": 0.01}


def by_card_code(hs, object_type: str = "companies") -> dict[str, dict]:
    return {str(o["properties"].get("sap_card_code", "")).rsplit(":", 1)[-1]: o["properties"]
            for o in hs.objects(object_type)}


def test_a_udf_reaches_hubspot_through_property_map(hubspot_sandbox, target_config):
    with make_sap(UDFS) as sb:
        customer = next(bp for bp in sb.all("BusinessPartners") if bp["CardType"] == "cCustomer")
        sb.update("BusinessPartners", customer["CardCode"], {"U_Segment": "Enterprise"})
        messages = tap_output(tap_config(sb), ("business_partners",))
    config = {**target_config, "property_map": {"companies": {"field:U_Segment": "sap_segment"}}}
    load(config, messages)
    companies = by_card_code(hubspot_sandbox)
    assert companies[customer["CardCode"]]["sap_segment"] == "Enterprise"
    assert "sap_segment" in {p["name"] for p in hubspot_sandbox.properties("companies")}


def test_invoices_link_the_deal_their_udf_names(hubspot_sandbox, target_config):
    deal = requests.post(f"{hubspot_sandbox.url}/crm/v3/objects/deals", timeout=10,
                         headers={"Authorization": f"Bearer {HUBSPOT_TOKEN}"},
                         json={"properties": {"dealname": "Big order"}}).json()["id"]
    with make_sap(UDFS) as sb:
        invoice = sb.all("Invoices")[0]
        sb.update("Invoices", invoice["DocEntry"], {"U_HubSpotDealId": str(deal)})
        messages = tap_output(tap_config(sb), ("business_partners", "invoices"))
    load(target_config, messages)
    links = hubspot_sandbox.associations("invoices", "deals")
    assert [to for _from, to, _type in links] == [str(deal)]


def test_a_company_without_the_deal_udf_is_reported_once_not_failed(
        hubspot_sandbox, target_config, caplog):
    with make_sap(None) as sb:
        messages = tap_output(tap_config(sb), ("business_partners", "invoices"))
        invoices = sb.all("Invoices")
    with caplog.at_level(logging.WARNING):
        load({**target_config, "batch_size_rows": 3}, messages)  # several drains, one line
    lines = [r.getMessage() for r in caplog.records if "U_HubSpotDealId" in r.getMessage()]
    assert len(lines) == 1 and "without deal links" in lines[0]
    written = [i for i in invoices if i["CancelStatus"] != "csCancellation"]
    assert len(hubspot_sandbox.objects("invoices")) == len(written)
    assert hubspot_sandbox.associations("invoices", "deals") == []


@pytest.mark.parametrize(("restamp", "mode"), [
    (True, "commerce_payments"), (False, "commerce_payments"), (False, "properties")],
    ids=["invoice-restamped", "not-restamped", "not-restamped-properties"])
def test_a_payment_cancelled_in_sap_is_cancelled_in_hubspot_after_the_next_run(
        hubspot_sandbox, target_config, restamp, mode):
    """The tap re-emits the cancelled payment (DocDate window). Whether SAP re-stamps the
    invoice it reopens is undocumented (sandbox switch restamp_on_payment_cancel): re-stamped,
    the invoice comes again with its reopened PaidToDate; not re-stamped, only the cancelled
    payment comes, and HubSpot must still show the invoice open with its balance due back."""
    from sap_sandbox import DataSpec, SapSandbox

    target_config = {**target_config, "payments_mode": mode}
    streams = ("business_partners", "invoices", "incoming_payments")
    spec = DataSpec(seed=5, customers=6, suppliers=1, leads=1, invoices=12, credit_notes=0,
                    payments=0, restamp_on_payment_cancel=restamp)
    with SapSandbox(data=spec, password="S3cr3t-B1-passw0rd!") as sb:
        invoice = next(i for i in sb.all("Invoices")
                       if i["DocumentStatus"] == "bost_Open" and i["CancelStatus"] == "csNo"
                       and i["DocCurrency"] == "USD" and i["PaidToDate"] == 0)
        paid = sb.post_payment(invoice["CardCode"], [{"DocEntry": invoice["DocEntry"],
                                                      "SumApplied": invoice["DocTotal"]}])
        # a later change elsewhere moves the invoices bookmark past the paid invoice's minute
        sb.clock.advance(180)
        other = next(i for i in sb.all("Invoices") if i["DocEntry"] != invoice["DocEntry"])
        sb.update("Invoices", other["DocEntry"], {"Comments": "later change"})
        # no look-back, and SAP's zone so that the bookmark is not held 12 h back: only what
        # changed since the first run comes again
        exact = {"lookback_minutes": 0, "server_timezone": sandbox_zone() or "UTC"}
        first = tap_output({**tap_config(sb), **exact}, streams)
        load(target_config, first)
        hs_invoice = next(o["properties"] for o in hubspot_sandbox.objects("invoices")
                          if o["properties"].get("sap_doc_entry") in (
                              str(invoice["DocEntry"]), invoice["DocEntry"]))
        assert float(hs_invoice["sap_open_balance"]) == 0
        assert hs_invoice["hs_invoice_status"] == "paid"

        sb.clock.advance(180)
        sb.cancel_payment(paid["DocEntry"])
        config = {**tap_config(sb), **exact}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            tap = TapSAPB1(config=config, state=last_state(first))
            try:
                for name, stream in tap.streams.items():
                    stream.selected = name in streams
                tap.sync_all()
            finally:
                tap.close()
    reemitted = [json.loads(m)["record"]["DocEntry"] for m in out.getvalue().splitlines()
                 if m and json.loads(m)["type"] == "RECORD"
                 and json.loads(m)["stream"] == "invoices"]
    assert (invoice["DocEntry"] in reemitted) is restamp  # the premise of each way
    load(target_config, out.getvalue())
    hs_invoice = next(o["properties"] for o in hubspot_sandbox.objects("invoices")
                      if o["properties"].get("sap_doc_entry") in (
                          str(invoice["DocEntry"]), invoice["DocEntry"]))
    if mode == "properties":  # no payments object: the payment no longer counts
        assert str(hs_invoice["sap_payment_count"]) == "0"
    else:
        payment = next(o["properties"] for o in hubspot_sandbox.objects("commerce_payments")
                       if str(o["properties"].get("sap_payment_key", "")).startswith(
                           f"{paid['DocEntry']}-") or f":{paid['DocEntry']}-" in str(
                           o["properties"].get("sap_payment_key", "")))
        assert payment["sap_cancelled"] in (True, "true")
    assert float(hs_invoice["sap_open_balance"]) == pytest.approx(invoice["DocTotal"])
    # HubSpot computes the balance from the line items (half-cent rounding of line amounts)
    assert float(hs_invoice["hs_balance_due"]) == pytest.approx(invoice["DocTotal"], abs=0.01)
    assert hs_invoice["hs_invoice_status"] == "open"


def test_a_rerun_with_nothing_changed_writes_nothing_although_payments_are_re_read(
        hubspot_sandbox, target_config):
    """Each run re-reads the payments of the last `payments_reread_days` (cancellations), and
    with a tap sending payments before invoices (singer-sdk's name order) a full payments batch
    is written before its invoices reach HubSpot: re-read, such a payment is no change."""
    from sap_sandbox import DataSpec, SapSandbox

    spec = DataSpec(seed=9, customers=8, suppliers=1, leads=1, invoices=60, credit_notes=3,
                    payments=0)
    streams = ("business_partners", "credit_notes", "incoming_payments", "invoices")
    with SapSandbox(data=spec, password="S3cr3t-B1-passw0rd!") as sb:
        open_invoices = [i for i in sb.all("Invoices") if i["DocumentStatus"] == "bost_Open"
                         and i["CancelStatus"] == "csNo" and i["DocTotal"] > 20]
        foreign = [i for i in open_invoices if i["DocCurrency"] != "USD"]
        local = [i for i in open_invoices if i["DocCurrency"] == "USD"]
        for invoice in [foreign[0], *local[:19]]:  # local money on an EUR invoice first
            sb.post_payment(invoice["CardCode"], [{"DocEntry": invoice["DocEntry"],
                                                  "SumApplied": 10.0}])
        first = tap_output(tap_config(sb), streams, tap_class=NameOrderTap)
        config = {**target_config, "batch_size_rows": 10}  # payments drain before invoices
        load(config, first)
        writes = hubspot_sandbox.writes()
        second = tap_output(tap_config(sb), streams, state=last_state(first),
                            tap_class=NameOrderTap)
    reread = [m for m in second.splitlines() if '"stream":"incoming_payments"' in
              m.replace(" ", "") and '"type":"RECORD"' in m.replace(" ", "")]
    assert len(reread) == 20  # the window re-read every payment
    load(config, second)
    assert hubspot_sandbox.writes() == writes, "a rerun with nothing changed wrote to HubSpot"


def last_state(messages: str) -> dict:
    """The last STATE the tap sent."""
    states = [json.loads(line)["value"] for line in messages.splitlines()
              if line and json.loads(line)["type"] == "STATE"]
    return states[-1]
