"""Spot inventory: the coins a negative-funding hedge may sell (long perp + sell spot, bought back on close).

Only coins the user declared (``strategy.spot_inventory``: venue -> coin -> amount) are ever sold; anything else in
the wallet is the user's and stays untouched. What a hedge may sell of a coin on a venue is the smaller of

- the wallet's free inventory: the spot wallet's free balance - the spot legs active positive-funding hedges on that
  venue hold (their coins sit in the same wallet), and
- the declared amount left: declared - the coins active negative-funding hedges of that coin on that venue sold.

Whenever an open or reconcile reads the wallets, the free inventory of every coin is stored in ``spot_inventory``,
so the funding-opportunity sensor can tell without asking the venue whether a negative rate is tradable
(:mod:`arbx_pipelines.execution.signals`); the declared amount left it computes from the config and the positions.
Reconcile expects declared + held - sold of each coin in the wallet (:func:`expected_coins`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.storage.inventory import inventory_coins, recorded_inventory, store_inventory

__all__ = ["recorded_inventory"]  # read by the funding-opportunity sensor through this module
QUOTE = "USDT"


def _spot_legs(coin: str, venue: str, positions: Iterable[PositionRecord], *, short_perp: bool) -> Decimal:
    """Coins of ``coin`` in the spot legs of the hedges on ``venue`` of one direction."""
    return sum(
        (
            max(p.spot_amount, ZERO)
            for p in positions
            if str(p.venue) == venue and p.direction.short_perp == short_perp and base_of(p.symbol) == coin
        ),
        ZERO,
    )


def committed_coins(coin: str, venue: str, positions: Iterable[PositionRecord]) -> Decimal:
    """Coins of ``coin`` that active positive-funding hedges on ``venue`` hold in its spot wallet."""
    return _spot_legs(coin, venue, positions, short_perp=True)


def sold_coins(coin: str, venue: str, positions: Iterable[PositionRecord]) -> Decimal:
    """Coins of ``coin`` that active negative-funding hedges on ``venue`` sold from inventory (to be bought back)."""
    return _spot_legs(coin, venue, positions, short_perp=False)


def declared_left(coin: str, venue: str, declared: Decimal, positions: Iterable[PositionRecord]) -> Decimal:
    """What of the declared inventory of ``coin`` on ``venue`` no active hedge has sold yet (never below zero)."""
    return max(declared - sold_coins(coin, venue, positions), ZERO)


def expected_coins(coin: str, venue: str, declared: Decimal, positions: Iterable[PositionRecord]) -> Decimal:
    """The balance of ``coin`` the spot wallet of ``venue`` should show: the declared inventory, plus what positive
    hedges bought, minus what negative hedges sold."""
    mine = [p for p in positions if str(p.venue) == venue and base_of(p.symbol) == coin]
    return declared + sum((p.spot_amount * p.direction.sign for p in mine), ZERO)


def free_inventory(
    coin: str, venue: str, spot_free: Mapping[str, Decimal], positions: Iterable[PositionRecord]
) -> Decimal:
    """Free coins of ``coin`` in the spot wallet of ``venue`` that no positive hedge holds (never below zero)."""
    return max(spot_free.get(coin, ZERO) - committed_coins(coin, venue, positions), ZERO)


def sellable_inventory(
    coin: str, venue: str, spot_free: Mapping[str, Decimal], declared: Decimal, positions: Iterable[PositionRecord]
) -> Decimal:
    """What a negative-funding hedge may sell of ``coin`` on ``venue`` now: free in the wallet and declared."""
    active = list(positions)
    return min(free_inventory(coin, venue, spot_free, active), declared_left(coin, venue, declared, active))


def record_inventory(
    engine: Engine, venue: str, spot_free: Mapping[str, Decimal], positions: Iterable[PositionRecord], now: datetime
) -> dict[str, Decimal]:
    """Store the free inventory of every coin the wallet shows (coins recorded before and gone now: zero)."""
    active = list(positions)
    known = inventory_coins(engine, venue)
    coins = (set(spot_free) | known) - {QUOTE}
    free = {coin: free_inventory(coin, venue, spot_free, active) for coin in sorted(coins)}
    if not free:
        return free
    store_inventory(engine, venue, free, now)
    return free
