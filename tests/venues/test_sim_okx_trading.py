"""Stock ccxt (sync and async) trades on the simulated OKX: one unified account, swaps in contracts, OKX errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from okx_http_support import okx_async_client, okx_client
from sim_http_support import Admin

from arbx_pipelines.venues.sim.server import SimServer

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


@pytest.fixture(scope="module")
def okx(fresh_sim_server: SimServer) -> ccxt.okx:
    exchange = okx_client(fresh_sim_server)  # the simulator limits; keep the tests quick
    exchange.load_markets()
    return exchange


@pytest.fixture(scope="module")
def fresh_admin(fresh_sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(fresh_sim_server.base_url)
    yield client
    client.clear_faults()


def _engine_qty(admin: Admin, symbol: str) -> Decimal:
    positions = {p["symbol"]: Decimal(str(p["qty"])) for p in admin.account("okx")["positions"]}
    return positions.get(symbol, Decimal(0))


def _flat(okx: ccxt.okx, symbol: str) -> None:
    for position in okx.fetch_positions([symbol]):
        side = "buy" if position["side"] == "short" else "sell"
        okx.create_order(symbol, "market", side, position["contracts"], None, {"reduceOnly": True})


def test_balance_is_one_trading_account_and_a_funding_account(okx: ccxt.okx) -> None:
    balance = okx.fetch_balance()
    assert balance["USDT"]["total"] == 500 and balance["USDT"]["free"] == 500
    assert okx.fetch_balance({"type": "funding"})["total"] == {}
    demo = okx_client_with_demo_header(okx)
    assert demo.fetch_balance()["USDT"]["total"] == 500


def okx_client_with_demo_header(okx: ccxt.okx) -> ccxt.okx:
    """A second client sending OKX's demo-trading header (``x-simulated-trading: 1``)."""
    demo = ccxt.okx({"apiKey": okx.apiKey, "secret": okx.secret, "password": okx.password, "enableRateLimit": False})
    demo.urls["api"] = okx.urls["api"]
    demo.headers = {"x-simulated-trading": "1"}
    return demo


def test_swap_order_of_n_contracts_moves_n_times_ctval_coins(okx: ccxt.okx, fresh_admin: Admin) -> None:
    placed = okx.create_order(BTC, "market", "sell", 2, None, {"clientOrderId": "arbxShort1"})
    assert placed["id"] and placed["clientOrderId"] == "arbxShort1"
    order = okx.fetch_order(None, BTC, {"clientOrderId": "arbxShort1"})
    assert order["id"] == placed["id"] and order["status"] == "closed"
    assert (order["amount"], order["filled"], order["side"], order["type"]) == (2, 2, "sell", "market")
    assert order["fee"]["currency"] == "USDT" and order["fee"]["cost"] > 0
    assert order["info"]["tdMode"] == "cross"
    assert okx.fetch_order(placed["id"], BTC)["clientOrderId"] == "arbxShort1"
    assert _engine_qty(fresh_admin, BTC) == Decimal("-0.02")  # 2 contracts x ctVal 0.01 BTC
    (position,) = okx.fetch_positions([BTC, ETH])  # instId=BTC-USDT-SWAP%2CETH-USDT-SWAP, signed as sent
    assert (position["contracts"], position["contractSize"], position["side"]) == (2, 0.01, "short")
    assert position["entryPrice"] == pytest.approx(order["average"])
    assert position["marginMode"] == "cross" and position["leverage"] == 20
    assert position["liquidationPrice"] > position["entryPrice"] > 0
    assert position["info"]["pos"] == "-2" and position["markPrice"] > 0
    assert position["notional"] == pytest.approx(0.02 * position["markPrice"])
    # reduce-only closes at most the position
    okx.create_order(BTC, "market", "buy", 5, None, {"reduceOnly": True, "clientOrderId": "arbxClose1"})
    closing = okx.fetch_order(None, BTC, {"clientOrderId": "arbxClose1"})
    assert closing["filled"] == 2 and closing["reduceOnly"] is True
    assert okx.fetch_positions([BTC]) == [] and _engine_qty(fresh_admin, BTC) == 0


def test_spot_orders_trade_coins_in_cash_mode(okx: ccxt.okx) -> None:
    before = okx.fetch_balance()
    okx.create_order("BTC/USDT", "market", "buy", 0.001, None, {"clientOrderId": "arbxSpot1"})
    order = okx.fetch_order(None, "BTC/USDT", {"clientOrderId": "arbxSpot1"})
    assert order["status"] == "closed" and order["filled"] == 0.001
    assert order["info"]["tdMode"] == "cash" and order["fee"]["currency"] == "BTC"
    after = okx.fetch_balance()
    assert after["BTC"]["total"] == pytest.approx(0.001 - order["fee"]["cost"])
    assert after["USDT"]["total"] == pytest.approx(before["USDT"]["total"] - order["cost"], abs=1e-6)
    okx.create_order("BTC/USDT", "market", "sell", 0.0009, None, {"clientOrderId": "arbxSpot2"})
    assert okx.fetch_order(None, "BTC/USDT", {"clientOrderId": "arbxSpot2"})["status"] == "closed"
    assert okx.fetch_balance()["BTC"]["total"] == pytest.approx(0.001 - order["fee"]["cost"] - 0.0009)


def test_limit_order_rests_is_listed_and_cancels(okx: ccxt.okx) -> None:
    price = okx.fetch_ticker(ETH)["bid"] * 0.5
    okx.create_order(ETH, "limit", "buy", 1, price, {"clientOrderId": "arbxRest1"})
    listed = okx.fetch_open_orders(ETH)
    assert [o["clientOrderId"] for o in listed] == ["arbxRest1"]
    assert listed[0]["status"] == "open" and listed[0]["price"] == pytest.approx(price, rel=1e-3)
    assert okx.fetch_balance()["USDT"]["free"] < okx.fetch_balance()["USDT"]["total"]  # order margin held
    canceled = okx.cancel_order(None, ETH, {"clientOrderId": "arbxRest1"})
    assert canceled["id"] == listed[0]["id"]
    assert okx.fetch_order(None, ETH, {"clientOrderId": "arbxRest1"})["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        okx.cancel_order(None, ETH, {"clientOrderId": "arbxRest1"})
    assert okx.fetch_open_orders(ETH) == []


def test_ioc_limit_orders_fill_what_they_can_and_cancel_the_rest(okx: ccxt.okx) -> None:
    ask = okx.fetch_ticker("ETH/USDT")["ask"]
    okx.create_order("ETH/USDT", "limit", "buy", 0.01, ask * 0.9, {"timeInForce": "IOC", "clientOrderId": "arbxIoc1"})
    missed = okx.fetch_order(None, "ETH/USDT", {"clientOrderId": "arbxIoc1"})
    assert (missed["status"], missed["filled"], missed["timeInForce"]) == ("canceled", 0, "IOC")
    assert missed["info"]["ordType"] == "ioc"
    ask = okx.fetch_order_book(ETH, 5)["asks"][0][0]
    okx.create_order(ETH, "limit", "buy", 1, ask * 1.01, {"timeInForce": "IOC", "clientOrderId": "arbxIoc2"})
    hit = okx.fetch_order(None, ETH, {"clientOrderId": "arbxIoc2"})
    assert (hit["status"], hit["filled"]) == ("closed", 1)
    _flat(okx, ETH)


def test_leverage_and_margin_mode_are_set_per_instrument(okx: ccxt.okx) -> None:
    symbol = "SOL/USDT:USDT"
    okx.set_leverage(7, symbol)
    leverage = okx.fetch_leverage(symbol)
    assert (leverage["marginMode"], leverage["longLeverage"]) == ("cross", 7)
    answer = okx.set_margin_mode("isolated", symbol, {"lever": 4})
    assert answer["data"][0]["mgnMode"] == "isolated"
    okx.create_order(symbol, "market", "buy", 1, None, {"marginMode": "isolated"})
    (position,) = okx.fetch_positions([symbol])
    assert (position["marginMode"], position["leverage"], position["side"]) == ("isolated", 4, "long")
    assert 0 < position["liquidationPrice"] < position["entryPrice"]
    assert position["collateral"] == pytest.approx(position["entryPrice"] * position["contractSize"] / 4, rel=0.01)
    with pytest.raises(ccxt.BadRequest):  # one position per instrument here: no cross order beside it
        okx.create_order(symbol, "market", "buy", 1)
    with pytest.raises(ccxt.ExchangeError, match="59102"):  # above the instrument's maximum leverage
        okx.set_leverage(120, symbol)
    okx.create_order(symbol, "market", "sell", 1, None, {"marginMode": "isolated", "reduceOnly": True})
    assert okx.fetch_positions([symbol]) == []


def test_my_trades_are_the_fills_in_contracts(okx: ccxt.okx) -> None:
    okx.create_order(ETH, "market", "buy", 3, None, {"clientOrderId": "arbxFills1"})
    order = okx.fetch_order(None, ETH, {"clientOrderId": "arbxFills1"})
    trades = [t for t in okx.fetch_my_trades(ETH) if t["order"] == order["id"]]
    assert sum(t["amount"] for t in trades) == 3 and {t["takerOrMaker"] for t in trades} == {"taker"}
    assert sum(t["fee"]["cost"] for t in trades) == pytest.approx(order["fee"]["cost"])
    assert okx.fetch_my_trades("BTC/USDT")[0]["symbol"] == "BTC/USDT"  # spot fills via instType=SPOT
    _flat(okx, ETH)


def test_order_errors_are_okx_codes(okx: ccxt.okx) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        okx.create_order(BTC, "market", "buy", 5000)
    with pytest.raises(ccxt.InvalidOrder, match="51020"):
        okx.create_order("BTC/USDT", "market", "buy", 0.000001)
    with pytest.raises(ccxt.InvalidOrder, match="51121"):  # ccxt rounds amounts to the lot; send 0.015 raw
        okx.privatePostTradeOrder({"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market",
                                   "sz": "0.015"})  # fmt: skip
    with pytest.raises(ccxt.InvalidOrder, match="51205"):
        okx.create_order(ETH, "market", "sell", 1, None, {"reduceOnly": True})
    with pytest.raises(ccxt.BadRequest, match="51000"):
        okx.create_order(ETH, "market", "buy", 1, None, {"clientOrderId": "not-alnum"})
    with pytest.raises(ccxt.BadRequest, match="attachAlgoOrds"):  # attached stop-loss: not simulated, refused
        okx.create_order(ETH, "market", "buy", 1, None, {"stopLoss": {"triggerPrice": 1000}})
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        okx.fetch_order("12345", BTC)
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        okx.fetch_order(None, BTC, {"clientOrderId": "neverSent"})


def test_funding_fees_come_back_as_type_8_bills(okx: ccxt.okx, fresh_admin: Admin) -> None:
    hourly = next(s for s, r in okx.fetch_funding_rates().items() if r["interval"] == "1h")
    market = okx.market(hourly)
    okx.create_order(hourly, "market", "sell", market["limits"]["amount"]["min"] * 100)
    (position,) = okx.fetch_positions([hourly])
    start = okx.milliseconds()
    fresh_admin.advance(2.5)
    payments = okx.fetch_funding_history(hourly, start)
    assert len(payments) >= 2 and all(p["info"]["type"] == "8" for p in payments)
    rates = {r["timestamp"]: r["fundingRate"] for r in okx.fetch_funding_rate_history(hourly, start)}
    coins = position["contracts"] * position["contractSize"]
    for payment in payments:
        rate = rates[payment["timestamp"]]
        assert payment["code"] == "USDT" and payment["symbol"] == hourly
        assert payment["amount"] == pytest.approx(coins * position["entryPrice"] * rate, rel=0.05)  # short receives
    (after,) = okx.fetch_positions([hourly])
    assert float(after["info"]["fundingFee"]) == pytest.approx(sum(p["amount"] for p in payments))
    _flat(okx, hourly)


def test_transfers_move_coins_between_funding_and_trading_only(okx: ccxt.okx) -> None:
    total = okx.fetch_balance()["USDT"]["total"]
    transfer = okx.transfer("USDT", 10, "trading", "funding")
    assert (transfer["fromAccount"], transfer["toAccount"], transfer["amount"]) == ("trading", "funding", 10)
    assert okx.fetch_balance({"type": "funding"})["USDT"]["total"] == 10
    assert okx.fetch_balance()["USDT"]["total"] == pytest.approx(total - 10)
    okx.transfer("USDT", 10, "funding", "trading")
    with pytest.raises(ccxt.BadRequest):  # spot and swap are one account on OKX
        okx.transfer("USDT", 10, "spot", "swap")
    with pytest.raises(ccxt.InsufficientFunds):
        okx.transfer("USDT", 10, "funding", "trading")


def test_async_client_places_lists_cancels_and_reads_positions(fresh_sim_server: SimServer, fresh_admin: Admin) -> None:
    async def run() -> dict[str, Any]:
        exchange = okx_async_client(fresh_sim_server)
        try:
            await exchange.load_markets()
            out: dict[str, Any] = {}
            await exchange.create_order(ETH, "market", "buy", 2, None, {"clientOrderId": "asyncLong1"})
            out["filled"] = await exchange.fetch_order(None, ETH, {"clientOrderId": "asyncLong1"})
            ticker = await exchange.fetch_ticker("ETH/USDT")
            bid = ticker["bid"] / 2
            await exchange.create_order("ETH/USDT", "limit", "buy", 0.01, bid, {"clientOrderId": "asyncRest1"})
            out["open"] = await exchange.fetch_open_orders("ETH/USDT")
            out["canceled"] = await exchange.cancel_order(None, "ETH/USDT", {"clientOrderId": "asyncRest1"})
            out["positions"] = await exchange.fetch_positions([ETH])
            out["balance"] = await exchange.fetch_balance()
            await exchange.set_leverage(3, ETH)
            out["leverage"] = await exchange.fetch_leverage(ETH)
            since = exchange.milliseconds()
            fresh_admin.advance(8.01)  # at least one 8h settlement of the long position
            out["funding"] = await exchange.fetch_funding_history(ETH, since)
            await exchange.create_order(ETH, "market", "sell", 2, None, {"reduceOnly": True})
            out["after"] = await exchange.fetch_positions([ETH])
            out["margin_mode"] = await exchange.set_margin_mode("isolated", ETH, {"lever": 2})
            out["isolated"] = await exchange.fetch_leverage(ETH, {"marginMode": "isolated"})
        finally:
            await exchange.close()
        return out

    out = asyncio.run(run())
    assert out["filled"]["status"] == "closed" and out["filled"]["filled"] == 2
    assert [o["clientOrderId"] for o in out["open"]] == ["asyncRest1"]
    assert out["canceled"]["clientOrderId"] == "asyncRest1"
    assert out["positions"][0]["contracts"] == 2 and out["positions"][0]["side"] == "long"
    assert out["balance"]["USDT"]["free"] < out["balance"]["USDT"]["total"]
    assert out["leverage"]["longLeverage"] == 3 and out["after"] == []
    assert len(out["funding"]) >= 1 and all(p["symbol"] == ETH for p in out["funding"])
    assert out["margin_mode"]["data"][0]["mgnMode"] == "isolated" and out["isolated"]["longLeverage"] == 2
