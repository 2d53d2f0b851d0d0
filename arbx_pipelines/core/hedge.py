"""The shape of a funding hedge: which way each leg trades for a given funding sign.

Positive funding (longs pay shorts): short the perp and buy spot. Negative funding: long the perp and sell spot
(from inventory, or borrowed when margin borrowing is enabled). Both legs carry the same base amount.

Public API::

    class Leg(StrEnum): SPOT, PERP
    class FundingDirection(StrEnum): POSITIVE, NEGATIVE
        FundingDirection.of_rate(rate) -> FundingDirection     # rate == 0 is rejected
        .sign -> int                    # +1 / -1: multiply a rate by it to get "rate in our favour"
        .short_perp -> bool
        .opening_side(leg) -> Side      # side that opens (or enlarges) the leg
        .closing_side(leg) -> Side      # side that reduces the leg
    base_of(symbol) -> str              # "BTC/USDT:USDT" -> "BTC"
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from arbx_pipelines.core.models import Side


class Leg(StrEnum):
    SPOT = "spot"
    PERP = "perp"


class FundingDirection(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"

    @classmethod
    def of_rate(cls, rate: Decimal) -> FundingDirection:
        if rate == 0:
            raise ValueError("a zero funding rate has no direction to trade")
        return cls.POSITIVE if rate > 0 else cls.NEGATIVE

    @property
    def sign(self) -> int:
        return 1 if self is FundingDirection.POSITIVE else -1

    @property
    def short_perp(self) -> bool:
        return self is FundingDirection.POSITIVE

    def opening_side(self, leg: Leg) -> Side:
        if leg is Leg.PERP:
            return Side.SELL if self.short_perp else Side.BUY
        return Side.BUY if self.short_perp else Side.SELL

    def closing_side(self, leg: Leg) -> Side:
        return self.opening_side(leg).opposite


def base_of(symbol: str) -> str:
    """The base coin of a ccxt unified symbol (spot or linear perp)."""
    base = symbol.split("/", 1)[0].strip()
    if not base or "/" not in symbol:
        raise ValueError(f"not a ccxt unified symbol: {symbol!r}")
    return base
