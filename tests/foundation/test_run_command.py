"""`arbx run` (what `make run` starts): the Dagster UI and daemon come up on loopback with the embedded instance."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_arbx_run_serves_the_ui_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(PROJECT), ARBX_SIM_PORT=str(free_port()))
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbx_pipelines.cli.main", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        info = None
        deadline = time.monotonic() + 300  # a hang guard only: a loaded machine starts Dagster slowly
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as resp:
                    info = json.loads(resp.read())
                break
            except OSError:
                time.sleep(1)
        assert info is not None, "the Dagster UI did not come up"
        assert info["dagster_version"] == "1.13.27"
        assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()
        assert (tmp_path / "data" / "arbx.db").exists()  # migrations applied before the UI started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
