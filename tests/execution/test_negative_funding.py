"""Negative funding from spot inventory on the simulated venues: the hedge is a long perp plus a spot sale of coins
the account holds and declared as inventory, never more than the free inventory (no margin borrowing here);
settlements pay the long; the close buys the coins back and sells the perp, with a realized P&L equal, to the cent, to
what the venue reports and to the account's change. Without inventory in the wallet nothing is sent; with too little
the hedge is sized to it. (Undeclared coins and the declared amount: test_declared_inventory.py.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import CENT, ZERO
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.inventory import recorded_inventory
from arbx_pipelines.execution.monitor import assess_positions
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.execution.prepare import minimum_hedge_base
from arbx_pipelines.execution.reconcile import reconcile_venue
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.models import AccountTransaction, Alert, FundingPayment, Order
from arbx_pipelines.storage.orders import utcnow
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.simkit import (
    VENUES,
    Admin,
    ccxt_client,
    declared_inventory,
    make_deps,
    start_sim,
    usdt_and_coin,
    venue_client,
    venue_orders,
    venue_pnl,
    venue_trades,
)

PERP, SPOT, COIN = "DOGE/USDT:USDT", "DOGE/USDT", "DOGE"
NEGATIVE_SPIKE, CALM = -0.003, -0.00001
#: more DOGE than the largest trade (150 USDT at about 0.15) needs
PLENTY = Decimal(5000)


def _venue_perp_qty(admin: Admin, venue: str) -> Decimal:
    (position,) = admin.account(venue)["positions"]
    return Decimal(str(position["qty"]))


def _coin_flow(exchange: Any) -> Decimal:
    """The coins the account's spot trades added (buys) and removed (sales and fees charged in the coin), as the
    venue's own trade list reports them: what the wallet must have changed by, whatever the fee comes to."""
    flow = ZERO
    for trade in venue_trades(exchange, SPOT):
        flow += trade["amount"] if trade["side"] == "buy" else -trade["amount"]
        if trade["fee"]["currency"] == COIN:
            flow -= Decimal(str(trade["fee"]["cost"]))
    return flow


def negative_hedge_life(venue: str, db_url: str, *, empty_spot_usdt: bool = False) -> None:
    server = start_sim(venues=(venue,))
    try:
        _negative_hedge_life(server, venue, db_url, empty_spot_usdt)
    finally:
        server.stop()


def _negative_hedge_life(server: SimServer, venue: str, db_url: str, empty_spot_usdt: bool) -> None:
    admin = Admin(server.base_url)
    deps: ExecutionDeps = make_deps(db_url, strategy=declared_inventory({venue: {COIN: PLENTY}}))
    exchange = ccxt_client(server, venue)
    admin.set_balance(venue, "spot", COIN, PLENTY)
    if empty_spot_usdt:  # the sale's proceeds alone cannot pay the buy-back (spread, fees, slippage allowance)
        admin.set_balance(venue, "spot", "USDT", 0)
    usdt_before, coin_before = usdt_and_coin(admin, venue, COIN)
    assert coin_before == PLENTY
    admin.set_funding(venue, PERP, NEGATIVE_SPIKE)

    async def scenario() -> int:
        async with venue_client(server, Venue(venue)) as client:
            await reconcile_venue(deps, client)  # records the inventory the sensor reads
            assert recorded_inventory(deps.engine, utcnow() - timedelta(minutes=1))[(venue, COIN)] == PLENTY

            opened = await open_hedge(deps, client, OpenRequest(Venue(venue), PERP, f"open:{venue}:DOGE:neg"))
            assert opened.status is OpenStatus.OPENED, opened.reason
            assert opened.position_id is not None
            position = get_position(deps.engine, opened.position_id)
            lot = max(
                (await client.market(SPOT)).rules.base_step or ZERO, (await client.market(PERP)).rules.base_step or ZERO
            )
            assert position.direction is FundingDirection.NEGATIVE and position.status == "open"
            assert position.perp_amount > 0 and abs(position.perp_amount - position.spot_amount) < lot
            assert _venue_perp_qty(admin, venue) == position.perp_amount  # a long on the venue
            assert usdt_and_coin(admin, venue, COIN)[1] == PLENTY - position.spot_amount  # sold from inventory
            report = await reconcile_venue(deps, client)  # the rest of the declared inventory is expected there
            assert (report.unknown_exposure, report.missing_inventory) == ([], [])

            with transaction(deps.engine) as session:
                recorded = {o.client_order_id: o for o in session.execute(select(Order)).scalars()}
            on_venue = venue_orders(exchange, [SPOT, PERP])
            assert sorted(o.client_order_id for o in on_venue) == sorted(recorded)
            assert {(o.symbol, o.side) for o in on_venue} == {(SPOT, "sell"), (PERP, "buy")}
            for order in on_venue:
                row = recorded[order.client_order_id]
                assert row.venue_order_id is not None and row.filled == order.filled

            for _ in range(3):
                admin.advance_hours(8)
            collected = await collect_funding(deps, client, opened.position_id)
            assert collected.new_payments == 3 and collected.funding_received > 0  # the long is paid

            admin.set_funding(venue, PERP, CALM)
            (action,) = await assess_positions(deps, client)
            assert action.action == "close" and action.reason.startswith("rate_below_exit"), action
            closed = await close_hedge(deps, client, opened.position_id, action.reason)
            assert closed.status == "closed" and closed.realized_pnl is not None
            assert {(o.intent.symbol, o.intent.side.value) for o in closed.orders} == {(SPOT, "buy"), (PERP, "sell")}
            # the declared inventory is whole again: the buy-back bought its fee in the coin on top, less than a lot
            spot_lot = (await client.market(SPOT)).rules.base_step or ZERO
            assert PLENTY <= usdt_and_coin(admin, venue, COIN)[1] < PLENTY + spot_lot
            return opened.position_id

    position_id = asyncio.run(scenario())
    position = get_position(deps.engine, position_id)
    assert position.status == "closed" and position.realized_pnl is not None
    assert admin.account(venue)["positions"] == []
    expected, funding, buy_vwap = venue_pnl(exchange, SPOT, PERP)
    assert funding > 0 and position.funding_received == funding
    assert position.realized_pnl.quantize(CENT) == expected.quantize(CENT)
    usdt_after, coin_after = usdt_and_coin(admin, venue, COIN)
    assert coin_after - coin_before == _coin_flow(exchange)  # bought back; only the fees paid in the coin are missing
    account_change = usdt_after - usdt_before + (coin_after - coin_before) * buy_vwap
    assert account_change.quantize(CENT) == position.realized_pnl.quantize(CENT)
    with transaction(deps.engine) as session:
        payments = session.execute(select(FundingPayment)).scalars().all()
        transfers = session.execute(select(AccountTransaction).where(AccountTransaction.kind == "transfer")).all()
    assert len(payments) == 3 and sum((p.amount for p in payments), ZERO) == funding
    if empty_spot_usdt:
        assert len(transfers) == 2  # perpetual wallet -> spot wallet before the buy-back, both sides in the ledger


@pytest.mark.parametrize("venue", VENUES)
def test_negative_spike_sells_inventory_collects_funding_and_buys_back_to_the_cent(venue: str, sqlite_url: str) -> None:
    negative_hedge_life(venue, sqlite_url)


@pytest.mark.parametrize("venue", ["binance", "bitget"])
def test_buy_back_moves_usdt_from_the_perpetual_wallet_when_spot_lacks_it(venue: str, sqlite_url: str) -> None:
    negative_hedge_life(venue, sqlite_url, empty_spot_usdt=True)


def test_without_inventory_nothing_is_sent(sqlite_url: str) -> None:
    """Declared, but the wallet holds none of it: nothing to sell."""
    server = start_sim()
    try:
        deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {COIN: PLENTY}}))
        Admin(server.base_url).set_funding("binance", PERP, NEGATIVE_SPIKE)

        async def scenario() -> tuple[OpenStatus, str, tuple[str, ...]]:
            async with venue_client(server) as client:
                outcome = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:neg:none"))
                return outcome.status, outcome.reason, outcome.violations

        status, reason, violations = asyncio.run(scenario())
        assert status is OpenStatus.REJECTED and reason.startswith("no_inventory_for_negative_funding")
        assert violations == ("no_inventory_for_negative_funding",)
        execution = find_execution(deps.engine, "open:neg:none")
        assert execution is not None and execution.status == "rejected"
        assert venue_orders(ccxt_client(server), [SPOT, PERP]) == []
    finally:
        server.stop()


def test_margin_borrow_flag_without_a_borrowing_client_still_sells_inventory_only(sqlite_url: str) -> None:
    """allow_margin_borrow is on, but no venue client borrows: the op neither borrows nor sends."""
    from dataclasses import replace

    server = start_sim()
    try:
        deps = make_deps(sqlite_url)
        deps.strategy = replace(deps.strategy, allow_margin_borrow=True)
        Admin(server.base_url).set_funding("binance", PERP, NEGATIVE_SPIKE)

        async def scenario() -> OpenStatus:
            async with venue_client(server) as client:
                return (await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:neg:borrow"))).status

        assert asyncio.run(scenario()) is OpenStatus.REJECTED
        assert venue_orders(ccxt_client(server), [SPOT, PERP]) == []
    finally:
        server.stop()


def test_small_inventory_sizes_the_hedge_to_it(sqlite_url: str) -> None:
    server = start_sim()
    try:
        admin = Admin(server.base_url)
        deps = make_deps(sqlite_url, strategy=declared_inventory({"binance": {COIN: PLENTY}}))
        admin.set_funding("binance", PERP, NEGATIVE_SPIKE)

        async def scenario() -> Decimal:
            async with venue_client(server) as client:
                spot, perp = await client.market(SPOT), await client.market(PERP)
                book = await client.order_book(SPOT, 5)
                assert book.best_bid is not None
                smallest = minimum_hedge_base(spot.rules, perp.rules, book.best_bid, book.best_bid)
                inventory = smallest * 2 + smallest / 2  # between two and three of the smallest hedges
                assert inventory * book.best_bid < deps.limits.max_trade_usdt  # less than the trade would want
                admin.set_balance("binance", "spot", COIN, inventory)
                outcome = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:neg:small"))
                assert outcome.status is OpenStatus.OPENED, outcome.reason
                assert recorded_inventory(deps.engine, utcnow() - timedelta(minutes=1))[("binance", COIN)] == inventory
                assert outcome.position_id is not None
                step = max(spot.rules.base_step or ZERO, perp.rules.base_step or ZERO)
                position = get_position(deps.engine, outcome.position_id)
                assert inventory - step < position.spot_amount <= inventory
                assert position.perp_amount == position.spot_amount
                assert usdt_and_coin(admin, "binance", COIN)[1] == inventory - position.spot_amount
                # the wallet now holds less than the sold leg: that is the sale, not a drift of the hedge
                (action,) = await assess_positions(deps, client)
                assert action.action == "none", action
                closed = await close_hedge(deps, client, outcome.position_id, "test")
                assert closed.status == "closed"
                return inventory

        inventory = asyncio.run(scenario())
        # bought back: the wallet changed by exactly the venue's spot trades, fees paid in the coin included
        assert usdt_and_coin(admin, "binance", COIN)[1] - inventory == _coin_flow(ccxt_client(server))
        with transaction(deps.engine) as session:
            assert session.execute(select(Alert).where(Alert.kind == "position_drift")).first() is None
    finally:
        server.stop()
