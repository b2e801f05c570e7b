"""TapSAPB1: the SAP Business One Service Layer as Singer streams."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
import weakref
from functools import cached_property
from typing import Any

import click
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.mapper import PluginMapper
from singer_sdk.plugin_base import SingerCommand

from tap_sapb1.context import RunContext
from tap_sapb1.redact import register_secret, scrub
from tap_sapb1.secrets import SecretError, reveal
from tap_sapb1.settings import CONFIG_SCHEMA, check_settings, env_settings, text_boolean
from tap_sapb1.streams import STREAM_TYPES
from tap_sapb1.streams.payments import REREAD_SETTING

_LIVE_TAPS: weakref.WeakSet[TapSAPB1] = weakref.WeakSet()


class _ConfigErrorsRaisedCommand(SingerCommand):
    """SingerCommand without its config-error handler (which logs a line per error plus a
    summary): the error reaches `tap_sapb1.cli.main`, which prints one line."""

    def invoke(self, ctx: click.Context) -> Any:
        """What SingerCommand.invoke sets up, then the plain click invocation."""
        logging.captureWarnings(capture=True)
        warnings.filterwarnings("once", category=DeprecationWarning)
        sys.excepthook = self.excepthook
        return click.Command.invoke(self, ctx)


class TapSAPB1(Tap):
    """Reads business partners, A/R documents, payments and reference sets from SAP B1."""

    name = "tap-sapb1"
    config_jsonschema = {**CONFIG_SCHEMA, "properties": {
        **CONFIG_SCHEMA["properties"], **REREAD_SETTING.to_dict()}}

    def __init__(self, *args: Any, validate_config: bool = True, **kwargs: Any) -> None:
        try:
            super().__init__(*args, validate_config=validate_config, **kwargs)
        except ConfigValidationError as exc:
            # singer-sdk's messages quote bad values: keep a mistyped password out of them
            raise self._without_password(exc) from None
        self._register_password()
        if validate_config and (problems := check_settings(self.config)):
            raise ConfigValidationError("Config validation failed", errors=problems)
        _LIVE_TAPS.add(self)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Number and integer settings given as text typed first, so the schema checks 0.5,
        not '0.5': Meltano passes a `kind: string` setting (the only kind that carries a
        fractional number from the environment) as text."""
        self._config = typed_numbers(self.config_jsonschema, self._config)
        return super()._validate_config(raise_errors=raise_errors)

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:
        """`--config=ENV`: TAP_SAPB1_* parsed by schema type, one line for a bad value."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return env_settings(schema, cls._env_var_prefix)

    def _register_password(self) -> None:
        """Mask the password (as given and decrypted) in every log line from now on."""
        password = getattr(self, "_config", {}).get("password")
        if password is None:
            return
        register_secret(str(password))
        with contextlib.suppress(SecretError):  # check_settings reports it
            register_secret(reveal(str(password)))

    def _without_password(self, exc: ConfigValidationError) -> ConfigValidationError:
        """The schema errors plus this tap's own checks, in its words, the password masked."""
        self._register_password()
        config = getattr(self, "_config", {})
        ours = check_settings(config) if config else []  # no config read yet: theirs say why
        theirs = [e for e in exc.errors or [] if "is a required property" not in e]
        errors = [scrub(e) for e in theirs + [e for e in ours if e not in theirs]]
        return ConfigValidationError(str(exc), errors=errors, schema=exc.schema)

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """singer-sdk's command, leaving config errors to `tap_sapb1.cli` (one line, exit 1)."""
        command = super().get_singer_command()
        command.__class__ = _ConfigErrorsRaisedCommand
        return command

    def discover_streams(self) -> list:
        """The seven streams, in the order they are synced (`load_streams`)."""
        return [stream_type(self, self.run) for stream_type in STREAM_TYPES]

    def load_streams(self) -> list:
        """STREAM_TYPES order, not singer-sdk's name order: customers, invoices, credit notes,
        then payments, so a target meets each document after what it links to (a payment
        created after its invoice carries the link inline: no extra association call)."""
        rank = {stream_type: n for n, stream_type in enumerate(STREAM_TYPES)}
        return sorted(super().load_streams(), key=lambda s: rank.get(type(s), len(rank)))

    def setup_mapper(self) -> None:
        """Deferred to the first use of `mapper`: registering the streams needs their schemas,
        which come from the server's $metadata; constructing the tap stays offline."""
        self._mapper = None

    @property
    def mapper(self) -> PluginMapper:
        """singer-sdk's mapper, set up (streams registered) on first use."""
        if self._mapper is None:
            super().setup_mapper()
        return super().mapper

    @mapper.setter
    def mapper(self, mapper: PluginMapper) -> None:
        self._mapper = mapper

    @cached_property
    def run(self) -> RunContext:
        """What the streams of this run share (sessions, lookups); see `tap_sapb1.context`."""
        return RunContext(self.config,
                          lambda stream, fields: self.streams[stream].lookup_rows(fields))

    def run_connection_test(self) -> bool:
        """`--test`: one record per stream (singer-sdk), then one line that says it passed.

        singer-sdk logs its one-record stop as "An unhandled error occurred" per stream; the
        closing line tells an operator that this was the test's limit, not a failure.
        """
        passed = super().run_connection_test()
        if passed:
            self.logger.info("connection test passed: logged in to SAP company %s and read one "
                             "record of each of the %d streams (the 'unhandled error' warnings "
                             "above are the test's one-record stop)", self.config.get("company_db"),
                             len(self.streams))
        return passed

    def close(self) -> None:
        """Log out of SAP (if logged in) and release connections; safe to call twice."""
        if "run" in self.__dict__:
            self.run.close()


def typed_numbers(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """`config` with text values of number/integer settings as numbers where they parse
    ('0.5' -> 0.5, '30' -> 30); text that does not parse stays, for the schema to report."""
    typed = dict(config)
    for key, prop in schema.get("properties", {}).items():
        value = typed.get(key)
        kinds = prop.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if isinstance(value, str) and "boolean" in kinds:  # '' = unset: verify_ssl stays on
            typed[key] = text_boolean(value)
            continue
        if not isinstance(value, str) or not {"number", "integer"} & set(kinds):
            continue
        with contextlib.suppress(ValueError):
            typed[key] = int(value.strip()) if "integer" in kinds else float(value.strip())
    return typed


def live_url() -> str | None:
    """The service_layer_url of a tap of this process (for error lines), if any."""
    for tap in list(_LIVE_TAPS):
        return str(tap.config.get("service_layer_url") or "") or None
    return None


def close_all() -> None:
    """Close every tap of this process (the CLI calls it when the command ends)."""
    for tap in list(_LIVE_TAPS):
        tap.close()


if __name__ == "__main__":
    TapSAPB1.cli()
