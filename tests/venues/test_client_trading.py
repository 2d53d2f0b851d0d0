"""arbx's VenueClient (ccxt async, Decimal at the boundary) trading on the simulated venues: orders by client order
id, trades with their fees, positions, transfers, funding income, and the arbx error each fault kind becomes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent, client_order_id, limit_price
from arbx_pipelines.core.venue_data import ACKNOWLEDGED
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import InsufficientBalance, OrderRejected, OutcomeUnknown, RateLimited
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import FAULT_CLIENT_TIMEOUT_MS, FAULT_HANG_MS, Admin, start_sim, venue_client

SPOT, PERP = "DOGE/USDT", "DOGE/USDT:USDT"


@pytest.fixture
def server() -> Iterator[SimServer]:
    server = start_sim()
    yield server
    server.stop()


async def _intent(client: VenueClient, name: str, symbol: str, side: Side, amount: Decimal) -> OrderIntent:
    """An IOC order of ``amount`` coins (converted to contracts where the market trades in them)."""
    info = await client.market(symbol)
    book = await client.order_book(symbol, 5)
    reference = book.best_ask if side is Side.BUY else book.best_bid
    assert reference is not None
    return OrderIntent(
        execution_id=name,
        leg="leg",
        client_order_id=client_order_id(name, "leg"),
        venue=client.venue,
        symbol=symbol,
        market_type=info.market_type,
        side=side,
        amount=amount / info.rules.contract_size,
        base_amount=amount,
        limit_price=limit_price(reference, side, Decimal("0.01"), info.rules),
    )


@pytest.mark.parametrize("venue", [Venue.BINANCE, Venue.OKX, Venue.BITGET])
def test_place_order_answers_what_the_create_request_says(venue: Venue) -> None:
    """Binance's create answer is the order's outcome; OKX and Bitget answer with ids only (``acknowledged``, the
    outcome read next by the protocol, after the venue slot is released)."""
    server = start_sim(venues=(venue.value,))

    async def scenario() -> None:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            lot = (await client.market(PERP)).rules.base_step  # a multiple of the spot lot, above the minimums
            assert lot is not None
            amount = lot * 2
            placed = await client.place_order(await _intent(client, f"t-place-{venue}", SPOT, Side.BUY, amount))
            assert placed.order_id is not None
            if venue is Venue.BINANCE:
                assert placed.status == "closed" and placed.filled == amount
            else:
                assert placed.status == ACKNOWLEDGED and not placed.is_final
            found = await client.order_by_client_id(SPOT, client_order_id(f"t-place-{venue}", "leg"))
            assert found is not None and found.order_id == placed.order_id and found.filled == amount

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_markets_funding_and_books_are_decimal(server: SimServer) -> None:
    async def scenario() -> None:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            markets = await client.markets()
            assert markets[PERP].market_type is MarketType.SWAP and markets[SPOT].market_type is MarketType.SPOT
            assert all(m.rules.price_step is None or m.rules.price_step > 0 for m in markets.values())
            assert isinstance(markets[PERP].rules.amount_step, Decimal)
            rates = await client.funding_rates([PERP, "BTC/USDT:USDT"])
            assert {r.symbol for r in rates} == {PERP, "BTC/USDT:USDT"}
            assert all(isinstance(r.rate, Decimal) and r.interval_hours in (1, 2, 4, 8) for r in rates)
            assert all(r.next_funding_time is not None and r.next_funding_time > r.time for r in rates)
            book = await client.order_book(SPOT, 5)
            assert book.best_bid is not None and book.best_ask is not None and book.best_bid < book.best_ask

    asyncio.run(scenario())


@pytest.mark.parametrize("venue", [Venue.BINANCE, Venue.OKX, Venue.BITGET])
def test_orders_by_client_id_trades_with_fees_and_positions(venue: Venue) -> None:
    server = start_sim(venues=(venue.value,))

    async def scenario() -> None:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            spot_lot = (await client.market(SPOT)).rules.base_step
            perp_lot = (await client.market(PERP)).rules.base_step
            assert spot_lot is not None and perp_lot is not None
            amount = perp_lot * 2  # coins; a multiple of both lots
            buy = await _intent(client, f"t-spot-{venue}", SPOT, Side.BUY, amount)
            state = await client.create_order(buy)
            assert state.status == "closed" and state.filled == amount
            found = await client.order_by_client_id(SPOT, buy.client_order_id)
            assert found is not None and found.order_id == state.order_id and found.filled == amount
            assert await client.order_by_client_id(SPOT, client_order_id("never-sent", "leg")) is None
            assert state.order_id is not None
            trades = await client.order_trades(SPOT, state.order_id)
            assert sum(t.amount for t in trades) == amount
            assert all(t.fee_currency == "DOGE" and t.fee == t.amount * Decimal("0.001") for t in trades)

            await client.set_leverage(PERP, 3)
            await client.set_margin_mode(PERP, "cross")  # already cross: not an error
            short = await _intent(client, f"t-perp-{venue}", PERP, Side.SELL, amount)
            perp_state = await client.create_order(short)
            assert perp_state.filled == amount and perp_state.order_id is not None
            perp_trades = await client.order_trades(PERP, perp_state.order_id)
            assert sum(t.amount for t in perp_trades) == amount
            assert all(t.fee_currency == "USDT" and t.fee > 0 for t in perp_trades)
            (position,) = await client.positions([PERP])
            assert position.side == "short" and position.amount == amount
            assert position.liquidation_price is not None and position.mark_price is not None
            assert position.liquidation_price > position.mark_price

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_transfer_moves_usdt_between_wallets(server: SimServer) -> None:
    async def scenario() -> None:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            before = (await client.balances(MarketType.SWAP))["USDT"].total
            await client.transfer("USDT", Decimal("12.5"), MarketType.SPOT, MarketType.SWAP)
            after = (await client.balances(MarketType.SWAP))["USDT"].total
            assert after - before == Decimal("12.5")

    asyncio.run(scenario())


def test_funding_income_after_a_settlement(server: SimServer) -> None:
    admin = Admin(server.base_url)
    admin.set_funding("binance", PERP, 0.002)

    async def scenario() -> None:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            short = await _intent(client, "t-fund", PERP, Side.SELL, Decimal(500))
            await client.create_order(short)
            start = (await client.funding_rates([PERP]))[0].time
            admin.advance_hours(8)
            incomes = await client.funding_income(PERP, start - timedelta(minutes=1))
            assert len(incomes) == 1 and incomes[0].amount > 0 and incomes[0].symbol == PERP

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "rate_limit"}, RateLimited),
        ({"kind": "drop_connection"}, OutcomeUnknown),
        ({"kind": "timeout_after_accept", "hang_ms": FAULT_HANG_MS}, OutcomeUnknown),
        ({"kind": "reject", "reason": "insufficient_balance"}, InsufficientBalance),
        ({"kind": "reject", "reason": "min_notional"}, OrderRejected),
    ],
)
def test_each_fault_kind_becomes_its_arbx_error(server: SimServer, fault: dict[str, object], error: type) -> None:
    admin = Admin(server.base_url)
    admin.add_fault(venue="binance", endpoint="POST /api/v3/order", times=1, **fault)

    async def scenario() -> None:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            intent = await _intent(client, f"t-{fault['kind']}", SPOT, Side.BUY, Decimal(100))
            with pytest.raises(error):
                await client.create_order(intent)
            accepted = fault["kind"] == "timeout_after_accept"
            found = await client.order_by_client_id(SPOT, intent.client_order_id)
            assert (found is not None) is accepted

    asyncio.run(scenario())


def test_partial_fill_fault_reports_the_filled_share(server: SimServer) -> None:
    Admin(server.base_url).add_fault(
        venue="binance", endpoint="POST /fapi/v1/order", times=1, kind="partial_fill", fill_ratio=0.5
    )

    async def scenario() -> None:
        async with venue_client(server, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            state = await client.create_order(await _intent(client, "t-partial", PERP, Side.SELL, Decimal(800)))
            assert state.is_final and state.filled == Decimal(400)

    asyncio.run(scenario())


RESTING_ENDPOINTS = {
    Venue.BINANCE: "POST /fapi/v1/order",
    Venue.OKX: "POST /api/v5/trade/*",
    Venue.BITGET: "POST /api/v2/mix/order/place-order",
}


@pytest.mark.parametrize("venue", list(RESTING_ENDPOINTS), ids=lambda v: v.value)
def test_rest_unfilled_fault_leaves_an_ioc_order_open_until_cancelled(venue: Venue) -> None:
    """The venue acknowledges the IOC order open and leaves it resting unfilled (however the book crosses), as a
    venue whose matching lags its acknowledgement does; the cancel answers in the venue's own format and the order
    ends canceled with nothing filled. The fault is used up: the next order fills."""
    server = start_sim(venues=(venue.value,))
    try:
        _rest_unfilled(server, venue)
    finally:
        server.stop()


def _rest_unfilled(server: SimServer, venue: Venue) -> None:
    Admin(server.base_url).add_fault(
        venue=venue.value, endpoint=RESTING_ENDPOINTS[venue], times=1, kind="rest_unfilled"
    )

    async def scenario() -> None:
        async with venue_client(server, venue, timeout_ms=FAULT_CLIENT_TIMEOUT_MS) as client:
            intent = await _intent(client, f"t-rest-{venue.value}", PERP, Side.SELL, Decimal(800))
            placed = await client.create_order(intent)
            found = await client.order_by_client_id(PERP, intent.client_order_id)
            assert found is not None and not found.is_final and found.filled == 0, (placed, found)
            cancelled = await client.cancel_order(PERP, intent.client_order_id)
            assert cancelled is not None and cancelled.status == "canceled" and cancelled.filled == 0
            assert cancelled.order_id is not None and await client.order_trades(PERP, cancelled.order_id) == []
            second = await _intent(client, f"t-rest2-{venue.value}", PERP, Side.SELL, Decimal(800))
            filled = await client.create_order(second)
            if not filled.is_final:  # venues that answer with the ids only: the look-up tells
                filled = await client.order_by_client_id(PERP, second.client_order_id) or filled
            assert filled.status == "closed" and filled.filled == Decimal(800)

    asyncio.run(scenario())
