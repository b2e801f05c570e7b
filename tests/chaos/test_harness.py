"""The harness itself: it kills the whole pipeline, keeps the last confirmed state, finds leaks.

Stand-in tap and target scripts make these checks independent of the real connector, so a
broken harness cannot hide behind a broken connector (or the other way round).
"""

from __future__ import annotations

import os
import sys

from bench.leaks import find_leaks
from bench.pipeline import Pipeline
from bench.world import SECRETS

FAKE = '''
import json, sys, time
if sys.argv[1] == "tap":
    for i in range(int(sys.argv[2])):
        print(json.dumps({"n": i}), flush=True)
        time.sleep(0.01)
else:
    blob = bytearray(int(sys.argv[2]))
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
'''


def _pipeline(tmp_path, states: int, target_bytes: int = 1) -> Pipeline:
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    return Pipeline(tmp_path / "w", {}, {},
                    tap_cmd=[sys.executable, str(script), "tap", str(states)],
                    target_cmd=[sys.executable, str(script), "target", str(target_bytes)])


def test_a_completed_run_keeps_the_last_state_and_measures_each_process(tmp_path) -> None:
    pipe = _pipeline(tmp_path, states=5, target_bytes=80_000_000)
    result = pipe.run(timeout=60)
    assert result.ok
    assert pipe.state == {"n": 4}
    assert result.target_maxrss_kib > 80_000 > result.tap_maxrss_kib


def test_kill_stops_every_process_of_the_group_and_the_next_run_resumes(tmp_path) -> None:
    pipe = _pipeline(tmp_path, states=10_000)
    running = pipe.start()
    # Killed once states flow (not after a fixed 0.5 s: a loaded box may not even have started
    # the tap's Python by then, and the run then dies with no state at all).
    result = running.wait(timeout=60, kill_when=lambda: len(running.states) >= 3)
    assert result.killed and result.tap_rc == -9 and result.target_rc == -9
    for pid in (running.tap.pid, running.target.pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"process {pid} survived the kill")
    assert 0 < len(result.states) < 10_000


def test_the_leak_scan_finds_each_secret_and_session_ids() -> None:
    assert find_leaks("nothing here /b1s/v1/Login", SECRETS) == []
    for secret in SECRETS:
        assert find_leaks(f"x {secret} y", SECRETS)
    assert find_leaks("Cookie: B1SESSION=b1s-3f2a9c", SECRETS)
