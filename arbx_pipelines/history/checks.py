"""Runs the pure history checks (core.history_checks) over what is stored, one symbol at a time.

Thin on purpose: the Dagster asset checks and ``arbx history check`` both call :func:`check_funding_history`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.core.history_checks import (
    OutOfRange,
    Settlement,
    duplicate_settlements,
    missing_settlements,
    overdue,
    rate_cap,
    rates_out_of_range,
)
from arbx_pipelines.storage.models import FundingRateRow


@dataclass(slots=True)
class SymbolHistoryCheck:
    venue: str
    symbol: str
    settlements: int = 0
    last: datetime | None = None
    missing: list[datetime] = field(default_factory=list)
    duplicates: list[datetime] = field(default_factory=list)
    out_of_range: list[OutOfRange] = field(default_factory=list)
    overdue_by: timedelta | None = None

    @property
    def passed(self) -> bool:
        return not (self.missing or self.duplicates or self.out_of_range or self.overdue_by)


def check_funding_history(
    engine: Engine,
    *,
    now: datetime | None = None,
    venue: str | None = None,
    rate_caps: Mapping[str, Decimal] | None = None,
    grace: timedelta = timedelta(minutes=30),
) -> list[SymbolHistoryCheck]:
    """One result per stored (venue, symbol); freshness is checked only when ``now`` is given."""
    t = FundingRateRow
    query = select(t.venue, t.symbol, t.funding_time, t.rate, t.interval_hours).order_by(
        t.venue, t.symbol, t.funding_time
    )
    if venue is not None:
        query = query.where(t.venue == venue)
    grouped: dict[tuple[str, str], list[Settlement]] = {}
    with engine.connect() as conn:
        for row_venue, symbol, time, rate, interval in conn.execute(query):
            grouped.setdefault((row_venue, symbol), []).append(Settlement(time, rate, interval))
    results: list[SymbolHistoryCheck] = []
    for (row_venue, symbol), settlements in grouped.items():
        last = settlements[-1]
        results.append(
            SymbolHistoryCheck(
                venue=row_venue,
                symbol=symbol,
                settlements=len(settlements),
                last=last.time,
                missing=missing_settlements(settlements),
                duplicates=duplicate_settlements(s.time for s in settlements),
                out_of_range=rates_out_of_range(settlements, rate_cap(row_venue, symbol, rate_caps)),
                overdue_by=overdue(last.time, now, last.interval_hours, grace=grace) if now is not None else None,
            )
        )
    return results
