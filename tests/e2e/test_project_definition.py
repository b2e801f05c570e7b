"""meltano.yml says what the plugins really accept: every setting a plugin's `--about` declares
is declared in meltano.yml with a matching kind, secrets are `sensitive`, capabilities match, and
the jobs and schedules are the ones the README documents."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KINDS = {"string": {"string", "date_iso8601", "options", "file"}, "integer": {"integer"},
         # a number may be `kind: string` (meltano.yml header: the only kind carrying 0.5 from
         # the environment); both plugins type such text by their schema
         "number": {"decimal", "integer", "string"},
         # tap-sapb1's verify_ssl is `kind: string`: Meltano casts an empty boolean env to false
         "boolean": {"boolean", "string"}, "object": {"object"}, "array": {"array"}}


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


def tap_stream_names() -> set[str]:
    """The streams tap-sapb1 offers (built offline: no SAP call)."""
    from tap_sapb1.tap import TapSAPB1

    tap = TapSAPB1(config={"service_layer_url": "http://127.0.0.1:9/b1s/v1",
                           "company_db": "X", "username": "u", "password": "p",
                           "start_date": "2020-01-01"}, validate_config=False)
    return set(tap.streams)


def test_hubspot_selection_is_exactly_the_streams_the_target_writes():
    """tap-sapb1 selects what the target has a HubSpot handler for and no reference stream;
    tap-sapb1-all-streams selects every stream the tap offers."""
    from target_hubspot_finance.mapping import DEFAULT_OBJECT_MAP

    offered = tap_stream_names()
    select = plugin("extractors", "tap-sapb1")["select"]
    assert all(rule.endswith(".*") for rule in select), select  # whole streams, every field
    selected = {rule.split(".", 1)[0] for rule in select}
    assert selected == set(DEFAULT_OBJECT_MAP), selected
    assert selected < offered  # the rest are the reference streams, left out
    rules = plugin("extractors", "tap-sapb1-all-streams")["select"]
    assert all(any(fnmatch.fnmatch(f"{s}.DocEntry", r) for r in rules) for s in offered), rules


def test_secrets_are_never_in_the_prod_environment():
    prod = next(e for e in project()["environments"] if e["name"] == "prod")
    text = json.dumps(prod)
    for secret in ("password", "access_token", "ledger_url", "sqlalchemy_url"):
        assert f'"{secret}"' not in text, f"{secret} belongs in the environment, not meltano.yml"


def readme_schedule_list() -> dict[str, tuple[str, str, list[str]]]:
    """`meltano schedule list` as the README documents it: name -> (interval, job, tasks)."""
    line = re.compile(r"^# \[(?P<interval>[^\]]+)\] job (?P<name>\S+): (?P<job>\S+) → "
                      r"(?P<tasks>\[.*\])$")
    found = {}
    for text in (REPO / "README.md").read_text().splitlines():
        m = line.match(text.strip())
        if m:
            found[m["name"]] = (m["interval"], m["job"], ast.literal_eval(m["tasks"]))
    return found


def test_job_and_schedules_are_the_ones_the_readme_documents():
    project_ = project()
    jobs = {j["name"]: j["tasks"] for j in project_["jobs"]}
    schedules = {s["name"]: s for s in project_["schedules"]}
    documented = readme_schedule_list()
    assert documented, "README.md no longer shows `meltano schedule list`"
    assert set(documented) == set(schedules)
    for name, (interval, job, tasks) in documented.items():
        assert schedules[name]["interval"] == interval, name
        assert schedules[name]["job"] == job and jobs[job] == tasks, name


def test_the_job_runs_plugins_the_project_defines():
    project_ = project()
    plugins = {p["name"] for kind in project_["plugins"].values() for p in kind}
    mappings = {m["name"] for p in project_["plugins"].get("mappers", [])
                for m in p.get("mappings", [])}
    included = [yaml.safe_load((REPO / inc).read_text()) for pattern in
                project_.get("include_paths", []) for inc in
                [str(p.relative_to(REPO)) for p in REPO.glob(pattern)]]
    mappings |= {m["name"] for doc in included for p in doc.get("plugins", {}).get("mappers", [])
                 for m in p.get("mappings", [])}
    for job in project_["jobs"]:
        for task in job["tasks"]:
            for step in task.split():
                assert step in plugins | mappings, f"job {job['name']}: {step} is not defined"


def test_the_business_hours_schedule_is_incremental_and_the_nightly_one_a_full_pass():
    schedules = {s["name"]: s for s in project()["schedules"]}
    business = schedules["sap-to-hubspot-business-hours"]
    minute, hour, _, _, weekday = business["interval"].split()
    low, high = (int(h) for h in hour.split("-"))
    assert minute.startswith("*/") and 6 <= low < high <= 20 and weekday == "1-5"
    assert "MELTANO_RUN_FULL_REFRESH" not in (business.get("env") or {})
    nightly = schedules["sap-to-hubspot-nightly-full-pass"]
    night_hour = int(nightly["interval"].split()[1])
    assert not low <= night_hour <= high  # never beside a business-hours run (one state id)
    assert str(nightly["env"]["MELTANO_RUN_FULL_REFRESH"]).lower() == "true"
