"""The records every history format is parsed into, and the one error type for malformed input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

#: venues whose history can be imported. arbx trades only binance, okx and bitget; bybit history is accepted for
#: research and backtests (the recorded all_exchanges.csv compares binance, bybit and okx) and is never traded.
HISTORY_VENUES: tuple[str, ...] = ("binance", "okx", "bitget", "bybit")


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One funding settlement: the rate (a fraction, 0.0001 = 0.01 %) paid at ``funding_time`` (UTC, minute)."""

    venue: str
    symbol: str
    funding_time: datetime
    rate: Decimal
    interval_hours: int | None


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """A close price: ``close`` was the last price at ``time`` (UTC), i.e. at the END of the bar it closes.

    Sources that label bars by their opening time are shifted by the bar length when parsed, so joining a funding
    settlement at T with the price at T never looks into the future.
    """

    venue: str
    symbol: str
    time: datetime
    close: Decimal


class HistoryFormatError(ValueError):
    """Malformed history input; the message is ``"<file>:<line>: <reason>"``."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FundingKey:
    venue: str
    symbol: str
    funding_time: datetime


@dataclass(slots=True)
class ParsedFile:
    """Everything one file holds, validated; ``rows`` counts the data rows (or JSON elements) read."""

    path: str
    format: str
    rows: int = 0
    funding: list[FundingRecord] = field(default_factory=list)
    prices: list[PriceRecord] = field(default_factory=list)
    #: the mark price at a settlement, where the source gives one (Binance's fundingRate endpoint)
    mark_prices: dict[FundingKey, Decimal] = field(default_factory=dict)
    #: rows repeating an earlier row of the same file exactly (same key, same value): kept once
    duplicate_rows: int = 0
    #: values the source left blank on purpose (no observation that hour), counted so nothing vanishes unseen
    missing_values: int = 0
