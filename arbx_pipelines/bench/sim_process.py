"""The simulated venues in their own process, as in production (`arbx sim`), for benchmarks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

SIM_COMMAND = (sys.executable, "-m", "arbx_pipelines.cli.main", "sim")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sim_process(seed: int = 7) -> Iterator[tuple[str, list[str]]]:
    """Yields (base URL, venues served) of an `arbx sim` subprocess on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [*SIM_COMMAND, "--port", str(port), "--seed", str(seed), "--ephemeral"],  # no saved world: a fresh one
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_admin/state", timeout=2) as response:
                    state = json.loads(response.read())
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.3)
        yield base, [str(v) for v in state.get("venues", [])]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
