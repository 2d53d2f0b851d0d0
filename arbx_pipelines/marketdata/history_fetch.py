"""Settled funding history of every perpetual of one venue over a date range, written idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime

from arbx_pipelines.core.models import Venue
from arbx_pipelines.history.records import FundingRecord
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError


async def fetch_venue_history(
    client: VenueClient,
    start: datetime,
    end: datetime,
    *,
    symbols: list[str] | None = None,
    concurrency: int = 8,
    on_symbol: Callable[[str, int], None] | None = None,
) -> tuple[list[FundingRecord], dict[str, str]]:
    """Every settlement in [start, end) of the venue's perpetuals; returns (records, failures by symbol)."""
    names = symbols if symbols is not None else [m.symbol for m in await client.perpetuals()]
    gate = asyncio.Semaphore(concurrency)
    records: list[FundingRecord] = []
    failures: dict[str, str] = {}

    async def one(symbol: str) -> None:
        async with gate:
            try:
                rates = await client.funding_history(symbol, start, end)
            except VenueError as exc:
                failures[symbol] = str(exc)
                return
        records.extend(FundingRecord(r.venue.value, r.symbol, r.funding_time, r.rate, r.interval_hours) for r in rates)
        if on_symbol is not None:
            on_symbol(symbol, len(rates))

    await asyncio.gather(*(one(s) for s in names))
    records.sort(key=lambda r: (r.symbol, r.funding_time))
    return records, failures


async def fetch_venues_history(
    clients: Mapping[Venue, VenueClient], ranges: Mapping[Venue, tuple[datetime, datetime]]
) -> dict[Venue, tuple[list[FundingRecord], dict[str, str]]]:
    """Every venue's history at once (each venue's own rate limit paces only its own requests)."""
    venues = list(ranges)
    answers = await asyncio.gather(*(fetch_venue_history(clients[v], *ranges[v]) for v in venues))
    return dict(zip(venues, answers, strict=True))
