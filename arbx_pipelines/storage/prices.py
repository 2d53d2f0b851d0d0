"""Historical closes (the ``prices`` table) and the mark prices recorded with funding settlements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from arbx_pipelines.core.backtest.data import PricePoint
from arbx_pipelines.storage.funding import SeriesStats, utc_time
from arbx_pipelines.storage.models import FundingRateRow, PriceRow


def price_points(engine: Engine, *, since: datetime | None = None, until: datetime | None = None) -> list[PricePoint]:
    """Closes from the prices table, else the mark prices recorded with the funding settlements."""
    query = select(PriceRow.venue, PriceRow.symbol, PriceRow.time, PriceRow.close)
    marks = select(FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.mark_price)
    marks = marks.where(FundingRateRow.mark_price.is_not(None))
    if since is not None:
        query = query.where(PriceRow.time >= since)
        marks = marks.where(FundingRateRow.funding_time >= since)
    if until is not None:
        query = query.where(PriceRow.time < until)
        marks = marks.where(FundingRateRow.funding_time < until)
    with engine.connect() as conn:
        points = [PricePoint(v, s, t, c) for v, s, t, c in conn.execute(query)]
        have = {(p.venue, p.symbol) for p in points}
        points += [PricePoint(v, s, t, c) for v, s, t, c in conn.execute(marks) if (v, s) not in have and c is not None]
    return points


def price_stats(engine: Engine) -> list[SeriesStats]:
    """Rows, first and last close per (venue, symbol): what ``arbx history stats`` prints."""
    t = PriceRow
    query = (
        select(t.venue, t.symbol, func.count(), func.min(t.time), func.max(t.time))
        .group_by(t.venue, t.symbol)
        .order_by(t.venue, t.symbol)
    )
    with engine.connect() as conn:
        return [
            SeriesStats(venue, symbol, None, int(count), utc_time(first), utc_time(last))
            for venue, symbol, count, first, last in conn.execute(query)
        ]
