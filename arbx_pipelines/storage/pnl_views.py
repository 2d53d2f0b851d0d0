"""Money per UTC day for ``arbx pnl`` and the funding digest: realized P&L of closed positions, funding received and
fees paid, read from the positions, funding payments and fills (the same records the execution layer books)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Fill, FundingPayment, Position


@dataclass(frozen=True)
class FundingTotal:
    venue: str
    symbol: str
    amount: Decimal
    settlements: int


def realized_by_day(engine: Engine, start: datetime, end: datetime) -> dict[date, Decimal]:
    """Realized P&L of the positions closed in [start, end), per UTC day of the close."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    with transaction(engine) as session:
        rows = session.execute(
            select(Position.closed_at, Position.realized_pnl).where(
                Position.closed_at >= start, Position.closed_at < end, Position.realized_pnl.is_not(None)
            )
        )
        for closed_at, pnl in rows:
            if closed_at is not None and pnl is not None:
                totals[closed_at.date()] += pnl
    return dict(totals)


def funding_by_day(engine: Engine, start: datetime, end: datetime) -> dict[date, Decimal]:
    """Funding received (negative: paid) per UTC day of the settlement."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    with transaction(engine) as session:
        rows = session.execute(
            select(FundingPayment.funding_time, FundingPayment.amount).where(
                FundingPayment.funding_time >= start, FundingPayment.funding_time < end
            )
        )
        for when, amount in rows:
            totals[when.date()] += amount
    return dict(totals)


def fees_by_day(engine: Engine, start: datetime, end: datetime) -> dict[date, Decimal]:
    """Trading fees in USDT per UTC day of the fill (a fee charged in the bought coin is valued at its fill price)."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    with transaction(engine) as session:
        rows = session.execute(
            select(Fill.time, Fill.fee, Fill.fee_currency, Fill.price, Fill.symbol).where(
                Fill.time >= start, Fill.time < end
            )
        )
        for when, fee, currency, price, symbol in rows:
            in_coin = currency is not None and currency == symbol.split("/")[0]
            totals[when.date()] += (fee or Decimal(0)) * (price if in_coin else Decimal(1))
    return dict(totals)


def funding_by_symbol(engine: Engine, start: datetime, end: datetime) -> list[FundingTotal]:
    """Funding per (venue, perpetual) settled in [start, end): the daily funding digest."""
    totals: dict[tuple[str, str], list[Decimal]] = {}
    with transaction(engine) as session:
        rows = session.execute(
            select(FundingPayment.venue, FundingPayment.symbol, FundingPayment.amount).where(
                FundingPayment.funding_time >= start, FundingPayment.funding_time < end
            )
        )
        for venue, symbol, amount in rows:
            totals.setdefault((venue, symbol), []).append(amount)
    return [
        FundingTotal(venue, symbol, sum(amounts, Decimal(0)), len(amounts))
        for (venue, symbol), amounts in sorted(totals.items())
    ]
