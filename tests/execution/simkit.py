"""Helpers for execution tests on the simulated venues: a fresh simulator, its admin endpoints over HTTP, stock
ccxt clients wired to it, and execution dependencies on a fresh database."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt

from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET, SimSettings

CREDENTIALS = {"api_key": DEFAULT_API_KEY, "secret": DEFAULT_SECRET, "passphrase": DEFAULT_PASSPHRASE}
#: client timeout in tests: short, so a "timeout after accept" fault shows within a second
CLIENT_TIMEOUT_MS = 1000
ORDER_ENDPOINTS = {
    ("binance", "spot"): "POST /api/v3/order",
    ("binance", "perp"): "POST /fapi/v1/order",
}


def start_sim(**overrides: Any) -> SimServer:
    values: dict[str, Any] = {"port": 0, "seed": 7, "history_dir": None}
    values.update(overrides)
    return SimServer(SimSettings(**values)).start()


class Admin:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_admin{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/faults", rule))

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def advance_hours(self, hours: float) -> int:
        return int(self.call("POST", "/time", {"advance_hours": hours})["time_ms"])

    def time_ms(self) -> int:
        return int(self.call("GET", "/state")["time_ms"])

    def set_funding(self, venue: str, symbol: str, rate: float) -> None:
        self.call("POST", "/funding", {"venue": venue, "symbol": symbol, "rate": rate})

    def end_funding(self) -> None:
        self.call("DELETE", "/funding")

    def set_price(self, venue: str | None, symbol: str, factor: float) -> None:
        self.call("POST", "/price", {"venue": venue, "symbol": symbol, "factor": factor})

    def account(self, venue: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/venues/{venue}/account"))

    def set_balance(self, venue: str, wallet: str, asset: str, amount: Decimal | float) -> None:
        self.call("POST", f"/venues/{venue}/balance", {"wallet": wallet, "asset": asset, "amount": str(amount)})


def venue_client(server: SimServer, venue: Venue = Venue.BINANCE) -> VenueClient:
    client = make_client(venue, Mode.SIM, credentials=CREDENTIALS, sim_url=server.base_url)
    client.exchange.timeout = CLIENT_TIMEOUT_MS
    return client


def ccxt_client(server: SimServer, venue: str = "binance") -> Any:
    """A plain synchronous ccxt client on the simulator: what a test uses to check the venue independently."""
    exchange = wire(getattr(ccxt, venue)(), server.base_url)
    exchange.load_markets()
    return exchange


def fast_settings(**overrides: Any) -> ExecutionSettings:
    values: dict[str, Any] = {"order_timeout_s": 20.0, "backoff_s": 0.05, "backoff_max_s": 0.5, "leverage": 5}
    values.update(overrides)
    return ExecutionSettings(**values)


def make_deps(db_url: str, **overrides: Any) -> ExecutionDeps:
    upgrade(db_url)
    engine = make_engine(db_url)
    values: dict[str, Any] = {
        "engine": engine,
        "state": DatabaseState(engine),
        "alerts": AlertSink(engine),
        "settings": fast_settings(),
    }
    values.update(overrides)
    return ExecutionDeps(**values)


@dataclass(frozen=True)
class VenueOrder:
    client_order_id: str
    symbol: str
    side: str
    amount: Decimal
    filled: Decimal
    status: str


def venue_orders(exchange: Any, symbols: Iterable[str]) -> list[VenueOrder]:
    """Every order the venue has for these symbols (``allOrders``), as the venue reports it."""
    found = []
    for symbol in symbols:
        for raw in exchange.fetch_orders(symbol):
            found.append(
                VenueOrder(
                    str(raw["clientOrderId"]),
                    symbol,
                    str(raw["side"]),
                    Decimal(str(raw["amount"])),
                    Decimal(str(raw["filled"])),
                    str(raw["status"]),
                )
            )
    return found


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arbx.db'}"
