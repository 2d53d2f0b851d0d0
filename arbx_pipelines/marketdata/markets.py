"""Market metadata (precision, minimums, fees, contract size) fetched from every venue at once; stored by
:mod:`arbx_pipelines.storage.markets`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.venues.client import VenueClient


async def fetch_markets(clients: Mapping[Venue, VenueClient]) -> dict[Venue, list[MarketInfo]]:
    venues = list(clients)
    answers = await asyncio.gather(*(clients[v].markets(reload=True) for v in venues))
    return {venue: list(answer.values()) for venue, answer in zip(venues, answers, strict=True)}
