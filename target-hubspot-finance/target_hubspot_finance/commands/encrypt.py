"""`target-hubspot-finance-encrypt`: encrypt a secret setting, or make a new key.

The secret is read from stdin (or a hidden prompt), never from the command line, where it would
land in shell history and the process list. The same command encrypts the SAP password for
tap-sapb1 (`--for sap-password` takes that plugin's key variable and keyring entry).
"""

from __future__ import annotations

import sys

import click

from target_hubspot_finance import secrets

ENCRYPT = "target-hubspot-finance-encrypt"

# The key's home for each secret: (environment variable, keyring service). tap_sapb1.secrets
# uses the sap-password pair.
KEY_HOMES = {
    "hubspot-token": (secrets.KEY_ENV_VAR, secrets.KEYRING_SERVICE),
    "sap-password": ("SAPB1_ENCRYPTION_KEY", "tap-sapb1"),
}


def _read_secret() -> str:
    """The secret from piped stdin, or from a hidden, confirmed prompt on a terminal."""
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.read().strip()
    return click.prompt("Secret to encrypt", hide_input=True, confirmation_prompt=True).strip()


@click.command(name="encrypt")
@click.option("--for", "purpose", type=click.Choice(sorted(KEY_HOMES)), default="hubspot-token",
              show_default=True, help="Which secret: picks the key's variable and keyring entry.")
@click.option("--generate-key", is_flag=True, help="Print a new key instead of encrypting.")
@click.option("--store-in-keyring", is_flag=True,
              help="With --generate-key: store the key in the OS keyring, print no secret.")
@click.option("--verify", is_flag=True,
              help="Read an enc:... value from stdin and say whether the current key opens it.")
def main(purpose: str, *, generate_key: bool, store_in_keyring: bool, verify: bool) -> None:
    """Encrypt a secret for a setting (prints `enc:...`), or make and store keys."""
    env_var, service = KEY_HOMES[purpose]
    if store_in_keyring and not generate_key:
        raise click.UsageError("--store-in-keyring stores a new key: use it with --generate-key")
    if generate_key and verify:
        raise click.UsageError("--generate-key and --verify do not go together")
    if generate_key:
        key = secrets.generate_key()
        if store_in_keyring:
            if secrets._keyring_key(service):  # replacing it would orphan every enc: value
                raise click.ClickException(
                    f"the OS keyring already holds a key (service '{service}', user "
                    f"'{secrets.KEYRING_USER}'); the enc: values made with it open only with "
                    "it: to replace it, delete that entry first and encrypt each secret again")
            try:
                secrets.store_key_in_keyring(service, key)
            except secrets.SecretError as exc:
                raise click.ClickException(f"{exc} ({env_var}=$({ENCRYPT} --generate-key))"
                                           ) from None
            click.echo(f"stored a new key in the OS keyring (service '{service}', "
                       f"user '{secrets.KEYRING_USER}')")
        else:
            click.echo(key)
        return
    try:
        if verify:
            value = _read_secret()
            if not secrets.is_encrypted(value):
                raise click.ClickException("not encrypted: the value does not start with enc:, "
                                           "so there is nothing for the key to open")
            secrets.reveal(value, setting="the value", env_var=env_var, keyring_service=service)
            click.echo(f"ok: the key in {env_var} / keyring '{service}' opens this value")
            return
        fernet = secrets.load_key(env_var, service)
        secret = _read_secret()
    except secrets.SecretError as exc:
        raise click.ClickException(str(exc)) from None
    if not secret:
        raise click.ClickException("nothing to encrypt: the secret read from stdin is empty")
    if secrets.is_encrypted(secret):
        raise click.ClickException("this value is already encrypted (starts with enc:)")
    click.echo(secrets.encrypt(secret, fernet))


if __name__ == "__main__":
    main()
