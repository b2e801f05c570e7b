"""Settings for the operator commands, read the way the target reads them.

`--config` takes files and/or `ENV` (environment variables TARGET_HUBSPOT_FINANCE_<SETTING>, as
singer-sdk and Meltano's plugin commands provide them), so `meltano invoke
target-hubspot-finance:replay` sees exactly the settings `meltano run` gives the target.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from target_hubspot_finance import setting_types

CONFIG_HELP = "Settings file (JSON), or ENV for TARGET_HUBSPOT_FINANCE_* variables; repeatable."
config_option = click.option("--config", "config_args", multiple=True, default=("ENV",),
                             show_default=True, help=CONFIG_HELP)


ENV_PREFIX = "TARGET_HUBSPOT_FINANCE_"


def _schema() -> dict[str, Any]:
    from target_hubspot_finance.target import TargetHubSpotFinance  # imported late: heavy

    return TargetHubSpotFinance.config_jsonschema


def typed_env(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Settings from `<prefix>*` variables, each parsed by its schema type (setting_types)."""
    try:
        return setting_types.from_environment(schema, prefix)
    except setting_types.SettingTypeError as exc:
        raise click.ClickException(str(exc)) from None


def load(config_args: tuple[str, ...] | list[str], schema: dict[str, Any] | None = None,
         prefix: str = ENV_PREFIX) -> dict[str, Any]:
    """Merge the files in order, then the environment if `ENV` is among the arguments; every
    text value typed by `schema` (default: the target's settings)."""
    merged: dict[str, Any] = {}
    for arg in config_args:
        if arg == "ENV":
            continue
        try:
            loaded = json.loads(Path(arg).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise click.ClickException(f"settings file {arg} does not exist") from None
        except ValueError as exc:
            raise click.ClickException(f"settings file {arg} is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise click.ClickException(f"settings file {arg} must hold a JSON object")
        merged |= loaded
    schema = schema or _schema()
    if "ENV" in config_args:
        merged |= typed_env(schema, prefix)
    return typed(schema, merged)


def typed(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """`config` typed by `schema`; a value that is not of its setting's type is one line."""
    try:
        return setting_types.typed(schema, config)
    except setting_types.SettingTypeError as exc:
        raise click.ClickException(str(exc)) from None
