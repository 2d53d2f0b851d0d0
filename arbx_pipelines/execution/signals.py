"""Funding opportunities for the funding-opportunity sensor, from the latest ``funding_snapshots`` rows.

A (venue, perpetual) is an opportunity when its latest snapshot is fresh, its |annualized| rate reaches the entry
threshold on a side we can trade, the symbol is wanted, no position on it is active, and its mark price is not
anomalous against its recent snapshots (the anomaly screen of DESIGN "Risk" runs on price here: a funding spike is
the signal itself, not an anomaly to ignore). The op re-validates everything on live data before it sends anything.

Positive funding is always tradable. Negative funding (long perp + sell spot) is tradable with margin borrowing
enabled, or when both what is left of the coin's declared inventory on that venue (``strategy.spot_inventory`` minus
what active negative hedges of the coin there sold) and its free inventory in the wallet, as last recorded by an open
or a reconcile (``spot_inventory`` table, :mod:`arbx_pipelines.execution.inventory`) within ``inventory_max_age``,
cover the smallest hedge the venue accepts (both legs' lot, minimum amount and minimum notional at the snapshot's
mark price, from the ``markets`` table; unknown rules: any inventory). The sensor thus never asks the venue, and a
negative rate on a coin not declared or not held launches no run. A stale record costs at most one run: that open
finds no inventory, records a ``no_inventory_for_negative_funding`` rejection under the signal key and records the
inventory anew.

The run key ``open:{venue}:{symbol}:{next funding ms}`` makes a repeated signal for the same settlement a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.anomaly import is_anomalous
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.models import Venue, spot_symbol_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.inventory import declared_left, recorded_inventory
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, positions_with_status
from arbx_pipelines.execution.prepare import minimum_hedge_base
from arbx_pipelines.storage.funding import snapshots_since
from arbx_pipelines.storage.markets import stored_rules

DEFAULT_MAX_AGE = timedelta(minutes=30)
#: inventory records older than this are not trusted (reconcile records them every ``reconcile_minutes`` <= 1 day)
INVENTORY_MAX_AGE = timedelta(hours=25)
PRICE_HISTORY = 30
#: fewer recent prices than this: no anomaly screen (a z-score of a handful of points means nothing)
MIN_PRICE_HISTORY = 10


@dataclass(frozen=True)
class Opportunity:
    venue: Venue
    symbol: str
    rate: Decimal
    annualized: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    observed_at: datetime

    @property
    def settlement_ms(self) -> int:
        when = self.next_funding_time or self.observed_at.replace(minute=0, second=0, microsecond=0)
        return int(when.timestamp() * 1000)

    @property
    def run_key(self) -> str:
        return f"open:{self.venue}:{self.symbol}:{self.settlement_ms}"


def can_sell_inventory(
    engine: Engine, venue: str, symbol: str, inventory: Decimal | None, price: Decimal | None
) -> bool:
    """Whether ``inventory`` (coins that may be sold) covers the smallest hedge of ``symbol`` the venue accepts."""
    if inventory is None or inventory <= 0:
        return False
    spot_symbol = spot_symbol_of(symbol)
    rules = stored_rules(engine, venue, [symbol, spot_symbol])
    if spot_symbol not in rules or symbol not in rules or price is None or price <= 0:
        return True  # rules unknown: the op decides on live data
    return inventory >= minimum_hedge_base(rules[spot_symbol], rules[symbol], price, price)


def funding_opportunities(
    engine: Engine,
    strategy: StrategyParams,
    *,
    venues: Sequence[Venue],
    symbols: Sequence[str] = (),
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    anomaly_z: float = 3.0,
    limit: int = 10,
    inventory_max_age: timedelta = INVENTORY_MAX_AGE,
) -> list[Opportunity]:
    """Best first by |annualized|; at most ``limit``."""
    positions = positions_with_status(engine, ACTIVE_STATUSES)
    active = {(str(p.venue), p.symbol) for p in positions}
    inventory: dict[tuple[str, str], Decimal] | None = None  # read once, only when a negative rate needs it
    found = []
    for (venue, symbol), rows in snapshots_since(engine, now - max_age).items():
        latest = rows[0]
        if venue not in {str(v) for v in venues} or (symbols and symbol not in symbols) or (venue, symbol) in active:
            continue
        if abs(latest.annualized) < strategy.entry_annualized or latest.rate == 0:
            continue
        if latest.rate < 0 and not strategy.allow_margin_borrow:
            coin = base_of(symbol)
            left = declared_left(coin, venue, strategy.declared_inventory(venue, coin), positions)
            if left <= 0:
                continue  # not declared, or all of it sold: no need to read the wallet records
            if inventory is None:
                inventory = recorded_inventory(engine, now - inventory_max_age)
            sellable = min(inventory.get((venue, coin), ZERO), left)
            if not can_sell_inventory(engine, venue, symbol, sellable, latest.mark_price):
                continue
        prices = [row.mark_price for row in rows[1 : PRICE_HISTORY + 1] if row.mark_price is not None]
        enough = len(prices) >= MIN_PRICE_HISTORY
        if enough and latest.mark_price is not None and is_anomalous(prices, latest.mark_price, anomaly_z):
            continue
        found.append(
            Opportunity(
                Venue(venue),
                symbol,
                latest.rate,
                latest.annualized,
                latest.interval_hours,
                latest.next_funding_time,
                latest.time,
            )
        )
    found.sort(key=lambda o: abs(o.annualized), reverse=True)
    return found[:limit]
