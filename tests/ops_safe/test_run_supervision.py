"""`arbx run` as one supervised group: SIGTERM, SIGINT and SIGHUP each stop every process it started (simulator,
Dagster UI, daemon, code server, run workers, the first snapshot) within 10 s, leaving nothing for the next start.
The first start also shows the first minutes: the UI address, the first funding snapshot, a healthy system."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbx_pipelines.supervisor import alive, descendants

pytestmark = pytest.mark.isolated  # signals and child processes: alone in a fresh process

PROJECT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ArbxRun:
    """One `arbx run` in a subprocess, its console lines collected by a reader thread."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "arbx_pipelines.cli.main", "--config", str(config), "run",
                   "--port", str(_free_port())]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=env, cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self._queue.get(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                break
            self.lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} within {timeout} s; console: {self.lines}")

    def stop_with(self, sig: signal.Signals) -> tuple[float, list[int]]:
        """Send ``sig``; returns how long the stop took and every process of the start that is still alive."""
        started = descendants(self.process.pid)
        assert started, "arbx run started no process"
        began = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=STOP_SECONDS + 5)
        took = time.monotonic() - began
        return took, [pid for pid in started if alive(pid)]


@pytest.fixture
def project(tmp_path: Path, shared_dir: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    config = tmp_path / "arbx.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nsimulator:\n  port: {_free_port()}\n  history_dir: {shared_dir / 'data'}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBX_", "DAGSTER_"))}
    yield config, env


def test_sigterm_after_the_first_snapshot(project: tuple[Path, dict[str, str]]) -> None:
    """The first minutes: the UI address, then the funding snapshot taken at the start; SIGTERM stops it all."""
    config, env = project
    run = ArbxRun(config, env)
    try:
        ui = run.wait_for("arbx: UI at http://127.0.0.1:", 120)
        assert f"kill -TERM {run.process.pid}" in ui
        run.wait_for("arbx: funding_snapshot done", 240)
        took, survivors = run.stop_with(signal.SIGTERM)
    finally:
        if run.process.poll() is None:
            run.process.kill()
    assert survivors == [] and took < STOP_SECONDS
    assert run.process.returncode == 0
    run.wait_for("arbx: stopped (received SIGTERM)", 5)
    console = "\n".join(run.lines)
    for noise in ("Checking for new runs", "BetaWarning", "DeprecationWarning", "PreviewWarning", " - INFO - "):
        assert noise not in console
    assert not (config.parent / "data" / "arbx-run.json").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_while_starting_stops_everything(project: tuple[Path, dict[str, str]], sig: signal.Signals) -> None:
    """Each signal while Dagster is still starting (runs, servers half up): nothing survives, nothing is left for
    the next start."""
    config, env = project
    run = ArbxRun(config, env)
    try:
        run.wait_for("arbx: UI at", 120)
        took, survivors = run.stop_with(sig)
    finally:
        if run.process.poll() is None:
            run.process.kill()
    assert survivors == [] and took < STOP_SECONDS
    assert run.process.returncode == 0
    assert not any("left running" in line for line in run.lines)
