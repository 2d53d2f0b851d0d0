"""A close that dies before sending anything (the venue's position read failing) is not lost: its execution is
recorded first, so the position stays ``closing`` with an unfinished execution that reconcile finishes, and a new
close attempt gets a new key (a new Dagster run key), never the dead run's."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.close_hedge import CLOSE_KIND, close_hedge, next_key
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from arbx_pipelines.execution.reconcile import reconcile_venue
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution
from arbx_pipelines.venues.errors import VenueError
from tests.execution.simkit import Admin, ccxt_client, make_deps, start_sim, venue_client, venue_orders

PERP, SPOT = "LINK/USDT:USDT", "LINK/USDT"
POSITION_READS = ("GET /fapi/v2/positionRisk", "GET /fapi/v3/positionRisk")


def test_a_close_that_failed_before_its_orders_is_finished_by_reconcile(db_url: str) -> None:
    server = start_sim(venues=("binance",))
    try:
        admin = Admin(server.base_url)
        admin.set_funding("binance", PERP, 0.003)
        deps = make_deps(db_url)

        async def scenario() -> int:
            async with venue_client(server, Venue.BINANCE) as client:
                opened = await open_hedge(deps, client, OpenRequest(Venue.BINANCE, PERP, "open:binance:close-retry"))
                assert opened.status is OpenStatus.OPENED and opened.position_id is not None, opened.reason
                position_id = opened.position_id
                first_key = next_key(deps, CLOSE_KIND, position_id)
                for endpoint in POSITION_READS:
                    admin.add_fault(venue="binance", endpoint=endpoint, times=100, kind="rate_limit")
                with pytest.raises(VenueError):
                    await close_hedge(deps, client, position_id, "test")
                admin.clear_faults()
                assert get_position(deps.engine, position_id).status == "closing"
                assert next_key(deps, CLOSE_KIND, position_id) != first_key  # a retry is a new run, not a no-op
                with transaction(deps.engine) as session:
                    (dead,) = session.execute(select(Execution).where(Execution.execution_key == first_key)).scalars()
                    assert dead.status == "sending"  # unfinished: reconcile's to finish
                report = await reconcile_venue(deps, client)
                assert first_key in report.executions_repaired, report
                return position_id

        position_id = asyncio.run(scenario())
        position = get_position(deps.engine, position_id)
        assert position.status == "closed" and position.realized_pnl is not None
        assert admin.account("binance")["positions"] == []
        orders = venue_orders(ccxt_client(server), [PERP, SPOT])
        assert len(orders) == 4  # two to open, two to close: nothing sent twice
        assert len({o.client_order_id for o in orders}) == 4
    finally:
        server.stop()
