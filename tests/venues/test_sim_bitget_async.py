"""Stock ``ccxt.async_support.bitget`` against the simulator: every method arbx uses, in one account's life —
balances, transfer, spot and perpetual orders, lookups, cancels, positions, leverage, margin mode, funding."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from sim_http_support import Admin, amount_for_usd, bitget_async_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "XRP/USDT:USDT"
SPOT = "XRP/USDT"


async def _amount(exchange: ccxt_async.bitget, symbol: str, usd: float) -> float:
    book = await exchange.fetch_order_book(symbol, 5)
    return amount_for_usd(exchange.market(symbol), book["asks"][0][0], usd)


async def _trade_and_inspect(exchange: ccxt_async.bitget, admin: Admin) -> dict[str, Any]:
    seen: dict[str, Any] = {"markets": await exchange.load_markets()}
    seen["spot_before"] = (await exchange.fetch_balance())["USDT"]["free"]
    await exchange.transfer("USDT", 50, "spot", "swap")
    seen["spot_after"], seen["swap_after"] = await asyncio.gather(exchange.fetch_balance(),
                                                                  exchange.fetch_balance({"type": "swap"}))  # fmt: skip
    ask = (await exchange.fetch_ticker(SPOT))["ask"]
    spot = await exchange.create_order(SPOT, "market", "buy", await _amount(exchange, SPOT, 20), ask)
    seen["spot_order"] = await exchange.fetch_order(spot["id"], SPOT)
    await exchange.set_leverage(10, PERP)
    await exchange.set_margin_mode("cross", PERP)
    amount = await _amount(exchange, PERP, 40)
    await exchange.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "async-short"})
    seen["short"] = await exchange.fetch_order(None, PERP, {"clientOrderId": "async-short"})
    seen["positions"], seen["position"] = await asyncio.gather(exchange.fetch_positions(),
                                                               exchange.fetch_position(PERP))  # fmt: skip
    bid = (await exchange.fetch_order_book(PERP, 5))["bids"][0][0]
    price = float(exchange.price_to_precision(PERP, bid * 0.95))
    resting = await exchange.create_order(PERP, "limit", "buy", amount, price, {"clientOrderId": "async-rest"})
    seen["open"] = await exchange.fetch_open_orders(PERP)
    await exchange.cancel_order(resting["id"], PERP)
    seen["canceled"] = await exchange.fetch_order(resting["id"], PERP)
    ioc = await exchange.create_order(PERP, "limit", "buy", amount, price, {"timeInForce": "IOC"})
    seen["ioc"] = await exchange.fetch_order(ioc["id"], PERP)
    admin.call("POST", "/funding", {"venue": "bitget", "symbol": PERP, "rate": -0.001})
    upcoming = await exchange.fetch_funding_rate(PERP)
    admin.advance((upcoming["fundingTimestamp"] - await exchange.fetch_time()) / 3_600_000 + 0.01)
    admin.call("DELETE", "/funding")
    seen["upcoming"] = upcoming
    seen["income"] = await exchange.fetch_funding_history(PERP)
    seen["history"] = await exchange.fetch_funding_rate_history(PERP, None, 5)
    close = await exchange.create_order(PERP, "market", "buy", amount, None, {"reduceOnly": True})
    seen["close"] = await exchange.fetch_order(close["id"], PERP)
    seen["positions_after"] = await exchange.fetch_positions()
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("1100000000000000002", PERP)
    return seen


def test_async_client_runs_every_method_arbx_uses(fresh_sim_server: SimServer) -> None:
    admin = Admin(fresh_sim_server.base_url)

    async def run() -> dict[str, Any]:
        exchange = bitget_async_client(fresh_sim_server.base_url)
        try:
            return await _trade_and_inspect(exchange, admin)
        finally:
            await exchange.close()

    seen = asyncio.run(run())
    assert not [row for row in admin.call("GET", "/unknown") if row["venue"] == "bitget"]  # every call had a route
    assert len(seen["markets"]) >= 100
    assert seen["spot_after"]["USDT"]["total"] == seen["spot_before"] - 50
    assert seen["swap_after"]["USDT"]["total"] == 300
    assert seen["spot_order"]["status"] == "closed" and seen["spot_order"]["filled"] > 0
    short = seen["short"]
    assert short["side"] == "sell" and short["status"] == "closed" and short["clientOrderId"] == "async-short"
    position = seen["positions"][0]
    assert position["symbol"] == PERP and position["side"] == "short" and position["leverage"] == 10
    assert position["marginMode"] == "cross" and position["liquidationPrice"] > position["entryPrice"]
    assert seen["position"]["contracts"] == position["contracts"] and seen["position"]["markPrice"] > 0
    assert [o["clientOrderId"] for o in seen["open"]] == ["async-rest"]
    assert seen["canceled"]["status"] == "canceled"
    assert seen["ioc"]["status"] == "canceled" and seen["ioc"]["filled"] == 0
    assert seen["income"][-1]["timestamp"] == seen["upcoming"]["fundingTimestamp"]
    assert seen["income"][-1]["amount"] < 0  # a short pays when the rate is negative
    assert seen["history"][-1]["fundingRate"] == pytest.approx(-0.001)
    assert seen["close"]["filled"] == short["filled"] and seen["positions_after"] == []
