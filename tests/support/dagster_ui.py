"""A real Dagster webserver + daemon (`dagster dev`) on free loopback ports, and headless Chromium driving it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arbx_pipelines.instance import ensure_dagster_home

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ARBX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DagsterUI:
    url: str
    home: Path
    process: subprocess.Popen[bytes]

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload: dict[str, Any] = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return dict(payload["data"])

    def wait_for_location(self, timeout: float = 120) -> None:
        query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                entries = self.graphql(query)["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError("the code location did not load")


@contextmanager
def dagster_dev(tmp: Path, env_extra: dict[str, str] | None = None) -> Iterator[DagsterUI]:
    """``dagster dev`` with the project's workspace, a fresh DAGSTER_HOME and data folder under ``tmp``."""
    home = ensure_dagster_home(tmp / "dagster_home")
    port = free_port()
    env = dict(os.environ, DAGSTER_HOME=str(home), ARBX_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(PROJECT))
    env.update(env_extra or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port),
         "-w", str(PROJECT / "workspace.yaml")],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    ui = DagsterUI(f"http://127.0.0.1:{port}", home, process)
    try:
        ui.wait_for_location()
        yield ui
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            browser.close()
