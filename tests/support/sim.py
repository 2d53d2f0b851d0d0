"""Simulator settings for tests outside tests/venues: an ephemeral port and the recorded history from ../shared."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from arbx_pipelines.venues.sim.settings import SimSettings

SHARED_DIR = Path(os.environ.get("ARBX_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))


def sim_settings(**overrides: Any) -> SimSettings:
    values: dict[str, Any] = {"port": 0, "seed": 7, "history_dir": SHARED_DIR / "data"}
    values.update(overrides)
    return SimSettings(**values)
