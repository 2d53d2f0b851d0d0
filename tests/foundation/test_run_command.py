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


def test_arbx_run_starts_dagster_as_production_does(tmp_path: Path) -> None:
    """No `dagster dev` (its own process and a code-server proxy): a gRPC code server on a Unix socket, then the
    webserver and the daemon, both loading the code location `arbx` from it through the generated workspace."""
    import argparse

    import yaml

    from arbx_pipelines.cli.run import WORKSPACE_FILE, service_children, write_workspace
    from arbx_pipelines.config.loader import load_config

    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nmode: paper\n", encoding="utf-8")
    loaded = load_config(str(config))
    socket_path = tmp_path / "code.sock"
    workspace = write_workspace(tmp_path, socket_path)
    assert workspace == tmp_path / WORKSPACE_FILE
    assert yaml.safe_load(workspace.read_text()) == {
        "load_from": [{"grpc_server": {"socket": str(socket_path), "location_name": "arbx"}}]
    }
    args = argparse.Namespace(host="127.0.0.1", port=3123, reset_sim=False)
    children = service_children(loaded, args, tmp_path, socket_path)
    assert [c.name for c in children] == ["code server", "webserver", "daemon"]
    code, web, daemon = (c.command for c in children)
    assert code[1:5] == ["-m", "dagster", "api", "grpc"] and code[code.index("--socket") + 1] == str(socket_path)
    assert web[1:3] == ["-m", "dagster_webserver"]
    assert web[web.index("-h") + 1 :][:1] == ["127.0.0.1"] and web[web.index("-p") + 1] == "3123"
    assert daemon[1:4] == ["-m", "dagster._daemon", "run"]
    assert all(command[command.index("-w") + 1] == str(workspace) for command in (web, daemon))
    assert not any("dev" in command for command in (code, web, daemon))
    assert {c.stop_together for c in children} == {"dagster"}  # they wind down at the same time
