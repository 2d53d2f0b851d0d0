"""Funding snapshots: the current funding of every USDT perpetual on every venue, fetched concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, insert

from arbx_pipelines.core.funding import annualize
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.venue_data import FundingInfo
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingSnapshotRow
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


def store_snapshot(engine: Engine, result: SnapshotResult) -> int:
    """One row per perpetual, all stamped with the snapshot time (one transaction)."""
    rows = [
        {
            "venue": info.venue.value, "symbol": info.symbol, "time": result.time, "rate": info.rate,
            "interval_hours": info.interval_hours, "annualized": annualize(info.rate, info.interval_hours),
            "next_funding_time": info.next_funding_time, "mark_price": info.mark_price,
            "index_price": info.index_price,
        }
        for info in result.rates
    ]  # fmt: skip
    if rows:
        with transaction(engine) as session:
            session.execute(insert(FundingSnapshotRow), rows)
    return len(rows)
