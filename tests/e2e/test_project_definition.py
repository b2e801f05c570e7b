"""meltano.yml says what the plugins really accept: every setting a plugin's `--about` declares
is declared in meltano.yml with a matching kind, secrets are `sensitive`, capabilities match, and
the jobs and schedules are the ones the README documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KINDS = {"string": {"string", "date_iso8601", "options", "file"}, "integer": {"integer"},
         "number": {"decimal", "integer"}, "boolean": {"boolean"}, "object": {"object"},
         "array": {"array"}}


def project() -> dict:
    return yaml.safe_load((REPO / "meltano.yml").read_text())


def plugin(kind: str, name: str) -> dict:
    return next(p for p in project()["plugins"][kind] if p["name"] == name)


def about(executable: str) -> dict:
    result = subprocess.run([str(BIN / executable), "--about", "--format", "json"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def json_type(prop: dict) -> str:
    types = prop.get("type", "string")
    types = [types] if isinstance(types, str) else types
    if not [t for t in types if t != "null"] and "anyOf" in prop:
        types = [t for sub in prop["anyOf"] for t in (
            [sub.get("type")] if isinstance(sub.get("type"), str) else sub.get("type", []))]
    return next(t for t in types if t != "null")


# Settings every singer-sdk plugin has; Meltano passes them through without a declaration.
SDK_COMMON = {"stream_maps", "stream_map_config", "faker_config", "flattening_enabled",
              "flattening_max_depth", "batch_config", "load_method", "add_record_metadata",
              "validate_records", "default_target_schema", "batch_size_rows",
              "flattening_max_key_length", "flattening_separator"}


@pytest.mark.parametrize(("kind", "name", "executable"), [
    ("extractors", "tap-sapb1", "tap-sapb1"),
    ("loaders", "target-hubspot-finance", "target-hubspot-finance"),
])
def test_every_plugin_setting_is_declared_with_its_kind_and_secrecy(kind, name, executable):
    declared = {s["name"]: s for s in plugin(kind, name)["settings"]}
    schema = about(executable)["settings"]["properties"]
    missing = sorted(set(schema) - set(declared) - SDK_COMMON)
    assert not missing, f"{name} settings missing from meltano.yml: {missing}"
    for key, prop in schema.items():
        if key in SDK_COMMON:
            continue
        setting = declared[key]
        assert setting.get("kind", "string") in KINDS[json_type(prop)], key
        if prop.get("secret") or prop.get("writeOnly"):
            assert setting.get("sensitive") is True, f"{name}.{key} must be sensitive"
    stale = sorted(set(declared) - set(schema))
    assert not stale, f"meltano.yml declares settings {name} does not know: {stale}"


@pytest.mark.parametrize(("kind", "name", "executable"), [
    ("extractors", "tap-sapb1", "tap-sapb1"),
    ("loaders", "target-hubspot-finance", "target-hubspot-finance"),
])
def test_declared_capabilities_are_the_plugins_own(kind, name, executable):
    declared = set(plugin(kind, name)["capabilities"])
    actual = set(about(executable)["capabilities"])
    assert declared <= actual, f"{name} does not have {sorted(declared - actual)}"
    assert {"about", "stream-maps"} <= declared


def test_no_setting_is_declared_decimal():
    """Meltano 4.4.1 casts a `kind: decimal` value from the environment to Decimal and then fails
    to write the plugin's JSON config (`Object of type Decimal is not JSON serializable`)."""
    for kind in ("extractors", "loaders", "mappers"):
        for p in project()["plugins"].get(kind, []):
            for setting in p.get("settings", []):
                assert setting.get("kind") != "decimal", f"{p['name']}.{setting['name']}"


def test_tap_capabilities_include_incremental_state():
    assert {"catalog", "discover", "state"} <= set(plugin("extractors", "tap-sapb1")[
        "capabilities"])


def test_hubspot_selection_leaves_reference_streams_out():
    select = plugin("extractors", "tap-sapb1")["select"]
    assert select == ["business_partners.*", "invoices.*", "credit_notes.*",
                      "incoming_payments.*"]
    assert plugin("extractors", "tap-sapb1-all-streams")["select"] == ["*.*"]


def test_secrets_are_never_in_the_prod_environment():
    prod = next(e for e in project()["environments"] if e["name"] == "prod")
    text = json.dumps(prod)
    for secret in ("password", "access_token", "ledger_url", "sqlalchemy_url"):
        assert f'"{secret}"' not in text, f"{secret} belongs in the environment, not meltano.yml"


def test_job_and_schedules():
    jobs = {j["name"]: j["tasks"] for j in project()["jobs"]}
    assert jobs["sap-to-hubspot"] == ["tap-sapb1 sap-to-hubspot-rules target-hubspot-finance"]
    schedules = {s["name"]: s for s in project()["schedules"]}
    business = schedules["sap-to-hubspot-business-hours"]
    assert business["interval"] == "*/15 7-19 * * 1-5" and business["job"] == "sap-to-hubspot"
    nightly = schedules["sap-to-hubspot-nightly-full-pass"]
    assert nightly["job"] == "sap-to-hubspot"
    assert nightly["env"]["MELTANO_RUN_FULL_REFRESH"] == "true"
