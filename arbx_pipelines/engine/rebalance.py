"""Inventory skew across venues and the transfers that would even it out (suggestions only: arbx never withdraws).

Spot arbitrage moves coins from the venue it buys on to the venue it sells on, and USDT the other way, so inventory
drifts until one side can no longer trade. For each asset the target is an equal share per venue; a venue holding
less than ``(1 - tolerance)`` of it should receive from the venues holding the most, in as few transfers as needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Transfer:
    asset: str
    source: str
    target: str
    amount: Decimal


def skew(holdings: Mapping[str, Mapping[str, Decimal]], asset: str) -> dict[str, Decimal]:
    """Each venue's share of the asset's total (empty when nobody holds any)."""
    total = sum((held.get(asset, ZERO) for held in holdings.values()), ZERO)
    if total <= 0:
        return {}
    return {venue: held.get(asset, ZERO) / total for venue, held in holdings.items()}


def suggest_transfers(
    holdings: Mapping[str, Mapping[str, Decimal]], assets: list[str], tolerance: Decimal = Decimal("0.25")
) -> list[Transfer]:
    """Transfers that bring every venue below ``(1 - tolerance)`` of the equal share up to it."""
    transfers: list[Transfer] = []
    venues = sorted(holdings)
    if len(venues) < 2:
        return transfers
    for asset in assets:
        amounts = {venue: holdings[venue].get(asset, ZERO) for venue in venues}
        target = sum(amounts.values(), ZERO) / len(venues)
        if target <= 0:
            continue
        needy = sorted((v for v in venues if amounts[v] < target * (1 - tolerance)), key=lambda v: amounts[v])
        for receiver in needy:
            missing = target - amounts[receiver]
            for giver in sorted(venues, key=lambda v: amounts[v], reverse=True):
                spare = amounts[giver] - target
                if missing <= 0 or spare <= 0 or giver == receiver:
                    continue
                amount = min(missing, spare).quantize(Decimal("0.00000001"))
                transfers.append(Transfer(asset, giver, receiver, amount))
                amounts[giver] -= amount
                amounts[receiver] += amount
                missing -= amount
    return transfers
