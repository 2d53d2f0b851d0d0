"""Stock sync ccxt against the simulated Bitget for every private method arbx uses: separate spot and futures
wallets and the transfer between them, orders of each kind (market, limit, IOC, reduce-only, client order ids),
lookups, cancels, open orders, positions with leverage / margin mode / liquidation price, funding income, and
Bitget's error codes."""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import pytest
from sim_http_support import Admin, amount_for_usd, bitget_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "SOL/USDT:USDT"


@pytest.fixture(scope="module")
def bitget(fresh_sim_server: SimServer) -> ccxt.bitget:
    return bitget_client(fresh_sim_server.base_url)


@pytest.fixture
def fresh_admin(fresh_sim_server: SimServer) -> Iterator[Admin]:
    client = Admin(fresh_sim_server.base_url)
    yield client
    client.clear_faults()


def _amount(bitget: ccxt.bitget, symbol: str, usd: float) -> float:
    return amount_for_usd(bitget.market(symbol), bitget.fetch_order_book(symbol, 5)["asks"][0][0], usd)


def _below_minimum(bitget: ccxt.bitget) -> tuple[str, float]:
    """A perpetual and an amount worth less than Bitget's 5 USDT minimum (one lot of a cheap enough contract)."""
    for symbol, ticker in bitget.fetch_tickers(None, {"type": "swap"}).items():
        lot = bitget.market(symbol)["precision"]["amount"]
        if lot * ticker["ask"] < 4:
            return symbol, lot
    raise AssertionError("no contract with a lot below 4 USDT")


def _usdt(bitget: ccxt.bitget, account: str) -> tuple[float, float]:
    balance = bitget.fetch_balance({"type": account})["USDT"]
    return balance["free"], balance["total"]


def test_separate_wallets_and_transfer_moves_money(bitget: ccxt.bitget, fresh_admin: Admin) -> None:
    spot_free, spot_total = _usdt(bitget, "spot")
    swap_free, swap_total = _usdt(bitget, "swap")
    assert spot_free == spot_total == 250 and swap_free == swap_total == 250
    transfer = bitget.transfer("USDT", 20, "spot", "swap")
    assert transfer["id"] and transfer["timestamp"] > 0
    assert _usdt(bitget, "spot") == (230, 230) and _usdt(bitget, "swap") == (270, 270)
    wallets = fresh_admin.account("bitget")["wallets"]
    assert float(wallets["spot"]["USDT"]["free"]) == 230 and float(wallets["futures"]["USDT"]["free"]) == 270
    bitget.transfer("USDT", 20, "swap", "spot")
    assert _usdt(bitget, "spot") == (250, 250) and _usdt(bitget, "swap") == (250, 250)
    with pytest.raises(ccxt.ExchangeError, match="43117"):
        bitget.transfer("USDT", 1000, "spot", "swap")
    assert _usdt(bitget, "spot") == (250, 250)


def test_spot_market_and_ioc_orders_fill_and_are_found_by_id_and_client_id(bitget: ccxt.bitget) -> None:
    ask = bitget.fetch_order_book("ETH/USDT", 5)["asks"][0][0]
    amount = _amount(bitget, "ETH/USDT", 30)
    placed = bitget.create_order("ETH/USDT", "market", "buy", amount, ask, {"clientOrderId": "arbx-s1"})
    assert placed["clientOrderId"] == "arbx-s1" and placed["status"] is None  # Bitget answers with ids only
    bought = bitget.fetch_order(placed["id"], "ETH/USDT")
    assert bought["status"] == "closed" and bought["side"] == "buy" and bought["type"] == "market"
    assert bought["filled"] == pytest.approx(amount, rel=0.02) and bought["cost"] == pytest.approx(30, rel=0.02)
    assert bought["fee"]["currency"] == "ETH" and bought["fee"]["cost"] > 0
    assert bitget.fetch_order(None, "ETH/USDT", {"clientOrderId": "arbx-s1"})["id"] == placed["id"]
    held = bitget.fetch_balance()["ETH"]["free"]
    assert held == pytest.approx(bought["filled"] - bought["fee"]["cost"])
    far = float(bitget.price_to_precision("ETH/USDT", ask * 0.9))
    missed = bitget.create_order("ETH/USDT", "limit", "buy", 0.01, far, {"timeInForce": "IOC"})
    missed = bitget.fetch_order(missed["id"], "ETH/USDT")
    assert missed["status"] == "canceled" and missed["filled"] == 0
    sell = float(bitget.amount_to_precision("ETH/USDT", held))
    sold = bitget.create_order("ETH/USDT", "limit", "sell", sell, far, {"timeInForce": "IOC", "clientOrderId": "s2"})
    sold = bitget.fetch_order(None, "ETH/USDT", {"clientOrderId": "s2"})
    assert sold["status"] == "closed" and sold["filled"] == pytest.approx(sell) and sold["fee"]["currency"] == "USDT"


def test_perp_orders_positions_leverage_and_margin_mode(bitget: ccxt.bitget) -> None:
    bitget.set_leverage(5, PERP)
    bitget.set_margin_mode("isolated", PERP)
    bitget.set_margin_mode("isolated", PERP)  # asking for the current mode is fine
    amount = _amount(bitget, PERP, 60)
    placed = bitget.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "arbx-p1"})
    short = bitget.fetch_order(None, PERP, {"clientOrderId": "arbx-p1"})
    assert short["id"] == placed["id"] and short["status"] == "closed" and short["reduceOnly"] is False
    assert short["filled"] == pytest.approx(amount) and short["average"] > 0 and short["fee"]["cost"] > 0
    position = bitget.fetch_positions([PERP])[0]
    assert position["side"] == "short" and position["contracts"] == pytest.approx(amount)
    assert position["leverage"] == 5 and position["marginMode"] == "isolated" and position["hedged"] is False
    assert position["entryPrice"] == pytest.approx(short["average"], rel=1e-6)
    margin = position["initialMargin"]
    assert margin == pytest.approx(amount * position["entryPrice"] / 5, rel=1e-6)
    expected_liquidation = (margin + amount * position["entryPrice"]) / (amount * (1 + 0.01))
    assert position["liquidationPrice"] == pytest.approx(expected_liquidation, rel=1e-4)
    assert bitget.fetch_position(PERP)["contracts"] == pytest.approx(amount)
    with pytest.raises(ccxt.ExchangeError, match="45117"):
        bitget.set_margin_mode("cross", PERP)
    closing = bitget.create_order(PERP, "market", "buy", amount * 3, None, {"reduceOnly": True})
    closed = bitget.fetch_order(closing["id"], PERP)
    assert closed["filled"] == pytest.approx(amount) and closed["reduceOnly"] is True and closed["side"] == "buy"
    assert bitget.fetch_positions() == [] and bitget.fetch_position(PERP)["contracts"] is None
    bitget.set_margin_mode("cross", PERP)
    assert bitget.fetch_leverage(PERP)["marginMode"] == "cross"


def test_limit_orders_rest_list_and_cancel(bitget: ccxt.bitget) -> None:
    bid = bitget.fetch_order_book(PERP, 5)["bids"][0][0]
    price = float(bitget.price_to_precision(PERP, bid * 0.9))
    amount = _amount(bitget, PERP, 25)
    order = bitget.create_order(PERP, "limit", "buy", amount, price, {"clientOrderId": "arbx-rest-1"})
    listed = bitget.fetch_open_orders(PERP)
    assert [o["id"] for o in listed] == [order["id"]] and listed[0]["status"] == "open" and listed[0]["price"] == price
    canceled = bitget.cancel_order(None, PERP, {"clientOrderId": "arbx-rest-1"})
    assert canceled["id"] == order["id"]
    assert bitget.fetch_order(order["id"], PERP)["status"] == "canceled" and bitget.fetch_open_orders(PERP) == []
    with pytest.raises(ccxt.OrderNotFound):
        bitget.cancel_order(order["id"], PERP)
    spot_price = float(bitget.price_to_precision("SOL/USDT", bid * 0.9))
    spot_order = bitget.create_order("SOL/USDT", "limit", "buy", _amount(bitget, "SOL/USDT", 20), spot_price)
    open_spot = bitget.fetch_open_orders("SOL/USDT")
    assert [o["id"] for o in open_spot] == [spot_order["id"]] and open_spot[0]["price"] == spot_price
    assert bitget.fetch_balance()["USDT"]["used"] > 0
    bitget.cancel_order(spot_order["id"], "SOL/USDT")
    assert bitget.fetch_balance()["USDT"]["used"] == 0 and bitget.fetch_open_orders("SOL/USDT") == []


def test_bitget_error_codes_reach_ccxt_as_their_classes(bitget: ccxt.bitget) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="43012"):
        bitget.create_order("SOL/USDT", "market", "sell", 1000)
    with pytest.raises(ccxt.InsufficientFunds, match="40762"):
        bitget.create_order(PERP, "market", "buy", _amount(bitget, PERP, 100_000))
    tiny_symbol, tiny_amount = _below_minimum(bitget)
    with pytest.raises(ccxt.InvalidOrder, match="45110"):
        bitget.create_order(tiny_symbol, "market", "buy", tiny_amount)
    with pytest.raises(ccxt.ExchangeError, match="43027"):
        bitget.create_order("DOGE/USDT", "market", "sell", 1)  # DOGE is worth well below the 1 USDT minimum
    with pytest.raises(ccxt.OrderNotFound, match="40109"):
        bitget.fetch_order("1100000000000000001", PERP)
    with pytest.raises(ccxt.OrderNotFound, match="43001"):
        bitget.fetch_order(None, "SOL/USDT", {"clientOrderId": "never-sent"})
    with pytest.raises(ccxt.ExchangeError, match="22002"):
        bitget.create_order(PERP, "market", "buy", _amount(bitget, PERP, 20), None, {"reduceOnly": True})
    bid = bitget.fetch_order_book(PERP, 5)["bids"][0][0]
    price = float(bitget.price_to_precision(PERP, bid * 0.9))
    bitget.create_order(PERP, "limit", "buy", _amount(bitget, PERP, 20), price, {"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.ExchangeError, match="45034"):
        bitget.create_order(PERP, "limit", "buy", _amount(bitget, PERP, 20), price, {"clientOrderId": "dup-1"})
    bitget.cancel_order(None, PERP, {"clientOrderId": "dup-1"})


def test_funding_settles_into_the_futures_wallet_and_shows_in_funding_history(
    bitget: ccxt.bitget, fresh_admin: Admin
) -> None:
    symbol = "DOGE/USDT:USDT"
    amount = _amount(bitget, symbol, 50)
    bitget.create_order(symbol, "market", "sell", amount)
    fresh_admin.call("POST", "/funding", {"venue": "bitget", "symbol": symbol, "rate": 0.002})
    upcoming = bitget.fetch_funding_rate(symbol)
    assert upcoming["fundingRate"] == pytest.approx(0.002)
    wallet_before = _usdt(bitget, "swap")[1] - bitget.fetch_position(symbol)["unrealizedPnl"]
    now = bitget.fetch_time()
    fresh_admin.advance((upcoming["fundingTimestamp"] - now) / 3_600_000 + 0.01)
    history = bitget.fetch_funding_history(symbol)
    assert history[-1]["timestamp"] == upcoming["fundingTimestamp"] and history[-1]["code"] == "USDT"
    settled = bitget.fetch_funding_rate_history(symbol, upcoming["fundingTimestamp"], 1)
    assert settled[-1]["timestamp"] == upcoming["fundingTimestamp"] and settled[-1]["fundingRate"] == 0.002
    received = history[-1]["amount"]
    assert received == pytest.approx(amount * bitget.fetch_position(symbol)["markPrice"] * 0.002, rel=0.05)
    wallet_after = _usdt(bitget, "swap")[1] - bitget.fetch_position(symbol)["unrealizedPnl"]
    assert wallet_after - wallet_before == pytest.approx(received, rel=1e-3)
    fresh_admin.call("DELETE", "/funding")
    bitget.create_order(symbol, "market", "buy", amount, None, {"reduceOnly": True})
    bills = bitget.privateMixGetV2MixAccountBill({"productType": "USDT-FUTURES", "symbol": "DOGEUSDT"})["data"]
    kinds = [bill["businessType"] for bill in bills["bills"]]
    assert kinds[:3] == ["close_short", "contract_settle_fee", "open_short"] and bills["endId"]


def test_finished_orders_and_fills_read_back(bitget: ccxt.bitget) -> None:
    symbol = "ADA/USDT:USDT"
    amount = _amount(bitget, symbol, 30)
    opened = bitget.create_order(symbol, "market", "buy", amount, None, {"clientOrderId": "hist-open"})
    closed = bitget.create_order(symbol, "market", "sell", amount, None, {"reduceOnly": True})
    trades = bitget.fetch_my_trades(symbol)
    assert [t["order"] for t in trades] == [opened["id"], closed["id"]]
    assert trades[0]["side"] == "buy" and trades[0]["amount"] == pytest.approx(amount)
    assert trades[0]["fee"]["currency"] == "USDT" and trades[0]["fee"]["cost"] > 0
    assert trades[1]["info"]["tradeSide"] == "reduce_sell_single"
    history = bitget.fetch_closed_orders(symbol)
    assert {o["id"] for o in history} == {opened["id"], closed["id"]}
    assert all(o["status"] == "closed" and o["filled"] == pytest.approx(amount) for o in history)
    assert bitget.fetch_my_trades(symbol, None, 1)[0]["order"] == closed["id"]  # the newest page first
    spot_amount = _amount(bitget, "ADA/USDT", 10)
    ask = bitget.fetch_order_book("ADA/USDT", 5)["asks"][0][0]
    spot = bitget.create_order("ADA/USDT", "market", "buy", spot_amount, ask)
    spot_trades = bitget.fetch_my_trades("ADA/USDT")
    assert spot_trades[-1]["order"] == spot["id"] and spot_trades[-1]["fee"]["currency"] == "ADA"
    assert bitget.fetch_closed_orders("ADA/USDT")[-1]["id"] == spot["id"]


def test_one_client_order_id_on_spot_and_futures_names_two_orders(bitget: ccxt.bitget) -> None:
    ask = bitget.fetch_order_book("XRP/USDT", 5)["asks"][0][0]
    spot_order = bitget.create_order("XRP/USDT", "market", "buy", _amount(bitget, "XRP/USDT", 10), ask,
                                     {"clientOrderId": "both-legs"})  # fmt: skip
    perp_order = bitget.create_order("XRP/USDT:USDT", "market", "sell", _amount(bitget, "XRP/USDT:USDT", 10), None,
                                     {"clientOrderId": "both-legs"})  # fmt: skip
    assert bitget.fetch_order(None, "XRP/USDT", {"clientOrderId": "both-legs"})["id"] == spot_order["id"]
    assert bitget.fetch_order(None, "XRP/USDT:USDT", {"clientOrderId": "both-legs"})["id"] == perp_order["id"]
    bitget.create_order("XRP/USDT:USDT", "market", "buy", bitget.fetch_position("XRP/USDT:USDT")["contracts"], None,
                        {"reduceOnly": True})  # fmt: skip
