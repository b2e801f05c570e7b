"""target-hubspot-finance: SAP Business One finance records into HubSpot, exactly once.

The target is a plain singer-sdk Target with one BatchSink per kind of SAP document. What it
adds to the SDK's flow:
- sinks drain in dependency order (companies → credit notes → invoices → payments), one at a
  time, so a reference across streams is resolved from the ledger instead of by look-ups;
- all sinks share one `Runtime` (one rate limiter per portal, one ledger);
- the run ends with a per-stream summary; a foreseeable failure ends it with one clear line and
  a non-zero exit, before any STATE message for unconfirmed records is written.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable
from functools import cached_property
from typing import Any, ClassVar

import sqlalchemy.exc
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, SyncError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.singerlib.exceptions import SingerError
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from target_hubspot_finance import mapping
from target_hubspot_finance.hubspot.associations import LinkBuffer
from target_hubspot_finance.hubspot.errors import HubSpotError
from target_hubspot_finance.hubspot.properties import PropertySetupError
from target_hubspot_finance.ledger import LedgerLockedError, LedgerMismatchError
from target_hubspot_finance.runtime import Runtime
from target_hubspot_finance.sinks import SINKS, HubSpotSink
from target_hubspot_finance.sinks.base import NOT_OBJECT, PRIORITY

# Errors an operator can fix (bad input, unreachable API or ledger): one line, exit 1.
FORESEEABLE = (HubSpotError, PropertySetupError, LedgerMismatchError,
               sqlalchemy.exc.OperationalError,
               sqlalchemy.exc.ArgumentError, SingerError, SyncError)


class TargetHubSpotFinance(Target):
    """Singer target for HubSpot finance objects (companies, invoices, payments)."""

    name = "target-hubspot-finance"

    config_jsonschema: ClassVar[dict] = th.PropertiesList(
        th.Property("access_token", th.StringType, required=True, secret=True,
                    description="HubSpot private app token (or enc:<Fernet> when encrypted)."),
        th.Property("api_base_url", th.StringType, default="https://api.hubapi.com",
                    description="HubSpot API root (a sandbox URL in tests)."),
        th.Property("rate_limit_per_10s", th.IntegerType(minimum=1), default=190,
                    description="Requests per rolling 10 s the target allows itself (a ceiling:"
                                " HubSpot's X-HubSpot-RateLimit-Max lowers it, never raises it)."),
        th.Property("ledger_url", th.StringType,
                    description="SQLAlchemy URL of the ledger (SQLite file or PostgreSQL); "
                                "default: the project's state folder (ledger.py)."),
        th.Property("ledger_lock_timeout", th.NumberType(exclusive_minimum=0), default=30,
                    description="Seconds a SQLite ledger waits for another process holding it"
                                " (a run, replay or tool; the shared rate limit lives there)"
                                " before the run stops with one line."),
        th.Property("auto_create_companies", th.BooleanType, default=True,
                    description="Create a minimal company when a document's customer is not in"
                                " HubSpot; off: such documents go to the dead-letter."),
        th.Property("skip_invalid_line_items", th.BooleanType, default=False,
                    description="Send an invoice without its invalid lines (reported) instead of"
                                " dead-lettering the invoice."),
        th.Property("payments_mode", th.StringType, default="commerce_payments",
                    allowed_values=["commerce_payments", "properties"],
                    description="commerce_payments objects, or payment figures on invoice and"
                                " company properties (portals without payments)."),
        th.Property("local_currency", th.StringType,
                    description="The SAP company's local currency (ISO code, e.g. USD): documents"
                                " in another currency take their amounts from SAP's Fc/FC fields."
                                " Unset: told apart by SAP's own marks (Fc amounts, DocRate)."),
        th.Property("object_map", th.ObjectType(additional_properties=th.StringType),
                    description="Stream name → companies | invoices | payments | credit_notes |"
                                " ignore (defaults cover the tap-sapb1 stream names)."),
        th.Property("property_map", th.ObjectType(additional_properties=th.ObjectType()),
                    description="Per HubSpot object: default property → new name (null drops"
                                " it), or \"field:<SAP field>\" → property to copy more fields."),
        th.Property("company_card_types", th.ArrayType(th.StringType),
                    default=["cCustomer"],
                    description="SAP CardTypes that become companies (add cLid for leads)."),
        th.Property("deal_id_field", th.StringType, default="U_HubSpotDealId",
                    description="Invoice field holding a HubSpot deal id to associate."),
        th.Property("request_timeout", th.NumberType(exclusive_minimum=0), default=30,
                    description="Seconds to wait for one HubSpot answer."),
        th.Property("max_retries", th.IntegerType(minimum=0), default=5,
                    description="Retries of a call after a 429, 5xx, timeout or dropped"
                                " connection (exponential backoff with jitter)."),
        th.Property("backoff_base_seconds", th.NumberType(minimum=0), default=1.0,
                    description="First backoff wait; doubles per retry (max 30 s)."),
        th.Property("progress_interval_seconds", th.NumberType(minimum=0), default=30,
                    description="Seconds between progress lines during a run."),
        th.Property("key_namespace", th.StringType,
                    description="Prefix of every SAP key written to HubSpot and the ledger, so"
                                " several SAP companies can share one portal."),
        th.Property("new_key_namespace", th.BooleanType, default=False,
                    description="This key_namespace is another SAP company, new to a ledger"
                                " that holds others (a renamed one is refused: duplicates)."),
        th.Property("migrate_key_namespace", th.BooleanType, default=False,
                    description="Move the ledger's one key_namespace to this key_namespace:"
                                " HubSpot keys renamed in place (namespace_move.py)."),
        th.Property("dry_run", th.BooleanType, default=False,
                    description="Report what would be written; write nothing (operator tools)."),
        th.Property("log_format", th.StringType, default="text",
                    allowed_values=["text", "json"],
                    description="json: one JSON object per log line."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1  # drains are ordered; HubSpot's limit is per portal anyway
        problems = mapping.validate_maps(self.object_map, self.config.get("property_map") or {})
        problems += mapping.validate_local_currency(self.config.get("local_currency"))
        if problems:
            raise ConfigValidationError("; ".join(problems), errors=problems)
        self._configure_logs()
        if validate_token := self.config.get("access_token"):  # a wrong key: stop before input
            from target_hubspot_finance import secrets

            secrets.reveal(validate_token, setting="access_token")

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:
        """`--config ENV`: TARGET_HUBSPOT_FINANCE_* variables (and a .env file, as singer-sdk
        reads them) kept as text; _validate_config types them, so a bad value is one line
        (singer-sdk's own parser does int('0.5') and ends in a traceback)."""
        import os

        from dotenv import find_dotenv
        from dotenv.main import DotEnv

        if dotenv := find_dotenv(usecwd=True):
            DotEnv(dotenv).set_as_environment_variables()
        prefix = cls._env_var_prefix
        cls.append_builtin_config(cls.config_jsonschema)  # stream_maps etc., as singer-sdk does
        return {name: os.environ[var] for name in cls.config_jsonschema.get("properties", {})
                if (var := prefix + name.upper().replace("-", "_")) in os.environ}

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Type text values first (env variables, Meltano `kind: string` numbers such as
        backoff_base_seconds '0.5'), so '30' is 30 before the schema checks it."""
        from target_hubspot_finance import setting_types

        try:
            self._config = setting_types.typed(self.config_jsonschema, self._config)
        except setting_types.SettingTypeError as exc:
            raise ConfigValidationError(str(exc), errors=[str(exc)]) from None
        return super()._validate_config(raise_errors=raise_errors)

    def _configure_logs(self) -> None:
        # singer-sdk logs an unparsable input line with a traceback before raising; the raise
        # becomes our one `stopped:` line, so its duplicate (and the traceback) is dropped.
        reader_log = logging.getLogger("singer_sdk.singerlib.encoding.simple")
        if not any(isinstance(f, _DropParseTraceback) for f in reader_log.filters):
            reader_log.addFilter(_DropParseTraceback())
        try:
            from target_hubspot_finance import oplog
        except ImportError:  # pragma: no cover
            return
        token = self.config.get("access_token")
        plain = None
        with contextlib.suppress(Exception):  # a wrong key is reported when the token is used
            from target_hubspot_finance import secrets

            plain = secrets.reveal(token or "", setting="access_token")
        oplog.configure(self.config.get("log_format") or "text", secrets=[token, plain])

    @cached_property
    def object_map(self) -> dict[str, str]:
        return {**mapping.DEFAULT_OBJECT_MAP, **(self.config.get("object_map") or {})}

    @cached_property
    def runtime(self) -> Runtime:
        """Built on first use, so --about/--help and empty inputs touch nothing."""
        return Runtime.from_config(self._runtime_config())

    def _runtime_config(self) -> dict:
        config = dict(self.config)
        token = config.get("access_token") or ""
        try:
            from target_hubspot_finance import secrets
            reveal = getattr(secrets, "reveal", None)
            if reveal is not None and secrets.is_encrypted(token):
                config["access_token"] = reveal(token, setting="access_token")
        except ImportError:  # pragma: no cover
            pass
        return config

    def _process_record_message(self, message_dict: dict) -> None:
        """A RECORD whose record is not a JSON object reaches its sink wrapped, to be
        dead-lettered with the reason (sinks/base.py) instead of a traceback in singer-sdk."""
        record = message_dict.get("record")
        if "record" in message_dict and not isinstance(record, dict):
            message_dict = {**message_dict, "record": {NOT_OBJECT: repr(record)[:200]}}
        super()._process_record_message(message_dict)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS[self.object_map.get(stream_name, "ignore")]

    # -- ordering -------------------------------------------------------------------------
    def _priority(self, sink: Sink) -> int:
        return PRIORITY.get(getattr(sink, "handler", "ignore"), 9)

    @cached_property
    def links(self) -> LinkBuffer:
        """Association pairs held across drains for full calls (hubspot/associations.py)."""
        return LinkBuffer(self.runtime.client, self.runtime.ledger,
                          ready=self.runtime.ensure_ready)

    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        for sink in sorted(sink_list, key=self._priority):
            self.drain_one(sink)
        if "links" in self.__dict__:  # before singer-sdk writes STATE (drain_all)
            self.links.flush()

    def drain_before(self, sink: HubSpotSink) -> None:
        """Drain the sinks a sink depends on first (e.g. companies before invoices)."""
        mine = self._priority(sink)
        for other in sorted(self._sinks_active.values(), key=self._priority):
            if other is not sink and self._priority(other) < mine and other.current_size:
                self.drain_one(other)

    # -- end of run -----------------------------------------------------------------------
    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        if "runtime" not in self.__dict__:
            self.logger.info("summary: no records to write")
            return
        rt = self.runtime
        for line in rt.report.summary_lines():
            self.logger.info("summary %s", line)
        for line in getattr(rt.client, "summary_lines", list)():  # dry run: per-object plan
            self.logger.info("%s", line)
        calls = dict(sorted(rt.client.calls.items()))
        self.logger.info("summary HubSpot calls %d (%s); retries %d; 429s %d; waited %.1fs for "
                         "the rate limit", sum(calls.values()),
                         ", ".join(f"{k} {v}" for k, v in calls.items()) or "none",
                         rt.client.retries, rt.client.rate_limited,
                         rt.client.limiter.waited_seconds)

    @classmethod
    def get_singer_command(cls) -> Any:
        """singer-sdk's CLI plus `--test`, the connectivity check (commands/check.py)."""
        from target_hubspot_finance.commands.check import test_option

        command = super().get_singer_command()
        command.params.append(test_option(cls))
        return command

    def _write_state_message(self, state: dict) -> None:
        """A dry run moves no bookmark: it emits no STATE message at all."""
        if self.config.get("dry_run"):
            return
        super()._write_state_message(state)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """The CLI: a foreseeable failure is one line and exit 1, never a traceback."""
        given = getattr(kwargs.get("config"), "config", None) or {}
        if given.get("log_format") == "json":  # JSON from the first line (version banner)
            from target_hubspot_finance import oplog

            oplog.configure("json", secrets=[given.get("access_token")])
        try:
            super().invoke(*args, **kwargs)
        except FORESEEABLE as exc:
            text = exc.summary() if isinstance(exc, HubSpotError) else (
                str(exc).splitlines() or [type(exc).__name__])[0]
            if not isinstance(exc, LedgerLockedError):  # ours is whole: its fix comes last
                text = text if len(text) <= 300 else text[:299] + "…"
            cls.logger.error("target-hubspot-finance stopped: %s. No state was emitted for "
                             "unconfirmed records; fix the cause and rerun.", text)
            sys.exit(1)


class _DropParseTraceback(logging.Filter):
    """Drops singer-sdk's 'Unable to parse' log record (the target reports it in one line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unable to parse")


if __name__ == "__main__":
    TargetHubSpotFinance.cli()
