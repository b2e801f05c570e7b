"""Bad values go to the dead-letter with a reason, never a traceback or a stuck pipeline
(issue 11 items 9 and 10), against the HubSpot sandbox.

Each test sends good records around the bad one: the good ones reach HubSpot, the run ends
with its STATE, and the bad one waits in the dead-letter saying what is wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from target_factory import KEYS, customer, invoice, messages, run
from target_hubspot_finance_testutil import by, cfg, ledger_rows

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot.client import HubSpotClient
from target_hubspot_finance.hubspot.errors import HubSpotError
from target_hubspot_finance.hubspot.properties import ensure_properties
from target_hubspot_finance.hubspot.rate_limit import RateLimiter

BIN = Path(sys.executable).parent


def _dead(target_config: dict) -> dict[str, dict]:
    rows = ledger_rows(target_config, "dead_letter")
    return {r["sap_key"]: r for r in rows}


def _error_text(row: dict) -> str:
    err = row["error"]
    return err if isinstance(err, str) else json.dumps(err)


def _typed(stream: str, schema_props: dict, records: list, state: dict | None = None) -> str:
    """SCHEMA with the given property types, then RECORD lines carrying any JSON value."""
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "key_properties": KEYS[stream],
                         "schema": {"type": "object", "properties": schema_props}})]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}) for r in records]
    if state is not None:
        lines.append(json.dumps({"type": "STATE", "value": state}))
    return "\n".join(lines) + "\n"


def _loose(record: dict) -> dict:
    return {k: {} for k in record}


@pytest.mark.parametrize("field,value", [("DocDate", "2026-13-45"), ("DocDate", "yesterday"),
                                         ("DocDueDate", "31/02/2026")])
def test_an_unparsable_date_is_dead_lettered_and_its_neighbours_written(
        hubspot_sandbox, target_config, field, value):
    good, bad = invoice(1), invoice(2, **{field: value})
    text = messages(("business_partners", [customer(1)])) + _typed(
        "invoices", _loose(good), [good, bad], state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001"}
    text = _error_text(_dead(target_config)["2"])
    assert value in text and "not a date" in text  # refused before any HubSpot call


def test_an_unparsable_date_time_in_a_typed_schema_is_dead_lettered(
        hubspot_sandbox, target_config):
    good, bad = invoice(1), invoice(2, sap_updated_at="not-a-time")
    props = {**_loose(good), "sap_updated_at": {"type": ["string", "null"],
                                                "format": "date-time"}}
    text = messages(("business_partners", [customer(1)])) + _typed(
        "invoices", props, [good, bad], state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001"}
    assert "2" in _dead(target_config)


@pytest.mark.parametrize("value", [[1, 2], "C00009", 42, None])
def test_a_record_that_is_not_an_object_is_dead_lettered_with_a_reason(
        hubspot_sandbox, target_config, value):
    text = _typed("business_partners", _loose(customer(1)), [customer(1), value, customer(2)],
                  state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    assert set(by(hubspot_sandbox, "companies", "sap_card_code")) == {"C00001", "C00002"}
    dead = ledger_rows(target_config, "dead_letter")
    assert len(dead) == 1 and "not an object" in _error_text(dead[0])


def test_a_record_without_its_key_is_dead_lettered_never_written_under_none(
        hubspot_sandbox, target_config):
    keyless = invoice(2)
    del keyless["DocEntry"]
    text = messages(("business_partners", [customer(1)])) + _typed(
        "invoices", _loose(invoice(1)), [invoice(1), keyless], state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    assert set(by(hubspot_sandbox, "invoices", "sap_doc_num")) == {"4001"}
    assert "None" not in {r["sap_key"] for r in ledger_rows(target_config, "synced_objects")}
    dead = ledger_rows(target_config, "dead_letter")
    assert len(dead) == 1 and "DocEntry" in _error_text(dead[0])


def test_a_contact_e_mail_field_holding_two_addresses_makes_one_contact_per_address(
        hubspot_sandbox, target_config):
    person = customer(1)["ContactEmployees"][0]
    person["E_Mail"] = "ap@c1.example.com; boss@c1.example.com"
    _target, states = run(cfg(target_config), messages(
        ("business_partners", [customer(1, ContactEmployees=[person])]), state={"done": 1}))
    assert states[-1] == {"done": 1}
    contacts = by(hubspot_sandbox, "contacts", "email")
    assert set(contacts) == {"ap@c1.example.com", "boss@c1.example.com"}
    assert len(hubspot_sandbox.associations("contacts", "companies")) == 2
    assert ledger_rows(target_config, "dead_letter") == []


def test_a_200_answer_that_is_not_json_stops_the_run_with_one_line(
        hubspot_sandbox, target_config, tmp_path):
    hubspot_sandbox.add_fault(kind="html200", at=[1], path_contains="/companies/batch/upsert")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg(target_config)))
    data = tmp_path / "in.jsonl"
    data.write_text(messages(("business_partners", [customer(1)]), state={"b": 1}))
    done = subprocess.run([str(BIN / "target-hubspot-finance"), "--config", str(config),
                           "--input", str(data)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 1 and done.stdout == ""  # no STATE past the unknown write
    assert "Traceback" not in done.stderr
    stops = [ln for ln in done.stderr.splitlines() if "stopped:" in ln]
    assert len(stops) == 1 and "not JSON" in stops[0]
    assert hubspot_sandbox.token not in done.stderr


def test_property_already_exists_after_a_retried_creation_is_success(hubspot_sandbox):
    """The first batch/create is applied but its answer comes too late (timeout): the retry
    meets 409 "already exists", which means the properties are there; the run goes on."""
    hubspot_sandbox.add_fault(kind="timeout", at=[1], delay=600,  # held until the sandbox stops
                              path_contains="/properties/companies/batch/create")
    client = HubSpotClient(hubspot_sandbox.url, hubspot_sandbox.token, RateLimiter(190),
                           timeout=3.0, max_retries=2, backoff_base=0.01)
    try:
        ensure_properties(client, ["companies"])
    except HubSpotError as exc:
        pytest.fail(f"already-existing properties stopped the run: {exc}")
    names = {p["name"] for p in hubspot_sandbox.properties("companies")}
    assert {d["name"] for d in mapping.custom_definitions("companies", {})} <= names
    assert hubspot_sandbox.count(path_contains="/properties/companies/batch/create",
                                 status=409) == 1


@pytest.mark.parametrize("raw,emails", [
    ("Accounts Payable <ap@c1.example.com>", {"ap@c1.example.com"}),
    ("AP <ap@c1.example.com>; Boss <boss@c1.example.com>",
     {"ap@c1.example.com", "boss@c1.example.com"}),
    ("mailto:ap@c1.example.com", {"ap@c1.example.com"}),
])
def test_an_e_mail_field_with_display_names_makes_contacts_of_the_bare_addresses(
        hubspot_sandbox, target_config, raw, emails):
    person = customer(1)["ContactEmployees"][0]
    person["E_Mail"] = raw
    _target, states = run(cfg(target_config), messages(
        ("business_partners", [customer(1, ContactEmployees=[person])]), state={"done": 1}))
    assert states[-1] == {"done": 1}
    assert set(by(hubspot_sandbox, "contacts", "email")) == emails
    assert ledger_rows(target_config, "dead_letter") == []


def test_a_keyless_record_of_a_namespaced_company_is_dead_lettered_under_its_namespace(
        hubspot_sandbox, target_config):
    from target_hubspot_finance.commands import deadletter
    from target_hubspot_finance.ledger import Ledger

    keyless = invoice(2)
    del keyless["DocEntry"]
    config = cfg(target_config, key_namespace="GB")
    text = messages(("business_partners", [customer(1)])) + _typed(
        "invoices", _loose(invoice(1)), [invoice(1), keyless, [1]], state={"done": 1})
    _target, states = run(config, text)
    assert states[-1] == {"done": 1}
    dead = ledger_rows(target_config, "dead_letter")
    assert len(dead) == 2 and all(r["sap_key"].startswith("GB:no-") for r in dead)
    # so GB's replay finds them
    engine = Ledger(target_config["ledger_url"]).engine
    assert len(deadletter.entries(engine, namespace="GB")) == 2


def test_a_nan_amount_is_dead_lettered_as_strict_json_a_postgresql_ledger_accepts(
        hubspot_sandbox, target_config):
    """Python reads `NaN` in Singer input; PostgreSQL's JSON type refuses it, so the dead-letter
    row (record and error) must hold strict JSON or the run would stop on the ledger write."""
    import sqlite3

    good, bad = customer(1), customer(2, CreditLimit=12.5)
    text = _typed("business_partners", _loose(good), [good, bad], state={"done": 1})
    text = text.replace('"CreditLimit": 12.5', '"CreditLimit": NaN')
    assert "NaN" in text
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    path = target_config["ledger_url"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT sap_key, record, error FROM dead_letter").fetchall()
    assert [r[0] for r in rows] == ["C00002"]

    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    record = json.loads(rows[0][1], parse_constant=refuse)
    json.loads(rows[0][2], parse_constant=refuse)
    assert record["CreditLimit"] in ("NaN", "nan")  # kept readable for the operator


def test_each_record_that_is_not_an_object_has_its_own_dead_letter_row(
        hubspot_sandbox, target_config):
    text = _typed("business_partners", _loose(customer(1)), [[1, 2], customer(1), "C00009"],
                  state={"done": 1})
    _target, states = run(cfg(target_config), text)
    assert states[-1] == {"done": 1}
    dead = ledger_rows(target_config, "dead_letter")
    assert len(dead) == 2  # one per refused input, each saying what it was
    texts = sorted(json.dumps(r["record"]) + _error_text(r) for r in dead)
    assert "[1, 2]" in texts[0] + texts[1] and "C00009" in texts[0] + texts[1]
    assert all("not an object" in _error_text(r) for r in dead)
