"""Summaries of stored history: what ``arbx history stats`` prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from arbx_pipelines.storage.models import FundingRateRow, PriceRow


@dataclass(frozen=True, slots=True)
class SeriesStats:
    venue: str
    symbol: str
    interval_hours: int | None  #: None for prices and for settlements of unknown interval
    rows: int
    first: datetime
    last: datetime


def funding_stats(engine: Engine) -> list[SeriesStats]:
    t = FundingRateRow
    query = (
        select(t.venue, t.symbol, t.interval_hours, func.count(), func.min(t.funding_time), func.max(t.funding_time))
        .group_by(t.venue, t.symbol, t.interval_hours)
        .order_by(t.venue, t.symbol, t.interval_hours)
    )
    return _collect(engine, query)


def price_stats(engine: Engine) -> list[SeriesStats]:
    t = PriceRow
    query = (
        select(t.venue, t.symbol, func.count(), func.min(t.time), func.max(t.time))
        .group_by(t.venue, t.symbol)
        .order_by(t.venue, t.symbol)
    )
    with engine.connect() as conn:
        return [
            SeriesStats(venue, symbol, None, int(count), _utc(first), _utc(last))
            for venue, symbol, count, first, last in conn.execute(query)
        ]


def _collect(engine: Engine, query: object) -> list[SeriesStats]:
    with engine.connect() as conn:
        return [
            SeriesStats(venue, symbol, interval, int(count), _utc(first), _utc(last))
            for venue, symbol, interval, count, first, last in conn.execute(query)  # type: ignore[call-overload]
        ]


def _utc(value: object) -> datetime:
    """min()/max() bypass the column type on SQLite (a string comes back); parse it the same way."""
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
