"""The operator tools as Meltano plugin commands, on an inherited per-company target
(docs/OPERATIONS.md): check, --test, replay list, and reconcile with the tap's settings from
Meltano itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tools_pipeline import SAP_PASSWORD, TOKEN, run_target, tap_messages

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """This repo's Meltano project plus one inherited company pair, target installed."""
    root = tmp_path_factory.mktemp("ops-project")
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", ".meltano")
    shutil.copy2(REPO / "meltano.yml", root / "meltano.yml")
    for name in ("transforms", "tap-sapb1", "target-hubspot-finance"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    spec = yaml.safe_load((root / "meltano.yml").read_text())
    spec["plugins"]["extractors"].append({"name": "tap-sapb1--gb", "inherit_from": "tap-sapb1",
                                          "config": {"company_db": "SBODEMOGB"}})
    spec["plugins"]["loaders"].append({"name": "target-hubspot-finance--gb",
                                       "inherit_from": "target-hubspot-finance",
                                       "config": {"key_namespace": "SBODEMOGB"}})
    (root / "meltano.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([str(BIN / "meltano"), "install", "loader",
                           "target-hubspot-finance--gb"], cwd=root, env=base_env(root),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MELTANO_", "TAP_SAPB1", "TARGET_HUBSPOT_FINANCE"))}
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "MELTANO_PROJECT_ROOT": str(root), "MELTANO_ENVIRONMENT": "sandbox",
                "MELTANO_DATABASE_URI": f"sqlite:///{root / 'system.db'}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"})
    return env


def test_commands_of_an_inherited_target_under_meltano(project, sap_sandbox, hubspot_sandbox,
                                                       tmp_path):
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {**base_env(project), "TARGET_HUBSPOT_FINANCE_API_BASE_URL": hubspot_sandbox.url,
           "TARGET_HUBSPOT_FINANCE_LEDGER_URL": ledger,
           "TAP_SAPB1_SERVICE_LAYER_URL": sap_sandbox.url}

    def meltano(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "meltano"), *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    check = meltano("invoke", "target-hubspot-finance--gb:check")
    assert check.returncode == 0, check.stderr[-2000:]
    assert "ready: the target can write to this portal" in check.stdout
    test = meltano("invoke", "target-hubspot-finance--gb", "--test")
    assert test.returncode == 0 and "portal 12345678" in test.stdout

    # A run of company GB (in-process, same ledger), then the tools see only its objects.
    tap = {"service_layer_url": sap_sandbox.url, "company_db": "SBODEMOUS",
           "username": "manager", "password": SAP_PASSWORD}
    run_target({"access_token": TOKEN, "api_base_url": hubspot_sandbox.url,
                "ledger_url": ledger, "key_namespace": "SBODEMOGB"}, tap_messages(tap))
    listing = meltano("invoke", "target-hubspot-finance--gb:replay", "list")
    assert listing.returncode == 0 and "dead-letter is empty" in listing.stdout
    agree = meltano("invoke", "target-hubspot-finance--gb:reconcile")
    assert agree.returncode == 0, agree.stderr[-2000:]
    assert "SAP and HubSpot agree for every customer" in agree.stdout
    for out in (check, test, listing, agree):
        assert TOKEN not in out.stdout + out.stderr
        assert SAP_PASSWORD not in out.stdout + out.stderr
