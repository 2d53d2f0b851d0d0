"""Stock sync ccxt against the simulated Binance for every method arbx uses: balances, transfers, orders of each
kind, lookups by id and client order id, cancels, positions, leverage, margin mode, funding rates, intervals,
funding history with pagination, and funding income after a settlement."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import ccxt
import pytest
from sim_http_support import Admin, binance_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "SOL/USDT:USDT"


@pytest.fixture(scope="module")
def binance(fresh_sim_server: SimServer) -> ccxt.binance:
    return binance_client(fresh_sim_server.base_url)


@pytest.fixture
def fresh_admin(fresh_sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(fresh_sim_server.base_url)
    yield client
    client.clear_faults()


def _amount(binance: ccxt.binance, symbol: str, usd: float) -> float:
    price = binance.fetch_order_book(symbol, 5)["asks"][0][0]
    return float(binance.amount_to_precision(symbol, usd / price))


def test_balances_per_account_type_and_transfers(binance: ccxt.binance) -> None:
    spot = binance.fetch_balance()["USDT"]["free"]
    swap = binance.fetch_balance({"type": "swap"})["USDT"]["free"]
    assert spot > 0 and swap > 0
    binance.transfer("USDT", 20, "spot", "swap")
    assert binance.fetch_balance()["USDT"]["free"] == pytest.approx(spot - 20)
    assert binance.fetch_balance({"type": "swap"})["USDT"]["free"] == pytest.approx(swap + 20)
    binance.transfer("USDT", 20, "swap", "spot")
    assert binance.fetch_balance()["USDT"]["free"] == pytest.approx(spot)


def test_spot_and_perp_market_orders_fill_with_fees_and_client_ids(binance: ccxt.binance) -> None:
    amount = _amount(binance, "ETH/USDT", 30)
    bought = binance.create_order("ETH/USDT", "market", "buy", amount)
    assert bought["status"] == "closed" and bought["filled"] == pytest.approx(amount)
    assert bought["fee"]["currency"] == "ETH" and bought["fee"]["cost"] > 0
    perp_amount = _amount(binance, "ETH/USDT:USDT", 30)
    short = binance.create_order("ETH/USDT:USDT", "market", "sell", perp_amount, None, {"clientOrderId": "arbx-t1-a"})
    assert short["clientOrderId"] == "arbx-t1-a" and short["status"] == "closed"
    by_id = binance.fetch_order(short["id"], "ETH/USDT:USDT")
    by_client_id = binance.fetch_order(None, "ETH/USDT:USDT", {"clientOrderId": "arbx-t1-a"})
    assert by_id["id"] == by_client_id["id"] == short["id"]
    assert by_client_id["average"] > 0 and by_client_id["filled"] == pytest.approx(perp_amount)
    trades = binance.fetch_my_trades("ETH/USDT:USDT")
    assert trades[-1]["order"] == short["id"] and trades[-1]["fee"]["cost"] > 0
    assert binance.fetch_order(bought["id"], "ETH/USDT")["filled"] == pytest.approx(amount)
    by_cost = binance.create_market_buy_order_with_cost("ETH/USDT", 20)
    assert 19 < by_cost["cost"] <= 20 and by_cost["status"] == "closed"
    closing = binance.create_order("ETH/USDT:USDT", "market", "buy", perp_amount * 3, None, {"reduceOnly": True})
    assert closing["filled"] == pytest.approx(perp_amount) and closing["reduceOnly"] is True
    assert all(p["symbol"] != "ETH/USDT:USDT" for p in binance.fetch_positions())


def test_limit_orders_rest_and_cancel_and_ioc_expires(binance: ccxt.binance) -> None:
    bid = binance.fetch_order_book(PERP, 5)["bids"][0][0]
    price = float(binance.price_to_precision(PERP, bid * 0.9))
    amount = _amount(binance, PERP, 25)
    order = binance.create_order(PERP, "limit", "buy", amount, price, {"clientOrderId": "arbx-rest-1"})
    assert order["status"] == "open" and order["filled"] == 0
    assert [o["id"] for o in binance.fetch_open_orders(PERP)] == [order["id"]]
    canceled = binance.cancel_order(order["id"], PERP)
    assert canceled["status"] == "canceled"
    assert binance.fetch_order(None, PERP, {"clientOrderId": "arbx-rest-1"})["status"] == "canceled"
    assert binance.fetch_open_orders(PERP) == []
    with pytest.raises(ccxt.OrderNotFound):
        binance.cancel_order(order["id"], PERP)
    with pytest.raises(ccxt.OrderNotFound):
        binance.fetch_order("12345", PERP)
    ioc = binance.create_order(PERP, "limit", "buy", amount, price, {"timeInForce": "IOC"})
    assert ioc["status"] == "expired" and ioc["filled"] == 0
    spot_price = float(binance.price_to_precision("SOL/USDT", bid * 0.9))
    spot_order = binance.create_order("SOL/USDT", "limit", "buy", _amount(binance, "SOL/USDT", 20), spot_price)
    assert binance.fetch_open_orders("SOL/USDT")[0]["id"] == spot_order["id"]
    assert binance.fetch_balance()["USDT"]["used"] > 0
    binance.cancel_order(spot_order["id"], "SOL/USDT")
    assert binance.fetch_balance()["USDT"]["used"] == 0


def test_positions_with_leverage_margin_mode_and_liquidation_price(binance: ccxt.binance) -> None:
    binance.set_leverage(5, PERP)
    binance.set_margin_mode("isolated", PERP)
    with pytest.raises(ccxt.MarginModeAlreadySet):
        binance.set_margin_mode("isolated", PERP)
    amount = _amount(binance, PERP, 40)
    binance.create_order(PERP, "market", "buy", amount)
    position = binance.fetch_positions([PERP])[0]
    assert position["contracts"] == pytest.approx(amount) and position["side"] == "long"
    assert position["marginMode"] == "isolated"
    entry = position["entryPrice"]
    assert position["liquidationPrice"] == pytest.approx(entry * 0.8 / (1 - 0.01), rel=1e-3)
    v2 = binance.fetch_positions([PERP], {"useV2": True})[0]
    assert v2["leverage"] == 5
    assert binance.fetch_leverage(PERP)["longLeverage"] == 5
    with pytest.raises(ccxt.OperationRejected):
        binance.set_margin_mode("cross", PERP)
    binance.create_order(PERP, "market", "sell", amount, None, {"reduceOnly": True})
    binance.set_margin_mode("cross", PERP)


def test_funding_rates_intervals_and_paginated_history(binance: ccxt.binance) -> None:
    rates = binance.fetch_funding_rates()
    perps = [m for m in binance.markets.values() if m["swap"] and m["linear"]]
    assert len(rates) == len(perps)
    intervals = binance.fetch_funding_intervals()
    one_hour = next(symbol for symbol, value in intervals.items() if value["interval"] == "1h")
    rate = binance.fetch_funding_rate(one_hour)
    assert rate["fundingTimestamp"] - rate["timestamp"] <= 3_600_000
    since = rate["timestamp"] - 50 * 86_400_000
    cursor, times = since, []
    while True:  # Binance pagination: startTime + limit, oldest first
        page = binance.fetch_funding_rate_history(one_hour, cursor, 1000)
        times += [row["timestamp"] for row in page]
        if len(page) < 1000:
            break
        cursor = page[-1]["timestamp"] + 1
    assert len(times) >= 50 * 24 - 1 and times == sorted(set(times))
    assert all(b - a == 3_600_000 for a, b in itertools.pairwise(times))
    long_since = rate["timestamp"] - 400 * 86_400_000
    paginated = binance.fetch_funding_rate_history("BTC/USDT:USDT", long_since, None, {"paginate": True})
    eight_hourly = [row["timestamp"] for row in paginated]
    assert len(eight_hourly) >= 400 * 3 - 1 and eight_hourly == sorted(set(eight_hourly))
    page = binance.fetch_funding_rate_history("BTC/USDT:USDT", since, 10)
    assert len(page) == 10 and page[0]["timestamp"] >= since
    assert page[1]["timestamp"] - page[0]["timestamp"] == 8 * 3_600_000


def test_funding_settles_into_the_position_and_shows_in_income(binance: ccxt.binance, fresh_admin: Admin) -> None:
    symbol = "DOGE/USDT:USDT"
    amount = _amount(binance, symbol, 50)
    binance.create_order(symbol, "market", "sell", amount)
    fresh_admin.call("POST", "/funding", {"venue": "binance", "symbol": symbol, "rate": 0.002})
    upcoming = binance.fetch_funding_rate(symbol)
    assert upcoming["fundingRate"] == pytest.approx(0.002)
    fresh_admin.advance(upcoming["fundingTimestamp"] / 3_600_000 - upcoming["timestamp"] / 3_600_000 + 0.01)
    history = binance.fetch_funding_history(symbol)
    assert history[-1]["timestamp"] == upcoming["fundingTimestamp"]
    settled = binance.fetch_funding_rate_history(symbol, upcoming["fundingTimestamp"], 1)[0]
    assert history[-1]["amount"] == pytest.approx(amount * float(settled["info"]["markPrice"]) * 0.002, rel=1e-6)
    fresh_admin.call("DELETE", "/funding")
    binance.create_order(symbol, "market", "buy", amount, None, {"reduceOnly": True})


def test_tickers_books_and_fees(binance: ccxt.binance) -> None:
    tickers = binance.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"} and tickers["BTC/USDT"]["bid"] < tickers["BTC/USDT"]["ask"]
    swap_tickers = binance.fetch_tickers(None, {"type": "swap"})
    assert len(swap_tickers) >= 50
    book = binance.fetch_order_book("BTC/USDT:USDT")
    assert len(book["bids"]) == 500 and book["bids"][0][0] < book["asks"][0][0]
    assert binance.fetch_trading_fee("ETH/USDT:USDT")["taker"] == pytest.approx(0.0005)
    assert binance.fetch_trading_fee("ETH/USDT")["taker"] == pytest.approx(0.001)
