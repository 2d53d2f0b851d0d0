"""Helpers for tests over real HTTP against a running simulator: the admin client and wired ccxt clients."""

from __future__ import annotations

import json
import os
import urllib.request
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from arbx_pipelines.venues.sim.ccxt_wiring import wire

#: the shared folder beside the checkout (same rule as tests/conftest.py)
SHARED_DIR = Path(os.environ.get("ARBX_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_recordings(path: Path) -> None:
    """ccxt's recorded fixtures come with ../shared: without them a local run skips, a CI run fails."""
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI runs with ../shared beside the checkout")
        pytest.skip(f"{path} is missing")


def missing_recordings(path: Path) -> list[Any]:
    """The one parameter a recording-driven test gets when the recordings are absent: it calls
    ``require_recordings`` first, so it is skipped locally and fails under CI=true."""
    return [pytest.param(None, id=f"{path.name}-missing")]


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


#: tests go as fast as the simulator answers: no client-side throttling
FAST = {"enableRateLimit": False}


def binance_client(base_url: str, **config: Any) -> ccxt.binance:
    """A stock sync ``ccxt.binance`` wired to the simulator, markets loaded."""
    exchange = wire(ccxt.binance(FAST | config), base_url)
    exchange.load_markets()
    return exchange


def binance_async_client(base_url: str, **config: Any) -> ccxt_async.binance:
    """A stock async ``ccxt.binance`` wired to the simulator (load markets inside the event loop)."""
    return wire(ccxt_async.binance(FAST | config), base_url)


def bitget_client(base_url: str, **config: Any) -> ccxt.bitget:
    """A stock sync ``ccxt.bitget`` wired to the simulator, markets loaded."""
    exchange = wire(ccxt.bitget(FAST | config), base_url)
    exchange.load_markets()
    return exchange


def bitget_async_client(base_url: str, **config: Any) -> ccxt_async.bitget:
    """A stock async ``ccxt.bitget`` wired to the simulator (load markets inside the event loop)."""
    return wire(ccxt_async.bitget(FAST | config), base_url)


def amount_for_usd(market: dict[str, Any], price: float, usd: float) -> float:
    """About ``usd`` worth of ``market`` at ``price``: rounded down to the lot, at least one lot and the minimum
    amount, so tests keep working whatever price the replayed history shows."""
    lot = Decimal(str(market["precision"]["amount"]))
    lots = max(Decimal(1), (Decimal(str(usd)) / Decimal(str(price)) / lot).to_integral_value(ROUND_DOWN))
    minimum = Decimal(str(market["limits"]["amount"]["min"] or 0))
    return float(max(lots * lot, minimum))
