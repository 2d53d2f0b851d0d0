"""arbx's venue clients (venues/client.py + one quirk module per venue) against the simulated venues: market data
in Decimal, with each symbol's real funding interval and complete, paginated history."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arbx_pipelines.core.models import MarketType, Mode, Venue
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.errors import UnknownSymbol
from arbx_pipelines.venues.sim.server import SimServer
from tests.support.sim import sim_settings

VENUES = [Venue.BINANCE, Venue.OKX, Venue.BITGET]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer(sim_settings()) as running:
        yield running


@pytest.mark.parametrize("venue", VENUES)
def test_funding_rates_carry_each_symbols_interval(server: SimServer, venue: Venue) -> None:
    async def run() -> None:
        client = make_client(venue, Mode.SIM, sim_url=server.base_url)
        try:
            rates = await client.funding_rates()
            perps = await client.perpetuals()
            assert {r.symbol for r in rates} == {m.symbol for m in perps}
            assert {1, 4, 8} <= {r.interval_hours for r in rates}
            assert all(isinstance(r.rate, Decimal) and r.next_funding_time is not None for r in rates)
            # cross-check three symbols against the single-symbol endpoint, whose answer names the interval
            for info in sorted(rates, key=lambda r: r.symbol)[:3]:
                single = await client.exchange.fetch_funding_rate(info.symbol)
                assert Decimal(str(single["fundingRate"])) == info.rate
        finally:
            await client.close()

    asyncio.run(run())


@pytest.mark.parametrize("venue", VENUES)
def test_history_of_an_hourly_symbol_is_complete_and_hourly(server: SimServer, venue: Venue) -> None:
    async def run() -> None:
        client = make_client(venue, Mode.SIM, sim_url=server.base_url)
        try:
            hourly = next(r.symbol for r in await client.funding_rates() if r.interval_hours == 1)
            end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            start = end - timedelta(days=6)  # 144 settlements: more than one page on every venue
            history = await client.funding_history(hourly, start, end)
            assert len(history) == 144
            times = [h.funding_time for h in history]
            assert times[0] == start and times[-1] == end - timedelta(hours=1)
            assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(times))
            assert {h.interval_hours for h in history} == {1}
        finally:
            await client.close()

    asyncio.run(run())


@pytest.mark.parametrize("venue", VENUES)
def test_markets_and_books_are_decimal_in_base_coins(server: SimServer, venue: Venue) -> None:
    async def run() -> None:
        client = make_client(venue, Mode.SIM, sim_url=server.base_url)
        try:
            perp = await client.market("BTC/USDT:USDT")
            spot = await client.market("BTC/USDT")
            assert perp.market_type is MarketType.SWAP and spot.market_type is MarketType.SPOT
            assert perp.rules.amount_step is not None and perp.rules.price_step is not None
            if venue is Venue.OKX:
                assert perp.rules.contract_size < 1  # swaps trade in contracts of a fraction of a coin
            # the same book for both reads: the test simulator's clock stands still until told to move
            raw = await client.exchange.fetch_order_book("BTC/USDT:USDT", 5)
            book = await client.order_book("BTC/USDT:USDT", 5)
            assert book.best_bid is not None and book.best_ask is not None and book.best_bid < book.best_ask
            first_raw_amount = Decimal(str(raw["bids"][0][1]))
            assert book.bids[0][1] == first_raw_amount * perp.rules.contract_size
            with pytest.raises(UnknownSymbol):
                await client.market("NOPE/USDT:USDT")
        finally:
            await client.close()

    asyncio.run(run())
