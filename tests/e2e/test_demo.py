"""`make demo` keeps working: scripts/demo.py, run in a fresh copy of the project on a small
company, installs, fills the HubSpot sandbox, shows the bookmarks and proves the rerun writes
nothing; and the README's quick start is exactly the two commands."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_runs_end_to_end_and_its_rerun_writes_nothing(installed_project):
    scripts = installed_project / "scripts"
    shutil.copytree(REPO / "scripts", scripts, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, str(scripts / "demo.py"), "--customers", "20",
                             "--invoices", "120"], cwd=installed_project, capture_output=True,
                            text=True, timeout=600, check=False)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "OK: run 1 wrote HubSpot" in out and "run 2: 0 HubSpot calls, 0 writes" in out
    assert re.search(r"invoices\s+\d{4}-\d\d-\d\dT", out), "no invoices bookmark printed"
    assert "S3cr3t-B1-passw0rd!" not in out + result.stderr
    assert (installed_project / ".demo" / "state.json").exists()


def test_readme_quick_start_is_exactly_make_demo_and_make_test():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert block.split("\n")[:-1] == ["make demo", "make test"]
