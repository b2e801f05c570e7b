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

CONFIG_HELP = "Settings file (JSON), or ENV for TARGET_HUBSPOT_FINANCE_* variables; repeatable."
config_option = click.option("--config", "config_args", multiple=True, default=("ENV",),
                             show_default=True, help=CONFIG_HELP)


def _env_settings() -> dict[str, Any]:
    """Settings from the environment, typed by the target's settings schema."""
    from target_hubspot_finance.target import TargetHubSpotFinance  # imported late: heavy

    return dict(TargetHubSpotFinance._env_var_config)  # singer-sdk parser


def load(config_args: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Merge the files in order, then the environment if `ENV` is among the arguments."""
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
    if "ENV" in config_args:
        merged |= _env_settings()
    return merged
