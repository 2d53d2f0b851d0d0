"""Facts the execution layer reports back into the core (nautilus_trader style: immutable, past tense).

Public API::

    OrderFilled(client_order_id, execution_id, leg, venue, symbol, side, amount, base_amount, average_price,
                fee, fee_currency, time)                    # one fill report (partial or final) of one order
    OrderRejected(client_order_id, execution_id, leg, venue, symbol, reason, time)
    FundingSettled(venue, symbol, funding_time, rate, position_base, mark_price, amount, time)
    HedgeImbalance(execution_id, venue, symbol, spot_filled_base, perp_filled_base, time)
    filled_base(fills, leg) -> Decimal                      # total base filled on one leg (e.g. "spot")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from arbx_pipelines.core.models import Side, Venue
from arbx_pipelines.core.money import ZERO


@dataclass(frozen=True, slots=True)
class OrderFilled:
    client_order_id: str
    execution_id: str
    leg: str
    venue: Venue
    symbol: str
    side: Side
    amount: Decimal
    base_amount: Decimal
    average_price: Decimal
    fee: Decimal
    fee_currency: str
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderRejected:
    client_order_id: str
    execution_id: str
    leg: str
    venue: Venue
    symbol: str
    reason: str
    time: datetime


@dataclass(frozen=True, slots=True)
class FundingSettled:
    """One funding settlement actually received (positive) or paid (negative) by a position."""

    venue: Venue
    symbol: str
    funding_time: datetime
    rate: Decimal
    position_base: Decimal
    mark_price: Decimal
    amount: Decimal
    time: datetime


@dataclass(frozen=True, slots=True)
class HedgeImbalance:
    execution_id: str
    venue: Venue
    symbol: str
    spot_filled_base: Decimal
    perp_filled_base: Decimal
    time: datetime

    @property
    def imbalance_base(self) -> Decimal:
        return self.spot_filled_base - self.perp_filled_base


def filled_base(fills: Iterable[OrderFilled], leg: str) -> Decimal:
    """Base amount filled on ``leg`` across its (possibly several partial) fill reports."""
    return sum((fill.base_amount for fill in fills if fill.leg == leg), ZERO)
