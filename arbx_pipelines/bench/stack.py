"""``arbx bench stack [--json]``: what the idle stack costs.

Starts the stack as ``arbx run`` does (the same command, on free loopback ports, with a temporary data folder and
DAGSTER_HOME), waits until the UI answers and the start-up work is over (the first snapshot and every run the start
launched finished, then ``--settle`` seconds without a run in flight), lets it idle for ``--idle`` seconds while
sampling the CPU time of every process in the stack once a second (processes born during the window count from their
birth), then reads each process's PSS from ``/proc/<pid>/smaps_rollup``. PSS shares each shared page among the
processes that map it, so the per-process figures add up to what the stack really costs. ``pss_mb`` and
``cpu_percent`` (of one core) are for the stack without the simulator, which a live deployment does not run.
``runs`` lists the Dagster runs created during the window (an idle stack starts none unless a schedule is due).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 240.0
#: the start-up work (first snapshot, runs a start launches) must be over by then, else the window starts anyway
QUIET_TIMEOUT_S = 240.0
SIMULATOR = "simulator"
SPOT_ENGINE = "spot engine"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcessFigure:
    name: str
    pid: int
    pss_mb: float
    cpu_percent: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_name(cmdline: list[str]) -> str:
    """What a process of the stack is, from its command line."""
    text = " ".join(cmdline)
    for needle, name in (
        (" sim ", SIMULATOR), ("dagster_webserver", "webserver"), ("dagster._daemon", "daemon"),
        ("forkserver", "run server"), ("resource_tracker", "run server helper"),
        ("code-server start", "code server proxy"), ("api grpc", "code server"), ("dagster dev", "dagster dev"),
        ("arbx_pipelines.supervisor", "arbx run"), (" engine", SPOT_ENGINE), (" run ", "arbx run"),
    ):  # fmt: skip
        if needle in f" {text} ":
            return name
    return os.path.basename(cmdline[0]) if cmdline else "?"


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def pss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cmdline(pid: int) -> list[str]:
    try:
        return [p for p in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if p]
    except OSError:
        return []


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"arbx run exited with {proc.returncode}: {log.read_text(errors='replace')[-1500:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    raise RuntimeError(f"the stack did not answer on {url} within {READY_TIMEOUT_S:.0f} s (log: {log})")


def _unfinished_runs(home: Path) -> int:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    unfinished = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
                  DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]  # fmt: skip
    with DagsterInstance.from_config(str(home)) as instance:
        return int(instance.get_runs_count(RunsFilter(statuses=unfinished)))


def _start_work_done(log: Path) -> bool:
    """The first snapshot ``arbx run`` takes at the start has ended (its console line)."""
    text = log.read_text(errors="replace")
    return "funding_snapshot done" in text or "funding_snapshot failed" in text


def wait_quiet(home: Path, log: Path, settle_s: float, proc: subprocess.Popen[bytes]) -> float:
    """Wait until the start-up work is over: the first snapshot ended and no run has been in flight for
    ``settle_s`` seconds (bounded by :data:`QUIET_TIMEOUT_S`). Returns the seconds waited."""
    began = time.monotonic()
    quiet_since: float | None = None
    while time.monotonic() - began < QUIET_TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"arbx run exited with {proc.returncode}: {log.read_text(errors='replace')[-1500:]}")
        now = time.monotonic()
        if _start_work_done(log) and _unfinished_runs(home) == 0:
            quiet_since = now if quiet_since is None else quiet_since
            if now - quiet_since >= settle_s:
                break
        else:
            quiet_since = None
        time.sleep(1)
    return round(time.monotonic() - began, 1)


def runs_created(home: Path, since: datetime) -> list[dict[str, str]]:
    """The Dagster runs created since ``since`` (job name and status), oldest first."""
    from dagster import DagsterInstance, RunsFilter

    with DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(RunsFilter(created_after=since))
    return [{"job": run.job_name, "status": run.status.value} for run in reversed(list(runs))]


def measure(root: int, idle_s: float) -> list[ProcessFigure]:
    """Sample CPU once a second for ``idle_s`` seconds, then PSS, of every process under ``root``."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    names: dict[int, str] = {}
    end = time.monotonic() + idle_s
    baseline = True
    while True:
        for pid in descendants(root):
            used = cpu_seconds(pid)
            if used is None:
                continue
            if pid not in first:
                first[pid] = used if baseline else 0.0  # born in the window: all of its CPU counts
                names[pid] = process_name(cmdline(pid))
            last[pid] = used
        baseline = False
        if time.monotonic() >= end:
            break
        time.sleep(1)
    figures = []
    for pid in sorted(last):
        memory = pss_mb(pid)
        figures.append(
            ProcessFigure(names[pid], pid, round(memory or 0.0, 1), round((last[pid] - first[pid]) / idle_s * 100, 2))
        )
    return figures


def summarize(figures: list[ProcessFigure], idle_s: float, runs: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The JSON figures: totals of the stack without the simulator, every process, and the runs of the window."""
    stack = [f for f in figures if f.name != SIMULATOR]
    dagster_only = [f for f in stack if f.name != SPOT_ENGINE]
    return {
        "pss_mb": round(sum(f.pss_mb for f in stack), 1),
        "cpu_percent": round(sum(f.cpu_percent for f in stack), 2),
        # the spot engine (on by default in sim mode) works on every book update even when nothing trades; apart, so
        # the Dagster side's idle cost and the engine's market-data cost can each be followed
        "without_spot_engine": {
            "pss_mb": round(sum(f.pss_mb for f in dagster_only), 1),
            "cpu_percent": round(sum(f.cpu_percent for f in dagster_only), 2),
        },
        "idle_seconds": idle_s,
        "processes": [{"name": f.name, "pss_mb": f.pss_mb, "cpu_percent": f.cpu_percent} for f in figures],
        "runs": runs or [],
    }


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the stack's process group (it was started in a session of its own), SIGKILL after 60 s; returns
    once no process of the group is left (the daemon's children may outlive the supervisor by a few seconds)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)


def _stack_config(workdir: Path, sim_port: int) -> Path:
    path = workdir / "arbx.yaml"
    path.write_text(f"data_dir: {workdir / 'data'}\nsimulator: {{port: {sim_port}}}\n", encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    if args.idle <= 0:
        raise ValueError(f"--idle must be positive, got {args.idle}")
    with tempfile.TemporaryDirectory(prefix="arbx-bench-stack-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        config = _stack_config(workdir, free_port())
        port = free_port()
        home = workdir / "dagster_home"
        env = dict(os.environ, DAGSTER_HOME=str(home))
        command = [sys.executable, "-m", "arbx_pipelines.cli.main", "--config", str(config), "run", "--port", str(port)]
        log = workdir / "stack.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(f"http://127.0.0.1:{port}", proc, log)
            waited = wait_quiet(home, log, args.settle, proc)  # the start-up work is not idling
            window_start = datetime.now(UTC)
            figures = measure(proc.pid, args.idle)
            runs = runs_created(home, window_start)
        finally:
            _stop_group(proc)
    summary = summarize(figures, args.idle, runs)
    summary["quiet_after_seconds"] = waited
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"idle stack over {args.idle:.0f} s (PSS from /proc/<pid>/smaps_rollup; CPU in % of one core)")
    print(f"  {'process':<18} {'pid':>7} {'PSS MB':>9} {'CPU %':>7}")
    for f in figures:
        print(f"  {f.name:<18} {f.pid:>7} {f.pss_mb:>9.1f} {f.cpu_percent:>7.2f}")
    with_sim = sum(f.pss_mb for f in figures)
    print(f"stack without the simulator: {summary['pss_mb']:.1f} MB PSS, {summary['cpu_percent']:.2f} % of one core")
    apart = summary["without_spot_engine"]
    print(f"  of which without the spot engine: {apart['pss_mb']:.1f} MB PSS, {apart['cpu_percent']:.2f} % of one core")
    print(f"with the simulator: {with_sim:.1f} MB PSS, {sum(f.cpu_percent for f in figures):.2f} % of one core")
    print(f"runs started during the window: {len(runs)}" + "".join(f"\n  {r['job']} ({r['status']})" for r in runs))
    return 0
