"""Stock ccxt (sync and async) loads Binance markets and market data from the simulator."""

from __future__ import annotations

import asyncio

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from sim_http_support import Admin

from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer


@pytest.fixture(scope="module")
def binance(sim_server: SimServer) -> ccxt.binance:
    exchange = wire(ccxt.binance(), sim_server.base_url)
    exchange.load_markets()
    return exchange


def test_load_markets_lists_spot_and_perpetual_pairs(binance: ccxt.binance) -> None:
    swaps = [m for m in binance.markets.values() if m["swap"] and m["linear"]]
    spots = [m for m in binance.markets.values() if m["spot"]]
    assert len(swaps) >= 50 and len(spots) >= 50
    btc = binance.market("BTC/USDT:USDT")
    assert btc["contractSize"] == 1 and btc["settle"] == "USDT"
    assert btc["precision"]["amount"] > 0 and btc["precision"]["price"] > 0
    assert btc["limits"]["cost"]["min"] == 100
    assert binance.market("ETH/USDT")["limits"]["cost"]["min"] == 5


def test_load_markets_touches_the_seven_endpoints_ccxt_calls(fresh_sim_server: SimServer) -> None:
    admin = Admin(fresh_sim_server.base_url)
    admin.call("DELETE", "/requests")
    exchange = wire(ccxt.binance(), fresh_sim_server.base_url)
    exchange.load_markets()
    served = [row["endpoint"] for row in admin.call("GET", "/requests?venue=binance")]
    assert len(served) == 7
    assert set(served) == {
        "GET /api/v3/exchangeInfo", "GET /fapi/v1/exchangeInfo", "GET /dapi/v1/exchangeInfo",
        "GET /sapi/v1/capital/config/getall", "GET /sapi/v1/margin/allPairs", "GET /sapi/v1/margin/isolated/allPairs",
    }  # fmt: skip
    assert admin.call("GET", "/unknown") == []
    assert exchange.currencies["USDT"]["id"] == "USDT"


def test_funding_intervals_include_8h_4h_and_1h(binance: ccxt.binance) -> None:
    intervals = binance.fetch_funding_intervals()
    seen = {value["interval"] for value in intervals.values()}
    assert {"1h", "4h", "8h"} <= seen


def test_async_client_loads_markets_and_funding_rates(sim_server: SimServer) -> None:
    async def run() -> tuple[int, dict[str, dict[str, object]]]:
        exchange = wire(ccxt_async.binance(), sim_server.base_url)
        try:
            markets = await exchange.load_markets()
            rates = await exchange.fetch_funding_rates()
        finally:
            await exchange.close()
        return len(markets), rates

    count, rates = asyncio.run(run())
    assert count >= 100
    assert len(rates) >= 50
    rate = rates["BTC/USDT:USDT"]
    assert rate["fundingRate"] is not None and int(str(rate["fundingTimestamp"])) > int(str(rate["timestamp"]))
