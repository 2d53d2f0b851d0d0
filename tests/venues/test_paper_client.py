"""Paper mode: real public data (here the simulated venues' public endpoints), fills computed locally against the
fetched book, virtual balances; the venue never receives an order."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal

import pytest

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.venues import CLIENTS
from arbx_pipelines.venues.errors import InsufficientBalance
from arbx_pipelines.venues.paper import PaperAccount, paper_client
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from tests.support.sim import sim_settings


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer(sim_settings()) as running:
        yield running


def _intent(symbol: str, market_type: MarketType, side: Side, amount: Decimal, price: Decimal, cid: str) -> OrderIntent:
    return OrderIntent(
        execution_id="paper-test", leg=market_type.value, client_order_id=cid, venue=Venue.BINANCE, symbol=symbol,
        market_type=market_type, side=side, amount=amount, base_amount=amount, limit_price=price,
    )  # fmt: skip


def test_paper_fills_walk_the_public_book_and_never_reach_the_venue(server: SimServer) -> None:
    async def run() -> None:
        client = paper_client(CLIENTS[Venue.BINANCE], PaperAccount(spot={"USDT": Decimal(1000)}))
        wire(client.exchange, server.base_url, api_key="", secret="", passphrase="")  # public endpoints only
        try:
            book = await client.order_book("ETH/USDT", 20)
            assert book.best_ask is not None
            amount = Decimal("0.1")
            limit = book.best_ask * Decimal("1.01")
            state = await client.create_order(_intent("ETH/USDT", MarketType.SPOT, Side.BUY, amount, limit, "p1"))
            assert state.filled == amount and state.status == "closed"
            assert state.average_price is not None and book.best_ask <= state.average_price <= limit
            balances = await client.balances(MarketType.SPOT)
            cost = state.average_price * amount
            assert balances["ETH"].total == amount
            assert balances["USDT"].total == Decimal(1000) - cost - state.fee
            again = await client.create_order(_intent("ETH/USDT", MarketType.SPOT, Side.BUY, amount, limit, "p1"))
            assert again == state  # the same client order id is the same order, never a second fill
            assert await client.order_by_client_id("ETH/USDT", "p1") == state
            too_big = _intent("ETH/USDT", MarketType.SPOT, Side.BUY, Decimal(100), limit * 2, "p2")
            with pytest.raises(InsufficientBalance):
                await client.create_order(too_big)
        finally:
            await client.close()

    asyncio.run(run())
    with urllib.request.urlopen(f"{server.base_url}/_admin/venues/binance/account", timeout=10) as response:
        account = json.loads(response.read())
    assert account["orders"] == 0 and not account["open_orders"], "paper orders must never reach the venue"
