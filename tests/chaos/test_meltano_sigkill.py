"""SIGKILL the whole `meltano run` (Meltano, tap, target at once), rerun: nothing lost or doubled.

This is the production shape of a crash: Meltano holds the bookmark in its system database, the
kill leaves its job row "running", and the operator's rerun passes `--force`. The direct-pipe test
(test_sigkill_reruns.py) covers many more kill points; this one proves Meltano's own state
handling keeps the same promises.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.pipeline import BIN_DIR, MeltanoPipeline, meltano_env
from bench.verdicts import bookmark_problems_now, leak_problems, mutate_sap, problems_now

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("tap-sapb1", "target-hubspot-finance")
PROJECT_PATHS = ("meltano.yml", "transforms", "tap-sapb1", "target-hubspot-finance")


@pytest.fixture(scope="module")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's Meltano project with the two plugins installed (once)."""
    if not (ROOT / "meltano.yml").exists():
        pytest.fail("meltano.yml is missing: the project this test kills is gone")
    root = tmp_path_factory.mktemp("chaos-meltano")
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "dist", ".meltano")
    for name in PROJECT_PATHS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, root / name)
    env = meltano_env(root, f"sqlite:///{root / 'install.db'}")
    done = subprocess.run([str(BIN_DIR / "meltano"), "install", *PLUGINS], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"meltano install failed:\n{done.stderr[-3000:]}"
    return root


def test_sigkilled_meltano_runs_rerun_with_force_to_one_object_per_sap_record(
        make_world, meltano_project) -> None:
    w = make_world(800, rate_limit=2000, set_target_rate=True, page_size=100)
    pipe = MeltanoPipeline(w.workdir / "meltano", meltano_project, w.tap_config(),
                           w.target_config())
    rng = random.Random(4242)
    first = pipe.run(timeout=300)  # a bookmark in Meltano's state to protect
    assert first.ok, first.describe()
    assert pipe.state, "meltano stored no state after a completed run"
    kills = 0
    for _ in range(8):
        if kills >= 4:
            break
        mutate_sap(w, rng, updates=20, creates=5, partners=2)
        # Kill inside the work, not in Meltano's start-up: at the N-th SAP or HubSpot request.
        log = rng.choice([w.sap, w.hubspot])
        k, start = rng.randint(2, 8), len(log.requests)
        what = f"at {'SAP' if log is w.sap else 'HubSpot'} request {k}"
        result = pipe.run(timeout=300, kill_when=lambda k=k, log=log, start=start:
                          len(log.requests) - start >= k)
        if result.killed:
            kills += 1
            wrong = bookmark_problems_now(w, pipe.state)
            assert not wrong, f"after a kill {what}:\n" + "\n".join(wrong)
        else:
            assert result.ok, result.describe()
    assert kills >= 3
    final = pipe.run(timeout=300)
    assert final.ok, final.describe()
    problems = problems_now(w) + leak_problems(pipe, w)
    assert not problems, "\n".join(problems)
