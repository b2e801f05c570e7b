"""Through the real console scripts: JSON log lines parse, carry the sync events and no secret;
an encrypted token and password work end to end; a wrong key is one clear line and exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tools_pipeline import SAP_PASSWORD, TOKEN, tap_messages

from target_hubspot_finance import secrets

BIN = Path(sys.executable).parent


@pytest.fixture
def messages(tap_config) -> str:
    return tap_messages(tap_config)


def run_cli(args: list[str], stdin: str = "", env: dict | None = None
            ) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def test_json_log_lines_parse_carry_events_and_no_secret(messages, target_config, tmp_path,
                                                          hubspot_sandbox):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({**target_config, "log_format": "json"}))
    result = run_cli([str(BIN / "target-hubspot-finance"), "--config", str(config)], messages)
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    created = [e for e in events if e.get("action") == "created"]
    assert created, "sync events are logged"
    for e in created:
        assert {"ts", "level", "stream", "sap_key", "hubspot_id", "action"} <= set(e)
    ids = {c["id"] for c in hubspot_sandbox.objects("companies")}
    assert {e["hubspot_id"] for e in created if e["stream"] == "business_partners"} <= ids
    for secret in (TOKEN, SAP_PASSWORD):
        assert secret not in result.stderr + result.stdout


def test_encrypted_token_and_password_work_end_to_end(tap_config, target_config, tmp_path,
                                                      hubspot_sandbox):
    token_key, sap_key = secrets.generate_key(), secrets.generate_key()
    env = {secrets.KEY_ENV_VAR: token_key, "SAPB1_ENCRYPTION_KEY": sap_key}
    enc_token = run_cli([str(BIN / "target-hubspot-finance-encrypt")], TOKEN, env).stdout.strip()
    enc_password = run_cli([str(BIN / "target-hubspot-finance-encrypt"), "--for",
                            "sap-password"], SAP_PASSWORD, env).stdout.strip()
    assert enc_token.startswith("enc:") and enc_password.startswith("enc:")
    tap_file, target_file = tmp_path / "tap.json", tmp_path / "target.json"
    tap_file.write_text(json.dumps({**tap_config, "password": enc_password}))
    target_file.write_text(json.dumps({**target_config, "access_token": enc_token}))

    tap = run_cli([str(BIN / "tap-sapb1"), "--config", str(tap_file)], env=env)
    assert tap.returncode == 0, tap.stderr[-2000:]
    target = run_cli([str(BIN / "target-hubspot-finance"), "--config", str(target_file)],
                     tap.stdout, env)
    assert target.returncode == 0, target.stderr[-2000:]
    assert hubspot_sandbox.objects("companies")
    check = run_cli([str(BIN / "target-hubspot-finance"), "--config", str(target_file),
                     "--test"], env=env)
    assert check.returncode == 0 and "ready" in check.stdout
    for out in (tap, target, check):
        for secret in (TOKEN, SAP_PASSWORD, token_key, sap_key):
            assert secret not in out.stdout + out.stderr


def test_wrong_key_stops_the_target_with_one_clear_line(target_config, tmp_path, messages):
    enc = secrets.encrypt(TOKEN, secrets.load_key_from_text(secrets.generate_key()))
    config = tmp_path / "c.json"
    config.write_text(json.dumps({**target_config, "access_token": enc}))
    result = run_cli([str(BIN / "target-hubspot-finance"), "--config", str(config)], messages,
                     {secrets.KEY_ENV_VAR: secrets.generate_key()})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "cannot decrypt access_token" in line]
    assert len(errors) >= 1
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr and enc not in result.stderr
