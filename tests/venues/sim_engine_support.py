"""Helpers for engine-level tests: a simulator with a frozen clock at a fixed start, no HTTP."""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.simulator import Simulator

#: 2025-08-01 03:00 UTC: inside the recorded 2025 funding data, between settlements
START_MS = 1754017200000


def frozen_simulator(**overrides: Any) -> Simulator:
    values: dict[str, Any] = {"port": 0, "seed": 11, "start_ms": START_MS, "history_dir": None, "venues": ("binance",),
                              "clock_running": False}  # fmt: skip
    values.update(overrides)
    return Simulator(SimSettings(**values))
