"""A real ``dagster dev`` (webserver + daemon) for benchmarks: free port, temporary DAGSTER_HOME with the embedded
instance config (QueuedRunCoordinator, one run per ``arbx/symbol``), ARBX_CONFIG pointing at the bench config.
Ready once the webserver answers and the daemon has launched the reconcile-on-start run (sensors are ticking)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from dagster import DagsterInstance

from arbx_pipelines.instance import ensure_dagster_home

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DagsterDev:
    def __init__(self, workdir: Path, config_path: Path) -> None:
        self.workdir = workdir
        self.config_path = config_path
        self.home = ensure_dagster_home(workdir / "dagster_home_dev")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "dagster_dev.log"
        self.startup_s = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DagsterDev:
        env = dict(os.environ, DAGSTER_HOME=str(self.home), ARBX_CONFIG=str(self.config_path))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p)
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-m",
            "arbx_pipelines.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        start = time.monotonic()
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._wait_ready(start + READY_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - start
        return self

    def _alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"dagster dev exited with {self._proc.returncode}:\n{tail}")

    def _wait_ready(self, deadline: float) -> None:
        while True:
            self._alive()
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"dagster dev did not answer on {self.url}; log: {self.log_path}")
            time.sleep(0.5)
        with DagsterInstance.from_config(str(self.home)) as instance:
            while not instance.get_runs(limit=1):
                self._alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the daemon launched no run (reconcile on start); log: {self.log_path}")
                time.sleep(0.5)

    def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # the group this object started: dagster dev and its children
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        deadline = time.monotonic() + 15  # run workers of the group may still be exiting
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
