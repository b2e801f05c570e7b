"""`target-hubspot-finance-check` against the HubSpot sandbox: one line per problem, exit 1."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from target_hubspot_finance import secrets
from target_hubspot_finance.commands.check import check_hubspot, main

TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def failures(report) -> list[str]:
    return [text for ok, text in report.lines if not ok]


def test_ready_portal_passes_with_portal_scopes_payments_and_tier(target_config):
    report = check_hubspot(target_config)
    assert failures(report) == []
    text = "\n".join(report.render())
    assert "portal 12345678" in text
    assert "all 15 needed scopes granted" in text
    assert "payments object available" in text
    assert "190 requests per 10 s (Professional/Enterprise)" in text


def test_bad_token_is_one_line_saying_to_replace_it(target_config):
    report = check_hubspot({**target_config, "access_token": "pat-na1-wrong"})
    assert failures(report) == [
        "HubSpot rejected the token (401): copy a current private-app token into access_token "
        "(a rotated or deleted app's token stops working)"]


def test_missing_scope_is_named_with_where_to_add_it():
    from hubspot_sandbox import HubSpotSandbox
    from target_hubspot_finance.commands.check import needed_scopes

    granted = set(needed_scopes({})) - {"crm.objects.invoices.write"}
    with HubSpotSandbox(token=TOKEN, scopes=granted) as hs:
        report = check_hubspot({"access_token": TOKEN, "api_base_url": hs.url})
    assert len(failures(report)) == 1
    assert failures(report)[0].startswith("missing scope crm.objects.invoices.write: add it in "
                                          "Settings > Integrations > Private Apps")


def test_payments_disabled_fails_in_commerce_mode_and_passes_in_properties_mode():
    from hubspot_sandbox import HubSpotSandbox

    with HubSpotSandbox(token=TOKEN, payments_enabled=False) as hs:
        commerce = check_hubspot({"access_token": TOKEN, "api_base_url": hs.url})
        props = check_hubspot({"access_token": TOKEN, "api_base_url": hs.url,
                               "payments_mode": "properties"})
    assert failures(commerce) == ["this portal has no payments object (commerce_payments): "
                                  "enable payments in HubSpot or set payments_mode: properties"]
    assert failures(props) == []


def test_rate_limit_setting_above_the_portal_tier_is_reported_not_failed(target_config):
    """The setting is a ceiling a run lowers to HubSpot's header: said, but no failure."""
    report = check_hubspot({**target_config, "rate_limit_per_10s": 250})
    assert failures(report) == []
    assert ("rate_limit_per_10s is 250, above the portal's 190 per 10 s: a run follows "
            "HubSpot's headers and sends at most 190 per 10 s") in [t for _, t in report.lines]


def test_unreachable_url_is_one_line():
    report = check_hubspot({"access_token": TOKEN, "api_base_url": "http://127.0.0.1:9"},
                           timeout=2)
    assert len(failures(report)) == 1
    assert failures(report)[0].startswith("cannot reach http://127.0.0.1:9")


def test_cli_exits_1_on_failure_and_never_prints_the_token(target_config, tmp_path, monkeypatch):
    key = secrets.generate_key()
    monkeypatch.setenv(secrets.KEY_ENV_VAR, key)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({**target_config, "access_token": secrets.encrypt(
        TOKEN, secrets.load_key_from_text(key))}))
    ok = CliRunner().invoke(main, ["--config", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "ready" in ok.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**target_config, "access_token": "pat-na1-wrong"}))
    result = CliRunner().invoke(main, ["--config", str(bad)])
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert TOKEN not in ok.output + result.output


@pytest.mark.parametrize("value", ["enc:garbage", ""])
def test_undecryptable_or_empty_token_is_reported_not_raised(target_config, value, monkeypatch):
    monkeypatch.setenv(secrets.KEY_ENV_VAR, secrets.generate_key())
    report = check_hubspot({**target_config, "access_token": value})
    assert len(failures(report)) == 1
    assert "access_token" in failures(report)[0]
