"""The open takes the leverage the funding sensor decided (dynamic leverage), on the venue and in the records, instead
of always ``strategy.max_leverage``; real ccxt against the simulated Binance."""

from __future__ import annotations

import asyncio

from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.open_hedge import OpenOutcome, OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.execution.positions import get_position
from tests.execution.simkit import Admin, fast_settings, make_deps, start_sim, venue_client

PERP = "DOGE/USDT:USDT"


def test_the_open_sets_and_records_the_decided_leverage(sqlite_url: str) -> None:
    server = start_sim(venues=("binance",))
    try:
        admin = Admin(server.base_url)
        admin.set_funding("binance", PERP, 0.003)
        deps = make_deps(sqlite_url, settings=fast_settings(leverage=5))

        async def open_at(leverage: int) -> OpenOutcome:
            async with venue_client(server) as client:
                return await open_hedge(
                    deps, client, OpenRequest(Venue.BINANCE, PERP, f"open:lev:{leverage}", leverage=leverage)
                )

        outcome = asyncio.run(open_at(2))
        assert outcome.status is OpenStatus.OPENED and outcome.position_id is not None
        position = get_position(deps.engine, outcome.position_id)
        assert position.leverage == 2
        (venue_position,) = admin.account("binance")["positions"]
        assert int(venue_position["leverage"]) == 2  # not the configured maximum of 5
    finally:
        server.stop()
