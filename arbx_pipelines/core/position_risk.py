"""Risk of an open hedge (DESIGN, "Risk"): distance to liquidation -> tier -> action, and hedge deviation ->
rebalance order.

Liquidation distance = |price - liquidation_price| / price. Tiers, most severe crossed wins (thresholds are
strict: exactly 40 % is still "none"):

    distance <  10 %  EMERGENCY_CLOSE   close the position now
    distance <  20 %  REDUCE_LEVERAGE   add margin / cut size
    distance <  25 %  HIGH              alert, check more often
    distance <  30 %  WARN              alert
    distance <  40 %  MEDIUM            watch
    otherwise         NONE

Hedge deviation = |perp notional - spot notional| / perp notional; above 3 % the hedge is rebalanced by reducing
the larger leg to the smaller one (never adds capital or exposure), rounded down to the leg's lot step so the
residual is under one lot.

Public API::

    class LiquidationTier(StrEnum): NONE, MEDIUM, WARN, HIGH, REDUCE_LEVERAGE, EMERGENCY_CLOSE
        .severity -> int ; .alerts -> bool ; .check_more_often -> bool
    @dataclass(frozen=True) PositionRiskParams(medium=0.40, warn=0.30, high=0.25, reduce_leverage=0.20,
        emergency_close=0.10, hedge_rebalance=0.03, check_seconds=300, high_check_seconds=60)
    liquidation_distance(price, liquidation_price) -> Decimal
    liquidation_tier(distance, params=PositionRiskParams()) -> LiquidationTier
    assess_liquidation(price, liquidation_price, params=...) -> LiquidationTier   # None liq price -> NONE
    check_interval_seconds(tier, params=...) -> int
    hedge_deviation(perp_notional, spot_notional) -> Decimal
    plan_rebalance(direction, spot_base, perp_base, spot_price, perp_price, spot_rules, perp_rules,
                   params=...) -> RebalanceOrder | None
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.models import Side
from arbx_pipelines.core.sizing import MarketRules, check_leg, contracts_to_base, to_market_amount


class LiquidationTier(StrEnum):
    NONE = "none"
    MEDIUM = "medium"
    WARN = "warn"
    HIGH = "high"
    REDUCE_LEVERAGE = "reduce_leverage"
    EMERGENCY_CLOSE = "emergency_close"

    @property
    def severity(self) -> int:
        return _SEVERITY.index(self)

    @property
    def alerts(self) -> bool:
        """Whether the trader should hear about it (warn and worse)."""
        return self.severity >= LiquidationTier.WARN.severity

    @property
    def check_more_often(self) -> bool:
        return self.severity >= LiquidationTier.HIGH.severity


_SEVERITY: tuple[LiquidationTier, ...] = (
    LiquidationTier.NONE,
    LiquidationTier.MEDIUM,
    LiquidationTier.WARN,
    LiquidationTier.HIGH,
    LiquidationTier.REDUCE_LEVERAGE,
    LiquidationTier.EMERGENCY_CLOSE,
)


@dataclass(frozen=True, slots=True)
class PositionRiskParams:
    medium: Decimal = Decimal("0.40")
    warn: Decimal = Decimal("0.30")
    high: Decimal = Decimal("0.25")
    reduce_leverage: Decimal = Decimal("0.20")
    emergency_close: Decimal = Decimal("0.10")
    hedge_rebalance: Decimal = Decimal("0.03")
    check_seconds: int = 300
    high_check_seconds: int = 60

    def __post_init__(self) -> None:
        ladder = (self.medium, self.warn, self.high, self.reduce_leverage, self.emergency_close)
        if any(upper <= lower for upper, lower in pairwise(ladder)) or ladder[-1] <= 0:
            raise ValueError(
                "liquidation thresholds must fall strictly: medium > warn > high > reduce_leverage > "
                f"emergency_close > 0, got {[str(x) for x in ladder]}"
            )
        if self.hedge_rebalance <= 0:
            raise ValueError(f"hedge_rebalance must be positive, got {self.hedge_rebalance}")

    def tier_thresholds(self) -> tuple[tuple[Decimal, LiquidationTier], ...]:
        """(threshold, tier) from the most severe up: the first threshold the distance is below wins."""
        return (
            (self.emergency_close, LiquidationTier.EMERGENCY_CLOSE),
            (self.reduce_leverage, LiquidationTier.REDUCE_LEVERAGE),
            (self.high, LiquidationTier.HIGH),
            (self.warn, LiquidationTier.WARN),
            (self.medium, LiquidationTier.MEDIUM),
        )


DEFAULT_POSITION_RISK = PositionRiskParams()


def liquidation_distance(price: Decimal, liquidation_price: Decimal) -> Decimal:
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if liquidation_price < 0:
        raise ValueError(f"liquidation_price must not be negative, got {liquidation_price}")
    return abs(price - liquidation_price) / price


def liquidation_tier(distance: Decimal, params: PositionRiskParams = DEFAULT_POSITION_RISK) -> LiquidationTier:
    for threshold, tier in params.tier_thresholds():
        if distance < threshold:
            return tier
    return LiquidationTier.NONE


def assess_liquidation(
    price: Decimal, liquidation_price: Decimal | None, params: PositionRiskParams = DEFAULT_POSITION_RISK
) -> LiquidationTier:
    """Tier of a perp position; no liquidation price (venue reports none, e.g. fully collateralized) is NONE."""
    if liquidation_price is None or liquidation_price == 0:
        return LiquidationTier.NONE
    return liquidation_tier(liquidation_distance(price, liquidation_price), params)


def check_interval_seconds(tier: LiquidationTier, params: PositionRiskParams = DEFAULT_POSITION_RISK) -> int:
    return params.high_check_seconds if tier.check_more_often else params.check_seconds


def hedge_deviation(perp_notional: Decimal, spot_notional: Decimal) -> Decimal:
    if perp_notional <= 0:
        raise ValueError(f"perp_notional must be positive to measure a hedge, got {perp_notional}")
    return abs(perp_notional - spot_notional) / perp_notional


@dataclass(frozen=True, slots=True)
class RebalanceOrder:
    """Reduce ``leg`` by ``base_amount`` (``amount`` in the market's unit) with ``side``; perp orders are
    reduce-only. ``placeable`` is False when the venue's minimums reject the size (then alert, do not send)."""

    leg: Leg
    side: Side
    amount: Decimal
    base_amount: Decimal
    reduce_only: bool
    deviation: Decimal
    residual_base: Decimal
    placeable: bool
    detail: str = ""


def plan_rebalance(
    direction: FundingDirection,
    spot_base: Decimal,
    perp_base: Decimal,
    spot_price: Decimal,
    perp_price: Decimal,
    spot_rules: MarketRules,
    perp_rules: MarketRules,
    params: PositionRiskParams = DEFAULT_POSITION_RISK,
) -> RebalanceOrder | None:
    """The order that brings a drifted hedge back within one lot, or None when no rebalance is needed
    (deviation within the threshold, or the excess is already below one lot of the larger leg).

    ``spot_base`` / ``perp_base`` are the absolute sizes of the two legs in coins. Deviation is measured on
    notionals (DESIGN); the order size comes from the base difference, so a pure basis gap trades nothing.
    """
    deviation = hedge_deviation(perp_base * perp_price, spot_base * spot_price)
    if deviation <= params.hedge_rebalance or spot_base == perp_base:
        return None
    leg, rules, price = (
        (Leg.PERP, perp_rules, perp_price) if perp_base > spot_base else (Leg.SPOT, spot_rules, spot_price)
    )
    excess = abs(perp_base - spot_base)
    amount = to_market_amount(excess, rules)
    base_amount = contracts_to_base(amount, rules.contract_size)
    if amount == 0:
        return None
    rejection = check_leg(leg, amount, price, rules)
    return RebalanceOrder(
        leg=leg,
        side=direction.closing_side(leg),
        amount=amount,
        base_amount=base_amount,
        reduce_only=leg is Leg.PERP,
        deviation=deviation,
        residual_base=excess - base_amount,
        placeable=rejection is None,
        detail="" if rejection is None else rejection.detail,
    )
