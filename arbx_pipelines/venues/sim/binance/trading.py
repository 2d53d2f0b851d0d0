"""Binance private trading endpoints (spot ``/api/v3``, USD-M ``/fapi``, wallet ``/sapi``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.venue_api import Route

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.binance.market_data import BinanceMarketData


class BinanceTrading:
    def __init__(self, venue: SimVenue, market_data: BinanceMarketData) -> None:
        self.venue = venue
        self.market_data = market_data

    def routes(self) -> list[Route]:
        return []
