"""Null settings and settings from the environment: safe defaults, or one line to fix."""

from __future__ import annotations

import pytest
from tap_helpers import BIN, SAP_PASSWORD, config_for, run_cli, run_tap

from tap_sapb1.auth import make_http_session
from tap_sapb1.settings import max_tries, retry_waits, tls_verify

BASE = {"service_layer_url": "http://127.0.0.1:9/b1s/v1", "company_db": "SBODEMOUS",
        "username": "manager", "password": SAP_PASSWORD}


@pytest.mark.parametrize("value,verify", [(None, True), (True, True), (False, False)])
def test_verify_ssl_null_means_verify(value, verify):
    assert tls_verify({"verify_ssl": value}) is verify
    assert make_http_session({"verify_ssl": value}).verify is verify


def test_null_verify_ssl_refuses_an_untrusted_certificate(make_sandbox, tmp_path):
    sb = make_sandbox(tls=True)
    run = run_cli(tmp_path, config_for(sb, verify_ssl=None, max_retries=0), "--test")
    assert run.returncode == 1
    [line] = run.error_lines()
    assert "TLS certificate check failed" in line
    assert not any(r.path.endswith("/Login") for r in sb.requests)  # no password sent


def test_null_retry_settings_take_the_defaults():
    assert max_tries({"max_retries": None}) == max_tries({}) == 6
    waits = retry_waits({"backoff_seconds": None})
    defaults = retry_waits({})
    assert [next(waits) for _ in range(4)] == [next(defaults) for _ in range(4)]


def test_a_run_with_null_retry_settings_reads_through_a_fault(make_sandbox):
    sb = make_sandbox()
    sb.add_fault("503", at=[2], path_contains="ProfitCenters")
    config = config_for(sb, max_retries=None, backoff_seconds=None)
    out = run_tap(config, streams=["profit_centers"])
    assert len(out.records["profit_centers"]) == len(sb.all("ProfitCenters"))


def _env_run(tmp_path, **env: str):
    import subprocess

    base = {"TAP_SAPB1_SERVICE_LAYER_URL": BASE["service_layer_url"],
            "TAP_SAPB1_COMPANY_DB": "SBODEMOUS", "TAP_SAPB1_USERNAME": "manager",
            "TAP_SAPB1_PASSWORD": SAP_PASSWORD}
    done = subprocess.run([str(BIN / "tap-sapb1"), "--config=ENV", "--discover"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", **base, **env}, check=False)
    return done


@pytest.mark.parametrize("name,value,needle", [
    ("TAP_SAPB1_PAGE_SIZE", "1k", "TAP_SAPB1_PAGE_SIZE must be a whole number"),
    ("TAP_SAPB1_BACKOFF_SECONDS", "soon", "TAP_SAPB1_BACKOFF_SECONDS must be a number"),
    ("TAP_SAPB1_VERIFY_SSL", "perhaps", "TAP_SAPB1_VERIFY_SSL must be true or false"),
])
def test_a_bad_environment_setting_is_one_line(tmp_path, name, value, needle):
    done = _env_run(tmp_path, **{name: value})
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and needle in errors[0], done.stderr[-2000:]
    assert SAP_PASSWORD not in done.stderr


def test_environment_settings_are_parsed_by_their_type(tmp_path):
    from tap_sapb1.settings import CONFIG_SCHEMA, env_settings

    env = {"TAP_SAPB1_PAGE_SIZE": " 250 ", "TAP_SAPB1_BACKOFF_SECONDS": "0.5",
           "TAP_SAPB1_VERIFY_SSL": "false", "TAP_SAPB1_LOOKBACK_MINUTES": "90"}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        for key, value in env.items():
            patch.setenv(key, value)
        values = env_settings(CONFIG_SCHEMA)
    assert values == {"page_size": 250, "backoff_seconds": 0.5, "verify_ssl": False,
                      "lookback_minutes": 90}


@pytest.mark.parametrize("change,needle", [
    ({"lookback_minutes": -5}, "lookback_minutes"),
    ({"server_timezone": "Mars/Olympus"}, "server_timezone"),
    ({"clock_tolerance_seconds": "soon"}, "clock_tolerance_seconds"),
])
def test_new_settings_are_checked(tmp_path, change, needle):
    run = run_cli(tmp_path, {**BASE, **change})
    assert run.returncode == 1
    [line] = run.error_lines()
    assert needle in line


def test_empty_new_settings_mean_their_defaults():
    from tap_sapb1.settings import check_settings, clock_tolerance, lookback, server_zone

    config = {**BASE, "server_timezone": "", "lookback_minutes": None,
              "clock_tolerance_seconds": None}
    assert check_settings(config) == []
    assert server_zone(config) is None
    assert lookback(config).total_seconds() == 120 * 60
    assert clock_tolerance(config).total_seconds() == 300


@pytest.mark.parametrize("text,verify", [("", True), (" ", True), ("true", True),
                                         ("false", False)])
def test_verify_ssl_from_meltanos_environment_is_off_only_when_it_says_false(text, verify):
    """Meltano casts a `kind: boolean` setting's env text with truthy(): '' (declared, left
    empty) became false and turned TLS off. The value as Meltano passes it, through the tap."""
    from pathlib import Path

    import yaml
    from meltano.core.setting_definition import SettingDefinition

    from tap_sapb1.tap import TapSAPB1

    project = yaml.safe_load((Path(__file__).parents[2] / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-sapb1")
    spec = next(s for s in plugin["settings"] if s["name"] == "verify_ssl")
    passed = SettingDefinition.parse(spec).cast_value(text)
    tap = TapSAPB1(config={**BASE, "verify_ssl": passed})
    assert make_http_session(tap.config).verify is verify
