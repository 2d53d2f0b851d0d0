"""Funding snapshots: the current funding of every USDT perpetual on every venue, fetched concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.venue_data import FundingInfo
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError


@dataclass
class SnapshotResult:
    time: datetime
    rates: list[FundingInfo] = field(default_factory=list)
    failures: dict[Venue, str] = field(default_factory=dict)

    def by_venue(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for info in self.rates:
            counts[info.venue.value] = counts.get(info.venue.value, 0) + 1
        return counts


async def fetch_snapshot(clients: Mapping[Venue, VenueClient], now: datetime) -> SnapshotResult:
    """All venues at once; a venue that fails is reported in ``failures``, the others still count."""
    venues = list(clients)
    answers = await asyncio.gather(*(clients[v].funding_rates() for v in venues), return_exceptions=True)
    result = SnapshotResult(time=now)
    for venue, answer in zip(venues, answers, strict=True):
        if isinstance(answer, VenueError):
            result.failures[venue] = str(answer)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            result.rates.extend(answer)
    return result
