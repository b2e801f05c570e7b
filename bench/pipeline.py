"""Run `tap-sapb1 | target-hubspot-finance` as subprocesses, the way `meltano run` does.

Shared by the chaos suite (tests/chaos/) and the benchmarks: both need to start the real console
scripts, keep the bookmark the target confirms between runs, kill the whole pipeline with SIGKILL
at a chosen moment, and measure each process's peak memory on its own (VmHWM, see
peak_rss_kib).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BIN_DIR = Path(sys.executable).parent
_RECORD_HEAD = re.compile(rb'\{"type":\s*"RECORD",\s*"stream":\s*"([^"]+)"')


def peak_rss_kib(pid: int) -> int:
    """The process's peak RSS so far (VmHWM), 0 once it is gone.

    ru_maxrss is useless here: Linux carries the pre-exec high-water mark across execve, so a
    child forked from a test process holding big sandboxes would report the parent's size.
    VmHWM belongs to the address space exec creates, so it measures the program alone.
    """
    try:
        with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _exit_code(status: int) -> int:
    """Turn a wait status into Popen's convention (negative signal number when killed)."""
    return os.waitstatus_to_exitcode(status)


@dataclass
class RunResult:
    """What one pipeline run left behind: exit codes, confirmed states, logs and peak memory."""

    tap_rc: int | None
    target_rc: int | None
    killed: bool
    timed_out: bool
    states: list[dict]
    tap_stderr: str
    target_stderr: str
    target_stdout: str
    tap_maxrss_kib: int
    target_maxrss_kib: int
    wall_s: float
    tap_cpu_s: float = 0.0
    target_cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when both processes exited 0 on their own."""
        return not self.killed and self.tap_rc == 0 and self.target_rc == 0

    @property
    def last_state(self) -> dict | None:
        """The bookmark a scheduler would store: the last state line the target printed."""
        return self.states[-1] if self.states else None

    def outputs(self) -> str:
        """Every byte the run printed (for secret scans)."""
        return "\n".join((self.tap_stderr, self.target_stderr, self.target_stdout))

    def describe(self) -> str:
        """A short diagnostic for assertion messages (the tails of both logs)."""
        return (f"tap_rc={self.tap_rc} target_rc={self.target_rc} killed={self.killed} "
                f"timed_out={self.timed_out}\n--- tap stderr (tail) ---\n{self.tap_stderr[-3000:]}"
                f"\n--- target stderr (tail) ---\n{self.target_stderr[-3000:]}")


class RunningPipeline:
    """A started pipeline: `kill()` may be called from any thread (e.g. a sandbox hook)."""

    def __init__(self, tap: subprocess.Popen, target: subprocess.Popen, workdir: Path,
                 run_no: int) -> None:
        self.tap = tap
        self.target = target
        self.pgid = tap.pid
        self.workdir = workdir
        self.run_no = run_no
        self.started = time.monotonic()
        self.states: list[dict] = []
        self._stdout_lines: list[str] = []
        self._killed = threading.Event()
        self._reader = threading.Thread(target=self._read_target_stdout, daemon=True)
        self._reader.start()

    def _read_target_stdout(self) -> None:
        assert self.target.stdout is not None
        for raw in self.target.stdout:
            line = raw.decode("utf-8", "replace")
            self._stdout_lines.append(line)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            # Singer targets print the bare state value (Meltano stores the last one); accept
            # a STATE message too, in case a target wraps it.
            if message.get("type") == "STATE":
                self.states.append(message.get("value") or {})
            elif "type" not in message:
                self.states.append(message)

    @property
    def killed(self) -> bool:
        """Whether kill() was called."""
        return self._killed.is_set()

    def kill(self) -> None:
        """SIGKILL every process of the pipeline at once (the group), like a node dying."""
        if self._killed.is_set():
            return
        self._killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)

    def wait(self, timeout: float = 600.0, kill_when: Callable[[], bool] | None = None,
             watch: Callable[[], None] | None = None, poll_s: float = 0.002) -> RunResult:
        """Reap both processes; kill the group when `kill_when()` turns true or on timeout.

        `watch()` is called on every poll (e.g. to lower a sandbox's rate limit mid-run).
        """
        pending = {"tap": self.tap, "target": self.target}
        codes: dict[str, int | None] = {"tap": None, "target": None}
        rss: dict[str, int] = {"tap": 0, "target": 0}
        cpu: dict[str, float] = {"tap": 0.0, "target": 0.0}
        deadline = self.started + timeout
        timed_out = False
        polls = 0
        while pending:
            polls += 1
            for name, proc in list(pending.items()):
                if polls % 5 == 1:  # a zombie has no VmHWM: sample while it runs
                    rss[name] = max(rss[name], peak_rss_kib(proc.pid))
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    cpu[name] = usage.ru_utime + usage.ru_stime  # CPU time is not inherited
                    code = _exit_code(status)
                    proc.returncode = code
                    codes[name] = code
                    del pending[name]
            if not pending:
                break
            if watch is not None:
                watch()
            if kill_when is not None and not self.killed and kill_when():
                self.kill()
            if time.monotonic() > deadline and not timed_out:
                timed_out = True
                self.kill()
            time.sleep(poll_s)
        self._reader.join(timeout=10)
        wall = time.monotonic() - self.started
        logs = {n: (self.workdir / f"run{self.run_no:03d}.{n}.log") for n in ("tap", "target")}
        return RunResult(
            tap_rc=codes["tap"], target_rc=codes["target"], killed=self.killed,
            timed_out=timed_out, states=list(self.states),
            tap_stderr=logs["tap"].read_text("utf-8", "replace"),
            target_stderr=logs["target"].read_text("utf-8", "replace"),
            target_stdout="".join(self._stdout_lines),
            tap_maxrss_kib=rss["tap"], target_maxrss_kib=rss["target"], wall_s=wall,
            tap_cpu_s=cpu["tap"], target_cpu_s=cpu["target"],
        )


@dataclass
class Pipeline:
    """A tap|target pair with its configs and the bookmark kept between runs (like Meltano's).

    After each run, the last STATE the target emitted (if any) becomes the `--state` of the next
    run, exactly as `meltano run` stores it, also when the run was killed.
    """

    workdir: Path
    tap_config: dict
    target_config: dict
    tap_cmd: list[str] = field(default_factory=lambda: [str(BIN_DIR / "tap-sapb1")])
    target_cmd: list[str] = field(
        default_factory=lambda: [str(BIN_DIR / "target-hubspot-finance")])
    env: dict[str, str] = field(default_factory=dict)
    select: list[str] | None = None  # streams to select (like meltano.yml); None = tap default
    results: list[RunResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tap_path = self.workdir / "tap.json"
        self.target_path = self.workdir / "target.json"
        self.state_path = self.workdir / "state.json"
        self.catalog_path = self.workdir / "catalog.json"
        self.write_configs()

    def write_configs(self) -> None:
        """(Re)write both config files, e.g. after changing a setting between runs."""
        self.tap_path.write_text(json.dumps(self.tap_config))
        self.target_path.write_text(json.dumps(self.target_config))

    def write_catalog(self) -> None:
        """Discover the tap's catalog once and select `self.select`, as Meltano's select does."""
        if self.select is None or self.catalog_path.exists():
            return
        out = subprocess.run([*self.tap_cmd, "--config", str(self.tap_path), "--discover"],
                             capture_output=True, check=True, cwd=self.workdir, timeout=120)
        catalog = json.loads(out.stdout)
        for stream in catalog["streams"]:
            chosen = stream["tap_stream_id"] in self.select
            for entry in stream.get("metadata", []):
                if entry.get("breadcrumb") == []:
                    entry["metadata"]["selected"] = chosen
        self.catalog_path.write_text(json.dumps(catalog))

    @property
    def state(self) -> dict | None:
        """The stored bookmark, or None before the first confirmed state."""
        if not self.state_path.exists():
            return None
        return json.loads(self.state_path.read_text())

    def start(self) -> RunningPipeline:
        """Start tap and target in one new process group (same session), tap piped into target."""
        run_no = len(self.results) + 1
        self.write_catalog()
        tap_cmd = [*self.tap_cmd, "--config", str(self.tap_path)]
        if self.catalog_path.exists():
            tap_cmd += ["--catalog", str(self.catalog_path)]
        if self.state_path.exists():
            tap_cmd += ["--state", str(self.state_path)]
        target_cmd = [*self.target_cmd, "--config", str(self.target_path)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        tap_log = (self.workdir / f"run{run_no:03d}.tap.log").open("wb")
        target_log = (self.workdir / f"run{run_no:03d}.target.log").open("wb")
        with tap_log, target_log:
            tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=tap_log,
                                   stdin=subprocess.DEVNULL, cwd=self.workdir, env=env,
                                   process_group=0)
            target = subprocess.Popen(target_cmd, stdin=tap.stdout, stdout=subprocess.PIPE,
                                      stderr=target_log, cwd=self.workdir, env=env,
                                      process_group=tap.pid)
        assert tap.stdout is not None
        tap.stdout.close()  # the target holds the only read end: the tap sees EPIPE if it dies
        return RunningPipeline(tap, target, self.workdir, run_no)

    def run(self, timeout: float = 600.0, kill_when: Callable[[], bool] | None = None,
            watch: Callable[[], None] | None = None,
            on_start: Callable[[RunningPipeline], None] | None = None) -> RunResult:
        """One run to the end (or to the kill); stores the last confirmed state for the next."""
        running = self.start()
        if on_start is not None:
            on_start(running)
        result = running.wait(timeout=timeout, kill_when=kill_when, watch=watch)
        if result.last_state is not None:
            self.state_path.write_text(json.dumps(result.last_state))
        self.results.append(result)
        return result

    def all_outputs(self) -> str:
        """Every log line and state message of every run so far (for secret scans)."""
        parts = [r.outputs() for r in self.results]
        parts += [json.dumps(s) for r in self.results for s in r.states]
        return "\n".join(parts)


@dataclass
class TapOnlyResult:
    """A tap run with its output counted and discarded: records per stream, time, peak RSS."""

    records: dict[str, int]
    rc: int
    wall_s: float
    maxrss_kib: int
    stderr: str


def run_tap_only(pipeline: Pipeline, timeout: float = 1800.0) -> TapOnlyResult:
    """Run the tap alone (no state, same config and catalog) and count the RECORD lines."""
    pipeline.write_catalog()
    cmd = [*pipeline.tap_cmd, "--config", str(pipeline.tap_path)]
    if pipeline.catalog_path.exists():
        cmd += ["--catalog", str(pipeline.catalog_path)]
    log = pipeline.workdir / "tap-only.log"
    counts: dict[str, int] = {}
    peak = [0]
    started = time.monotonic()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=pipeline.workdir,
                                env={**os.environ, **pipeline.env})
        assert proc.stdout is not None
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.01):
                peak[0] = max(peak[0], peak_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for line in proc.stdout:
            match = _RECORD_HEAD.match(line)
            if match:  # cheap: the reader must not be what slows the tap down
                stream = match.group(1).decode()
            elif b'"RECORD"' in line[:60]:
                stream = json.loads(line).get("stream", "?")
            else:
                continue
            counts[stream] = counts.get(stream, 0) + 1
        done.set()
        sampler.join()
        proc.wait()
    wall = time.monotonic() - started
    if wall > timeout:
        raise TimeoutError(f"tap alone took {wall:.0f}s")
    return TapOnlyResult(records=counts, rc=proc.returncode, wall_s=wall,
                         maxrss_kib=peak[0], stderr=log.read_text("utf-8", "replace"))


# Variables from a developer's shell that would change what meltano or the plugins do.
_LEAKY_PREFIXES = ("MELTANO_", "TAP_SAPB1", "TARGET_HUBSPOT_FINANCE", "SAPB1_", "HUBSPOT_FINANCE_")


def meltano_env(project: Path, database_uri: str) -> dict[str, str]:
    """An environment for `meltano` in `project`: this venv on PATH, the system db given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update({"PATH": f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
                "MELTANO_PROJECT_ROOT": str(project), "MELTANO_DATABASE_URI": database_uri,
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "NO_COLOR": "1",
                "PYTHONUNBUFFERED": "1"})
    return env


@dataclass
class MeltanoPipeline:
    """`meltano run tap-sapb1 target-hubspot-finance` in the project, killed as one process group.

    Settings go in as Meltano's environment variables (TAP_SAPB1_*, TARGET_HUBSPOT_FINANCE_*) and
    the system database (where Meltano keeps the bookmark) lives in `workdir`, so a test never
    touches the project's own `.meltano/meltano.db`. After a SIGKILL the job row stays "running":
    the rerun passes `--force`, which is what an operator does after a crashed node.
    """

    workdir: Path
    project: Path
    tap_config: dict
    target_config: dict
    tap: str = "tap-sapb1"
    target: str = "target-hubspot-finance"
    environment: str = "sandbox"
    results: list[RunResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def _env(self) -> dict[str, str]:
        env = meltano_env(self.project, f"sqlite:///{self.workdir / 'meltano.db'}")
        env["MELTANO_ENVIRONMENT"] = self.environment
        for prefix, config in (("TAP_SAPB1", self.tap_config),
                               ("TARGET_HUBSPOT_FINANCE", self.target_config)):
            for key, value in config.items():
                text = json.dumps(value) if isinstance(value, (dict, list, bool)) else str(value)
                env[f"{prefix}_{key.upper()}"] = text
        return env

    @property
    def state_id(self) -> str:
        """The state id `meltano run` derives for the pair."""
        return f"{self.environment}:{self.tap}-to-{self.target}"

    @property
    def state(self) -> dict | None:
        """The bookmark Meltano would hand the tap on the next run (`meltano state get`)."""
        out = subprocess.run([str(BIN_DIR / "meltano"), "state", "get", self.state_id],
                             capture_output=True, cwd=self.project, env=self._env(), timeout=120,
                             check=False)
        if out.returncode != 0 or not out.stdout.strip():
            return None
        value = json.loads(out.stdout.decode().strip().splitlines()[-1])
        return value.get("singer_state", value)

    def run(self, timeout: float = 600.0, kill_when: Callable[[], bool] | None = None,
            watch: Callable[[], None] | None = None) -> RunResult:
        """One `meltano run`; SIGKILL to its whole process group when `kill_when()` is true."""
        cmd = [str(BIN_DIR / "meltano"), "run", self.tap, self.target]
        if self.results:
            cmd.append("--force")
        run_no = len(self.results) + 1
        log_path = self.workdir / f"meltano{run_no:03d}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.project,
                                    env=self._env(), stdin=subprocess.DEVNULL, process_group=0)
        killed = timed_out = False
        while proc.poll() is None:
            if watch is not None:
                watch()
            expired = time.monotonic() - started > timeout
            if (expired or (kill_when is not None and kill_when())) and not killed:
                killed, timed_out = True, expired
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.002)
        if killed:  # the plugins may outlive meltano by a moment: reap the group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        text = log_path.read_text("utf-8", "replace")
        result = RunResult(tap_rc=proc.returncode, target_rc=proc.returncode, killed=killed,
                           timed_out=timed_out, states=[], tap_stderr=text, target_stderr="",
                           target_stdout="", tap_maxrss_kib=0, target_maxrss_kib=0,
                           wall_s=time.monotonic() - started)
        self.results.append(result)
        return result

    def all_outputs(self) -> str:
        """Every line Meltano printed in every run, plus the stored state."""
        return "\n".join([r.outputs() for r in self.results] + [json.dumps(self.state)])
