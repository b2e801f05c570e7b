"""Encrypted secret settings: the encrypt command, decryption in both plugins, clear key errors."""

from __future__ import annotations

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend

from tap_sapb1 import secrets as tap_secrets
from target_hubspot_finance import secrets
from target_hubspot_finance.commands.encrypt import main as encrypt_main

TOKEN = "pat-sandbox-0000-test-token-do-not-log"
SAP_PASSWORD = "S3cr3t-B1-passw0rd!"


class MemoryKeyring(KeyringBackend):
    """An OS keyring stand-in that lives in this process only."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def no_ambient_keys(monkeypatch):
    """Keys in the developer's own environment must not leak into these tests."""
    monkeypatch.delenv(secrets.KEY_ENV_VAR, raising=False)
    monkeypatch.delenv(tap_secrets.KEY_ENV_VAR, raising=False)


def run_encrypt(args: list[str], stdin: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(encrypt_main, args, input=stdin, env=env or {})


def test_encrypt_command_output_decrypts_back_to_the_token(monkeypatch):
    key = secrets.generate_key()
    result = run_encrypt([], TOKEN + "\n", {secrets.KEY_ENV_VAR: key})
    assert result.exit_code == 0, result.output
    value = result.output.strip()
    assert value.startswith("enc:")
    assert TOKEN not in result.output
    monkeypatch.setenv(secrets.KEY_ENV_VAR, key)
    assert secrets.reveal(value, setting="access_token") == TOKEN


def test_plain_setting_passes_through_without_any_key():
    assert secrets.reveal(TOKEN, setting="access_token") == TOKEN
    assert tap_secrets.reveal(SAP_PASSWORD) == SAP_PASSWORD


def test_wrong_key_is_a_clear_error_without_secret_or_key(monkeypatch):
    right, wrong = secrets.generate_key(), secrets.generate_key()
    value = secrets.encrypt(TOKEN, secrets.load_key_from_text(right))
    monkeypatch.setenv(secrets.KEY_ENV_VAR, wrong)
    with pytest.raises(secrets.SecretError) as caught:
        secrets.reveal(value, setting="access_token")
    message = str(caught.value)
    assert "cannot decrypt access_token" in message
    assert secrets.KEY_ENV_VAR in message
    for leaked in (TOKEN, right, wrong, value):
        assert leaked not in message
    assert caught.value.errors == [message]  # singer-sdk prints these lines and exits 1


def test_missing_key_names_where_to_put_it():
    value = secrets.encrypt(TOKEN, secrets.load_key_from_text(secrets.generate_key()))
    with pytest.raises(secrets.SecretError, match=secrets.KEY_ENV_VAR):
        secrets.reveal(value, setting="access_token")


def test_malformed_key_points_at_generate_key(monkeypatch):
    monkeypatch.setenv(secrets.KEY_ENV_VAR, "not-a-fernet-key")
    with pytest.raises(secrets.SecretError, match="--generate-key"):
        secrets.reveal("enc:gAAAAAB", setting="access_token")


def test_key_is_taken_from_the_os_keyring_when_the_variable_is_unset(memory_keyring):
    result = run_encrypt(["--generate-key", "--store-in-keyring"], "")
    assert result.exit_code == 0, result.output
    stored = memory_keyring.store[(secrets.KEYRING_SERVICE, secrets.KEYRING_USER)]
    assert stored not in result.output
    encrypted = run_encrypt([], TOKEN).output.strip()
    assert secrets.reveal(encrypted, setting="access_token") == TOKEN


def test_sap_password_roundtrip_through_the_tap(monkeypatch):
    key = secrets.generate_key()
    result = run_encrypt(["--for", "sap-password"], SAP_PASSWORD, {tap_secrets.KEY_ENV_VAR: key})
    assert result.exit_code == 0, result.output
    monkeypatch.setenv(tap_secrets.KEY_ENV_VAR, key)
    assert tap_secrets.reveal(result.output.strip()) == SAP_PASSWORD


def test_tap_wrong_key_is_a_clear_error(monkeypatch):
    value = secrets.encrypt(SAP_PASSWORD, secrets.load_key_from_text(secrets.generate_key()))
    monkeypatch.setenv(tap_secrets.KEY_ENV_VAR, secrets.generate_key())
    with pytest.raises(tap_secrets.SecretError) as caught:
        tap_secrets.reveal(value)
    assert "cannot decrypt password" in str(caught.value)
    assert SAP_PASSWORD not in str(caught.value)


def test_verify_reports_whether_the_current_key_opens_a_value():
    key = secrets.generate_key()
    value = secrets.encrypt(TOKEN, secrets.load_key_from_text(key))
    ok = run_encrypt(["--verify"], value, {secrets.KEY_ENV_VAR: key})
    assert ok.exit_code == 0
    assert "ok" in ok.output
    bad = run_encrypt(["--verify"], value, {secrets.KEY_ENV_VAR: secrets.generate_key()})
    assert bad.exit_code != 0
    assert "cannot decrypt" in bad.output
    assert TOKEN not in bad.output


def test_encrypt_without_key_exits_non_zero_with_one_line():
    result = run_encrypt([], TOKEN)
    assert result.exit_code != 0
    assert secrets.KEY_ENV_VAR in result.output
    assert TOKEN not in result.output
