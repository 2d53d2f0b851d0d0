"""Recent market history of a few perpetuals, as the live algorithms read it: settled funding (forecast,
persistence, dynamic leverage in the funding-opportunity sensor), snapshot mark prices and book depth (the composite
risk score and the liquidity-drought screen of the position-risk sensor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select, tuple_

from arbx_pipelines.storage.models import FundingRateRow, FundingSnapshotRow, QuoteRow


@dataclass(frozen=True, slots=True)
class SettledFunding:
    time: datetime
    rate: Decimal
    interval_hours: int | None
    mark_price: Decimal | None


def recent_settlements(
    engine: Engine, markets: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[SettledFunding]]:
    """Settlements of the (venue, symbol) ``markets`` since ``since``, oldest first."""
    if not markets:
        return {}
    t = FundingRateRow
    query = (
        select(t.venue, t.symbol, t.funding_time, t.rate, t.interval_hours, t.mark_price)
        .where(tuple_(t.venue, t.symbol).in_(list(markets)), t.funding_time >= since)
        .order_by(t.venue, t.symbol, t.funding_time)
    )
    found: dict[tuple[str, str], list[SettledFunding]] = {}
    with engine.connect() as conn:
        for venue, symbol, time, rate, interval, mark in conn.execute(query):
            found.setdefault((venue, symbol), []).append(SettledFunding(time, Decimal(rate), interval, mark))
    return found


def recent_marks(
    engine: Engine, markets: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[tuple[datetime, Decimal]]]:
    """(time, mark price) of the funding snapshots of ``markets`` since ``since``, oldest first."""
    if not markets:
        return {}
    t = FundingSnapshotRow
    query = (
        select(t.venue, t.symbol, t.time, t.mark_price)
        .where(tuple_(t.venue, t.symbol).in_(list(markets)), t.time >= since, t.mark_price.is_not(None))
        .order_by(t.venue, t.symbol, t.time)
    )
    found: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = {}
    with engine.connect() as conn:
        for venue, symbol, time, mark in conn.execute(query):
            if mark is not None:
                found.setdefault((venue, symbol), []).append((time, Decimal(mark)))
    return found


def recent_depths(
    engine: Engine, markets: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[Decimal]]:
    """Book depth (bid + ask, USDT) of the quotes of ``markets`` since ``since``, oldest first."""
    if not markets:
        return {}
    t = QuoteRow
    query = (
        select(t.venue, t.symbol, t.bid_depth_usdt, t.ask_depth_usdt)
        .where(tuple_(t.venue, t.symbol).in_(list(markets)), t.time >= since)
        .order_by(t.venue, t.symbol, t.time)
    )
    found: dict[tuple[str, str], list[Decimal]] = {}
    with engine.connect() as conn:
        for venue, symbol, bid, ask in conn.execute(query):
            if bid is not None and ask is not None:
                found.setdefault((venue, symbol), []).append(Decimal(bid) + Decimal(ask))
    return found
