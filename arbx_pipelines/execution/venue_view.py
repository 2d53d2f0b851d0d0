"""What a venue says about our hedges right now: the perp position (size, mark, liquidation price) and the spot
coin balance of each active position's symbol, read once per venue; and each hedge's legs as the venue shows them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.venue_data import Balance, PositionInfo
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.execution.sending import read_with_retry
from arbx_pipelines.venues.client import VenueClient


@dataclass(frozen=True)
class VenueView:
    perps: dict[str, PositionInfo]  # perp symbol -> position
    spot: dict[str, Balance]  # coin -> spot balance

    def perp_amount(self, symbol: str) -> Decimal:
        info = self.perps.get(symbol)
        return info.amount if info is not None else ZERO

    def spot_amount(self, symbol: str) -> Decimal:
        balance = self.spot.get(base_of(symbol))
        return balance.total if balance is not None else ZERO


async def venue_view(deps: ExecutionDeps, client: VenueClient, symbols: Sequence[str] | None = None) -> VenueView:
    wanted = list(symbols) if symbols else None
    perps, spot = await asyncio.gather(
        read_with_retry(deps, "positions", lambda: client.positions(wanted)),
        read_with_retry(deps, "balances", lambda: client.balances(MarketType.SPOT)),
    )
    return VenueView({p.symbol: p for p in perps}, spot)


def legs_on_venue(position: PositionRecord, view: VenueView) -> tuple[Decimal, Decimal]:
    """(spot, perp) in coins as the venue holds them, capped at what the database says is ours.

    A positive-funding hedge's spot leg is coins in the wallet, so the balance bounds it. A negative-funding hedge's
    spot leg is coins it sold from inventory: no balance shows it, so it is taken as recorded."""
    recorded = position.spot_amount
    spot = min(view.spot_amount(position.symbol), recorded) if position.direction.short_perp else recorded
    perp = min(view.perp_amount(position.symbol), position.perp_amount)
    return max(spot, ZERO), max(perp, ZERO)
