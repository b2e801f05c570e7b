"""`target-hubspot-finance --test` / `target-hubspot-finance-check`: is this portal ready?

About ten read-only calls: the token is valid (HubSpot's 401), which portal it opens (account
details), which scopes it holds versus the ones the configured objects need (private-app token
info), whether the payments object exists, and the rate-limit tier HubSpot reports in its headers.
Every problem is one line that says what to fix; the exit code is 1 when there is any.

Sources (developers.hubspot.com): GET /account-info/v3/details (portalId, accountType,
companyCurrency, timeZone); POST /oauth/v2/private-apps/get/access-token-info with
{"tokenKey": ...} answers {hubId, appId, userId, scopes[]} and needs no scope; 403 bodies list
`requiredGranularScopes`; X-HubSpot-RateLimit-Max / -Interval-Milliseconds / -Daily-Remaining.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
import requests

from target_hubspot_finance import secrets
from target_hubspot_finance.commands import settings
from target_hubspot_finance.commands.settings import config_option
from target_hubspot_finance.hubspot.capabilities import (
    COMPANY_CURRENCY_PATH,
    EXCHANGE_RATES_PATH,
    currencies_from,
    object_scope,
    sap_currencies,
    schema_scope,
)

DEFAULT_BASE_URL = "https://api.hubapi.com"
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"  # noqa: S105 - a path
ACCOUNT_PATH = "/account-info/v3/details"
# Requests per 10 s HubSpot grants private apps, by subscription (api-facts.md).
TIERS = {100: "Free/Starter", 190: "Professional/Enterprise", 250: "API limit increase"}
PRIVATE_APP_SCOPES = "Settings > Integrations > Private Apps > (your app) > Scopes"


@dataclass
class Report:
    """Check results in the order they were found: (ok, line)."""

    lines: list[tuple[bool, str]] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append((True, text))

    def fail(self, text: str) -> None:
        self.lines.append((False, text))

    @property
    def failed(self) -> bool:
        return any(not ok for ok, _ in self.lines)

    def render(self) -> list[str]:
        return [f"{'ok  ' if ok else 'FAIL'}  {text}" for ok, text in self.lines]


def objects_written(config: dict) -> list[str]:
    """The HubSpot objects a run with this config writes (payments only in commerce mode)."""
    objects = ["companies", "contacts", "invoices", "line_items"]
    if config.get("payments_mode", "commerce_payments") == "commerce_payments":
        objects.append("commerce_payments")
    return objects


def needed_scopes(config: dict) -> dict[str, tuple[str, ...]]:
    """Scope name -> names that satisfy it (line items also accept the legacy `e-commerce`).

    Objects are read and written; custom properties are created on every written object
    (crm.schemas.<object>.write); deals are only read, to associate invoices with them.
    """
    needed: dict[str, tuple[str, ...]] = {}
    for obj in objects_written(config):
        # HubSpot's documented names (hubspot/capabilities.py cites them): payments are
        # crm.objects.commercepayments.*, and no page names a schema scope for payments.
        for scope in (object_scope(obj, "read"), object_scope(obj, "write"),
                      schema_scope(obj, "write")):
            if scope is None:
                continue
            needed[scope] = (scope, "e-commerce") if obj == "line_items" and (
                scope.startswith("crm.objects")) else (scope,)
    needed["crm.objects.deals.read"] = ("crm.objects.deals.read",)
    return needed


def missing_scopes(granted: set[str], config: dict) -> list[str]:
    """Needed scopes the token lacks, in a stable order."""
    return [name for name, ok_with in needed_scopes(config).items()
            if not any(s in granted for s in ok_with)]


def tier_text(limit: int, interval_ms: int) -> str:
    """'190 requests per 10 s (Professional/Enterprise)' from the rate-limit headers."""
    seconds = interval_ms / 1000 if interval_ms else 10
    tier = TIERS.get(limit) if seconds == 10 else None
    return f"{limit} requests per {seconds:g} s" + (f" ({tier})" if tier else "")


def _body(resp: requests.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _required_scopes(body: dict) -> list[str]:
    """The scope names a 403 MISSING_SCOPES body asks for."""
    found: list[str] = []
    for err in body.get("errors") or []:
        found += (err.get("context") or {}).get("requiredGranularScopes") or []
    return found


def check_hubspot(config: dict, session: requests.Session | None = None,
                  timeout: float = 15.0) -> Report:
    """Run every HubSpot check for `config` (the target's settings); never raises for HTTP."""
    report = Report()
    _report_settings(config, report)
    try:
        token = secrets.reveal(config.get("access_token") or "", setting="access_token")
    except secrets.SecretError as exc:
        report.fail(str(exc))
        return report
    if not token:
        report.fail("access_token is not set: create a private app in HubSpot and set its token")
        return report
    base = (config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
    http = session or requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    seen_headers: dict[str, str] = {}

    def call(method: str, path: str, **kwargs: Any) -> requests.Response | None:
        try:
            resp = http.request(method, base + path, timeout=timeout, **kwargs)
        except requests.exceptions.SSLError:
            report.fail(f"TLS verification failed for {base}: fix the certificate chain "
                        "(or point REQUESTS_CA_BUNDLE at your proxy's CA); never disable it")
            return None
        except requests.RequestException as exc:
            report.fail(f"cannot reach {base} ({type(exc).__name__}): check api_base_url, "
                        "the network and any proxy")
            return None
        for name, value in resp.headers.items():
            if name.lower().startswith("x-hubspot-ratelimit"):
                seen_headers[name.lower()] = value
        return resp

    account = call("GET", ACCOUNT_PATH)
    if account is None:
        return report
    if account.status_code == 401:
        report.fail("HubSpot rejected the token (401): copy a current private-app token into "
                    "access_token (a rotated or deleted app's token stops working)")
        return report
    portal: Any = None
    if account.ok:
        details = _body(account)
        portal = details.get("portalId")
        extras = ", ".join(f"{k} {details[k]}" for k in ("accountType", "companyCurrency",
                                                         "timeZone") if details.get(k))
        report.ok(f"token accepted; portal {portal}" + (f" ({extras})" if extras else ""))

    info = call("POST", TOKEN_INFO_PATH, json={"tokenKey": token})
    granted: set[str] | None = None
    if info is not None and info.ok:
        body = _body(info)
        granted = set(body.get("scopes") or [])
        if portal is None and body.get("hubId"):
            portal = body["hubId"]
            report.ok(f"token accepted; portal {portal}")
    if portal is None:
        report.fail(f"could not read the portal id (account details answered "
                    f"{account.status_code}): check that api_base_url is HubSpot's API")

    missing: list[str] = [] if granted is None else missing_scopes(granted, config)
    probed = _probe_objects(call, config, report, set(missing))
    if granted is None:
        report.ok("the token's scope list is unavailable; checked read access by probing "
                  "each object (write scopes unchecked)")
    for scope in missing:
        report.fail(f"missing scope {scope}: add it in {PRIVATE_APP_SCOPES}, then copy the "
                    "app's token again")
    if granted is not None and not missing:
        report.ok(f"scopes: all {len(needed_scopes(config))} needed scopes granted")

    _report_currencies(call, config, report)
    _report_rate_limit(seen_headers, config, report)
    if probed and not report.failed:
        report.ok("ready: the target can write to this portal")
    return report


def _report_settings(config: dict, report: Report) -> None:
    """Each setting value the run would refuse at its first line (its schema: a negative rate
    limit, an unknown payments_mode...), so `check` never says ready for them. A secret's
    value is never shown; a missing token is reported by the token check."""
    from jsonschema.validators import validator_for

    from target_hubspot_finance.target import TargetHubSpotFinance  # late: heavy

    schema = TargetHubSpotFinance.config_jsonschema
    props = schema.get("properties") or {}
    for error in validator_for(schema)(schema).iter_errors(config):
        if error.validator == "required":
            continue
        name = str(error.path[0]) if error.path else "settings"
        secret = (props.get(name) or {}).get("secret")
        text = f"has a value of the wrong form ({error.validator})" if secret else error.message
        report.fail(f"setting {name}: {text}: the run refuses it; fix the value")


def _probe_objects(call: Callable[..., requests.Response | None], config: dict, report: Report,
                   already: set[str]) -> bool:
    """GET one record of each object; report 403 scopes not already listed, and payments."""
    mode = config.get("payments_mode", "commerce_payments")
    for obj in ["companies", "contacts", "invoices", "line_items", "deals", "commerce_payments"]:
        resp = call("GET", f"/crm/v3/objects/{obj}", params={"limit": 1})
        if resp is None:
            return False
        if obj == "commerce_payments":
            if resp.status_code in (400, 404):  # "Unable to infer object type": not in portal
                if mode == "commerce_payments":
                    report.fail("this portal has no payments object (commerce_payments): enable "
                                "payments in HubSpot or set payments_mode: properties")
                else:
                    report.ok("payments object not available; payments_mode: properties keeps "
                              "payment history on invoice and company properties")
                continue
            if resp.ok:
                report.ok(f"payments object available (payments_mode: {mode})")
            if mode != "commerce_payments":
                continue
        if resp.status_code == 403:
            for scope in _required_scopes(_body(resp))[:1] or [object_scope(obj, "read")]:
                if scope not in already:
                    already.add(scope)
                    report.fail(f"missing scope {scope} (reading {obj} answered 403): add it in "
                                f"{PRIVATE_APP_SCOPES}, then copy the app's token again")
        elif not resp.ok and resp.status_code != 429:
            report.fail(f"reading {obj} answered HTTP {resp.status_code}: "
                        f"{_body(resp).get('message', 'unexpected answer')}")
    return True


def _report_currencies(call: Callable[..., requests.Response | None], config: dict,
                       report: Report) -> None:
    """The SAP currencies (`local_currency` and those of the invoices in the ledger) that the
    HubSpot account has not set up: an invoice in one may be refused (undocumented either way;
    the account's currencies: settings API, scope settings.currencies.read)."""
    home = call("GET", COMPANY_CURRENCY_PATH)
    rates = call("GET", EXCHANGE_RATES_PATH)
    if home is None or rates is None or not home.ok or not rates.ok:
        report.ok("account currencies not readable (scope settings.currencies.read): SAP "
                  "currencies unchecked")
        return
    have = currencies_from(_body(home), _body(rates))
    missing = sorted(sap_currencies(config) - have)
    if missing:
        report.fail(f"SAP currencies not set up in this HubSpot account: {', '.join(missing)}: "
                    "add them (Settings > Account defaults > Currencies), or HubSpot may refuse "
                    "invoices in them")
    else:
        report.ok(f"account currencies: {', '.join(sorted(have))}")


def _report_rate_limit(headers: dict[str, str], config: dict, report: Report) -> None:
    """The tier HubSpot reports, and a setting that would exceed it."""
    try:
        limit = int(headers.get("x-hubspot-ratelimit-max", "0"))
        interval = int(headers.get("x-hubspot-ratelimit-interval-milliseconds", "10000"))
    except ValueError:
        limit, interval = 0, 10000
    if not limit:
        report.ok("rate limit: HubSpot sent no X-HubSpot-RateLimit headers; the target starts "
                  "at its configured or default limit")
        return
    report.ok(f"rate limit seen: {tier_text(limit, interval)}")
    setting = config.get("rate_limit_per_10s")
    if setting and interval == 10000 and int(setting) > limit:
        # Not a failure: the setting is a ceiling (meltano.yml's default 190 is always passed)
        # and a run lowers it to the portal's header on its first answer.
        report.ok(f"rate_limit_per_10s is {setting}, above the portal's {limit} per 10 s: a run "
                  f"follows HubSpot's headers and sends at most {limit} per 10 s")
    remaining = headers.get("x-hubspot-ratelimit-daily-remaining")
    if remaining is not None and remaining.isdigit() and int(remaining) < 1000:
        report.fail(f"only {remaining} API calls left today: wait for the daily reset "
                    "(midnight in the portal's time zone) before a full run")


@click.command(name="check")
@config_option
def main(config_args: tuple[str, ...]) -> None:
    """Check the HubSpot side: token, portal, scopes, payments object, rate-limit tier."""
    report = check_hubspot(settings.load(config_args))
    for line in report.render():
        click.echo(line)
    if report.failed:
        sys.exit(1)


if __name__ == "__main__":
    main()


def test_option(target_cls: Any) -> click.Option:
    """`--test` for the target's own CLI (`target-hubspot-finance --config c.json --test`),
    the same check as `target-hubspot-finance-check`; exits before reading any input."""

    def run(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if not value:
            return
        given = ctx.params.get("config")
        config = dict(getattr(given, "config", None) or {})
        if getattr(given, "parse_env", False):
            config |= settings.typed_env(target_cls.config_jsonschema, settings.ENV_PREFIX)
        report = check_hubspot(settings.typed(target_cls.config_jsonschema, config))
        for line in report.render():
            click.echo(line)
        ctx.exit(1 if report.failed else 0)

    return click.Option(["--test"], is_flag=True, expose_value=False, callback=run,
                        help="Check the token, portal, scopes, payments object and rate-limit "
                             "tier, then exit (nothing is written).")
