"""Gathers the records of one file: one record per key, duplicates checked, intervals derived, sorted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from arbx_pipelines.core.funding_history import derive_interval_hours, settlement_instant
from arbx_pipelines.history.records import FundingKey, FundingRecord, HistoryFormatError, ParsedFile, PriceRecord

_PriceKey = tuple[str, str, datetime]


class Collector:
    """Accumulates validated records of one file; a key seen twice with different values is an error."""

    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.format = fmt
        self.rows = 0
        self.duplicates = 0
        self.missing_values = 0
        self._funding: dict[FundingKey, tuple[int, FundingRecord]] = {}
        self._prices: dict[_PriceKey, tuple[int, PriceRecord]] = {}
        self._marks: dict[FundingKey, Decimal] = {}

    def add_funding(
        self,
        line: int,
        venue: str,
        symbol: str,
        time: datetime,
        rate: Decimal,
        interval_hours: int | None,
        mark_price: Decimal | None = None,
    ) -> None:
        instant = settlement_instant(time)
        key = FundingKey(venue, symbol, instant)
        record = FundingRecord(venue, symbol, instant, rate, interval_hours)
        seen = self._funding.get(key)
        if seen is not None:
            first_line, first = seen
            if first != record:
                raise HistoryFormatError(
                    self.path,
                    line,
                    f"duplicate settlement {venue} {symbol} {instant.isoformat()} with a different value "
                    f"(rate {rate}, interval {interval_hours}) than line {first_line} "
                    f"(rate {first.rate}, interval {first.interval_hours})",
                )
            self.duplicates += 1
            return
        self._funding[key] = (line, record)
        if mark_price is not None:
            self._marks[key] = mark_price

    def add_price(self, line: int, venue: str, symbol: str, time: datetime, close: Decimal) -> None:
        key = (venue, symbol, time)
        record = PriceRecord(venue, symbol, time, close)
        seen = self._prices.get(key)
        if seen is not None:
            first_line, first = seen
            if first.close != close:
                raise HistoryFormatError(
                    self.path,
                    line,
                    f"duplicate price {venue} {symbol} {time.isoformat()} with close {close}, "
                    f"but {first.close} on line {first_line}",
                )
            self.duplicates += 1
            return
        self._prices[key] = (line, record)

    def finish(self) -> ParsedFile:
        if self.rows == 0:
            raise HistoryFormatError(self.path, 2, "no data rows")
        return ParsedFile(
            path=self.path,
            format=self.format,
            rows=self.rows,
            funding=_with_intervals(record for _, record in self._funding.values()),
            prices=sorted((r for _, r in self._prices.values()), key=lambda r: (r.venue, r.symbol, r.time)),
            mark_prices=self._marks,
            duplicate_rows=self.duplicates,
            missing_values=self.missing_values,
        )


def _with_intervals(records: Iterable[FundingRecord]) -> list[FundingRecord]:
    """Sort by (venue, symbol, time) and fill missing intervals from the spacing of each symbol's settlements."""
    groups: dict[tuple[str, str], list[FundingRecord]] = defaultdict(list)
    for record in records:
        groups[(record.venue, record.symbol)].append(record)
    result: list[FundingRecord] = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda r: r.funding_time)
        if any(r.interval_hours is None for r in group):
            derived = derive_interval_hours([r.funding_time for r in group])
            group = [
                r if r.interval_hours is not None else FundingRecord(r.venue, r.symbol, r.funding_time, r.rate, d)
                for r, d in zip(group, derived, strict=True)
            ]
        result.extend(group)
    return result
