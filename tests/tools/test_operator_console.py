"""The operator commands as an operator runs them (console scripts in a shell, settings in
TARGET_HUBSPOT_FINANCE_* variables as Meltano exports them): typed settings, a ledger that must
exist, a Starter portal that passes `check`, and encrypt's one-line answers (issue 13, 2-3, 8-10).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from target_hubspot_finance.ledger import Failure, Ledger

BIN = Path(sys.executable).parent
TOKEN = "pat-sandbox-0000-test-token-do-not-log"


def run(command: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: str = "") -> subprocess.CompletedProcess:
    """A console script with only the given settings in its environment."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("TARGET_HUBSPOT_FINANCE", "TAP_SAPB1", "MELTANO_",
                                 "HUBSPOT_FINANCE_ENCRYPTION_KEY"))}
    return subprocess.run([str(BIN / command), *args], env={**base, **(env or {})}, cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one line on stderr and no traceback."""
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_number_settings_from_the_environment_are_typed_for_every_command(hubspot_sandbox,
                                                                          tmp_path):
    """Meltano exports every setting as text: '30', '0.5', 'true' must be values, not strings."""
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(ledger)  # one record waits in the dead-letter, so replay starts the target
    book.record_failures([Failure("business_partners", "C90001", None, {
        "CardCode": "C90001", "CardName": "Replayed Ltd", "CardType": "cCustomer"},
        {"category": "VALIDATION_ERROR", "message": "fixed since"})])
    book.engine.dispose()
    env = {"TARGET_HUBSPOT_FINANCE_ACCESS_TOKEN": TOKEN,
           "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hubspot_sandbox.url,
           "TARGET_HUBSPOT_FINANCE_LEDGER_URL": ledger,
           "TARGET_HUBSPOT_FINANCE_REQUEST_TIMEOUT": "30",
           "TARGET_HUBSPOT_FINANCE_BACKOFF_BASE_SECONDS": "0.5",
           "TARGET_HUBSPOT_FINANCE_PROGRESS_INTERVAL_SECONDS": "30",
           "TARGET_HUBSPOT_FINANCE_MAX_RETRIES": "5",
           "TARGET_HUBSPOT_FINANCE_DRY_RUN": "false"}
    replayed = run("target-hubspot-finance-replay", "run", env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "1 succeeded, 0 still failing" in replayed.stdout
    checked = run("target-hubspot-finance-check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    bad = run("target-hubspot-finance-replay", "list",
              env={**env, "TARGET_HUBSPOT_FINANCE_REQUEST_TIMEOUT": "thirty"})
    assert one_line_error(bad) == ("Error: setting request_timeout must be a number, got "
                                   "'thirty' (from TARGET_HUBSPOT_FINANCE_REQUEST_TIMEOUT)")


def test_a_missing_ledger_is_refused_and_never_created(tmp_path):
    missing = tmp_path / "typo" / "ledger.db"
    done = run("target-hubspot-finance-replay", "list",
               env={"TARGET_HUBSPOT_FINANCE_LEDGER_URL": f"sqlite:///{missing}"})
    line = one_line_error(done)
    assert line.startswith(f"Error: no ledger at {missing}") and "ledger_url" in line
    assert "dead-letter is empty" not in done.stdout
    assert not missing.exists() and not missing.parent.exists()
    # No ledger_url at all, run from an empty folder: the default ledger does not exist either.
    done = run("target-hubspot-finance-replay", "run", cwd=tmp_path,
               env={"MELTANO_PROJECT_ROOT": str(tmp_path)})
    assert "ledger_url" in one_line_error(done)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.suffix == ".db") == []


def test_a_database_without_ledger_tables_is_not_an_all_clear(tmp_path):
    other = tmp_path / "other.db"
    create_engine(f"sqlite:///{other}").connect().close()  # an empty SQLite file
    done = run("target-hubspot-finance-replay", "list",
               env={"TARGET_HUBSPOT_FINANCE_LEDGER_URL": f"sqlite:///{other}"})
    assert "holds no ledger tables" in one_line_error(done)


def test_an_unreachable_postgresql_ledger_is_one_line_without_the_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"postgresql+psycopg2://ledger:Sup3rS3cret@127.0.0.1:{port}/ledger"
    for args in (["list"], ["run"]):
        done = run("target-hubspot-finance-replay", *args,
                   env={"TARGET_HUBSPOT_FINANCE_LEDGER_URL": url})
        line = one_line_error(done)
        assert line.startswith("Error: cannot reach the ledger postgresql+psycopg2://ledger:***@")
        assert "Sup3rS3cret" not in done.stdout + done.stderr


def test_check_passes_a_starter_portal_although_meltano_passes_190(tmp_path):
    """meltano.yml's default rate_limit_per_10s (190) is not the operator's mistake: the run
    follows HubSpot's headers, so check says so and passes."""
    from hubspot_sandbox import HubSpotSandbox

    with HubSpotSandbox(token=TOKEN, rate_limit_per_10s=100) as starter:
        done = run("target-hubspot-finance-check", env={
            "TARGET_HUBSPOT_FINANCE_ACCESS_TOKEN": TOKEN,
            "TARGET_HUBSPOT_FINANCE_API_BASE_URL": starter.url,
            "TARGET_HUBSPOT_FINANCE_RATE_LIMIT_PER_10S": "190"})
    assert done.returncode == 0, done.stdout
    assert "rate limit seen: 100 requests per 10 s (Free/Starter)" in done.stdout
    assert "sends at most 100 per 10 s" in done.stdout
    assert "FAIL" not in done.stdout


@pytest.fixture
def no_keyring(tmp_path) -> dict[str, str]:
    """A headless server: the keyring library finds no backend."""
    return {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "HOME": str(tmp_path)}


def test_store_in_keyring_without_a_keyring_backend_is_one_line(no_keyring):
    done = run("target-hubspot-finance-encrypt", "--generate-key", "--store-in-keyring",
               env=no_keyring)
    line = one_line_error(done)
    assert "no usable OS keyring" in line and "HUBSPOT_FINANCE_ENCRYPTION_KEY" in line


def test_verify_of_a_plain_value_is_not_ok(no_keyring):
    key = run("target-hubspot-finance-encrypt", "--generate-key").stdout.strip()
    env = {**no_keyring, "HUBSPOT_FINANCE_ENCRYPTION_KEY": key}
    for with_key in (env, no_keyring):  # with the key set, and with no key anywhere
        done = run("target-hubspot-finance-encrypt", "--verify", env=with_key,
                   stdin="pat-plain-token")
        assert "not encrypted" in one_line_error(done)
        assert "ok" not in done.stdout
    sealed = run("target-hubspot-finance-encrypt", env=env, stdin="pat-plain-token").stdout.strip()
    opened = run("target-hubspot-finance-encrypt", "--verify", env=env, stdin=sealed)
    assert opened.returncode == 0 and opened.stdout.startswith("ok:")


def test_store_in_keyring_alone_is_refused_not_ignored(no_keyring):
    done = run("target-hubspot-finance-encrypt", "--store-in-keyring", env=no_keyring,
               stdin="pat-plain-token")
    assert done.returncode == 2
    assert "use it with --generate-key" in done.stderr
    assert "enc:" not in done.stdout


def test_reconcile_reads_the_taps_settings_from_the_environment_typed(sap_sandbox,
                                                                      hubspot_sandbox, tmp_path):
    """`--tap-config ENV`: TAP_SAPB1_* variables are text too ('30', '1000', 'true')."""
    env = {"TARGET_HUBSPOT_FINANCE_ACCESS_TOKEN": TOKEN,
           "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hubspot_sandbox.url,
           "TARGET_HUBSPOT_FINANCE_REQUEST_TIMEOUT": "30",
           "TAP_SAPB1_SERVICE_LAYER_URL": sap_sandbox.url, "TAP_SAPB1_COMPANY_DB": "SBODEMOUS",
           "TAP_SAPB1_USERNAME": "manager", "TAP_SAPB1_PASSWORD": "S3cr3t-B1-passw0rd!",
           "TAP_SAPB1_START_DATE": "2020-01-01T00:00:00Z", "TAP_SAPB1_REQUEST_TIMEOUT": "30",
           "TAP_SAPB1_PAGE_SIZE": "1000", "TAP_SAPB1_MAX_RETRIES": "3",
           "TAP_SAPB1_VERIFY_SSL": "true"}
    done = run("target-hubspot-finance-reconcile", "--tap-config", "ENV", env=env, cwd=tmp_path)
    # nothing was loaded into HubSpot: SAP's invoices are reported missing, the run is complete
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("comparing SAP company SBODEMOUS: documents updated since "
                                  "2020-01-01 (start_date)")
    assert "difference(s) between SAP and HubSpot" in done.stdout.splitlines()[-1]
    assert "stopped" not in done.stderr and "S3cr3t-B1-passw0rd!" not in done.stdout + done.stderr


@pytest.mark.parametrize("password", ["Sup3r@S3cret", "Sup3r@S3c:99ret", "x@Sup3r/S3cret"])
def test_a_ledger_password_with_a_raw_at_sign_is_one_line_that_shows_none_of_it(password):
    """An operator pastes a password holding '@' without percent-encoding it: SQLAlchemy then
    reads part of the password as the host, port or database. No piece of it may be shown."""
    url = f"postgresql+psycopg2://ledger:{password}@127.0.0.1:9/ledger"
    pieces = [p for p in password.replace("@", " ").replace(":", " ").replace("/", " ").split()
              if len(p) > 2]
    for args in (["list"], ["run"]):
        done = run("target-hubspot-finance-replay", *args,
                   env={"TARGET_HUBSPOT_FINANCE_LEDGER_URL": url})
        line = one_line_error(done)
        assert "%40" in line, line  # says how to fix it
        for piece in pieces:
            assert piece not in done.stdout + done.stderr, (piece, line)


def test_settings_left_null_in_a_settings_file_are_unset_for_every_command(
        hubspot_sandbox, sap_sandbox, tmp_path):
    """A settings file may hold `null` for a setting it leaves unset: the default applies (no
    `int(None)`, no 'None is not one of', and check does not drop the payments scopes)."""
    import json

    from tap_sapb1.tap import TapSAPB1
    from target_hubspot_finance.target import TargetHubSpotFinance

    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(ledger)
    book.record_failures([Failure("business_partners", "C90001", None, {
        "CardCode": "C90001", "CardName": "Replayed Ltd", "CardType": "cCustomer"},
        {"category": "VALIDATION_ERROR", "message": "fixed since"})])
    book.engine.dispose()
    target = dict.fromkeys(TargetHubSpotFinance.config_jsonschema["properties"]) | {
        "access_token": TOKEN, "api_base_url": hubspot_sandbox.url, "ledger_url": ledger}
    tap = dict.fromkeys(TapSAPB1.config_jsonschema["properties"]) | {
        "service_layer_url": sap_sandbox.url, "company_db": "SBODEMOUS", "username": "manager",
        "password": "S3cr3t-B1-passw0rd!", "start_date": "2020-01-01T00:00:00Z"}
    (tmp_path / "t.json").write_text(json.dumps(target))
    (tmp_path / "tap.json").write_text(json.dumps(tap))
    config = ["--config", str(tmp_path / "t.json")]
    checked = run("target-hubspot-finance-check", *config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "payments object available (payments_mode: commerce_payments)" in checked.stdout
    assert "all 15 needed scopes granted" in checked.stdout
    replayed = run("target-hubspot-finance-replay", *config, "run")
    assert replayed.returncode == 0, replayed.stderr
    assert "1 succeeded, 0 still failing" in replayed.stdout
    done = run("target-hubspot-finance-reconcile", *config, "--tap-config",
               str(tmp_path / "tap.json"))
    assert "stopped" not in done.stderr, done.stderr
    assert "difference(s) between SAP and HubSpot" in done.stdout.splitlines()[-1]


@pytest.mark.parametrize("value", ["0.5", "1k", ""])
def test_the_targets_own_config_env_with_a_bad_whole_number_is_one_clear_line(tmp_path, value):
    """`target-hubspot-finance --config ENV` (singer-sdk's documented way): singer-sdk's own env
    parser did int('0.5') and ended in a traceback; the value is typed like every other one."""
    done = run("target-hubspot-finance", "--config", "ENV", cwd=tmp_path, env={
        "TARGET_HUBSPOT_FINANCE_ACCESS_TOKEN": TOKEN,
        "TARGET_HUBSPOT_FINANCE_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "TARGET_HUBSPOT_FINANCE_MAX_RETRIES": value})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert f"setting max_retries must be a whole number, got {value!r}" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize("password", ["Sup3r@S3cret", "Sup3r@S3c:99ret"])
def test_the_target_run_with_a_raw_at_sign_in_the_ledger_password_shows_none_of_it(tmp_path,
                                                                                   password):
    """The run itself (as `meltano run` starts it): one line, no piece of the password."""
    import json

    config = tmp_path / "target.json"
    config.write_text(json.dumps({
        "access_token": TOKEN,
        "ledger_url": f"postgresql+psycopg2://ledger:{password}@127.0.0.1:9/ledger"}))
    record = {"type": "RECORD", "stream": "business_partners", "record": {"CardCode": "C1"}}
    schema = {"type": "SCHEMA", "stream": "business_partners", "key_properties": ["CardCode"],
              "schema": {"type": "object", "properties": {"CardCode": {"type": "string"}}}}
    done = run("target-hubspot-finance", "--config", str(config), cwd=tmp_path,
               stdin=json.dumps(schema) + "\n" + json.dumps(record) + "\n")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert "%40" in done.stderr
    for piece in ("S3cret", "S3c", "99ret", "Sup3r"):
        assert piece not in done.stdout + done.stderr, piece


@pytest.mark.parametrize("setting", [{"rate_limit_per_10s": 0}, {"rate_limit_per_10s": -5},
                                     {"backoff_base_seconds": -1}, {"max_retries": -1}])
def test_a_negative_or_zero_limit_setting_is_refused_in_one_line_by_run_and_replay(tmp_path,
                                                                                  setting):
    """Out-of-range numbers ended in tracebacks (RateLimiter's ValueError, time.sleep(-x)) once
    the first call was made; the schema bounds them, so config validation names them."""
    import json

    from hubspot_sandbox import HubSpotSandbox

    name = next(iter(setting))
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(ledger)
    book.record_failures([Failure("business_partners", "C90001", None, {
        "CardCode": "C90001", "CardName": "Replayed Ltd", "CardType": "cCustomer"}, {"m": "x"})])
    book.engine.dispose()
    with HubSpotSandbox(token=TOKEN) as hs:
        hs.add_fault("503", rate=1.0, times=2)  # a retry, so the backoff sleeps
        config = tmp_path / "target.json"
        config.write_text(json.dumps({"access_token": TOKEN, "api_base_url": hs.url,
                                      "ledger_url": ledger, **setting}))
        record = {"type": "RECORD", "stream": "business_partners", "record": {
            "CardCode": "C1", "CardName": "A", "CardType": "cCustomer"}}
        schema = {"type": "SCHEMA", "stream": "business_partners", "key_properties": ["CardCode"],
                  "schema": {"type": "object", "properties": {
                      k: {"type": "string"} for k in ("CardCode", "CardName", "CardType")}}}
        ran = run("target-hubspot-finance", "--config", str(config), cwd=tmp_path,
                  stdin=json.dumps(schema) + "\n" + json.dumps(record) + "\n")
        replayed = run("target-hubspot-finance-replay", "--config", str(config), "run")
    for done in (ran, replayed):
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr, done.stderr
        assert name in done.stderr, done.stderr


def test_check_fails_settings_the_run_would_refuse(tmp_path):
    """check said 'ready' for settings the run then refuses at its first line (a negative rate
    limit, a payments_mode that does not exist): each is a FAIL line naming the setting."""
    from hubspot_sandbox import HubSpotSandbox

    with HubSpotSandbox(token=TOKEN) as hs:
        done = run("target-hubspot-finance-check", env={
            "TARGET_HUBSPOT_FINANCE_ACCESS_TOKEN": TOKEN,
            "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hs.url,
            "TARGET_HUBSPOT_FINANCE_RATE_LIMIT_PER_10S": "-5",
            "TARGET_HUBSPOT_FINANCE_PAYMENTS_MODE": "commerce"})
    assert done.returncode == 1, done.stdout
    fails = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert any("rate_limit_per_10s" in line and "-5" in line for line in fails), done.stdout
    assert any("payments_mode" in line and "'commerce'" in line for line in fails), done.stdout
    assert "ready" not in done.stdout


FILE_KEYRING = '''
import json, os
from keyring.backend import KeyringBackend

class FileKeyring(KeyringBackend):
    priority = 1
    path = os.path.join(os.environ["HOME"], "keyring.json")

    def _all(self):
        return json.load(open(self.path)) if os.path.exists(self.path) else {}

    def get_password(self, service, username):
        return self._all().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._all()
        data[f"{service}/{username}"] = password
        json.dump(data, open(self.path, "w"))

    def delete_password(self, service, username):
        data = self._all()
        data.pop(f"{service}/{username}")
        json.dump(data, open(self.path, "w"))
'''


def test_generating_a_key_never_replaces_the_one_in_the_keyring(tmp_path):
    """A second `--generate-key --store-in-keyring` overwrote the stored key: every enc: value
    made with it stopped opening. The stored key stays; the line says how to replace it."""
    (tmp_path / "file_keyring.py").write_text(FILE_KEYRING)
    env = {"PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring", "HOME": str(tmp_path),
           "PYTHONPATH": str(tmp_path)}
    first = run("target-hubspot-finance-encrypt", "--generate-key", "--store-in-keyring", env=env)
    assert first.returncode == 0, first.stderr
    sealed = run("target-hubspot-finance-encrypt", env=env, stdin="pat-plain-token").stdout.strip()
    assert sealed.startswith("enc:")
    again = run("target-hubspot-finance-encrypt", "--generate-key", "--store-in-keyring", env=env)
    assert "already holds a key" in one_line_error(again)
    opened = run("target-hubspot-finance-encrypt", "--verify", env=env, stdin=sealed)
    assert opened.returncode == 0 and opened.stdout.startswith("ok:"), opened.stderr


def test_the_targets_test_flag_with_a_bad_value_in_its_settings_file_is_one_line(tmp_path):
    """`target-hubspot-finance --config c.json --test` typed the file's text values outside
    the one-line handler: '1k' for a whole number ended in a traceback."""
    import json

    config = tmp_path / "c.json"
    config.write_text(json.dumps({"access_token": TOKEN, "max_retries": "1k",
                                  "api_base_url": "http://127.0.0.1:9"}))
    done = run("target-hubspot-finance", "--config", str(config), "--test")
    assert one_line_error(done) == "Error: setting max_retries must be a whole number, got '1k'"
    assert TOKEN not in done.stdout + done.stderr


def test_a_boolean_setting_that_is_not_true_or_false_says_so(tmp_path):
    done = run("target-hubspot-finance-replay", "list", env={
        "TARGET_HUBSPOT_FINANCE_DRY_RUN": "maybe"})
    assert one_line_error(done) == ("Error: setting dry_run must be true or false, got 'maybe' "
                                    "(from TARGET_HUBSPOT_FINANCE_DRY_RUN)")
