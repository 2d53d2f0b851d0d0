"""Runs the pure history checks (core.history_checks) over what is stored, one symbol at a time.

Thin on purpose: the Dagster asset checks and ``arbx history check`` both call :func:`check_funding_history`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.history_checks import (
    OutOfRange,
    duplicate_settlements,
    missing_settlements,
    overdue,
    rate_cap,
    rates_out_of_range,
)
from arbx_pipelines.storage.funding import settlements_by_symbol


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
    since: datetime | None = None,
    rate_caps: Mapping[str, Decimal] | None = None,
    grace: timedelta = timedelta(minutes=30),
) -> list[SymbolHistoryCheck]:
    """One result per stored (venue, symbol) with settlements since ``since`` (all when None); freshness is checked
    only when ``now`` is given."""
    grouped = settlements_by_symbol(engine, venue=venue, since=since)
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
