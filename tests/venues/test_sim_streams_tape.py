"""Public trades and candles over REST on the three simulated venues, read by stock ccxt: consistent candles on the
interval grid, the same closed candles on every request, trades at the venue's own model price."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from conftest import make_settings

from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.engine import to_tick
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.streams.rest_tape import interval_ms

HOUR = 3_600_000


@pytest.fixture(scope="module")
def tape_server() -> Iterator[SimServer]:
    with SimServer(make_settings(history_dir=None)) as server:
        yield server


@pytest.mark.parametrize("venue", ["binance", "okx", "bitget"])
@pytest.mark.parametrize("symbol", ["ETH/USDT", "ETH/USDT:USDT"])
def test_candles_and_trades_through_stock_ccxt(tape_server: SimServer, venue: str, symbol: str) -> None:
    exchange: Any = wire(getattr(ccxt, venue)(), tape_server.base_url)
    exchange.load_markets()
    since = (exchange.milliseconds() // HOUR - 10) * HOUR
    first = exchange.fetch_ohlcv(symbol, "1h", since=since, limit=6)
    again = exchange.fetch_ohlcv(symbol, "1h", since=since, limit=6)
    assert first == again and len(first) >= 5
    assert [b[0] - a[0] for a, b in itertools.pairwise(first)] == [HOUR] * (len(first) - 1)
    for _, open_, high, low, close, volume in first:
        assert low <= min(open_, close) <= max(open_, close) <= high and volume > 0
    trades = exchange.fetch_trades(symbol, limit=5)
    assert len(trades) == 5 and {t["side"] for t in trades} <= {"buy", "sell"}
    last = trades[-1]
    engine = tape_server.simulator.venue(venue).engine
    instrument = engine.instrument(symbol)
    model = tape_server.call(lambda: to_tick(engine.model_price(instrument, last["timestamp"]), instrument.tick_size))
    assert Decimal(str(last["price"])) == model


def test_interval_texts_of_the_three_venues() -> None:
    assert interval_ms("1m") == interval_ms("1min") == 60_000
    assert interval_ms("4h") == interval_ms("4H") == 4 * HOUR
    assert interval_ms("1D") == interval_ms("1Dutc") == interval_ms("1day") == 24 * HOUR
