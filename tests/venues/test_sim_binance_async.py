"""Stock async ccxt (``ccxt.async_support``) against the simulated Binance: the same methods, concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sim_http_support import binance_async_client

from arbx_pipelines.venues.sim.server import SimServer

PERP = "LINK/USDT:USDT"


async def _flow(base_url: str) -> dict[str, Any]:
    binance = binance_async_client(base_url)
    try:
        await binance.load_markets()
        rates, intervals, balance, swap_balance = await asyncio.gather(
            binance.fetch_funding_rates(), binance.fetch_funding_intervals(), binance.fetch_balance(),
            binance.fetch_balance({"type": "swap"}),
        )  # fmt: skip
        book, ticker = await asyncio.gather(binance.fetch_order_book(PERP, 5), binance.fetch_ticker("LINK/USDT"))
        amount = float(binance.amount_to_precision(PERP, 40 / book["asks"][0][0]))
        await binance.set_leverage(4, PERP)
        await binance.transfer("USDT", 10, "spot", "swap")
        legs = await asyncio.gather(
            binance.create_order(PERP, "market", "sell", amount, None, {"clientOrderId": "async-leg-perp"}),
            binance.create_order("LINK/USDT", "market", "buy", amount, None, {"clientOrderId": "async-leg-spot"}),
        )
        found = await binance.fetch_order(None, PERP, {"clientOrderId": "async-leg-perp"})
        price = float(binance.price_to_precision(PERP, book["bids"][0][0] * 0.9))
        resting = await binance.create_order(PERP, "limit", "sell", amount, price * 1.3)
        open_orders = await binance.fetch_open_orders(PERP)
        canceled = await binance.cancel_order(resting["id"], PERP)
        positions = await binance.fetch_positions([PERP])
        history = await binance.fetch_funding_rate_history(PERP, None, 5)
        income = await binance.fetch_funding_history(PERP)
        return {"rates": rates, "intervals": intervals, "balance": balance, "swap_balance": swap_balance,
                "ticker": ticker, "legs": legs, "found": found, "open": open_orders, "canceled": canceled,
                "positions": positions, "history": history, "income": income, "amount": amount}  # fmt: skip
    finally:
        await binance.close()


def test_async_client_runs_every_method_arbx_uses(fresh_sim_server: SimServer) -> None:
    result = asyncio.run(_flow(fresh_sim_server.base_url))
    assert len(result["rates"]) >= 50 and len(result["intervals"]) > 0
    assert result["balance"]["USDT"]["total"] > 0 and result["swap_balance"]["USDT"]["total"] > 0
    assert result["ticker"]["last"] > 0
    perp_leg, spot_leg = result["legs"]
    assert perp_leg["status"] == spot_leg["status"] == "closed"
    assert result["found"]["id"] == perp_leg["id"]
    assert [o["id"] for o in result["open"]] and result["canceled"]["status"] == "canceled"
    position = result["positions"][0]
    assert position["side"] == "short" and position["contracts"] == pytest.approx(result["amount"])
    assert position["liquidationPrice"] > position["entryPrice"]
    assert len(result["history"]) == 5 and all(row["fundingRate"] is not None for row in result["history"])
    assert isinstance(result["income"], list)
