"""Discovery from the live server: schemas = curated fields the server has + its UDFs (issue 10).

Against the sandbox as a standard company (no UDFs) and as one with UDFs; SAP's property names
come from b1sl-python's models (the sandbox serves exactly those, plus configured UDFs).
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import pkgutil
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tap_helpers import TapSAPB1, config_for, run_tap

from tap_sapb1.discovery import MissingFieldError
from tap_sapb1.metadata import parse_csdl
from tap_sapb1.schemas import TAP_FIELDS

UDFS = {"Document": {"U_HubSpotDealId": "Edm.String", "U_Weight": "Edm.Double",
                     "U_Promised": "Edm.DateTime"},
        "DocumentLine": {"U_Lot": "Edm.Int32"},
        "BusinessPartner": {"U_Segment": "Edm.String"}}
# stream -> (SAP entity type, {collection: item type})
MODELS = {"business_partners": ("BusinessPartner", {"ContactEmployees": "ContactEmployee",
                                                    "BPAddresses": "BPAddress"}),
          "invoices": ("Document", {"DocumentLines": "DocumentLine"}),
          "credit_notes": ("Document", {"DocumentLines": "DocumentLine"}),
          "incoming_payments": ("Payment", {"PaymentInvoices": "PaymentInvoice",
                                            "PaymentChecks": "PaymentCheck",
                                            "PaymentCreditCards": "PaymentCreditCard"}),
          "chart_of_accounts": ("ChartOfAccount", {}), "profit_centers": ("ProfitCenter", {}),
          "payment_terms_types": ("PaymentTermsType", {})}


@cache
def sap_model(type_name: str) -> frozenset[str]:
    """SAP's property names of an entity or complex type (b1sl-python 0.16.0's models)."""
    import b1sl.b1sl.models._generated.complex_types as complex_types
    import b1sl.b1sl.models._generated.entities as entities

    modules = [complex_types, *(importlib.import_module(f"{entities.__name__}.{m.name}")
                                for m in pkgutil.iter_modules(entities.__path__))]
    for module in modules:
        model = getattr(module, type_name, None)
        if model is not None and hasattr(model, "model_fields"):
            return frozenset(f.alias for f in model.model_fields.values() if f.alias)
    raise LookupError(type_name)


def discover(config: dict) -> dict[str, dict]:
    """stream -> discovered schema (a fresh tap, as `--discover` runs)."""
    tap = TapSAPB1(config=config, validate_config=False)
    try:
        return {e["tap_stream_id"]: e["schema"] for e in tap.catalog_dict["streams"]}
    finally:
        tap.close()


def select(catalog_streams: list[dict], streams: tuple[str, ...]) -> dict:
    for entry in catalog_streams:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return {"streams": catalog_streams}


def discovered_catalog(config: dict, streams: tuple[str, ...]) -> dict:
    tap = TapSAPB1(config=config, validate_config=False)
    try:
        return select(tap.catalog_dict["streams"], streams)
    finally:
        tap.close()


def sync(config: dict, catalog: dict, state: dict | None = None):
    from tap_helpers import run_tap

    return run_tap(config, state=state, catalog=catalog)


def selects(sb, entity_set: str) -> list[set[str]]:
    """The `$select` field sets the tap sent for an entity set."""
    return [set(r.query["$select"].split(",")) for r in sb.requests
            if r.path.endswith("/" + entity_set) and "$select" in r.query]


@pytest.mark.parametrize("udfs", [None, UDFS], ids=["standard", "with-udfs"])
def test_every_discovered_sap_field_is_in_sap_models(make_sandbox, udfs):
    schemas = discover(config_for(make_sandbox(udfs=udfs)))
    for stream, (type_name, collections) in MODELS.items():
        own = {n for n in schemas[stream]["properties"] if n not in TAP_FIELDS}
        assert {n for n in own if not n.startswith("U_")} <= sap_model(type_name), stream
        for collection, item_type in collections.items():
            items = schemas[stream]["properties"][collection]["items"]["properties"]
            sap_items = {n for n in items if n not in TAP_FIELDS and not n.startswith("U_")}
            assert sap_items <= sap_model(item_type), (stream, collection)


def test_curated_schemas_hold_only_sap_model_fields():
    from tap_sapb1.streams import STREAM_TYPES

    for stream_type in STREAM_TYPES:
        type_name, collections = MODELS[stream_type.name]
        fields = stream_type.curated_schema["properties"]
        assert {n for n in fields if n not in TAP_FIELDS} <= sap_model(type_name)
        assert not any(n.startswith("U_") for n in fields), stream_type.name
        for collection, item_type in collections.items():
            items = fields[collection]["items"]["properties"]
            assert {n for n in items if n not in TAP_FIELDS} <= sap_model(item_type)


def test_payments_have_no_update_stamps_and_expose_cancellation():
    from tap_sapb1.schemas import INCOMING_PAYMENT

    fields = INCOMING_PAYMENT["properties"]
    assert not {"UpdateDate", "UpdateTime", "CheckSum", "CreditSum"} & set(fields)
    assert {"Cancelled", "CancelStatus"} <= set(fields)
    assert fields["CancelStatus"]["enum"][:3] == ["csYes", "csNo", "csCancellation"]


def test_a_standard_company_is_discovered_without_udfs_and_syncs_every_stream(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb)
    schemas = discover(config)
    assert not [n for s in schemas.values() for n in s["properties"] if n.startswith("U_")]
    assert "U_HubSpotDealId" not in schemas["invoices"]["properties"]
    out = sync(config, discovered_catalog(config, tuple(MODELS)))
    assert {s: len(r) for s, r in out.records.items()} == {
        s: len(sb.all(e)) for s, e in [("business_partners", "BusinessPartners"),
                                       ("invoices", "Invoices"), ("credit_notes", "CreditNotes"),
                                       ("incoming_payments", "IncomingPayments"),
                                       ("chart_of_accounts", "ChartOfAccounts"),
                                       ("profit_centers", "ProfitCenters"),
                                       ("payment_terms_types", "PaymentTermsTypes")]}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_udfs_are_discovered_on_their_types_and_typed_from_edm(make_sandbox, version):
    sb = make_sandbox(udfs=UDFS)
    schemas = discover(config_for(sb, url=sb.url if version == "v1" else sb.url_v2))
    invoice = schemas["invoices"]["properties"]
    assert invoice["U_HubSpotDealId"]["type"] == ["string", "null"]
    assert invoice["U_Weight"]["type"] == ["number", "null"]
    assert invoice["U_Promised"]["format"] == "date"
    assert schemas["credit_notes"]["properties"]["U_HubSpotDealId"] == invoice["U_HubSpotDealId"]
    line = invoice["DocumentLines"]["items"]["properties"]
    assert line["U_Lot"]["type"] == ["integer", "null"]
    assert schemas["business_partners"]["properties"]["U_Segment"]["type"] == ["string", "null"]
    assert not [n for n in schemas["incoming_payments"]["properties"] if n.startswith("U_")]
    # the curated fields keep their types and descriptions
    assert invoice["DocTotal"]["type"] == ["number"] or "number" in invoice["DocTotal"]["type"]
    assert "enrich_line_items" in line["AccountName"]["description"]


def test_a_selected_udf_is_read_and_emitted(make_sandbox):
    sb = make_sandbox(udfs=UDFS)
    entry = sb.all("Invoices")[0]["DocEntry"]
    sb.update("Invoices", entry, {"U_HubSpotDealId": "9001", "U_Promised": "2024-03-05"})
    config = config_for(sb)
    out = sync(config, discovered_catalog(config, ("invoices",)))
    record = next(r for r in out.records["invoices"] if r["DocEntry"] == entry)
    assert record["U_HubSpotDealId"] == "9001"
    assert record["U_Promised"] == "2024-03-05"  # v1 serves /Date(ms)/: emitted as a date
    pages = [fields for fields in selects(sb, "Invoices") if "DocTotal" in fields]
    assert pages and all("U_HubSpotDealId" in fields for fields in pages)
    assert "U_HubSpotDealId" in out.schemas["invoices"]["properties"]


def test_a_document_discount_is_read_and_emitted_null_where_sap_leaves_it_empty(make_sandbox):
    """Header DiscountPercent / TotalDiscount(FC) (SAP's Document): the target spreads a
    document discount over the lines' discount % (mapping.total_lines)."""
    sb = make_sandbox()
    entry = sb.all("Invoices")[0]["DocEntry"]
    sb.update("Invoices", entry, {"DiscountPercent": 10.0, "TotalDiscount": 12.5,
                                  "TotalDiscountFC": 0.0})
    config = config_for(sb)
    schema = discover(config)["invoices"]["properties"]
    for name in ("DiscountPercent", "TotalDiscount", "TotalDiscountFC"):
        assert "number" in schema[name]["type"] and schema[name]["description"], name
    out = sync(config, discovered_catalog(config, ("invoices",)))
    by_entry = {r["DocEntry"]: r for r in out.records["invoices"]}
    assert by_entry[entry]["DiscountPercent"] == 10.0
    assert by_entry[entry]["TotalDiscount"] == 12.5
    other = next(r for k, r in by_entry.items() if k != entry)
    assert "DiscountPercent" in other and other["DiscountPercent"] is None  # SAP's null
    pages = [fields for fields in selects(sb, "Invoices") if "DocTotal" in fields]
    assert pages and all("DiscountPercent" in fields for fields in pages)


def test_a_catalog_from_a_udf_company_reads_only_what_a_standard_company_has(
        make_sandbox, caplog):
    udf_company = make_sandbox(udfs=UDFS)
    catalog = discovered_catalog(config_for(udf_company), ("invoices", "business_partners"))
    standard = make_sandbox()
    with caplog.at_level(logging.WARNING):
        out = sync(config_for(standard, enrich_line_items=True), catalog)
    assert len(out.records["invoices"]) == len(standard.all("Invoices"))
    sent = [f for fields in selects(standard, "Invoices") + selects(standard, "BusinessPartners")
            for f in fields]
    assert sent and not [f for f in sent if f.startswith("U_")]
    warnings = [r.getMessage() for r in caplog.records if "not read" in r.getMessage()]
    assert len(warnings) == 2 and "U_HubSpotDealId" in " ".join(warnings)
    assert not [r for r in standard.requests if r.status == 400]


def test_metadata_is_read_once_per_run(make_sandbox):
    sb = make_sandbox(udfs=UDFS)
    run_tap(config_for(sb, enrich_line_items=True))
    assert sb.count(path_contains="$metadata") == 1


def _csdl_without(sb, type_name: str, field: str) -> bytes:
    from sap_sandbox.metadata import metadata_xml

    document = metadata_xml("v1", sb.schema).decode()
    pattern = rf'(<EntityType Name="{type_name}".*?)<Property Name="{field}" [^>]*/>'
    changed, count = re.subn(pattern, r"\1", document, count=1, flags=re.S)
    assert count == 1
    return changed.encode()


@pytest.mark.parametrize("stream,type_name,field", [
    ("incoming_payments", "Payment", "DocEntry"), ("incoming_payments", "Payment", "DocDate"),
    ("invoices", "Document", "UpdateTime"), ("business_partners", "BusinessPartner", "CardCode")])
def test_a_missing_field_the_tap_needs_is_one_error_naming_it(make_sandbox, stream, type_name,
                                                              field):
    sb = make_sandbox()
    tap = TapSAPB1(config=config_for(sb), validate_config=False)
    meta = parse_csdl(_csdl_without(sb, type_name, field))
    tap.run.metadata(lambda: meta)
    with pytest.raises(MissingFieldError) as caught:
        _ = tap.streams[stream].schema
    text = str(caught.value)
    entity_set = tap.streams[stream].entity_set
    assert f"'{field}'" in text and entity_set in text and "CSDL 1.0" in text
    assert "\n" not in text
    tap.close()


def test_a_sync_with_a_catalog_checks_the_fields_before_its_first_query(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb)
    catalog = discovered_catalog(config, ("invoices",))
    tap = TapSAPB1(config=config, catalog=catalog)
    meta = parse_csdl(_csdl_without(sb, "Document", "UpdateTime"))
    tap.run.metadata(lambda: meta)
    sb.clear_requests()
    with pytest.raises(MissingFieldError, match="'UpdateTime'"), redirect_stdout(io.StringIO()):
        tap.sync_all()
    tap.close()
    assert not [r for r in sb.requests if r.path.endswith("/Invoices")]


def test_enrichment_and_nested_collections_are_selected_only_where_the_server_has_them(
        make_sandbox):
    sb = make_sandbox()
    config = config_for(sb, enrich_line_items=True)
    tap = TapSAPB1(config=config, catalog=discovered_catalog(config, ("invoices",)))
    meta = parse_csdl(_csdl_without(sb, "Document", "DocumentLines"))
    tap.run.metadata(lambda: meta)
    with redirect_stdout(io.StringIO()):
        tap.sync_all()
    tap.close()
    pages = [fields for fields in selects(sb, "Invoices") if "DocTotal" in fields]
    assert pages and not [fields for fields in pages if "DocumentLines" in fields]
    assert not [r for r in sb.requests if r.path.endswith("/ChartOfAccounts")]  # no lines


@contextmanager
def metadata_server(document: bytes) -> Iterator[str]:
    """A Service Layer on 127.0.0.1 that only logs in and serves `document` as $metadata (the
    sandbox is SAP-faithful: it never lacks a key)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            if self.path.endswith("/Login"):
                self.send_header("Set-Cookie", "B1SESSION=fake-session; HttpOnly")
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/Login"):
                self._answer(200, json.dumps({"SessionId": "fake-session",
                                              "Version": "1000230"}).encode())
            else:
                self._answer(204, b"")

        def do_GET(self) -> None:
            if self.path.endswith("/$metadata"):
                self._answer(200, document, "application/xml")
            else:
                self._answer(404, b'{"error": {"code": -1, "message": "no"}}')

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/b1s/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_field_ends_discovery_with_one_line(make_sandbox, tmp_path):
    from tap_helpers import run_cli

    document = _csdl_without(make_sandbox(), "Payment", "DocDate")
    with metadata_server(document) as url:
        run = run_cli(tmp_path, {**config_for(None, url=url)}, "--discover")
    assert run.returncode == 1
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr[-3000:]
    assert "'DocDate'" in errors[0] and "IncomingPayments" in errors[0]
    assert "version 1000230" in errors[0]  # what the server's Login reported
    assert "Traceback" not in run.stderr


def test_unreadable_metadata_falls_back_to_the_curated_schema_with_one_warning(
        make_sandbox, caplog):
    sb = make_sandbox(udfs=UDFS)
    sb.add_fault("html-404", rate=1.0, path_contains="$metadata")
    with caplog.at_level(logging.WARNING):
        schemas = discover(config_for(sb))
    assert "U_HubSpotDealId" not in schemas["invoices"]["properties"]
    assert "DocTotal" in schemas["invoices"]["properties"]
    assert len([r for r in caplog.records if "$metadata" in r.getMessage()]) == 1


def test_discovery_without_connection_settings_lists_the_curated_schemas():
    tap = TapSAPB1(config={"page_size": 5}, validate_config=False)
    schemas = {e["tap_stream_id"]: e["schema"] for e in tap.catalog_dict["streams"]}
    assert set(schemas) == set(MODELS)
    assert "DocTotal" in schemas["invoices"]["properties"]


def test_payments_are_bookmarked_by_doc_entry_in_the_catalog(make_sandbox):
    tap = TapSAPB1(config=config_for(make_sandbox()), validate_config=False)
    entry = next(e for e in tap.catalog_dict["streams"]
                 if e["tap_stream_id"] == "incoming_payments")
    tap.close()
    root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
    assert root["valid-replication-keys"] == ["DocEntry"]
    assert entry["replication_key"] == "DocEntry"


def test_a_date_udf_sap_cannot_date_is_one_line_naming_the_record_and_field(make_sandbox):
    from tap_sapb1.errors import SapDataError

    sb = make_sandbox(udfs=UDFS)
    tap = TapSAPB1(config=config_for(sb), validate_config=False)
    try:
        stream = tap.streams["invoices"]
        assert stream.schema["properties"]["U_Promised"]["format"] == "date"
        row = {"DocEntry": 7, "UpdateDate": "2024-01-02", "UpdateTime": "10:00:00",
               "U_Promised": "/Date(253402300800000)/"}  # year 10000
        with pytest.raises(SapDataError) as caught:
            stream.post_process(row)
    finally:
        tap.close()
    assert "U_Promised" in str(caught.value) and "7" in str(caught.value)


@pytest.mark.parametrize("loss", ["301", "-5002"])
def test_metadata_read_on_a_lost_session_logs_in_again_and_keeps_the_udfs(make_sandbox, loss):
    sb = make_sandbox(udfs=UDFS)
    tap = TapSAPB1(config=config_for(sb), validate_config=False)
    try:
        tap.run.sap_session.login()
        sb.kill_sessions(loss)
        schema = tap.streams["invoices"].schema
    finally:
        tap.close()
    assert "U_HubSpotDealId" in schema["properties"]  # the server's, not the fallback
    assert sb.count(path_contains="Login") == 2


def test_a_catalog_schema_without_the_key_still_reads_the_key_and_bookmark(make_sandbox):
    """A hand-pruned catalog schema: the fields the tap cannot work without stay in it."""
    sb = make_sandbox()
    config = config_for(sb)
    catalog = discovered_catalog(config, ("incoming_payments",))
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == "incoming_payments":
            entry["schema"]["properties"] = {name: field for name, field in
                                             entry["schema"]["properties"].items()
                                             if name in ("CardCode", "CashSum")}
    out = sync(config, catalog)
    records = out.records["incoming_payments"]
    assert len(records) == len(sb.all("IncomingPayments"))
    assert all(isinstance(r["DocEntry"], int) and r["DocDate"] for r in records)
    bookmark = out.state["bookmarks"]["incoming_payments"]["replication_key_value"]
    assert bookmark == max(p["DocEntry"] for p in sb.all("IncomingPayments"))


def test_a_date_udf_on_document_lines_is_emitted_as_a_date(make_sandbox):
    """b1s/v1 serves every Edm.DateTime as /Date(ms)/, a line's UDF too (the sandbox renders
    only top-level *Date names that way, so the row is SAP's v1 form, given directly)."""
    sb = make_sandbox(udfs={**UDFS, "DocumentLine": {"U_ShipBy": "Edm.DateTime"}})
    tap = TapSAPB1(config=config_for(sb), validate_config=False)
    try:
        stream = tap.streams["invoices"]
        line_schema = stream.schema["properties"]["DocumentLines"]["items"]["properties"]
        assert line_schema["U_ShipBy"]["format"] == "date"
        row = {"DocEntry": 7, "UpdateDate": "2024-01-02", "UpdateTime": "10:00:00",
               "U_Promised": "/Date(1709596800000)/",
               "DocumentLines": [{"LineNum": 0, "U_ShipBy": "/Date(1709596800000)/"},
                                 {"LineNum": 1, "U_ShipBy": None}]}
        out = stream.post_process(row)
    finally:
        tap.close()
    assert out["U_Promised"] == "2024-03-05"
    assert [line["U_ShipBy"] for line in out["DocumentLines"]] == ["2024-03-05", None]


def test_dates_inside_collections_are_emitted_as_dates(make_sandbox):
    """PaymentChecks[].DueDate is a date on b1s/v1 too (served as /Date(ms)/)."""
    sb = make_sandbox()
    tap = TapSAPB1(config=config_for(sb), validate_config=False)
    try:
        stream = tap.streams["incoming_payments"]
        _ = stream.schema
        row = {"DocEntry": 3, "DocDate": "/Date(1709596800000)/",
               "PaymentChecks": [{"LineNum": 0, "DueDate": "/Date(1709596800000)/"}]}
        out = stream.post_process(row)
    finally:
        tap.close()
    assert out["DocDate"] == "2024-03-05"
    assert out["PaymentChecks"][0]["DueDate"] == "2024-03-05"


def test_a_udf_of_an_edm_type_the_tap_does_not_know_is_text():
    from tap_sapb1.discovery import server_schema
    from tap_sapb1.schemas import CHART_OF_ACCOUNTS

    document = b"""<?xml version="1.0"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices><Schema Namespace="SAPB1" xmlns="http://docs.oasis-open.org/odata/ns/edm">
  <EntityType Name="ChartOfAccount"><Key><PropertyRef Name="Code"/></Key>
   <Property Name="Code" Type="Edm.String"/><Property Name="Name" Type="Edm.String"/>
   <Property Name="U_Blob" Type="Edm.Binary"/><Property Name="U_Where" Type="Edm.GeographyPoint"/>
   <Property Name="U_Odd" Type="SAPB1.NotDeclaredAnywhere"/>
   <Property Name="U_Big" Type="Edm.Int64"/>
  </EntityType>
  <EntityContainer Name="ServiceLayer">
   <EntitySet Name="ChartOfAccounts" EntityType="SAPB1.ChartOfAccount"/></EntityContainer>
 </Schema></edmx:DataServices></edmx:Edmx>"""
    meta = parse_csdl(document)
    schema = server_schema(CHART_OF_ACCOUNTS, meta.properties("ChartOfAccounts"), meta,
                           "SAPB1.ChartOfAccount")
    fields = schema["properties"]
    for name in ("U_Blob", "U_Where", "U_Odd"):
        assert fields[name]["type"] == ["string", "null"], name
    assert fields["U_Big"]["type"] == ["integer", "null"]
    assert set(fields) == {"Code", "Name", "U_Blob", "U_Where", "U_Odd", "U_Big"}


def test_enrichment_lookups_select_only_what_the_server_has(make_sandbox):
    sb = make_sandbox()
    config = config_for(sb, enrich_line_items=True)
    tap = TapSAPB1(config=config, catalog=discovered_catalog(config, ("invoices",)))
    meta = parse_csdl(_csdl_without(sb, "ProfitCenter", "CenterName"))
    tap.run.metadata(lambda: meta)
    with redirect_stdout(io.StringIO()) as out:
        tap.sync_all()
    tap.close()
    asked = [f for fields in selects(sb, "ProfitCenters") for f in fields]
    assert asked and "CenterName" not in asked
    lines = [line for m in out.getvalue().splitlines() if '"RECORD"' in m
             for line in json.loads(m)["record"].get("DocumentLines") or []]
    assert lines and all(line["ProfitCenterName"] is None for line in lines)
    assert any(line["AccountName"] for line in lines)  # the other lookup still works
