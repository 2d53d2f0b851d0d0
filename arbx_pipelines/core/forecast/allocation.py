"""Capital allocation over ranked opportunities, within the account's risk limits (DESIGN, "Risk").

Eligible symbols share the deployable capital (capital x max_account_share) in proportion to their score, in
rank order; each allocation is capped by the per-trade maximum notional, the venue's capital share and what is
left, and dropped when below the per-trade minimum. A hedge of notional N at leverage L ties up N (spot) plus
N / L (perp margin). What cannot be placed stays unallocated, as reserve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from arbx_pipelines.core.forecast.outlook import SymbolOutlook


@dataclass(frozen=True)
class AllocationLimits:
    capital: float = 500.0
    max_account_share: float = 0.75
    venue_share: Mapping[str, float] = field(default_factory=dict)  # default 0.34 per venue
    default_venue_share: float = 0.34
    max_trade: float = 150.0
    min_trade: float = 10.0


@dataclass(frozen=True)
class Allocation:
    venue: str
    symbol: str
    notional: float
    leverage: int
    capital_used: float
    score: float
    expected_daily_funding: float  # USDT a day at the forecast mean rate


@dataclass
class AllocationPlan:
    allocations: list[Allocation]
    skipped: dict[str, str]
    capital: float
    deployable: float

    @property
    def allocated(self) -> float:
        return sum(a.capital_used for a in self.allocations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "capital": self.capital,
            "deployable": self.deployable,
            "allocated": self.allocated,
            "unallocated": self.capital - self.allocated,
            "allocations": [asdict(a) for a in self.allocations],
            "skipped": self.skipped,
        }


def allocate(ranked: Sequence[SymbolOutlook], limits: AllocationLimits) -> AllocationPlan:
    deployable = limits.capital * limits.max_account_share
    chosen = [o for o in ranked if o.eligible and o.score > 0]
    total_score = sum(o.score for o in chosen)
    used_by_venue: dict[str, float] = {}
    left = deployable
    allocations: list[Allocation] = []
    skipped: dict[str, str] = {o.key: o.reason for o in ranked if not o.eligible}
    for item in sorted(chosen, key=lambda o: -o.score):
        per_notional = 1 + 1 / item.leverage
        venue_cap = limits.capital * limits.venue_share.get(item.venue, limits.default_venue_share)
        room = min(left, venue_cap - used_by_venue.get(item.venue, 0.0))
        want = deployable * item.score / total_score
        notional = min(limits.max_trade, want / per_notional, room / per_notional)
        if notional < limits.min_trade:
            skipped[item.key] = f"allocation {max(notional, 0):.2f} USDT below the minimum trade {limits.min_trade}"
            continue
        capital_used = notional * per_notional
        left -= capital_used
        used_by_venue[item.venue] = used_by_venue.get(item.venue, 0.0) + capital_used
        daily = abs(item.forecast_mean) / 365 * notional
        allocations.append(
            Allocation(item.venue, item.symbol, notional, item.leverage, capital_used, item.score, daily)
        )
    return AllocationPlan(allocations, skipped, limits.capital, deployable)
