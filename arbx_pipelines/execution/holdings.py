"""Reconcile's two-way comparison of what a venue holds with the records (issue 10, item 5).

- Venue -> records: a perpetual position or a spot coin balance the database and ``strategy.spot_inventory`` cannot
  account for is ``unknown_exposure``, never adopted, closed or sold. The expected balance of a coin is the declared
  inventory + what positive-funding hedges bought - what negative-funding ones sold
  (:func:`~arbx_pipelines.execution.inventory.expected_coins`); only the excess over it is unknown, except for the
  coins the spot engine trades (``spread.symbols``), whose excess is its working inventory. A declared coin well
  below its expected balance is ``inventory_missing`` (a warning).
- Records -> venue: an ``open`` position whose perpetual leg (or, for a positive-funding hedge, whose spot coins) the
  venue does not hold at all (liquidated, closed by hand, or the venue's world gone) is marked ``missing`` with a
  critical ``position_missing`` alert: never left ``open``, never traded back.
"""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.inventory import QUOTE, expected_coins, record_inventory
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, MISSING, positions_with_status, set_status
from arbx_pipelines.execution.sending import read_with_retry
from arbx_pipelines.execution.settle import lot
from arbx_pipelines.execution.venue_view import VenueView
from arbx_pipelines.storage.orders import utcnow
from arbx_pipelines.venues.client import VenueClient

#: a coin balance worth less than this (USDT) is dust, not exposure
DUST_USDT = Decimal("1")


async def mark_missing_positions(
    deps: ExecutionDeps, client: VenueClient, view: VenueView, busy: set[str]
) -> list[dict[str, str]]:
    """Open positions the venue does not hold (their perp leg, or a positive hedge's coins, all gone): marked
    ``missing`` with a critical alert. Symbols in ``busy`` (a live execution holds them) are left alone."""
    found: list[dict[str, str]] = []
    for position in positions_with_status(deps.engine, ("open",), venue=str(client.venue)):
        if position.symbol in busy:
            continue
        perp_lot = max(lot((await client.market(position.symbol)).rules), Decimal("1e-12"))
        spot_lot = max(lot((await client.market(position.spot_symbol)).rules), Decimal("1e-12"))
        perp_gone = position.perp_amount >= perp_lot and view.perp_amount(position.symbol) < perp_lot
        spot_gone = (
            position.direction.short_perp
            and position.spot_amount >= spot_lot
            and view.spot_amount(position.symbol) < spot_lot
        )
        if not (perp_gone or spot_gone):
            continue
        item = {
            "venue": str(position.venue),
            "symbol": position.symbol,
            "position_id": str(position.id),
            "recorded_perp": str(position.perp_amount),
            "venue_perp": str(view.perp_amount(position.symbol)),
            "recorded_spot": str(position.spot_amount),
            "venue_spot": str(view.spot_amount(position.symbol)),
        }
        set_status(deps.engine, position.id, MISSING, close_reason="not held on the venue")
        deps.alerts.raise_alert(
            "position_missing",
            f"{position.venue} {position.symbol}: position {position.id} is recorded open but the venue does not hold "
            f"it (perp {item['venue_perp']} of {item['recorded_perp']}, spot {item['venue_spot']} of "
            f"{item['recorded_spot']}): liquidated, closed by hand, or gone; marked missing, check it by hand",
            severity="critical",
            venue=str(position.venue),
            symbol=position.symbol,
            details=item,
        )
        found.append(item)
    return found


async def compare_holdings(
    deps: ExecutionDeps, client: VenueClient, view: VenueView
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(unknown exposure, missing declared inventory) of the venue against the active positions and the declared
    inventory: perp sizes, and spot coins whose difference is a lot or more and worth more than dust."""
    venue = str(client.venue)
    active = positions_with_status(deps.engine, ACTIVE_STATUSES, venue=venue)
    record_inventory(deps.engine, venue, {c: b.free for c, b in view.spot.items()}, active, utcnow())
    found: list[dict[str, str]] = []
    for symbol, info in sorted(view.perps.items()):
        mine = [p for p in active if p.symbol == symbol]
        recorded = sum((p.perp_amount for p in mine), ZERO)
        same_side = all((info.side == "short") == p.direction.short_perp for p in mine)
        step = lot((await client.market(symbol)).rules)
        excess = info.amount - recorded if same_side else info.amount
        if excess >= max(step, Decimal("1e-12")):
            found.append(
                {
                    "venue": venue,
                    "symbol": symbol,
                    "kind": "perp",
                    "side": info.side,
                    "venue_amount": str(info.amount),
                    "recorded_amount": str(recorded),
                    "unknown_amount": str(excess),
                }
            )
    markets = await client.markets()
    declared_coins = deps.strategy.declared_coins(venue)
    missing: list[dict[str, str]] = []
    for coin in sorted((set(view.spot) | set(declared_coins)) - {QUOTE}):
        spot_symbol = f"{coin}/{QUOTE}"
        if spot_symbol not in markets:
            continue
        balance = view.spot[coin].total if coin in view.spot else ZERO
        declared = declared_coins.get(coin, ZERO)
        expected = expected_coins(coin, venue, declared, active)
        rules = markets[spot_symbol].rules
        if balance > max(expected, ZERO) and coin in deps.settings.spot_engine_coins:
            continue  # the spot engine's working inventory: its trades are recorded with their own executions
        if balance > max(expected, ZERO):  # coins sold beyond the declaration (borrowed) hide nothing held
            difference, kind = balance - max(expected, ZERO), "excess"
        elif declared > 0:
            difference, kind = expected - balance, "missing"
        else:
            continue
        if difference < max(lot(rules), Decimal("1e-12")):
            continue
        book = await read_with_retry(deps, "order_book", lambda s=spot_symbol: client.order_book(s, 5))  # type: ignore[misc]
        price = book.best_bid or ZERO
        if difference * price < max(rules.min_notional or ZERO, DUST_USDT):
            continue
        if kind == "missing":
            missing.append(
                {
                    "venue": venue,
                    "coin": coin,
                    "declared_amount": str(declared),
                    "expected_amount": str(expected),
                    "venue_amount": str(balance),
                    "missing_amount": str(difference),
                    "value_usdt": str(difference * price),
                }
            )
            continue
        found.append(
            {
                "venue": venue,
                "symbol": spot_symbol,
                "kind": "spot",
                "side": "long",
                "venue_amount": str(balance),
                "recorded_amount": str(expected),
                "declared_amount": str(declared),
                "unknown_amount": str(difference),
                "value_usdt": str(difference * price),
            }
        )
    return found, missing
