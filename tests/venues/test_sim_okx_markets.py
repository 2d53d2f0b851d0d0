"""Stock ccxt (sync and async) reads OKX markets, tickers, books and funding from the simulator."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from okx_http_support import okx_async_client, raw_okx
from sim_http_support import Admin

from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def okx(sim_server: SimServer) -> ccxt.okx:
    exchange = wire(ccxt.okx(), sim_server.base_url)  # stock client: default options, ccxt's own rate limiter
    exchange.load_markets()
    return exchange


def _interval_ms(rate: dict[str, Any]) -> int:
    return int(rate["nextFundingTimestamp"]) - int(rate["fundingTimestamp"])


def test_load_markets_with_default_options_lists_spot_and_linear_swaps(okx: ccxt.okx) -> None:
    swaps = [m for m in okx.markets.values() if m["swap"] and m["linear"] and m["settle"] == "USDT"]
    spots = [m for m in okx.markets.values() if m["spot"] and m["quote"] == "USDT"]
    assert len(swaps) >= 50 and len(spots) >= 50
    btc = okx.market("BTC/USDT:USDT")
    assert btc["id"] == "BTC-USDT-SWAP" and btc["contractSize"] == 0.01
    assert btc["precision"]["amount"] == 0.01 and btc["limits"]["amount"]["min"] == 0.01
    assert okx.market("ETH/USDT:USDT")["contractSize"] == 0.1
    assert okx.market("BTC/USDT")["id"] == "BTC-USDT" and okx.market("BTC/USDT")["contractSize"] is None
    assert okx.currencies["USDT"]["networks"], "asset/currencies (signed) was read"


def test_load_markets_touches_the_six_endpoints_ccxt_calls(fresh_sim_server: SimServer) -> None:
    admin = Admin(fresh_sim_server.base_url)
    admin.call("DELETE", "/requests")
    exchange = wire(ccxt.okx(), fresh_sim_server.base_url)  # stock client, default options and rate limiter
    exchange.load_markets()
    served = [row["endpoint"] for row in admin.call("GET", "/requests?venue=okx")]
    assert sorted(served) == ["GET /api/v5/asset/currencies"] + ["GET /api/v5/public/instruments"] * 5
    assert admin.call("GET", "/unknown") == []


def test_ticker_and_tickers_use_okx_fields(okx: ccxt.okx) -> None:
    spot = okx.fetch_ticker("BTC/USDT")
    assert spot["bid"] < spot["ask"] and spot["quoteVolume"] > spot["baseVolume"] > 0
    swap = okx.fetch_ticker("BTC/USDT:USDT")
    assert swap["info"]["instType"] == "SWAP" and swap["quoteVolume"] is None
    # swap sizes are contracts: vol24h (contracts) x ctVal = volCcy24h (coins)
    info = swap["info"]
    assert Decimal(info["vol24h"]) * Decimal("0.01") == Decimal(info["volCcy24h"])
    tickers = okx.fetch_tickers(["BTC/USDT:USDT", "ETH/USDT:USDT"])
    assert set(tickers) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    assert len(okx.fetch_tickers()) >= 50  # default type spot: every spot pair


def test_swap_order_book_is_in_contracts_on_the_lot_grid(okx: ccxt.okx) -> None:
    market = okx.market("ETH/USDT:USDT")
    book = okx.fetch_order_book("ETH/USDT:USDT", 20)
    assert len(book["bids"]) == 20 and book["bids"][0][0] < book["asks"][0][0]
    lot = Decimal(str(market["precision"]["amount"]))
    for price, amount, *_ in book["bids"] + book["asks"]:
        contracts = Decimal(str(amount))
        assert contracts % lot == 0
        notional = contracts * Decimal(str(market["contractSize"])) * Decimal(str(price))
        assert Decimal(1000) < notional < Decimal(10_000_000)
    full = okx.fetch_order_book("BTC/USDT", 450)  # > 400 levels: ccxt switches to books-full
    assert len(full["asks"]) == 450


def test_funding_rates_report_8h_4h_and_1h_intervals(okx: ccxt.okx) -> None:
    rates = okx.fetch_funding_rates()
    swaps = {s for s, m in okx.markets.items() if m["swap"]}
    assert set(rates) == swaps
    assert {r["interval"] for r in rates.values()} == {"8h", "4h", "1h"}
    now = okx.milliseconds()
    for rate in rates.values():
        step = _interval_ms(rate)
        assert rate["fundingTimestamp"] > now - 5_000 and rate["fundingTimestamp"] % step == 0
        assert rate["fundingRate"] is not None and abs(rate["fundingRate"]) <= 0.02
    single = okx.fetch_funding_rate("BTC/USDT:USDT")
    assert single["interval"] == "8h" and single["fundingTimestamp"] == rates["BTC/USDT:USDT"]["fundingTimestamp"]


def test_funding_rate_history_pages_forward_with_before_and_back_with_after(okx: ccxt.okx) -> None:
    hourly = next(s for s, r in okx.fetch_funding_rates().items() if r["interval"] == "1h")
    since = (okx.milliseconds() // HOUR_MS - 300) * HOUR_MS + 1  # 300 settlements ago, just after one
    page = okx.fetch_funding_rate_history(hourly, since)
    times = [p["timestamp"] for p in page]
    assert len(page) == 100 and times == sorted(times)
    assert times[0] == since - 1 + HOUR_MS and all(b - a == HOUR_MS for a, b in itertools.pairwise(times))
    # arbx's forward pagination (since = last + 1) continues without gap or overlap
    following = okx.fetch_funding_rate_history(hourly, times[-1] + 1, 100)
    assert following[0]["timestamp"] == times[-1] + HOUR_MS
    # OKX's `after` cursor walks back: the 100 settlements before the first one seen
    raw = okx.publicGetPublicFundingRateHistory({"instId": okx.market_id(hourly), "after": str(times[0])})
    older = [int(row["fundingTime"]) for row in raw["data"]]
    assert older == sorted(older, reverse=True) and older[0] == times[0] - HOUR_MS and len(older) == 100
    with pytest.raises(ccxt.BadRequest):
        okx.fetch_funding_rate_history(hourly, since, 101)  # OKX allows at most 100 per page


def test_unknown_instrument_is_okx_51001(okx: ccxt.okx, sim_server: SimServer) -> None:
    status, body = raw_okx(sim_server, "GET", "/api/v5/market/ticker?instId=NOPE-USDT", signed=False)
    assert (status, body["code"], body["data"]) == (400, "51001", [])
    with pytest.raises(ccxt.BadSymbol):
        okx.publicGetPublicFundingRate({"instId": "NOPE-USDT-SWAP"})


def test_async_client_reads_markets_books_and_funding(sim_server: SimServer) -> None:
    async def run() -> tuple[int, dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        exchange = okx_async_client(sim_server)
        try:
            markets = await exchange.load_markets()
            book = await exchange.fetch_order_book("BTC/USDT:USDT", 5)
            rates = await exchange.fetch_funding_rates(["BTC/USDT:USDT", "ETH/USDT:USDT"])
            rates["single"] = await exchange.fetch_funding_rate("BTC/USDT:USDT")
            history = await exchange.fetch_funding_rate_history("BTC/USDT:USDT", limit=10)
            tickers = await exchange.fetch_tickers(["SOL/USDT", "ETH/USDT"])
        finally:
            await exchange.close()
        assert set(tickers) == {"SOL/USDT", "ETH/USDT"} and all(t["bid"] < t["ask"] for t in tickers.values())
        return len(markets), book, rates, history

    count, book, rates, history = asyncio.run(run())
    assert rates.pop("single")["fundingTimestamp"] == rates["BTC/USDT:USDT"]["fundingTimestamp"]
    assert count >= 100
    assert len(book["bids"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
    assert set(rates) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    assert len(history) == 10 and history[-1]["timestamp"] - history[0]["timestamp"] == 9 * 8 * HOUR_MS
