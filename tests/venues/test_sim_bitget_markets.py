"""Stock ccxt (sync and async) loads Bitget markets and public market data from the simulator: the endpoints
``load_markets`` touches, Bitget's precision fields, tickers, books, funding rates with 8h/4h/1h intervals and the
page-numbered funding history."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from sim_http_support import Admin, bitget_async_client, bitget_client

from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer

PERP = "BTC/USDT:USDT"
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def bitget(sim_server: SimServer) -> ccxt.bitget:
    return bitget_client(sim_server.base_url)


def test_load_markets_touches_the_classic_account_endpoints(sim_server: SimServer) -> None:
    admin = Admin(sim_server.base_url)
    admin.call("DELETE", "/requests")
    exchange = bitget_client(sim_server.base_url)
    served = [row["endpoint"] for row in admin.call("GET", "/requests?venue=bitget")]
    assert sorted(set(served)) == [
        "GET /api/v2/margin/currencies", "GET /api/v2/mix/market/contracts", "GET /api/v2/spot/public/coins",
        "GET /api/v2/spot/public/symbols", "GET /api/v3/account/settings",
    ]  # fmt: skip
    assert served.count("GET /api/v2/mix/market/contracts") == 6  # one per product type
    assert exchange.options["uta"] is False  # the v3 probe answered 40084: a classic account
    assert not [row for row in admin.call("GET", "/unknown") if row["venue"] == "bitget"]
    assert exchange.currencies["USDT"]["id"] == "USDT"


def test_a_public_client_loads_markets_without_the_account_probe(sim_server: SimServer) -> None:
    admin = Admin(sim_server.base_url)
    admin.call("DELETE", "/requests")
    exchange = wire(ccxt.bitget({"enableRateLimit": False}), sim_server.base_url)
    exchange.apiKey = exchange.secret = exchange.password = None
    assert len(exchange.load_markets()) >= 100
    served = {row["endpoint"] for row in admin.call("GET", "/requests?venue=bitget")}
    assert "GET /api/v3/account/settings" not in served and "GET /api/v2/spot/public/symbols" in served


def test_markets_publish_bitget_precision_fields(bitget: ccxt.bitget) -> None:
    swaps = [m for m in bitget.markets.values() if m["swap"]]
    spots = [m for m in bitget.markets.values() if m["spot"]]
    assert len(swaps) >= 50 and len(spots) >= 50
    assert all(m["linear"] and m["settle"] == "USDT" and m["contractSize"] == 1 for m in swaps)
    btc = bitget.market(PERP)
    info = btc["info"]
    assert info["symbol"] == "BTCUSDT" and info["symbolType"] == "perpetual" and info["minTradeUSDT"] == "5"
    tick = Decimal(info["priceEndStep"]).scaleb(-int(info["pricePlace"]))
    assert Decimal(repr(btc["precision"]["price"])) == tick
    assert btc["precision"]["amount"] == float(info["sizeMultiplier"])
    assert Decimal(info["sizeMultiplier"]).as_tuple().exponent == -int(info["volumePlace"])
    assert btc["limits"]["amount"]["min"] == float(info["minTradeNum"]) and btc["limits"]["cost"]["min"] == 5
    spot = bitget.market("BTC/USDT")
    assert spot["info"]["minTradeUSDT"] == "1" and spot["limits"]["cost"]["min"] == 1
    assert spot["precision"]["amount"] == 10.0 ** -int(spot["info"]["quantityPrecision"])
    assert {m["info"]["fundInterval"] for m in swaps} >= {"1", "4", "8"}


def test_tickers_and_order_books(bitget: ccxt.bitget) -> None:
    spot = bitget.fetch_ticker("BTC/USDT")
    swap = bitget.fetch_ticker(PERP)
    assert spot["bid"] < spot["ask"] and spot["markPrice"] is None
    assert swap["bid"] < swap["ask"] and swap["markPrice"] > 0 and swap["indexPrice"] > 0
    assert swap["info"]["fundingRate"] != "" and swap["percentage"] is not None
    spot_tickers = bitget.fetch_tickers()
    assert len(spot_tickers) == len([m for m in bitget.markets.values() if m["spot"]])
    assert list(bitget.fetch_tickers([PERP])) == [PERP]
    book = bitget.fetch_order_book("ETH/USDT", 5)
    assert len(book["bids"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
    assert all(isinstance(level[0], str) for level in bitget.publicSpotGetV2SpotMarketOrderbook(
        {"symbol": "ETHUSDT", "limit": "3"})["data"]["asks"])  # fmt: skip
    mark = bitget.fetch_mark_price(PERP)
    assert mark["markPrice"] > 0 and mark["indexPrice"] > 0
    assert bitget.fetch_trading_fee(PERP)["taker"] == pytest.approx(0.0005)
    assert bitget.fetch_trading_fee("BTC/USDT")["maker"] == pytest.approx(0.001)
    deep = bitget.fetch_order_book(PERP)
    assert len(deep["asks"]) == 100 and deep["bids"][0][0] < deep["asks"][0][0] and deep["timestamp"] > 0


def test_funding_rates_with_their_own_intervals(bitget: ccxt.bitget) -> None:
    rates = bitget.fetch_funding_rates()
    perps = [m["symbol"] for m in bitget.markets.values() if m["swap"]]
    assert sorted(rates) == sorted(perps) and all(r["fundingRate"] is not None for r in rates.values())
    intervals = bitget.fetch_funding_intervals()
    assert {value["interval"] for value in intervals.values()} >= {"1h", "4h", "8h"}
    for hours in (1, 4, 8):
        symbol = next(s for s, v in intervals.items() if v["interval"] == f"{hours}h")
        rate = bitget.fetch_funding_rate(symbol)
        assert rate["interval"] == f"{hours}h" and rate["fundingTimestamp"] % (hours * HOUR_MS) == 0
        now = bitget.fetch_time()
        assert 0 < rate["fundingTimestamp"] - now <= hours * HOUR_MS
        assert bitget.fetch_funding_interval(symbol)["fundingTimestamp"] == rate["fundingTimestamp"]


def _raw_history(bitget: ccxt.bitget, page: int, size: int) -> list[dict[str, Any]]:
    request = {"symbol": "ETHUSDT", "productType": "USDT-FUTURES", "pageSize": str(size), "pageNo": str(page)}
    return list(bitget.publicMixGetV2MixMarketHistoryFundRate(request)["data"])


def test_funding_history_pages_newest_first_by_page_number(bitget: ccxt.bitget) -> None:
    first, second = _raw_history(bitget, 1, 5), _raw_history(bitget, 2, 5)
    times = [int(row["fundingTime"]) for row in first + second]
    assert len(times) == 10 and all(a - b == 8 * HOUR_MS for a, b in itertools.pairwise(times))
    assert len(_raw_history(bitget, 1, 500)) == 100  # pageSize is capped at 100
    recent = bitget.fetch_funding_rate_history("ETH/USDT:USDT", None, 100)
    older = bitget.fetch_funding_rate_history("ETH/USDT:USDT", None, 100, {"pageNo": 2})
    assert len(recent) == len(older) == 100 and older[-1]["timestamp"] < recent[0]["timestamp"]
    everything = bitget.fetch_funding_rate_history("ETH/USDT:USDT", None, None, {"paginate": True})
    stamps = sorted(row["timestamp"] for row in everything)  # ccxt returns paginated results newest first
    assert len(stamps) == 1000 and all(b - a == 8 * HOUR_MS for a, b in itertools.pairwise(stamps))
    since = stamps[-30]
    assert [r["timestamp"] for r in bitget.fetch_funding_rate_history("ETH/USDT:USDT", since)] == stamps[-20:]


def test_async_client_loads_markets_and_market_data(sim_server: SimServer) -> None:
    async def run() -> dict[str, Any]:
        exchange = bitget_async_client(sim_server.base_url)
        try:
            markets = await exchange.load_markets()
            ticker, book, rate, rates, history = await asyncio.gather(
                exchange.fetch_ticker(PERP), exchange.fetch_order_book("BTC/USDT", 10),
                exchange.fetch_funding_rate(PERP), exchange.fetch_funding_rates(),
                exchange.fetch_funding_rate_history(PERP, None, 20),
            )  # fmt: skip
            tickers = await exchange.fetch_tickers([PERP])
        finally:
            await exchange.close()
        return {"markets": markets, "ticker": ticker, "book": book, "rate": rate, "rates": rates,
                "history": history, "tickers": tickers}  # fmt: skip

    result = asyncio.run(run())
    assert len(result["markets"]) >= 100 and result["ticker"]["last"] > 0
    assert len(result["book"]["bids"]) == 10 and result["rate"]["interval"] == "8h"
    assert len(result["rates"]) >= 50 and len(result["history"]) == 20 and list(result["tickers"]) == [PERP]
