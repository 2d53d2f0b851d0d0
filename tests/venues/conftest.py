"""Fixtures for tests against the simulated venues: a real server on an ephemeral port, stock ccxt clients wired to
it, and a small client for its admin endpoints.

``sim_server`` (session-wide, shared: do not leave positions or faults behind) and ``fresh_sim_server`` (per test
module, its own accounts) yield a running ``SimServer`` (``.base_url``, ``.url(venue)``, ``.simulator``);
``sim_url`` is the shared server's base URL.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings

SHARED_DIR = Path(os.environ.get("ARBX_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))


def make_settings(**overrides: Any) -> SimSettings:
    values: dict[str, Any] = {"port": 0, "seed": 7, "history_dir": SHARED_DIR / "data"}
    values.update(overrides)
    return SimSettings(**values)


class Admin:
    """The simulator's ``/_admin`` endpoints over real HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}/_admin{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/faults", rule))

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def advance(self, hours: float) -> int:
        return int(self.call("POST", "/time", {"advance_hours": hours})["time_ms"])

    def pause(self, paused: bool = True) -> None:
        self.call("POST", "/time", {"pause": paused})

    def account(self, venue: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/venues/{venue}/account"))

    def set_balance(self, venue: str, wallet: str, asset: str, amount: float) -> None:
        self.call("POST", f"/venues/{venue}/balance", {"wallet": wallet, "asset": asset, "amount": amount})


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
        pytest.skip(f"{path} is missing")
    return path
