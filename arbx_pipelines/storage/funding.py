"""Funding as observed: snapshots of the current (predicted) funding, and the settled rates of ``funding_rates``.

``latest_snapshots`` is THE way to read the latest funding snapshot (the quotes monitor and the volatility sensor
both use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, func, insert, select

from arbx_pipelines.core.backtest.data import Settlement
from arbx_pipelines.core.funding import annualize
from arbx_pipelines.core.history_checks import Settlement as CheckedSettlement
from arbx_pipelines.core.venue_data import FundingInfo
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingRateRow, FundingSnapshotRow


@dataclass(frozen=True, slots=True)
class SnapshotRate:
    venue: str
    symbol: str
    annualized: Decimal
    interval_hours: int


@dataclass(frozen=True, slots=True)
class FundingSnapshot:
    """Every perpetual's funding as observed at one instant."""

    time: datetime
    rates: tuple[SnapshotRate, ...]

    def annualized(self) -> dict[tuple[str, str], Decimal]:
        return {(r.venue, r.symbol): r.annualized for r in self.rates}


@dataclass(frozen=True, slots=True)
class ObservedFunding:
    """One perpetual's funding in one snapshot, with the prices observed with it."""

    venue: str
    symbol: str
    time: datetime
    rate: Decimal
    annualized: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    mark_price: Decimal | None


@dataclass(frozen=True, slots=True)
class SeriesStats:
    venue: str
    symbol: str
    interval_hours: int | None  #: None for prices and for settlements of unknown interval
    rows: int
    first: datetime
    last: datetime


def record_snapshot(engine: Engine, time: datetime, rates: Sequence[FundingInfo]) -> int:
    """One row per perpetual, all stamped with the snapshot time (one transaction)."""
    rows = [
        {
            "venue": info.venue.value, "symbol": info.symbol, "time": time, "rate": info.rate,
            "interval_hours": info.interval_hours, "annualized": annualize(info.rate, info.interval_hours),
            "next_funding_time": info.next_funding_time, "mark_price": info.mark_price,
            "index_price": info.index_price,
        }
        for info in rates
    ]  # fmt: skip
    if rows:
        with transaction(engine) as session:
            session.execute(insert(FundingSnapshotRow), rows)
    return len(rows)


def latest_snapshots(engine: Engine, count: int = 1) -> list[FundingSnapshot]:
    """The ``count`` most recent funding snapshots, newest first (empty before the first snapshot)."""
    t = FundingSnapshotRow
    with transaction(engine) as session:
        times = session.execute(select(t.time).distinct().order_by(t.time.desc()).limit(count)).scalars().all()
        snapshots = []
        for time in times:
            rows = session.execute(
                select(t.venue, t.symbol, t.annualized, t.interval_hours).where(t.time == time)
            ).all()
            rates = tuple(SnapshotRate(str(v), str(s), Decimal(a), int(i)) for v, s, a, i in rows)
            snapshots.append(FundingSnapshot(utc_time(time), rates))
    return snapshots


def snapshots_since(
    engine: Engine, since: datetime, *, venues: Sequence[str] = (), symbols: Sequence[str] = ()
) -> dict[tuple[str, str], list[ObservedFunding]]:
    """The perpetuals' snapshots since ``since`` (of ``venues`` / ``symbols`` when given, else all), per (venue,
    symbol), newest first (the signals' input; the sensor reads them every few seconds)."""
    t = FundingSnapshotRow
    query = select(
        t.venue, t.symbol, t.time, t.rate, t.annualized, t.interval_hours, t.next_funding_time, t.mark_price
    ).where(t.time >= since)
    if venues:
        query = query.where(t.venue.in_(list(venues)))
    if symbols:
        query = query.where(t.symbol.in_(list(symbols)))
    grouped: dict[tuple[str, str], list[ObservedFunding]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query.order_by(t.time.desc())):
            grouped.setdefault((row.venue, row.symbol), []).append(ObservedFunding(*row))
    return grouped


def latest_interval_hours(engine: Engine, venue: str, symbol: str) -> int | None:
    """The funding interval of ``symbol`` in its most recent snapshot."""
    t = FundingSnapshotRow
    with transaction(engine) as session:
        query = select(t.interval_hours).where(t.venue == venue, t.symbol == symbol).order_by(t.time.desc())
        interval = session.execute(query).scalars().first()
    return None if interval is None else int(interval)


def settlements(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    symbols: Sequence[str] | None = None,
) -> list[Settlement]:
    """Settled funding in ``[since, until)``, optionally of some symbols only."""
    t = FundingRateRow
    query = select(t.venue, t.symbol, t.funding_time, t.rate, t.interval_hours)
    if since is not None:
        query = query.where(t.funding_time >= since)
    if until is not None:
        query = query.where(t.funding_time < until)
    if symbols:
        query = query.where(t.symbol.in_(list(symbols)))
    with engine.connect() as conn:
        return [Settlement(v, s, t, r, None if i is None else float(i)) for v, s, t, r, i in conn.execute(query)]


def last_settlement_time(engine: Engine) -> datetime | None:
    """The newest stored settlement of any symbol (None when no history is stored)."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(FundingRateRow.funding_time))).scalar()
    return None if last is None else utc_time(last)


def symbol_settlements(engine: Engine, venue: str, symbol: str, since: datetime) -> list[tuple[Decimal, int | None]]:
    """(rate, interval hours) of one perpetual's settlements since ``since``, oldest first."""
    t = FundingRateRow
    query = (
        select(t.rate, t.interval_hours)
        .where(t.venue == venue, t.symbol == symbol, t.funding_time >= since)
        .order_by(t.funding_time)
    )
    with engine.connect() as conn:
        return [(Decimal(rate), interval) for rate, interval in conn.execute(query)]


def settlements_by_symbol(
    engine: Engine, *, venue: str | None = None, since: datetime | None = None
) -> dict[tuple[str, str], list[CheckedSettlement]]:
    """Stored settlements grouped per (venue, symbol), oldest first: what the history checks read."""
    t = FundingRateRow
    query = select(t.venue, t.symbol, t.funding_time, t.rate, t.interval_hours).order_by(
        t.venue, t.symbol, t.funding_time
    )
    if venue is not None:
        query = query.where(t.venue == venue)
    if since is not None:
        query = query.where(t.funding_time >= since)
    grouped: dict[tuple[str, str], list[CheckedSettlement]] = {}
    with engine.connect() as conn:
        for row_venue, symbol, time, rate, interval in conn.execute(query):
            grouped.setdefault((row_venue, symbol), []).append(CheckedSettlement(time, rate, interval))
    return grouped


def funding_stats(engine: Engine) -> list[SeriesStats]:
    """Rows, first and last settlement per (venue, symbol, interval): what ``arbx history stats`` prints."""
    t = FundingRateRow
    query = (
        select(t.venue, t.symbol, t.interval_hours, func.count(), func.min(t.funding_time), func.max(t.funding_time))
        .group_by(t.venue, t.symbol, t.interval_hours)
        .order_by(t.venue, t.symbol, t.interval_hours)
    )
    with engine.connect() as conn:
        return [
            SeriesStats(venue, symbol, interval, int(count), utc_time(first), utc_time(last))
            for venue, symbol, interval, count, first, last in conn.execute(query)
        ]


def utc_time(value: object) -> datetime:
    """min()/max() bypass the column type on SQLite (a string comes back); parse it the same way."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
