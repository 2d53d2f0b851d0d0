"""Simulator settings for tests outside tests/venues: an ephemeral port, the recorded history from ../shared, a fixed
market start and a stepped clock (the same prices on every run)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings

SHARED_DIR = Path(os.environ.get("ARBX_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))


def sim_settings(**overrides: Any) -> SimSettings:
    values: dict[str, Any] = {"port": 0, "seed": 7, "history_dir": SHARED_DIR / "data",
                              "market_start_ms": REPRODUCIBLE_MARKET_START_MS, "clock_running": False}  # fmt: skip
    values.update(overrides)
    return SimSettings(**values)
