"""singer-sdk's standard target tests, fed through the target's real companies sink.

The SDK's sample streams (array_data, camelcase, ...) are not SAP streams. The settings route
each of them to the `companies` handler (`object_map`) and give its records a CardCode and a
CardName with singer-sdk stream maps, so every sample record takes the path a SAP business
partner takes (mapping, ledger, batch upsert) into the HubSpot sandbox. After each test the
sandbox is checked: the companies the sample should have produced, and no other. One SDK
expectation is replaced where this target deliberately differs: a record without its key is
dead-lettered rather than stopping the run (test_target_record_missing_key_property).
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from singer_sdk.testing import get_target_test_class, target_test_streams
from singer_sdk.testing.runners import TargetTestRunner
from sqlalchemy import create_engine, text

from target_hubspot_finance.target import TargetHubSpotFinance

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
NAME = "'SDK ' + __stream_name__"
CUSTOMER = "'cCustomer'"


def as_company(code: str, name: str = NAME) -> dict:
    """A stream map that makes a sample record a customer: CardCode from `code`."""
    return {"CardCode": code, "CardName": name, "CardType": CUSTOMER}


by_id = "'SDK-' + __stream_name__ + '-' + str(record.get('id'))"
STREAM_MAPS = {
    "test_array_data": as_company(by_id, "', '.join(fruits)"),
    "TestCamelcase": as_company("'SDK-camel-' + Id", "clientName"),
    "ForecastingTypeToCategory": as_company("'SDK-forecast-' + Id"),
    "test_duplicate_records": as_company(by_id, "'metric ' + str(metric)"),
    "test_strings": as_company(by_id, "info"),
    "test_strings_in_objects": as_company(by_id, "info['value']"),
    "test_strings_in_arrays": as_company(by_id, "' | '.join(strings)"),
    "test_multiple_state_messages_a": as_company(by_id),
    "test_multiple_state_messages_b": as_company(by_id),
    "test_no_pk": as_company(by_id),
    "test_optional_attributes": as_company(by_id, "record.get('optional') or 'none'"),
    "test_record_before_schema": as_company(by_id),
    "test_invalid_schema": as_company(by_id),
    "record_missing_fields": as_company(by_id),
    "test_record_missing_key_property": as_company(by_id),
    "test_record_missing_required_property": as_company(by_id),
    "test_object_schema_with_properties": as_company(
        "'SDK-object-' + str(object_store['id'])"),
    "test_object_schema_no_properties": as_company(
        "'SDK-object-none-' + str(object_store.get('id'))"),
    "test_schema_updates": as_company(by_id, "'a1 ' + str(a1)"),
    "example_stream": as_company(by_id, "email"),
    "test:SpecialChars!in?attributes": as_company("'SDK-special-' + _id",
                                                  "d['agent:os:version']"),
}


def sample_records(name: str) -> list[dict]:
    """The RECORD messages of the SDK's sample file for test `name`."""
    text = (resources.files(target_test_streams) / f"{name}.singer").read_text()
    return [m for m in map(json.loads, text.splitlines()) if m["type"] == "RECORD"]


def last_record_per_code(name: str, code: str = "id") -> dict[str, dict]:
    return {str(m["record"].get(code)): m["record"] for m in sample_records(name)}


def companies(hs) -> dict[str, dict]:
    return {c["properties"]["sap_card_code"]: c["properties"] for c in hs.objects("companies")}


def expect_ids(hs, stream: str, ids) -> dict[str, dict]:
    """Exactly the companies SDK-<stream>-<id> for `ids`; returns them by id."""
    got = companies(hs)
    want = {f"SDK-{stream}-{i}" for i in ids}
    assert set(got) == want, f"HubSpot companies {sorted(got)} != {sorted(want)}"
    return {code.rsplit("-", 1)[1]: props for code, props in got.items()}


def check_encoded_strings(hs) -> None:
    names = {"test_strings": lambda r: r["info"],
             "test_strings_in_objects": lambda r: r["info"]["value"],
             "test_strings_in_arrays": lambda r: " | ".join(r["strings"])}
    want = {f"SDK-{m['stream']}-{m['record']['id']}": names[m["stream"]](m["record"])
            for m in sample_records("encoded_string_data")}
    got = companies(hs)
    assert set(got) == set(want)
    for code, name in want.items():  # every script, quote and escape arrives as sent
        # spelt out, not mapping.text(name): a text() that mangled the name would agree with itself
        assert got[code]["name"] == (name.strip() or code), code


def check_duplicates(hs) -> None:
    got = expect_ids(hs, "test_duplicate_records", last_record_per_code("duplicate_records"))
    assert {k: v["name"] for k, v in got.items()} == {  # the last version of each key wins
        k: f"metric {r['metric']}" for k, r in last_record_per_code("duplicate_records").items()}


def check_array_data(hs) -> None:
    got = expect_ids(hs, "test_array_data", last_record_per_code("array_data"))
    assert got["1"]["name"] == "apple, orange, pear"


def check_schema_updates(hs) -> None:
    records = last_record_per_code("schema_updates")
    got = expect_ids(hs, "test_schema_updates", records)
    assert {k: v["name"] for k, v in got.items()} == {k: f"a1 {r['a1']}"
                                                     for k, r in records.items()}


def check_simple(name: str, stream: str):
    return lambda hs: expect_ids(hs, stream, last_record_per_code(name))


def check_codes(*codes: str):
    def check(hs) -> None:
        assert set(companies(hs)) == set(codes)
    return check


def check_nothing_written(hs) -> None:
    assert companies(hs) == {}
    assert hs.writes() == 0


def check_required_missing(hs) -> None:
    # The record lacks `id`, which its schema requires: not sent (the sink dead-letters it).
    assert companies(hs) == {}
    assert hs.count(method="POST", path_contains="/batch/upsert") == 0


# Test name (the SDK's) -> what HubSpot must hold afterwards.
EXPECTED = {
    "array_data": check_array_data,
    "camelcase": check_codes("SDK-camel-1", "SDK-camel-2"),
    "camelcase_complex_schema": lambda hs: check_codes(*{
        f"SDK-forecast-{r['record']['Id']}"
        for r in sample_records("camelcase_complex_schema")})(hs),
    "duplicate_records": check_duplicates,
    "encoded_string_data": check_encoded_strings,
    "multiple_state_messages": lambda hs: check_codes(*{
        f"SDK-{m['stream']}-{m['record']['id']}"
        for m in sample_records("multiple_state_messages")})(hs),
    "no_primary_keys": check_simple("no_primary_keys", "test_no_pk"),
    "optional_attributes": check_simple("optional_attributes", "test_optional_attributes"),
    "record_missing_fields": check_simple("record_missing_fields", "record_missing_fields"),
    "schema_updates": check_schema_updates,
    "special_chars_in_attributes": check_codes("SDK-special-a2e98886"),
    "pk_updates": check_simple("pk_updates", "example_stream"),
    "schema_no_properties": check_codes("SDK-object-1", "SDK-object-2", "SDK-object-none-1",
                                        "SDK-object-none-2"),
    "record_missing_required_property": check_required_missing,
    "invalid_schema": check_nothing_written,
    "record_before_schema": check_nothing_written,
    "record_missing_key_property": check_required_missing,  # dead-lettered: see the override
    "cli_prints": check_nothing_written,
}

StandardTargetTests = get_target_test_class(TargetHubSpotFinance, config={})


class TestTargetHubSpotFinanceStandard(StandardTargetTests):
    """The SDK's suite, every sample stream written through the companies sink."""

    @pytest.fixture
    def runner(self, hubspot_sandbox, tmp_path) -> TargetTestRunner:
        config = {
            "access_token": TOKEN,
            "api_base_url": hubspot_sandbox.url,
            "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
            "object_map": dict.fromkeys(STREAM_MAPS, "companies"),
            "stream_maps": STREAM_MAPS,
        }
        return TargetTestRunner(TargetHubSpotFinance, config=config)

    def test_target_record_missing_key_property(self, runner):
        """The SDK expects MissingKeyPropertiesError to stop the run. This target dead-letters a
        record without its key instead (issue 11: one bad record never stops a run), so the
        record is in the dead-letter, HubSpot got nothing, and the run ended normally."""
        runner.input_filepath = (resources.files(target_test_streams)
                                 / "record_missing_key_property.singer")
        runner.sync_all()
        engine = create_engine(runner.config["ledger_url"])
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT stream, error FROM dead_letter")).all()
        finally:
            engine.dispose()
        assert [r[0] for r in rows] == ["test_record_missing_key_property"]
        assert "has no id" in str(rows[0][1])

    @pytest.fixture(autouse=True)
    def hubspot_holds_what_the_sample_sent(self, request, hubspot_sandbox):
        yield
        name = request.node.name.removeprefix("test_target_")
        assert name in EXPECTED, f"no expectation for the SDK's test {name!r}: add one"
        EXPECTED[name](hubspot_sandbox)


def test_every_sdk_sample_stream_is_routed_to_a_real_sink():
    """No stream of the SDK's sample files falls through to the ignore sink."""
    routed = set()
    for name in set(EXPECTED) - {"cli_prints"}:
        text = (resources.files(target_test_streams) / f"{name}.singer").read_text()
        routed |= {m["stream"] for m in map(json.loads, text.splitlines()) if "stream" in m}
    assert routed, "the SDK ships no sample files any more"
    ignored = sorted(routed - set(STREAM_MAPS))
    assert not ignored, f"sent to the ignore sink: {ignored}"
