"""Reconcile one venue with the database (on start and on a schedule; DESIGN, "Execution protocol").

1. Every order the database has not seen settle is looked up by its client order id: its answer and fills are
   recorded; an intent the venue does not have is marked abandoned (it was never sent, or lost before arriving),
   so nothing is ever sent twice.
2. Every execution interrupted midway is completed: an open whose legs differ is corrected exactly as a live open
   would be (hedge, else unwind, each correction recorded first); an interrupted close is finished.
3. Funding income of open positions is recorded.
4. What the venue holds is compared with the active positions and the declared inventory: a perpetual position or
   a spot coin balance the database and ``strategy.spot_inventory`` cannot account for is reported as
   ``unknown_exposure`` (a critical alert with the details), never adopted, closed or sold. The expected balance of
   a coin is the declared inventory + what positive-funding hedges bought - what negative-funding ones sold
   (:func:`~arbx_pipelines.execution.inventory.expected_coins`); only the excess over it is unknown. A declared coin
   whose balance is well below the expected one (moved away by hand) is reported as ``inventory_missing`` (a
   warning: nothing unknown is held, but negative-funding hedges will find less to sell).
5. The free spot inventory of every coin is recorded (:mod:`arbx_pipelines.execution.inventory`) for the sensor.

Alerts of both kinds repeat at most hourly while the amounts stay the same; the report lists them every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.sizing import at_least_one_lot
from arbx_pipelines.execution.close_hedge import CLOSE_KIND, REDUCE_KIND, close_locked, markets_of
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.funding_income import collect_funding
from arbx_pipelines.execution.inventory import QUOTE, expected_coins, record_inventory
from arbx_pipelines.execution.legs import BalanceResult, balance_open_legs, read_with_retry, sync_order_fills
from arbx_pipelines.execution.locks import SymbolBusy, symbol_lock
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, get_position, positions_with_status
from arbx_pipelines.execution.records import (
    FINAL_EXECUTION_STATUSES,
    DbOrderJournal,
    ExecutionRef,
    OrderRecord,
    get_execution,
    orders_of_execution,
    set_execution_status,
    unfinished_executions,
    unfinished_orders,
    utcnow,
)
from arbx_pipelines.execution.risk_state import OPEN_KIND
from arbx_pipelines.execution.settle import finish_open
from arbx_pipelines.execution.venue_view import venue_view
from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.reconcile")
UNKNOWN_EXPOSURE_REPEAT_S = 3600
#: a coin balance worth less than this (USDT) is dust, not exposure
DUST_USDT = Decimal("1")


@dataclass
class ReconcileReport:
    venue: str
    orders_checked: int = 0
    orders_updated: int = 0
    orders_abandoned: int = 0
    executions_repaired: list[str] = field(default_factory=list)
    positions_broken: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # executions a live run was still holding
    funding_recorded: int = 0
    unknown_exposure: list[dict[str, str]] = field(default_factory=list)
    missing_inventory: list[dict[str, str]] = field(default_factory=list)  # declared coins the wallet lacks


async def settle_orders(
    deps: ExecutionDeps, client: VenueClient, orders: list[OrderRecord], report: ReconcileReport
) -> None:
    journal = DbOrderJournal(deps.engine)
    for order in orders:
        report.orders_checked += 1
        state = await read_with_retry(
            deps,
            "order_by_client_id",
            lambda o=order: client.order_by_client_id(o.symbol, o.client_order_id),  # type: ignore[misc]
        )
        if state is None:
            journal.mark_abandoned(
                order.client_order_id, "not on the venue at reconcile: never sent, or lost on the way"
            )
            report.orders_abandoned += 1
            continue
        if not state.is_final:
            state = await client.cancel_order(order.symbol, order.client_order_id) or state
        journal.record_state(order.client_order_id, state)
        position_id = get_execution(deps.engine, order.execution_id).position_id if order.execution_id else None
        await sync_order_fills(deps, client, order.client_order_id, state, position_id)
        report.orders_updated += 1


async def _repair(deps: ExecutionDeps, client: VenueClient, execution: ExecutionRef, report: ReconcileReport) -> None:
    """Complete an interrupted execution; the caller holds the symbol lock."""
    orders = orders_of_execution(deps.engine, execution.id)
    if any(not o.is_final for o in orders):
        log.warning("execution still has orders of unknown outcome", extra={"execution": execution.key})
        return
    if execution.position_id is None:
        set_execution_status(deps.engine, execution.id, "repaired", "no position")
        return
    position = get_position(deps.engine, execution.position_id)
    markets = await markets_of(client, position)
    if execution.kind == OPEN_KIND:
        result = await balance_open_legs(deps, client, execution, position.id, markets, [])
        status = finish_open(deps, execution, result is BalanceResult.BALANCED, markets.perp.rules, markets.spot.rules)
        if status == "broken":
            report.positions_broken.append(position.id)
            return
    elif execution.kind in (CLOSE_KIND, REDUCE_KIND) and position.status in ("closing", "open", "broken"):
        full = execution.kind == CLOSE_KIND
        fraction = Decimal(1) if full else Decimal(str(execution.planned.get("fraction", "0.5")))
        set_execution_status(deps.engine, execution.id, "repaired", "interrupted; finished by a new execution")
        outcome = await close_locked(deps, client, position.id, position.close_reason or "reconcile", fraction, None)
        if outcome.status == "broken":
            report.positions_broken.append(position.id)
    set_execution_status(deps.engine, execution.id, "repaired", "completed by reconcile")
    report.executions_repaired.append(execution.key)
    deps.alerts.raise_alert(
        "execution_repaired",
        f"{execution.venue} {execution.symbol}: {execution.key} completed by reconcile",
        severity="warning",
        venue=execution.venue,
        symbol=execution.symbol,
        details={"execution": execution.key, "position_id": execution.position_id},
    )


async def _reconcile_execution(
    deps: ExecutionDeps, client: VenueClient, execution_id: int, report: ReconcileReport
) -> None:
    """Under the symbol lock (a live execution holds it: then it is skipped, not touched)."""
    execution = get_execution(deps.engine, execution_id)
    try:
        async with symbol_lock(deps, execution.venue, execution.symbol):
            pending = [o for o in orders_of_execution(deps.engine, execution_id) if not o.is_final]
            await settle_orders(deps, client, pending, report)
            execution = get_execution(deps.engine, execution_id)
            if execution.status not in FINAL_EXECUTION_STATUSES:
                await _repair(deps, client, execution, report)
    except SymbolBusy:
        report.skipped.append(execution.key)


async def compare_holdings(
    deps: ExecutionDeps, client: VenueClient
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(unknown exposure, missing declared inventory) of the venue against the active positions and the declared
    inventory: perp sizes, and spot coins whose difference is a lot or more and worth more than dust."""
    venue = str(client.venue)
    active = positions_with_status(deps.engine, ACTIVE_STATUSES, venue=venue)
    view = await venue_view(deps, client)
    record_inventory(deps.engine, venue, {c: b.free for c, b in view.spot.items()}, active, utcnow())
    found: list[dict[str, str]] = []
    for symbol, info in sorted(view.perps.items()):
        mine = [p for p in active if p.symbol == symbol]
        recorded = sum((p.perp_amount for p in mine), ZERO)
        same_side = all((info.side == "short") == p.direction.short_perp for p in mine)
        excess = info.amount - recorded if same_side else info.amount
        if at_least_one_lot(excess, (await client.market(symbol)).rules):
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
        if balance > max(expected, ZERO):  # coins sold beyond the declaration (borrowed) hide nothing held
            difference, kind = balance - max(expected, ZERO), "excess"
        elif declared > 0:
            difference, kind = expected - balance, "missing"
        else:
            continue
        if not at_least_one_lot(difference, rules):
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


async def reconcile_venue(deps: ExecutionDeps, client: VenueClient) -> ReconcileReport:
    venue = str(client.venue)
    report = ReconcileReport(venue)
    orders = unfinished_orders(deps.engine, venue)
    await settle_orders(deps, client, [o for o in orders if o.execution_id is None], report)
    execution_ids = {o.execution_id for o in orders if o.execution_id is not None}
    execution_ids |= {e.id for e in unfinished_executions(deps.engine, venue)}
    for execution_id in sorted(execution_ids):
        try:
            await _reconcile_execution(deps, client, execution_id, report)
        except VenueError as exc:
            log.warning(
                "repair failed; the next reconcile retries", extra={"execution": execution_id, "error": str(exc)}
            )
    for position in positions_with_status(deps.engine, ("open",), venue=venue):
        try:
            report.funding_recorded += (await collect_funding(deps, client, position.id)).new_payments
        except VenueError as exc:
            log.warning("funding not collected", extra={"position": position.id, "error": str(exc)})
    report.unknown_exposure, report.missing_inventory = await compare_holdings(deps, client)
    for item in report.unknown_exposure:
        if deps.state.claim_idempotency_key(
            f"unknown-exposure:{venue}:{item['symbol']}:{item['unknown_amount']}", UNKNOWN_EXPOSURE_REPEAT_S
        ):
            deps.alerts.raise_alert(
                "unknown_exposure",
                f"{venue} {item['symbol']}: {item['unknown_amount']} {item['kind']} the database does not know "
                "(not adopted; check it by hand)",
                severity="critical",
                venue=venue,
                symbol=item["symbol"],
                details=item,
            )
    for item in report.missing_inventory:
        if deps.state.claim_idempotency_key(
            f"inventory-missing:{venue}:{item['coin']}:{item['expected_amount']}:{item['venue_amount']}",
            UNKNOWN_EXPOSURE_REPEAT_S,
        ):
            deps.alerts.raise_alert(
                "inventory_missing",
                f"{venue} {item['coin']}: the spot wallet holds {item['venue_amount']}, expected "
                f"{item['expected_amount']} (declared inventory {item['declared_amount']}); negative-funding hedges "
                "will sell less",
                severity="warning",
                venue=venue,
                symbol=f"{item['coin']}/{QUOTE}",
                details=item,
            )
    log.info(
        "reconciled",
        extra={
            "venue": venue,
            "orders": report.orders_checked,
            "repaired": len(report.executions_repaired),
            "unknown_exposure": len(report.unknown_exposure),
            "missing_inventory": len(report.missing_inventory),
        },
    )
    return report
