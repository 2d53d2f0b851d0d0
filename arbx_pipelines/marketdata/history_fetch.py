"""Settled funding history of every perpetual of one venue over a date range, written idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime

from arbx_pipelines.core.models import Venue
from arbx_pipelines.history.records import FundingRecord
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

#: a read that timed out or met a busy venue (``retry_safe``) is asked again after these pauses: one slow answer
#: must not leave a symbol out of a backfill of months (a read changes nothing, so asking twice is harmless)
READ_RETRY_PAUSES_S = (1.0, 3.0)


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
            for attempt, pause in enumerate((*READ_RETRY_PAUSES_S, None), start=1):
                try:
                    rates = await client.funding_history(symbol, start, end)
                    break
                except VenueError as exc:
                    if not exc.retry_safe or pause is None:
                        failures[symbol] = str(exc) if attempt == 1 else f"{exc} (after {attempt} attempts)"
                        return
                    await asyncio.sleep(pause)
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
