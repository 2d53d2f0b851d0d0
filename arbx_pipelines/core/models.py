"""Domain vocabulary shared by every layer: venues, market kinds, sides, funding observations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Venue(StrEnum):
    BINANCE = "binance"
    OKX = "okx"
    BITGET = "bitget"


ALL_VENUES: tuple[Venue, ...] = (Venue.BINANCE, Venue.OKX, Venue.BITGET)


class Mode(StrEnum):
    """Where market data comes from and where orders go (DESIGN, "Modes")."""

    SIM = "sim"
    PAPER = "paper"
    DEMO = "demo"
    LIVE = "live"


class MarketType(StrEnum):
    SPOT = "spot"
    SWAP = "swap"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class FundingRate:
    """One funding observation or settlement of a USDT perpetual (ccxt unified symbol)."""

    venue: Venue
    symbol: str
    funding_time: datetime
    rate: Decimal
    interval_hours: int = 8
    mark_price: Decimal | None = None


def perp_symbol(base: str, quote: str = "USDT") -> str:
    """ccxt unified symbol of a linear perpetual, e.g. ``BTC/USDT:USDT``."""
    return f"{base}/{quote}:{quote}"


def spot_symbol_of(perp: str) -> str:
    """The spot symbol hedging a linear perpetual: ``BTC/USDT:USDT`` -> ``BTC/USDT``."""
    return perp.split(":", 1)[0]
