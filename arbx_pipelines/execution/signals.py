"""Funding opportunities for the funding-opportunity sensor, from the latest ``funding_snapshots`` rows.

A (venue, perpetual) is an opportunity when its latest snapshot is fresh, its |annualized| rate reaches the entry
threshold on the side we can trade (positive funding; negative only with margin borrowing), the symbol is wanted,
no position on it is active, and its mark price is not anomalous against its recent snapshots (the anomaly screen
of DESIGN "Risk" runs on price here: a funding spike is the signal itself, not an anomaly to ignore). The op
re-validates everything on live data before it sends anything.

The run key ``open:{venue}:{symbol}:{next funding ms}`` makes a repeated signal for the same settlement a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.core.anomaly import is_anomalous
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, positions_with_status
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingSnapshotRow

DEFAULT_MAX_AGE = timedelta(minutes=30)
PRICE_HISTORY = 30
#: fewer recent prices than this: no anomaly screen (a z-score of a handful of points means nothing)
MIN_PRICE_HISTORY = 10


@dataclass(frozen=True)
class Opportunity:
    venue: Venue
    symbol: str
    rate: Decimal
    annualized: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    observed_at: datetime

    @property
    def settlement_ms(self) -> int:
        when = self.next_funding_time or self.observed_at.replace(minute=0, second=0, microsecond=0)
        return int(when.timestamp() * 1000)

    @property
    def run_key(self) -> str:
        return f"open:{self.venue}:{self.symbol}:{self.settlement_ms}"


def _latest_rows(engine: Engine, since: datetime) -> dict[tuple[str, str], list[FundingSnapshotRow]]:
    """Recent snapshots per (venue, symbol), newest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(FundingSnapshotRow).where(FundingSnapshotRow.time >= since).order_by(FundingSnapshotRow.time.desc())
        ).scalars()
        grouped: dict[tuple[str, str], list[FundingSnapshotRow]] = {}
        for row in rows:
            session.expunge(row)
            grouped.setdefault((row.venue, row.symbol), []).append(row)
    return grouped


def funding_opportunities(
    engine: Engine,
    strategy: StrategyParams,
    *,
    venues: Sequence[Venue],
    symbols: Sequence[str] = (),
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    anomaly_z: float = 3.0,
    limit: int = 10,
) -> list[Opportunity]:
    """Best first by |annualized|; at most ``limit``."""
    active = {(str(p.venue), p.symbol) for p in positions_with_status(engine, ACTIVE_STATUSES)}
    found = []
    for (venue, symbol), rows in _latest_rows(engine, now - max_age).items():
        latest = rows[0]
        if venue not in {str(v) for v in venues} or (symbols and symbol not in symbols) or (venue, symbol) in active:
            continue
        if abs(latest.annualized) < strategy.entry_annualized or latest.rate == 0:
            continue
        if latest.rate < 0 and not strategy.allow_margin_borrow:
            continue
        prices = [row.mark_price for row in rows[1 : PRICE_HISTORY + 1] if row.mark_price is not None]
        enough = len(prices) >= MIN_PRICE_HISTORY
        if enough and latest.mark_price is not None and is_anomalous(prices, latest.mark_price, anomaly_z):
            continue
        found.append(
            Opportunity(
                Venue(venue),
                symbol,
                latest.rate,
                latest.annualized,
                latest.interval_hours,
                latest.next_funding_time,
                latest.time,
            )
        )
    found.sort(key=lambda o: abs(o.annualized), reverse=True)
    return found[:limit]
