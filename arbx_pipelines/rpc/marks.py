"""A position marked at a price (pure, Decimal): unrealized P&L, distance to liquidation, hedge deviation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.position_risk import hedge_deviation, liquidation_distance
from arbx_pipelines.storage.views import PositionRecord

ZERO = Decimal(0)


@dataclass(frozen=True)
class Marked:
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    liquidation_distance: Decimal | None
    hedge_deviation: Decimal | None


def direction_label(direction: str) -> str:
    return "short perp + long spot" if direction == "positive" else "long perp + short spot"


def mark(position: PositionRecord, price: Decimal | None) -> Marked:
    """Both legs marked at ``price`` plus the funding received minus the fees paid so far (what closing at that price
    would realize before the closing fees). Without a price only the hedge deviation is known."""
    deviation = None
    if position.perp_amount > 0:
        deviation = hedge_deviation(position.perp_amount, position.spot_amount)
    if price is None or price <= 0:
        return Marked(None, None, None, deviation)
    sign = Decimal(1) if position.direction == "positive" else Decimal(-1)
    perp = (position.perp_entry_price or price) - price
    spot = price - (position.spot_entry_price or price)
    legs = sign * (perp * position.perp_amount + spot * position.spot_amount)
    unrealized = legs + position.funding_received - position.fees_paid
    distance = None
    if position.liquidation_price is not None and position.liquidation_price > 0:
        distance = liquidation_distance(price, position.liquidation_price)
    return Marked(price, unrealized, distance, deviation)
