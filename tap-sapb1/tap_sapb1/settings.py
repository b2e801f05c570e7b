"""The tap's settings: their JSON schema (`--about`) and the checks a schema cannot express.

Every message names the setting and says what to put there, so a bad config fails in one line.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Generator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import backoff
from singer_sdk import typing as th
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import ConfigValidationError

from tap_sapb1.secrets import SecretError, reveal

DEFAULT_PAGE_SIZE = 1000  # SAP's default is 20; 1000 keeps a page of invoices with lines ~1-2 MB
MAX_PAGE_SIZE = 10_000
DEFAULT_TIMEOUT = 300
DEFAULT_MAX_RETRIES = 5
DEFAULT_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
# A DST fall-back repeats one local hour (edits in it get stamps up to 1 h earlier than edits made
# just before it); the second hour covers late commits and a server clock set back.
DEFAULT_LOOKBACK_MINUTES = 120
MAX_LOOKBACK_MINUTES = 7 * 24 * 60
DEFAULT_CLOCK_TOLERANCE_SECONDS = 300
WIDEST_UTC_OFFSET = dt.timedelta(hours=14)  # Pacific/Kiritimati: no local time is further ahead
WESTMOST_UTC_OFFSET = dt.timedelta(hours=-12)  # Etc/GMT+12: no local time is further behind

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property(
        "service_layer_url", th.StringType, required=True,
        title="Service Layer URL",
        description="The Service Layer root of one installation, ending in /b1s/v1 or /b1s/v2, "
                    "e.g. https://sap.example.com:50000/b1s/v1.",
    ),
    th.Property("company_db", th.StringType, required=True, title="Company database",
                description="The company database to log in to (CompanyDB), e.g. SBODEMOUS."),
    th.Property("username", th.StringType, required=True, title="User name",
                description="SAP Business One user name."),
    th.Property("password", th.StringType, required=True, secret=True, title="Password",
                description="SAP Business One password (or `enc:<token>`, see README). "
                            "Never logged."),
    th.Property("start_date", th.DateTimeType, title="Start date",
                description="Read records updated at or after this time (SAP server local time) "
                            "on the first run; later runs start from the bookmark. "
                            "Empty: read everything."),
    th.Property("page_size", th.IntegerType, default=DEFAULT_PAGE_SIZE, title="Page size",
                description=f"Records per page, asked for with `Prefer: odata.maxpagesize` "
                            f"(1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}). A server that "
                            "grants fewer is followed; one that ignores it is paged with $top."),
    th.Property("verify_ssl", th.BooleanType, default=True, title="Verify TLS",
                description="Verify the server's TLS certificate (default true). Prefer "
                            "`ca_bundle` for a self-signed or private-CA certificate."),
    th.Property("ca_bundle", th.StringType, title="CA bundle",
                description="Path to a PEM file of the CA (or self-signed certificate) the "
                            "Service Layer's certificate is checked against."),
    th.Property("request_timeout", th.NumberType, default=DEFAULT_TIMEOUT,
                title="Request timeout",
                description=f"Seconds to wait for one SAP answer (default {DEFAULT_TIMEOUT})."),
    th.Property("max_retries", th.IntegerType, default=DEFAULT_MAX_RETRIES, title="Max retries",
                description="Retries of one request after a 5xx, timeout or dropped connection, "
                            f"with exponential backoff and jitter (0-20, default "
                            f"{DEFAULT_MAX_RETRIES})."),
    th.Property("backoff_seconds", th.NumberType, default=DEFAULT_BACKOFF_SECONDS,
                title="Backoff base",
                description="Longest wait before the first retry; each next retry may wait "
                            "twice as long (full jitter, at most 60 s). Default 1."),
    th.Property("lookback_minutes", th.IntegerType, default=DEFAULT_LOOKBACK_MINUTES,
                title="Look-back window",
                description="Each incremental run starts this many minutes before the bookmark "
                            "(0-10080, default 120), so a change stamped earlier than the bookmark "
                            "when it became visible is still read: a document committed late, an "
                            "edit in the DST fall-back hour, a server clock set back. Re-read "
                            "records are emitted again (the target skips unchanged ones)."),
    th.Property("server_timezone", th.StringType, title="SAP server time zone",
                description="IANA zone of the SAP server's clock (e.g. Europe/Berlin), to read "
                            "SAP's `Date` header as SAP local time, the time UpdateDate/UpdateTime "
                            "are written in. Records stamped later than SAP's now plus "
                            "clock_tolerance_seconds are emitted and reported, and the bookmark "
                            "stays at SAP's now. Empty: only stamps more than 14 h after the "
                            "`Date` header (the widest UTC offset) are reported, and the bookmark "
                            "stays at the earliest possible SAP now (`Date` minus 12 h), so each "
                            "run re-reads up to a day of changes; set it to read only the "
                            "look-back."),
    th.Property("clock_tolerance_seconds", th.IntegerType,
                default=DEFAULT_CLOCK_TOLERANCE_SECONDS, title="Clock tolerance",
                description="Seconds a stamp may lie after SAP's `Date` header before it counts as "
                            "in the future (0-86400, default 300)."),
    th.Property("enrich_line_items", th.BooleanType, default=False, title="Enrich line items",
                description="Add AccountName and ProfitCenterName to invoice and credit note "
                            "lines and PaymentTermsName to business partners, looked up once "
                            "per run from ChartOfAccounts, ProfitCenters, PaymentTermsTypes."),
).to_dict()


def _setting(config: Mapping[str, Any], key: str, default: Any) -> Any:
    """A setting's value; null (a Meltano setting declared but left empty) means the default."""
    value = config.get(key)
    return default if value is None else value


def request_timeout(config: Mapping[str, Any]) -> float:
    """Seconds to wait for one SAP answer (requests and Login alike)."""
    return float(config.get("request_timeout") or DEFAULT_TIMEOUT)


def max_tries(config: Mapping[str, Any]) -> int:
    """One try plus `max_retries` retries (requests and Login alike)."""
    return int(_setting(config, "max_retries", DEFAULT_MAX_RETRIES)) + 1


def retry_waits(config: Mapping[str, Any]) -> Generator[float, None, None]:
    """backoff_seconds x 1, 2, 4, ... capped at 60 s, before jitter (requests and Login alike)."""
    factor = float(_setting(config, "backoff_seconds", DEFAULT_BACKOFF_SECONDS))
    return backoff.expo(base=2, factor=factor, max_value=MAX_BACKOFF_SECONDS)


def tls_verify(config: Mapping[str, Any]) -> bool | str:
    """requests' `verify`: the CA bundle if set; off only for an explicit `verify_ssl: false`
    (null, a setting declared but empty, must never turn verification off)."""
    if config.get("ca_bundle"):
        return str(config["ca_bundle"])
    return config.get("verify_ssl") is not False


def lookback(config: Mapping[str, Any]) -> dt.timedelta:
    """How far before the bookmark an incremental run starts."""
    return dt.timedelta(minutes=int(_setting(config, "lookback_minutes",
                                             DEFAULT_LOOKBACK_MINUTES)))


def clock_tolerance(config: Mapping[str, Any]) -> dt.timedelta:
    """How far after SAP's `Date` header a stamp may lie before it counts as in the future."""
    return dt.timedelta(seconds=int(_setting(config, "clock_tolerance_seconds",
                                             DEFAULT_CLOCK_TOLERANCE_SECONDS)))


def server_zone(config: Mapping[str, Any]) -> zoneinfo.ZoneInfo | None:
    """The SAP server's time zone, if configured (check_settings vets the name)."""
    name = config.get("server_timezone")
    return zoneinfo.ZoneInfo(str(name)) if name else None


def _env_value(key: str, kind: str, text: str) -> Any:
    """One environment value as its schema type; ConfigValidationError in one line if not."""
    env = f"{_ENV_PREFIX}{key.upper()}"
    try:
        if kind == "integer":
            return int(text.strip())
        if kind == "number":
            return float(text.strip())
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    except ValueError:
        pass
    wanted = {"integer": "a whole number", "number": "a number",
              "boolean": "true or false"}[kind]
    message = f"{env} must be {wanted} (it sets {key}), got {text!r}"
    raise ConfigValidationError(message, errors=[message])


def text_boolean(text: str) -> bool | str | None:
    """A boolean setting given as text (meltano.yml declares verify_ssl `kind: string`, since
    Meltano casts a boolean's empty env value to false): '' is unset (None: the default), yes/no
    words are booleans, anything else stays text for the schema to report."""
    lowered = text.strip().lower()
    if not lowered:
        return None
    return True if lowered in _TRUE else False if lowered in _FALSE else text


_ENV_PREFIX = "TAP_SAPB1_"
_TRUE = ("true", "1", "yes", "y", "on")
_FALSE = ("false", "0", "no", "n", "off")


def env_settings(schema: dict[str, Any], prefix: str = _ENV_PREFIX) -> dict[str, Any]:
    """`--config=ENV`: singer-sdk's reading of TAP_SAPB1_* (and .env), with integers, numbers
    and booleans parsed by their schema type and a bad value reported in one line (singer-sdk
    raises a bare ValueError for `1k`, and passes numbers on as strings)."""
    typed: dict[str, str] = {}
    as_text = json.loads(json.dumps(schema))
    for key, prop in as_text.get("properties", {}).items():
        types = prop.get("type", [])
        types = [types] if isinstance(types, str) else types
        kind = next((t for t in ("integer", "number", "boolean") if t in types), None)
        if kind:
            typed[key] = kind
            prop["type"] = ["string", "null"]
    values = parse_environment_config(as_text, prefix)
    for key, kind in typed.items():
        if isinstance(values.get(key), str):
            values[key] = _env_value(key, kind, values[key])
    return values


def service_root(url: str) -> str:
    """The Service Layer root without a trailing slash."""
    return url.rstrip("/")


def service_version(url: str) -> str:
    """`v1` or `v2`: the last path segment of the Service Layer URL decides the payload shapes."""
    return service_root(url).rsplit("/", 1)[-1]


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url.strip())
    example = "e.g. https://sap.example.com:50000/b1s/v1"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"service_layer_url must be an http(s) URL with a host name ({example}), got {url!r}"
    if service_version(parts.path) not in ("v1", "v2"):
        return (f"service_layer_url must end with the Service Layer version, /b1s/v1 or /b1s/v2 "
                f"({example}), got {url!r}")
    if parts.query or parts.fragment:
        return f"service_layer_url must not carry a query or fragment ({example})"
    return None


def _number_problem(config: Mapping[str, Any], key: str, low: float, high: float) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not (
            low <= value <= high):
        return f"{key} must be a number from {low:g} to {high:g}, got {value!r}"
    return None


def check_settings(config: Mapping[str, Any]) -> list[str]:
    """What is wrong with `config` beyond its JSON schema, one actionable line per problem."""
    problems: list[str] = []
    for key in ("service_layer_url", "company_db", "username", "password"):
        value = config.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key} is required: set it in the tap's config (or TAP_SAPB1_"
                            f"{key.upper()} with --config=ENV)")
    url = config.get("service_layer_url")
    if isinstance(url, str) and url.strip() and (problem := _url_problem(url)):
        problems.append(problem)
    for key, low, high in (("page_size", 1, MAX_PAGE_SIZE), ("request_timeout", 0.1, 3600),
                           ("max_retries", 0, 20), ("backoff_seconds", 0, 60),
                           ("lookback_minutes", 0, MAX_LOOKBACK_MINUTES),
                           ("clock_tolerance_seconds", 0, 86400)):
        if problem := _number_problem(config, key, low, high):
            problems.append(problem)
    if zone := config.get("server_timezone"):  # empty: not set
        try:
            zoneinfo.ZoneInfo(str(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"server_timezone must be an IANA time zone name like Europe/Berlin, "
                            f"got {zone!r}")
    if not isinstance(config.get("verify_ssl"), (bool, type(None))):
        problems.append(f"verify_ssl must be true or false, got {config['verify_ssl']!r}")
    for key in ("page_size", "max_retries", "lookback_minutes", "clock_tolerance_seconds"):
        if isinstance(config.get(key), (float, Decimal)) and not float(config[key]).is_integer():
            problems.append(f"{key} must be a whole number, got {config[key]!r}")
    if start := config.get("start_date"):
        try:
            dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"start_date must be an ISO date-time like 2024-01-31T00:00:00Z, "
                            f"got {start!r}")
    if (bundle := config.get("ca_bundle")) and not Path(bundle).is_file():
        problems.append(f"ca_bundle must be the path of a readable PEM file; {bundle!r} "
                        "does not exist")
    if isinstance(config.get("password"), str):
        try:
            reveal(config["password"])
        except SecretError as exc:
            problems.append(str(exc))
    return problems
