"""A funding spike becomes a hedged position on the simulated Binance; settlements credit funding, which is
recorded; the position closes once the rate falls below the exit threshold, with a realized P&L checked to the cent
against what the venue itself reports (its trades and funding ledger) and against the account's balances."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import CENT, ZERO
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.monitor import assess_positions
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import AccountTransaction, FundingPayment, Order
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import (
    VENUES,
    Admin,
    ccxt_client,
    make_deps,
    start_sim,
    usdt_and_coin,
    venue_client,
    venue_orders,
    venue_pnl,
)

PERP, SPOT = "DOGE/USDT:USDT", "DOGE/USDT"
SPIKE, CALM = 0.003, 0.00001


@pytest.fixture
def server() -> Iterator[SimServer]:
    server = start_sim()
    yield server
    server.stop()


def spike_hedge_funding_exit(venue: str, db_url: str) -> None:
    """The whole life of one hedge on ``venue``, checked against the venue at every step."""
    server = start_sim(venues=(venue,))
    try:
        _spike_hedge_funding_exit(server, venue, db_url)
    finally:
        server.stop()


def _spike_hedge_funding_exit(server: SimServer, venue: str, db_url: str) -> None:
    admin = Admin(server.base_url)
    deps: ExecutionDeps = make_deps(db_url)
    exchange = ccxt_client(server, venue)
    usdt_before, coin_before = usdt_and_coin(admin, venue, "DOGE")
    admin.set_funding(venue, PERP, SPIKE)

    async def scenario() -> int:
        async with venue_client(server, Venue(venue)) as client:
            opened = await open_hedge(deps, client, OpenRequest(Venue(venue), PERP, f"open:{venue}:DOGE:test"))
            assert opened.status is OpenStatus.OPENED, opened.reason
            assert opened.position_id is not None
            position = get_position(deps.engine, opened.position_id)
            spot_lot = (await client.market(SPOT)).rules.base_step
            perp_lot = (await client.market(PERP)).rules.base_step
            assert spot_lot is not None and perp_lot is not None
            assert position.status == "open" and position.perp_amount > 0
            assert abs(position.perp_amount - position.spot_amount) < max(spot_lot, perp_lot)

            with transaction(deps.engine) as session:
                recorded = {o.client_order_id: o for o in session.execute(select(Order)).scalars()}
            on_venue = venue_orders(exchange, [SPOT, PERP])
            assert sorted(o.client_order_id for o in on_venue) == sorted(recorded)
            for order in on_venue:
                row = recorded[order.client_order_id]
                assert row.venue_order_id is not None and row.filled == order.filled  # both in coins
            for _ in range(3):
                admin.advance_hours(8)
            collected = await collect_funding(deps, client, opened.position_id)
            assert collected.new_payments == 3 and collected.funding_received > 0
            again = await collect_funding(deps, client, opened.position_id)
            assert again.new_payments == 0 and again.funding_received == collected.funding_received

            admin.set_funding(venue, PERP, CALM)
            (action,) = await assess_positions(deps, client)
            assert action.action == "close" and action.reason.startswith("rate_below_exit")
            closed = await close_hedge(deps, client, opened.position_id, action.reason)
            assert closed.status == "closed" and closed.realized_pnl is not None
            return opened.position_id

    position_id = asyncio.run(scenario())
    position = get_position(deps.engine, position_id)
    assert position.status == "closed" and position.realized_pnl is not None
    expected, funding, buy_vwap = venue_pnl(exchange, SPOT, PERP)
    assert position.funding_received == funding
    assert position.realized_pnl.quantize(CENT) == expected.quantize(CENT)
    usdt_after, coin_after = usdt_and_coin(admin, venue, "DOGE")
    account_change = usdt_after - usdt_before + (coin_after - coin_before) * buy_vwap
    assert account_change.quantize(CENT) == position.realized_pnl.quantize(CENT)
    assert admin.account(venue)["positions"] == []

    with transaction(deps.engine) as session:
        payments = session.execute(select(FundingPayment)).scalars().all()
        ledger = session.execute(select(AccountTransaction)).scalars().all()
    assert len(payments) == 3 and len({p.funding_time for p in payments}) == 3
    assert sum((p.amount for p in payments), ZERO) == funding
    assert len({row.ref for row in ledger}) == len(ledger)
    assert sum((r.amount for r in ledger if r.kind == "funding"), ZERO) == funding


@pytest.mark.parametrize("venue", VENUES)
def test_funding_spike_opens_hedge_collects_funding_and_closes_to_the_cent(venue: str, sqlite_url: str) -> None:
    spike_hedge_funding_exit(venue, sqlite_url)


def test_the_same_life_on_postgresql(pg_url: str) -> None:
    spike_hedge_funding_exit("binance", pg_url)


def test_repeated_signal_is_a_no_op(server: SimServer, sqlite_url: str) -> None:
    deps = make_deps(sqlite_url)
    Admin(server.base_url).set_funding("binance", PERP, SPIKE)

    async def scenario() -> tuple[OpenStatus, OpenStatus]:
        async with venue_client(server) as client:
            first = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:binance:DOGE:1"))
            second = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:binance:DOGE:1"))
            return first.status, second.status

    first, second = asyncio.run(scenario())
    assert first is OpenStatus.OPENED and second is OpenStatus.DUPLICATE
    assert len(venue_orders(ccxt_client(server), [SPOT, PERP])) == 2


def test_rate_below_threshold_is_rejected_without_orders(server: SimServer, sqlite_url: str) -> None:
    deps = make_deps(sqlite_url)
    Admin(server.base_url).set_funding("binance", PERP, CALM)

    async def scenario() -> OpenStatus:
        async with venue_client(server) as client:
            return (await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:calm"))).status

    assert asyncio.run(scenario()) is OpenStatus.REJECTED
    assert venue_orders(ccxt_client(server), [SPOT, PERP]) == []
