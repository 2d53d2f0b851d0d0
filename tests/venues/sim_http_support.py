"""Helpers for tests over real HTTP against a running simulator: the admin client and wired ccxt clients."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from arbx_pipelines.venues.sim.ccxt_wiring import wire


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
