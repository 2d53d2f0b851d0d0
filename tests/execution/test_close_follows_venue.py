"""Closing a hedge whose spot leg shrank on the venue first (coins withdrawn or sold by hand): the close books the
missing coins as an external change with a ``position_drift`` alert, then closes what is really there, so both legs
end flat on the venue and in the books, without an insufficient-balance rejection.

The external change is valued at the venue's best bid when the close noticed it (a fee-less sale of the missing
coins): the realized P&L equals the venue's trades and funding ledger plus that booked sale, and the account's change
(USDT plus coin at the buy VWAP) plus the booked sale's proceeds."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import CENT, ZERO, quantize_down
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert, Fill, Order
from tests.execution.simkit import (
    VENUES,
    Admin,
    ccxt_client,
    make_deps,
    start_sim,
    usdt_and_coin,
    venue_client,
    venue_pnl,
)

PERP, SPOT, COIN = "DOGE/USDT:USDT", "DOGE/USDT", "DOGE"


@pytest.mark.parametrize("venue", VENUES)
def test_close_books_a_withdrawn_part_of_the_spot_leg_then_closes_flat(venue: str, sqlite_url: str) -> None:
    server = start_sim(venues=(venue,))
    try:
        admin = Admin(server.base_url)
        deps = make_deps(sqlite_url)
        exchange = ccxt_client(server, venue)
        usdt_before, coin_before = usdt_and_coin(admin, venue, COIN)
        admin.set_funding(venue, PERP, 0.003)

        async def scenario() -> tuple[int, Decimal, Decimal]:
            async with venue_client(server, Venue(venue)) as client:
                opened = await open_hedge(deps, client, OpenRequest(Venue(venue), PERP, f"open:{venue}:drift"))
                assert opened.status is OpenStatus.OPENED and opened.position_id is not None, opened.reason
                position = get_position(deps.engine, opened.position_id)
                spot_lot = (await client.market(SPOT)).rules.base_step
                assert spot_lot is not None
                held = usdt_and_coin(admin, venue, COIN)[1]
                removed = quantize_down(position.spot_amount / 3, spot_lot)
                admin.set_balance(venue, "spot", COIN, held - removed)  # a manual withdrawal of a third
                closed = await close_hedge(deps, client, opened.position_id, "test")
                assert closed.status == "closed" and closed.realized_pnl is not None, closed.reason
                assert all(s.error is None and s.status != "rejected" for s in closed.orders), closed.orders
                return opened.position_id, removed, spot_lot

        position_id, removed, spot_lot = asyncio.run(scenario())
        position = get_position(deps.engine, position_id)
        assert position.status == "closed" and position.realized_pnl is not None
        assert abs(position.spot_amount) < spot_lot and position.perp_amount == 0  # flat in the books
        assert admin.account(venue)["positions"] == []  # flat on the venue
        usdt_after, coin_after = usdt_and_coin(admin, venue, COIN)
        assert coin_after - coin_before < spot_lot

        with transaction(deps.engine) as session:
            (drift,) = session.execute(select(Alert).where(Alert.kind == "position_drift")).scalars().all()
            (external,) = session.execute(
                select(Fill).join(Order, Fill.order_id == Order.id).where(Order.order_type == "external")
            ).scalars()
            rejected = session.execute(select(Order).where(Order.status.in_(("rejected", "unknown")))).all()
        assert rejected == []
        assert drift.details is not None and Decimal(drift.details["booked_amount"]) == removed
        assert external.side == "sell" and external.amount == removed and external.fee == ZERO
        booked = {"side": "sell", "amount": removed, "price": external.price, "fee": {"cost": 0, "currency": "USDT"}}
        expected, funding, buy_vwap = venue_pnl(exchange, SPOT, PERP, [booked])
        assert position.funding_received == funding
        assert position.realized_pnl.quantize(CENT) == expected.quantize(CENT)
        account_change = usdt_after - usdt_before + (coin_after - coin_before) * buy_vwap
        assert (account_change + removed * external.price).quantize(CENT) == position.realized_pnl.quantize(CENT)
    finally:
        server.stop()
