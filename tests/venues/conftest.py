"""Fixtures for tests against the simulated venues: a real server on an ephemeral port, stock ccxt clients wired to
it, and a small client for its admin endpoints.

``sim_server`` (session-wide, shared: do not leave positions or faults behind) and ``fresh_sim_server`` (per test
module, its own accounts) yield a running ``SimServer`` (``.base_url``, ``.url(venue)``, ``.simulator``);
``sim_url`` is the shared server's base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_http_support import SHARED_DIR, Admin

from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings
from tests.conftest import missing_data


def make_settings(**overrides: Any) -> SimSettings:
    values: dict[str, Any] = {"port": 0, "seed": 7, "history_dir": SHARED_DIR / "data"}
    values.update(overrides)
    return SimSettings(**values)


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimServer]:
    with SimServer(make_settings()) as server:
        yield server


@pytest.fixture(scope="session")
def sim_url(sim_server: SimServer) -> str:
    return sim_server.base_url


@pytest.fixture(scope="module")
def fresh_sim_server() -> Iterator[SimServer]:
    with SimServer(make_settings()) as server:
        yield server


@pytest.fixture
def admin(sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(sim_server.base_url)
    yield client
    client.clear_faults()


@pytest.fixture(scope="session")
def ccxt_fixtures_dir() -> Path:
    path = SHARED_DIR / "fixtures" / "ccxt-static"
    if not path.is_dir():
        missing_data(path)
    return path
