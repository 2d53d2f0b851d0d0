"""Opportunity ranking: the forecast outlooks in order, each with the live scorer's score beside it.

The order is eligibility first, then the ARIMA forecast score (net return per day of holding after costs, times the
venue's risk factor): an analytics view only, no live decision reads it. The live score beside it is the user's
score (``core.scoring.score``: 0.6 yield + 0.2 persistence share of recent settlements + 0.2 liquidity, x venue
risk), the one the funding-opportunity sensor ranks by (``core.funding_rules.opportunity_score``, fed there with the
live rate and its own AR(1) forecast, ``funding_rules.assess_entry``); showing both lets the trader see where the
ARIMA forecast disagrees with what the live path does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.backtest.live_rules import venue_of
from arbx_pipelines.core.forecast.outlook import SymbolOutlook
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.money import to_decimal
from arbx_pipelines.core.scoring import ScoringParams, persistence, score


@dataclass(frozen=True)
class RankedOpportunity:
    rank: int
    outlook: SymbolOutlook
    live_score: float
    persistence_share: float

    def row(self) -> dict[str, Any]:
        o = self.outlook
        return {
            "rank": self.rank,
            "symbol": o.key,
            "eligible": o.eligible,
            "reason": o.reason,
            "forecast_score": o.score,
            "live_score": self.live_score,
            "annualized": o.annualized,
            "forecast_next": o.forecast_next,
            "forecast_mean": o.forecast_mean,
            "holding_hours": o.holding.hours,
            "expected_net_rate": o.holding.expected_net_rate,
            "persistence_hours": o.persistence.expected_hours,
            "persistence_share": self.persistence_share,
            "funding_z": o.anomaly.funding_z,
            "leverage": o.leverage,
        }


def rank_outlooks(
    outlooks: Sequence[SymbolOutlook],
    params: ScoringParams,
    *,
    expected_slippage_rate: Decimal = Decimal("0.0001"),
    live_annualized: Mapping[str, Decimal] | None = None,
) -> list[RankedOpportunity]:
    """``live_annualized`` (by ``venue:symbol``, from the latest funding snapshot) replaces the last settled rate in
    the live score where a symbol has one: the live sensors score what the venue quotes now."""
    live_annualized = live_annualized or {}
    ordered = sorted(outlooks, key=lambda o: (not o.eligible, -o.score, o.key))
    ranked = []
    for rank, item in enumerate(ordered, start=1):
        direction = FundingDirection.POSITIVE if item.direction > 0 else FundingDirection.NEGATIVE
        share = persistence([to_decimal(r) for r in item.recent_rates], direction)
        annualized = live_annualized.get(item.key, to_decimal(item.annualized))
        live = score(annualized, share, expected_slippage_rate, venue_of(item.venue), params)
        ranked.append(RankedOpportunity(rank, item, float(live.score), float(share)))
    return ranked
