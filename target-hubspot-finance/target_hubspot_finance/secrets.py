"""Settings that may be stored encrypted: `enc:<Fernet token>` instead of the plain secret.

Why: a finance department keeps meltano.yml and .env files in places where a plain HubSpot token
would be read by too many people. The key lives elsewhere (an environment variable or the OS
keyring), so the encrypted value alone is useless. A plain value keeps working unchanged.

tap_sapb1/secrets.py holds the same `reveal` for the SAP password (the two plugins are installed
into separate virtualenvs by Meltano, so neither can import the other); keep the two in step.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken
from singer_sdk.exceptions import ConfigValidationError

PREFIX = "enc:"
KEY_ENV_VAR = "HUBSPOT_FINANCE_ENCRYPTION_KEY"
KEYRING_SERVICE = "target-hubspot-finance"
KEYRING_USER = "encryption-key"
ENCRYPT_COMMAND = "target-hubspot-finance-encrypt"


class SecretError(ConfigValidationError):
    """A secret setting cannot be decrypted; the message says what to fix and holds no secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[message])


def is_encrypted(value: object) -> bool:
    """True for a setting written as `enc:...` by the encrypt command."""
    return isinstance(value, str) and value.startswith(PREFIX)


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 of 32 bytes) as text."""
    return Fernet.generate_key().decode("ascii")


def _keyring_key(service: str) -> str | None:
    """The key stored in the OS keyring, or None when there is no keyring or no entry."""
    try:
        import keyring  # optional: absent or backend-less keyrings mean "no key"
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(service, KEYRING_USER)
    except KeyringError:
        return None


def store_key_in_keyring(service: str, key: str) -> None:
    """Store `key` in the OS keyring; a SecretError (one line) when there is no usable keyring
    (a headless server has no backend: keep the key in the environment variable instead)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        raise SecretError("the `keyring` package is not installed, so there is no OS keyring: "
                          "keep the key in the environment variable instead") from None
    try:
        keyring.set_password(service, KEYRING_USER, key)
    except (KeyringError, RuntimeError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SecretError(f"no usable OS keyring here ({reason}): on a headless server keep the "
                          f"key in the environment variable instead") from None


def load_key_from_text(raw: str, where: str = KEY_ENV_VAR) -> Fernet:
    """A Fernet key from its text form; `where` names its origin in the error for a bad key."""
    try:
        return Fernet(raw.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SecretError(
            f"the encryption key in {where} is not a Fernet key (32 url-safe base64 bytes); "
            f"make one with `{ENCRYPT_COMMAND} --generate-key`"
        ) from exc


def load_key(env_var: str = KEY_ENV_VAR, keyring_service: str = KEYRING_SERVICE) -> Fernet:
    """The Fernet key from `env_var`, else the OS keyring; a clear error when neither has one."""
    if os.environ.get(env_var):
        return load_key_from_text(os.environ[env_var], env_var)
    raw = _keyring_key(keyring_service)
    if not raw:
        raise SecretError(
            f"an encrypted setting needs its key: set {env_var}, or store the key in the OS "
            f"keyring (service '{keyring_service}', user '{KEYRING_USER}')"
        )
    return load_key_from_text(raw, f"keyring '{keyring_service}'")


def encrypt(plaintext: str, key: Fernet) -> str:
    """`enc:` + the Fernet token of `plaintext`: the form to paste into a secret setting."""
    return PREFIX + key.encrypt(plaintext.encode("utf-8")).decode("ascii")


def reveal(
    value: str, *, setting: str = "access_token", env_var: str = KEY_ENV_VAR,
    keyring_service: str = KEYRING_SERVICE,
) -> str:
    """The plain secret: `value` itself unless it is `enc:...`, then decrypted with the key.

    A wrong key is an error naming the setting and where the key came from, never the value.
    """
    if not is_encrypted(value):
        return value
    key = load_key(env_var, keyring_service)
    try:
        return key.decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretError(
            f"cannot decrypt {setting}: it was encrypted with a different key than the one in "
            f"{env_var} / keyring '{keyring_service}' (or the value is damaged); set the right key "
            f"or encrypt the secret again with `{ENCRYPT_COMMAND}`"
        ) from exc
