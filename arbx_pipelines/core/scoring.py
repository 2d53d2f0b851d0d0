"""Opportunity scoring and ranking: score = (0.6 x yield + 0.2 x persistence + 0.2 x liquidity) x venue risk factor.

Each component is in [0, 1] and independent of the other candidates, so a score means the same thing in a
backtest of one symbol and in a live ranking of hundreds:

- yield: |annualized| / yield_cap, capped at 1 (default cap 200 % a year);
- persistence: share of recent settlements paying the side we would hold (computed from history by the caller
  with :func:`persistence`);
- liquidity: 1 - expected slippage / max_slippage, floored at 0 (default max 0.5 %).

Public API::

    ScoringParams(yield_weight=0.6, persistence_weight=0.2, liquidity_weight=0.2, yield_cap=2,
                  max_slippage=0.005, venue_risk_factor={}, default_risk_factor=1)
    normalized_yield(annualized, yield_cap) -> Decimal
    persistence(recent_rates, direction) -> Decimal
    liquidity_score(expected_slippage_rate, max_slippage) -> Decimal
    score(annualized, persistence_share, expected_slippage_rate, venue, params) -> ScoreBreakdown
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import ZERO

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class ScoringParams:
    yield_weight: Decimal = Decimal("0.6")
    persistence_weight: Decimal = Decimal("0.2")
    liquidity_weight: Decimal = Decimal("0.2")
    yield_cap: Decimal = Decimal("2")
    max_slippage: Decimal = Decimal("0.005")
    venue_risk_factor: Mapping[Venue, Decimal] = field(default_factory=dict)
    default_risk_factor: Decimal = ONE

    def __post_init__(self) -> None:
        total = self.yield_weight + self.persistence_weight + self.liquidity_weight
        if total != ONE or min(self.yield_weight, self.persistence_weight, self.liquidity_weight) < 0:
            raise ValueError(f"score weights must be non-negative and sum to 1, got a sum of {total}")
        if self.yield_cap <= 0 or self.max_slippage <= 0:
            raise ValueError("yield_cap and max_slippage must be positive")
        for venue, factor in self.venue_risk_factor.items():
            if not 0 < factor <= 1:
                raise ValueError(f"risk factor of {venue} must be in (0, 1], got {factor}")

    def risk_factor(self, venue: Venue) -> Decimal:
        return self.venue_risk_factor.get(venue, self.default_risk_factor)


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    yield_score: Decimal
    persistence_score: Decimal
    liquidity_score: Decimal
    risk_factor: Decimal
    score: Decimal


def _clamp01(value: Decimal) -> Decimal:
    return min(ONE, max(ZERO, value))


def normalized_yield(annualized: Decimal, yield_cap: Decimal) -> Decimal:
    return _clamp01(abs(annualized) / yield_cap)


def persistence(recent_rates: Sequence[Decimal], direction: FundingDirection) -> Decimal:
    """Share of ``recent_rates`` (newest settlements of this symbol) that paid the side ``direction`` holds.
    No history scores 0: an unproven rate is not a persistent one."""
    if not recent_rates:
        return ZERO
    paying = sum(1 for rate in recent_rates if rate * direction.sign > 0)
    return Decimal(paying) / Decimal(len(recent_rates))


def liquidity_score(expected_slippage_rate: Decimal, max_slippage: Decimal) -> Decimal:
    return _clamp01(ONE - expected_slippage_rate / max_slippage)


def score(
    annualized: Decimal,
    persistence_share: Decimal,
    expected_slippage_rate: Decimal,
    venue: Venue,
    params: ScoringParams,
) -> ScoreBreakdown:
    if not 0 <= persistence_share <= 1:
        raise ValueError(f"persistence must be in [0, 1], got {persistence_share}")
    yield_part = normalized_yield(annualized, params.yield_cap)
    liquidity_part = liquidity_score(expected_slippage_rate, params.max_slippage)
    factor = params.risk_factor(venue)
    total = (
        params.yield_weight * yield_part
        + params.persistence_weight * persistence_share
        + params.liquidity_weight * liquidity_part
    ) * factor
    return ScoreBreakdown(yield_part, persistence_share, liquidity_part, factor, total)
