"""The SAP password may be stored encrypted: `enc:<Fernet token>` instead of the plain password.

The key comes from SAPB1_ENCRYPTION_KEY or the OS keyring (service 'tap-sapb1', user
'encryption-key'); `target-hubspot-finance-encrypt --for sap-password` makes the value.
target_hubspot_finance/secrets.py is the twin for the HubSpot token (the plugins live in separate
virtualenvs, so this small function is repeated rather than shared); keep the two in step.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken
from singer_sdk.exceptions import ConfigValidationError

PREFIX = "enc:"
KEY_ENV_VAR = "SAPB1_ENCRYPTION_KEY"
KEYRING_SERVICE = "tap-sapb1"
KEYRING_USER = "encryption-key"


class SecretError(ConfigValidationError):
    """A secret setting cannot be decrypted; the message says what to fix and holds no secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[message])


def _key_text() -> str | None:
    """The key from the environment, else from the OS keyring (None when neither has one)."""
    if os.environ.get(KEY_ENV_VAR):
        return os.environ[KEY_ENV_VAR]
    try:
        import keyring  # optional: absent or backend-less keyrings mean "no key"
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except KeyringError:
        return None


def reveal(value: str, *, setting: str = "password") -> str:
    """The plain secret: `value` itself unless it is `enc:...`, then decrypted with the key."""
    if not (isinstance(value, str) and value.startswith(PREFIX)):
        return value
    where = f"{KEY_ENV_VAR} / keyring '{KEYRING_SERVICE}'"
    raw = _key_text()
    if not raw:
        raise SecretError(f"{setting} is encrypted but no key was found: set {where}")
    try:
        return Fernet(raw.strip().encode("ascii")).decrypt(value[len(PREFIX):].encode("ascii")
                                                           ).decode("utf-8")
    except (ValueError, InvalidToken, UnicodeError) as exc:
        raise SecretError(
            f"cannot decrypt {setting}: the key in {where} is not the one it was encrypted with "
            "(or is not a Fernet key, or the value is damaged); set the right key or encrypt the "
            "password again with `target-hubspot-finance-encrypt --for sap-password`"
        ) from exc
