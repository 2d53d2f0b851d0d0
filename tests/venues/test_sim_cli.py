"""``arbx sim`` serves the venues and prints their URLs and credentials; ``arbx run`` knows how to start it."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import ccxt

from arbx_pipelines.cli.run import simulator_command
from arbx_pipelines.venues.sim.ccxt_wiring import wire

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_arbx_sim_prints_urls_and_credentials_and_serves(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR), ARBX_DATA_DIR=str(tmp_path))
    command = [sys.executable, "-m", "arbx_pipelines.cli.main", "sim", "--port", "0", "--no-history", "--seed", "3"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    try:
        stdout = process.stdout
        assert stdout is not None
        received: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in stdout:
                received.put(line)

        threading.Thread(target=pump, daemon=True).start()
        lines: list[str] = []
        while not lines or not lines[-1].startswith("press Ctrl+C"):
            try:
                lines.append(received.get(timeout=60))
            except queue.Empty:
                raise AssertionError(f"arbx sim did not announce itself: {lines}") from None
        text = "".join(lines)
        assert "arbx-sim-key" in text and "arbx-sim-secret" in text and "arbx-sim-pass" in text
        binance_line = next(line for line in lines if line.strip().startswith("binance"))
        binance_url = binance_line.split()[-1]
        assert binance_url.startswith("http://127.0.0.1:") and binance_url.endswith("/binance")
        exchange = wire(ccxt.binance({"enableRateLimit": False}), binance_url.removesuffix("/binance"))
        assert len(exchange.load_markets()) >= 100
    finally:
        process.terminate()  # SIGTERM, as `arbx run` stops it: a clean stop that saves the world
        process.wait(timeout=20)
    assert f"world    {tmp_path / 'sim' / 'world.json'}" in text
    saved = json.loads((tmp_path / "sim" / "world.json").read_text(encoding="utf-8"))
    assert saved["seed"] == 3 and set(saved["venues"]) == {"binance", "okx", "bitget"}


def test_arbx_run_starts_the_simulator_with_the_configured_port() -> None:
    command = simulator_command(8711)
    assert command is not None and command[-3:] == ["sim", "--port", "8711"]
