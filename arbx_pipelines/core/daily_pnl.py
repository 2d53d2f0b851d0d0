"""One day's P&L components per symbol (see ``storage.pnl`` for where each comes from).

net = funding received - fees paid + price P&L of hedges closed that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from arbx_pipelines.core.money import ZERO


@dataclass
class SymbolDay:
    funding: Decimal = ZERO
    fees: Decimal = ZERO
    price_pnl: Decimal = ZERO
    fills: int = 0
    opened: int = 0
    closed: int = 0

    @property
    def net(self) -> Decimal:
        return self.funding - self.fees + self.price_pnl


@dataclass
class DayActivity:
    day: date
    symbols: dict[str, SymbolDay] = field(default_factory=dict)
    unconverted_fees: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    closed_without_pnl: int = 0

    def of(self, key: str) -> SymbolDay:
        return self.symbols.setdefault(key, SymbolDay())

    @property
    def funding(self) -> Decimal:
        return sum((s.funding for s in self.symbols.values()), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((s.fees for s in self.symbols.values()), ZERO)

    @property
    def price_pnl(self) -> Decimal:
        return sum((s.price_pnl for s in self.symbols.values()), ZERO)

    @property
    def net(self) -> Decimal:
        return self.funding - self.fees + self.price_pnl


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as [start, end)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
