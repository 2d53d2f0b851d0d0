"""Capital as sizing and the risk check see it: USDT per venue wallet, what open hedges commit, and the notional an
entry asks for.

Total capital = USDT on every enabled venue (a unified account counted once) + the spot coins open hedges hold,
at their entry price - the coins negative-funding hedges sold from inventory and must buy back (their proceeds sit
in the USDT). A hedge commits its spot leg plus the perp margin (``capital_for``).

The wanted notional is the largest that fits the per-trade maximum, the coin and account caps (``allocate``), the
venue's capital share and its reserve, but never less than the per-trade minimum: a trade the limits cannot fit is
then named by the risk check that blocks it, instead of shrinking to nothing silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.allocation import AllocationRequest, allocate, capital_for
from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import MarketType, Venue
from arbx_pipelines.core.money import CENT, ZERO, quantize_down, to_decimal
from arbx_pipelines.core.risk import AccountView
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.storage.executions import opens_still_sending
from arbx_pipelines.venues.client import VenueClient

ONE = Decimal(1)


@dataclass(frozen=True)
class VenueWallets:
    """USDT of one venue: its spot and perpetual wallets (the same numbers twice for a unified account), and the free
    coins of the spot wallet (what a negative-funding hedge may sell, see :mod:`arbx_pipelines.execution.inventory`)."""

    venue: Venue
    spot_free: Decimal
    spot_total: Decimal
    swap_free: Decimal
    swap_total: Decimal
    unified: bool
    spot_coins: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.spot_total if self.unified else self.spot_total + self.swap_total

    @property
    def free(self) -> Decimal:
        return self.spot_free if self.unified else self.spot_free + self.swap_free


async def venue_wallets(client: VenueClient) -> VenueWallets:
    if not client.separate_wallets:
        balances = await client.balances(MarketType.SPOT)
        coins = {coin: b.free for coin, b in balances.items() if coin != "USDT"}
        unified = balances.get("USDT")
        free, total = (unified.free, unified.total) if unified else (ZERO, ZERO)
        return VenueWallets(client.venue, free, total, free, total, unified=True, spot_coins=coins)
    spot, swap = await asyncio.gather(client.balances(MarketType.SPOT), client.balances(MarketType.SWAP))
    s, w = spot.get("USDT"), swap.get("USDT")
    return VenueWallets(
        client.venue,
        s.free if s else ZERO,
        s.total if s else ZERO,
        w.free if w else ZERO,
        w.total if w else ZERO,
        unified=False,
        spot_coins={coin: b.free for coin, b in spot.items() if coin != "USDT"},
    )


async def all_wallets(clients: Mapping[Venue, VenueClient]) -> dict[Venue, VenueWallets]:
    venues = list(clients)
    found = await asyncio.gather(*(venue_wallets(clients[venue]) for venue in venues))
    return dict(zip(venues, found, strict=True))


def opening_capital(engine: Engine) -> dict[Venue, Decimal]:
    """Capital that opens still sending will commit, per venue (from their planned notional): counted as used and
    as already spent, so concurrent opens see each other (conservatively, also once their fills are in)."""
    rows = opens_still_sending(engine)
    pending: dict[Venue, Decimal] = {}
    for venue, notional, leverage in rows:
        capital = capital_for(to_decimal(notional), max(leverage, 1))
        pending[Venue(venue)] = pending.get(Venue(venue), ZERO) + capital
    return pending


def account_view(
    wallets: Mapping[Venue, VenueWallets],
    positions: Sequence[PositionRecord],
    pending: Mapping[Venue, Decimal] | None = None,
) -> AccountView:
    # a positive hedge holds its spot coins (capital beside the USDT); a negative one sold inventory for USDT it owes
    # back, so its proceeds in the wallet are not capital
    held = sum((p.entry_notional * p.direction.sign for p in positions), ZERO)
    used: dict[Venue, Decimal] = {}
    for p in positions:
        used[p.venue] = used.get(p.venue, ZERO) + p.capital
    for venue, capital in (pending or {}).items():
        used[venue] = used.get(venue, ZERO) + capital
    return AccountView(
        total_capital=sum((w.total for w in wallets.values()), ZERO) + held,
        venue_capital_used=used,
        venue_free_usdt={venue: w.free - (pending or {}).get(venue, ZERO) for venue, w in wallets.items()},
    )


def wanted_notional(
    deps: ExecutionDeps, venue: Venue, symbol: str, view: AccountView, positions: Sequence[PositionRecord]
) -> tuple[Decimal, str | None]:
    """The notional to ask ``decide_entry`` for, and the allocation cap that leaves no room (None: fits)."""
    limits, leverage = deps.limits, deps.settings.leverage
    used_by_coin: dict[str, Decimal] = {}
    for p in positions:
        coin = base_of(p.symbol)
        used_by_coin[coin] = used_by_coin.get(coin, ZERO) + p.capital
    if view.total_capital <= 0:
        return limits.min_trade_usdt, "no_capital"
    plan = allocate(
        [AllocationRequest(venue, symbol, limits.max_trade_usdt)],
        view.total_capital,
        deps.allocation,
        leverage=leverage,
        used_by_coin=used_by_coin,
        used_total=sum(used_by_coin.values(), ZERO),
    )
    if not plan.allocations:
        return limits.min_trade_usdt, plan.skipped[0].reason if plan.skipped else "allocation"
    per_capital = capital_for(ONE, leverage)
    share_room = limits.capital_share(venue) * view.total_capital - view.venue_capital_used.get(venue, ZERO)
    reserve_room = view.venue_free_usdt.get(venue, ZERO) - limits.reserve(venue)
    notional = min(plan.allocations[0].notional, share_room / per_capital, reserve_room / per_capital)
    return max(quantize_down(notional, CENT), limits.min_trade_usdt), None
