"""After `make demo`, the commands the README shows next see the bookmarks the demo printed.

The demo used to keep Meltano's state in `.demo/meltano.db`, so a plain `meltano state list` in
the project showed nothing. Now the demo runs Meltano with the project's default system database
(whatever `MELTANO_DATABASE_URI` the caller had is not used), and the README's commands use it too.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MELTANO = Path(sys.executable).with_name("meltano")


def _demo():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        return importlib.import_module("demo")
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_the_demo_keeps_state_in_the_projects_default_system_database(monkeypatch) -> None:
    monkeypatch.setenv("MELTANO_DATABASE_URI", "sqlite:////elsewhere/meltano.db")
    env = _demo().meltano_env({})
    assert "MELTANO_DATABASE_URI" not in env
    assert ".demo" in env["TARGET_HUBSPOT_FINANCE_LEDGER_URL"]  # the ledger stays in .demo/


def test_readme_state_commands_use_the_default_system_database() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    assert not [b for b in blocks if re.search(r"MELTANO_DATABASE_URI=\S*\.demo", b)]
    assert f"$ meltano state list\n{_demo().STATE_ID}" in readme


def test_state_the_demo_saves_is_listed_by_a_plain_meltano_state_list(tmp_path) -> None:
    """Meltano itself: a bookmark written with the demo's environment is what `meltano state
    list` / `get` in the project (no MELTANO_DATABASE_URI) show."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "meltano.yml", project / "meltano.yml")
    shutil.copytree(REPO / "transforms", project / "transforms")
    demo = _demo()
    env = demo.meltano_env({"MELTANO_PROJECT_ROOT": str(project)})
    state = {"singer_state": {"bookmarks": {"invoices": {"replication_key_value": "2026-01-05"}}}}
    subprocess.run([str(MELTANO), "state", "set", "--force", demo.STATE_ID, json.dumps(state)],
                   cwd=project, env=env, check=True, capture_output=True, timeout=120)
    plain = {k: v for k, v in os.environ.items() if k != "MELTANO_DATABASE_URI"}
    plain["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    listed = subprocess.run([str(MELTANO), "state", "list"], cwd=project, env=plain,
                            capture_output=True, text=True, timeout=120)
    got = subprocess.run([str(MELTANO), "state", "get", demo.STATE_ID], cwd=project, env=plain,
                         capture_output=True, text=True, timeout=120)
    assert demo.STATE_ID in listed.stdout, listed.stderr[-1500:]
    assert json.loads(got.stdout) == state
