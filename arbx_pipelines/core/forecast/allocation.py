"""Capital allocation of the forecast ranking through the live allocator (``core.allocation``).

Eligible symbols are offered in rank order, each asking for the per-trade maximum notional at its own dynamic
leverage; the live allocator applies the coin cap, the account cap and the minimum trade, counting what is
already deployed (open positions) and what earlier symbols in the ranking took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.allocation import Allocation, AllocationParams, AllocationRequest, allocate
from arbx_pipelines.core.forecast.outlook import SymbolOutlook
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.money import ZERO


@dataclass
class RankedAllocation:
    allocations: list[Allocation] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    capital: Decimal = ZERO
    already_used: Decimal = ZERO

    @property
    def allocated(self) -> Decimal:
        return sum((a.capital for a in self.allocations), ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {
            "capital": str(self.capital),
            "already_used": str(self.already_used),
            "allocated": str(self.allocated),
            "free": str(self.capital - self.already_used - self.allocated),
            "allocations": [
                {
                    "venue": str(a.venue),
                    "symbol": a.symbol,
                    "coin": a.coin,
                    "notional": str(a.notional),
                    "capital": str(a.capital),
                    "leverage": a.leverage,
                }
                for a in self.allocations
            ],
            "skipped": self.skipped,
        }


def allocate_ranked(
    ranked: Sequence[SymbolOutlook],
    total_capital: Decimal,
    params: AllocationParams,
    *,
    used_by_coin: Mapping[str, Decimal] | None = None,
    used_total: Decimal = ZERO,
) -> RankedAllocation:
    coin_used = dict(used_by_coin or {})
    result = RankedAllocation(capital=total_capital, already_used=used_total)
    used = used_total
    for item in ranked:
        if not item.eligible:
            result.skipped[item.key] = item.reason
            continue
        try:
            venue = Venue(item.venue)
        except ValueError:
            result.skipped[item.key] = f"venue {item.venue} is not traded by arbx"
            continue
        request = AllocationRequest(venue, item.symbol, params.max_trade_usdt)
        plan = allocate(
            [request], total_capital, params, leverage=item.leverage, used_by_coin=coin_used, used_total=used
        )
        for skipped in plan.skipped:
            result.skipped[item.key] = f"{skipped.reason}: {skipped.detail}"
        for allocation in plan.allocations:
            result.allocations.append(allocation)
            coin_used[allocation.coin] = coin_used.get(allocation.coin, ZERO) + allocation.capital
            used += allocation.capital
    return result
