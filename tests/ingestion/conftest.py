"""An ingestion setup: the simulated venues, an arbx config on a fresh SQLite database, and resources for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.definitions import build_resources
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.simulator import available_venue_modules
from tests.support.sim import sim_settings


@dataclass
class IngestionSetup:
    loaded: LoadedConfig
    config_path: Path
    sim: SimServer
    resources: dict[str, Any]
    venues: list[str]

    @property
    def engine(self) -> Any:
        return make_engine(self.loaded.database_url)


@pytest.fixture(scope="module")
def ingestion_sim() -> Iterator[SimServer]:
    with SimServer(sim_settings()) as server:
        yield server


@pytest.fixture
def ingestion(ingestion_sim: SimServer, tmp_path: Path) -> IngestionSetup:
    venues = sorted(available_venue_modules())
    enabled = "\n".join(f"  {v}: {{enabled: {str(v in venues).lower()}}}" for v in ("binance", "okx", "bitget"))
    config_path = tmp_path / "arbx.yaml"
    config_path.write_text(f"data_dir: {tmp_path}\nvenues:\n{enabled}\n", encoding="utf-8")
    loaded = load_config(config_path, env={})
    upgrade(loaded.database_url)
    resources = build_resources(loaded, str(config_path), sim_url=ingestion_sim.base_url, rate_limit_ms=5)
    return IngestionSetup(loaded, config_path, ingestion_sim, resources, venues)
