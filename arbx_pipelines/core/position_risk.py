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
    composite_risk(distance, (vol_4h, vol_1d, vol_1w), liquidity_score, venue_risk_factor) -> RiskScore
        the user's score: liquidation 0.4 + volatility 0.3 + liquidity 0.2 + venue 0.1, in [0, 1] -> RiskLevel
        (low < 0.3 <= medium < 0.5 <= high < 0.7 <= critical); .check_seconds() 300 / 180 / 60 / 30
    multi_period_volatility(times, prices, now) -> (vol_4h, vol_1d, vol_1w)       # daily-scaled
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
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


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class RiskScoreParams:
    """The user's composite risk score: liquidation 0.4, volatility (4h/1d/1w) 0.3, liquidity 0.2, venue 0.1."""

    liquidation_weight: Decimal = Decimal("0.4")
    volatility_weight: Decimal = Decimal("0.3")
    liquidity_weight: Decimal = Decimal("0.2")
    venue_weight: Decimal = Decimal("0.1")
    period_weights: tuple[float, float, float] = (0.5, 0.3, 0.2)  # 4h, 1d, 1w
    volatility_cap: float = 0.10  # daily volatility scoring the volatility part 1
    safe_distance: Decimal = Decimal("0.40")  # liquidation distance scoring the liquidation part 0 (tier medium)
    levels: tuple[tuple[Decimal, RiskLevel], ...] = (
        (Decimal("0.7"), RiskLevel.CRITICAL),
        (Decimal("0.5"), RiskLevel.HIGH),
        (Decimal("0.3"), RiskLevel.MEDIUM),
    )
    check_seconds: tuple[tuple[RiskLevel, int], ...] = (
        (RiskLevel.LOW, 300),
        (RiskLevel.MEDIUM, 180),
        (RiskLevel.HIGH, 60),
        (RiskLevel.CRITICAL, 30),
    )

    def __post_init__(self) -> None:
        total = self.liquidation_weight + self.volatility_weight + self.liquidity_weight + self.venue_weight
        if total != 1 or abs(sum(self.period_weights) - 1) > 1e-9:
            raise ValueError(f"risk weights must sum to 1, got {total} and {sum(self.period_weights)}")


DEFAULT_RISK_SCORE = RiskScoreParams()


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: Decimal  # 0 (safe) .. 1
    level: RiskLevel
    liquidation: Decimal
    volatility: Decimal
    liquidity: Decimal
    venue: Decimal

    def check_seconds(self, params: RiskScoreParams = DEFAULT_RISK_SCORE) -> int:
        """How often the position-risk sensor looks at a position of this level."""
        return dict(params.check_seconds)[self.level]


def _part(value: float) -> Decimal:
    return Decimal(repr(min(1.0, max(0.0, value)))).quantize(Decimal("0.000001"))


def composite_risk(
    distance: Decimal | None,
    volatility: tuple[float | None, float | None, float | None],
    liquidity_score: Decimal,
    venue_risk_factor: Decimal,
    params: RiskScoreParams = DEFAULT_RISK_SCORE,
) -> RiskScore:
    """Risk of an open hedge from its liquidation distance (None: no liquidation price, 0), the daily volatility of
    the last 4 hours, day and week (None: unknown, counted at the cap), the liquidity score (1 = deep book) and
    the venue's risk factor (1 = safest venue)."""
    liquidation = ZERO_PART if distance is None else _part(1 - float(distance / params.safe_distance))
    parts = [1.0 if v is None else v / params.volatility_cap for v in volatility]
    vol = _part(sum(w * min(1.0, p) for w, p in zip(params.period_weights, parts, strict=True)))
    liquidity = _part(1 - float(liquidity_score))
    venue = _part(1 - float(venue_risk_factor))
    total = (
        params.liquidation_weight * liquidation
        + params.volatility_weight * vol
        + params.liquidity_weight * liquidity
        + params.venue_weight * venue
    )
    level = next((lvl for threshold, lvl in params.levels if total >= threshold), RiskLevel.LOW)
    return RiskScore(total, level, liquidation, vol, liquidity, venue)


ZERO_PART = Decimal(0)
WINDOWS_SECONDS = (4 * 3600, 86_400, 7 * 86_400)


def multi_period_volatility(
    times: Sequence[float], prices: Sequence[float], now: float
) -> tuple[float | None, float | None, float | None]:
    """Daily-scaled volatility of log returns over the last 4 hours, day and week (None: fewer than 3 prices)."""
    out: list[float | None] = []
    for window in WINDOWS_SECONDS:
        points = [(t, p) for t, p in zip(times, prices, strict=True) if now - window <= t <= now and p > 0]
        points.sort()
        if len(points) < 3:
            out.append(None)
            continue
        returns = [math.log(b[1] / a[1]) for a, b in pairwise(points)]
        step = (points[-1][0] - points[0][0]) / (len(points) - 1)
        if step <= 0:
            out.append(None)
            continue
        out.append(statistics.stdev(returns) * math.sqrt(86_400 / step))
    return out[0], out[1], out[2]
